package dev.rnn.core;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static com.google.common.base.Preconditions.checkState;

import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One direction of one recurrent layer: a cell, its weights, and the scan of the cell over a
 * sequence; its backward is the same loop run in reverse.
 *
 * <p>For a time-major input {@code X [T, N, H_in]}, seen as {@code [T*N, H_in]}, {@link #forward}
 * is this loop ({@code t = p}, or {@code T-1-p} for the reverse direction):
 *
 * <pre>
 *   XP = X W_ih^T + b_ih                                one gemm for all steps, [T*N, G]
 *   for p in 0..T-1:
 *     hp = h_{t-1} W_hh^T + b_hh                        one gemm per step, [N, G]
 *     (h_t, c_t) = cell.forward(XP[t], hp, (h_{t-1}, c_{t-1}))
 * </pre>
 *
 * and the {@link Backward} of its {@link Run} is the same loop in reverse, accumulating into the
 * shared weights:
 *
 * <pre>
 *   begin:  dh, dc = dL/dh_T, dL/dc_T                   the final-state gradients
 *   for p in T-1..0:                                    step(p), one call each
 *     dh += dOut[t]
 *     (dXP[t], dHP[t], dh, dc) = cell.backward(dh, dc);  dh += dHP[t] W_hh
 *   finish: dW_ih += dXP^T X;  dW_hh += dHP^T H_prev;  dX += dXP W_ih     one gemm each
 *           db_ih += colsum(dXP);  db_hh += colsum(dHP);  dL/dh_0, dL/dc_0 = dh, dc
 * </pre>
 *
 * ({@code H_prev [T*N, H]} is the state each step started from.) Truncated BPTT is a window on
 * this loop: a run over the steps of one chunk, from the state carried from the chunk before.
 *
 * <p>Fast path: for a cell that declares {@link Cell.Projections#SUMMED} (it reads {@code xp} and
 * {@code hp} only through their sum, as Elman and LSTM cells do), {@code b_hh} is folded into
 * {@code XP} once for all steps, the step's gemm accumulates {@code h W_hh^T} onto a copy of
 * {@code XP[t]} so that the cell receives {@code z = xp + hp} in {@link Step#hp()} ({@link
 * Step#summed()} says so), and {@code dXP} and {@code dHP} are one buffer. The results are those
 * of the plain loop up to the rounding of one sum. The buffers of a run come from a pool and go
 * back to it when the run is done.
 *
 * <p>Shapes (T steps, N batch, H hidden, H_in input, G = {@link Cell#gateSize()}): input {@code
 * [T, N, H_in]}, output {@code [T, N, H]}, each initial and final state {@code [N, H]}; all
 * time-major, flat, row-major.
 *
 * <p>Parameters: {@code weight_ih [G, H_in]},
 * {@code weight_hh [G, H]}, optional {@code bias_ih [G]} and {@code bias_hh [G]}, then the cell's
 * {@linkplain Cell#extraParameters() extra parameters}; each name ends with the suffix given,
 * e.g. {@code _l0_reverse} ({@link #suffix}). Immutable apart from the parameters' values; one
 * scan serves many threads at once, since every call works in its own {@link Run}.
 */
public final class Scan {
  private final Cell cell;
  private final boolean reverse;
  private final boolean summed;
  private final Parameter weightIh;
  private final Parameter weightHh;
  private final Parameter biasIh;
  private final Parameter biasHh;
  private final ImmutableList<Parameter> extras;
  private final ImmutableList<Parameter> parameters;

  /** Which way a scan runs through time. */
  public enum Direction {
    /** From the first step to the last. */
    FORWARD,
    /** From the last step to the first: the second direction of a bidirectional layer. */
    REVERSE;

    /**
     * The direction of a bidirectional layer's direction {@code d}.
     *
     * @param reverse whether it is the reverse direction
     * @return {@link #REVERSE} if {@code reverse}, else {@link #FORWARD}
     */
    public static Direction of(boolean reverse) {
      return reverse ? REVERSE : FORWARD;
    }
  }

  /** Which of torch's two biases a scan has. */
  public enum Biases {
    /** {@code bias_ih} and {@code bias_hh}, as torch's modules. */
    BOTH,
    /** {@code bias_ih} only: one bias {@code b}, as the DSL's linear {@code recurrent(in, out)}. */
    INPUT_ONLY,
    /** None: torch's {@code bias=False}. */
    NONE
  }

  /**
   * A scan with zero parameters; {@link #initialize(Random)} gives torch's initialisation.
   *
   * @param cell the cell scanned
   * @param direction which way it runs through time
   * @param suffix appended to each parameter name, e.g. {@code _l0} or {@code _l1_reverse}
   * @param dtype the dtype of the parameters
   * @param biases which of {@code bias_ih}, {@code bias_hh} exist
   */
  public Scan(Cell cell, Direction direction, String suffix, DType dtype, Biases biases) {
    boolean reverse = checkNotNull(direction, "direction") == Direction.REVERSE;
    boolean biasIh = checkNotNull(biases, "biases") != Biases.NONE;
    boolean biasHh = biases == Biases.BOTH;
    this.cell = cell;
    this.reverse = reverse;
    this.summed = checkNotNull(cell.projections(), "%s.projections()", cell.describe())
        == Cell.Projections.SUMMED;
    int g = cell.gateSize();
    List<Parameter> all = new ArrayList<>();
    this.weightIh = new Parameter("weight_ih" + suffix, Shape.of(g, cell.inputSize()), dtype);
    this.weightHh = new Parameter("weight_hh" + suffix, Shape.of(g, cell.hiddenSize()), dtype);
    all.add(weightIh);
    all.add(weightHh);
    this.biasIh = biasIh ? new Parameter("bias_ih" + suffix, Shape.of(g), dtype) : null;
    this.biasHh = biasHh ? new Parameter("bias_hh" + suffix, Shape.of(g), dtype) : null;
    if (biasIh) {
      all.add(this.biasIh);
    }
    if (biasHh) {
      all.add(this.biasHh);
    }
    ImmutableList.Builder<Parameter> ex = ImmutableList.builder();
    for (ParameterSpec spec : cell.extraParameters()) {
      Parameter p = new Parameter(spec.name() + suffix, spec.shape(), dtype);
      ex.add(p);
      all.add(p);
    }
    this.extras = ex.build();
    this.parameters = ImmutableList.copyOf(all);
  }

  /**
   * Torch's parameter-name suffix of one direction of layer {@code layer}: {@code _l0}, {@code
   * _l1_reverse}, as in {@code weight_ih_l1_reverse}.
   *
   * @param layer the layer, from 0
   * @param reverse whether it is the reverse direction
   * @return {@code _l<layer>}, with {@code _reverse} appended for the reverse direction
   * @throws IllegalArgumentException if {@code layer} is negative
   */
  public static String suffix(int layer, boolean reverse) {
    checkArgument(layer >= 0, "suffix expected layer >= 0 but got %s", layer);
    return "_l" + layer + (reverse ? "_reverse" : "");
  }

  /**
   * Torch's initialisation: every weight and bias uniform in {@code [-1/sqrt(H), 1/sqrt(H)]};
   * extra parameters as their spec says.
   *
   * @param rnd the source of the samples, drawn in parameter order
   */
  public void initialize(Random rnd) {
    double bound = 1 / Math.sqrt(cell.hiddenSize());
    List<ParameterSpec> specs = cell.extraParameters();
    for (Parameter p : parameters) {
      int e = extras.indexOf(p);
      ParameterSpec.Init init = e < 0 ? ParameterSpec.Init.UNIFORM_HIDDEN : specs.get(e).init();
      switch (init) {
        case UNIFORM_HIDDEN -> p.fillUniform(rnd, bound);
        case ONES -> p.data().fill(0, p.size(), 1);
        case ZEROS -> p.data().fill(0, p.size(), 0);
        default -> throw new AssertionError(init);
      }
    }
  }

  /** {@return the cell} */
  public Cell cell() {
    return cell;
  }

  /** {@return whether this direction runs from the last step to the first} */
  public boolean reverse() {
    return reverse;
  }

  /**
   * {@return the parameters in torch's order: weight_ih, weight_hh, bias_ih, bias_hh, then extras}
   */
  public ImmutableList<Parameter> parameters() {
    return parameters;
  }

  /** {@return the dtype of the parameters, and so of every input and output} */
  public DType dtype() {
    return weightIh.dtype();
  }

  /**
   * Runs the scan over {@code x} from the initial states {@code init}, as the first steps of the
   * sequence.
   *
   * @param x the input, time-major {@code [T, N, H_in]}, flat
   * @param seq {@code T}, at least 1
   * @param batch {@code N}, at least 1
   * @param init the initial states ({@code [N, H]} each), one per {@link Cell#stateCount()};
   *     null, or missing or null entries, for zeros
   * @param record whether to keep what {@link Run#backward} needs; without it the run holds only
   *     the states
   * @return the run: the states of every step and, with {@code record}, what backward reads
   * @throws IllegalArgumentException if a size, a storage length or the dtype does not fit
   */
  public Run forward(Storage x, int seq, int batch, Storage[] init, boolean record) {
    return forward(x, seq, batch, init, record, 0);
  }

  /**
   * As {@link #forward(Storage, int, int, Storage[], boolean)}, for a sequence whose first step is
   * step {@code firstStep} of a longer one (a window of truncated BPTT): {@link Step#time()}
   * counts from there.
   *
   * @param x the input, time-major {@code [T, N, H_in]}, flat
   * @param seq {@code T}, at least 1
   * @param batch {@code N}, at least 1
   * @param init the initial states ({@code [N, H]} each); null, or missing or null entries, for
   *     zeros
   * @param record whether to keep what {@link Run#backward} needs
   * @param firstStep the index of {@code x}'s first step in the longer sequence
   * @return the run: the states of every step and, with {@code record}, what backward reads
   * @throws IllegalArgumentException if a size, a storage length or the dtype does not fit
   */
  public Run forward(Storage x, int seq, int batch, Storage[] init, boolean record,
      int firstStep) {
    checkArgument(seq >= 1 && batch >= 1, "%s expected seq >= 1 and batch >= 1 but got %s and %s",
        cell.describe(), seq, batch);
    long widest = Math.max(Math.max(cell.gateSize(), cell.savedSize()),
        Math.max(cell.inputSize(), cell.hiddenSize()));
    checkArgument((seq + 1L) * batch * widest <= Shape.MAX_ELEMENTS,
        "%s over %s steps of %s sequences needs buffers of %s x %s x %s numbers, more than the %s"
            + " an array holds; split the sequences (truncated BPTT) or the batch",
        cell.describe(), seq, batch, seq + 1L, batch, widest, Shape.MAX_ELEMENTS);
    checkArgument(x.length() == seq * batch * cell.inputSize(),
        "%s expected input of %s x %s x %s elements but got %s", cell.describe(), seq, batch,
        cell.inputSize(), x.length());
    checkArgument(x.dtype() == dtype(), "%s expected input of dtype %s but got %s",
        cell.describe(), dtype(), x.dtype());
    Run run = new Run(x, seq, batch, init, record, firstStep);  // its buffers, h_0 in place
    project(x, 0, seq * batch, run.step);                       // XP = X W_ih^T + b_ih
    for (int p = 0; p < seq; p++) {
      run.aim(p);                                               // at XP[t], h_{t-1}, h_t, saved
      step(run.step);                                           // hp = h W_hh^T + b_hh; the cell
    }
    run.endForward();                                           // XP back to the pool
    return run;
  }

  /**
   * {@code XP = X W_ih^T + b_ih} for {@code rows} rows of {@code x} from {@code xOff}, into {@code
   * s.xp} from 0: one gemm.
   */
  private void project(Storage x, int xOff, int rows, Step s) {
    int g = cell.gateSize();
    int in = cell.inputSize();
    Storage bias = projectionBias(s);
    if (bias != null) {
      s.xp.setRows(0, rows, g, bias, 0);
    }
    s.xp.gemm(false, true, rows, g, in, 1, x, xOff, in, weightIh.data(), 0, in,
        bias == null ? 0 : 1, 0, g);
  }

  /**
   * One time step, the same for the loop and for streaming: {@code hp = h_{t-1} W_hh^T + b_hh},
   * then the cell. {@code s} is aimed at {@code XP[t]}, the previous and next states and the
   * saved block of the step.
   */
  void step(Step s) {
    if (summed) {
      sumProjections(s);
    } else {
      projectHidden(s);
    }
    cell.forward(s);
  }

  /** {@code hp = h_{t-1} W_hh^T + b_hh}: one gemm. */
  private void projectHidden(Step s) {
    int g = cell.gateSize();
    int hidden = cell.hiddenSize();
    if (biasHh != null) {
      s.hp.setRows(s.hpOff, s.batch, g, biasHh.data(), 0);
    }
    s.hp.gemm(false, true, s.batch, g, hidden, 1, s.prev[0], s.prevOff[0], hidden,
        weightHh.data(), 0, hidden, biasHh == null ? 0 : 1, s.hpOff, g);
  }

  /**
   * One time step for streaming: {@code xp = x_t W_ih^T + b_ih} ({@code x_t [N, H_in]} at {@code
   * xOff}), then {@link #step}. {@code s} comes from {@link #streamStep} and is aimed at the
   * previous and next states.
   */
  void stream(Step s, Storage x, int xOff) {
    project(x, xOff, s.batch, s);
    s.xpOff = 0;
    s.time = 0;
    step(s);
  }

  // ---- the fast path of summed projections -------------------------------------------------

  /**
   * The bias of {@code XP}: {@code b_ih}; for summed projections {@code b_hh} is folded in once
   * for all steps ({@code b_ih + b_hh} in {@code s}'s scratch, or the one that exists). Null
   * without biases.
   */
  private Storage projectionBias(Step s) {
    if (!summed || biasHh == null) {
      return biasIh == null ? null : biasIh.data();
    }
    if (biasIh == null) {
      return biasHh.data();
    }
    Storage b = s.foldedBias;
    b.copyFrom(biasHh.data(), 0, 0, b.length());
    b.axpy(b.length(), 1, biasIh.data(), 0, 0);
    return b;
  }

  /**
   * {@code hp = XP[t] + h_{t-1} W_hh^T} in one gemm onto a copy of {@code XP[t]} ({@code b_hh} is
   * already in {@code XP}): the cell reads {@code z = xp + hp} from {@code hp} without a loop over
   * two buffers.
   */
  private void sumProjections(Step s) {
    int g = cell.gateSize();
    int hidden = cell.hiddenSize();
    s.hp.copyFrom(s.xp, s.xpOff, s.hpOff, s.batch * g);
    s.hp.gemm(false, true, s.batch, g, hidden, 1, s.prev[0], s.prevOff[0], hidden,
        weightHh.data(), 0, hidden, 1, s.hpOff, g);
  }

  // ---- steps: the buffers handed to the cell -----------------------------------------------

  /** A step wired to this scan's extra parameters, for {@code batch} rows, without buffers. */
  private Step newStep(int batch) {
    Step s = new Step(cell.stateCount(), dtype(), summed);
    s.batch = batch;
    s.params = new Storage[extras.size()];
    s.paramGrads = new Storage[extras.size()];
    for (int i = 0; i < extras.size(); i++) {
      s.params[i] = extras.get(i).data();
      s.paramGrads[i] = extras.get(i).grad();
    }
    if (summed && biasIh != null && biasHh != null) {
      s.foldedBias = Storage.allocate(dtype(), cell.gateSize());
    }
    return s;
  }

  /**
   * A step for {@link #stream} with its own buffers for one time step of {@code batch} rows; the
   * caller aims its previous and next states.
   */
  Step streamStep(int batch) {
    Step s = newStep(batch);
    int g = cell.gateSize();
    s.xp = Storage.allocate(dtype(), batch * g);
    s.hp = Storage.allocate(dtype(), batch * g);
    s.saved = Storage.allocate(dtype(), batch * cell.savedSize());
    return s;
  }

  /**
   * One run of the scan over one sequence: the states of every step and, when recorded, what
   * backward needs. Read the results with {@link #copyOutput} and {@link #copyFinalState}; then
   * either {@link #release} it or, if recorded, run its {@link #backward}, whose {@link
   * Backward#finish} releases it.
   *
   * <p>States are kept in time order, so that the outputs of all steps, and the states each step
   * started from, are contiguous {@code [T, N, H]} blocks: slot {@code t + 1} holds the state
   * after time {@code t} and slot 0 the initial state; in reverse, slot {@code t} holds the state
   * after time {@code t} and slot {@code T} the initial state.
   */
  public final class Run {
    private final Storage x;
    private final int seq;
    private final int batch;
    private final boolean record;
    private final int firstStep;
    private final Step step;
    private final Storage[] states;
    private boolean backwardBegun;
    private boolean released;

    private Run(Storage x, int seq, int batch, Storage[] init, boolean record, int firstStep) {
      this.x = x;
      this.seq = seq;
      this.batch = batch;
      this.record = record;
      this.firstStep = firstStep;
      DType dt = x.dtype();
      int g = cell.gateSize();
      int n = batch * cell.hiddenSize();
      // Every element of the borrowed buffers is written before it is read (the initial slot of
      // the states here), so they may come from the pool.
      this.step = newStep(batch);
      step.xp = Storage.borrow(dt, seq * batch * g);
      step.hp = Storage.borrow(dt, batch * g);
      step.saved = Storage.borrow(dt, (record ? seq : 1) * batch * cell.savedSize());
      this.states = new Storage[cell.stateCount()];
      int first = slotBefore(time(0)) * n;
      for (int k = 0; k < states.length; k++) {
        states[k] = Storage.borrow(dt, (seq + 1) * n);
        Storage s0 = entry(init, k);
        if (s0 != null) {
          checkArgument(s0.length() == n,
              "%s expected initial state %s of %s x %s elements but got %s", cell.describe(), k,
              batch, cell.hiddenSize(), s0.length());
          states[k].copyFrom(s0, 0, first, n);
        } else {
          states[k].fill(first, n, 0);
        }
      }
    }

    /**
     * Aims the step at processing step {@code p}, time {@code t = time(p)}: {@code XP[t]}, the
     * state before and after {@code t}, and the saved block of {@code p}.
     */
    private void aim(int p) {
      int t = time(p);
      int n = batch * cell.hiddenSize();
      step.time = firstStep + t;
      step.xpOff = t * batch * cell.gateSize();
      step.hpOff = 0;
      step.savedOff = record ? p * batch * cell.savedSize() : 0;
      for (int k = 0; k < states.length; k++) {
        step.prev[k] = states[k];
        step.prevOff[k] = slotBefore(t) * n;
        step.next[k] = states[k];
        step.nextOff[k] = slotAfter(t) * n;
      }
    }

    /**
     * Backward does not read the projections (see {@link Cell#backward}): they go back to the
     * pool for the next run, and so does {@code saved} of an unrecorded run.
     */
    private void endForward() {
      Storage.giveBack(step.xp);
      Storage.giveBack(step.hp);
      step.xp = null;
      step.hp = null;
      if (!record) {
        Storage.giveBack(step.saved);
        step.saved = null;
      }
    }

    /**
     * Gives this run's buffers back for reuse by later runs; afterwards the run cannot be read.
     * {@link Backward#finish} releases the run itself; call this after an unrecorded run once its
     * outputs and final states are copied. Calling it again does nothing.
     */
    public void release() {
      if (released) {
        return;
      }
      released = true;
      Storage.giveBack(step.saved);
      step.saved = null;
      for (Storage st : states) {
        Storage.giveBack(st);
      }
    }

    private void checkLive(String what) {
      checkState(!released, "%s: %s after the run was released (by release() or by"
          + " Backward.finish); run forward again", cell.describe(), what);
    }

    /** The slot of the state that time step {@code t} starts from. */
    private int slotBefore(int t) {
      return reverse ? t + 1 : t;
    }

    /** The slot of the state after time step {@code t}: its output. */
    private int slotAfter(int t) {
      return reverse ? t : t + 1;
    }

    /**
     * The time index of processing step {@code p}.
     *
     * @param p the processing step, {@code 0 <= p < T}
     * @return {@code p}, or {@code T-1-p} for a reverse direction
     */
    public int time(int p) {
      return reverse ? seq - 1 - p : p;
    }

    /**
     * {@code T}.
     *
     * @return {@code T}, the number of steps
     */
    public int seq() {
      return seq;
    }

    /**
     * {@code N}.
     *
     * @return {@code N}, the batch size
     */
    public int batch() {
      return batch;
    }

    /**
     * Copies the output {@code h_t} of every time step into {@code out} at {@code off + t*N*ld +
     * n*ld}: a {@code [T, N, ld]} block whose columns {@code [0, H)} are this direction's.
     *
     * @param out the storage written
     * @param off the offset of the block
     * @param ld the row width of the block, at least {@code H}
     * @throws IllegalStateException if the run was released
     */
    public void copyOutput(Storage out, int off, int ld) {
      checkLive("copyOutput");
      int hidden = cell.hiddenSize();
      int from = slotAfter(0) * batch * hidden;
      if (ld == hidden) {
        out.copyFrom(states[0], from, off, seq * batch * hidden);
      } else {
        out.copyBlock(states[0], from, hidden, off, ld, seq * batch, hidden);
      }
    }

    /**
     * Copies final state {@code k} ({@code [N, H]}) into {@code out} at {@code off}.
     *
     * @param k the state, 0 for {@code h}, 1 for {@code c}
     * @param out the storage written
     * @param off the offset written at
     * @throws IllegalStateException if the run was released
     */
    public void copyFinalState(int k, Storage out, int off) {
      checkLive("copyFinalState");
      int n = batch * cell.hiddenSize();
      out.copyFrom(states[k], slotAfter(time(seq - 1)) * n, off, n);
    }

    /**
     * Begins the backward pass of this run, seeded with the gradients of the final states.
     *
     * @param dFinal {@code dL/dh_T} (and {@code dL/dc_T}), {@code [N, H]} each at offset 0; null,
     *     or missing or null entries, for zero
     * @return the backward pass: call {@link Backward#step} for {@code p = T-1} down to 0, then
     *     {@link Backward#finish}
     * @throws IllegalStateException if the run was not recorded, was released, or its backward
     *     already began
     * @throws IllegalArgumentException if a gradient is not {@code N * H} elements
     */
    public Backward backward(Storage[] dFinal) {
      checkState(record, "%s: backward needs a forward run with record = true", cell.describe());
      checkLive("backward");
      checkState(!backwardBegun, "%s: backward already began on this run; run forward again",
          cell.describe());
      backwardBegun = true;
      return new Backward(this, dFinal);
    }
  }

  /**
   * The backward pass of one {@link Run}: begun by {@link Run#backward} with the final-state
   * gradients, then one {@link #step} per time step, last first, then {@link #finish}, which adds
   * the weight, bias, input and initial-state gradients.
   *
   * <p>The gate gradients are kept in time order, {@code dXP} and {@code dHP} {@code [T*N, G]}, so
   * that each weight gradient is one gemm over all steps after the loop.
   */
  public final class Backward {
    private final Run run;
    private final Step step;
    private final Storage dxp;
    private final Storage dhp;
    /** The gradient reaching the states after the next step to visit. */
    private Storage[] dCur;
    /** Where the cell writes the gradient of the states before it. */
    private Storage[] dOther;
    /** The processing step the next call to {@link #step} visits; -1 after step 0. */
    private int next;
    private boolean finished;

    private Backward(Run run, Storage[] dFinal) {
      this.run = run;
      this.step = run.step;
      DType dt = run.x.dtype();
      int rows = run.seq * run.batch;
      int n = run.batch * cell.hiddenSize();
      // Each visited step overwrites its rows; finish zeroes the rows of the others.
      this.dxp = Storage.borrow(dt, rows * cell.gateSize());
      this.dhp = summed ? dxp : Storage.borrow(dt, rows * cell.gateSize());
      this.dCur = new Storage[cell.stateCount()];
      this.dOther = new Storage[cell.stateCount()];
      for (int k = 0; k < dCur.length; k++) {
        dCur[k] = Storage.allocate(dt, n);
        dOther[k] = Storage.allocate(dt, n);
        Storage d = entry(dFinal, k);
        if (d != null) {
          checkArgument(d.length() == n,
              "%s expected final state gradient %s of %s x %s elements but got %s",
              cell.describe(), k, run.batch, cell.hiddenSize(), d.length());
          dCur[k].axpy(n, 1, d, 0, 0);
        }
      }
      this.next = run.seq - 1;
    }

    /**
     * One step of backpropagation through time, for processing step {@code p}: adds the output
     * gradient of time {@code t = time(p)}, read from {@code dOut} at {@code off + t*N*ld + n*ld}
     * like {@link Run#copyOutput}, runs the cell's backward and carries the state gradients to the
     * step before ({@code dh += dHP[t] W_hh}).
     *
     * @param p the processing step: {@code T-1} at the first call, then one less each call
     * @param dOut the output gradients {@code [T, N, ld]}, or null if there are none
     * @param off the offset of the block in {@code dOut}
     * @param ld the row width of the block
     * @return {@code ||dL/dh_t||}, the norm of the total gradient reaching {@code h_t}
     * @throws IllegalStateException if {@code p} is not the step due, or the pass finished
     */
    public double step(int p, Storage dOut, int off, int ld) {
      checkState(!finished && p == next && p >= 0, "%s: backward expected step %s (steps run"
          + " from T-1 = %s down to 0, then finish) but got step %s", cell.describe(),
          finished ? "none after finish" : next, run.seq - 1, p);
      run.checkLive("step");
      int t = run.time(p);
      int hidden = cell.hiddenSize();
      int batch = run.batch;
      int g = cell.gateSize();
      if (dOut != null) {
        addRows(dCur[0], dOut, off + t * batch * ld, ld, batch, hidden);
      }
      double norm = Math.sqrt(dCur[0].sumOfSquares());
      run.aim(p);
      step.dxp = dxp;
      step.dxpOff = t * batch * g;
      step.dhp = dhp;
      step.dhpOff = t * batch * g;
      for (int k = 0; k < dCur.length; k++) {
        step.dNext[k] = dCur[k];
        step.dNextOff[k] = 0;
        step.dPrev[k] = dOther[k];
        step.dPrevOff[k] = 0;
      }
      cell.backward(step);
      dOther[0].gemm(false, false, batch, hidden, g, 1, dhp, t * batch * g, g, weightHh.data(), 0,
          hidden, 1, 0, hidden);
      Storage[] swap = dCur;
      dCur = dOther;
      dOther = swap;
      next--;
      return norm;
    }

    /** {@code d += rows of src}: {@code rows} rows of {@code width} at {@code off}, stride ld. */
    private static void addRows(Storage d, Storage src, int off, int ld, int rows, int width) {
      if (ld == width) {
        d.axpy(rows * width, 1, src, off, 0);
      } else {
        for (int n = 0; n < rows; n++) {
          d.axpy(width, 1, src, off + n * ld, n * width);
        }
      }
    }

    /**
     * Ends the pass: adds the weight and bias gradients of every visited step to the parameters
     * (one gemm each), the input gradient to {@code dx} and the initial-state gradients to {@code
     * dInit}; then releases the run. A pass that stopped before step 0 (a truncation window)
     * counts only the steps it visited, and adds nothing to {@code dInit}: no gradient reaches the
     * initial states through the steps left out.
     *
     * @param dx the input gradient {@code [T, N, H_in]} added to, or null when it is not needed
     * @param dInit the initial-state gradients {@code [N, H]} added to, one per state; null, or
     *     missing or null entries, where they are not needed
     * @throws IllegalStateException if the pass already finished
     * @throws IllegalArgumentException if {@code dx} or an entry of {@code dInit} is not of the
     *     size of the input or of a state
     */
    public void finish(Storage dx, Storage[] dInit) {
      checkState(!finished, "%s: backward already finished; run forward again", cell.describe());
      run.checkLive("finish");
      int rows = run.seq * run.batch;
      int batch = run.batch;
      int in = cell.inputSize();
      int g = cell.gateSize();
      int hidden = cell.hiddenSize();
      checkArgument(dx == null || dx.length() == rows * in,
          "%s expected an input gradient of %s x %s x %s elements but got %s", cell.describe(),
          run.seq, batch, in, dx == null ? 0 : dx.length());
      for (int k = 0; k < dCur.length; k++) {
        Storage d = entry(dInit, k);
        checkArgument(d == null || d.length() == batch * hidden,
            "%s expected initial state gradient %s of %s x %s elements but got %s",
            cell.describe(), k, batch, hidden, d == null ? 0 : d.length());
      }
      finished = true;
      for (int p = 0; p <= next; p++) {
        int t = run.time(p);
        dxp.fill(t * batch * g, batch * g, 0);
        dhp.fill(t * batch * g, batch * g, 0);
      }
      weightIh.grad().gemm(true, false, g, in, rows, 1, dxp, 0, g, run.x, 0, in, 1, 0, in);
      // Row t of dHP pairs with the state time t started from: slots 0..T-1, or 1..T in reverse.
      weightHh.grad().gemm(true, false, g, hidden, rows, 1, dhp, 0, g, run.states[0],
          run.slotBefore(0) * batch * hidden, hidden, 1, 0, hidden);
      addBiasGradients(rows);
      if (dx != null) {
        dx.gemm(false, false, rows, in, g, 1, dxp, 0, g, weightIh.data(), 0, in, 1, 0, in);
      }
      for (int k = 0; next < 0 && k < dCur.length; k++) {
        Storage d = entry(dInit, k);
        if (d != null) {
          d.axpy(batch * hidden, 1, dCur[k], 0, 0);
        }
      }
      Storage.giveBack(dxp);
      if (dhp != dxp) {
        Storage.giveBack(dhp);
      }
      run.release();
    }

    /**
     * {@code db_ih += colsum(dXP)}, {@code db_hh += colsum(dHP)}; with summed projections, where
     * the two are one buffer, its column sums once for both.
     */
    private void addBiasGradients(int rows) {
      int g = cell.gateSize();
      if (dhp == dxp && biasIh != null && biasHh != null) {
        Storage db = Storage.allocate(dxp.dtype(), g);
        db.addColumnSums(dxp, 0, rows, g, 0);
        biasIh.grad().axpy(g, 1, db, 0, 0);
        biasHh.grad().axpy(g, 1, db, 0, 0);
        return;
      }
      if (biasIh != null) {
        biasIh.grad().addColumnSums(dxp, 0, rows, g, 0);
      }
      if (biasHh != null) {
        biasHh.grad().addColumnSums(dhp, 0, rows, g, 0);
      }
    }
  }

  /** {@code a[k]}, or null when {@code a} is null or shorter: a state given as none. */
  private static Storage entry(Storage[] a, int k) {
    return a == null || k >= a.length ? null : a[k];
  }

  @Override public String toString() {
    return cell.describe() + (reverse ? " reverse" : "");
  }
}
