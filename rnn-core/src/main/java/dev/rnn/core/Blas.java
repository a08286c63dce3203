package dev.rnn.core;

import dev.ludovic.netlib.blas.BLAS;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Access to BLAS gemm through {@code dev.ludovic.netlib:blas}: the machine's native BLAS (OpenBLAS
 * when {@code libopenblas0-pthread} is installed) and a pure-Java implementation otherwise.
 *
 * <p>Column-major, as BLAS is; {@link Storage#gemm} turns row-major products into these calls.
 * Package-private: applications ask which BLAS is in use with {@link Tensor#blasImplementation()}.
 *
 * <p>When netlib falls back to its pure-Java BLAS, everything runs 5 to 20 times slower with the
 * same results; so that this is never silent, loading this class logs one warning (once per JVM,
 * {@link java.util.logging} logger {@code dev.rnn.core.Blas}, level WARNING) naming the
 * implementation, why netlib takes it and how to get the native one.
 */
final class Blas {
  private static final BLAS BLAS_INSTANCE = load();

  private Blas() {}

  private static BLAS load() {
    // netlib logs a warning for every implementation it passes over (no native library, no
    // incubator vector module); implementation() says which one is in use, so keep them quiet
    // and say it once, in our words, if the one taken is not native.
    Logger log = Logger.getLogger("dev.ludovic.netlib.blas");
    Level was = log.getLevel();
    log.setLevel(Level.SEVERE);
    BLAS blas;
    try {
      blas = BLAS.getInstance();
    } finally {
      log.setLevel(was);
    }
    warning(blas.getClass().getSimpleName())
        .ifPresent(Logger.getLogger(Blas.class.getName())::warning);
    return blas;
  }

  /**
   * The warning logged once when the BLAS in use, {@code implementation}, is not the native one
   * ({@code JNIBLAS}); empty for the native one.
   */
  static Optional<String> warning(String implementation) {
    if (implementation.equals("JNIBLAS")) {
      return Optional.empty();
    }
    return Optional.of("rnn: matrix products run on netlib's pure-Java BLAS (" + implementation
        + "), 5 to 20 times slower than a native one, because netlib could not load a native"
        + " BLAS. It needs libblas.so.3 on the library path (on Debian/Ubuntu: apt-get install"
        + " libopenblas0-pthread) and its own dependency net.sourceforge.f2j:arpack_combined_all"
        + " on the class path (do not exclude it). The results are the same;"
        + " Tensor.blasImplementation() names the BLAS in use (JNIBLAS is the native one).");
  }

  /**
   * {@return the name of the implementation in use, e.g. {@code JNIBLAS} (native) or {@code
   * VectorBLAS}; public as {@link Tensor#blasImplementation()}}
   */
  static String implementation() {
    return BLAS_INSTANCE.getClass().getSimpleName();
  }

  /** Column-major {@code C = alpha op(A) op(B) + beta C}, {@code op(A)} is m x k, {@code op(B)} k x n. */
  static void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
      Storage a, int aOff, int lda, Storage b, int bOff, int ldb, double beta,
      Storage c, int cOff, int ldc) {
    String ta = transA ? "T" : "N";
    String tb = transB ? "T" : "N";
    if (c instanceof Float32Storage) {
      BLAS_INSTANCE.sgemm(ta, tb, m, n, k, (float) alpha, ((Float32Storage) a).a, aOff, lda,
          ((Float32Storage) b).a, bOff, ldb, (float) beta, ((Float32Storage) c).a, cOff, ldc);
    } else {
      BLAS_INSTANCE.dgemm(ta, tb, m, n, k, alpha, ((Float64Storage) a).a, aOff, lda,
          ((Float64Storage) b).a, bOff, ldb, beta, ((Float64Storage) c).a, cOff, ldc);
    }
  }

  /**
   * Column-major {@code y = alpha op(A) x + beta y}, {@code A} is m x n (before {@code op}),
   * {@code x} and {@code y} strided by {@code incX} and {@code incY}.
   */
  static void gemv(boolean transA, int m, int n, double alpha, Storage a, int aOff, int lda,
      Storage x, int xOff, int incX, double beta, Storage y, int yOff, int incY) {
    String ta = transA ? "T" : "N";
    if (y instanceof Float32Storage) {
      BLAS_INSTANCE.sgemv(ta, m, n, (float) alpha, ((Float32Storage) a).a, aOff, lda,
          ((Float32Storage) x).a, xOff, incX, (float) beta, ((Float32Storage) y).a, yOff, incY);
    } else {
      BLAS_INSTANCE.dgemv(ta, m, n, alpha, ((Float64Storage) a).a, aOff, lda,
          ((Float64Storage) x).a, xOff, incX, beta, ((Float64Storage) y).a, yOff, incY);
    }
  }
}
