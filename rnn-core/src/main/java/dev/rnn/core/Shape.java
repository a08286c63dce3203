package dev.rnn.core;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Arrays;

/**
 * The immutable dimensions of a {@link Tensor}, outermost first (row-major).
 *
 * <p>A shape of rank 0 is a scalar with one element. Every dimension is at least 0, and the
 * element count, computed in {@code long}, at most {@link #MAX_ELEMENTS}.
 */
public final class Shape {
  /**
   * The most elements a shape, and so a tensor or a parameter, may hold: {@code 2^31 - 9}, the
   * largest array a JVM allocates.
   */
  public static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

  private final int[] dims;
  private final int size;

  private Shape(int[] dims) {
    long n = 1;
    // Messages built only on failure: shapes are made on every op of every call.
    for (int i = 0; i < dims.length; i++) {
      if (dims[i] < 0) {
        throw new IllegalArgumentException("shape " + Arrays.toString(dims)
            + " has a negative dimension " + dims[i] + " at index " + i);
      }
      n *= dims[i];
      if (n > MAX_ELEMENTS) {
        throw new IllegalArgumentException(
            "shape " + Arrays.toString(dims) + " has more than 2^31 - 9 elements");
      }
    }
    this.dims = dims;
    this.size = (int) n;
  }

  /**
   * The shape with these dimensions.
   *
   * @param dims the dimensions, copied
   * @return the shape
   * @throws IllegalArgumentException if a dimension is negative or the element count overflows
   */
  public static Shape of(int... dims) {
    return new Shape(dims.clone());
  }

  /** {@return the number of dimensions} */
  public int rank() {
    return dims.length;
  }

  /**
   * Dimension {@code i}; negative {@code i} counts from the end as in torch.
   *
   * @param i the dimension, from 0, or from -1 for the last
   * @return the size of dimension {@code i}
   */
  public int dim(int i) {
    int k = i < 0 ? dims.length + i : i;
    checkArgument(k >= 0 && k < dims.length, "dimension %s out of range for shape %s", i, this);
    return dims[k];
  }

  /** {@return a copy of the dimensions} */
  public int[] dims() {
    return dims.clone();
  }

  /** {@return the number of elements: the product of the dimensions} */
  public int size() {
    return size;
  }

  /** The row-major stride of every dimension, in elements. */
  int[] strides() {
    int[] s = new int[dims.length];
    int acc = 1;
    for (int i = dims.length - 1; i >= 0; i--) {
      s[i] = acc;
      acc *= dims[i];
    }
    return s;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Shape && Arrays.equals(dims, ((Shape) o).dims);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(dims);
  }

  /** As torch prints sizes, e.g. {@code [2, 5, 4]}. */
  @Override
  public String toString() {
    return Arrays.toString(dims);
  }
}
