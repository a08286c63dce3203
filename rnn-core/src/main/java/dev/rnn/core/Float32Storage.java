package dev.rnn.core;

import java.util.Arrays;

/**
 * Float32 storage: the default, for speed. Every kernel computes in float, its scalar arguments
 * first narrowed to float; sums accumulate in double.
 *
 * <p>Mirrored line by line by {@link Float64Storage}: a change to one kernel is made to both, so
 * that {@code diff Float32Storage.java Float64Storage.java} shows only the element type.
 */
final class Float32Storage extends Storage {
  /** The elements; kernels of this package read and write them in place. */
  final float[] a;

  Float32Storage(float[] a) {
    this.a = a;
  }

  @Override public DType dtype() {
    return DType.FLOAT32;
  }

  @Override public int length() {
    return a.length;
  }

  @Override public double get(int i) {
    return a[i];
  }

  @Override public void set(int i, double v) {
    a[i] = (float) v;
  }

  @Override public Storage copy() {
    return new Float32Storage(a.clone());
  }

  @Override public Storage to(DType dtype) {
    if (dtype == DType.FLOAT32) {
      return copy();
    }
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      d[i] = a[i];
    }
    return new Float64Storage(d);
  }

  @Override public void fill(int off, int n, double v) {
    Arrays.fill(a, off, off + n, (float) v);
  }

  @Override public void copyFrom(Storage src, int srcOff, int off, int n) {
    System.arraycopy(((Float32Storage) src).a, srcOff, a, off, n);
  }

  @Override public void copyBlock(
      Storage src, int srcOff, int srcLd, int off, int ld, int rows, int cols) {
    float[] s = ((Float32Storage) src).a;
    for (int r = 0; r < rows; r++) {
      System.arraycopy(s, srcOff + r * srcLd, a, off + r * ld, cols);
    }
  }

  @Override public void addTransposed(int off, Storage x, int xOff, Storage t, int tOff,
      int rows, int cols) {
    float[] xa = ((Float32Storage) x).a;
    float[] ta = ((Float32Storage) t).a;
    for (int r = 0; r < rows; r++) {
      int o = off + r * cols;
      int xo = xOff + r * cols;
      int to = tOff + r;
      for (int c = 0; c < cols; c++) {
        a[o + c] = xa[xo + c] + ta[to + c * rows];
      }
    }
  }

  @Override public void axpy(int n, double alpha, Storage x, int xOff, int off) {
    float[] xa = ((Float32Storage) x).a;
    float al = (float) alpha;
    for (int i = 0; i < n; i++) {
      a[off + i] += al * xa[xOff + i];
    }
  }

  @Override public void scale(int off, int n, double alpha) {
    float al = (float) alpha;
    for (int i = off; i < off + n; i++) {
      a[i] *= al;
    }
  }

  @Override public void axpby(int n, double alpha, Storage x, int xOff, double beta, int off) {
    float[] xa = ((Float32Storage) x).a;
    float al = (float) alpha;
    float be = (float) beta;
    for (int i = 0; i < n; i++) {
      a[off + i] = al * xa[xOff + i] + be * a[off + i];
    }
  }

  @Override public void addcmul(int off, int n, double beta, double value, Storage x, int xOff,
      Storage y, int yOff) {
    float[] xa = ((Float32Storage) x).a;
    float[] ya = ((Float32Storage) y).a;
    float be = (float) beta;
    float va = (float) value;
    for (int i = 0; i < n; i++) {
      a[off + i] = be * a[off + i] + va * xa[xOff + i] * ya[yOff + i];
    }
  }

  @Override public void addcdiv(int off, int n, double beta, double value, Storage x, int xOff,
      Storage y, int yOff) {
    float[] xa = ((Float32Storage) x).a;
    float[] ya = ((Float32Storage) y).a;
    float be = (float) beta;
    float va = (float) value;
    for (int i = 0; i < n; i++) {
      a[off + i] = be * a[off + i] + va * xa[xOff + i] / ya[yOff + i];
    }
  }

  @Override public void addDifference(int off, int n, double alpha, Storage x, int xOff,
      Storage y, int yOff) {
    float[] xa = ((Float32Storage) x).a;
    float[] ya = ((Float32Storage) y).a;
    float al = (float) alpha;
    for (int i = 0; i < n; i++) {
      a[off + i] += al * (xa[xOff + i] - ya[yOff + i]);
    }
  }

  @Override public void maximum(int off, int n, Storage x, int xOff) {
    float[] xa = ((Float32Storage) x).a;
    for (int i = 0; i < n; i++) {
      a[off + i] = Math.max(a[off + i], xa[xOff + i]);
    }
  }

  @Override public void clamp(int off, int n, double min, double max) {
    float lo = (float) min;
    float hi = (float) max;
    for (int i = off; i < off + n; i++) {
      a[i] = Math.min(Math.max(a[i], lo), hi);
    }
  }

  @Override public void sqrt(int off, int n, Storage x, int xOff, double divisor,
      double addend) {
    float[] xa = ((Float32Storage) x).a;
    float dv = (float) divisor;
    float ad = (float) addend;
    for (int i = 0; i < n; i++) {
      a[off + i] = (float) Math.sqrt(xa[xOff + i]) / dv + ad;
    }
  }

  @Override public void addRowVector(int off, int rows, int cols, Storage bias, int bOff) {
    float[] b = ((Float32Storage) bias).a;
    for (int r = 0; r < rows; r++) {
      int o = off + r * cols;
      for (int c = 0; c < cols; c++) {
        a[o + c] += b[bOff + c];
      }
    }
  }

  @Override public void setRows(int off, int rows, int cols, Storage bias, int bOff) {
    float[] b = ((Float32Storage) bias).a;
    for (int r = 0; r < rows; r++) {
      System.arraycopy(b, bOff, a, off + r * cols, cols);
    }
  }

  @Override public void addColumnSums(Storage m, int mOff, int rows, int cols, int off) {
    float[] x = ((Float32Storage) m).a;
    if ((long) rows * cols >= NATIVE_SUMS && Native.isa() == Native.Isa.AVX512) {
      // A sequence's bias gradient: the same sums, each column's kept in a register.
      Native.addColumnSums(x, mOff, rows, cols, a, off);
      return;
    }
    for (int r = 0; r < rows; r++) {
      int o = mOff + r * cols;
      for (int c = 0; c < cols; c++) {
        a[off + c] += x[o + c];
      }
    }
  }

  /**
   * The elements from which {@link #addColumnSums} runs in C ({@link Native#addColumnSums}): a
   * bias gradient over a sequence (lstm-l's 3200 x 2048), not a step's.
   */
  private static final long NATIVE_SUMS = 1 << 16;

  @Override void gemmSmall(boolean transA, boolean transB, int m, int n, int k, double alpha,
      Storage a, int aOff, int lda, Storage b, int bOff, int ldb, double beta, int cOff,
      int ldc) {
    float[] x = ((Float32Storage) a).a;
    float[] cc = this.a;
    float[] y = ((Float32Storage) b).a;
    float al = (float) alpha;
    float be = (float) beta;
    for (int i = 0; i < m; i++) {
      int c = cOff + i * ldc;
      for (int j = 0; j < n; j++) {
        cc[c + j] = be == 0 ? 0 : be * cc[c + j];
      }
      for (int p = 0; p < k; p++) {
        float aip = al * (transA ? x[aOff + p * lda + i] : x[aOff + i * lda + p]);
        if (transB) {
          for (int j = 0; j < n; j++) {
            cc[c + j] += aip * y[bOff + j * ldb + p];
          }
        } else {
          for (int j = 0; j < n; j++) {
            cc[c + j] += aip * y[bOff + p * ldb + j];
          }
        }
      }
    }
  }

  @Override public double sum(int off, int n) {
    double s = 0;
    for (int i = off; i < off + n; i++) {
      s += a[i];
    }
    return s;
  }

  @Override public double sumOfSquares(int off, int len) {
    // Four partial sums: one chain of dependent additions would wait on each other.
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int end = off + len;
    int n = off + (len & ~3);
    for (int i = off; i < n; i += 4) {
      s0 += (double) a[i] * a[i];
      s1 += (double) a[i + 1] * a[i + 1];
      s2 += (double) a[i + 2] * a[i + 2];
      s3 += (double) a[i + 3] * a[i + 3];
    }
    for (int i = n; i < end; i++) {
      s0 += (double) a[i] * a[i];
    }
    return (s0 + s1) + (s2 + s3);
  }

  @Override public double sumOfSquaredDifferences(int off, int n, Storage x, int xOff) {
    float[] xa = ((Float32Storage) x).a;
    double s = 0;
    for (int i = 0; i < n; i++) {
      double d = a[off + i] - xa[xOff + i];
      s += d * d;
    }
    return s;
  }

  @Override public boolean allFinite() {
    for (float v : a) {
      if (!Float.isFinite(v)) {
        return false;
      }
    }
    return true;
  }
}
