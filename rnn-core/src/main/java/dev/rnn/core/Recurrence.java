package dev.rnn.core;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkState;

import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One direction of one recurrent layer: a {@link Cell}, its parameters, and the scan of the cell
 * over a sequence, forward and backward.
 *
 * <p>The scan, for a time-major input {@code X [T, N, H_in]} seen as {@code [T*N, H_in]}:
 *
 * <pre>
 *   XP = X W_ih^T + b_ih                       one gemm for all steps, [T*N, G]
 *   for p in 0..T-1:  (t = p, or T-1-p for the reverse direction)
 *     hp = h_{p} W_hh^T + b_hh                 one gemm per step, [N, G]
 *     state_{p+1} = cell.forward(XP[t], hp, state_p)
 * backward, the same loop run in reverse, accumulating into the shared weights:
 *   for p in T-1..0:
 *     dstate_{p+1}[h] += dOut[t]
 *     (dXP[t], dHP[t], dstate_p) = cell.backward(...);  dh_p += dHP[t] W_hh
 *   dW_ih += dXP^T X;  db_ih += colsum(dXP);  dX += dXP W_ih     one gemm each
 *   dW_hh += dHP^T H_prev (the state each step started from);  db_hh += colsum(dHP)
 * </pre>
 *
 * <p>For cells that read {@code xp} and {@code hp} only through their sum (Elman, LSTM), {@code
 * b_hh} is added into {@code XP} once for all steps, the step's gemm accumulates {@code h W_hh^T}
 * onto a copy of {@code XP[t]} so that the cell receives the sum in {@code hp} (and an empty
 * {@code xp}, which says so), and {@code dXP} and {@code dHP} are one buffer; the results are the
 * same.
 *
 * <p>Parameters (G = {@link Cell#gateSize()}, H hidden, H_in input): {@code weight_ih [G, H_in]},
 * {@code weight_hh [G, H]}, optional {@code bias_ih [G]} and {@code bias_hh [G]}, then the cell's
 * {@linkplain Cell#extraParameters() extra parameters}; each name ends with the suffix given,
 * e.g. {@code _l0_reverse}. Immutable apart from the parameters' values; one recurrence serves
 * many threads at once, since every call works in its own {@link Trace}.
 */
public final class Recurrence {
  private final Cell cell;
  private final boolean reverse;
  private final Parameter weightIh;
  private final Parameter weightHh;
  private final Parameter biasIh;
  private final Parameter biasHh;
  private final ImmutableList<Parameter> extras;
  private final ImmutableList<Parameter> parameters;

  /**
   * A recurrence with zero parameters; {@link #initialize(Random)} gives torch's initialisation.
   *
   * @param suffix appended to each parameter name, e.g. {@code _l0} or {@code _l1_reverse}
   * @param biasIh whether {@code bias_ih} exists
   * @param biasHh whether {@code bias_hh} exists
   * @param cell the cell scanned
   * @param reverse whether the scan runs from the last step to the first
   * @param dtype the dtype of the parameters
   */
  public Recurrence(Cell cell, boolean reverse, String suffix, DType dtype, boolean biasIh,
      boolean biasHh) {
    this.cell = cell;
    this.reverse = reverse;
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
   * Torch's initialisation: every weight and bias uniform in {@code [-1/sqrt(H), 1/sqrt(H)]};
   * extra parameters as their spec says.
   *
   * @param rnd the source of the samples, drawn in parameter order
   */
  public void initialize(Random rnd) {
    double k = 1 / Math.sqrt(cell.hiddenSize());
    List<ParameterSpec> specs = cell.extraParameters();
    for (Parameter p : parameters) {
      int e = extras.indexOf(p);
      ParameterSpec.Init init = e < 0 ? ParameterSpec.Init.UNIFORM_HIDDEN : specs.get(e).init();
      for (int i = 0; i < p.size(); i++) {
        double v = init == ParameterSpec.Init.UNIFORM_HIDDEN ? (2 * rnd.nextDouble() - 1) * k
            : init == ParameterSpec.Init.ONES ? 1 : 0;
        p.data().set(i, v);
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
   * Runs the scan over {@code x} (time-major {@code [T, N, H_in]}, flat), from the initial states
   * {@code init} ({@code [N, H]} each, or null for zeros).
   *
   * @param record whether to keep what {@link Trace#backwardStep} needs; without it the trace
   *     holds only the states
   * @param x the input, {@code T * N * H_in} elements
   * @param seq {@code T}, at least 1
   * @param batch {@code N}, at least 1
   * @param init the initial states, one per {@link Cell#stateCount()}, or null for zeros
   * @return the trace: the states of every step and, with {@code record}, what backward reads
   * @throws IllegalArgumentException if a size or a storage length does not fit
   */
  public Trace forward(Storage x, int seq, int batch, Storage[] init, boolean record) {
    return forward(x, seq, batch, init, record, 0);
  }

  /**
   * As {@link #forward(Storage, int, int, Storage[], boolean)}, for a sequence whose first step is
   * step {@code timeOffset} of a longer one (a chunk of truncated BPTT): {@link Step#time()}
   * counts from there.
   *
   * @param x the input, {@code T * N * H_in} elements
   * @param seq {@code T}, at least 1
   * @param batch {@code N}, at least 1
   * @param init the initial states, one per {@link Cell#stateCount()}, or null for zeros
   * @param record whether to keep what {@link Trace#backwardStep} needs
   * @param timeOffset the time index of the first step in the longer sequence
   * @return the trace: the states of every step and, with {@code record}, what backward reads
   * @throws IllegalArgumentException if a size or a storage length does not fit
   */
  public Trace forward(Storage x, int seq, int batch, Storage[] init, boolean record,
      int timeOffset) {
    checkArgument(seq >= 1 && batch >= 1, "%s expected seq >= 1 and batch >= 1 but got %s and %s",
        cell.describe(), seq, batch);
    checkArgument(x.length() == seq * batch * cell.inputSize(),
        "%s expected input of %s x %s x %s elements but got %s", cell.describe(), seq, batch,
        cell.inputSize(), x.length());
    checkArgument(x.dtype() == dtype(), "%s expected input of dtype %s but got %s",
        cell.describe(), dtype(), x.dtype());
    Trace tr = new Trace(x, seq, batch, record, timeOffset);
    tr.run(init);
    return tr;
  }

  /**
   * Whether the cell reads {@code xp} and {@code hp} only through their sum, as Elman and LSTM
   * cells do: then {@code b_hh} is added once, into {@code XP} for all steps, and the gradients of
   * {@code xp} and {@code hp} are one buffer ({@code dxp = dhp}).
   */
  private boolean sumsGates() {
    return cell instanceof ElmanCell || cell instanceof LstmCell;
  }

  /** {@code b_ih} (plus {@code b_hh} when the cell sums its gates), or null without biases. */
  private Storage inputBias() {
    if (!sumsGates() || biasHh == null) {
      return biasIh == null ? null : biasIh.data();
    }
    Storage b = biasHh.data().copy();
    if (biasIh != null) {
      b.axpy(b.length(), 1, biasIh.data(), 0, 0);
    }
    return b;
  }

  /**
   * One time step of the cell for streaming, without recording: {@code xp = x W_ih^T + b_ih},
   * {@code hp = h W_hh^T + b_hh}, then the cell's forward. {@code s} holds the previous and next
   * states, {@code xp}, {@code hp} and {@code saved} buffers of one step; {@code x} is {@code [N,
   * H_in]} at {@code xOff}.
   */
  void step(Step s, Storage x, int xOff) {
    int n = s.batch;
    int g = cell.gateSize();
    int in = cell.inputSize();
    int hidden = cell.hiddenSize();
    boolean sums = sumsGates();
    if (biasIh != null) {
      s.xp.setRows(s.xpOff, n, g, biasIh.data(), 0);
    }
    if (sums && biasHh != null) {
      if (biasIh != null) {
        s.xp.addRowVector(s.xpOff, n, g, biasHh.data(), 0);
      } else {
        s.xp.setRows(s.xpOff, n, g, biasHh.data(), 0);
      }
    }
    boolean xBias = biasIh != null || (sums && biasHh != null);
    s.xp.gemm(false, true, n, g, in, 1, x, xOff, in, weightIh.data(), 0, in, xBias ? 1 : 0,
        s.xpOff, g);
    boolean hBias = biasHh != null && !sums;
    if (hBias) {
      s.hp.setRows(s.hpOff, n, g, biasHh.data(), 0);
    }
    s.hp.gemm(false, true, n, g, hidden, 1, s.prev[0], s.prevOff[0], hidden, weightHh.data(), 0,
        hidden, hBias ? 1 : 0, s.hpOff, g);
    s.time = 0;
    cell.forward(s);
  }

  /** A step object wired to this recurrence's extra parameters, for {@link #step}. */
  Step newStep() {
    Step s = new Step(cell.stateCount());
    s.params = new Storage[extras.size()];
    s.paramGrads = new Storage[extras.size()];
    for (int i = 0; i < extras.size(); i++) {
      s.params[i] = extras.get(i).data();
      s.paramGrads[i] = extras.get(i).grad();
    }
    return s;
  }

  /**
   * One run of the scan over one sequence: the states of every step and, when recorded, what
   * backward needs; then the backward loop, one step at a time.
   *
   * <p>States are kept in time order, so that the outputs of all steps, and the states each step
   * started from, are contiguous {@code [T, N, H]} blocks: slot {@code t + 1} holds the state
   * after time {@code t} and slot 0 the initial state; in reverse, slot {@code t} holds the state
   * after time {@code t} and slot {@code T} the initial state. The gate gradients are kept in
   * time order too, so that each weight gradient is one gemm over all steps.
   */
  public final class Trace {
    private final Storage x;
    private final int seq;
    private final int batch;
    private final boolean record;
    private final int timeOffset;
    private final int g;
    private final int hidden;
    private final boolean sumsGates;
    private Storage xp;
    private Storage hp;
    private Storage saved;
    private final Storage[] states;
    private final Step step;
    private Storage dxp;
    private Storage dhp;
    private Storage[] dCur;
    private Storage[] dOther;
    /** The lowest processing step visited by backward; steps below it have zero gradients. */
    private int visitedFrom;
    private boolean released;
    /** Handed to the cell as {@code xp} when {@code hp} already holds {@code xp + hp}. */
    private final Storage summedMarker;

    private Trace(Storage x, int seq, int batch, boolean record, int timeOffset) {
      this.x = x;
      this.timeOffset = timeOffset;
      this.seq = seq;
      this.batch = batch;
      this.record = record;
      this.g = cell.gateSize();
      this.hidden = cell.hiddenSize();
      this.sumsGates = sumsGates();
      DType dt = x.dtype();
      this.summedMarker = Storage.allocate(dt, 0);
      // Every element of these is written before it is read (the initial slot of the states,
      // in run), so they may come from the pool.
      this.xp = Storage.borrow(dt, seq * batch * g);
      this.hp = Storage.borrow(dt, batch * g);
      this.saved = Storage.borrow(dt, (record ? seq : 1) * batch * cell.savedSize());
      this.states = new Storage[cell.stateCount()];
      for (int k = 0; k < states.length; k++) {
        states[k] = Storage.borrow(dt, (seq + 1) * batch * hidden);
      }
      this.step = newStep();
      step.batch = batch;
      step.xp = xp;
      step.hp = hp;
      step.saved = saved;
    }

    private void run(Storage[] init) {
      int rows = seq * batch;
      int in = cell.inputSize();
      Storage bias = inputBias();
      if (bias != null) {
        xp.setRows(0, rows, g, bias, 0);
      }
      xp.gemm(false, true, rows, g, in, 1, x, 0, in, weightIh.data(), 0, in, bias == null ? 0 : 1,
          0, g);
      int n = batch * hidden;
      for (int k = 0; k < states.length; k++) {
        if (init != null && init[k] != null) {
          checkArgument(init[k].length() == n,
              "%s expected initial state %s of %s x %s elements but got %s", cell.describe(), k,
              batch, hidden, init[k].length());
          states[k].copyFrom(init[k], 0, slotBefore(time(0)) * n, n);
        } else {
          states[k].fill(slotBefore(time(0)) * n, n, 0);
        }
      }
      boolean hBias = biasHh != null && !sumsGates;
      for (int p = 0; p < seq; p++) {
        int t = time(p);
        if (sumsGates) {
          // hp = xp[t] + h W_hh^T in one gemm (beta = 1), biases being in xp: the cell then
          // reads the sum, without a loop over two buffers.
          hp.copyFrom(xp, t * batch * g, 0, batch * g);
        } else if (hBias) {
          hp.setRows(0, batch, g, biasHh.data(), 0);
        }
        hp.gemm(false, true, batch, g, hidden, 1, states[0], slotBefore(t) * n, hidden,
            weightHh.data(), 0, hidden, hBias || sumsGates ? 1 : 0, 0, g);
        point(p, t);
        step.hpOff = 0;
        step.savedOff = record ? p * batch * cell.savedSize() : 0;
        if (sumsGates) {
          step.xp = summedMarker;
        }
        cell.forward(step);
        step.xp = xp;
      }
      // Backward does not read the projections (Cell#backward): they go back to the pool for the
      // next run. An empty storage of the dtype stands in, so that a cell reading them fails.
      Storage.giveBack(xp);
      xp = null;
      step.xp = summedMarker;
      if (!record) {
        Storage.giveBack(saved);
        saved = null;
        step.saved = null;
      }
    }

    /**
     * Gives this trace's buffers back for reuse by later runs. Afterwards only {@link
     * #stateGradient} may be called. {@link #finishBackward} releases the trace itself; call this
     * after an unrecorded run once its outputs and final states are copied.
     */
    public void release() {
      if (released) {
        return;
      }
      released = true;
      Storage.giveBack(hp);
      Storage.giveBack(saved);
      for (Storage st : states) {
        Storage.giveBack(st);
      }
      Storage.giveBack(dxp);
      if (dhp != dxp) {
        Storage.giveBack(dhp);
      }
      hp = null;
      saved = null;
      dxp = null;
      dhp = null;
      step.hp = null;
      step.saved = null;
    }

    private void checkLive(String what) {
      checkState(!released, "%s: %s after the trace was released (after finishBackward or"
          + " release); run forward again", cell.describe(), what);
    }

    /** The slot of the state that time step {@code t} starts from. */
    private int slotBefore(int t) {
      return reverse ? t + 1 : t;
    }

    /** The slot of the state after time step {@code t}: its output. */
    private int slotAfter(int t) {
      return reverse ? t : t + 1;
    }

    private void point(int p, int t) {
      step.time = timeOffset + t;
      step.xpOff = t * batch * g;
      int n = batch * hidden;
      for (int k = 0; k < states.length; k++) {
        step.prev[k] = states[k];
        step.prevOff[k] = slotBefore(t) * n;
        step.next[k] = states[k];
        step.nextOff[k] = slotAfter(t) * n;
      }
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
     */
    public void copyOutput(Storage out, int off, int ld) {
      checkLive("copyOutput");
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
     */
    public void copyFinalState(int k, Storage out, int off) {
      checkLive("copyFinalState");
      out.copyFrom(states[k], slotAfter(time(seq - 1)) * batch * hidden, off, batch * hidden);
    }

    /** Starts a backward pass: zeroes the gradients of the states and of the gate blocks. */
    public void beginBackward() {
      checkState(record, "%s: backward needs a forward run with record = true", cell.describe());
      checkLive("beginBackward");
      DType dt = x.dtype();
      visitedFrom = seq;
      if (dxp == null) {
        // Each visited step overwrites its rows; finishBackward zeroes the rows of the others.
        dxp = Storage.borrow(dt, seq * batch * g);
        dhp = sumsGates ? dxp : Storage.borrow(dt, seq * batch * g);
        dCur = new Storage[states.length];
        dOther = new Storage[states.length];
        for (int k = 0; k < states.length; k++) {
          dCur[k] = Storage.allocate(dt, batch * hidden);
          dOther[k] = Storage.allocate(dt, batch * hidden);
        }
      } else {
        dxp.fill(0, dxp.length(), 0);
        if (dhp != dxp) {
          dhp.fill(0, dhp.length(), 0);
        }
        for (int k = 0; k < states.length; k++) {
          dCur[k].fill(0, batch * hidden, 0);
        }
      }
    }

    /**
     * Adds {@code grad} ({@code [N, H]} at {@code off}) to the gradient of the final state k.
     *
     * @param k the state, 0 for {@code h}, 1 for {@code c}
     * @param grad the storage read
     * @param off the offset of the gradient in {@code grad}
     */
    public void addFinalStateGradient(int k, Storage grad, int off) {
      dCur[k].axpy(batch * hidden, 1, grad, off, 0);
    }

    /**
     * One step of backpropagation through time, for processing step {@code p} (steps must be
     * visited from {@code T-1} down): adds the output gradient of time {@code time(p)}, read from
     * {@code dOut} at {@code off + t*N*ld + n*ld} like {@link #copyOutput}, then runs the cell's
     * backward and carries the state gradient to step {@code p - 1}.
     *
     * @param p the processing step
     * @param dOut the output gradients {@code [T, N, ld]}, or null if there are none
     * @param off the offset of the block in {@code dOut}
     * @param ld the row width of the block
     * @return {@code ||dL/dh_t||}, the norm of the total gradient reaching {@code h_t}
     */
    public double backwardStep(int p, Storage dOut, int off, int ld) {
      int t = time(p);
      if (dOut != null) {
        if (ld == hidden) {
          dCur[0].axpy(batch * hidden, 1, dOut, off + t * batch * ld, 0);
        } else {
          for (int n = 0; n < batch; n++) {
            dCur[0].axpy(hidden, 1, dOut, off + t * batch * ld + n * ld, n * hidden);
          }
        }
      }
      double norm = Math.sqrt(dCur[0].sumOfSquares());
      visitedFrom = Math.min(visitedFrom, p);
      point(p, t);
      step.savedOff = p * batch * cell.savedSize();
      step.dxp = dxp;
      step.dxpOff = t * batch * g;
      step.dhp = dhp;
      step.dhpOff = t * batch * g;
      for (int k = 0; k < states.length; k++) {
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
      return norm;
    }

    /**
     * The gradient carried to the state before the last step visited (after a full pass, the
     * gradient of the initial state {@code k}), {@code [N, H]}.
     *
     * @param k the state, 0 for {@code h}, 1 for {@code c}
     * @return the gradient, owned by the trace: copy it to keep it
     */
    public Storage stateGradient(int k) {
      return dCur[k];
    }

    /**
     * Ends a backward pass: adds the weight and bias gradients of every visited step to the
     * parameters (one gemm each) and, if {@code dx} is not null, adds the input gradient to it
     * ({@code [T, N, H_in]}, flat, time-major); then {@linkplain #release releases} the trace.
     *
     * @param dx the input gradient added to, or null when it is not needed
     */
    public void finishBackward(Storage dx) {
      checkLive("finishBackward");
      int rows = seq * batch;
      int in = cell.inputSize();
      for (int p = 0; p < visitedFrom; p++) {
        int t = time(p);
        dxp.fill(t * batch * g, batch * g, 0);
        dhp.fill(t * batch * g, batch * g, 0);
      }
      weightIh.grad().gemm(true, false, g, in, rows, 1, dxp, 0, g, x, 0, in, 1, 0, in);
      // Row t of dHP pairs with the state time t started from: slots 0..T-1, or 1..T in reverse.
      weightHh.grad().gemm(true, false, g, hidden, rows, 1, dhp, 0, g, states[0],
          slotBefore(0) * batch * hidden, hidden, 1, 0, hidden);
      if (dhp == dxp && biasIh != null && biasHh != null) {
        Storage db = Storage.allocate(dxp.dtype(), g);
        db.addColumnSums(dxp, 0, rows, g, 0);
        biasIh.grad().axpy(g, 1, db, 0, 0);
        biasHh.grad().axpy(g, 1, db, 0, 0);
      } else {
        if (biasIh != null) {
          biasIh.grad().addColumnSums(dxp, 0, rows, g, 0);
        }
        if (biasHh != null) {
          biasHh.grad().addColumnSums(dhp, 0, rows, g, 0);
        }
      }
      if (dx != null) {
        dx.gemm(false, false, rows, in, g, 1, dxp, 0, g, weightIh.data(), 0, in, 1, 0, in);
      }
      release();
    }
  }

  @Override public String toString() {
    return cell.describe() + (reverse ? " reverse" : "");
  }
}
