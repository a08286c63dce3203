package dev.rnn.core;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;

/**
 * A dense, row-major, immutable n-dimensional array of float32 or float64 numbers.
 *
 * <p>Its data is one flat primitive array (a {@link Storage}) with a {@link Shape}. Every operation
 * returns a new tensor; a tensor handed to a user never changes under them. Factories copy the
 * arrays they are given, and accessors return copies.
 *
 * <p>Shapes of recurrent data follow torch: {@code [seq, batch, features]} (time-major) or {@code
 * [batch, seq, features]} (batch-first). A nested Java array gives its shape as it is nested:
 * {@code Tensor.of(new double[T][N][F])} is {@code [T, N, F]}.
 *
 * <p>The dtype of a tensor is the dtype of what it was made from: {@code double} arrays give
 * float64, {@code float} arrays float32, and {@link #zeros}, {@link #full}, {@link #randn} take
 * one. A network's dtype is chosen once, where it is built ({@code dtype(DType.FLOAT64)}, else
 * float32), and the network converts what it is given (inputs, states, targets, masks,
 * parameter values) to it, so either dtype may be fed to it. Arithmetic between two tensors
 * ({@link #add}, {@link #sub}, {@link #mul}, {@link #concat}) does not guess: mixing dtypes is
 * refused with a message that says which conversion to write, {@link #to(DType)}, which is a
 * copy, or nothing at all when the dtype is already the one asked for.
 */
public final class Tensor {
  private final Shape shape;
  private final Storage storage;

  private Tensor(Shape shape, Storage storage) {
    this.shape = shape;
    this.storage = storage;
  }

  // ---- factories --------------------------------------------------------------------------

  /**
   * A float32 tensor holding a copy of {@code data}.
   *
   * @param data the elements in row-major order, copied
   * @param shape the dimensions
   * @return a new float32 tensor
   * @throws IllegalArgumentException if {@code data.length} differs from the shape's element count
   */
  public static Tensor of(float[] data, int... shape) {
    return adopt(Storage.wrap(data.clone()), checkedShape(data.length, shape));
  }

  /**
   * A float64 tensor holding a copy of {@code data}.
   *
   * @param data the elements in row-major order, copied
   * @param shape the dimensions
   * @return a new float64 tensor
   * @throws IllegalArgumentException if {@code data.length} differs from the shape's element count
   */
  public static Tensor of(double[] data, int... shape) {
    return adopt(Storage.wrap(data.clone()), checkedShape(data.length, shape));
  }

  /**
   * A float64 matrix {@code [rows.length, rows[0].length]} from rows, e.g. {@code {{1,1},{2,2}}}.
   *
   * @param rows the rows, all of one length
   * @return a new float64 matrix
   * @throws IllegalArgumentException if there are no rows or the rows differ in length
   */
  public static Tensor ofRows(double[][] rows) {
    checkArgument(rows.length > 0, "ofRows expected at least one row but got none");
    int cols = rows[0].length;
    Shape shape = Shape.of(rows.length, cols);
    double[] d = new double[shape.size()];
    for (int r = 0; r < rows.length; r++) {
      checkArgument(rows[r].length == cols,
          "ofRows expected rows of length %s but row %s has length %s", cols, r, rows[r].length);
      System.arraycopy(rows[r], 0, d, r * cols, cols);
    }
    return adopt(Storage.wrap(d), shape);
  }

  /**
   * A float64 tensor {@code [d0, d1]} from a nested array, e.g. {@code {{1, 1}, {2, 2}}} (as
   * {@link #ofRows}).
   *
   * @param data the elements, {@code data[i][j]} at {@code [i, j]}; rectangular, copied
   * @return a new float64 tensor
   * @throws IllegalArgumentException if an array is empty or the arrays are not rectangular,
   *     naming the first one that differs
   */
  public static Tensor of(double[][] data) {
    return ofNested(data);
  }

  /**
   * A float64 tensor {@code [d0, d1, d2]} from a nested array: a batch of sequences {@code
   * new double[T][N][F]} is time-major {@code [T, N, F]}, {@code new double[N][T][F]}
   * batch-first {@code [N, T, F]}.
   *
   * @param data the elements, {@code data[i][j][k]} at {@code [i, j, k]}; rectangular, copied
   * @return a new float64 tensor
   * @throws IllegalArgumentException if an array is empty or the arrays are not rectangular,
   *     naming the first one that differs
   */
  public static Tensor of(double[][][] data) {
    return ofNested(data);
  }

  /**
   * A float64 tensor {@code [d0, d1, d2, d3]} from a nested array.
   *
   * @param data the elements, {@code data[i][j][k][l]} at {@code [i, j, k, l]}; rectangular,
   *     copied
   * @return a new float64 tensor
   * @throws IllegalArgumentException if an array is empty or the arrays are not rectangular,
   *     naming the first one that differs
   */
  public static Tensor of(double[][][][] data) {
    return ofNested(data);
  }

  /**
   * A float32 tensor {@code [d0, d1]} from a nested array.
   *
   * @param data the elements, {@code data[i][j]} at {@code [i, j]}; rectangular, copied
   * @return a new float32 tensor
   * @throws IllegalArgumentException if an array is empty or the arrays are not rectangular,
   *     naming the first one that differs
   */
  public static Tensor of(float[][] data) {
    return ofNested(data);
  }

  /**
   * A float32 tensor {@code [d0, d1, d2]} from a nested array, e.g. {@code new float[T][N][F]}.
   *
   * @param data the elements, {@code data[i][j][k]} at {@code [i, j, k]}; rectangular, copied
   * @return a new float32 tensor
   * @throws IllegalArgumentException if an array is empty or the arrays are not rectangular,
   *     naming the first one that differs
   */
  public static Tensor of(float[][][] data) {
    return ofNested(data);
  }

  /**
   * A float32 tensor {@code [d0, d1, d2, d3]} from a nested array.
   *
   * @param data the elements, {@code data[i][j][k][l]} at {@code [i, j, k, l]}; rectangular,
   *     copied
   * @return a new float32 tensor
   * @throws IllegalArgumentException if an array is empty or the arrays are not rectangular,
   *     naming the first one that differs
   */
  public static Tensor of(float[][][][] data) {
    return ofNested(data);
  }

  /**
   * A tensor from a nested array of any rank of {@code double} (float64) or {@code float}
   * (float32): {@code double[]} is {@code [d0]}, {@code double[][]} {@code [d0, d1]}, and so on,
   * the shape read from the first array at each depth.
   *
   * @param data a {@code double[]...[]} or {@code float[]...[]}, rectangular; copied
   * @return a new tensor of the array's shape and element type
   * @throws IllegalArgumentException if {@code data} is not such an array, an array is empty or
   *     null, or the arrays are not rectangular, naming the first one that differs
   */
  public static Tensor ofNested(Object data) {
    checkArgument(data != null && data.getClass().isArray(),
        "Tensor.ofNested expected a double[]...[] or float[]...[] but got %s",
        data == null ? null : data.getClass().getSimpleName());
    List<Integer> dims = new java.util.ArrayList<>();
    Object a = data;
    Class<?> c = data.getClass();
    while (c.isArray()) {
      int n = java.lang.reflect.Array.getLength(a);
      checkArgument(n > 0, "Tensor.of expected non-empty arrays but data%s has length 0",
          "[0]".repeat(dims.size()));
      dims.add(n);
      c = c.getComponentType();
      if (c.isArray()) {
        a = java.lang.reflect.Array.get(a, 0);
        checkArgument(a != null, "Tensor.of expected arrays but data%s is null",
            "[0]".repeat(dims.size()));
      }
    }
    checkArgument(c == double.class || c == float.class,
        "Tensor.ofNested expected a double[]...[] or float[]...[] but got %s",
        data.getClass().getSimpleName());
    int[] shape = dims.stream().mapToInt(Integer::intValue).toArray();
    Shape s = Shape.of(shape);
    Storage st = Storage.allocate(c == double.class ? DType.FLOAT64 : DType.FLOAT32, s.size());
    copyNested(data, shape, 0, new StringBuilder("data"), st, 0, s);
    return adopt(st, s);
  }

  /**
   * Copies the nested array {@code a}, at depth {@code depth} and path {@code path}, into {@code
   * st} from {@code at}; returns the next position. Checks every array's length against {@code
   * shape}.
   */
  private static int copyNested(Object a, int[] shape, int depth, StringBuilder path,
      Storage st, int at, Shape s) {
    checkArgument(a != null, "Tensor.of expected arrays but %s is null", path);
    int n = java.lang.reflect.Array.getLength(a);
    checkArgument(n == shape[depth],
        "Tensor.of expected a rectangular array of shape %s (read from the first array at each"
            + " depth) but %s has length %s", s, path, n);
    if (depth == shape.length - 1) {
      if (a instanceof double[] d) {
        for (int i = 0; i < n; i++) {
          st.set(at + i, d[i]);
        }
      } else {
        float[] f = (float[]) a;
        for (int i = 0; i < n; i++) {
          st.set(at + i, f[i]);
        }
      }
      return at + n;
    }
    Object[] children = (Object[]) a;
    int length = path.length();
    for (int i = 0; i < n; i++) {
      path.append('[').append(i).append(']');
      at = copyNested(children[i], shape, depth + 1, path, st, at, s);
      path.setLength(length);
    }
    return at;
  }

  /**
   * A tensor of zeros.
   *
   * @param dtype the element type
   * @param shape the dimensions
   * @return a new tensor of zeros
   */
  public static Tensor zeros(DType dtype, int... shape) {
    Shape s = Shape.of(shape);
    return adopt(Storage.allocate(dtype, s.size()), s);
  }

  /**
   * A tensor with every element {@code value}.
   *
   * @param dtype the element type
   * @param value the value of every element
   * @param shape the dimensions
   * @return a new tensor filled with {@code value}
   */
  public static Tensor full(DType dtype, double value, int... shape) {
    Shape s = Shape.of(shape);
    Storage st = Storage.allocate(dtype, s.size());
    st.fill(0, s.size(), value);
    return adopt(st, s);
  }

  /**
   * Standard normal samples from {@code new Random(seed)}, so equal seeds give equal tensors.
   *
   * @param dtype the element type
   * @param seed the seed of the {@link java.util.Random}
   * @param shape the dimensions
   * @return a new tensor of samples from N(0, 1)
   */
  public static Tensor randn(DType dtype, long seed, int... shape) {
    Shape s = Shape.of(shape);
    Storage st = Storage.allocate(dtype, s.size());
    Random rnd = new Random(seed);
    for (int i = 0; i < s.size(); i++) {
      st.set(i, rnd.nextGaussian());
    }
    return adopt(st, s);
  }

  /**
   * Uniform samples in {@code [low, high)} from {@code new Random(seed)}.
   *
   * @param dtype the element type
   * @param seed the seed of the {@link java.util.Random}
   * @param low the inclusive lower bound
   * @param high the exclusive upper bound
   * @param shape the dimensions
   * @return a new tensor of samples from U(low, high)
   */
  public static Tensor uniform(DType dtype, long seed, double low, double high, int... shape) {
    Shape s = Shape.of(shape);
    Storage st = Storage.allocate(dtype, s.size());
    Random rnd = new Random(seed);
    for (int i = 0; i < s.size(); i++) {
      st.set(i, low + (high - low) * rnd.nextDouble());
    }
    return adopt(st, s);
  }

  /**
   * A tensor holding a copy of {@code storage}: a snapshot of a parameter, a gradient or a
   * kernel's workspace, which the storage's owner may go on changing.
   *
   * @param storage the elements in row-major order, copied
   * @param shape the dimensions
   * @return a new tensor of the storage's dtype
   * @throws IllegalArgumentException if the storage length differs from the shape's element count
   */
  public static Tensor copyOf(Storage storage, Shape shape) {
    checkFits(storage, shape);
    return new Tensor(shape, storage.copy());
  }

  /**
   * A tensor holding a copy of {@code storage} with dimensions {@code a} and {@code b} swapped:
   * {@code copyOf(storage, shape).transpose(a, b)} in one copy instead of two, e.g. a time-major
   * result made batch-first on its way out of a graph.
   *
   * @param storage the elements in row-major order of {@code shape}, copied
   * @param shape the dimensions of {@code storage}
   * @param a the first dimension swapped
   * @param b the second dimension swapped
   * @return a new tensor of shape {@code shape} with {@code a} and {@code b} swapped
   * @throws IllegalArgumentException if the storage length differs from the shape's element
   *     count, or a dimension is out of range
   */
  public static Tensor transposedCopyOf(Storage storage, Shape shape, int a, int b) {
    Tensor view = adopt(storage, shape); // read once by transpose, never handed out
    Tensor t = view.transpose(a, b);
    return t == view ? copyOf(storage, shape) : t;
  }

  /**
   * A tensor over {@code storage} without a copy. The caller hands the storage over and must not
   * change it afterwards: this is how kernels of this package return results without copying
   * them. Package-private, so that no code outside it keeps a storage a tensor shares; elsewhere
   * use {@link #copyOf}.
   *
   * @param storage the elements in row-major order, not copied
   * @param shape the dimensions
   * @return a tensor that shares {@code storage}
   * @throws IllegalArgumentException if the storage length differs from the shape's element count
   */
  static Tensor adopt(Storage storage, Shape shape) {
    checkFits(storage, shape);
    return new Tensor(shape, storage);
  }

  private static void checkFits(Storage storage, Shape shape) {
    checkArgument(storage.length() == shape.size(),
        "storage of %s elements does not fit shape %s of %s elements",
        storage.length(), shape, shape.size());
  }

  private static Shape checkedShape(int length, int[] dims) {
    Shape s = Shape.of(dims);
    checkArgument(s.size() == length, "data of %s elements does not fit shape %s of %s elements",
        length, s, s.size());
    return s;
  }

  // ---- accessors --------------------------------------------------------------------------

  /** {@return the shape} */
  public Shape shape() {
    return shape;
  }

  /** {@return the dtype} */
  public DType dtype() {
    return storage.dtype();
  }

  /** {@return the number of dimensions} */
  public int rank() {
    return shape.rank();
  }

  /**
   * Dimension {@code i}; negative counts from the end.
   *
   * @param i the dimension, from 0, or from -1 for the last
   * @return the size of dimension {@code i}
   */
  public int dim(int i) {
    return shape.dim(i);
  }

  /** {@return the number of elements} */
  public int size() {
    return shape.size();
  }

  /**
   * The element at {@code index}, widened to double.
   *
   * @param index one index per dimension
   * @return the element as a double
   * @throws IllegalArgumentException if the index has the wrong rank or is out of bounds
   */
  public double get(int... index) {
    checkArgument(index.length == rank(), "get expected %s indices for shape %s but got %s",
        rank(), shape, index.length);
    int flat = 0;
    for (int i = 0; i < index.length; i++) {
      if (index[i] < 0 || index[i] >= shape.dim(i)) {
        throw new IllegalArgumentException(
            "index " + Arrays.toString(index) + " out of bounds for shape " + shape);
      }
      flat = flat * shape.dim(i) + index[i];
    }
    return storage.get(flat);
  }

  /**
   * The element at row-major position {@code i}, widened to double.
   *
   * @param i the flat index, {@code 0 <= i < size()}
   * @return the element as a double
   * @throws IllegalArgumentException if {@code i} is out of bounds
   */
  public double at(int i) {
    checkArgument(i >= 0 && i < size(), "flat index %s out of bounds for %s elements", i, size());
    return storage.get(i);
  }

  /** {@return a copy of the elements in row-major order, as floats} */
  public float[] toFloatArray() {
    return ((Float32Storage) storage.to(DType.FLOAT32)).a;
  }

  /** {@return a copy of the elements in row-major order, as doubles} */
  public double[] toDoubleArray() {
    return ((Float64Storage) storage.to(DType.FLOAT64)).a;
  }

  /** {@return a copy of the storage, for kernels that write into their own memory} */
  public Storage copyStorage() {
    return storage.copy();
  }

  /**
   * A copy of the storage in the row-major order of {@link #transpose transpose(a, b)}: {@code
   * transpose(a, b).copyStorage()} in one copy instead of two, e.g. a batch-first sequence made
   * time-major on its way into a graph.
   *
   * @param a the first dimension
   * @param b the second dimension
   * @return a new storage of {@code transpose(a, b)}'s elements
   * @throws IllegalArgumentException if a dimension is out of range
   */
  public Storage copyStorage(int a, int b) {
    Tensor t = transpose(a, b);
    return t == this ? storage.copy() : t.storage; // t is new and not shared: its storage is ours
  }

  /**
   * Copies the elements into {@code dst} from {@code off}; dtypes must match.
   *
   * @param dst the storage written, of this tensor's dtype
   * @param off the first position of {@code dst} written
   * @throws IllegalArgumentException if the dtypes differ
   */
  public void copyInto(Storage dst, int off) {
    checkArgument(dst.dtype() == dtype(), "copyInto expected a %s storage but got %s",
        dtype(), dst.dtype());
    dst.copyFrom(storage, 0, off, size());
  }

  /** The storage, read-only by contract: kernels of this package read it in place. */
  Storage storage() {
    return storage;
  }

  // ---- shape operations ---------------------------------------------------------------------

  /**
   * This tensor converted to {@code dtype} (itself if it already has it).
   *
   * @param dtype the element type wanted
   * @return a tensor of {@code dtype} with the same shape
   */
  public Tensor to(DType dtype) {
    return dtype == dtype() ? this : new Tensor(shape, storage.to(dtype));
  }

  /**
   * The same elements with another shape of equal element count; one dimension may be -1.
   *
   * @param dims the new dimensions, at most one of them -1 (inferred)
   * @return a tensor sharing this one's elements, with shape {@code dims}
   * @throws IllegalArgumentException if the element counts differ
   */
  public Tensor reshape(int... dims) {
    int[] d = dims.clone();
    int infer = -1;
    int known = 1;
    for (int i = 0; i < d.length; i++) {
      if (d[i] == -1) {
        if (infer >= 0) {
          throw new IllegalArgumentException(
              "reshape " + Arrays.toString(dims) + " has more than one -1");
        }
        infer = i;
      } else {
        known *= d[i];
      }
    }
    if (infer >= 0) {
      if (known <= 0 || size() % known != 0) {
        throw new IllegalArgumentException(
            "cannot reshape " + shape + " to " + Arrays.toString(dims));
      }
      d[infer] = size() / known;
    }
    Shape s = Shape.of(d);
    checkArgument(s.size() == size(), "cannot reshape %s (%s elements) to %s (%s elements)",
        shape, size(), s, s.size());
    return new Tensor(s, storage);
  }

  /**
   * Swaps dimensions {@code a} and {@code b} (negative counts from the end), copying the data
   * into the new row-major order.
   *
   * @param a the first dimension
   * @param b the second dimension
   * @return a new tensor, or this one if {@code a} and {@code b} name one dimension
   * @throws IllegalArgumentException if a dimension is out of range
   */
  public Tensor transpose(int a, int b) {
    int r = rank();
    int da = a < 0 ? r + a : a;
    int db = b < 0 ? r + b : b;
    checkArgument(da >= 0 && da < r && db >= 0 && db < r,
        "transpose(%s, %s) out of range for shape %s", a, b, shape);
    if (da == db) {
      return this;
    }
    int[] perm = new int[r];
    for (int i = 0; i < r; i++) {
      perm[i] = i;
    }
    perm[da] = db;
    perm[db] = da;
    return permute(perm);
  }

  /**
   * The dimensions reordered: result dimension {@code i} is this tensor's {@code perm[i]}.
   *
   * @param perm a permutation of {@code 0 .. rank() - 1}
   * @return a new tensor of shape {@code [dim(perm[0]), dim(perm[1]), ...]}
   * @throws IllegalArgumentException if {@code perm} is not a permutation of the dimensions
   */
  public Tensor permute(int... perm) {
    checkArgument(perm.length == rank(), "permute expected %s dimensions but got %s", rank(),
        perm.length);
    int[] src = shape.dims();
    int[] srcStride = shape.strides();
    int[] dims = new int[perm.length];
    int[] stride = new int[perm.length];
    boolean[] seen = new boolean[perm.length];
    for (int i = 0; i < perm.length; i++) {
      if (perm[i] < 0 || perm[i] >= rank() || seen[perm[i]]) {
        throw new IllegalArgumentException("permute expected a permutation of 0.." + (rank() - 1)
            + " but got " + Arrays.toString(perm));
      }
      seen[perm[i]] = true;
      dims[i] = src[perm[i]];
      stride[i] = srcStride[perm[i]];
    }
    Shape out = Shape.of(dims);
    Storage dst = Storage.allocate(dtype(), size());
    if (size() > 0 && perm.length == 3 && perm[0] == 1 && perm[1] == 0 && perm[2] == 2) {
      // [A, B, C] to [B, A, C] (a sequence between batch-first and time-major): each row of
      // the result's dimension 0 is one block copy, row by row
      int c = dims[2];
      for (int i = 0; i < dims[0]; i++) {
        dst.copyBlock(storage, i * c, dims[0] * c, i * dims[1] * c, c, dims[1], c);
      }
      return new Tensor(out, dst);
    }
    if (size() > 0) {
      int[] idx = new int[dims.length];
      int inner = dims.length - 1;
      for (int o = 0; o < size(); ) {
        int base = 0;
        for (int i = 0; i < inner; i++) {
          base += idx[i] * stride[i];
        }
        int n = inner < 0 ? 1 : dims[inner];
        int s = inner < 0 ? 0 : stride[inner];
        if (s == 1) {
          // the last dimension stays last (transpose(0, 1) of a sequence): whole rows at once
          dst.copyFrom(storage, base, o, n);
          o += n;
        } else {
          for (int j = 0; j < n; j++) {
            dst.set(o++, storage.get(base + j * s));
          }
        }
        for (int i = inner - 1; i >= 0; i--) {
          if (++idx[i] < dims[i]) {
            break;
          }
          idx[i] = 0;
        }
      }
    }
    return new Tensor(out, dst);
  }

  /**
   * The elements with index {@code from <= i < to} along dimension {@code dim}.
   *
   * @param dim the dimension sliced; negative counts from the end
   * @param from the first index kept
   * @param to the index after the last one kept
   * @return a new tensor whose dimension {@code dim} has size {@code to - from}
   * @throws IllegalArgumentException if the range is out of bounds
   */
  public Tensor slice(int dim, int from, int to) {
    int d = dim < 0 ? rank() + dim : dim;
    checkArgument(d >= 0 && d < rank(), "slice dimension %s out of range for shape %s", dim, shape);
    checkArgument(0 <= from && from <= to && to <= shape.dim(d),
        "slice [%s, %s) out of bounds for dimension %s of shape %s", from, to, d, shape);
    int[] dims = shape.dims();
    int outer = 1;
    for (int i = 0; i < d; i++) {
      outer *= dims[i];
    }
    int inner = 1;
    for (int i = d + 1; i < dims.length; i++) {
      inner *= dims[i];
    }
    int len = dims[d];
    dims[d] = to - from;
    Shape out = Shape.of(dims);
    Storage dst = Storage.allocate(dtype(), out.size());
    int block = (to - from) * inner;
    for (int o = 0; o < outer; o++) {
      dst.copyFrom(storage, (o * len + from) * inner, o * block, block);
    }
    return new Tensor(out, dst);
  }

  /**
   * The sub-tensor at {@code index} along {@code dim}, which is removed from the shape.
   *
   * @param dim the dimension removed; negative counts from the end
   * @param index the index kept along {@code dim}
   * @return a new tensor of rank {@code rank() - 1}
   * @throws IllegalArgumentException if {@code dim} or {@code index} is out of range
   */
  public Tensor select(int dim, int index) {
    int d = dim < 0 ? rank() + dim : dim;
    checkArgument(d >= 0 && d < rank(), "select dimension %s out of range for shape %s", dim,
        shape);
    checkArgument(index >= 0 && index < shape.dim(d),
        "select index %s out of bounds for dimension %s of shape %s", index, d, shape);
    Tensor s = slice(d, index, index + 1);
    int[] dims = new int[rank() - 1];
    for (int i = 0, j = 0; i < rank(); i++) {
      if (i != d) {
        dims[j++] = shape.dim(i);
      }
    }
    return new Tensor(Shape.of(dims), s.storage);
  }

  /**
   * Joins tensors along {@code dim}; every other dimension and the dtype must agree.
   *
   * @param dim the dimension joined along; negative counts from the end
   * @param parts the tensors, in order
   * @return a new tensor whose dimension {@code dim} is the sum of theirs
   * @throws IllegalArgumentException if shapes or dtypes differ, or the list is empty
   */
  public static Tensor concat(int dim, List<Tensor> parts) {
    checkArgument(!parts.isEmpty(), "concat expected at least one tensor but got none");
    Tensor first = parts.get(0);
    int d = dim < 0 ? first.rank() + dim : dim;
    checkArgument(d >= 0 && d < first.rank(), "concat dimension %s out of range for shape %s",
        dim, first.shape);
    int[] dims = first.shape.dims();
    long total = 0;
    for (Tensor t : parts) {
      checkArgument(t.dtype() == first.dtype(), "concat expected dtype %s but got %s%s",
          first.dtype(), t.dtype(), convert(first.dtype()));
      checkArgument(t.rank() == first.rank(), "concat expected rank %s but got shape %s",
          first.rank(), t.shape);
      for (int i = 0; i < dims.length; i++) {
        checkArgument(i == d || t.shape.dim(i) == dims[i],
            "concat along %s expected shape %s outside that dimension but got %s", d,
            first.shape, t.shape);
      }
      total += t.shape.dim(d);
    }
    int outer = 1;
    for (int i = 0; i < d; i++) {
      outer *= dims[i];
    }
    int inner = 1;
    for (int i = d + 1; i < dims.length; i++) {
      inner *= dims[i];
    }
    checkArgument(total <= Integer.MAX_VALUE,
        "concat along %s of %s tensors gives dimension %s, more than the int maximum %s", d,
        parts.size(), total, Integer.MAX_VALUE);
    dims[d] = (int) total;
    Shape out = Shape.of(dims);
    Storage dst = Storage.allocate(first.dtype(), out.size());
    int at = 0;
    for (Tensor t : parts) {
      int block = t.shape.dim(d) * inner;
      for (int o = 0; o < outer; o++) {
        dst.copyFrom(t.storage, o * block, o * dims[d] * inner + at, block);
      }
      at += block;
    }
    return new Tensor(out, dst);
  }

  // ---- arithmetic ---------------------------------------------------------------------------

  /**
   * Elementwise {@code this + other}; shapes and dtypes must be equal.
   *
   * @param other the tensor added
   * @return a new tensor, the elementwise sum
   * @throws IllegalArgumentException if the shapes or dtypes differ
   */
  public Tensor add(Tensor other) {
    checkSame("add", other);
    Storage dst = storage.copy();
    dst.axpy(size(), 1, other.storage, 0, 0);
    return new Tensor(shape, dst);
  }

  /**
   * Elementwise {@code this - other}; shapes and dtypes must be equal.
   *
   * @param other the tensor subtracted
   * @return a new tensor, the elementwise difference
   * @throws IllegalArgumentException if the shapes or dtypes differ
   */
  public Tensor sub(Tensor other) {
    checkSame("sub", other);
    Storage dst = storage.copy();
    dst.axpy(size(), -1, other.storage, 0, 0);
    return new Tensor(shape, dst);
  }

  /**
   * Elementwise (Hadamard) {@code this * other}; shapes and dtypes must be equal.
   *
   * @param other the other factor
   * @return a new tensor, the elementwise product
   * @throws IllegalArgumentException if the shapes or dtypes differ
   */
  public Tensor mul(Tensor other) {
    checkSame("mul", other);
    Storage dst = Storage.allocate(dtype(), size());
    for (int i = 0; i < size(); i++) {
      dst.set(i, storage.get(i) * other.storage.get(i));
    }
    return new Tensor(shape, dst);
  }

  /**
   * {@code alpha * this}.
   *
   * @param alpha the factor
   * @return a new tensor, every element times {@code alpha}
   */
  public Tensor scale(double alpha) {
    Storage dst = storage.copy();
    dst.scale(0, size(), alpha);
    return new Tensor(shape, dst);
  }

  /**
   * {@code f} applied to every element (computed in double, stored in this dtype).
   *
   * @param f the function applied to each element
   * @return a new tensor of this shape and dtype
   */
  public Tensor map(DoubleUnaryOperator f) {
    Storage dst = Storage.allocate(dtype(), size());
    for (int i = 0; i < size(); i++) {
      dst.set(i, f.applyAsDouble(storage.get(i)));
    }
    return new Tensor(shape, dst);
  }

  /** {@return the elementwise {@code tanh}} */
  public Tensor tanh() {
    return map(Math::tanh);
  }

  /** {@return the elementwise {@code max(0, x)}} */
  public Tensor relu() {
    return map(x -> x > 0 ? x : 0);
  }

  /** {@return the elementwise {@code 1 / (1 + exp(-x))}} */
  public Tensor sigmoid() {
    return map(x -> 1 / (1 + Math.exp(-x)));
  }

  /** {@return the sum of all elements, accumulated in double} */
  public double sum() {
    return storage.sum(0, size());
  }

  /**
   * The matrix product {@code this [m, k] x other [k, n] -> [m, n]} through BLAS gemm.
   *
   * @param other the right factor, {@code [k, n]}
   * @return a new matrix {@code [m, n]}
   * @throws IllegalArgumentException if either is not a matrix, the inner sizes differ or the
   *     dtypes differ
   */
  public Tensor matmul(Tensor other) {
    checkArgument(rank() == 2 && other.rank() == 2,
        "matmul expected two matrices but got shapes %s and %s", shape, other.shape);
    checkArgument(dim(1) == other.dim(0),
        "matmul expected inner sizes to agree but got %s x %s", shape, other.shape);
    checkArgument(dtype() == other.dtype(), "matmul expected one dtype but got %s and %s",
        dtype(), other.dtype());
    int m = dim(0);
    int k = dim(1);
    int n = other.dim(1);
    Storage c = Storage.allocate(dtype(), m * n);
    c.gemm(false, false, m, n, k, 1, storage, 0, Math.max(1, k), other.storage, 0,
        Math.max(1, n), 0, 0, Math.max(1, n));
    return new Tensor(Shape.of(m, n), c);
  }

  /**
   * The BLAS that {@link #matmul} and every matrix product of the cells and ops call, as logs and
   * benchmarks name it: {@code JNIBLAS} (the machine's native BLAS, OpenBLAS when {@code
   * libopenblas0-pthread} is installed) or a pure-Java one ({@code VectorBLAS}, {@code JavaBLAS}).
   *
   * @return the simple class name of the {@code dev.ludovic.netlib} implementation in use
   */
  public static String blasImplementation() {
    return Blas.implementation();
  }

  /**
   * What runs the recurrent products of float32 scans, in one line for logs and benchmarks: the
   * project's native kernels ({@code rnn_native ... AVX-512 packed recurrent product and fused
   * LSTM step, 1 thread}) or, when they are not used, why ({@code rnn_native off:
   * -Drnn.native=false; recurrent products on BLAS}). Float64 always runs on BLAS.
   *
   * @return the kernels in use, or the reason none are
   */
  public static String nativeKernels() {
    return Native.describe();
  }

  /**
   * The largest {@code |this - other|} over all elements, in double.
   *
   * @param other a tensor of this shape
   * @return the largest absolute difference, or NaN if any difference is NaN
   * @throws IllegalArgumentException if the shapes differ
   */
  public double maxAbsDiff(Tensor other) {
    checkArgument(shape.equals(other.shape), "maxAbsDiff expected shape %s but got %s", shape,
        other.shape);
    double m = 0;
    for (int i = 0; i < size(); i++) {
      double d = Math.abs(storage.get(i) - other.storage.get(i));
      if (Double.isNaN(d)) {
        return d; // NaN propagates: no later difference may overwrite it
      }
      m = Math.max(m, d);
    }
    return m;
  }

  /**
   * Whether {@code this == expected} or {@code |this - expected| <= atol + rtol * |expected|} with
   * a finite difference, for every element, as {@code torch.allclose}: equal infinities are close,
   * an infinite difference never is, NaN is never close.
   *
   * @param expected the reference values
   * @param atol the absolute tolerance
   * @param rtol the tolerance relative to {@code |expected|}
   * @return true if every element is close; false also when the shapes differ
   */
  public boolean allClose(Tensor expected, double atol, double rtol) {
    if (!shape.equals(expected.shape)) {
      return false;
    }
    for (int i = 0; i < size(); i++) {
      double a = storage.get(i);
      double e = expected.storage.get(i);
      double diff = Math.abs(a - e);
      if (a != e && !(Double.isFinite(diff) && diff <= atol + rtol * Math.abs(e))) {
        return false;
      }
    }
    return true;
  }

  private void checkSame(String op, Tensor other) {
    checkArgument(shape.equals(other.shape), "%s expected shape %s but got %s", op, shape,
        other.shape);
    checkArgument(dtype() == other.dtype(), "%s expected dtype %s but got %s%s", op, dtype(),
        other.dtype(), convert(dtype()));
  }

  /** How to mix dtypes: the conversion to write, said where mixing is refused. */
  private static String convert(DType to) {
    return ": convert it with .to(DType." + to + ") (Tensor.of(double[]...) makes float64,"
        + " Tensor.of(float[]...) float32, and a network's outputs have the network's dtype)";
  }

  /** Equal when shape, dtype and every element are equal. */
  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Tensor)) {
      return false;
    }
    Tensor t = (Tensor) o;
    if (!shape.equals(t.shape) || dtype() != t.dtype()) {
      return false;
    }
    return dtype() == DType.FLOAT32
        ? Arrays.equals(((Float32Storage) storage).a, ((Float32Storage) t.storage).a)
        : Arrays.equals(((Float64Storage) storage).a, ((Float64Storage) t.storage).a);
  }

  @Override
  public int hashCode() {
    return 31 * shape.hashCode() + (dtype() == DType.FLOAT32
        ? Arrays.hashCode(((Float32Storage) storage).a)
        : Arrays.hashCode(((Float64Storage) storage).a));
  }

  /** E.g. {@code Tensor(float32 [2, 3]: [1.0, 2.0, ...])}, at most 8 elements shown. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("Tensor(").append(dtype().torchName()).append(' ')
        .append(shape).append(": [");
    int n = Math.min(size(), 8);
    for (int i = 0; i < n; i++) {
      sb.append(i > 0 ? ", " : "").append(storage.get(i));
    }
    return sb.append(size() > n ? ", ...])" : "])").toString();
  }
}
