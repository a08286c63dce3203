package dev.rnn.core;

import static com.google.common.base.Preconditions.checkArgument;

import java.lang.ref.SoftReference;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * A flat, mutable, row-major array of one {@link DType}: the working memory of kernels.
 *
 * <p>A {@link Tensor} is a {@link Shape} over a storage that nobody changes once the tensor is
 * handed out; a bare storage is mutable and belongs to whoever allocated it (a scan's workspace, a
 * parameter's value or gradient). Everything above this class is dtype-free: the dtype-specific
 * code lives in its two package-private subclasses, {@code Float32Storage} and {@code
 * Float64Storage}, kept mirrored line by line, and in the fused gate kernels of the cells; this
 * class is the API, the factory and the dispatch to BLAS. The arrays never leave this package:
 * code elsewhere (autograd, optimizers, a user-written {@link Cell}) works through the methods
 * below.
 *
 * <p>Matrices are row-major blocks given by an offset and a leading dimension (the row stride), so a
 * time slice of {@code [seq, batch, features]} or a gate block of a weight matrix is used in place.
 *
 * <p>Float32 kernels compute in float, with their scalar arguments first narrowed to float, each
 * operation rounded as Java rounds it; sums ({@link #sum}, {@link #sumOfSquares}, {@link
 * #sumOfSquaredDifferences}) accumulate in double.
 */
public abstract class Storage {
  Storage() {}

  /**
   * A zero-filled storage of {@code length} elements.
   *
   * @param dtype the element type
   * @param length the number of elements, {@code >= 0}
   * @return a new storage
   * @throws IllegalArgumentException if {@code length} is negative
   */
  public static Storage allocate(DType dtype, int length) {
    checkArgument(length >= 0, "storage length must be >= 0 but got %s", length);
    return dtype == DType.FLOAT32 ? new Float32Storage(new float[length])
        : new Float64Storage(new double[length]);
  }

  // ---- reuse of large scratch storages -------------------------------------------------------
  //
  // The scan allocates buffers of tens of megabytes per call (projections, saved activations,
  // states, gate gradients); allocating them anew costs the zeroing and a garbage collection
  // every few calls. A run borrows them here and gives them back when it is done; the pool holds
  // them softly, so that they go when memory is short.
  //
  // The pool is per thread (DESIGN: buffers reused for speed are per call or per thread): threads
  // share no buffer through it and take no lock. A storage given back on another thread than the
  // one that borrowed it (a graph built on one thread and differentiated on another) joins the
  // pool of the thread that gives it back.

  /** Storages of fewer elements are allocated, not pooled. */
  static final int POOL_MIN_LENGTH = 1 << 15;

  /** At most this many idle storages of one dtype and length are kept, per thread. */
  private static final int POOL_PER_SIZE = 6;

  /** This thread's idle storages by {@link #poolKey}, the last given back first. */
  private static final ThreadLocal<Map<Long, ArrayDeque<SoftReference<Storage>>>> POOL =
      ThreadLocal.withInitial(HashMap::new);

  private static long poolKey(DType dtype, int length) {
    return ((long) length << 1) | dtype.ordinal();
  }

  /**
   * A storage of {@code length} elements whose contents are undefined (one this thread gave back,
   * or a new zero-filled one): the caller writes every element before reading it.
   */
  static Storage borrow(DType dtype, int length) {
    if (length >= POOL_MIN_LENGTH) {
      ArrayDeque<SoftReference<Storage>> q = POOL.get().get(poolKey(dtype, length));
      if (q != null) {
        for (SoftReference<Storage> r; (r = q.pollFirst()) != null; ) {
          Storage st = r.get();
          if (st != null) {
            return st;
          }
        }
      }
    }
    return allocate(dtype, length);
  }

  /**
   * Gives back a storage from {@link #borrow} to this thread's pool; the caller must not use it
   * afterwards. A storage that is already idle in the pool is not added again: given back twice,
   * it would be lent to two borrowers at once.
   */
  static void giveBack(Storage s) {
    if (s == null || s.length() < POOL_MIN_LENGTH) {
      return;
    }
    ArrayDeque<SoftReference<Storage>> q =
        POOL.get().computeIfAbsent(poolKey(s.dtype(), s.length()), k -> new ArrayDeque<>());
    for (SoftReference<Storage> r : q) {
      if (r.get() == s) {
        return;
      }
    }
    if (q.size() < POOL_PER_SIZE) {
      q.addFirst(new SoftReference<>(s));
    }
  }

  /**
   * Wraps {@code data} without copying: the storage and the caller share it. Package-private, so
   * that no array outside this package aliases a storage that may end up in a {@link Tensor}.
   *
   * @param data the elements, shared
   * @return a float32 storage over {@code data}
   */
  static Storage wrap(float[] data) {
    return new Float32Storage(data);
  }

  /**
   * Wraps {@code data} without copying: the storage and the caller share it. Package-private, as
   * {@link #wrap(float[])}.
   *
   * @param data the elements, shared
   * @return a float64 storage over {@code data}
   */
  static Storage wrap(double[] data) {
    return new Float64Storage(data);
  }

  /** {@return the element type} */
  public abstract DType dtype();

  /** {@return the number of elements} */
  public abstract int length();

  /**
   * Element {@code i}, widened to double.
   *
   * @param i the index
   * @return the element
   */
  public abstract double get(int i);

  /**
   * Sets element {@code i} (narrowed to float for float32).
   *
   * @param i the index
   * @param v the value
   */
  public abstract void set(int i, double v);

  /** {@return a new storage holding a copy of the elements} */
  public abstract Storage copy();

  /**
   * A new storage of {@code dtype} holding the elements, converted.
   *
   * @param dtype the element type of the copy
   * @return a new storage, even when {@code dtype} is this one's
   */
  public abstract Storage to(DType dtype);

  /**
   * Sets {@code n} elements from {@code off} to {@code v}.
   *
   * @param off the first index set
   * @param n the number of elements set
   * @param v the value
   */
  public abstract void fill(int off, int n, double v);

  /**
   * Copies {@code n} elements from {@code src[srcOff..]} to {@code this[off..]}.
   *
   * @param src the storage read, of this dtype
   * @param srcOff the first index read
   * @param off the first index written
   * @param n the number of elements
   */
  public abstract void copyFrom(Storage src, int srcOff, int off, int n);

  /**
   * Copies a {@code rows x cols} block: {@code this[off + r*ld + c] = src[srcOff + r*srcLd + c]}.
   *
   * @param src the storage read, of this dtype
   * @param srcOff the offset of the block in {@code src}
   * @param srcLd the row stride of {@code src}
   * @param off the offset of the block in this storage
   * @param ld the row stride of this storage
   * @param rows the number of rows
   * @param cols the number of columns
   */
  public abstract void copyBlock(
      Storage src, int srcOff, int srcLd, int off, int ld, int rows, int cols);

  /**
   * {@code this = x + t^T}: {@code this[off + r*cols + c] = x[xOff + r*cols + c] + t[tOff + c*rows
   * + r]} for {@code r < rows}, {@code c < cols}; {@code t} is {@code [cols, rows]} row-major.
   *
   * @param off the first index of this {@code [rows, cols]} block written
   * @param x the storage of the {@code [rows, cols]} summand, of this dtype
   * @param xOff its offset
   * @param t the storage of the {@code [cols, rows]} summand read transposed, of this dtype
   * @param tOff its offset
   * @param rows the rows of this block
   * @param cols the columns of this block
   */
  public abstract void addTransposed(int off, Storage x, int xOff, Storage t, int tOff, int rows,
      int cols);

  /**
   * {@code this[off + i] += alpha * x[xOff + i]} for {@code i < n}.
   *
   * @param n the number of elements
   * @param alpha the factor of {@code x}
   * @param x the storage read, of this dtype
   * @param xOff the first index of {@code x} read
   * @param off the first index of this storage updated
   */
  public abstract void axpy(int n, double alpha, Storage x, int xOff, int off);

  /**
   * {@code this[off + i] *= alpha} for {@code i < n}.
   *
   * @param off the first index scaled
   * @param n the number of elements
   * @param alpha the factor
   */
  public abstract void scale(int off, int n, double alpha);

  // ---- elementwise ops, as torch's in-place tensor ops ------------------------------------------
  //
  // What optimizers, gradient clipping and losses are written on, as torch's optimizers are on
  // torch._foreach_* ops. Each takes ranges given by offsets, so that a caller can run a sequence
  // of them block by block over storages too large for the cache, in one pass over memory.

  /**
   * {@code this[off + i] = alpha * x[xOff + i] + beta * this[off + i]} for {@code i < n}: BLAS
   * {@code axpby}, torch's {@code mul_(beta).add_(x, alpha=alpha)}. An exponential moving average
   * {@code lerp_(x, w)} is {@code alpha = w, beta = 1 - w}.
   *
   * @param n the number of elements
   * @param alpha the factor of {@code x}
   * @param x the storage read, of this dtype; may be this storage
   * @param xOff the first index of {@code x} read
   * @param beta the factor of the old elements
   * @param off the first index of this storage updated
   */
  public abstract void axpby(int n, double alpha, Storage x, int xOff, double beta, int off);

  /**
   * {@code this[off + i] = beta * this[off + i] + value * x[xOff + i] * y[yOff + i]} for {@code i <
   * n}: torch's {@code mul_(beta).addcmul_(x, y, value=value)}.
   *
   * @param off the first index of this storage updated
   * @param n the number of elements
   * @param beta the factor of the old elements
   * @param value the factor of the product
   * @param x the first factor, of this dtype; may be this storage or {@code y}
   * @param xOff the first index of {@code x} read
   * @param y the second factor, of this dtype; may be this storage or {@code x}
   * @param yOff the first index of {@code y} read
   */
  public abstract void addcmul(int off, int n, double beta, double value, Storage x, int xOff,
      Storage y, int yOff);

  /**
   * {@code this[off + i] = beta * this[off + i] + value * x[xOff + i] / y[yOff + i]} for {@code i <
   * n}: torch's {@code mul_(beta).addcdiv_(x, y, value=value)}.
   *
   * @param off the first index of this storage updated
   * @param n the number of elements
   * @param beta the factor of the old elements
   * @param value the factor of the quotient
   * @param x the dividend, of this dtype; may be this storage
   * @param xOff the first index of {@code x} read
   * @param y the divisor, of this dtype; may be this storage
   * @param yOff the first index of {@code y} read
   */
  public abstract void addcdiv(int off, int n, double beta, double value, Storage x, int xOff,
      Storage y, int yOff);

  /**
   * {@code this[off + i] += alpha * (x[xOff + i] - y[yOff + i])} for {@code i < n}: torch's {@code
   * add_(x - y, alpha=alpha)} without the temporary, e.g. the gradient of a squared error.
   *
   * @param off the first index of this storage updated
   * @param n the number of elements
   * @param alpha the factor of the difference
   * @param x the storage subtracted from, of this dtype
   * @param xOff the first index of {@code x} read
   * @param y the storage subtracted, of this dtype
   * @param yOff the first index of {@code y} read
   */
  public abstract void addDifference(int off, int n, double alpha, Storage x, int xOff, Storage y,
      int yOff);

  /**
   * {@code this[off + i] = max(this[off + i], x[xOff + i])} for {@code i < n}, NaN if either is:
   * torch's {@code torch.maximum(this, x, out=this)}.
   *
   * @param off the first index of this storage updated
   * @param n the number of elements
   * @param x the storage read, of this dtype
   * @param xOff the first index of {@code x} read
   */
  public abstract void maximum(int off, int n, Storage x, int xOff);

  /**
   * {@code this[off + i] = min(max(this[off + i], min), max)} for {@code i < n}; NaN stays NaN:
   * torch's {@code clamp_(min, max)}.
   *
   * @param off the first index clamped
   * @param n the number of elements
   * @param min the lower bound
   * @param max the upper bound, {@code >= min}
   */
  public abstract void clamp(int off, int n, double min, double max);

  /**
   * {@code this[off + i] = sqrt(x[xOff + i]) / divisor + addend} for {@code i < n}: torch's {@code
   * x.sqrt().div_(divisor).add_(addend)}, the denominator {@code sqrt(v) / c + eps} of adaptive
   * optimizers. With {@code divisor = 1} and {@code addend = 0}, the square root.
   *
   * @param off the first index of this storage written
   * @param n the number of elements
   * @param x the storage read, of this dtype; may be this storage
   * @param xOff the first index of {@code x} read
   * @param divisor the divisor of the root
   * @param addend the term added last
   */
  public abstract void sqrt(int off, int n, Storage x, int xOff, double divisor, double addend);

  /**
   * Adds {@code bias[bOff..bOff+cols)} to each of {@code rows} rows of width {@code cols}.
   *
   * @param off the offset of the first row
   * @param rows the number of rows
   * @param cols the row width
   * @param bias the storage holding the vector, of this dtype
   * @param bOff the offset of the vector in {@code bias}
   */
  public abstract void addRowVector(int off, int rows, int cols, Storage bias, int bOff);

  /**
   * Fills each of {@code rows} rows of width {@code cols} with {@code bias[bOff..bOff+cols)}.
   *
   * @param off the offset of the first row
   * @param rows the number of rows
   * @param cols the row width
   * @param bias the storage holding the vector, of this dtype
   * @param bOff the offset of the vector in {@code bias}
   */
  public abstract void setRows(int off, int rows, int cols, Storage bias, int bOff);

  /**
   * {@code this[off + c] += sum_r m[mOff + r*cols + c]}: the column sums, for bias gradients.
   *
   * @param m the matrix read, row-major and contiguous, of this dtype
   * @param mOff the offset of the matrix in {@code m}
   * @param rows the number of rows summed
   * @param cols the number of columns
   * @param off the first of the {@code cols} elements of this storage updated
   */
  public abstract void addColumnSums(Storage m, int mOff, int rows, int cols, int off);

  /**
   * The sum of {@code n} elements from {@code off}, accumulated in double.
   *
   * @param off the first index summed
   * @param n the number of elements
   * @return the sum
   */
  public abstract double sum(int off, int n);

  /** {@return the sum of squares of all elements, accumulated in double} */
  public final double sumOfSquares() {
    return sumOfSquares(0, length());
  }

  /**
   * {@code sum_i this[off + i]^2} for {@code i < n}, accumulated in double.
   *
   * @param off the first element
   * @param n the number of elements
   * @return the sum of squares
   */
  public abstract double sumOfSquares(int off, int n);

  /**
   * {@code sum_i (this[off + i] - x[xOff + i])^2} for {@code i < n}, each difference rounded to
   * this dtype and the squares summed in order in double: the squared error of a prediction.
   *
   * @param off the first index of this storage read
   * @param n the number of elements
   * @param x the storage subtracted, of this dtype
   * @param xOff the first index of {@code x} read
   * @return the sum of squared differences
   */
  public abstract double sumOfSquaredDifferences(int off, int n, Storage x, int xOff);

  /** {@return whether every element is finite (no NaN or infinity)} */
  public abstract boolean allFinite();

  /**
   * Row-major general matrix product through BLAS:
   * {@code C = alpha * op(A) * op(B) + beta * C} with {@code op(X) = X} or {@code X^T}.
   *
   * <p>{@code C} is this storage at {@code cOff} with leading dimension {@code ldc}; {@code op(A)}
   * is {@code m x k}, {@code op(B)} is {@code k x n}, {@code C} is {@code m x n}. All three share
   * this storage's dtype.
   *
   * @param transA whether {@code op(A)} is {@code A^T}
   * @param transB whether {@code op(B)} is {@code B^T}
   * @param m the rows of {@code op(A)} and {@code C}
   * @param n the columns of {@code op(B)} and {@code C}
   * @param k the columns of {@code op(A)}, the rows of {@code op(B)}
   * @param alpha the factor of the product
   * @param a the storage holding {@code A}
   * @param aOff the offset of {@code A}
   * @param lda the row stride of {@code A}
   * @param b the storage holding {@code B}
   * @param bOff the offset of {@code B}
   * @param ldb the row stride of {@code B}
   * @param beta the factor of the old {@code C}; with 0, {@code C} is not read
   * @param cOff the offset of {@code C} in this storage
   * @param ldc the row stride of {@code C}
   * @throws IllegalArgumentException if the three dtypes differ
   */
  public final void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
      Storage a, int aOff, int lda, Storage b, int bOff, int ldb, double beta, int cOff, int ldc) {
    checkArgument(a.dtype() == dtype() && b.dtype() == dtype(),
        "gemm expected one dtype but got A %s, B %s, C %s", a.dtype(), b.dtype(), dtype());
    if (m == 0 || n == 0) {
      return;
    }
    if (k == 0) {
      // As BLAS: with beta = 0, C is not read, so a NaN or infinity left in it does not survive.
      for (int r = 0; r < m; r++) {
        if (beta == 0) {
          fill(cOff + r * ldc, n, 0);
        } else if (beta != 1) {
          scale(cOff + r * ldc, n, beta);
        }
      }
      return;
    }
    if ((long) m * n * k <= SMALL_GEMM) {
      // A call into native BLAS costs about a microsecond; a product this small takes less here.
      gemmSmall(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, cOff, ldc);
      return;
    }
    // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands.
    if (m == 1 && gemvAlone(n, k)) {
      // One row of C: c = op(B)^T a, a matrix-vector product. BLAS gemm would pack all of B,
      // which is the whole cost of a streaming step (batch 1); but see gemvAlone.
      int incA = transA ? lda : 1;
      if (transB) {
        // op(B) = B^T with B row-major [n, k]: column-major [k, n]; c = B a.
        Blas.gemv(true, k, n, alpha, b, bOff, ldb, a, aOff, incA, beta, this, cOff, 1);
      } else {
        // B row-major [k, n] is column-major [n, k]; c = B^T a.
        Blas.gemv(false, n, k, alpha, b, bOff, ldb, a, aOff, incA, beta, this, cOff, 1);
      }
      return;
    }
    if (n == 1 && gemvAlone(m, k)) {
      // One column of C: c = op(A) b, with c strided by ldc.
      int incB = transB ? 1 : ldb;
      if (transA) {
        // op(A) = A^T with A row-major [k, m]: column-major [m, k]; c = A b.
        Blas.gemv(false, m, k, alpha, a, aOff, lda, b, bOff, incB, beta, this, cOff, ldc);
      } else {
        // A row-major [m, k] is column-major [k, m]; c = (A^T)^T b.
        Blas.gemv(true, k, m, alpha, a, aOff, lda, b, bOff, incB, beta, this, cOff, ldc);
      }
      return;
    }
    Blas.gemm(transB, transA, n, m, k, alpha, b, bOff, ldb, a, aOff, lda, beta, this, cOff, ldc);
  }

  /**
   * {@code C = A op(W) + beta * C} for many rows by one weight, as a dense layer multiplies its
   * input or its output gradient and a scan's backward its input gradient {@code dXP W_ih}: on the native kernels (float32, AVX-512, at least {@link
   * PackedWeight#CHUNK} rows, {@code N} and {@code K} at least {@link #MIN_PACKED}, {@code N K}
   * not below the kernels' minimum) {@code W} is packed once and the rows run by blocks that stay
   * in cache, else {@link #gemm} with {@code transA = false} and {@code alpha = 1}.
   *
   * <p>Shapes: {@code A [m, k]} (row stride {@code k}), {@code W [n, k]} if {@code transW} else
   * {@code [k, n]}, from offset 0; {@code C [m, n]} (row stride {@code n}) in this storage at
   * {@code cOff}.
   *
   * @param transW whether {@code op(W) = W^T}
   * @param m the rows of {@code A} and {@code C}
   * @param n the columns of {@code op(W)} and {@code C}
   * @param k the columns of {@code A}, the rows of {@code op(W)}
   * @param a the storage holding {@code A}
   * @param aOff the offset of {@code A}
   * @param w the weight, {@code n k} elements
   * @param beta 0 ({@code C} is not read) or 1 ({@code C} is added to)
   * @param cOff the offset of {@code C} in this storage
   * @throws IllegalArgumentException if the dtypes differ, {@code beta} is neither 0 nor 1, or
   *     {@code w} is not of {@code n k} elements
   */
  public final void gemmRows(boolean transW, int m, int n, int k, Storage a, int aOff, Storage w,
      double beta, int cOff) {
    gemmRows(transW, m, n, k, a, aOff, w, null, beta, cOff);
  }

  /** Whether rows of {@code a} into this storage can run on a packed weight: enough of them. */
  private boolean packsRows(int m, Storage a) {
    return m >= PackedWeight.CHUNK && dtype() == DType.FLOAT32 && a.dtype() == DType.FLOAT32;
  }

  /** {@code C = A op(W) (+ C)} on {@code packed}, or on BLAS where it is null. */
  private void multiplyRows(boolean transW, int m, int n, int k, Storage a, int aOff, Storage w,
      PackedWeight packed, double beta, int cOff) {
    if (packed == null) {
      gemm(false, transW, m, n, k, 1, a, aOff, k, w, 0, transW ? k : n, beta, cOff, n);
      return;
    }
    packed.multiplyRows(m, a, aOff, k,
        beta == 0 ? PackedWeight.Init.ZERO : PackedWeight.Init.ACCUMULATE, this, cOff, n);
  }

  /**
   * The weight {@link #gemmRows} packs for products of float32 rows by {@code w}, packed once
   * for many such products ({@link #gemmRows(boolean, int, int, int, Storage, int, Storage,
   * PackedWeight, double, int)}, e.g. a scan's input gradient chunk by chunk); null where
   * gemmRows runs on BLAS.
   *
   * @param w the weight, {@code n k} elements
   * @param transW whether {@code op(W) = W^T}
   * @param n the columns of {@code op(W)}
   * @param k the rows of {@code op(W)}
   * @return the packed weight, or null
   */
  static PackedWeight packedRows(Storage w, boolean transW, int n, int k) {
    return w.dtype() == DType.FLOAT32 && n >= MIN_PACKED && k >= MIN_PACKED
        && Native.isa() == Native.Isa.AVX512 && (long) n * k >= Native.minWork()
        ? PackedWeight.of(w, transW, n, k) : null;
  }

  /**
   * {@link #gemmRows(boolean, int, int, int, Storage, int, Storage, double, int)} with {@code w}
   * already packed by {@link #packedRows} (or null: packed here where it pays): the same
   * products, the same bits, without packing {@code w} again.
   */
  final void gemmRows(boolean transW, int m, int n, int k, Storage a, int aOff, Storage w,
      PackedWeight packed, double beta, int cOff) {
    checkArgument(beta == 0 || beta == 1, "gemmRows expected beta 0 or 1 but got %s", beta);
    checkArgument(w.length() == n * k, "gemmRows expected a weight of %s x %s elements but got %s",
        n, k, w.length());
    if (!packsRows(m, a)) {
      multiplyRows(transW, m, n, k, a, aOff, w, null, beta, cOff);
    } else {
      multiplyRows(transW, m, n, k, a, aOff, w,
          packed != null ? packed : packedRows(w, transW, n, k), beta, cOff);
    }
  }

  /**
   * The columns and depth from which {@link #gemmRows} packs: a narrower product fills part of
   * the kernel's panel of 64 columns (elman-s's head, {@code 2048 x 32 x 128}, ran at two thirds
   * of OpenBLAS's speed), a shallower one stores its tiles more often than it multiplies.
   */
  static final int MIN_PACKED = 64;

  /**
   * Whether a matrix-vector product with {@code outputs} results of depth {@code depth} runs as
   * BLAS gemv: not when it is below {@link #GEMV_WHOLE} multiply-adds and OpenBLAS would share
   * it between its threads (from {@link #GEMV_BLAS_THREADED}, its {@code 2304 *
   * GEMM_MULTITHREAD_THRESHOLD}); such a product runs as gemm, which OpenBLAS keeps on the calling
   * thread up to {@code 65536 * GEMM_MULTITHREAD_THRESHOLD} multiply-adds. A shared gemv this
   * small (elman-s's {@code 128 x 128} streaming step, about a microsecond) wakes OpenBLAS's
   * second thread on every call, and a streaming step then took 7.7 or 17 µs depending on the JVM.
   */
  static boolean gemvAlone(int outputs, int depth) {
    long work = (long) outputs * depth;
    return work < GEMV_BLAS_THREADED || work >= GEMV_WHOLE;
  }

  /** OpenBLAS 0.3.21 threads a gemv of at least this many elements (interface/gemv.c). */
  static final long GEMV_BLAS_THREADED = 2304L * 4;

  /** Matrix-vector products of at least this many multiply-adds always run as gemv. */
  static final long GEMV_WHOLE = 1L << 16;

  /** Products with {@code m * n * k} up to this run in Java, without a native call. */
  static final int SMALL_GEMM = 1024;

  /** {@link #gemm} in plain Java, for tiny products; row-major, same arguments. */
  abstract void gemmSmall(boolean transA, boolean transB, int m, int n, int k, double alpha,
      Storage a, int aOff, int lda, Storage b, int bOff, int ldb, double beta, int cOff, int ldc);
}
