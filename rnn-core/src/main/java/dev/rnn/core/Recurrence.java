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
 *     (dXP[t], dHP[p], dstate_p) = cell.backward(...);  dh_p += dHP[p] W_hh
 *   dW_ih += dXP^T X;  db_ih += colsum(dXP);  dX += dXP W_ih     one gemm each
 *   dW_hh += dHP^T [h_0 .. h_{T-1}];  db_hh += colsum(dHP)
 * </pre>
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

  /** The cell. */
  public Cell cell() {
    return cell;
  }

  /** Whether this direction runs from the last step to the first. */
  public boolean reverse() {
    return reverse;
  }

  /** The parameters in torch's order: weight_ih, weight_hh, bias_ih, bias_hh, then extras. */
  public ImmutableList<Parameter> parameters() {
    return parameters;
  }

  /** The dtype of the parameters, and so of every input and output. */
  public DType dtype() {
    return weightIh.dtype();
  }

  /**
   * Runs the scan over {@code x} (time-major {@code [T, N, H_in]}, flat), from the initial states
   * {@code init} ({@code [N, H]} each, or null for zeros).
   *
   * @param record whether to keep what {@link Trace#backwardStep} needs; without it the trace
   *     holds only the states
   */
  public Trace forward(Storage x, int seq, int batch, Storage[] init, boolean record) {
    return forward(x, seq, batch, init, record, 0);
  }

  /**
   * As {@link #forward(Storage, int, int, Storage[], boolean)}, for a sequence whose first step is
   * step {@code timeOffset} of a longer one (a chunk of truncated BPTT): {@link Step#time()}
   * counts from there.
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
   * One run of the scan over one sequence: the states of every step and, when recorded, what
   * backward needs; then the backward loop, one step at a time.
   *
   * <p>States are kept in processing order: slot 0 is the initial state, slot {@code p + 1} the
   * state after processing step {@code p}, which is time {@code p} (or {@code T-1-p} in reverse).
   */
  public final class Trace {
    private final Storage x;
    private final int seq;
    private final int batch;
    private final boolean record;
    private final int timeOffset;
    private final int g;
    private final int hidden;
    private final Storage xp;
    private final Storage hp;
    private final Storage saved;
    private final Storage[] states;
    private final Step step;
    private Storage dxp;
    private Storage dhp;
    private Storage[] dCur;
    private Storage[] dOther;

    private Trace(Storage x, int seq, int batch, boolean record, int timeOffset) {
      this.x = x;
      this.timeOffset = timeOffset;
      this.seq = seq;
      this.batch = batch;
      this.record = record;
      this.g = cell.gateSize();
      this.hidden = cell.hiddenSize();
      DType dt = x.dtype();
      this.xp = Storage.allocate(dt, seq * batch * g);
      this.hp = Storage.allocate(dt, batch * g);
      this.saved = Storage.allocate(dt, (record ? seq : 1) * batch * cell.savedSize());
      this.states = new Storage[cell.stateCount()];
      for (int k = 0; k < states.length; k++) {
        states[k] = Storage.allocate(dt, (seq + 1) * batch * hidden);
      }
      this.step = new Step(cell.stateCount());
      step.batch = batch;
      step.xp = xp;
      step.hp = hp;
      step.saved = saved;
      step.params = new Storage[extras.size()];
      step.paramGrads = new Storage[extras.size()];
      for (int i = 0; i < extras.size(); i++) {
        step.params[i] = extras.get(i).data();
        step.paramGrads[i] = extras.get(i).grad();
      }
    }

    private void run(Storage[] init) {
      int rows = seq * batch;
      int in = cell.inputSize();
      if (biasIh != null) {
        xp.setRows(0, rows, g, biasIh.data(), 0);
      }
      xp.gemm(false, true, rows, g, in, 1, x, 0, in, weightIh.data(), 0, in, 1, 0, g);
      for (int k = 0; k < states.length; k++) {
        if (init != null && init[k] != null) {
          checkArgument(init[k].length() == batch * hidden,
              "%s expected initial state %s of %s x %s elements but got %s", cell.describe(), k,
              batch, hidden, init[k].length());
          states[k].copyFrom(init[k], 0, 0, batch * hidden);
        }
      }
      for (int p = 0; p < seq; p++) {
        int t = time(p);
        if (biasHh != null) {
          hp.setRows(0, batch, g, biasHh.data(), 0);
        } else {
          hp.fill(0, batch * g, 0);
        }
        hp.gemm(false, true, batch, g, hidden, 1, states[0], p * batch * hidden, hidden,
            weightHh.data(), 0, hidden, 1, 0, g);
        point(p, t);
        step.hpOff = 0;
        step.savedOff = record ? p * batch * cell.savedSize() : 0;
        cell.forward(step);
      }
    }

    private void point(int p, int t) {
      step.time = timeOffset + t;
      step.xpOff = t * batch * g;
      for (int k = 0; k < states.length; k++) {
        step.prev[k] = states[k];
        step.prevOff[k] = p * batch * hidden;
        step.next[k] = states[k];
        step.nextOff[k] = (p + 1) * batch * hidden;
      }
    }

    /** The time index of processing step {@code p}. */
    public int time(int p) {
      return reverse ? seq - 1 - p : p;
    }

    /** {@code T}. */
    public int seq() {
      return seq;
    }

    /** {@code N}. */
    public int batch() {
      return batch;
    }

    /**
     * Copies the output {@code h_t} of every time step into {@code out} at {@code off + t*N*ld +
     * n*ld}: a {@code [T, N, ld]} block whose columns {@code [0, H)} are this direction's.
     */
    public void copyOutput(Storage out, int off, int ld) {
      for (int t = 0; t < seq; t++) {
        int p = reverse ? seq - 1 - t : t;
        out.copyBlock(states[0], (p + 1) * batch * hidden, hidden, off + t * batch * ld, ld,
            batch, hidden);
      }
    }

    /** Copies final state {@code k} ({@code [N, H]}) into {@code out} at {@code off}. */
    public void copyFinalState(int k, Storage out, int off) {
      out.copyFrom(states[k], seq * batch * hidden, off, batch * hidden);
    }

    /** Starts a backward pass: zeroes the gradients of the states and of the gate blocks. */
    public void beginBackward() {
      checkState(record, "%s: backward needs a forward run with record = true", cell.describe());
      DType dt = x.dtype();
      if (dxp == null) {
        dxp = Storage.allocate(dt, seq * batch * g);
        dhp = Storage.allocate(dt, seq * batch * g);
        dCur = new Storage[states.length];
        dOther = new Storage[states.length];
        for (int k = 0; k < states.length; k++) {
          dCur[k] = Storage.allocate(dt, batch * hidden);
          dOther[k] = Storage.allocate(dt, batch * hidden);
        }
      } else {
        dxp.fill(0, dxp.length(), 0);
        dhp.fill(0, dhp.length(), 0);
        for (int k = 0; k < states.length; k++) {
          dCur[k].fill(0, batch * hidden, 0);
        }
      }
    }

    /** Adds {@code grad} ({@code [N, H]} at {@code off}) to the gradient of the final state k. */
    public void addFinalStateGradient(int k, Storage grad, int off) {
      dCur[k].axpy(batch * hidden, 1, grad, off, 0);
    }

    /**
     * One step of backpropagation through time, for processing step {@code p} (steps must be
     * visited from {@code T-1} down): adds the output gradient of time {@code time(p)}, read from
     * {@code dOut} at {@code off + t*N*ld + n*ld} like {@link #copyOutput}, then runs the cell's
     * backward and carries the state gradient to step {@code p - 1}.
     *
     * @return {@code ||dL/dh_t||}, the norm of the total gradient reaching {@code h_t}
     */
    public double backwardStep(int p, Storage dOut, int off, int ld) {
      int t = time(p);
      if (dOut != null) {
        for (int n = 0; n < batch; n++) {
          dCur[0].axpy(hidden, 1, dOut, off + t * batch * ld + n * ld, n * hidden);
        }
      }
      double norm = Math.sqrt(dCur[0].sumOfSquares());
      point(p, t);
      step.savedOff = p * batch * cell.savedSize();
      step.dxp = dxp;
      step.dxpOff = t * batch * g;
      step.dhp = dhp;
      step.dhpOff = p * batch * g;
      for (int k = 0; k < states.length; k++) {
        step.dNext[k] = dCur[k];
        step.dNextOff[k] = 0;
        step.dPrev[k] = dOther[k];
        step.dPrevOff[k] = 0;
      }
      cell.backward(step);
      dOther[0].gemm(false, false, batch, hidden, g, 1, dhp, p * batch * g, g, weightHh.data(), 0,
          hidden, 1, 0, hidden);
      Storage[] swap = dCur;
      dCur = dOther;
      dOther = swap;
      return norm;
    }

    /**
     * The gradient carried to the state before the last step visited (after a full pass, the
     * gradient of the initial state {@code k}), {@code [N, H]}.
     */
    public Storage stateGradient(int k) {
      return dCur[k];
    }

    /**
     * Ends a backward pass: adds the weight and bias gradients of every visited step to the
     * parameters (one gemm each) and, if {@code dx} is not null, adds the input gradient to it
     * ({@code [T, N, H_in]}, flat, time-major).
     */
    public void finishBackward(Storage dx) {
      int rows = seq * batch;
      int in = cell.inputSize();
      weightIh.grad().gemm(true, false, g, in, rows, 1, dxp, 0, g, x, 0, in, 1, 0, in);
      weightHh.grad().gemm(true, false, g, hidden, rows, 1, dhp, 0, g, states[0], 0, hidden, 1, 0,
          hidden);
      if (biasIh != null) {
        biasIh.grad().addColumnSums(dxp, 0, rows, g, 0);
      }
      if (biasHh != null) {
        biasHh.grad().addColumnSums(dhp, 0, rows, g, 0);
      }
      if (dx != null) {
        dx.gemm(false, false, rows, in, g, 1, dxp, 0, g, weightIh.data(), 0, in, 1, 0, in);
      }
    }
  }

  @Override public String toString() {
    return cell.describe() + (reverse ? " reverse" : "");
  }
}
