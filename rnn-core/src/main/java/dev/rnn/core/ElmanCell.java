package dev.rnn.core;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static dev.rnn.core.LstmCell.f32;
import static dev.rnn.core.LstmCell.f64;

/**
 * The Elman cell of {@code torch.nn.RNN}: {@code h' = act(W_ih x + b_ih + W_hh h + b_hh)}.
 *
 * <pre>
 *   z  = xp + hp                 (xp = x W_ih^T + b_ih, hp = h W_hh^T + b_hh)
 *   h' = act(z)
 * backward:
 *   dz = dh' * act'(z)           (act' from h', see {@link Activation})
 *   dxp = dhp = dz,   dh (direct) = 0
 * </pre>
 *
 * <p>It reads {@code xp} and {@code hp} only through {@code z}, so it declares {@link
 * Projections#SUMMED}: the scan hands it {@code z} in {@code hp} and one buffer for {@code dxp =
 * dhp}.
 *
 * <p>Shapes: x {@code [N, H_in]}, h {@code [N, H]}, G = H, nothing saved (backward reads h').
 */
public final class ElmanCell implements Cell {
  private final int inputSize;
  private final int hiddenSize;
  /** {@link #describe()}, made once: the scan names the cell in checks on every call. */
  private final String description;
  private final Activation activation;

  /**
   * An Elman cell; {@code activation} is torch's {@code nonlinearity} (tanh or relu) or any other.
   *
   * @param inputSize {@code H_in}, the features of one input step
   * @param hiddenSize {@code H}, the size of the hidden state
   * @param activation the nonlinearity {@code f}
   * @throws IllegalArgumentException if a size is below 1
   */
  public ElmanCell(int inputSize, int hiddenSize, Activation activation) {
    checkArgument(inputSize >= 1 && hiddenSize >= 1,
        "elman(%s, %s) expected sizes >= 1", inputSize, hiddenSize);
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.activation = checkNotNull(activation, "activation");
    this.description = "elman(" + inputSize + ", " + hiddenSize + ", " + activation.label() + ")";
  }

  /** {@return the nonlinearity inside the recurrence} */
  public Activation activation() {
    return activation;
  }

  @Override public String describe() {
    return description;
  }

  @Override public int inputSize() {
    return inputSize;
  }

  @Override public int hiddenSize() {
    return hiddenSize;
  }

  @Override public int gateSize() {
    return hiddenSize;
  }

  @Override public int stateCount() {
    return 1;
  }

  @Override public int savedSize() {
    return 0;
  }

  /** {@return {@link Projections#SUMMED}: the cell reads only {@code z = xp + hp}} */
  @Override public Projections projections() {
    return Projections.SUMMED;
  }

  @Override public void forward(Step s) {
    int n = s.batch() * hiddenSize;
    sumIntoHp(s, n);
    s.next(0).copyFrom(s.hp(), s.hpOff(), s.nextOff(0), n);
    activation.applyInPlace(s.next(0), s.nextOff(0), n);
  }

  @Override public void backward(Step s) {
    int n = s.batch() * hiddenSize;
    if (s.dtype() == DType.FLOAT32) {
      activation.backward(f32(s.next(0)), s.nextOff(0), f32(s.dNext(0)), s.dNextOff(0),
          f32(s.dxp()), s.dxpOff(), n);
    } else {
      activation.backward(f64(s.next(0)), s.nextOff(0), f64(s.dNext(0)), s.dNextOff(0),
          f64(s.dxp()), s.dxpOff(), n);
    }
    copyGateGradient(s, n);
    s.dPrev(0).fill(s.dPrevOff(0), n, 0);
  }

  /**
   * Leaves {@code z = xp + hp} in {@code hp} (a workspace of forward), {@code n} elements: the
   * scan has done so when the projections are {@linkplain Step#summed() summed}, else it is one
   * add here.
   */
  static void sumIntoHp(Step s, int n) {
    if (s.summed()) {
      return;
    }
    if (s.dtype() == DType.FLOAT32) {
      add(n, f32(s.xp()), s.xpOff(), f32(s.hp()), s.hpOff(), f32(s.hp()), s.hpOff());
    } else {
      add(n, f64(s.xp()), s.xpOff(), f64(s.hp()), s.hpOff(), f64(s.hp()), s.hpOff());
    }
  }

  /**
   * {@code dhp = dxp} for a cell whose gates read {@code xp + hp} only, unless the scan made them
   * one buffer ({@link Step#summed()}): then there is nothing to copy.
   */
  static void copyGateGradient(Step s, int n) {
    if (!s.summed()) {
      s.dhp().copyFrom(s.dxp(), s.dxpOff(), s.dhpOff(), n);
    }
  }

  /** {@code z[zo + i] = x[xo + i] + y[yo + i]} for {@code i < n}. */
  static void add(int n, float[] x, int xo, float[] y, int yo, float[] z, int zo) {
    for (int i = 0; i < n; i++) {
      z[zo + i] = x[xo + i] + y[yo + i];
    }
  }

  /** {@code z[zo + i] = x[xo + i] + y[yo + i]} for {@code i < n}. */
  static void add(int n, double[] x, int xo, double[] y, int yo, double[] z, int zo) {
    for (int i = 0; i < n; i++) {
      z[zo + i] = x[xo + i] + y[yo + i];
    }
  }

  @Override public String toString() {
    return describe();
  }
}
