package dev.rnn.core;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

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
 * <p>Shapes: x {@code [N, H_in]}, h {@code [N, H]}, G = H, nothing saved (backward reads h').
 */
public final class ElmanCell implements Cell {
  private final int inputSize;
  private final int hiddenSize;
  private final Activation activation;

  /**
   * An Elman cell; {@code activation} is torch's {@code nonlinearity} (tanh or relu) or any other.
   *
   * @throws IllegalArgumentException if a size is below 1
   */
  public ElmanCell(int inputSize, int hiddenSize, Activation activation) {
    checkArgument(inputSize >= 1 && hiddenSize >= 1,
        "elman(%s, %s) expected sizes >= 1", inputSize, hiddenSize);
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.activation = checkNotNull(activation, "activation");
  }

  /** The nonlinearity inside the recurrence. */
  public Activation activation() {
    return activation;
  }

  @Override public String describe() {
    return "elman(" + inputSize + ", " + hiddenSize + ", " + activation.label() + ")";
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

  @Override public void forward(Step s) {
    int n = s.batch() * hiddenSize;
    Storage h = s.next(0);
    int ho = s.nextOff(0);
    h.copyFrom(s.xp(), s.xpOff(), ho, n);
    h.axpy(n, 1, s.hp(), s.hpOff(), ho);
    activation.applyInPlace(h, ho, n);
  }

  @Override public void backward(Step s) {
    int n = s.batch() * hiddenSize;
    if (s.dtype() == DType.FLOAT32) {
      backward32(n, ((Storage.F32) s.next(0)).a, s.nextOff(0), ((Storage.F32) s.dNext(0)).a,
          s.dNextOff(0), ((Storage.F32) s.dxp()).a, s.dxpOff());
    } else {
      backward64(n, ((Storage.F64) s.next(0)).a, s.nextOff(0), ((Storage.F64) s.dNext(0)).a,
          s.dNextOff(0), ((Storage.F64) s.dxp()).a, s.dxpOff());
    }
    s.dhp().copyFrom(s.dxp(), s.dxpOff(), s.dhpOff(), n);
    s.dPrev(0).fill(s.dPrevOff(0), n, 0);
  }

  private void backward32(int n, float[] h, int ho, float[] dh, int dho, float[] dz, int dzo) {
    for (int i = 0; i < n; i++) {
      float y = h[ho + i];
      float d;
      switch (activation) {
        case TANH: d = 1 - y * y; break;
        case RELU: d = y > 0 ? 1 : 0; break;
        case SIGMOID: d = y * (1 - y); break;
        default: d = 1;
      }
      dz[dzo + i] = dh[dho + i] * d;
    }
  }

  private void backward64(int n, double[] h, int ho, double[] dh, int dho, double[] dz, int dzo) {
    for (int i = 0; i < n; i++) {
      double y = h[ho + i];
      double d;
      switch (activation) {
        case TANH: d = 1 - y * y; break;
        case RELU: d = y > 0 ? 1 : 0; break;
        case SIGMOID: d = y * (1 - y); break;
        default: d = 1;
      }
      dz[dzo + i] = dh[dho + i] * d;
    }
  }

  @Override public String toString() {
    return describe();
  }
}
