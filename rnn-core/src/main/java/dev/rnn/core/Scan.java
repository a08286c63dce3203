package dev.rnn.core;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static com.google.common.base.Preconditions.checkState;

import com.google.common.base.Strings;
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
 * <p>Variable lengths ({@link Lengths}, torch's {@code pack_padded_sequence(...,
 * enforce_sorted=False)}): sequence {@code n} runs over its own steps {@code t < length(n)} only.
 * The run sorts the batch by length once (longest first), so the sequences still running at step
 * {@code t} are the first {@code n_t = active(t)} rows, and a step's gemm and cell run on those
 * rows alone: the active batch shrinks as sequences end. The reverse direction starts each
 * sequence at its own last step, from its initial state. The steps after a sequence's end are
 * never read (no NaN there can leak); its output there is zero, its final state is the one after
 * its last step, and the input gradient there is zero. Without lengths (or with every length
 * {@code T}) every {@code n_t = N} and the run is the plain loop above, with no copy.
 *
 * <pre>
 *   Xs  = the real rows of X, sorted: step t's n_t running sequences in a block
 *   XP  = Xs W_ih^T + b_ih                              one gemm over the real rows
 *   for p in 0..T-1:  n = n_t
 *     hp[:n] = h_{t-1}[:n] W_hh^T + b_hh;  (h_t[:n], c_t[:n]) = cell(XP[t][:n], hp[:n], ...)
 * </pre>
 *
 * <p>Projection ({@code projection > 0}, torch's {@code proj_size}, Sak et al. 2014, for a cell
 * that is {@linkplain Cell#projectable() projectable}): the cell's output {@code m_t} ({@code [N,
 * H]}) is projected, {@code h_t = m_t W_hr^T} ({@code [N, P]}); {@code h} is what the output holds
 * and what {@code W_hh [G, P]} feeds back, while the cell state {@code c} keeps {@code H}. Backward
 * adds {@code dm = dh W_hr} per step and {@code dW_hr += dH^T M} in one gemm.
 *
 * <p>Fast path: for a cell that declares {@link Cell.Projections#SUMMED} (it reads {@code xp} and
 * {@code hp} only through their sum, as Elman and LSTM cells do), {@code b_hh} is folded into
 * {@code XP} once for all steps, the step's gemm accumulates {@code h W_hh^T} onto a copy of
 * {@code XP[t]} so that the cell receives {@code z = xp + hp} in {@link Step#hp()} ({@link
 * Step#summed()} says so), and {@code dXP} and {@code dHP} are one buffer. The results are those
 * of the plain loop up to the rounding of one sum. The buffers of a run come from a pool and go
 * back to it when the run is done.
 *
 * <p>Memory of a recorded run: {@code XP} of more than 4 MB is projected by chunks of about 512
 * rows as the loop reaches them, a recorded run without lengths or projection writes {@code h_t}
 * into the caller's output and keeps no other copy of it, and a backward pass told the input
 * gradient up front ({@link Run#backwardByChunks}) holds the gate gradients of one chunk of steps,
 * adding the chunk's weight, bias and input gradients when it is done. What a recorded run keeps
 * for backward is then the cell's saved blocks and the states of every step.
 *
 * <p>Fast path of the native kernels ({@code Native}, float32, when loaded): a run of more than
 * one step packs {@code W_hh} (and {@code W_hr}) once, for its forward and once for its backward,
 * and every step's product, {@code h W_hh^T} forward and {@code dHP W_hh} backward, reads the
 * packed copy ({@code PackedWeight}) instead of BLAS packing the weight again at each step; for
 * any number of rows, so the shrinking active batch of a run with lengths too. A cell that
 * declares {@link Cell.Kernel#LSTM} has the product and its forward computed as one kernel, on
 * AVX-512 with the input projection too ({@code z = b + x_t W_ih^T + h W_hh^T} tile by tile from
 * {@code [W_ih | W_hh]} packed once, no {@code XP} buffer; AVX2 keeps the gemm of {@code XP}), and
 * its backward step (the cell's backward in C, then {@code dHP W_hh}) computed by blocks of rows,
 * which a second thread shares when the step is large: the few panels of {@code dHP W_hh} ({@code
 * P / 64}) alone would leave it little to take, and the cell's backward none. A cell that
 * declares {@link Cell.Kernel#GRU} keeps the products as they are and has its float32 step,
 * forward and backward, run in C on AVX-512 with the bits of its Java loops. The results are the
 * BLAS path's up to the rounding of the sums; float64 always runs on BLAS.
 *
 * <p>Shapes (T steps, N batch, H hidden, P = {@link #outputSize()} ({@code H} without a
 * projection), H_in input, G = {@link Cell#gateSize()}): input {@code [T, N, H_in]}, output
 * {@code [T, N, P]}, initial and final states {@code [N, stateSize(k)]}: {@code h} {@code [N, P]},
 * {@code c} {@code [N, H]}; all time-major, flat, row-major.
 *
 * <p>Parameters: {@code weight_ih [G, H_in]}, {@code weight_hh [G, P]}, optional {@code bias_ih
 * [G]} and {@code bias_hh [G]}, with a projection {@code weight_hr [P, H]}, then the cell's
 * {@linkplain Cell#extraParameters() extra parameters}; each name ends with the suffix given, e.g.
 * {@code _l0_reverse} ({@link #suffix}). Immutable apart from the parameters' values; one scan
 * serves many threads at once, since every call works in its own {@link Run}.
 */
public final class Scan {
  private final Cell cell;
  private final boolean reverse;
  private final boolean summed;
  /** Whether the cell declares {@link Cell.Kernel#LSTM}: the fused native step may run it. */
  private final boolean fusedLstm;
  /** Whether the cell declares {@link Cell.Kernel#GRU}: its float32 step may run in C. */
  private final boolean gruKernel;
  private final int projection;
  private final Parameter weightIh;
  private final Parameter weightHh;
  private final Parameter biasIh;
  private final Parameter biasHh;
  private final Parameter weightHr;
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
    this(cell, direction, suffix, dtype, biases, 0);
  }

  /**
   * A scan whose output is projected to {@code projection} features, as torch's {@code
   * proj_size}: {@code h_t = m_t W_hr^T} with {@code weight_hr [P, H]}.
   *
   * @param cell the cell scanned, {@linkplain Cell#projectable() projectable} if {@code projection
   *     > 0}
   * @param direction which way it runs through time
   * @param suffix appended to each parameter name, e.g. {@code _l0} or {@code _l1_reverse}
   * @param dtype the dtype of the parameters
   * @param biases which of {@code bias_ih}, {@code bias_hh} exist
   * @param projection {@code P}, in {@code [1, H)}, or 0 for none
   * @throws IllegalArgumentException if {@code projection} is not 0 or in {@code [1, H)}, or the
   *     cell cannot be projected
   */
  public Scan(Cell cell, Direction direction, String suffix, DType dtype, Biases biases,
      int projection) {
    boolean reverse = checkNotNull(direction, "direction") == Direction.REVERSE;
    boolean biasIh = checkNotNull(biases, "biases") != Biases.NONE;
    boolean biasHh = biases == Biases.BOTH;
    checkArgument(projection == 0 || projection >= 1 && projection < cell.hiddenSize(),
        "%s expected a projection size in [1, %s) (torch's proj_size < hidden_size) but got %s",
        cell.describe(), cell.hiddenSize(), projection);
    checkArgument(projection == 0 || cell.projectable(),
        "%s cannot be projected: only a cell that reads h_{t-1} through hp alone (lstm) can",
        cell.describe());
    this.cell = cell;
    this.reverse = reverse;
    this.projection = projection;
    this.summed = checkNotNull(cell.projections(), "%s.projections()", cell.describe())
        == Cell.Projections.SUMMED;
    this.fusedLstm = checkNotNull(cell.kernel(), "%s.kernel()", cell.describe())
        == Cell.Kernel.LSTM;
    checkArgument(!fusedLstm || summed && cell.stateCount() == 2
            && cell.gateSize() == 4 * cell.hiddenSize() && cell.savedSize() == 5 * cell.hiddenSize(),
        "%s declares the LSTM kernel, which expects summed projections, 2 states, G = 4H and S ="
            + " 5H but got %s, %s states, G = %s, S = %s", cell.describe(), cell.projections(),
        cell.stateCount(), cell.gateSize(), cell.savedSize());
    this.gruKernel = cell.kernel() == Cell.Kernel.GRU;
    checkArgument(!gruKernel || !summed && cell.stateCount() == 1
            && cell.gateSize() == 3 * cell.hiddenSize() && cell.savedSize() == 4 * cell.hiddenSize(),
        "%s declares the GRU kernel, which expects separate projections, 1 state, G = 3H and S ="
            + " 4H but got %s, %s states, G = %s, S = %s", cell.describe(), cell.projections(),
        cell.stateCount(), cell.gateSize(), cell.savedSize());
    int g = cell.gateSize();
    List<Parameter> all = new ArrayList<>();
    this.weightIh = new Parameter("weight_ih" + suffix, Shape.of(g, cell.inputSize()), dtype);
    this.weightHh = new Parameter("weight_hh" + suffix, Shape.of(g, outputSize()), dtype);
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
    this.weightHr = projection > 0
        ? new Parameter("weight_hr" + suffix, Shape.of(projection, cell.hiddenSize()), dtype)
        : null;
    if (weightHr != null) {
      all.add(weightHr);
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
   * {@code P}: the features of the output and of {@code h}, the projection's size, or the cell's
   * hidden size without one.
   *
   * @return {@code P}
   */
  public int outputSize() {
    return projection > 0 ? projection : cell.hiddenSize();
  }

  /**
   * {@code P} if there is a projection, else 0.
   *
   * @return the projection's size, or 0
   */
  public int projection() {
    return projection;
  }

  /**
   * The features of state {@code k}: {@link #outputSize()} for {@code h} (state 0), the cell's
   * hidden size for the others ({@code c}).
   *
   * @param k the state, {@code 0 <= k < cell().stateCount()}
   * @return its features
   */
  public int stateSize(int k) {
    return k == 0 ? outputSize() : cell.hiddenSize();
  }

  /**
   * {@return the parameters in torch's order: weight_ih, weight_hh, bias_ih, bias_hh, weight_hr,
   * then extras}
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
   * @param init the initial states ({@code [N, stateSize(k)]} each), one per {@link
   *     Cell#stateCount()}; null, or missing or null entries, for zeros
   * @param record whether to keep what {@link Run#backward} needs; without it the run holds only
   *     the states
   * @return the run: the states of every step and, with {@code record}, what backward reads
   * @throws IllegalArgumentException if a size, a storage length or the dtype does not fit
   */
  public Run forward(Storage x, int seq, int batch, Storage[] init, boolean record) {
    return forward(x, seq, batch, init, record, 0, null);
  }

  /**
   * As {@link #forward(Storage, int, int, Storage[], boolean)}, for a sequence whose first step is
   * step {@code firstStep} of a longer one (a window of truncated BPTT): {@link Step#time()}
   * counts from there.
   *
   * @param x the input, time-major {@code [T, N, H_in]}, flat
   * @param seq {@code T}, at least 1
   * @param batch {@code N}, at least 1
   * @param init the initial states; null, or missing or null entries, for zeros
   * @param record whether to keep what {@link Run#backward} needs
   * @param firstStep the index of {@code x}'s first step in the longer sequence
   * @return the run: the states of every step and, with {@code record}, what backward reads
   * @throws IllegalArgumentException if a size, a storage length or the dtype does not fit
   */
  public Run forward(Storage x, int seq, int batch, Storage[] init, boolean record,
      int firstStep) {
    return forward(x, seq, batch, init, record, firstStep, null);
  }

  /**
   * As {@link #forward(Storage, int, int, Storage[], boolean, int)}, each sequence over its own
   * steps: sequence {@code n} runs over steps {@code t < lengths.get(n)} (see the class comment);
   * the steps after are never read.
   *
   * @param x the input, time-major {@code [T, N, H_in]}, flat
   * @param seq {@code T}, at least 1
   * @param batch {@code N}, at least 1
   * @param init the initial states; null, or missing or null entries, for zeros
   * @param record whether to keep what {@link Run#backward} needs
   * @param firstStep the index of {@code x}'s first step in the longer sequence
   * @param lengths the length of each sequence, {@code <= T} ({@code 0} for one that does not
   *     run), or null for {@code T} each
   * @return the run: the states of every step and, with {@code record}, what backward reads
   * @throws IllegalArgumentException if a size, a storage length or the dtype does not fit, or a
   *     length exceeds {@code T}
   */
  public Run forward(Storage x, int seq, int batch, Storage[] init, boolean record,
      int firstStep, Lengths lengths) {
    return forward(x, seq, batch, init, record, firstStep, lengths, null);
  }

  /**
   * As {@link #forward(Storage, int, int, Storage[], boolean, int, Lengths)}, writing the output
   * {@code h_t} of every step into {@code out} ({@code [T, N, P]}, as {@link Run#copyOutput} with
   * {@code ld = P} writes it). An unrecorded run without lengths or projection has its steps
   * write there directly, and keeps only the last state of each kind besides (no {@code [T+1, N,
   * H]} buffers, no copy); the others copy their output there when done. A recorded run without
   * lengths or projection writes {@code h_t} there directly too and keeps no other copy of it:
   * its backward reads the states the steps started from there, so the caller leaves {@code
   * out} unchanged until {@link Backward#finish}.
   *
   * @param x the input, time-major {@code [T, N, H_in]}, flat
   * @param seq {@code T}, at least 1
   * @param batch {@code N}, at least 1
   * @param init the initial states; null, or missing or null entries, for zeros
   * @param record whether to keep what {@link Run#backward} needs
   * @param firstStep the index of {@code x}'s first step in the longer sequence
   * @param lengths the length of each sequence, {@code <= T}, or null for {@code T} each
   * @param out the storage of the output, {@code T * N * P} elements, or null for none
   * @return the run: the states and, with {@code record}, what backward reads
   * @throws IllegalArgumentException if a size, a storage length or the dtype does not fit, or a
   *     length exceeds {@code T}
   */
  public Run forward(Storage x, int seq, int batch, Storage[] init, boolean record,
      int firstStep, Lengths lengths, Storage out) {
    return forward(x, seq, batch, init, record, firstStep, lengths, out, null);
  }

  /**
   * An unrecorded run with lengths whose output is the packed rows of the real steps, as torch's
   * {@code PackedSequence.data}: step by step, the sequences still running, longest first ({@link
   * Lengths#pack}'s order), {@code [R, P]} with {@code R = lengths.total()}. A forward direction
   * without projection writes each step's {@code h_t} there directly (no padded {@code [T, N, P]}
   * output is written, zeroed and gathered); the others run as {@link #forward(Storage, int, int,
   * Storage[], boolean, int, Lengths, Storage)} into a padded buffer and pack it. The numbers are
   * those of that method's output at the real steps.
   *
   * @param x the input, time-major {@code [T, N, H_in]}, flat
   * @param seq {@code T}, at least 1
   * @param batch {@code N}, at least 1
   * @param init the initial states; null, or missing or null entries, for zeros
   * @param firstStep the index of {@code x}'s first step in the longer sequence
   * @param lengths the length of each sequence, {@code <= T}
   * @param packed the storage of the packed output, {@code R * P} elements
   * @return the unrecorded run: read its final states, then {@link Run#release} it
   * @throws IllegalArgumentException if a size, a storage length or the dtype does not fit, or a
   *     length exceeds {@code T}
   */
  public Run forwardPacked(Storage x, int seq, int batch, Storage[] init, int firstStep,
      Lengths lengths, Storage packed) {
    checkNotNull(lengths, "lengths");
    int w = outputSize();
    checkArgument(packed.length() == lengths.total() * w && packed.dtype() == dtype(),
        "%s expected a packed output of %s x %s elements of dtype %s but got %s of %s",
        cell.describe(), lengths.total(), w, dtype(), packed.length(), packed.dtype());
    if (!reverse && weightHr == null && lengths.batch() == batch && lengths.max() <= seq
        && !lengths.allEqual(seq)) {
      return forward(x, seq, batch, init, false, firstStep, lengths, null, packed);
    }
    Storage out = Storage.borrow(dtype(), seq * batch * w);
    Run run = forward(x, seq, batch, init, false, firstStep, lengths, out, null);
    for (int t = 0, r = 0; t < lengths.max(); t++) {
      for (int j = 0; j < lengths.active(t); j++, r++) {
        packed.copyFrom(out, (t * batch + lengths.order(j)) * w, r * w, w);
      }
    }
    Storage.giveBack(out);
    return run;
  }

  private Run forward(Storage x, int seq, int batch, Storage[] init, boolean record,
      int firstStep, Lengths lengths, Storage out, Storage packed) {
    // Each check builds its message (and boxes its numbers) only when it fails: a tiny run's
    // first few hundred calls are interpreted, where a varargs call costs more than its step.
    if (seq < 1 || batch < 1) {
      throw new IllegalArgumentException(Strings.lenientFormat(
          "%s expected seq >= 1 and batch >= 1 but got %s and %s", cell.describe(), seq, batch));
    }
    long widest = Math.max(Math.max(cell.gateSize(), cell.savedSize()),
        Math.max(cell.inputSize(), cell.hiddenSize()));
    if ((seq + 1L) * batch * widest > Shape.MAX_ELEMENTS) {
      throw new IllegalArgumentException(Strings.lenientFormat(
          "%s over %s steps of %s sequences needs buffers of %s x %s x %s numbers, more than the %s"
              + " an array holds; split the sequences (truncated BPTT) or the batch",
          cell.describe(), seq, batch, seq + 1L, batch, widest, Shape.MAX_ELEMENTS));
    }
    if (x.length() != seq * batch * cell.inputSize()) {
      throw new IllegalArgumentException(Strings.lenientFormat(
          "%s expected input of %s x %s x %s elements but got %s", cell.describe(), seq, batch,
          cell.inputSize(), x.length()));
    }
    if (x.dtype() != dtype()) {
      throw new IllegalArgumentException(Strings.lenientFormat(
          "%s expected input of dtype %s but got %s", cell.describe(), dtype(), x.dtype()));
    }
    if (lengths != null && !(lengths.batch() == batch && lengths.max() <= seq)) {
      throw new IllegalArgumentException(Strings.lenientFormat(
          "%s expected the lengths of %s sequences of at most %s steps but got %s",
          cell.describe(), batch, seq, lengths));
    }
    if (out != null && !(out.length() == (long) seq * batch * outputSize()
        && out.dtype() == dtype())) {
      throw new IllegalArgumentException(Strings.lenientFormat(
          "%s expected an output of %s x %s x %s elements of dtype %s but got %s of %s",
          cell.describe(), seq, batch, outputSize(), dtype(), out.length(), out.dtype()));
    }
    Run run = new Run(x, seq, batch, init, record, firstStep,
        lengths == null || lengths.allEqual(seq) ? null : lengths, out, packed);
    for (int p = 0; p < seq; p++) {
      if (run.step.x == null && p == run.xpNext) {             // else each step projects x_t
        run.projectChunk(p);                                    // XP = X W_ih^T + b_ih, by chunks
      }
      run.aim(p);                                               // at XP[t], h_{t-1}, h_t, saved
      if (run.step.batch > 0) {
        step(run.step);                                         // hp = h W_hh^T + b_hh; the cell
      }
      if (run.scatter != null) {
        run.scatterStep(p);                                     // h_t's rows to their places
      }
    }
    run.endForward();                                           // XP back to the pool
    if (out != null && run.out == null) {
      run.copyOutput(out, 0, outputSize());
    }
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
   * then the cell, then under a projection {@code h_t = m_t W_hr^T}. {@code s} is aimed at {@code
   * XP[t]}, the previous and next states and the saved block of the step.
   */
  void step(Step s) {
    if (s.packedHh != null && s.packedHh.byGates()) {          // the cell declared Kernel.LSTM
      s.packedHh.lstmStep(s);                                   // the product and the cell at once
    } else {
      if (summed) {
        sumProjections(s);
      } else {
        projectHidden(s);
      }
      if (fusedLstm && nativeCell()) {
        lstmCell(s);                                            // the cell's equations in C
      } else if (gruKernel && nativeCell()) {
        gruCell(s);                                             // GruCell's equations in C
      } else {
        cell.forward(s);
      }
    }
    if (weightHr != null) {
      projectOutput(s);
    }
  }

  /** Under a projection: {@code h_t = m_t W_hr^T}, one gemm (or the packed {@code W_hr^T}). */
  private void projectOutput(Step s) {
    int hidden = cell.hiddenSize();
    if (s.packedHr != null) {
      s.packedHr.multiply(s.batch, s.next[0], s.nextOff[0], hidden, PackedWeight.Init.ZERO, null,
          0, 0, s.out, s.outOff, projection);
      return;
    }
    s.out.gemm(false, true, s.batch, projection, hidden, 1, s.next[0], s.nextOff[0], hidden,
        weightHr.data(), 0, hidden, 0, s.outOff, projection);
  }

  /** {@code hp = h_{t-1} W_hh^T + b_hh}: one gemm. */
  private void projectHidden(Step s) {
    int g = cell.gateSize();
    int h = outputSize();
    if (s.packedHh != null) {
      s.packedHh.multiply(s.batch, s.prev[0], s.prevOff[0], h,
          biasHh == null ? PackedWeight.Init.ZERO : PackedWeight.Init.SOURCE,
          biasHh == null ? null : biasHh.data(), 0, 0, s.hp, s.hpOff, g);
      return;
    }
    if (biasHh != null) {
      s.hp.setRows(s.hpOff, s.batch, g, biasHh.data(), 0);
    }
    s.hp.gemm(false, true, s.batch, g, h, 1, s.prev[0], s.prevOff[0], h,
        weightHh.data(), 0, h, biasHh == null ? 0 : 1, s.hpOff, g);
  }

  /**
   * One time step for streaming: {@code xp = x_t W_ih^T + b_ih} ({@code x_t [N, H_in]} at {@code
   * xOff}), then {@link #step}. {@code s} comes from {@link #streamStep} and is aimed at the
   * previous and next states by {@link #aimStream}.
   */
  void stream(Step s, Storage x, int xOff) {
    project(x, xOff, s.batch, s);
    s.xpOff = 0;
    s.time = 0;
    step(s);
  }

  /**
   * Aims state {@code k} of a streaming step at the state before it ({@code prev}) and after it
   * ({@code next}); under a projection the cell writes {@code m_t} into the step's own buffer and
   * {@link #step} writes {@code h_t} to {@code next}.
   */
  void aimStream(Step s, int k, Storage prev, int prevOff, Storage next, int nextOff) {
    s.prev[k] = prev;
    s.prevOff[k] = prevOff;
    if (k == 0 && weightHr != null) {
      s.out = next;
      s.outOff = nextOff;
    } else {
      s.next[k] = next;
      s.nextOff[k] = nextOff;
    }
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
    int h = outputSize();
    if (s.packedHh != null) {
      s.packedHh.multiply(s.batch, s.prev[0], s.prevOff[0], h, PackedWeight.Init.SOURCE, s.xp,
          s.xpOff, g, s.hp, s.hpOff, g);
      return;
    }
    if (s.hpT != null && s.batch >= 2 && s.batch <= FEW_ROWS) {
      // A few rows left (a ragged batch's last sequences): BLAS is faster at W_hh h^T, [G, n],
      // whose transpose is added to XP[t].
      s.hpT.gemm(false, true, g, s.batch, h, 1, weightHh.data(), 0, h, s.prev[0], s.prevOff[0], h,
          0, 0, s.batch);
      s.hp.addTransposed(s.hpOff, s.xp, s.xpOff, s.hpT, 0, s.batch, g);
      return;
    }
    s.hp.copyFrom(s.xp, s.xpOff, s.hpOff, s.batch * g);
    s.hp.gemm(false, true, s.batch, g, h, 1, s.prev[0], s.prevOff[0], h,
        weightHh.data(), 0, h, 1, s.hpOff, g);
  }

  /**
   * Up to this many rows, a run with lengths computes the summed hidden projection as {@code (W_hh
   * h^T)^T}: OpenBLAS's gemm is 20-30% faster in that orientation for a few rows, since then the
   * weights are the operand it streams.
   */
  private static final int FEW_ROWS = 32;

  /**
   * The rows of a block of {@link Backward#lstmStepBackward}, the unit the two threads share: one
   * tile of the kernel's rows ({@code MR512}), so that a step's blocks cost what its tiles do.
   */
  private static final int ROW_BLOCK = 6;

  /**
   * The rows of gate gradients a backward pass by chunks ({@link Run#backwardByChunks}) holds at
   * once, in whole steps (one step at least): 512 rows keep the weight gradients' products deep
   * enough to run at full rate, while a pass of many steps holds a fraction of its {@code [T * N,
   * G]} gradients (lstm-l: 4 MB instead of 26 per buffer; gru-m: 1.6 MB instead of 20 for each
   * of {@code dXP} and {@code dHP}).
   */
  static final int CHUNK_ROWS = 512;

  /**
   * Up to this many elements ({@code 4 MB} of float32), a run's {@code XP} and a pass's gate
   * gradients are held whole, not by chunks: small buffers cost little memory, and split into
   * chunks their products run narrower (elman-s, {@code 2048 x 128}, trained 10% slower at two
   * threads, where OpenBLAS shares its sequence-wide products). Per thread, read at each run;
   * only tests change it (to run small shapes by chunks), and {@code remove()} it after.
   */
  static final ThreadLocal<Integer> WHOLE_MAX = ThreadLocal.withInitial(() -> 1 << 20);

  /**
   * The rows of a chunk of buffers of {@code width} columns over {@code rows} rows of {@code
   * batch}: all of them up to {@link #WHOLE_MAX} elements, else {@link #CHUNK_ROWS} (or a step's
   * {@code batch}, if more).
   */
  static int chunkRows(int rows, int batch, int width) {
    return (long) rows * width <= WHOLE_MAX.get() ? rows : Math.min(rows, Math.max(CHUNK_ROWS, batch));
  }

  // ---- the fast path of the native kernels: weights packed once per call ---------------------

  /**
   * Whether a run of {@code seq} steps packs its weights once for the native kernels: float32,
   * the kernels loaded and on ({@link Native#enabled()}), more than one step, products large
   * enough ({@link Native#minWork()}: the seed's 2 x 8 stays on BLAS).
   */
  private boolean packs(int seq) {
    return dtype() == DType.FLOAT32 && seq > 1 && Native.enabled()
        && (long) cell.gateSize() * outputSize() >= Native.minWork();
  }

  /**
   * Packs {@code W_hh^T} and {@code W_hr^T} into {@code s}, for every step of a forward run; for
   * the fused LSTM step (by gates, when the processor runs it) {@code [W_ih | W_hh]^T} with the
   * folded bias, so that each step projects its own input and no {@code XP} is kept.
   */
  private void packForward(Step s) {
    int h = outputSize();
    s.packedHh = fusedLstm && Native.isa() == Native.Isa.AVX512
        ? PackedWeight.ofGates(weightIh.data(), cell.inputSize(), weightHh.data(),
            cell.hiddenSize(), h, projectionBias(s))
        : PackedWeight.of(weightHh.data(), true, cell.gateSize(), h);
    if (weightHr != null) {
      s.packedHr = PackedWeight.of(weightHr.data(), true, projection, cell.hiddenSize());
    }
  }

  /**
   * Whether the declared LSTM kernel's cell part runs in C where the product is not fused with
   * it (a step without packed weights, as streaming's, and every backward step): float32,
   * AVX-512, products not below {@link Native#minWork()}. Then the Java cell is not needed by any
   * float32 path, which also spares streaming the warm-up of code that training and inference no
   * longer run.
   */
  private boolean nativeCell() {
    return dtype() == DType.FLOAT32 && Native.isa() == Native.Isa.AVX512
        && (long) cell.gateSize() * outputSize() >= Native.minWork();
  }

  /** {@link LstmCell#forward} in C, on {@code z} in {@code hp}, as the fused step's cell part. */
  private void lstmCell(Step s) {
    Native.lstmCell(s.batch, cell.hiddenSize(), LstmCell.f32(s.hp), s.hpOff,
        LstmCell.f32(s.prev[1]), s.prevOff[1], LstmCell.f32(s.next[0]), s.nextOff[0],
        LstmCell.f32(s.next[1]), s.nextOff[1], LstmCell.f32(s.saved), s.savedOff);
  }

  /** {@link LstmCell#backward} in C, for a cell that declares {@link Cell.Kernel#LSTM}. */
  private void lstmCellBackward(Step s) {
    int hidden = cell.hiddenSize();
    Native.lstmCellBackward(s.batch, hidden, LstmCell.f32(s.saved), s.savedOff,
        s.savedOff + s.batch * cell.gateSize(), LstmCell.f32(s.prev[1]), s.prevOff[1],
        LstmCell.f32(s.dNext[0]), s.dNextOff[0], LstmCell.f32(s.dNext[1]), s.dNextOff[1],
        LstmCell.f32(s.dxp), s.dxpOff, LstmCell.f32(s.dPrev[1]), s.dPrevOff[1]);
    s.dPrev[0].fill(s.dPrevOff[0], s.batch * hidden, 0);
  }

  /** {@link GruCell#forward} in C, for a cell that declares {@link Cell.Kernel#GRU}. */
  private void gruCell(Step s) {
    Native.gruCell(s.batch, cell.hiddenSize(), LstmCell.f32(s.xp), s.xpOff, LstmCell.f32(s.hp),
        s.hpOff, LstmCell.f32(s.prev[0]), s.prevOff[0], LstmCell.f32(s.next[0]), s.nextOff[0],
        LstmCell.f32(s.saved), s.savedOff);
  }

  /** {@link GruCell#backward} in C, for a cell that declares {@link Cell.Kernel#GRU}. */
  private void gruCellBackward(Step s) {
    Native.gruCellBackward(s.batch, cell.hiddenSize(), LstmCell.f32(s.saved), s.savedOff,
        LstmCell.f32(s.prev[0]), s.prevOff[0], LstmCell.f32(s.dNext[0]), s.dNextOff[0],
        LstmCell.f32(s.dxp), s.dxpOff, LstmCell.f32(s.dhp), s.dhpOff, LstmCell.f32(s.dPrev[0]),
        s.dPrevOff[0]);
  }

  /** The elements a saved buffer gets beyond its blocks, so that they can start aligned. */
  static final int ALIGN_PAD = 15;

  /** Per thread: whether {@link #alignedBase} aligns the saved blocks ({@link #unaligned}). */
  private static final ThreadLocal<Boolean> UNALIGNED = ThreadLocal.withInitial(() -> false);

  /**
   * The first element of {@code saved} at a 64-byte boundary ({@link Native#alignment}), where
   * the fused LSTM kernel writes the saved blocks with streaming stores; inside {@link
   * #unaligned}, the element after it, where it stores them as usual.
   */
  private static int alignedBase(Storage saved) {
    int base = Native.alignment(LstmCell.f32(saved));
    return UNALIGNED.get() ? (base + 1) % 16 : base;
  }

  /**
   * Runs {@code body} with the saved blocks of this thread's recorded runs off the 64-byte
   * boundary, so stored without streaming stores: for the test that both give the same bits.
   */
  static void unaligned(Runnable body) {
    boolean was = UNALIGNED.get();
    UNALIGNED.set(true);
    try {
      body.run();
    } finally {
      UNALIGNED.set(was);
    }
  }

  /** Drops the weights {@link #packForward} packed, so that the run does not hold them. */
  private static void releasePacked(Step s) {
    s.packedHh = null;
    s.packedHr = null;
    s.x = null;
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
   * caller aims its previous and next states with {@link #aimStream}.
   */
  Step streamStep(int batch) {
    Step s = newStep(batch);
    int g = cell.gateSize();
    s.xp = Storage.allocate(dtype(), batch * g);
    s.hp = Storage.allocate(dtype(), batch * g);
    s.saved = Storage.allocate(dtype(), batch * cell.savedSize());
    if (weightHr != null) {
      s.next[0] = Storage.allocate(dtype(), batch * cell.hiddenSize());
      s.nextOff[0] = 0;
    }
    return s;
  }

  /**
   * Where each step's rows are, for a batch of {@code N} sequences of {@code T} steps whose
   * sorted lengths leave {@code n_t} running at step {@code t} ({@code n_t = N} without lengths).
   *
   * <p>States: slot {@code u} ({@code 0 <= u <= T}) holds {@code m_u} rows from row {@code
   * slot[u]}, with {@code m_0 = N} and {@code m_u = n_{u-1}}. Forward, slot {@code t} is the state
   * step {@code t} starts from (its first {@code n_t} rows; the others are the final states of the
   * sequences that ended at {@code t-1}) and slot {@code t+1} the state after it. In reverse,
   * slot {@code t+1} is the state step {@code t} starts from (the state after step {@code t+1} in
   * its first {@code n_{t+1}} rows, then the initial states of the sequences that start at {@code
   * t}) and slot {@code t} the state after it. Either way the states that the steps start from are
   * one contiguous block, so {@code dW_hh} stays one gemm.
   *
   * <p>Projections: step {@code t}'s block starts at row {@code block[t]} and has {@code
   * blockRows[t]} rows, the first {@code n_t} real: forward, the block lines up with the state
   * slot the step starts from ({@code blockRows = m_t}, the rows past {@code n_t} are zero);
   * reverse, the blocks are packed ({@code blockRows = n_t}). Without lengths both are {@code t *
   * N}: the plain layout.
   */
  private final class Layout {
    final int[] active;
    final int[] slot;
    final int[] block;
    final int[] blockRows;
    final int rows;

    Layout(int seq, int batch, Lengths lengths) {
      active = new int[seq];
      slot = new int[seq + 2];
      block = new int[seq];
      blockRows = new int[seq];
      for (int t = 0; t < seq; t++) {
        active[t] = lengths == null ? batch : lengths.active(t);
      }
      for (int u = 0; u <= seq; u++) {
        slot[u + 1] = slot[u] + slotRows(u, batch);
      }
      int packed = 0;
      for (int t = 0; t < seq; t++) {
        block[t] = reverse ? packed : slot[t];
        blockRows[t] = reverse ? active[t] : slotRows(t, batch);
        packed += active[t];
      }
      rows = reverse ? packed : slot[seq];
    }

    /** {@code m_u}: {@code N} for slot 0, else {@code n_{u-1}}. */
    int slotRows(int u, int batch) {
      return u == 0 ? batch : active[u - 1];
    }
  }

  /**
   * One run of the scan over one sequence: the states of every step and, when recorded, what
   * backward needs. Read the results with {@link #copyOutput} and {@link #copyFinalState}; then
   * either {@link #release} it or, if recorded, run its {@link #backward}, whose {@link
   * Backward#finish} releases it.
   *
   * <p>States are kept in time order, so that the outputs of all steps, and the states each step
   * started from, are contiguous blocks: slot {@code t + 1} holds the state after time {@code t}
   * and slot 0 the initial state; in reverse, slot {@code t} holds the state after time {@code t}
   * and slot {@code T} the initial state. With lengths, the rows are in the sorted order of the
   * sequences and the slots shrink as they end (see {@code Layout}).
   */
  public final class Run {
    private final Storage x;
    private final int seq;
    private final int batch;
    private final boolean record;
    private final int firstStep;
    private final Lengths lengths;
    private final Layout layout;
    /** The input in the layout: {@code x} itself without lengths, else its real rows sorted. */
    private final Storage xs;
    private final Step step;
    private final Storage[] states;
    /**
     * Whether the run keeps only the last state of each kind: two slots used in turn, step {@code
     * p} reading slot {@code p % 2} and writing the other. Unrecorded without lengths; with them,
     * unrecorded forward without projection into the caller's output ({@link #scatter}, or
     * {@link #packed}, which then holds {@code h} and slot 0 only the initial {@code h}): the
     * active rows only shrink, so a sequence's final state stays in the slot its last step wrote
     * ({@code length % 2}), which no later step overwrites.
     */
    private final boolean compact;
    /**
     * The caller's output of a compact run with lengths, {@code [T, N, P]}: each step's running
     * rows are copied there from the slot just written (still in cache), the others zeroed; else
     * null.
     */
    private final Storage scatter;
    /**
     * The caller's output, which the steps write {@code h_t} into directly (a compact run without
     * projection), time-ordered {@code [T, N, P]}; else null, and {@code h} is kept in slots.
     */
    private final Storage out;
    /**
     * The caller's packed output ({@link #forwardPacked}), which the steps of a compact forward run
     * with lengths write {@code h_t} into directly, step {@code t}'s rows from row {@code
     * packedRow[t]}; else null.
     */
    private final Storage packed;
    private final int[] packedRow;
    /**
     * Where the saved blocks start in {@code step.saved} (the block of time {@code t} at {@code
     * savedBase + block[t] * savedSize}): the first element at a 64-byte boundary for the fused
     * LSTM kernel of a recorded run, else 0.
     */
    private final int savedBase;
    /** Under a projection, the cell's outputs {@code m_t} of every step (or of one), else null. */
    private Storage m;
    /**
     * The rows of {@code XP} the run holds at once ({@link #chunkRows}): all of them, or, for an
     * {@code XP} of more than {@code WHOLE_MAX} elements, a chunk of steps of about {@code
     * CHUNK_ROWS} rows (one step at least), projected by one gemm when the loop reaches it.
     */
    private final int xpCap;
    /** The layout row at row 0 of {@code XP}: the first of its chunk's blocks. */
    private int xpBase;
    /** The processing step at which the next chunk of {@code XP} is projected. */
    private int xpNext;
    private boolean backwardBegun;
    private boolean released;

    private Run(Storage x, int seq, int batch, Storage[] init, boolean record, int firstStep,
        Lengths lengths, Storage out, Storage packed) {
      this.x = x;
      this.compact = !record && (lengths == null
          || !reverse && weightHr == null && (out != null || packed != null));
      this.packed = packed;
      this.out = (compact || record) && weightHr == null && lengths == null ? out : null;
      this.scatter = compact && lengths != null ? out : null;
      this.seq = seq;
      this.batch = batch;
      this.record = record;
      this.firstStep = firstStep;
      this.lengths = lengths;
      this.layout = new Layout(seq, batch, lengths);
      this.xpCap = chunkRows(layout.rows, batch, cell.gateSize());
      this.packedRow = packed == null ? null : new int[seq + 1];
      for (int t = 0; packed != null && t < seq; t++) {
        packedRow[t + 1] = packedRow[t] + layout.active[t];
      }
      DType dt = x.dtype();
      int g = cell.gateSize();
      int rows = layout.rows;
      // Every element of the borrowed buffers is written before it is read (the initial rows of
      // the states here, the gap rows below), so they may come from the pool.
      this.xs = lengths == null ? x : gather(x);
      this.step = newStep(batch);
      step.hp = Storage.borrow(dt, batch * g);
      if (lengths != null && summed) {
        step.hpT = Storage.allocate(dt, Math.min(batch, FEW_ROWS) * g);
      }
      if (packs(seq)) {
        packForward(step);
      }
      // The fused LSTM kernel of an unrecorded run saves nothing (saved null); the cells save
      // their block of each step in turn. A recorded run's fused kernel writes the saved blocks
      // from a 64-byte boundary, with streaming stores (see Native#lstm).
      boolean fused = step.packedHh != null && step.packedHh.byGates();
      step.saved = !record && fused ? null : Storage.borrow(dt,
          (record ? rows : batch) * cell.savedSize() + (record && fused ? ALIGN_PAD : 0));
      this.savedBase = record && fused ? alignedBase(step.saved) : 0;
      if (step.packedHh != null && step.packedHh.inputs() > 0) {
        step.x = xs;                                            // the fused step projects x_t
      } else {
        step.xp = Storage.borrow(dt, xpCap * g);
      }
      if (weightHr != null) {
        int hidden = cell.hiddenSize();
        m = Storage.borrow(dt, (record ? rows : batch) * hidden);
        for (int t = 0; record && t < seq; t++) {
          m.fill((layout.block[t] + layout.active[t]) * hidden,
              (layout.blockRows[t] - layout.active[t]) * hidden, 0);
        }
      }
      this.states = new Storage[cell.stateCount()];
      for (int k = 0; k < states.length; k++) {
        int w = stateSize(k);
        states[k] = Storage.borrow(dt, (fullSlots(k) ? layout.slot[seq + 1] : 2 * batch) * w);
        Storage s0 = entry(init, k);
        if (s0 != null && s0.length() != batch * w) {
          throw new IllegalArgumentException(Strings.lenientFormat(
              "%s expected initial state %s of %s x %s elements but got %s", cell.describe(), k,
              batch, w, s0.length()));
        }
        setInitial(states[k], w, s0, fullSlots(k));
      }
    }

    /**
     * The real rows of {@code x} in the layout: step {@code t}'s running sequences in sorted
     * order, then zeros in the rest of its block. The padding is never read.
     */
    private Storage gather(Storage x) {
      int in = cell.inputSize();
      Storage out = Storage.borrow(x.dtype(), layout.rows * in);
      for (int t = 0; t < seq; t++) {
        int n = layout.active[t];
        for (int j = 0; j < n; j++) {
          out.copyFrom(x, (t * batch + lengths.order(j)) * in, (layout.block[t] + j) * in, in);
        }
        out.fill((layout.block[t] + n) * in, (layout.blockRows[t] - n) * in, 0);
      }
      return out;
    }

    /**
     * Writes the initial state {@code s0} (zeros if null) into the rows of the slots that hold
     * it: slot 0 (forward) or slot {@code T} (reverse) without lengths (slot 0 of a compact
     * state's two); with them, forward slot 0, reverse the rows of each slot past the sequences
     * still running there.
     */
    private void setInitial(Storage st, int w, Storage s0, boolean full) {
      if (lengths == null) {
        int first = full ? layout.slot[reverse ? seq : 0] * w : 0;
        if (s0 == null) {
          st.fill(first, batch * w, 0);
        } else {
          st.copyFrom(s0, 0, first, batch * w);
        }
        return;
      }
      for (int u = 0; u <= seq; u++) {
        int from = reverse ? (u < seq ? layout.active[u] : 0) : 0;
        int to = reverse || u == 0 ? layout.slotRows(u, batch) : 0;
        for (int j = from; j < to; j++) {
          int row = (layout.slot[u] + j) * w;
          if (s0 == null) {
            st.fill(row, w, 0);
          } else {
            st.copyFrom(s0, lengths.order(j) * w, row, w);
          }
        }
      }
    }

    /**
     * Whether state {@code k} keeps a slot per step ({@code [T+1, N, w]}, time-ordered) rather
     * than the two of a compact run: recorded or with lengths, and the output {@code h} when the
     * caller did not take it directly. The output {@code h} written into the caller's {@link
     * #out} keeps the two slots (the initial state in slot 0), recorded or not.
     */
    private boolean fullSlots(int k) {
      if (k == 0 && out != null) {
        return false;
      }
      return !compact || k == 0 && scatter == null && packed == null;
    }

    /**
     * A compact run with lengths: copies the running rows of {@code h_t} (processing step {@code
     * p}, in the slot it just wrote) to their sequences' rows of time {@code t} of the output, and
     * zeros the rows of the sequences that ended before {@code t}.
     */
    private void scatterStep(int p) {
      int t = time(p);
      int w = stateSize(0);
      int n = layout.active[t];
      int from = (~p & 1) * batch * w;
      for (int j = 0; j < batch; j++) {
        int to = (t * batch + lengths.order(j)) * w;
        if (j < n) {
          scatter.copyFrom(states[0], from + j * w, to, w);
        } else {
          scatter.fill(to, w, 0);
        }
      }
    }

    /**
     * Aims the step at processing step {@code p}, time {@code t = time(p)}: the {@code n_t} rows
     * of {@code XP[t]}, the state before and after {@code t}, and the saved block of {@code t}.
     */
    private void aim(int p) {
      int t = time(p);
      step.batch = layout.active[t];
      step.time = firstStep + t;
      step.xpOff = (layout.block[t] - xpBase) * cell.gateSize();
      step.xOff = layout.block[t] * cell.inputSize();
      step.hpOff = 0;
      step.savedOff = record ? savedBase + layout.block[t] * cell.savedSize() : 0;
      for (int k = 0; k < states.length; k++) {
        int w = stateSize(k);
        step.prev[k] = states[k];
        step.next[k] = states[k];
        if (fullSlots(k)) {
          step.prevOff[k] = layout.slot[slotBefore(t)] * w;
          step.nextOff[k] = layout.slot[slotAfter(t)] * w;
        } else {
          step.prevOff[k] = (p & 1) * batch * w;
          step.nextOff[k] = (~p & 1) * batch * w;
        }
      }
      if (out != null) {                                        // h_t straight into the output
        int w = stateSize(0);
        if (p > 0) {
          step.prev[0] = out;
          step.prevOff[0] = time(p - 1) * batch * w;
        }
        step.next[0] = out;
        step.nextOff[0] = t * batch * w;
      }
      if (packed != null) {                                     // h_t straight into its rows
        int w = stateSize(0);
        if (p > 0) {
          step.prev[0] = packed;
          step.prevOff[0] = packedRow[t - 1] * w;
        }
        step.next[0] = packed;
        step.nextOff[0] = packedRow[t] * w;
      }
      if (weightHr != null) {
        step.out = step.next[0];
        step.outOff = step.nextOff[0];
        step.next[0] = m;
        step.nextOff[0] = record ? layout.block[t] * cell.hiddenSize() : 0;
      }
    }

    /**
     * {@code XP = X W_ih^T + b_ih} for the chunk of steps from processing step {@code p}: the
     * steps from {@code p} on while their blocks fit in {@link #xpCap} rows (one at least), whose
     * blocks are consecutive rows of the layout, into {@code XP} from row 0. One gemm per chunk:
     * each row's sums are those of one gemm over every row.
     */
    private void projectChunk(int p) {
      int rows = layout.blockRows[time(p)];
      int q = p;
      while (q + 1 < seq && rows + layout.blockRows[time(q + 1)] <= xpCap) {
        q++;
        rows += layout.blockRows[time(q)];
      }
      xpBase = layout.block[Math.min(time(p), time(q))];
      xpNext = q + 1;
      project(xs, xpBase * cell.inputSize(), rows, step);
    }

    /**
     * Backward does not read the projections (see {@link Cell#backward}): they go back to the
     * pool for the next run, and so do {@code saved} and {@code m} of an unrecorded run.
     */
    private void endForward() {
      releasePacked(step);
      Storage.giveBack(step.xp);
      Storage.giveBack(step.hp);
      step.xp = null;
      step.hp = null;
      if (!record) {
        Storage.giveBack(step.saved);
        step.saved = null;
        Storage.giveBack(m);
        m = null;
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
      Storage.giveBack(m);
      m = null;
      if (xs != x) {
        Storage.giveBack(xs);
      }
      for (Storage st : states) {
        Storage.giveBack(st);
      }
    }

    /**
     * The elements of the buffers this run holds now (states, saved blocks, projections, the
     * sorted input, {@code m}): what a recorded run keeps for its backward once its forward is
     * done. The caller's output is not counted.
     */
    long footprint() {
      long n = lengthOf(step.saved) + lengthOf(m) + lengthOf(step.xp) + lengthOf(step.hp)
          + (xs != x ? xs.length() : 0);
      for (Storage st : states) {
        n += lengthOf(st);
      }
      return n;
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

    /** The batch index of the sequence in sorted row {@code j}. */
    private int sequence(int j) {
      return lengths == null ? j : lengths.order(j);
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
     * n*ld}: a {@code [T, N, ld]} block whose columns {@code [0, P)} are this direction's; zeros
     * at the steps after a sequence's length.
     *
     * @param out the storage written
     * @param off the offset of the block
     * @param ld the row width of the block, at least {@code P}
     * @throws IllegalStateException if the run was released
     */
    public void copyOutput(Storage out, int off, int ld) {
      checkLive("copyOutput");
      int w = outputSize();
      if (scatter != null) {                                    // the steps wrote it there
        if (scatter != out || off != 0 || ld != w) {
          out.copyBlock(scatter, 0, w, off, ld, seq * batch, w);
        }
        return;
      }
      if (packed != null) {
        for (int t = 0; t < seq; t++) {
          for (int j = 0; j < batch; j++) {
            int to = off + (t * batch + sequence(j)) * ld;
            if (j < layout.active[t]) {
              out.copyFrom(packed, (packedRow[t] + j) * w, to, w);
            } else {
              out.fill(to, w, 0);
            }
          }
        }
        return;
      }
      if (lengths == null) {
        Storage hs = this.out != null ? this.out : states[0];
        int from = this.out != null ? 0 : layout.slot[slotAfter(0)] * w;
        if (hs == out && from == off && ld == w) {
          return;                                               // the steps wrote it there
        }
        if (ld == w) {
          out.copyFrom(hs, from, off, seq * batch * w);
        } else {
          out.copyBlock(hs, from, w, off, ld, seq * batch, w);
        }
        return;
      }
      for (int t = 0; t < seq; t++) {
        int n = layout.active[t];
        int from = layout.slot[slotAfter(t)] * w;
        for (int j = 0; j < batch; j++) {
          int to = off + (t * batch + sequence(j)) * ld;
          if (j < n) {
            out.copyFrom(states[0], from + j * w, to, w);
          } else {
            out.fill(to, w, 0);
          }
        }
      }
    }

    /**
     * Copies the output of a recorded run with lengths into {@code packed} as its packed rows
     * ({@link Lengths#pack}'s order, {@code [R, P]}): step {@code t}'s running rows are one block
     * of its slot, already in sorted order. The same numbers as {@link #copyOutput} then
     * gathering them, without the padded output.
     *
     * @param packed the storage written, {@code R * P} elements
     * @throws IllegalStateException if the run was released, or is not recorded with lengths
     */
    public void copyPacked(Storage packed) {
      checkLive("copyPacked");
      checkState(record && lengths != null && !compact,
          "%s: copyPacked needs a recorded run with lengths", cell.describe());
      int w = outputSize();
      for (int t = 0, r = 0; t < seq; t++) {
        int n = layout.active[t];
        packed.copyFrom(states[0], layout.slot[slotAfter(t)] * w, r * w, n * w);
        r += n;
      }
    }

    /**
     * Copies final state {@code k} ({@code [N, stateSize(k)]}) into {@code out} at {@code off}:
     * each sequence's state after its own last step.
     *
     * @param k the state, 0 for {@code h}, 1 for {@code c}
     * @param out the storage written
     * @param off the offset written at
     * @throws IllegalStateException if the run was released
     */
    public void copyFinalState(int k, Storage out, int off) {
      checkLive("copyFinalState");
      int w = stateSize(k);
      if (lengths == null) {
        if (k == 0 && this.out != null) {
          out.copyFrom(this.out, time(seq - 1) * batch * w, off, batch * w);
        } else if (fullSlots(k)) {
          out.copyFrom(states[k], layout.slot[slotAfter(time(seq - 1))] * w, off, batch * w);
        } else {
          out.copyFrom(states[k], (seq & 1) * batch * w, off, batch * w);
        }
        return;
      }
      for (int j = 0; j < batch; j++) {
        int n = sequence(j);
        int u = reverse ? 0 : lengths.get(n);
        if (k == 0 && packed != null && u > 0) {                // its last step's row
          out.copyFrom(packed, (packedRow[u - 1] + j) * w, off + n * w, w);
          continue;
        }
        int row = compact ? (u & 1) * batch + j : layout.slot[u] + j;  // see compact
        out.copyFrom(states[k], row * w, off + n * w, w);
      }
    }

    /**
     * Begins the backward pass of this run, seeded with the gradients of the final states.
     *
     * @param dFinal {@code dL/dh_T} (and {@code dL/dc_T}), {@code [N, stateSize(k)]} each at offset
     *     0; null, or missing or null entries, for zero
     * @return the backward pass: call {@link Backward#step} for {@code p = T-1} down to 0, then
     *     {@link Backward#finish}
     * @throws IllegalStateException if the run was not recorded, was released, or its backward
     *     already began
     * @throws IllegalArgumentException if a gradient is not {@code N * stateSize(k)} elements
     */
    public Backward backward(Storage[] dFinal) {
      return beginBackward(dFinal, false, null);
    }

    /**
     * As {@link #backward(Storage[])}, told the input gradient up front, so that the pass holds
     * the gate gradients of a chunk of steps at a time instead of all {@code T} when they are
     * large (more than {@code WHOLE_MAX} elements, 4 MB of float32): each time a chunk of about
     * {@code CHUNK_ROWS} (512) rows is done, its weight and bias gradients and its rows of the
     * input gradient are added ({@code dW_ih += dXP_c^T X_c}, {@code dW_hh += dHP_c^T H_c},
     * {@code dX_c += dXP_c W_ih}), and the chunk's buffers serve the next one. The gradients are
     * those of {@link #backward(Storage[])} up to the order of the sums over steps; a pass held
     * whole gives the same bits.
     *
     * @param dFinal {@code dL/dh_T} (and {@code dL/dc_T}), {@code [N, stateSize(k)]} each at offset
     *     0; null, or missing or null entries, for zero
     * @param dx the input gradient {@code [T, N, H_in]} added to as chunks end, or null when it is
     *     not needed; {@link Backward#finish} must be given the same
     * @return the backward pass, used as {@link #backward(Storage[])}'s
     * @throws IllegalStateException if the run was not recorded, was released, or its backward
     *     already began
     * @throws IllegalArgumentException if a gradient is not of the size of a state or the input
     */
    public Backward backwardByChunks(Storage[] dFinal, Storage dx) {
      return beginBackward(dFinal, true, dx);
    }

    private Backward beginBackward(Storage[] dFinal, boolean byChunks, Storage dx) {
      checkState(record, "%s: backward needs a forward run with record = true", cell.describe());
      checkLive("backward");
      checkState(!backwardBegun, "%s: backward already began on this run; run forward again",
          cell.describe());
      checkInputGradient(dx);
      backwardBegun = true;
      return new Backward(this, dFinal, byChunks, dx);
    }

    /** Checks that {@code dx}, unless null, is of the input's size, {@code [T, N, H_in]}. */
    private void checkInputGradient(Storage dx) {
      if (dx != null && dx.length() != seq * batch * cell.inputSize()) {
        throw new IllegalArgumentException(Strings.lenientFormat(
            "%s expected an input gradient of %s x %s x %s elements but got %s", cell.describe(),
            seq, batch, cell.inputSize(), dx.length()));
      }
    }
  }

  /**
   * The backward pass of one {@link Run}: begun by {@link Run#backward} with the final-state
   * gradients, then one {@link #step} per time step, last first, then {@link #finish}, which adds
   * the weight, bias, input and initial-state gradients.
   *
   * <p>The gate gradients are kept in the run's layout, {@code dXP} and {@code dHP} {@code [T*N,
   * G]} without lengths, so that each weight gradient is one gemm over all steps after the loop.
   * With lengths, the gradient reaching a sequence's final state enters at its own last step (in
   * reverse, at step 0), and its initial state's gradient leaves at its first.
   */
  public final class Backward {
    private final Run run;
    private final Step step;
    private final Storage dxp;
    private final Storage dhp;
    /** Under a projection: {@code dH} of every step in the layout, for {@code dW_hr}. */
    private final Storage dhr;
    /** Under a projection: {@code dm = dh W_hr}, what the cell reads as the output's gradient. */
    private final Storage dm;
    /** Under a projection: where the cell writes {@code dPrev(0)}, which is zero. */
    private final Storage dmPrev;
    /** Native kernels: {@code W_hh} packed once for {@code dh += dHP W_hh}, else null. */
    private final PackedWeight packedHh;
    /** Native kernels under a projection: {@code W_hr} packed for {@code dm = dh W_hr}. */
    private final PackedWeight packedHr;
    /** The gradient reaching the states after the next step to visit. */
    private Storage[] dCur;
    /** Where the cell writes the gradient of the states before it. */
    private Storage[] dOther;
    /**
     * Reverse with lengths: the gradients of the initial states, each row taken when its
     * sequence's first step (its last visited) is done; else null ({@link #dCur} holds them).
     */
    private final Storage[] dStart;
    /** The processing step the next call to {@link #step} visits; -1 after step 0. */
    private int next;
    private boolean finished;
    /** Whether this step reads its output gradients from packed rows ({@link #stepPacked}). */
    private boolean packedRows;
    /** The first packed row of each time, once {@link #stepPacked} ran; else null. */
    private int[] packedStart;
    /** Whether the weight gradients are added chunk by chunk ({@link Run#backwardByChunks}). */
    private final boolean byChunks;
    /** The input gradient declared to {@link Run#backwardByChunks}, or null. */
    private final Storage dxChunks;
    /** The rows {@link #dxp}, {@link #dhp} and {@link #dhr} hold: a chunk's, or all. */
    private final int chunkCap;
    /** The first processing step of the chunk in the buffers (its highest), or -1 for none. */
    private int chunkTop = -1;
    /** The last processing step of the chunk in the buffers (its lowest). */
    private int chunkLast;
    /** The layout row at row 0 of the buffers: the first of the chunk's blocks. */
    private int chunkBase;
    /** By chunks: {@code W_ih} packed at the first chunk for every chunk's {@code dX}, or null. */
    private PackedWeight packedIh;

    private Backward(Run run, Storage[] dFinal, boolean byChunks, Storage dx) {
      this.run = run;
      this.step = run.step;
      this.byChunks = byChunks;
      this.dxChunks = dx;
      DType dt = run.x.dtype();
      int rows = run.layout.rows;
      this.chunkCap = byChunks ? chunkRows(rows, run.batch, cell.gateSize()) : rows;
      // Each visited step overwrites its rows; flush zeroes the rows of the others.
      this.dxp = Storage.borrow(dt, chunkCap * cell.gateSize());
      this.dhp = summed ? dxp : Storage.borrow(dt, chunkCap * cell.gateSize());
      this.dhr = weightHr == null ? null : Storage.borrow(dt, chunkCap * projection);
      this.dm = weightHr == null ? null : Storage.allocate(dt, run.batch * cell.hiddenSize());
      this.dmPrev = weightHr == null ? null : Storage.allocate(dt, run.batch * cell.hiddenSize());
      boolean packs = packs(run.seq);
      this.packedHh = packs ? PackedWeight.of(weightHh.data(), false, outputSize(),
          cell.gateSize()) : null;
      this.packedHr = packs && weightHr != null
          ? PackedWeight.of(weightHr.data(), false, cell.hiddenSize(), projection) : null;
      this.dCur = new Storage[cell.stateCount()];
      this.dOther = new Storage[cell.stateCount()];
      boolean ragged = run.lengths != null;
      this.dStart = ragged && reverse ? new Storage[cell.stateCount()] : null;
      for (int k = 0; k < dCur.length; k++) {
        int w = stateSize(k);
        int n = run.batch * w;
        dCur[k] = Storage.allocate(dt, n);
        dOther[k] = Storage.allocate(dt, n);
        Storage d = entry(dFinal, k);
        if (d != null && d.length() != n) {
          throw new IllegalArgumentException(Strings.lenientFormat(
              "%s expected final state gradient %s of %s x %s elements but got %s",
              cell.describe(), k, run.batch, w, d.length()));
        }
        if (d != null && !ragged) {
          dCur[k].axpy(n, 1, d, 0, 0);
        } else if (d != null) {
          // Sorted rows; in both buffers, since a row is read only at its sequence's last step.
          for (int j = 0; j < run.batch; j++) {
            dCur[k].copyFrom(d, run.sequence(j) * w, j * w, w);
            dOther[k].copyFrom(d, run.sequence(j) * w, j * w, w);
          }
        }
        if (dStart != null) {
          // Sequences that never run (length 0) pass their final gradient to the initial state.
          dStart[k] = Storage.allocate(dt, n);
          int from = run.layout.active[0] * w;
          dStart[k].copyFrom(dCur[k], from, from, n - from);
        }
      }
      this.next = run.seq - 1;
    }

    /**
     * As {@link #step}, the output gradients read from packed rows ({@link Lengths#pack}'s order,
     * {@code [R, P]}) of a run with lengths: time {@code t}'s running rows from row {@code
     * r_t = n_0 + ... + n_{t-1}}. The same numbers as {@link #step} on the padded gradient that
     * scattering them gives.
     *
     * @param p the processing step: {@code T-1} at the first call, then one less each call
     * @param dPacked the packed output gradients {@code [R, P]}, or null if there are none
     * @return {@code ||dL/dh_t||}, the norm of the total gradient reaching {@code h_t}
     * @throws IllegalStateException if {@code p} is not the step due, the pass finished, or the
     *     run has no lengths
     */
    public double stepPacked(int p, Storage dPacked) {
      checkState(run.lengths != null, "%s: stepPacked needs a run with lengths", cell.describe());
      if (packedStart == null) {
        packedStart = new int[run.seq + 1];
        for (int t = 0; t < run.seq; t++) {
          packedStart[t + 1] = packedStart[t] + run.layout.active[t];
        }
      }
      packedRows = true;
      try {
        return step(p, dPacked, 0, outputSize());
      } finally {
        packedRows = false;
      }
    }

    /**
     * One step of backpropagation through time, for processing step {@code p}: adds the output
     * gradient of time {@code t = time(p)}, read from {@code dOut} at {@code off + t*N*ld + n*ld}
     * like {@link Run#copyOutput} (for the sequences running at {@code t} only), runs the cell's
     * backward and carries the state gradients to the step before ({@code dh += dHP[t] W_hh}).
     *
     * @param p the processing step: {@code T-1} at the first call, then one less each call
     * @param dOut the output gradients {@code [T, N, ld]}, or null if there are none
     * @param off the offset of the block in {@code dOut}
     * @param ld the row width of the block
     * @return {@code ||dL/dh_t||}, the norm of the total gradient reaching {@code h_t}
     * @throws IllegalStateException if {@code p} is not the step due, or the pass finished
     */
    public double step(int p, Storage dOut, int off, int ld) {
      if (finished || p != next || p < 0) {
        throw new IllegalStateException(Strings.lenientFormat("%s: backward expected step %s"
            + " (steps run from T-1 = %s down to 0, then finish) but got step %s",
            cell.describe(), finished ? "none after finish" : next, run.seq - 1, p));
      }
      run.checkLive("step");
      next--;
      if (chunkTop < 0) {
        beginChunk(p);
      }
      double norm = stepInChunk(p, dOut, off, ld);
      if (byChunks && p == chunkLast) {
        flush(dxChunks);
      }
      return norm;
    }

    /**
     * Plans the chunk that begins at processing step {@code top}: the steps from {@code top}
     * down while their blocks fit in {@link #chunkCap} rows (one step at least); their blocks are
     * consecutive rows of the layout, since the steps' times are.
     */
    private void beginChunk(int top) {
      Layout layout = run.layout;
      int rows = layout.blockRows[run.time(top)];
      int last = top;
      while (last > 0 && rows + layout.blockRows[run.time(last - 1)] <= chunkCap) {
        last--;
        rows += layout.blockRows[run.time(last)];
      }
      chunkTop = top;
      chunkLast = last;
      chunkBase = layout.block[Math.min(run.time(top), run.time(last))];
    }

    /** {@link #step}'s work, with the step's rows of the gate gradients in the chunk's. */
    private double stepInChunk(int p, Storage dOut, int off, int ld) {
      int t = run.time(p);
      int w = outputSize();
      int g = cell.gateSize();
      int n = run.layout.active[t];
      if (n == 0) {
        return 0;
      }
      boolean fused = fusedLstm && nativeCell() && packedHh != null && weightHr == null;
      // With lengths, the fused step gathers its rows of dOut inside its blocks of rows (on both
      // threads); the sum of squares is then taken after it, on the same values (dh is read only).
      boolean gatherInBlocks = fused && dOut != null && run.lengths != null;
      if (dOut != null && run.lengths == null) {
        addRows(dCur[0], dOut, off + t * run.batch * ld, ld, n, w);
      } else if (dOut != null && !gatherInBlocks) {
        for (int j = 0; j < n; j++) {
          dCur[0].axpy(w, 1, dOut, off + (packedRows ? packedStart[t] + j
              : t * run.batch + run.sequence(j)) * ld, j * w);
        }
      }
      double norm = gatherInBlocks ? 0 : Math.sqrt(dCur[0].sumOfSquares(0, n * w));
      run.aim(p);
      int block = run.layout.block[t] - chunkBase;
      step.dxp = dxp;
      step.dxpOff = block * g;
      step.dhp = dhp;
      step.dhpOff = block * g;
      for (int k = 0; k < dCur.length; k++) {
        step.dNext[k] = dCur[k];
        step.dNextOff[k] = 0;
        step.dPrev[k] = dOther[k];
        step.dPrevOff[k] = 0;
      }
      if (weightHr != null) {
        // h_t = m_t W_hr^T: dm = dh W_hr, and dh is kept for dW_hr = dH^T M after the loop.
        dhr.copyFrom(dCur[0], 0, block * projection, n * projection);
        projectGradient(n);
        step.dNext[0] = dm;
        step.dPrev[0] = dmPrev;
      }
      if (fused) {
        lstmStepBackward(n, block * g, gatherInBlocks ? dOut : null,
            off + (packedRows ? packedStart[t] : t * run.batch) * ld, ld);                      // the two below, by rows
        if (gatherInBlocks) {
          norm = Math.sqrt(dCur[0].sumOfSquares(0, n * w));
        }
      } else {
        if (fusedLstm && nativeCell()) {
          lstmCellBackward(step);                               // the cell's backward in C
        } else if (gruKernel && nativeCell()) {
          gruCellBackward(step);                                // GruCell's backward in C
        } else {
          cell.backward(step);
        }
        carryHidden(n, block * g);                              // dh += dHP[t] W_hh
      }
      Storage[] swap = dCur;
      dCur = dOther;
      dOther = swap;
      if (dStart != null) {
        // Reverse: the rows past the sequences running at t+1 started at t, from h_0.
        int from = t + 1 < run.seq ? run.layout.active[t + 1] : 0;
        for (int k = 0; k < dCur.length; k++) {
          int sw = stateSize(k);
          dStart[k].copyFrom(dCur[k], from * sw, from * sw, (n - from) * sw);
        }
      }
      return norm;
    }

    /**
     * The native LSTM step's backward without a projection: the cell's backward in C, then
     * {@code dh = dZ W_hh} with the packed weight, by blocks of {@link #ROW_BLOCK} rows of the
     * {@code n} running ones, which the worker thread shares when the step is large ({@link
     * PackedWeight#shareRows}): block {@code r} of {@code dh} needs block {@code r} of {@code dZ}
     * only, so the pointwise part runs on both threads as well as the product. The results are
     * those of {@link #lstmCellBackward} then {@link #carryHidden}. {@code dZ = dXP[t] = dHP[t]}
     * (summed projections) at {@code off}. With {@code dOut} (a run with lengths), each block first
     * adds its rows of the output gradient of the step, {@code dOut} at {@code dOff + n*ld} for
     * sequence {@code n}, to {@code dh}.
     */
    private void lstmStepBackward(int n, int off, Storage dOut, int dOff, int ld) {
      int hidden = cell.hiddenSize();
      int g = cell.gateSize();
      Storage c = step.prev[1];
      int cOff = step.prevOff[1];
      int svOff = step.savedOff;
      int tcOff = svOff + n * g;                               // the step's tanh(c') block
      float[] saved = LstmCell.f32(step.saved);
      float[] cf = LstmCell.f32(c);
      float[] dh = LstmCell.f32(dCur[0]);
      float[] dc = LstmCell.f32(dCur[1]);
      float[] dz = LstmCell.f32(dhp);
      float[] dcPrev = LstmCell.f32(dOther[1]);
      Storage dhPrev = dOther[0];
      Storage dhs = dCur[0];
      boolean packed = packedRows;
      PackedWeight.shareRows((long) n * g * hidden, n, ROW_BLOCK, (r0, r1) -> {
        for (int j = r0; dOut != null && j < r1; j++) {
          dhs.axpy(hidden, 1, dOut, dOff + (packed ? j : run.sequence(j)) * ld, j * hidden);
        }
        Native.lstmCellBackward(r1 - r0, hidden, saved, svOff + r0 * g, tcOff + r0 * hidden, cf,
            cOff + r0 * hidden, dh, r0 * hidden, dc, r0 * hidden, dz, off + r0 * g, dcPrev,
            r0 * hidden);
        packedHh.multiplyHere(r1 - r0, dhp, off + r0 * g, g, PackedWeight.Init.ZERO, dhPrev,
            r0 * hidden, hidden);
      });
    }

    /** Under a projection: {@code dm = dh W_hr} for the {@code n} running rows, one gemm. */
    private void projectGradient(int n) {
      int hidden = cell.hiddenSize();
      if (packedHr != null) {
        packedHr.multiply(n, dCur[0], 0, projection, PackedWeight.Init.ZERO, null, 0, 0, dm, 0,
            hidden);
        return;
      }
      dm.gemm(false, false, n, hidden, projection, 1, dCur[0], 0, projection, weightHr.data(), 0,
          hidden, 0, 0, hidden);
    }

    /**
     * {@code dh += dHP[t] W_hh} into the gradient of the state before the step ({@code dh =}
     * under a projection, where the cell's own part is of {@code m}), for the {@code n} running
     * rows of {@code dHP} at {@code off}: one gemm, or the packed {@code W_hh}.
     */
    private void carryHidden(int n, int off) {
      int g = cell.gateSize();
      int w = outputSize();
      if (packedHh != null) {
        packedHh.multiply(n, dhp, off, g, weightHr == null ? PackedWeight.Init.ACCUMULATE
            : PackedWeight.Init.ZERO, null, 0, 0, dOther[0], 0, w);
        return;
      }
      dOther[0].gemm(false, false, n, w, g, 1, dhp, off, g, weightHh.data(), 0, w,
          weightHr == null ? 1 : 0, 0, w);
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
     * (one gemm each), the input gradient to {@code dx} (nothing at the steps after a sequence's
     * length) and the initial-state gradients to {@code dInit}; then releases the run. A pass
     * that stopped before step 0 (a truncation window) counts only the steps it visited, and adds
     * nothing to {@code dInit}: no gradient reaches the initial states through the steps left
     * out.
     *
     * @param dx the input gradient {@code [T, N, H_in]} added to, or null when it is not needed
     * @param dInit the initial-state gradients {@code [N, stateSize(k)]} added to, one per state;
     *     null, or missing or null entries, where they are not needed
     * @throws IllegalStateException if the pass already finished
     * @throws IllegalArgumentException if {@code dx} or an entry of {@code dInit} is not of the
     *     size of the input or of a state
     */
    public void finish(Storage dx, Storage[] dInit) {
      checkState(!finished, "%s: backward already finished; run forward again", cell.describe());
      run.checkLive("finish");
      int batch = run.batch;
      run.checkInputGradient(dx);
      for (int k = 0; k < dCur.length; k++) {
        Storage d = entry(dInit, k);
        if (d != null && d.length() != batch * stateSize(k)) {
          throw new IllegalArgumentException(Strings.lenientFormat(
              "%s expected initial state gradient %s of %s x %s elements but got %s",
              cell.describe(), k, batch, stateSize(k), d.length()));
        }
      }
      if (byChunks && dx != dxChunks) {
        throw new IllegalArgumentException(Strings.lenientFormat(
            "%s expected the input gradient given to backwardByChunks (%s) but got another",
            cell.describe(), dxChunks == null ? "none" : "a storage"));
      }
      finished = true;
      if (chunkTop < 0 && !byChunks) {
        beginChunk(run.seq - 1);                                // no step ran: zeros, as always
      }
      if (chunkTop >= 0) {
        flush(dx);                                              // the chunk of the last steps run
      }
      Storage[] dStates = dStart != null ? dStart : dCur;
      for (int k = 0; next < 0 && k < dCur.length; k++) {
        Storage d = entry(dInit, k);
        int sw = stateSize(k);
        if (d != null && run.lengths == null) {
          d.axpy(batch * sw, 1, dStates[k], 0, 0);
        } else if (d != null) {
          for (int j = 0; j < batch; j++) {
            d.axpy(sw, 1, dStates[k], j * sw, run.sequence(j) * sw);
          }
        }
      }
      Storage.giveBack(dxp);
      if (dhp != dxp) {
        Storage.giveBack(dhp);
      }
      Storage.giveBack(dhr);
      run.release();
    }

    /**
     * Adds the gradients of the chunk in the buffers ({@link #chunkTop} down to {@link
     * #chunkLast}, rows {@code [r0, r1)} of the layout) and empties it: {@code dW_ih += dXP_c^T
     * X_c}, {@code dW_hh += dHP_c^T H_c} (the states its steps started from), the biases' column
     * sums, {@code dW_hr += dH_c^T M_c}, and {@code dX_c += dXP_c W_ih} into {@code dx} (if not
     * null; at the sequences' own rows with lengths). The rows no step wrote are zeroed first:
     * those of the steps not visited (a truncation window), and those past {@code n_t} in a block.
     */
    private void flush(Storage dx) {
      Layout layout = run.layout;
      int batch = run.batch;
      int in = cell.inputSize();
      int g = cell.gateSize();
      int tLo = Math.min(run.time(chunkTop), run.time(chunkLast));
      int tHi = Math.max(run.time(chunkTop), run.time(chunkLast));
      int r0 = layout.block[tLo];
      int rows = layout.block[tHi] + layout.blockRows[tHi] - r0;
      for (int p = chunkLast; p <= chunkTop; p++) {
        int t = run.time(p);
        int from = p > next ? layout.active[t] : 0;
        int start = layout.block[t] - r0 + from;
        int count = layout.blockRows[t] - from;
        dxp.fill(start * g, count * g, 0);
        dhp.fill(start * g, count * g, 0);
        if (dhr != null) {
          dhr.fill(start * projection, count * projection, 0);
        }
      }
      chunkTop = -1;
      weightIh.grad().gemm(true, false, g, in, rows, 1, dxp, 0, g, run.xs, r0 * in, in, 1, 0, in);
      addHiddenWeightGradient(r0, rows, tLo, tHi);
      addBiasGradients(rows);
      if (weightHr != null) {
        int hidden = cell.hiddenSize();
        weightHr.grad().gemm(true, false, projection, hidden, rows, 1, dhr, 0, projection, run.m,
            r0 * hidden, hidden, 1, 0, hidden);
      }
      // dX = dXP W_ih: many rows by one weight (packed once, by blocks in cache, where it pays).
      if (dx != null && byChunks && packedIh == null) {
        packedIh = Storage.packedRows(weightIh.data(), false, in, g);   // once for every chunk
      }
      if (dx != null && run.lengths == null) {
        dx.gemmRows(false, rows, in, g, dxp, 0, weightIh.data(), packedIh, 1, r0 * in);
      } else if (dx != null) {
        Storage dxs = Storage.borrow(dx.dtype(), rows * in);
        dxs.gemmRows(false, rows, in, g, dxp, 0, weightIh.data(), packedIh, 0, 0);
        for (int t = tLo; t <= tHi; t++) {
          for (int j = 0; j < layout.active[t]; j++) {
            dx.axpy(in, 1, dxs, (layout.block[t] - r0 + j) * in,
                (t * batch + run.sequence(j)) * in);
          }
        }
        Storage.giveBack(dxs);
      }
    }

    /** The elements of the gate-gradient buffers this pass holds ({@code dXP}, {@code dHP}, ...). */
    long footprint() {
      return dxp.length() + (dhp != dxp ? dhp.length() : 0) + lengthOf(dhr);
    }

    /**
     * {@code dW_hh += dHP_c^T H_c}, {@code H_c} the states the chunk's steps (times {@code tLo} to
     * {@code tHi}, rows {@code [r0, r0 + rows)}) started from: one gemm over the run's slots
     * (0..T-1, or 1..T in reverse, one block); where the steps wrote {@code h_t} into the
     * caller's output ({@code Run.out}), {@code h_{t-1}} (in reverse {@code h_{t+1}}) is there,
     * and the initial state, read by time 0 (in reverse {@code T-1}), in slot 0: two gemms if the
     * chunk has that step.
     */
    private void addHiddenWeightGradient(int r0, int rows, int tLo, int tHi) {
      int g = cell.gateSize();
      int w = outputSize();
      int batch = run.batch;
      Storage dW = weightHh.grad();
      if (run.out == null) {
        dW.gemm(true, false, g, w, rows, 1, dhp, 0, g, run.states[0],
            (run.layout.slot[reverse ? 1 : 0] + r0) * w, w, 1, 0, w);
        return;
      }
      int first = reverse ? run.seq - 1 : 0;                  // the step from the initial state
      if (tLo <= first && first <= tHi) {
        int at = (first - tLo) * batch;                         // its rows in the chunk
        dW.gemm(true, false, g, w, batch, 1, dhp, at * g, g, run.states[0], 0, w, 1, 0, w);
        if (rows > batch) {
          int from = reverse ? 0 : batch;                       // the other steps' rows
          dW.gemm(true, false, g, w, rows - batch, 1, dhp, from * g, g, run.out,
              (r0 + from + (reverse ? batch : -batch)) * w, w, 1, 0, w);
        }
        return;
      }
      dW.gemm(true, false, g, w, rows, 1, dhp, 0, g, run.out,
          (r0 + (reverse ? batch : -batch)) * w, w, 1, 0, w);
    }

    /**
     * {@code db_ih += colsum(dXP)}, {@code db_hh += colsum(dHP)} over the first {@code rows} rows
     * of the buffers; with summed projections, where the two are one buffer, its column sums once
     * for both.
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

  private static long lengthOf(Storage s) {
    return s == null ? 0 : s.length();
  }

  /** {@code a[k]}, or null when {@code a} is null or shorter: a state given as none. */
  private static Storage entry(Storage[] a, int k) {
    return a == null || k >= a.length ? null : a[k];
  }

  @Override public String toString() {
    return cell.describe() + (reverse ? " reverse" : "");
  }
}
