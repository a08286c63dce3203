package dev.rnn.core;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A weight packed once for the native kernels ({@link Native}), then multiplied at every time step
 * without packing it again: {@code C[M, N] = init + A[M, K] op(W)} for any {@code M}.
 *
 * <pre>
 *   op(W) = W^T  (trans, W [N, K]: the forward products h W_hh^T and m W_hr^T)
 *         = W    (W [K, N]: the backward products dHP W_hh and dh W_hr)
 *   packed [ceil(N/64)][K][64]: panels of 64 columns, zero-padded; for the fused LSTM step
 *   (gates = 4) a panel holds 16 units of each gate i, f, g, o
 * </pre>
 *
 * <p>BLAS gemm packs its operand again at every call, which for a recurrent product (the same
 * weight at each of T steps, few rows) is most of the work when the rows are few. Float32 only;
 * the packed copy is allocated per call (not pooled: it would outlive the call, as large as the
 * weight; allocating it costs about what packing does, well below one step). With two
 * threads ({@link Native#threads()}) a large product is shared by panels between this thread
 * and one worker thread, this one taking panels from the front and the worker from the back;
 * small ones stay on this thread.
 */
final class PackedWeight {
  /** Columns per panel, as {@code NR} in {@code rnn_native.c}. */
  static final int PANEL = 64;

  /**
   * Products of fewer multiply-adds ({@code M N K}) than this run on one thread ({@link
   * Native#shareMin()}).
   */
  static final long PARALLEL_MIN = Native.shareMin();

  /** How a product starts: from zero, from {@code C}, or from a source {@code S}. */
  enum Init {
    /** {@code C = A op(W)}. */
    ZERO,
    /** {@code C += A op(W)}. */
    ACCUMULATE,
    /** {@code C = S + A op(W)}, {@code S} row-strided (stride 0: one row for all, a bias). */
    SOURCE
  }

  private final Storage packed;
  private final int n;
  private final int k;
  private final int panels;
  private final boolean gates;
  /** {@code I} of {@link #ofGates(Storage, int, Storage, int, int, Storage)}, else 0. */
  private final int inputs;

  private PackedWeight(Storage packed, int n, int k, int panels, boolean gates, int inputs) {
    this.packed = packed;
    this.n = n;
    this.k = k;
    this.panels = panels;
    this.gates = gates;
    this.inputs = inputs;
  }

  /**
   * Packs {@code op(W) [K, N]} of the float32 weight {@code w} (row-major, from offset 0).
   *
   * @param w the weight, {@code [N, K]} if {@code trans} else {@code [K, N]}
   * @param trans whether {@code op(W) = W^T}
   * @param n {@code N}, the columns of the products
   * @param k {@code K}, their depth
   * @return the packed weight
   */
  static PackedWeight of(Storage w, boolean trans, int n, int k) {
    checkArgument(w.length() == n * k, "pack expected a weight of %s x %s elements but got %s",
        n, k, w.length());
    int panels = (n + PANEL - 1) / PANEL;
    Storage packed = Storage.allocate(DType.FLOAT32, panels * PANEL * k);
    if (!trans && Native.isa() == Native.Isa.AVX512) {
      Native.packRows(LstmCell.f32(w), 0, n, n, k, LstmCell.f32(packed));     // the same layout
    } else {
      Native.pack(LstmCell.f32(w), 0, trans ? k : n, trans, n, k, 1, LstmCell.f32(packed));
    }
    return new PackedWeight(packed, n, k, panels, false, 0);
  }

  /**
   * Packs {@code W_hh^T} of an LSTM ({@code W_hh [4H, K]}) for {@link #lstmStep}: each panel
   * holds 16 units of each of the four gates.
   *
   * @param w {@code W_hh}, {@code [4H, K]}
   * @param hidden {@code H}
   * @param k {@code K}, the size of {@code h} ({@code P} under a projection)
   * @return the packed weight
   */
  static PackedWeight ofGates(Storage w, int hidden, int k) {
    checkArgument(w.length() == 4 * hidden * k,
        "pack expected gate weights of 4 x %s x %s elements but got %s", hidden, k, w.length());
    int panels = (hidden + 15) / 16;
    Storage packed = Storage.allocate(DType.FLOAT32, panels * PANEL * k);
    Native.pack(LstmCell.f32(w), 0, k, true, 4 * hidden, k, 4, LstmCell.f32(packed));
    return new PackedWeight(packed, 4 * hidden, k, panels, true, 0);
  }

  /**
   * Packs {@code [W_ih | W_hh]^T} of an LSTM by gates, and its bias after the panels, for {@link
   * #lstmStep} on a step that projects its input itself: {@code z = b + x_t W_ih^T + h W_hh^T}
   * tile by tile, without the buffer {@code XP} of every step.
   *
   * @param wih {@code W_ih}, {@code [4H, I]}
   * @param in {@code I}
   * @param whh {@code W_hh}, {@code [4H, K]}
   * @param hidden {@code H}
   * @param k {@code K}, the size of {@code h} ({@code P} under a projection)
   * @param bias {@code b_ih + b_hh} (or the one there is), {@code [4H]}, or null for none
   * @return the packed weight
   */
  static PackedWeight ofGates(Storage wih, int in, Storage whh, int hidden, int k, Storage bias) {
    checkArgument(wih.length() == 4 * hidden * in && whh.length() == 4 * hidden * k,
        "pack expected gate weights of 4 x %s x %s and 4 x %s x %s elements but got %s and %s",
        hidden, in, hidden, k, wih.length(), whh.length());
    int panels = (hidden + 15) / 16;
    int size = panels * PANEL * (in + k);
    Storage packed = Storage.allocate(DType.FLOAT32, size + 4 * hidden);
    Native.packGates2(LstmCell.f32(wih), in, LstmCell.f32(whh), k, 4 * hidden,
        LstmCell.f32(packed));
    if (bias != null) {
      packed.copyFrom(bias, 0, size, 4 * hidden);
    }
    return new PackedWeight(packed, 4 * hidden, k, panels, true, in);
  }

  /** {@return the packed panels (and, after them, the bias of a weight that has one)} */
  Storage packed() {
    return packed;
  }

  /** {@return {@code I} when this weight projects the step's input itself, else 0} */
  int inputs() {
    return inputs;
  }

  /** {@return whether this is {@code W_hh^T} packed by gates, for {@link #lstmStep}} */
  boolean byGates() {
    return gates;
  }

  /**
   * {@code C[M, N] = init + A[M, K] op(W)}, rows {@code M} from 1 to any number.
   *
   * @param m {@code M}
   * @param a {@code A}, row stride {@code lda}
   * @param aOff the offset of {@code A}
   * @param lda the row stride of {@code A}
   * @param init how {@code C} starts
   * @param s {@code S} for {@link Init#SOURCE}, else ignored
   * @param sOff the offset of {@code S}
   * @param lds the row stride of {@code S}, 0 for one row repeated
   * @param c {@code C}
   * @param cOff the offset of {@code C}
   * @param ldc the row stride of {@code C}
   */
  void multiply(int m, Storage a, int aOff, int lda, Init init, Storage s, int sOff, int lds,
      Storage c, int cOff, int ldc) {
    checkArgument(!gates, "multiply expected a weight packed by of(...), not by ofGates");
    if (m == 0) {
      return;
    }
    int isa = Native.isa().ordinal();
    float[] af = LstmCell.f32(a);
    float[] pf = LstmCell.f32(packed);
    float[] sf = init == Init.SOURCE ? LstmCell.f32(s) : null;
    float[] cf = LstmCell.f32(c);
    int mode = init.ordinal();
    split((long) m * n * k, (p0, p1) -> Native.gemm(isa, m, n, k, af, aOff, lda, pf, p0, p1, mode,
        sf, sOff, lds, cf, cOff, ldc));
  }

  /**
   * {@code C[M, N] = A[M, K] op(W)} ({@code init} {@link Init#ZERO} or {@link Init#ACCUMULATE}),
   * every panel on this thread: a block of rows of a product whose blocks {@link #shareRows}
   * shares out.
   *
   * @param m {@code M}
   * @param a {@code A}, row stride {@code lda}
   * @param aOff the offset of {@code A}
   * @param lda the row stride of {@code A}
   * @param init how {@code C} starts, not {@link Init#SOURCE}
   * @param c {@code C}
   * @param cOff the offset of {@code C}
   * @param ldc the row stride of {@code C}
   */
  void multiplyHere(int m, Storage a, int aOff, int lda, Init init, Storage c, int cOff,
      int ldc) {
    checkArgument(!gates && init != Init.SOURCE,
        "multiplyHere expected a weight packed by of(...) and no source");
    if (m > 0) {
      Native.gemm(Native.isa().ordinal(), m, n, k, LstmCell.f32(a), aOff, lda,
          LstmCell.f32(packed), 0, panels, init.ordinal(), null, 0, 0, LstmCell.f32(c), cOff, ldc);
    }
  }

  /**
   * {@code C[M, N] = init + A[M, K] op(W)} for many rows (a whole sequence), by blocks of {@link
   * #CHUNK} rows that the worker thread shares when the product is large, each block through every
   * panel while its rows of {@code A} are in cache. The same sums in the same order as {@link
   * #multiply}, so the same bits, whatever the split.
   *
   * @param m {@code M}
   * @param a {@code A}, row stride {@code lda}
   * @param aOff the offset of {@code A}
   * @param lda the row stride of {@code A}
   * @param init how {@code C} starts, not {@link Init#SOURCE}
   * @param c {@code C}
   * @param cOff the offset of {@code C}
   * @param ldc the row stride of {@code C}
   */
  void multiplyRows(int m, Storage a, int aOff, int lda, Init init, Storage c, int cOff, int ldc) {
    checkArgument(!gates && init != Init.SOURCE,
        "multiplyRows expected a weight packed by of(...) and no source");
    shareRows((long) m * n * k, m, CHUNK, (r0, r1) -> {
      for (int r = r0; r < r1; r += CHUNK) {
        multiplyHere(Math.min(CHUNK, r1 - r), a, aOff + r * lda, lda, init, c, cOff + r * ldc, ldc);
      }
    });
  }

  /**
   * The rows of a block of {@link #multiplyRows}: ten tiles of the kernel's six rows, whose
   * {@code A} (with a depth of {@code 4H = 2048}, 480 KB) stays in the core's cache through every
   * panel (96 rows ran 8% slower, 60 at 250 GFLOP/s on 3200 x 512 x 2048).
   */
  static final int CHUNK = 60;

  /**
   * One LSTM step with this weight ({@link #ofGates}): {@code z = Z + h W_hh^T}, then {@link
   * LstmCell}'s forward on the tile of {@code z} while it is in registers. Reads {@code Z} ({@code
   * XP[t]} with {@code b_hh} folded in) from the step's {@code xp}, {@code h_{t-1}} and {@code
   * c_{t-1}} from its previous states; writes {@code h_t}, {@code c_t} and the saved block as
   * {@link LstmCell#forward} does. A weight that projects the input itself ({@link #inputs()}
   * positive) reads {@code x_t} from the step's {@code x} instead of {@code XP[t]}: {@code z = b +
   * x_t W_ih^T + h W_hh^T}.
   *
   * @param st the step, aimed at time {@code t}
   */
  void lstmStep(Step st) {
    checkArgument(gates, "lstmStep expected a weight packed by ofGates(...)");
    int m = st.batch;
    if (m == 0) {
      return;
    }
    int hidden = n / 4;
    float[] af = LstmCell.f32(st.prev[0]);
    int aOff = st.prevOff[0];
    float[] pf = LstmCell.f32(packed);
    float[] c = LstmCell.f32(st.prev[1]);
    float[] h2 = LstmCell.f32(st.next[0]);
    float[] c2 = LstmCell.f32(st.next[1]);
    float[] sv = st.saved == null ? null : LstmCell.f32(st.saved);     // null: nothing saved
    int cOff = st.prevOff[1];
    int h2Off = st.nextOff[0];
    int c2Off = st.nextOff[1];
    int svOff = st.savedOff;
    if (inputs > 0) {
      float[] xf = LstmCell.f32(st.x);
      int xOff = st.xOff;
      int bOff = panels * PANEL * (inputs + k);
      split((long) m * n * (inputs + k), (p0, p1) -> Native.lstmx(m, hidden, inputs, xf, xOff, k,
          af, aOff, pf, p0, p1, bOff, c, cOff, h2, h2Off, c2, c2Off, sv, svOff));
      return;
    }
    float[] z = LstmCell.f32(st.xp);
    int zOff = st.xpOff;
    split((long) m * n * k, (p0, p1) -> Native.lstm(m, hidden, k, af, aOff, k, pf, p0, p1, z, zOff,
        c, cOff, h2, h2Off, c2, c2Off, sv, svOff));
  }

  // ---- two threads: this one takes panels from the front, a worker from the back -------------

  /** A range of panels (or of blocks of rows). */
  interface Panels {
    void run(int p0, int p1);
  }

  /** A block of rows {@code [r0, r1)}. */
  interface Rows {
    void run(int r0, int r1);
  }

  private void split(long work, Panels body) {
    share(work, panels, body);
  }

  /**
   * Runs {@code body} over the blocks of {@code block} rows of {@code [0, rows)}, shared between
   * this thread and the worker as the panels of a product are when {@code work} (multiply-adds)
   * is large: for a step whose rows are independent of each other, as an LSTM step's backward
   * (its pointwise part and {@code dh = dZ W_hh}). Small work runs as one block on this thread.
   *
   * @param work the multiply-adds of the whole, against {@link #PARALLEL_MIN}
   * @param rows the rows
   * @param block the rows of a block, the unit shared
   * @param body the work of rows {@code [r0, r1)}
   */
  static void shareRows(long work, int rows, int block, Rows body) {
    share(work, (rows + block - 1) / block,
        (b0, b1) -> body.run(b0 * block, Math.min(rows, b1 * block)));
  }

  /** Per thread: products inside {@link #alone} are not shared. */
  private static final ThreadLocal<Boolean> ALONE = ThreadLocal.withInitial(() -> false);

  /**
   * Runs {@code body} over {@code [0, items)}: on this thread alone, or with the worker when
   * {@code work} is at least {@link #PARALLEL_MIN}, there are two threads ({@link
   * Native#threads()}), the worker is free and this thread is not inside {@link #alone}.
   *
   * @param work the multiply-adds of the whole
   * @param items the panels (or blocks of rows), each run whole by one thread
   * @param body the work of items {@code [p0, p1)}
   */
  static void share(long work, int items, Panels body) {
    if (Native.threads() < 2 || work < PARALLEL_MIN || items < 2 || ALONE.get()
        || !Worker.INSTANCE.claim()) {
      body.run(0, items);
      return;
    }
    Worker.INSTANCE.run(new Job(body, items));
  }

  /**
   * Runs {@code body} with every product on this thread, none shared with the worker: for tests
   * that compare one and two threads in one JVM.
   */
  static void alone(Runnable body) {
    boolean was = ALONE.get();
    ALONE.set(true);
    try {
      body.run();
    } finally {
      ALONE.set(was);
    }
  }

  /**
   * One product shared by two threads: this thread takes panels from the front, the worker from
   * the back, one at a time, until they meet; so that each core computes about the same half of
   * the panels at every step (its half of the weight stays in its cache) and, when the worker is
   * late (the other core busy), this thread computes the panels it would have. Each panel is
   * computed whole by one thread, so the result does not depend on the split.
   */
  private static final class Job {
    private static final AtomicLong IDS = new AtomicLong();
    final long id = IDS.incrementAndGet();
    final Panels body;
    final int panels;
    /** The panels left, {@code [lo, hi)}: {@code hi << 32 | lo}. */
    final AtomicLong left;
    final AtomicInteger done = new AtomicInteger();
    volatile Throwable failure;

    Job(Panels body, int panels) {
      this.body = body;
      this.panels = panels;
      this.left = new AtomicLong((long) panels << 32);
    }

    /** Takes the first panel left ({@code front}) or the last; -1 when none is left. */
    int take(boolean front) {
      for (;;) {
        long r = left.get();
        int lo = (int) r;
        int hi = (int) (r >>> 32);
        if (lo >= hi) {
          return -1;
        }
        long next = front ? r + 1 : r - (1L << 32);
        if (left.compareAndSet(r, next)) {
          return front ? lo : hi - 1;
        }
      }
    }

    void work(boolean front) {
      for (int p; (p = take(front)) >= 0; ) {
        try {
          body.run(p, p + 1);
        } catch (Throwable t) {
          failure = t;
        } finally {
          done.incrementAndGet();
        }
      }
    }
  }

  /**
   * The second thread: a daemon that joins one job at a time, spins briefly after each (the next
   * step's product follows within microseconds) and then parks. A caller that finds it busy
   * (another thread's product) computes the whole product itself.
   */
  private static final class Worker implements Runnable {
    static final Worker INSTANCE = new Worker();
    /** How long the worker spins for the next job before it parks. */
    private static final long SPIN_NANOS = 50_000;
    private final AtomicBoolean busy = new AtomicBoolean();
    private final Thread thread;
    private volatile Job job;

    private Worker() {
      thread = new Thread(this, "rnn-native-worker");
      thread.setDaemon(true);
      thread.start();
    }

    boolean claim() {
      return busy.compareAndSet(false, true);
    }

    /** Runs {@code j} on this thread and the worker; returns when every panel is done. */
    void run(Job j) {
      job = j;
      LockSupport.unpark(thread);
      j.work(true);
      // The worker's last panel: spin, then yield (if it was preempted, this core may be its).
      for (int i = 0; j.done.get() < j.panels; i++) {
        if (i < 1 << 12) {
          Thread.onSpinWait();
        } else {
          Thread.yield();
        }
      }
      job = null;
      busy.set(false);
      Throwable t = j.failure;
      if (t != null) {
        throw new IllegalStateException("native product failed on a panel: " + t, t);
      }
    }

    @Override public void run() {
      long idleSince = System.nanoTime();
      // The last job joined, by number: holding the job itself would keep its packed weight.
      long last = 0;
      for (int i = 0; ; i++) {
        Job j = job;
        boolean fresh = j != null && j.id != last;
        if (fresh) {
          last = j.id;
          j.work(false);
        }
        j = null;                                // nor while spinning or parked
        if (fresh) {
          idleSince = System.nanoTime();
          i = 0;
        } else if ((i & 255) != 0 || System.nanoTime() - idleSince < SPIN_NANOS) {
          Thread.onSpinWait();
        } else {
          LockSupport.park(this);
        }
      }
    }
  }
}
