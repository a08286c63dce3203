package dev.rnn.core;

import static com.google.common.base.Preconditions.checkArgument;
import static dev.rnn.core.LstmCell.f32;
import static dev.rnn.core.LstmCell.f64;

import com.google.common.collect.ImmutableList;
import java.util.List;

/**
 * The LSTM cell with peephole connections of Graves 2013 (arXiv:1303.5778, eq. 3-7): the input
 * and forget gates look at the previous cell state, the output gate at the new one, each through a
 * diagonal weight; gates in torch's order i, f, g, o.
 *
 * <pre>
 *   [zi zf zg zo] = xp + hp          (xp = x W_ih^T + b_ih, hp = h W_hh^T + b_hh)
 *   i  = sigmoid(zi + w_ci * c)
 *   f  = sigmoid(zf + w_cf * c)
 *   g  = tanh(zg)
 *   c' = f * c + i * g
 *   o  = sigmoid(zo + w_co * c')
 *   h' = o * tanh(c')
 * backward (dh', dc' given; dzX is the gradient of gate X before its nonlinearity):
 *   dzo = dh' * tanh(c') * o (1 - o)
 *   dc  = dc' + dh' * o * (1 - tanh(c')^2) + dzo * w_co     (c' reaches h' directly and via o)
 *   dzi = dc * g * i (1 - i)      dzf = dc * c * f (1 - f)      dzg = dc * i * (1 - g^2)
 *   dxp = dhp = [dzi dzf dzg dzo]
 *   dc (to c) = dc * f + dzi * w_ci + dzf * w_cf,  dh (direct) = 0
 *   dw_ci += sum_n dzi * c,  dw_cf += sum_n dzf * c,  dw_co += sum_n dzo * c'
 * </pre>
 *
 * <p>Each gate reads {@code xp} and {@code hp} only through their sum {@code z = xp + hp}, so the
 * cell declares {@link Projections#SUMMED}: the scan hands it {@code z} in {@code hp} and one
 * buffer for {@code dxp = dhp}.
 *
 * <p>Shapes: x {@code [N, H_in]}, h and c {@code [N, H]}, G = 4H; extra parameters {@code
 * weight_ci}, {@code weight_cf}, {@code weight_co}, {@code [H]} each (the diagonals of Graves's
 * {@code W_ci}, {@code W_cf}, {@code W_co}), initialised like the other weights; saved per row: i,
 * f, g, o, tanh(c') (S = 5H). Backward reads c and c' from the states.
 */
public final class PeepholeLstmCell implements Cell {
  private static final int CI = 0;
  private static final int CF = 1;
  private static final int CO = 2;

  private final int inputSize;
  private final int hiddenSize;
  /** {@link #describe()}, made once: the scan names the cell in checks on every call. */
  private final String description;
  private final ImmutableList<ParameterSpec> extras;

  /**
   * An LSTM cell with peepholes.
   *
   * @param inputSize {@code H_in}, the features of one input step
   * @param hiddenSize {@code H}, the size of the hidden state
   * @throws IllegalArgumentException if a size is below 1
   */
  public PeepholeLstmCell(int inputSize, int hiddenSize) {
    checkArgument(inputSize >= 1 && hiddenSize >= 1,
        "lstm(%s, %s, peepholes) expected sizes >= 1", inputSize, hiddenSize);
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    Shape diagonal = Shape.of(hiddenSize);
    this.extras = ImmutableList.of(
        new ParameterSpec("weight_ci", diagonal, ParameterSpec.Init.UNIFORM_HIDDEN),
        new ParameterSpec("weight_cf", diagonal, ParameterSpec.Init.UNIFORM_HIDDEN),
        new ParameterSpec("weight_co", diagonal, ParameterSpec.Init.UNIFORM_HIDDEN));
    this.description = "lstm(" + inputSize + ", " + hiddenSize + ", peepholes)";
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

  /** {@code weight_ci}, {@code weight_cf}, {@code weight_co}, {@code [H]} each, in this order. */
  @Override public List<ParameterSpec> extraParameters() {
    return extras;
  }

  /** {@return {@link Projections#SUMMED}: the gates read only {@code xp + hp}} */
  @Override public Projections projections() {
    return Projections.SUMMED;
  }

  /** {@return true: the gates read {@code h_{t-1}} only through {@code hp}} */
  @Override public boolean projectable() {
    return true;
  }

  @Override public void forward(Step s) {
    ElmanCell.sumIntoHp(s, s.batch() * gateSize());
    if (s.dtype() == DType.FLOAT32) {
      forward32(s, hiddenSize);
    } else {
      forward64(s, hiddenSize);
    }
  }

  @Override public void backward(Step s) {
    if (s.dtype() == DType.FLOAT32) {
      backward32(s, hiddenSize);
    } else {
      backward64(s, hiddenSize);
    }
    ElmanCell.copyGateGradient(s, s.batch() * gateSize());
    s.dPrev(0).fill(s.dPrevOff(0), s.batch() * hiddenSize, 0);
  }

  private static void forward32(Step s, int hh) {
    float[] z = f32(s.hp());
    float[] c = f32(s.prev(1));
    float[] h2 = f32(s.next(0));
    float[] c2 = f32(s.next(1));
    float[] sv = f32(s.saved());
    float[] wCi = f32(s.param(CI));
    float[] wCf = f32(s.param(CF));
    float[] wCo = f32(s.param(CO));
    int g4 = 4 * hh;
    for (int r = 0; r < s.batch(); r++) {
      int zr = s.hpOff() + r * g4;
      int v = s.savedOff() + r * 5 * hh;
      int co = s.prevOff(1) + r * hh;
      int h2o = s.nextOff(0) + r * hh;
      int c2o = s.nextOff(1) + r * hh;
      for (int j = 0; j < hh; j++) {
        float cp = c[co + j];
        float i = Activation.sigmoid(z[zr + j] + wCi[j] * cp);
        float f = Activation.sigmoid(z[zr + hh + j] + wCf[j] * cp);
        float g = (float) Math.tanh(z[zr + 2 * hh + j]);
        float cn = f * cp + i * g;
        float o = Activation.sigmoid(z[zr + 3 * hh + j] + wCo[j] * cn);
        float tc = (float) Math.tanh(cn);
        c2[c2o + j] = cn;
        h2[h2o + j] = o * tc;
        sv[v + j] = i;
        sv[v + hh + j] = f;
        sv[v + 2 * hh + j] = g;
        sv[v + 3 * hh + j] = o;
        sv[v + 4 * hh + j] = tc;
      }
    }
  }

  private static void forward64(Step s, int hh) {
    double[] z = f64(s.hp());
    double[] c = f64(s.prev(1));
    double[] h2 = f64(s.next(0));
    double[] c2 = f64(s.next(1));
    double[] sv = f64(s.saved());
    double[] wCi = f64(s.param(CI));
    double[] wCf = f64(s.param(CF));
    double[] wCo = f64(s.param(CO));
    int g4 = 4 * hh;
    for (int r = 0; r < s.batch(); r++) {
      int zr = s.hpOff() + r * g4;
      int v = s.savedOff() + r * 5 * hh;
      int co = s.prevOff(1) + r * hh;
      int h2o = s.nextOff(0) + r * hh;
      int c2o = s.nextOff(1) + r * hh;
      for (int j = 0; j < hh; j++) {
        double cp = c[co + j];
        double i = Activation.sigmoid(z[zr + j] + wCi[j] * cp);
        double f = Activation.sigmoid(z[zr + hh + j] + wCf[j] * cp);
        double g = Math.tanh(z[zr + 2 * hh + j]);
        double cn = f * cp + i * g;
        double o = Activation.sigmoid(z[zr + 3 * hh + j] + wCo[j] * cn);
        double tc = Math.tanh(cn);
        c2[c2o + j] = cn;
        h2[h2o + j] = o * tc;
        sv[v + j] = i;
        sv[v + hh + j] = f;
        sv[v + 2 * hh + j] = g;
        sv[v + 3 * hh + j] = o;
        sv[v + 4 * hh + j] = tc;
      }
    }
  }

  private static void backward32(Step s, int hh) {
    float[] sv = f32(s.saved());
    float[] c = f32(s.prev(1));
    float[] c2 = f32(s.next(1));
    float[] dh2 = f32(s.dNext(0));
    float[] dc2 = f32(s.dNext(1));
    float[] dz = f32(s.dxp());
    float[] dc = f32(s.dPrev(1));
    float[] wCi = f32(s.param(CI));
    float[] wCf = f32(s.param(CF));
    float[] wCo = f32(s.param(CO));
    float[] dwCi = f32(s.paramGrad(CI));
    float[] dwCf = f32(s.paramGrad(CF));
    float[] dwCo = f32(s.paramGrad(CO));
    int g4 = 4 * hh;
    for (int r = 0; r < s.batch(); r++) {
      int v = s.savedOff() + r * 5 * hh;
      int d = s.dxpOff() + r * g4;
      int co = s.prevOff(1) + r * hh;
      int c2o = s.nextOff(1) + r * hh;
      int dh2o = s.dNextOff(0) + r * hh;
      int dc2o = s.dNextOff(1) + r * hh;
      int dco = s.dPrevOff(1) + r * hh;
      for (int j = 0; j < hh; j++) {
        float i = sv[v + j];
        float f = sv[v + hh + j];
        float g = sv[v + 2 * hh + j];
        float o = sv[v + 3 * hh + j];
        float tc = sv[v + 4 * hh + j];
        float cp = c[co + j];
        float cn = c2[c2o + j];
        float dh = dh2[dh2o + j];
        float dzo = dh * tc * o * (1 - o);
        float dcTotal = dc2[dc2o + j] + dh * o * (1 - tc * tc) + dzo * wCo[j];
        float dzi = dcTotal * g * i * (1 - i);
        float dzf = dcTotal * cp * f * (1 - f);
        dz[d + j] = dzi;
        dz[d + hh + j] = dzf;
        dz[d + 2 * hh + j] = dcTotal * i * (1 - g * g);
        dz[d + 3 * hh + j] = dzo;
        dc[dco + j] = dcTotal * f + dzi * wCi[j] + dzf * wCf[j];
        dwCi[j] += dzi * cp;
        dwCf[j] += dzf * cp;
        dwCo[j] += dzo * cn;
      }
    }
  }

  private static void backward64(Step s, int hh) {
    double[] sv = f64(s.saved());
    double[] c = f64(s.prev(1));
    double[] c2 = f64(s.next(1));
    double[] dh2 = f64(s.dNext(0));
    double[] dc2 = f64(s.dNext(1));
    double[] dz = f64(s.dxp());
    double[] dc = f64(s.dPrev(1));
    double[] wCi = f64(s.param(CI));
    double[] wCf = f64(s.param(CF));
    double[] wCo = f64(s.param(CO));
    double[] dwCi = f64(s.paramGrad(CI));
    double[] dwCf = f64(s.paramGrad(CF));
    double[] dwCo = f64(s.paramGrad(CO));
    int g4 = 4 * hh;
    for (int r = 0; r < s.batch(); r++) {
      int v = s.savedOff() + r * 5 * hh;
      int d = s.dxpOff() + r * g4;
      int co = s.prevOff(1) + r * hh;
      int c2o = s.nextOff(1) + r * hh;
      int dh2o = s.dNextOff(0) + r * hh;
      int dc2o = s.dNextOff(1) + r * hh;
      int dco = s.dPrevOff(1) + r * hh;
      for (int j = 0; j < hh; j++) {
        double i = sv[v + j];
        double f = sv[v + hh + j];
        double g = sv[v + 2 * hh + j];
        double o = sv[v + 3 * hh + j];
        double tc = sv[v + 4 * hh + j];
        double cp = c[co + j];
        double cn = c2[c2o + j];
        double dh = dh2[dh2o + j];
        double dzo = dh * tc * o * (1 - o);
        double dcTotal = dc2[dc2o + j] + dh * o * (1 - tc * tc) + dzo * wCo[j];
        double dzi = dcTotal * g * i * (1 - i);
        double dzf = dcTotal * cp * f * (1 - f);
        dz[d + j] = dzi;
        dz[d + hh + j] = dzf;
        dz[d + 2 * hh + j] = dcTotal * i * (1 - g * g);
        dz[d + 3 * hh + j] = dzo;
        dc[dco + j] = dcTotal * f + dzi * wCi[j] + dzf * wCf[j];
        dwCi[j] += dzi * cp;
        dwCf[j] += dzf * cp;
        dwCo[j] += dzo * cn;
      }
    }
  }

  @Override public String toString() {
    return describe();
  }
}
