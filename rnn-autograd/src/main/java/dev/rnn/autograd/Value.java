package dev.rnn.autograd;

import dev.rnn.core.DType;
import dev.rnn.core.Shape;
import dev.rnn.core.Storage;
import dev.rnn.core.Tensor;

/**
 * A tensor-valued result in a {@link Graph}: its data and, once backward reaches it, its
 * gradient.
 *
 * <p>Data and gradient are contiguous row-major storages of the value's shape. Recurrent data is
 * time-major, {@code [T, N, F]}. A value made from a {@link dev.rnn.core.Parameter} shares the
 * parameter's storages, so backward accumulates straight into the parameter's gradient.
 */
public final class Value {
  private final Shape shape;
  private final Storage data;
  private final boolean requiresGrad;
  private Storage grad;

  Value(Shape shape, Storage data, boolean requiresGrad) {
    this(shape, data, requiresGrad, null);
  }

  Value(Shape shape, Storage data, boolean requiresGrad, Storage grad) {
    this.shape = shape;
    this.data = data;
    this.requiresGrad = requiresGrad;
    this.grad = grad;
  }

  /** {@return the shape} */
  public Shape shape() {
    return shape;
  }

  /**
   * Dimension {@code i} (negative counts from the end).
   *
   * @param i the dimension
   * @return its size
   */
  public int dim(int i) {
    return shape.dim(i);
  }

  /** {@return the dtype} */
  public DType dtype() {
    return data.dtype();
  }

  /** {@return whether gradients flow into this value during backward} */
  public boolean requiresGrad() {
    return requiresGrad;
  }

  /** {@return a snapshot of the data} */
  public Tensor tensor() {
    return Tensor.copyOf(data, shape);
  }

  /**
   * A snapshot of the data with dimensions {@code a} and {@code b} swapped: {@code
   * tensor().transpose(a, b)} in one copy instead of two, e.g. a time-major result made
   * batch-first.
   *
   * @param a the first dimension swapped
   * @param b the second dimension swapped
   * @return a new tensor
   * @throws IllegalArgumentException if a dimension is out of range
   */
  public Tensor tensor(int a, int b) {
    return Tensor.transposedCopyOf(data, shape, a, b);
  }

  /** {@return a snapshot of the gradient (zeros if backward did not reach it)} */
  public Tensor gradient() {
    return grad == null ? Tensor.zeros(dtype(), shape.dims()) : Tensor.copyOf(grad, shape);
  }

  /**
   * The scalar of a one-element value.
   *
   * @return the only element
   * @throws IllegalStateException if the value has more than one element
   */
  public double item() {
    if (shape.size() != 1) {
      throw new IllegalStateException("item() expects a one-element value but got shape " + shape);
    }
    return data.get(0);
  }

  /** The live data, for ops. */
  Storage data() {
    return data;
  }

  /** The live gradient, allocated (zeros) on first use; ops add to it. */
  Storage grad() {
    if (grad == null) {
      grad = Storage.allocate(data.dtype(), shape.size());
    }
    return grad;
  }

  /** The live gradient, or null if nothing has flowed into it. */
  Storage gradOrNull() {
    return grad;
  }

  @Override public String toString() {
    return "Value" + shape;
  }
}
