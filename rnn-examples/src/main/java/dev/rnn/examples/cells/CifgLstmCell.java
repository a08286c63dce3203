package dev.rnn.examples.cells;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.rnn.core.Cell;
import dev.rnn.core.Step;
import dev.rnn.core.Storage;

/**
 * The LSTM with coupled input and forget gates, CIFG (Greff et al. 2017, "LSTM: A Search Space
 * Odyssey", section 3.1, without peepholes): the forget gate is {@code 1 - i}, so the cell has
 * three gates where the LSTM has four, and as much of the old cell state is forgotten as new
 * content is written. Written as a library user writes a cell: outside {@code dev.rnn.core},
 * against the public {@link Cell} and {@link Step} only. Gates in the order i, g, o.
 *
 * <pre>
 *   [zi zg zo] = xp + hp          (xp = x W_ih^T + b_ih, hp = h W_hh^T + b_hh, each block H wide)
 *   i = sigmoid(zi)   g = tanh(zg)   o = sigmoid(zo)   f = 1 - i
 *   c' = f * c + i * g
 *   h' = o * tanh(c')
 * backward (dh', dc' given):
 *   dc  = dc' + dh' * o * (1 - tanh(c')^2)
 *   dzi = dc * (g - c) * i (1 - i)      (i reaches c' twice: as i, and through f = 1 - i)
 *   dzg = dc * i * (1 - g^2)            dzo = dh' * tanh(c') * o (1 - o)
 *   dxp = dhp = [dzi dzg dzo],  dc (to c) = dc * f,  dh (direct) = 0
 * </pre>
 *
 * <p>The gates read {@code xp} and {@code hp} only through their sum {@code z}, so the cell
 * declares {@link Cell.Projections#SUMMED} and takes the scan's fast path: the scan folds {@code
 * b_hh} into the input projection, hands over {@code z} in {@link Step#hp()} ({@link
 * Step#summed()} is true) and gives {@code dxp} and {@code dhp} one buffer, which backward then
 * writes once. Built with {@link Cell.Projections#SEPARATE}, the cell adds {@code xp + hp} itself
 * and writes both gradients: the numbers are the same up to the rounding of one sum, only slower.
 *
 * <p>Shapes (N batch, H hidden, H_in input): x {@code [N, H_in]}, h and c {@code [N, H]}, G = 3H;
 * saved per row: i, g, o and tanh(c'), S = 4H (backward reads c from the previous state).
 *
 * <p>Dtypes: one kernel serves both, reading and writing through {@link Storage#get} and {@link
 * Storage#set} and computing in double, which is plain rather than fast (see {@link
 * LayerNormLstmCell}).
 */
final class CifgLstmCell implements Cell {
  private static final int I = 0;
  private static final int G = 1;
  private static final int O = 2;
  private static final int TANH_C = 3;

  private final int inputSize;
  private final int hiddenSize;
  private final Projections projections;

  /**
   * A CIFG cell that takes the scan's fast path, {@link Cell.Projections#SUMMED}.
   *
   * @param inputSize {@code H_in}, the features of one input step
   * @param hiddenSize {@code H}, the size of the hidden state
   * @throws IllegalArgumentException if a size is below 1
   */
  public CifgLstmCell(int inputSize, int hiddenSize) {
    this(inputSize, hiddenSize, Projections.SUMMED);
  }

  /**
   * A CIFG cell declaring {@code projections}: {@link Cell.Projections#SEPARATE} gives the same
   * numbers as the default {@link Cell.Projections#SUMMED} the slow way, for comparison.
   *
   * @param inputSize {@code H_in}, the features of one input step
   * @param hiddenSize {@code H}, the size of the hidden state
   * @param projections what the cell declares to the scan
   * @throws IllegalArgumentException if a size is below 1
   */
  public CifgLstmCell(int inputSize, int hiddenSize, Projections projections) {
    checkArgument(inputSize >= 1 && hiddenSize >= 1, "lstm(%s, %s, cifg) expected sizes >= 1",
        inputSize, hiddenSize);
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.projections = checkNotNull(projections, "projections");
  }

  @Override public String describe() {
    return "lstm(" + inputSize + ", " + hiddenSize + ", cifg)";
  }

  @Override public int inputSize() {
    return inputSize;
  }

  @Override public int hiddenSize() {
    return hiddenSize;
  }

  @Override public int gateSize() {
    return 3 * hiddenSize;
  }

  @Override public int stateCount() {
    return 2;
  }

  @Override public int savedSize() {
    return 4 * hiddenSize;
  }

  /** {@return {@link Cell.Projections#SUMMED} unless built otherwise: the gates read only z} */
  @Override public Projections projections() {
    return projections;
  }

  @Override public void forward(Step s) {
    int hh = hiddenSize;
    for (int r = 0; r < s.batch(); r++) {
      int zr = r * 3 * hh;
      int v = s.savedOff() + r * savedSize();
      for (int j = 0; j < hh; j++) {
        double i = sigmoid(z(s, zr + I * hh + j));
        double g = Math.tanh(z(s, zr + G * hh + j));
        double o = sigmoid(z(s, zr + O * hh + j));
        double c = s.prev(1).get(s.prevOff(1) + r * hh + j);
        double c2 = (1 - i) * c + i * g;
        double tc = Math.tanh(c2);
        s.next(1).set(s.nextOff(1) + r * hh + j, c2);
        s.next(0).set(s.nextOff(0) + r * hh + j, o * tc);
        s.saved().set(v + I * hh + j, i);
        s.saved().set(v + G * hh + j, g);
        s.saved().set(v + O * hh + j, o);
        s.saved().set(v + TANH_C * hh + j, tc);
      }
    }
  }

  @Override public void backward(Step s) {
    int hh = hiddenSize;
    for (int r = 0; r < s.batch(); r++) {
      int v = s.savedOff() + r * savedSize();
      int dr = r * 3 * hh;
      for (int j = 0; j < hh; j++) {
        double i = s.saved().get(v + I * hh + j);
        double g = s.saved().get(v + G * hh + j);
        double o = s.saved().get(v + O * hh + j);
        double tc = s.saved().get(v + TANH_C * hh + j);
        double c = s.prev(1).get(s.prevOff(1) + r * hh + j);
        double dh = s.dNext(0).get(s.dNextOff(0) + r * hh + j);
        double dc = s.dNext(1).get(s.dNextOff(1) + r * hh + j) + dh * o * (1 - tc * tc);
        setDz(s, dr + I * hh + j, dc * (g - c) * i * (1 - i));
        setDz(s, dr + G * hh + j, dc * i * (1 - g * g));
        setDz(s, dr + O * hh + j, dh * tc * o * (1 - o));
        s.dPrev(1).set(s.dPrevOff(1) + r * hh + j, dc * (1 - i));
      }
    }
    s.dPrev(0).fill(s.dPrevOff(0), s.batch() * hh, 0);
  }

  /**
   * {@code z = xp + hp} at element {@code k} of the step's {@code [N, G]} block: the scan has
   * summed them into {@code hp} when {@link Step#summed()}, else the cell adds them here.
   */
  private static double z(Step s, int k) {
    double hp = s.hp().get(s.hpOff() + k);
    return s.summed() ? hp : s.xp().get(s.xpOff() + k) + hp;
  }

  /**
   * {@code dxp = dhp = dz} at element {@code k}: one write when the scan made them one buffer
   * ({@link Step#summed()}), two otherwise.
   */
  private static void setDz(Step s, int k, double dz) {
    s.dxp().set(s.dxpOff() + k, dz);
    if (!s.summed()) {
      s.dhp().set(s.dhpOff() + k, dz);
    }
  }

  private static double sigmoid(double x) {
    return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
  }

  @Override public String toString() {
    return describe();
  }
}
