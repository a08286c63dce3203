package dev.rnn.core;

import static com.google.common.base.Preconditions.checkArgument;
import static dev.rnn.core.LstmCell.f32;
import static dev.rnn.core.LstmCell.f64;

/**
 * The GRU cell of {@code torch.nn.GRU}, gates in torch's order r, z, n.
 *
 * <pre>
 *   [xr xz xn] = xp,  [hr hz hn] = hp   (xp = x W_ih^T + b_ih, hp = h W_hh^T + b_hh)
 *   r = sigmoid(xr + hr)   z = sigmoid(xz + hz)
 *   n = tanh(xn + r * hn)
 *   h' = (1 - z) * n + z * h
 * backward (dh' given):
 *   dz = dh' * (h - n) * z (1 - z)      dn = dh' * (1 - z) * (1 - n^2)
 *   dr = dn * hn * r (1 - r)
 *   dxp = [dr dz dn],  dhp = [dr dz dn * r],  dh (direct) = dh' * z
 * </pre>
 *
 * <p>The candidate {@code n} reads {@code xn} and {@code hn} apart ({@code r} scales only {@code
 * hn}), so the cell keeps the default {@link Projections#SEPARATE}: the scan hands it {@code xp}
 * and {@code hp} each, and two gradient buffers.
 *
 * <p>Shapes: x {@code [N, H_in]}, h {@code [N, H]}, G = 3H, S = 4H: the saved block of a step
 * holds {@code [r z]} {@code [N, 2H]}, then n {@code [N, H]}, then hn {@code [N, H]}, so that each
 * activation runs over the whole batch in one loop the JIT vectorizes (see {@link Activation}).
 *
 * <p>The cell declares {@link Cell.Kernel#GRU}: on AVX-512 a float32 scan runs {@link #forward}
 * and {@link #backward} as C kernels ({@code gru_cell512}, {@code gru_back512}) that repeat the
 * float32 loops below operation by operation, one pass over the rows each; the loops here
 * remain the definition, and the path elsewhere (float64, AVX2, kernels off).
 */
public final class GruCell implements Cell {
  private final int inputSize;
  private final int hiddenSize;
  /** {@link #describe()}, made once: the scan names the cell in checks on every call. */
  private final String description;

  /**
   * A GRU cell.
   *
   * @param inputSize {@code H_in}, the features of one input step
   * @param hiddenSize {@code H}, the size of the hidden state
   * @throws IllegalArgumentException if a size is below 1
   */
  public GruCell(int inputSize, int hiddenSize) {
    checkArgument(inputSize >= 1 && hiddenSize >= 1,
        "gru(%s, %s) expected sizes >= 1", inputSize, hiddenSize);
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.description = "gru(" + inputSize + ", " + hiddenSize + ")";
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
    return 3 * hiddenSize;
  }

  @Override public int stateCount() {
    return 1;
  }

  @Override public int savedSize() {
    return 4 * hiddenSize;
  }

  /** {@return {@link Cell.Kernel#GRU}: on AVX-512 the scan runs this cell's float32 step in C} */
  @Override public Kernel kernel() {
    return Kernel.GRU;
  }

  @Override public void forward(Step s) {
    if (s.dtype() == DType.FLOAT32) {
      forward32(s.batch(), hiddenSize, f32(s.xp()), s.xpOff(), f32(s.hp()), s.hpOff(),
          f32(s.prev(0)), s.prevOff(0), f32(s.next(0)), s.nextOff(0), f32(s.saved()),
          s.savedOff());
    } else {
      forward64(s.batch(), hiddenSize, f64(s.xp()), s.xpOff(), f64(s.hp()), s.hpOff(),
          f64(s.prev(0)), s.prevOff(0), f64(s.next(0)), s.nextOff(0), f64(s.saved()),
          s.savedOff());
    }
  }

  @Override public void backward(Step s) {
    if (s.dtype() == DType.FLOAT32) {
      backward32(s.batch(), hiddenSize, f32(s.saved()), s.savedOff(), f32(s.prev(0)),
          s.prevOff(0), f32(s.dNext(0)), s.dNextOff(0), f32(s.dxp()), s.dxpOff(),
          f32(s.dhp()), s.dhpOff(), f32(s.dPrev(0)), s.dPrevOff(0));
    } else {
      backward64(s.batch(), hiddenSize, f64(s.saved()), s.savedOff(), f64(s.prev(0)),
          s.prevOff(0), f64(s.dNext(0)), s.dNextOff(0), f64(s.dxp()), s.dxpOff(),
          f64(s.dhp()), s.dhpOff(), f64(s.dPrev(0)), s.dPrevOff(0));
    }
  }

  // Forward: [r z] = xp + hp per row into the saved block and one sigmoid loop over the batch;
  // hn kept; n = xn + r * hn per row and one tanh loop over the batch; then h' per row.

  private static void forward32(int batch, int hh, float[] xp, int xo, float[] hp, int hpo,
      float[] h, int ho, float[] h2, int h2o, float[] sv, int so) {
    int g3 = 3 * hh;
    int nb = so + batch * 2 * hh;
    int hnb = nb + batch * hh;
    for (int b = 0; b < batch; b++) {
      ElmanCell.add(2 * hh, xp, xo + b * g3, hp, hpo + b * g3, sv, so + b * 2 * hh);
      System.arraycopy(hp, hpo + b * g3 + 2 * hh, sv, hnb + b * hh, hh);
    }
    Activation.sigmoidInPlace(sv, so, batch * 2 * hh);
    for (int b = 0; b < batch; b++) {
      int x = xo + b * g3 + 2 * hh;
      int rz = so + b * 2 * hh;
      int n = nb + b * hh;
      int hn = hnb + b * hh;
      for (int j = 0; j < hh; j++) {
        sv[n + j] = xp[x + j] + sv[rz + j] * sv[hn + j];
      }
    }
    Activation.tanhInPlace(sv, nb, batch * hh);
    for (int b = 0; b < batch; b++) {
      int z = so + b * 2 * hh + hh;
      int n = nb + b * hh;
      int hr = ho + b * hh;
      int h2r = h2o + b * hh;
      for (int j = 0; j < hh; j++) {
        float nv = sv[n + j];
        h2[h2r + j] = nv + sv[z + j] * (h[hr + j] - nv);
      }
    }
  }

  private static void forward64(int batch, int hh, double[] xp, int xo, double[] hp, int hpo,
      double[] h, int ho, double[] h2, int h2o, double[] sv, int so) {
    int g3 = 3 * hh;
    int nb = so + batch * 2 * hh;
    int hnb = nb + batch * hh;
    for (int b = 0; b < batch; b++) {
      ElmanCell.add(2 * hh, xp, xo + b * g3, hp, hpo + b * g3, sv, so + b * 2 * hh);
      System.arraycopy(hp, hpo + b * g3 + 2 * hh, sv, hnb + b * hh, hh);
    }
    Activation.sigmoidInPlace(sv, so, batch * 2 * hh);
    for (int b = 0; b < batch; b++) {
      int x = xo + b * g3 + 2 * hh;
      int rz = so + b * 2 * hh;
      int n = nb + b * hh;
      int hn = hnb + b * hh;
      for (int j = 0; j < hh; j++) {
        sv[n + j] = xp[x + j] + sv[rz + j] * sv[hn + j];
      }
    }
    Activation.tanhInPlace(sv, nb, batch * hh);
    for (int b = 0; b < batch; b++) {
      int z = so + b * 2 * hh + hh;
      int n = nb + b * hh;
      int hr = ho + b * hh;
      int h2r = h2o + b * hh;
      for (int j = 0; j < hh; j++) {
        double nv = sv[n + j];
        h2[h2r + j] = nv + sv[z + j] * (h[hr + j] - nv);
      }
    }
  }

  private static void backward32(int batch, int hh, float[] sv, int so, float[] h, int ho,
      float[] dh2, int dh2o, float[] dx, int dxo, float[] dhp, int dhpo, float[] dh, int dho) {
    int g3 = 3 * hh;
    int nb = so + batch * 2 * hh;
    int hnb = nb + batch * hh;
    for (int b = 0; b < batch; b++) {
      int rz = so + b * 2 * hh;
      int nr = nb + b * hh;
      int hnr = hnb + b * hh;
      int dxr = dxo + b * g3;
      int dhr = dhpo + b * g3;
      for (int j = 0; j < hh; j++) {
        float r = sv[rz + j];
        float z = sv[rz + hh + j];
        float n = sv[nr + j];
        float hn = sv[hnr + j];
        float g = dh2[dh2o + b * hh + j];
        float dz = g * (h[ho + b * hh + j] - n) * z * (1 - z);
        float dn = g * (1 - z) * (1 - n * n);
        float dr = dn * hn * r * (1 - r);
        dx[dxr + j] = dr;
        dx[dxr + hh + j] = dz;
        dx[dxr + 2 * hh + j] = dn;
        dhp[dhr + j] = dr;
        dhp[dhr + hh + j] = dz;
        dhp[dhr + 2 * hh + j] = dn * r;
        dh[dho + b * hh + j] = g * z;
      }
    }
  }

  private static void backward64(int batch, int hh, double[] sv, int so, double[] h, int ho,
      double[] dh2, int dh2o, double[] dx, int dxo, double[] dhp, int dhpo, double[] dh,
      int dho) {
    int g3 = 3 * hh;
    int nb = so + batch * 2 * hh;
    int hnb = nb + batch * hh;
    for (int b = 0; b < batch; b++) {
      int rz = so + b * 2 * hh;
      int nr = nb + b * hh;
      int hnr = hnb + b * hh;
      int dxr = dxo + b * g3;
      int dhr = dhpo + b * g3;
      for (int j = 0; j < hh; j++) {
        double r = sv[rz + j];
        double z = sv[rz + hh + j];
        double n = sv[nr + j];
        double hn = sv[hnr + j];
        double g = dh2[dh2o + b * hh + j];
        double dz = g * (h[ho + b * hh + j] - n) * z * (1 - z);
        double dn = g * (1 - z) * (1 - n * n);
        double dr = dn * hn * r * (1 - r);
        dx[dxr + j] = dr;
        dx[dxr + hh + j] = dz;
        dx[dxr + 2 * hh + j] = dn;
        dhp[dhr + j] = dr;
        dhp[dhr + hh + j] = dz;
        dhp[dhr + 2 * hh + j] = dn * r;
        dh[dho + b * hh + j] = g * z;
      }
    }
  }

  @Override public String toString() {
    return describe();
  }
}
