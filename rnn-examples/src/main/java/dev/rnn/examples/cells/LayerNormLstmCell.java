package dev.rnn.examples.cells;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableList;
import dev.rnn.core.Cell;
import dev.rnn.core.ParameterSpec;
import dev.rnn.core.Shape;
import dev.rnn.core.Step;
import dev.rnn.core.Storage;
import java.util.List;

/**
 * A layer-normalised LSTM cell (Ba, Kiros and Hinton 2016, arXiv:1607.06450, section 3.1), written
 * as a library user writes a cell: outside {@code dev.rnn.core}, against the public {@link Cell}
 * and {@link Step} only. Gates in torch's order i, f, g, o.
 *
 * <p>{@code LN(a; gamma, beta)} normalises one row of {@code a} over all its elements, {@code â =
 * (a - mean(a)) / sqrt(var(a) + 1e-5)} with the biased variance (as {@code torch.nn.LayerNorm}),
 * and returns {@code gamma * â + beta}. The projections are normalised each over its whole row,
 * all four gate blocks together, and the new cell state over its H elements:
 *
 * <pre>
 *   [zi zf zg zo] = LN(xp; gamma_x, beta_x) + LN(hp; gamma_h, beta_h)     each row 4H wide
 *   i = sigmoid(zi)  f = sigmoid(zf)  g = tanh(zg)  o = sigmoid(zo)
 *   c' = f * c + i * g
 *   n  = LN(c'; gamma_c, beta_c)
 *   h' = o * tanh(n)
 * backward (dh', dc' given), with the layer-norm backward for â = (a - mean a) * rs, rs =
 * 1/sqrt(var a + eps), over a row of m elements, given dâ:
 *   da = rs * (dâ - mean(dâ) - â * mean(dâ * â))          (mean and variance both depend on a)
 * so that
 *   dzo = dh' * tanh(n) * o (1 - o)
 *   dn  = dh' * o * (1 - tanh(n)^2);   dgamma_c += dn * ĉ,  dbeta_c += dn,  dĉ = dn * gamma_c
 *   dc  = dc' + LN backward of dĉ      (H wide)
 *   dzi = dc * g * i (1 - i)   dzf = dc * c * f (1 - f)   dzg = dc * i (1 - g^2)
 *   dz  = [dzi dzf dzg dzo];  dgamma_x += dz * x̂,  dbeta_x += dz,  dgamma_h += dz * ĥ,
 *   dbeta_h += dz
 *   dxp = LN backward of dz * gamma_x,  dhp = LN backward of dz * gamma_h      (4H wide)
 *   dc (to c) = dc * f,  dh (direct) = 0
 * </pre>
 *
 * <p>Shapes (N batch, H hidden, H_in input): x {@code [N, H_in]}, h and c {@code [N, H]}, G = 4H;
 * extra parameters {@code gamma_x}, {@code beta_x}, {@code gamma_h}, {@code beta_h} {@code [4H]}
 * and {@code gamma_c}, {@code beta_c} {@code [H]}, gains initialised to ones and biases to zeros;
 * saved per row: x̂, ĥ, the gates i f g o, ĉ, tanh(n) and the three reciprocal standard deviations
 * (S = 14H + 3).
 *
 * <p>Biases: the scan adds {@code bias_ih} and {@code bias_hh} before the cell, inside the
 * normalisation. Layer norm removes only their mean over the row; the rest shifts the row before
 * it is normalised, so they are neither cancelled nor the same as {@code beta} (the gradients are
 * exact either way). The paper has no bias inside the norm, {@code beta_x + beta_h} being the gate
 * bias: build the {@link dev.rnn.core.Scan} with {@code biasIh = biasHh = false} for that
 * model. Mind that layer norm also removes the scale of each row: with one input feature and no
 * {@code bias_ih}, {@code LN(x W_ih^T) ≈ sign(x) (w - mean w) / std w} and the cell sees only the
 * sign of x; {@code bias_ih} keeps its magnitude.
 *
 * <p>Dtypes: one kernel serves both. It gathers each row into {@code double} scratch arrays with
 * {@link Storage#get}, computes in double and writes back with {@link Storage#set}, which rounds
 * to float for float32. That costs a virtual call per element, which is fine for an example; a
 * fast cell mirrors a float and a double kernel over the raw arrays, as the built-in cells do.
 */
final class LayerNormLstmCell implements Cell {
  /** The {@code eps} added to the variance, as {@code torch.nn.LayerNorm}. */
  public static final double EPS = 1e-5;

  private static final int GAMMA_X = 0;
  private static final int BETA_X = 1;
  private static final int GAMMA_H = 2;
  private static final int BETA_H = 3;
  private static final int GAMMA_C = 4;
  private static final int BETA_C = 5;

  // Where each saved block starts in a row of saved, in units of H.
  private static final int X_HAT = 0;
  private static final int H_HAT = 4;
  private static final int GATES = 8;
  private static final int C_HAT = 12;
  private static final int TANH_N = 13;
  private static final int RS = 14;

  private final int inputSize;
  private final int hiddenSize;
  private final ImmutableList<ParameterSpec> extras;

  /**
   * A layer-normalised LSTM cell.
   *
   * @param inputSize {@code H_in}, the features of one input step
   * @param hiddenSize {@code H}, the size of the hidden state, at least 2 for the normalisation
   * @throws IllegalArgumentException if {@code inputSize < 1} or {@code hiddenSize < 2}
   */
  public LayerNormLstmCell(int inputSize, int hiddenSize) {
    checkArgument(inputSize >= 1, "lstm(%s, %s, layer norm) expected input size >= 1",
        inputSize, hiddenSize);
    checkArgument(hiddenSize >= 2,
        "lstm(%s, %s, layer norm) expected hidden size >= 2 (layer norm over one element of c"
            + " is a constant)", inputSize, hiddenSize);
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    Shape gates = Shape.of(4 * hiddenSize);
    Shape hidden = Shape.of(hiddenSize);
    this.extras = ImmutableList.of(
        new ParameterSpec("gamma_x", gates, ParameterSpec.Init.ONES),
        new ParameterSpec("beta_x", gates, ParameterSpec.Init.ZEROS),
        new ParameterSpec("gamma_h", gates, ParameterSpec.Init.ONES),
        new ParameterSpec("beta_h", gates, ParameterSpec.Init.ZEROS),
        new ParameterSpec("gamma_c", hidden, ParameterSpec.Init.ONES),
        new ParameterSpec("beta_c", hidden, ParameterSpec.Init.ZEROS));
  }

  @Override public String describe() {
    return "lstm(" + inputSize + ", " + hiddenSize + ", layer norm)";
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
    return RS * hiddenSize + 3;
  }

  /**
   * {@code gamma_x}, {@code beta_x}, {@code gamma_h}, {@code beta_h} ({@code [4H]}), {@code
   * gamma_c}, {@code beta_c} ({@code [H]}), in this order.
   */
  @Override public List<ParameterSpec> extraParameters() {
    return extras;
  }

  @Override public void forward(Step s) {
    int hh = hiddenSize;
    int g4 = 4 * hh;
    double[] gX = gather(s.param(GAMMA_X), 0, new double[g4]);
    double[] bX = gather(s.param(BETA_X), 0, new double[g4]);
    double[] gH = gather(s.param(GAMMA_H), 0, new double[g4]);
    double[] bH = gather(s.param(BETA_H), 0, new double[g4]);
    double[] gC = gather(s.param(GAMMA_C), 0, new double[hh]);
    double[] bC = gather(s.param(BETA_C), 0, new double[hh]);
    double[] xp = new double[g4];
    double[] hp = new double[g4];
    double[] c = new double[hh];
    double[] xHat = new double[g4];
    double[] hHat = new double[g4];
    double[] gates = new double[g4];
    double[] c2 = new double[hh];
    double[] cHat = new double[hh];
    double[] tn = new double[hh];
    double[] h2 = new double[hh];
    for (int r = 0; r < s.batch(); r++) {
      gather(s.xp(), s.xpOff() + r * g4, xp);
      gather(s.hp(), s.hpOff() + r * g4, hp);
      gather(s.prev(1), s.prevOff(1) + r * hh, c);
      double rsX = normalize(xp, xHat);
      double rsH = normalize(hp, hHat);
      for (int k = 0; k < g4; k++) {
        double z = gX[k] * xHat[k] + bX[k] + gH[k] * hHat[k] + bH[k];
        gates[k] = k >= 2 * hh && k < 3 * hh ? Math.tanh(z) : sigmoid(z);
      }
      for (int j = 0; j < hh; j++) {
        double i = gates[j];
        double f = gates[hh + j];
        double g = gates[2 * hh + j];
        c2[j] = f * c[j] + i * g;
      }
      double rsC = normalize(c2, cHat);
      for (int j = 0; j < hh; j++) {
        double o = gates[3 * hh + j];
        tn[j] = Math.tanh(gC[j] * cHat[j] + bC[j]);
        h2[j] = o * tn[j];
      }
      scatter(h2, s.next(0), s.nextOff(0) + r * hh);
      scatter(c2, s.next(1), s.nextOff(1) + r * hh);
      int v = s.savedOff() + r * savedSize();
      scatter(xHat, s.saved(), v + X_HAT * hh);
      scatter(hHat, s.saved(), v + H_HAT * hh);
      scatter(gates, s.saved(), v + GATES * hh);
      scatter(cHat, s.saved(), v + C_HAT * hh);
      scatter(tn, s.saved(), v + TANH_N * hh);
      s.saved().set(v + RS * hh, rsX);
      s.saved().set(v + RS * hh + 1, rsH);
      s.saved().set(v + RS * hh + 2, rsC);
    }
  }

  @Override public void backward(Step s) {
    int hh = hiddenSize;
    int g4 = 4 * hh;
    double[] gX = gather(s.param(GAMMA_X), 0, new double[g4]);
    double[] gH = gather(s.param(GAMMA_H), 0, new double[g4]);
    double[] gC = gather(s.param(GAMMA_C), 0, new double[hh]);
    double[] dgX = new double[g4];
    double[] dbX = new double[g4];
    double[] dgH = new double[g4];
    double[] dbH = new double[g4];
    double[] dgC = new double[hh];
    double[] dbC = new double[hh];
    double[] xHat = new double[g4];
    double[] hHat = new double[g4];
    double[] gates = new double[g4];
    double[] cHat = new double[hh];
    double[] tn = new double[hh];
    double[] c = new double[hh];
    double[] dh2 = new double[hh];
    double[] dc2 = new double[hh];
    double[] dcHat = new double[hh];
    double[] dcLn = new double[hh];
    double[] dc = new double[hh];
    double[] dz = new double[g4];
    double[] dxHat = new double[g4];
    double[] dhHat = new double[g4];
    double[] dxp = new double[g4];
    double[] dhp = new double[g4];
    for (int r = 0; r < s.batch(); r++) {
      int v = s.savedOff() + r * savedSize();
      gather(s.saved(), v + X_HAT * hh, xHat);
      gather(s.saved(), v + H_HAT * hh, hHat);
      gather(s.saved(), v + GATES * hh, gates);
      gather(s.saved(), v + C_HAT * hh, cHat);
      gather(s.saved(), v + TANH_N * hh, tn);
      double rsX = s.saved().get(v + RS * hh);
      double rsH = s.saved().get(v + RS * hh + 1);
      double rsC = s.saved().get(v + RS * hh + 2);
      gather(s.prev(1), s.prevOff(1) + r * hh, c);
      gather(s.dNext(0), s.dNextOff(0) + r * hh, dh2);
      gather(s.dNext(1), s.dNextOff(1) + r * hh, dc2);
      for (int j = 0; j < hh; j++) {
        double o = gates[3 * hh + j];
        dz[3 * hh + j] = dh2[j] * tn[j] * o * (1 - o);
        double dn = dh2[j] * o * (1 - tn[j] * tn[j]);
        dgC[j] += dn * cHat[j];
        dbC[j] += dn;
        dcHat[j] = dn * gC[j];
      }
      normalizeBackward(dcHat, cHat, rsC, dcLn);
      for (int j = 0; j < hh; j++) {
        double i = gates[j];
        double f = gates[hh + j];
        double g = gates[2 * hh + j];
        double dcTotal = dc2[j] + dcLn[j];
        dz[j] = dcTotal * g * i * (1 - i);
        dz[hh + j] = dcTotal * c[j] * f * (1 - f);
        dz[2 * hh + j] = dcTotal * i * (1 - g * g);
        dc[j] = dcTotal * f;
      }
      for (int k = 0; k < g4; k++) {
        dgX[k] += dz[k] * xHat[k];
        dbX[k] += dz[k];
        dgH[k] += dz[k] * hHat[k];
        dbH[k] += dz[k];
        dxHat[k] = dz[k] * gX[k];
        dhHat[k] = dz[k] * gH[k];
      }
      normalizeBackward(dxHat, xHat, rsX, dxp);
      normalizeBackward(dhHat, hHat, rsH, dhp);
      scatter(dxp, s.dxp(), s.dxpOff() + r * g4);
      scatter(dhp, s.dhp(), s.dhpOff() + r * g4);
      scatter(dc, s.dPrev(1), s.dPrevOff(1) + r * hh);
    }
    s.dPrev(0).fill(s.dPrevOff(0), s.batch() * hh, 0);
    accumulate(dgX, s.paramGrad(GAMMA_X));
    accumulate(dbX, s.paramGrad(BETA_X));
    accumulate(dgH, s.paramGrad(GAMMA_H));
    accumulate(dbH, s.paramGrad(BETA_H));
    accumulate(dgC, s.paramGrad(GAMMA_C));
    accumulate(dbC, s.paramGrad(BETA_C));
  }

  /**
   * {@code aHat = (a - mean(a)) * rs} over all of {@code a}, with {@code rs = 1 / sqrt(var(a) +
   * eps)} and the biased variance; returns {@code rs}. Writes {@code aHat}.
   */
  private static double normalize(double[] a, double[] aHat) {
    int m = a.length;
    double mean = 0;
    for (double x : a) {
      mean += x;
    }
    mean /= m;
    double var = 0;
    for (double x : a) {
      var += (x - mean) * (x - mean);
    }
    var /= m;
    double rs = 1 / Math.sqrt(var + EPS);
    for (int k = 0; k < m; k++) {
      aHat[k] = (a[k] - mean) * rs;
    }
    return rs;
  }

  /**
   * The layer-norm backward {@code da = rs * (daHat - mean(daHat) - aHat * mean(daHat * aHat))},
   * through the mean and the variance. Writes {@code da}.
   */
  private static void normalizeBackward(double[] daHat, double[] aHat, double rs, double[] da) {
    int m = daHat.length;
    double mean = 0;
    double meanDot = 0;
    for (int k = 0; k < m; k++) {
      mean += daHat[k];
      meanDot += daHat[k] * aHat[k];
    }
    mean /= m;
    meanDot /= m;
    for (int k = 0; k < m; k++) {
      da[k] = rs * (daHat[k] - mean - aHat[k] * meanDot);
    }
  }

  private static double sigmoid(double x) {
    return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
  }

  /** Fills {@code into} from {@code s} at {@code off}, widened to double; returns it. */
  private static double[] gather(Storage s, int off, double[] into) {
    for (int k = 0; k < into.length; k++) {
      into[k] = s.get(off + k);
    }
    return into;
  }

  /** Writes {@code a} into {@code s} from {@code off} (rounded to float for float32). */
  private static void scatter(double[] a, Storage s, int off) {
    for (int k = 0; k < a.length; k++) {
      s.set(off + k, a[k]);
    }
  }

  /** {@code s += a}: backward adds its parameter gradients, which accumulate over the steps. */
  private static void accumulate(double[] a, Storage s) {
    for (int k = 0; k < a.length; k++) {
      s.set(k, s.get(k) + a[k]);
    }
  }

  @Override public String toString() {
    return describe();
  }
}
