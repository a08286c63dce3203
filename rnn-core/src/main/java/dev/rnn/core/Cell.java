package dev.rnn.core;

import java.util.List;

/**
 * One time step of a recurrent cell for a whole batch: its forward and, beside it, its backward
 * (vector-Jacobian product).
 *
 * <p>A cell sees its inputs already projected. The {@link Scan} computes, for all steps at once,
 * the input side {@code xp_t = x_t W_ih^T + b_ih} ({@code [batch, gates]}) and, step by step, the
 * hidden side {@code hp_t = h_{t-1} W_hh^T + b_hh}; the cell turns {@code xp_t}, {@code hp_t} and
 * the previous state into the next state with its pointwise equations. Its backward takes the
 * gradient of the next state and returns the gradients of {@code xp_t}, {@code hp_t} and of the
 * previous state (the part that does not pass through {@code W_hh}); the scan does every matrix
 * product and accumulates the weight gradients over the steps. The reference loop the scan is
 * equivalent to:
 *
 * <pre>{@code
 * for t in 0..T-1:
 *   xp = x[t] @ W_ih.T + b_ih;  hp = h @ W_hh.T + b_hh
 *   (h, c) = cell.forward(xp, hp, (h, c))
 *   out[t] = h
 * }</pre>
 *
 * <p>A cell that reads {@code xp} and {@code hp} only through their sum declares {@link
 * Projections#SUMMED} in {@link #projections()}, and the scan then hands it the sum (see {@link
 * Step#summed()}); the vocabulary is cell (one step) -&gt; scan (a cell over time, one direction)
 * -&gt; layer (one or two directions; a {@link Stack} is layers of them) -&gt; network.
 *
 * <p>Shapes (N batch, H hidden size, G {@link #gateSize()}, S {@link #savedSize()}): {@code xp}
 * and {@code hp} are {@code [N, G]}; each state is {@code [N, H]}; state 0 is {@code h}, the
 * output. Buffers are row-major and contiguous; a {@link Step} gives each as a storage and an
 * offset. Implementations must be stateless between calls (a cell is shared by threads) and must
 * support both dtypes, or reject the one they do not support at construction.
 *
 * <p>User-written cells implement this interface and are trained like the built-in ones,
 * including the fast path of {@link Projections#SUMMED}.
 */
public interface Cell {
  /**
   * {@return a short description for {@code describe()} and error messages, e.g. {@code
   * lstm(3, 5)}}
   */
  String describe();

  /**
   * {@code H_in}: the features of one input step.
   *
   * @return {@code H_in}
   */
  int inputSize();

  /**
   * {@code H}: the size of the hidden state and of the output.
   *
   * @return {@code H}
   */
  int hiddenSize();

  /**
   * {@code G}: rows of {@code W_ih} and {@code W_hh}, e.g. H (Elman), 4H (LSTM), 3H (GRU).
   *
   * @return {@code G}
   */
  int gateSize();

  /**
   * How many state tensors the cell carries: 1 ({@code h}) or 2 ({@code h, c}).
   *
   * @return 1 or 2
   */
  int stateCount();

  /**
   * {@code S}: numbers per batch row that forward saves for backward.
   *
   * @return {@code S}
   */
  int savedSize();

  /**
   * Parameters of the cell's own beyond {@code weight_ih, weight_hh, bias_ih, bias_hh}, e.g.
   * peephole weights; the scan owns their values and gradients and hands them over in {@link
   * Step#param} and {@link Step#paramGrad} in this order.
   *
   * @return the specs, in order; empty by default
   */
  default List<ParameterSpec> extraParameters() {
    return List.of();
  }

  /**
   * How a cell reads the two projections {@code xp} and {@code hp}, which decides the scan's fast
   * path. The results are the same either way, up to the rounding of one sum.
   */
  enum Projections {
    /**
     * The cell reads {@code xp} and {@code hp} each on its own (GRU: {@code n = tanh(xn + r *
     * hn)}): the scan hands over both, and two gradient buffers {@code dxp} and {@code dhp}.
     */
    SEPARATE,
    /**
     * The cell reads {@code xp} and {@code hp} only through their sum {@code z = xp + hp} (Elman,
     * LSTM): the scan folds {@code b_hh} into the input projection once for all steps,
     * accumulates {@code h W_hh^T} onto a copy of {@code xp} in the step's gemm so that {@link
     * Step#hp()} holds {@code z} (and {@link Step#xp()} is not available), and makes {@code dxp}
     * and {@code dhp} one buffer; {@link Step#summed()} is then true.
     */
    SUMMED
  }

  /**
   * How the cell reads {@code xp} and {@code hp}; a cell that reads only their sum returns {@link
   * Projections#SUMMED} to take the scan's fast path, and then reads {@code z = xp + hp} from
   * {@link Step#hp()} whenever {@link Step#summed()} is true.
   *
   * @return {@link Projections#SEPARATE} by default
   */
  default Projections projections() {
    return Projections.SEPARATE;
  }

  /**
   * A native kernel that may run the scan's product and this cell's forward as one step, which a
   * cell declares in {@link #kernel()}; the results are those of the product followed by {@link
   * #forward}, up to the rounding of the product's sums.
   */
  enum Kernel {
    /** None: the scan computes the product, then calls {@link #forward}. */
    NONE,
    /**
     * The LSTM step of {@link LstmCell}, exactly: gates i, f, g, o read through their sum ({@link
     * Projections#SUMMED}), two states, {@code G = 4H}, and {@code saved} laid out as {@code
     * LstmCell}'s ({@code [N, 4H]} activated gates, then {@code tanh(c')} {@code [N, H]}). For
     * float32 on a processor with AVX-512, the scan then computes each tile of {@code z = xp + h
     * W_hh^T} and the cell's pointwise step on it while it is in registers, and the cell's
     * backward in C as well.
     */
    LSTM,
    /**
     * The GRU step of {@link GruCell}, exactly: gates r, z, n read apart ({@link
     * Projections#SEPARATE}), one state, {@code G = 3H}, and {@code saved} laid out as {@code
     * GruCell}'s ({@code [r z]} {@code [N, 2H]}, then {@code n}, then {@code hn}, {@code [N, H]}
     * each). For float32 on a processor with AVX-512, the scan then runs the cell's forward and
     * backward in C, with the same bits.
     */
    GRU
  }

  /**
   * The native kernel that may run this cell's forward together with the scan's product; a cell
   * whose forward is not exactly that kernel's equations keeps the default.
   *
   * @return {@link Kernel#NONE} by default; {@link Kernel#LSTM} for {@link LstmCell}, {@link
   *     Kernel#GRU} for {@link GruCell}
   */
  default Kernel kernel() {
    return Kernel.NONE;
  }

  /**
   * Whether a scan may project this cell's output, as torch's {@code proj_size} does for LSTM
   * (Sak et al. 2014): the cell's state 0 is then {@code m_t}, which the scan turns into {@code
   * h_t = m_t W_hr^T} of size {@code P < H}, fed back through {@code W_hh [G, P]}. Only a cell that
   * never reads {@link Step#prev(int) prev(0)} (it sees {@code h_{t-1}} only through {@code hp})
   * and writes {@code dPrev(0) = 0} may say yes, since {@code prev(0)} is then {@code P} wide.
   *
   * @return false by default; true for {@link LstmCell} and {@link PeepholeLstmCell}
   */
  default boolean projectable() {
    return false;
  }

  /**
   * One step forward: reads {@code xp}, {@code hp} (or their sum, when {@link Step#summed()}),
   * the previous states and the extra parameters; writes the next states and {@code saved}. May
   * overwrite {@code hp} (a workspace).
   *
   * @param s the step's buffers
   */
  void forward(Step s);

  /**
   * One step backward: reads the gradients of the next states, {@code saved}, the previous and
   * next states and the extra parameters; overwrites {@code dxp}, {@code dhp} (one buffer when
   * {@link Step#summed()}: then written once) and the gradients of the previous states (only the
   * part that does not pass through {@code W_hh}: the scan adds {@code dhp W_hh}); adds the
   * gradients of the extra parameters.
   *
   * @param s the step's buffers, as forward left them, and the gradients
   */
  void backward(Step s);
}
