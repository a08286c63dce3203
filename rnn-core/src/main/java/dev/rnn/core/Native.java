package dev.rnn.core;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * The project's own native kernels ({@code librnn_native.so}, built from {@code
 * src/main/c/rnn_native.c} by the Maven build when gcc is there): the recurrent product of a
 * scan with its weight packed once per call ({@link PackedWeight}), and an LSTM step fused with
 * that product. Float32 only; float64 stays on BLAS.
 *
 * <p>Loaded once, like the BLAS: the library is extracted from the jar ({@code
 * dev/rnn/core/native/linux-x86_64/}) into a temporary file and {@link System#load}ed, and the
 * processor is asked what it runs: AVX-512F (the fused LSTM step too), else AVX2 with FMA, else
 * the kernels are not used. Whenever they are not, everything runs on the BLAS path as before,
 * with the same results up to the rounding of the sums; {@link #describe()} says which and why in
 * one line ({@code Tensor.nativeKernels()}).
 *
 * <p>System properties, read once: {@code rnn.native=false} switches the kernels off; {@code
 * rnn.native.isa=avx2} uses the AVX2 kernels on an AVX-512 processor (for tests); {@code
 * rnn.native.threads=N} the threads a large product is split over (default: {@code
 * OPENBLAS_NUM_THREADS}, as the BLAS, else the processors; at most 2); {@code
 * rnn.native.share=W} the multiply-adds of a product from which the two threads share it
 * (default {@code 2^22}); {@code rnn.native.min=W}
 * the multiply-adds per row ({@code G x P}) from which a scan packs its weights (default 4096:
 * below, the products of the seed network, a native call costs more than the product; the tests
 * set 1, so that the torch cases run through the kernels).
 */
final class Native {
  /** The kernels this processor runs, as {@code rnn_native.c}'s {@code isa()} says. */
  enum Isa {
    NONE,
    AVX2,
    AVX512
  }

  private static final String RESOURCE = "/dev/rnn/core/native/linux-x86_64/librnn_native.so";
  private static final Isa ISA;
  private static final String DESCRIPTION;
  private static final int THREADS = readThreads();
  private static final long MIN_WORK = Long.getLong("rnn.native.min", 4096);
  private static final long SHARE_MIN = Math.max(1, Long.getLong("rnn.native.share", 1L << 22));
  /** Per thread: the kernels are off for the calls inside {@link #without}. */
  private static final ThreadLocal<Boolean> OFF = ThreadLocal.withInitial(() -> false);

  static {
    Isa isa = Isa.NONE;
    String description;
    String switchValue = System.getProperty("rnn.native", "true");
    String os = System.getProperty("os.name", "") + " " + System.getProperty("os.arch", "");
    if (switchValue.equalsIgnoreCase("false")) {
      description = "off: -Drnn.native=false; recurrent products on BLAS";
    } else if (!os.toLowerCase(Locale.ROOT).matches("linux (amd64|x86_64)")) {
      description = "not available on " + os + " (built for linux x86_64); recurrent products"
          + " on BLAS";
    } else {
      String loaded = load();
      if (loaded != null) {
        description = loaded + "; recurrent products on BLAS";
      } else {
        isa = Isa.values()[cpuIsa()];
        if (isa == Isa.AVX512 && "avx2".equalsIgnoreCase(System.getProperty("rnn.native.isa"))) {
          isa = Isa.AVX2;
        }
        description = switch (isa) {
          case AVX512 -> "AVX-512 packed recurrent product and fused LSTM step";
          case AVX2 -> "AVX2 packed recurrent product";
          case NONE -> "not used: the processor has neither AVX-512F nor AVX2 with FMA;"
              + " recurrent products on BLAS";
        };
        if (isa != Isa.NONE) {
          description += ", " + THREADS + (THREADS == 1 ? " thread" : " threads");
        }
      }
    }
    ISA = isa;
    DESCRIPTION = "rnn_native " + description;
  }

  private Native() {}

  /** Extracts and loads the library; null when loaded, else the one-line reason it is not. */
  private static String load() {
    try (InputStream in = Native.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        return "not built: " + RESOURCE + " is not on the class path (gcc was missing at build)";
      }
      Path file = Files.createTempFile("librnn_native", ".so");
      file.toFile().deleteOnExit();
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
      System.load(file.toAbsolutePath().toString());
      return null;
    } catch (IOException | UnsatisfiedLinkError | SecurityException e) {
      return ("not loaded: " + e.getClass().getSimpleName() + " " + e.getMessage())
          .replace('\n', ' ');
    }
  }

  private static int readThreads() {
    String p = System.getProperty("rnn.native.threads");
    String env = System.getenv("OPENBLAS_NUM_THREADS");
    String v = p != null ? p : env;
    try {
      int n = v == null ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(v.strip());
      return Math.max(1, Math.min(n, 2));
    } catch (NumberFormatException e) {
      return 1;
    }
  }

  /** {@return one line: which kernels run, or why none do} */
  static String describe() {
    return DESCRIPTION;
  }

  /** {@return the kernels in use for this thread's calls; {@link Isa#NONE} when off} */
  static Isa isa() {
    return OFF.get() ? Isa.NONE : ISA;
  }

  /** {@return whether the packed product runs for float32 products on this thread} */
  static boolean enabled() {
    return isa() != Isa.NONE;
  }

  /**
   * {@return the multiply-adds per row of a step's product ({@code G x P}) from which a scan
   * packs its weights for the kernels}
   */
  static long minWork() {
    return MIN_WORK;
  }

  /**
   * {@return the multiply-adds of a product ({@code M N K}) from which two threads share it}
   * Below, handing panels to the worker costs more than it gains.
   */
  static long shareMin() {
    return SHARE_MIN;
  }

  /** {@return the threads a large product is split over: 1 or 2} */
  static int threads() {
    return THREADS;
  }

  /**
   * Runs {@code body} with the kernels off on this thread, for tests that compare both paths
   * in one JVM.
   */
  static void without(Runnable body) {
    boolean was = OFF.get();
    OFF.set(true);
    try {
      body.run();
    } finally {
      OFF.set(was);
    }
  }

  // ---- the entry points of rnn_native.c ------------------------------------------------------

  /** {@return the kernels this processor runs: 0 none, 1 AVX2+FMA, 2 AVX-512F} */
  private static native int cpuIsa();

  /**
   * Packs {@code op(W) [K, N]} into panels of 64 columns ({@code [ceil(N/64)][K][64]}, zero
   * padded); {@code gates = 4}: each panel holds 16 units of each of the four gates ({@code N =
   * 4 units}).
   */
  static native void pack(float[] w, int wOff, int ldw, boolean trans, int n, int k, int gates,
      float[] packed);

  /**
   * {@code C[M, N] = init + A[M, K] op(W)} for the panels {@code [p0, p1)}; {@code mode} 0: init
   * 0; 1: init {@code C}; 2: init {@code S} (row stride {@code lds}, 0 for one row repeated).
   */
  static native void gemm(int isa, int m, int n, int k, float[] a, int aOff, int lda,
      float[] packed, int p0, int p1, int mode, float[] s, int sOff, int lds, float[] c, int cOff,
      int ldc);

  /**
   * {@link LstmCell}'s forward alone, {@code z} already summed (a step without packed weights,
   * as streaming's); AVX-512 only.
   */
  static native void lstmCell(int m, int hidden, float[] z, int zOff, float[] c, int cOff,
      float[] h2, int h2Off, float[] c2, int c2Off, float[] saved, int savedOff);

  /**
   * {@link LstmCell}'s backward for {@code m} rows; AVX-512 only. The saved gates of the rows
   * are at {@code savedOff} ({@code [m, 4H]}), their {@code tanh(c')} at {@code tcOff} ({@code
   * [m, H]}): for a whole step {@code savedOff + m 4H}, for a block of its rows their part of the
   * step's tanh block.
   */
  static native void lstmCellBackward(int m, int hidden, float[] saved, int savedOff, int tcOff,
      float[] c, int cOff, float[] dh2, int dh2Off, float[] dc2, int dc2Off, float[] dz, int dzOff,
      float[] dc, int dcOff);

  /**
   * The index of the first element of {@code a} at a 64-byte boundary (0 to 15), as the array
   * lies now: a block that starts there can be written with streaming stores (the fused LSTM
   * step's saved block). A large array (G1's humongous objects) stays where it is; a small one
   * may move at a collection, after which the kernel finds it unaligned and stores as usual.
   */
  static native int alignment(float[] a);

  /**
   * One LSTM step for the units of panels {@code [p0, p1)} ({@code 16} each): {@code z = Z +
   * A W_hh^T}, then {@link LstmCell}'s forward, writing {@code h'}, {@code c'} and the saved
   * block (none if {@code saved} is null: an unrecorded step); AVX-512 only. A saved block at a
   * 64-byte boundary, with {@code H} a multiple of 16, is written with streaming stores (see
   * {@link #alignment}).
   */
  static native void lstm(int m, int hidden, int k, float[] a, int aOff, int lda, float[] packed,
      int p0, int p1, float[] z, int zOff, float[] c, int cOff, float[] h2, int h2Off, float[] c2,
      int c2Off, float[] saved, int savedOff);

  /**
   * Packs {@code [W_ih | W_hh]^T} by gates ({@code W_ih [4H, I]}, {@code W_hh [4H, K]}): each
   * panel holds 16 units of each gate over the depths {@code I + K}, {@code W_ih}'s first.
   */
  static native void packGates2(float[] wih, int in, float[] whh, int k, int n, float[] packed);

  /**
   * One LSTM step that projects its input itself, for the units of panels {@code [p0, p1)}:
   * {@code z = b + x_t W_ih^T + A W_hh^T} ({@code x_t [M, I]}, {@code A [M, K]}, both rows
   * contiguous; the weights packed by {@link #packGates2}, the bias {@code [4H]} in the same
   * array at {@code bOff}), then {@link LstmCell}'s forward (nothing saved if {@code saved} is
   * null; a saved block at a 64-byte boundary with {@code H} a multiple of 16 written with
   * streaming stores, as in {@link #lstm}); AVX-512 only.
   */
  static native void lstmx(int m, int hidden, int in, float[] x, int xOff, int k, float[] a,
      int aOff, float[] packed, int p0, int p1, int bOff, float[] c, int cOff, float[] h2,
      int h2Off, float[] c2, int c2Off, float[] saved, int savedOff);

  /**
   * {@link #pack} of {@code B [K, N]} not transposed, {@code gates = 1} ({@code B} row-major, row
   * stride {@code ldb}): a panel's row copied at once; AVX-512 only.
   */
  static native void packRows(float[] b, int bOff, int ldb, int n, int k, float[] packed);

  /**
   * {@code out[off + c] += sum_r m[mOff + r cols + c]} for {@code c < cols}, the rows in order
   * (the float additions of {@code Float32Storage.addColumnSums}, so the same bits); AVX-512
   * only.
   */
  static native void addColumnSums(float[] m, int mOff, int rows, int cols, float[] out, int off);

  /**
   * {@link GruCell}'s forward for {@code m} rows ({@code xp}, {@code hp} {@code [m, 3H]}, {@code
   * h}, {@code h'} {@code [m, H]}, the saved block as the cell lays it out), operation by
   * operation as {@code GruCell.forward32}, so the same bits; AVX-512 only.
   */
  static native void gruCell(int m, int hidden, float[] xp, int xpOff, float[] hp, int hpOff,
      float[] h, int hOff, float[] h2, int h2Off, float[] saved, int savedOff);

  /**
   * {@link GruCell}'s backward for {@code m} rows: the gradients of {@code xp} and {@code hp}
   * {@code [m, 3H]} and the direct part of {@code dh = dh' z}, with the bits of {@code
   * GruCell.backward32}; AVX-512 only.
   */
  static native void gruCellBackward(int m, int hidden, float[] saved, int savedOff, float[] h,
      int hOff, float[] dh2, int dh2Off, float[] dxp, int dxpOff, float[] dhp, int dhpOff,
      float[] dh, int dhOff);
}
