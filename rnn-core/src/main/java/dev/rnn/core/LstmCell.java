package dev.rnn.core;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * The LSTM cell of {@code torch.nn.LSTM}, gates in torch's order i, f, g, o.
 *
 * <pre>
 *   [i f g o] = xp + hp          (xp = x W_ih^T + b_ih, hp = h W_hh^T + b_hh, each block H wide)
 *   i = sigmoid(i)  f = sigmoid(f)  g = tanh(g)  o = sigmoid(o)
 *   c' = f * c + i * g
 *   h' = o * tanh(c')
 * backward (dh', dc' given):
 *   dc  = dc' + dh' * o * (1 - tanh(c')^2)
 *   do  = dh' * tanh(c') * o (1 - o)      di = dc * g * i (1 - i)
 *   df  = dc * c * f (1 - f)              dg = dc * i * (1 - g^2)
 *   dxp = dhp = [di df dg do],  dc (to c) = dc * f,  dh (direct) = 0
 * </pre>
 *
 * <p>It reads {@code xp} and {@code hp} only through their sum, so it declares {@link
 * Projections#SUMMED}: the scan hands it {@code xp + hp} in {@code hp} and one buffer for {@code
 * dxp = dhp}.
 *
 * <p>Shapes: x {@code [N, H_in]}, h and c {@code [N, H]}, G = 4H, S = 5H: the saved block of a
 * step holds the activated gates {@code [N, 4H]} (i, f, g, o per row), then {@code tanh(c')}
 * {@code [N, H]}.
 *
 * <p>The float32 kernel activates each row's gates with loops the JIT vectorizes (see {@link
 * Activation}): a sigmoid loop over i and f, a tanh loop over g, a sigmoid loop over o, and
 * computes {@code c' = fma(f, c, i g)} with one rounding for {@code f c + i g}; the native
 * kernel runs the same operations. The float64 kernel activates all gates with the exact
 * sigmoid and recovers {@code g} from {@code u = 2 sigmoid(z) - 1 = tanh(z / 2)} as {@code
 * tanh(z) = 2u / (1 + u^2)}.
 */
public final class LstmCell implements Cell {
  private final int inputSize;
  private final int hiddenSize;
  /** {@link #describe()}, made once: the scan names the cell in checks on every call. */
  private final String description;

  /**
   * An LSTM cell.
   *
   * @param inputSize {@code H_in}, the features of one input step
   * @param hiddenSize {@code H}, the size of the hidden state
   * @throws IllegalArgumentException if a size is below 1
   */
  public LstmCell(int inputSize, int hiddenSize) {
    checkArgument(inputSize >= 1 && hiddenSize >= 1,
        "lstm(%s, %s) expected sizes >= 1", inputSize, hiddenSize);
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.description = "lstm(" + inputSize + ", " + hiddenSize + ")";
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
    return 4 * hiddenSize;
  }

  @Override public int stateCount() {
    return 2;
  }

  @Override public int savedSize() {
    return 5 * hiddenSize;
  }

  /** {@return {@link Projections#SUMMED}: the gates read only {@code xp + hp}} */
  @Override public Projections projections() {
    return Projections.SUMMED;
  }

  /** {@return {@link Kernel#LSTM}: the scan may fuse its product with these equations} */
  @Override public Kernel kernel() {
    return Kernel.LSTM;
  }

  /** {@return true: the gates read {@code h_{t-1}} only through {@code hp}} */
  @Override public boolean projectable() {
    return true;
  }

  @Override public void forward(Step s) {
    ElmanCell.sumIntoHp(s, s.batch() * gateSize());
    if (s.dtype() == DType.FLOAT32) {
      forward32(s.batch(), hiddenSize, f32(s.hp()), s.hpOff(), f32(s.prev(1)), s.prevOff(1),
          f32(s.next(0)), s.nextOff(0), f32(s.next(1)), s.nextOff(1), f32(s.saved()),
          s.savedOff());
    } else {
      forward64(s.batch(), hiddenSize, f64(s.hp()), s.hpOff(), f64(s.prev(1)), s.prevOff(1),
          f64(s.next(0)), s.nextOff(0), f64(s.next(1)), s.nextOff(1), f64(s.saved()),
          s.savedOff());
    }
  }

  @Override public void backward(Step s) {
    if (s.dtype() == DType.FLOAT32) {
      backward32(s.batch(), hiddenSize, f32(s.saved()), s.savedOff(), f32(s.prev(1)),
          s.prevOff(1), f32(s.dNext(0)), s.dNextOff(0), f32(s.dNext(1)), s.dNextOff(1),
          f32(s.dxp()), s.dxpOff(), f32(s.dPrev(1)), s.dPrevOff(1));
    } else {
      backward64(s.batch(), hiddenSize, f64(s.saved()), s.savedOff(), f64(s.prev(1)),
          s.prevOff(1), f64(s.dNext(0)), s.dNextOff(0), f64(s.dNext(1)), s.dNextOff(1),
          f64(s.dxp()), s.dxpOff(), f64(s.dPrev(1)), s.dPrevOff(1));
    }
    ElmanCell.copyGateGradient(s, s.batch() * gateSize());
    s.dPrev(0).fill(s.dPrevOff(0), s.batch() * hiddenSize, 0);
  }

  // Forward: z = xp + hp (in hp, as the scan sums them) for the whole batch copied into the saved
  // gate block; per row one sigmoid loop over i and f, one tanh loop over g, one sigmoid loop over
  // o; then c' = fma(f, c, i g) per row; tanh(c') for the whole batch in one loop; h' = o tanh(c').
  // float32 runs the operations of the native kernel (Native.lstm, lstmx, lstmCell) one by one,
  // fused multiply-adds included, so both give the same bits. float64 keeps the exact
  // functions: g from the exact sigmoid as tanh(z) = 2u / (1 + u^2), u = 2 sigmoid(z) - 1.

  private static void forward32(int batch, int hh, float[] z, int zo, float[] c, int co,
      float[] h2, int h2o, float[] c2, int c2o, float[] sv, int so) {
    int g4 = 4 * hh;
    int tc = so + batch * g4;
    System.arraycopy(z, zo, sv, so, batch * g4);
    for (int r = 0; r < batch; r++) {
      int v = so + r * g4;
      Activation.sigmoidInPlace(sv, v, 2 * hh);
      Activation.tanhInPlace(sv, v + 2 * hh, hh);
      Activation.sigmoidInPlace(sv, v + 3 * hh, hh);
    }
    for (int r = 0; r < batch; r++) {
      int v = so + r * g4;
      int cr = co + r * hh;
      int c2r = c2o + r * hh;
      for (int j = 0; j < hh; j++) {
        c2[c2r + j] = Activation.madd(sv[v + hh + j], c[cr + j], sv[v + j] * sv[v + 2 * hh + j]);
      }
    }
    System.arraycopy(c2, c2o, sv, tc, batch * hh);
    Activation.tanhInPlace(sv, tc, batch * hh);
    for (int r = 0; r < batch; r++) {
      int v = so + r * g4 + 3 * hh;
      int t = tc + r * hh;
      int h2r = h2o + r * hh;
      for (int j = 0; j < hh; j++) {
        h2[h2r + j] = sv[v + j] * sv[t + j];
      }
    }
  }

  private static void forward64(int batch, int hh, double[] z, int zo, double[] c, int co,
      double[] h2, int h2o, double[] c2, int c2o, double[] sv, int so) {
    int g4 = 4 * hh;
    int tc = so + batch * g4;
    System.arraycopy(z, zo, sv, so, batch * g4);
    Activation.sigmoidInPlace(sv, so, batch * g4);
    for (int r = 0; r < batch; r++) {
      int v = so + r * g4;
      int cr = co + r * hh;
      int c2r = c2o + r * hh;
      for (int j = 0; j < hh; j++) {
        double u = 2 * sv[v + 2 * hh + j] - 1;
        double g = 2 * u / (1 + u * u);
        sv[v + 2 * hh + j] = g;
        c2[c2r + j] = sv[v + hh + j] * c[cr + j] + sv[v + j] * g;
      }
    }
    System.arraycopy(c2, c2o, sv, tc, batch * hh);
    Activation.tanhInPlace(sv, tc, batch * hh);
    for (int r = 0; r < batch; r++) {
      int v = so + r * g4 + 3 * hh;
      int t = tc + r * hh;
      int h2r = h2o + r * hh;
      for (int j = 0; j < hh; j++) {
        h2[h2r + j] = sv[v + j] * sv[t + j];
      }
    }
  }

  private static void backward32(int batch, int hh, float[] sv, int so, float[] c, int co,
      float[] dh2, int dh2o, float[] dc2, int dc2o, float[] dg, int dgo, float[] dc, int dco) {
    int g4 = 4 * hh;
    int tcBlock = so + batch * g4;
    for (int r = 0; r < batch; r++) {
      int v = so + r * g4;
      int t = tcBlock + r * hh;
      int d = dgo + r * g4;
      for (int j = 0; j < hh; j++) {
        float i = sv[v + j];
        float f = sv[v + hh + j];
        float g = sv[v + 2 * hh + j];
        float o = sv[v + 3 * hh + j];
        float tc = sv[t + j];
        float dh = dh2[dh2o + r * hh + j];
        float dcTotal = dc2[dc2o + r * hh + j] + dh * o * (1 - tc * tc);
        dg[d + j] = dcTotal * g * i * (1 - i);
        dg[d + hh + j] = dcTotal * c[co + r * hh + j] * f * (1 - f);
        dg[d + 2 * hh + j] = dcTotal * i * (1 - g * g);
        dg[d + 3 * hh + j] = dh * tc * o * (1 - o);
        dc[dco + r * hh + j] = dcTotal * f;
      }
    }
  }

  private static void backward64(int batch, int hh, double[] sv, int so, double[] c, int co,
      double[] dh2, int dh2o, double[] dc2, int dc2o, double[] dg, int dgo, double[] dc,
      int dco) {
    int g4 = 4 * hh;
    int tcBlock = so + batch * g4;
    for (int r = 0; r < batch; r++) {
      int v = so + r * g4;
      int t = tcBlock + r * hh;
      int d = dgo + r * g4;
      for (int j = 0; j < hh; j++) {
        double i = sv[v + j];
        double f = sv[v + hh + j];
        double g = sv[v + 2 * hh + j];
        double o = sv[v + 3 * hh + j];
        double tc = sv[t + j];
        double dh = dh2[dh2o + r * hh + j];
        double dcTotal = dc2[dc2o + r * hh + j] + dh * o * (1 - tc * tc);
        dg[d + j] = dcTotal * g * i * (1 - i);
        dg[d + hh + j] = dcTotal * c[co + r * hh + j] * f * (1 - f);
        dg[d + 2 * hh + j] = dcTotal * i * (1 - g * g);
        dg[d + 3 * hh + j] = dh * tc * o * (1 - o);
        dc[dco + r * hh + j] = dcTotal * f;
      }
    }
  }

  static float[] f32(Storage s) {
    return ((Float32Storage) s).a;
  }

  static double[] f64(Storage s) {
    return ((Float64Storage) s).a;
  }

  @Override public String toString() {
    return describe();
  }
}
