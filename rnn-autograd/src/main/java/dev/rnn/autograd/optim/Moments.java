package dev.rnn.autograd.optim;

import dev.rnn.core.Parameter;
import dev.rnn.core.Storage;

/**
 * The moment estimates of {@link Adam} and {@link AdamW}, one pair per parameter, and the update
 * that reads them.
 *
 * <p>Step {@code t = 1, 2, ...} updates every parameter {@code theta} from its gradient {@code
 * grad} by
 *
 * <pre>
 *   g     = grad + l2 * theta                               (Adam's weightDecay; 0 for AdamW)
 *   theta = theta * (1 - lr * decoupled)                    (AdamW's weightDecay; 0 for Adam)
 *   m     = beta1 * m + (1 - beta1) * g
 *   v     = beta2 * v + (1 - beta2) * g * g
 *   vMax  = max(vMax, v)                                    (amsgrad only; then v below is vMax)
 *   theta = theta - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 */
final class Moments {
  private final Parameter[] params;
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final boolean amsgrad;
  private final Storage[] m;
  private final Storage[] v;
  /** The running maximum of {@code v}; null without amsgrad. */
  private final Storage[] vMax;
  private long t;

  // The scalars of the current step, set by step() before the loops read them.
  private double l2;
  private double decay;
  private double stepSize;
  private double sqrtBiasCorrection2;

  Moments(AbstractOptimizer owner, double beta1, double beta2, double eps, boolean amsgrad) {
    this.params = owner.params;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.amsgrad = amsgrad;
    this.m = owner.zerosLike();
    this.v = owner.zerosLike();
    this.vMax = amsgrad ? owner.zerosLike() : null;
    owner.registerState(new AbstractOptimizer.StepCount(() -> t, n -> t = n),
        "exp_avg", m, "exp_avg_sq", v, "max_exp_avg_sq", vMax);
  }

  /** The number of steps taken. */
  long steps() {
    return t;
  }

  /**
   * Takes step {@code t + 1} with learning rate {@code lr}, L2 penalty {@code l2} added to the
   * gradient and decoupled weight decay {@code decoupled} applied to the parameter.
   */
  void step(double lr, double l2, double decoupled) {
    t++;
    this.l2 = l2;
    this.decay = 1 - lr * decoupled;
    this.stepSize = lr / (1 - Math.pow(beta1, t));
    this.sqrtBiasCorrection2 = Math.sqrt(1 - Math.pow(beta2, t));
    for (int k = 0; k < params.length; k++) {
      Parameter p = params[k];
      if (AbstractOptimizer.isFloat32(p)) {
        update(f32(p.data()), f32(p.grad()), f32(m[k]), f32(v[k]), amsgrad ? f32(vMax[k]) : null);
      } else {
        update(f64(p.data()), f64(p.grad()), f64(m[k]), f64(v[k]), amsgrad ? f64(vMax[k]) : null);
      }
    }
  }

  /** The update of the class comment on float32 arrays; mirrors the float64 loop below. */
  private void update(float[] theta, float[] grad, float[] m, float[] v, float[] vMax) {
    float l2 = (float) this.l2;
    float decay = (float) this.decay;
    float beta1 = (float) this.beta1;
    float beta2 = (float) this.beta2;
    float oneMinusBeta1 = (float) (1 - this.beta1);
    float oneMinusBeta2 = (float) (1 - this.beta2);
    float stepSize = (float) this.stepSize;
    float sqrtBiasCorrection2 = (float) this.sqrtBiasCorrection2;
    float eps = (float) this.eps;
    for (int i = 0; i < theta.length; i++) {
      float g = grad[i] + l2 * theta[i];
      float mi = beta1 * m[i] + oneMinusBeta1 * g;
      float vi = beta2 * v[i] + oneMinusBeta2 * g * g;
      m[i] = mi;
      v[i] = vi;
      if (vMax != null) {
        vi = Math.max(vMax[i], vi);
        vMax[i] = vi;
      }
      float denom = (float) Math.sqrt(vi) / sqrtBiasCorrection2 + eps;
      theta[i] = theta[i] * decay - stepSize * mi / denom;
    }
  }

  /** The update of the class comment on float64 arrays; mirrors the float32 loop above. */
  private void update(double[] theta, double[] grad, double[] m, double[] v, double[] vMax) {
    double l2 = this.l2;
    double decay = this.decay;
    double beta1 = this.beta1;
    double beta2 = this.beta2;
    double oneMinusBeta1 = 1 - this.beta1;
    double oneMinusBeta2 = 1 - this.beta2;
    double stepSize = this.stepSize;
    double sqrtBiasCorrection2 = this.sqrtBiasCorrection2;
    double eps = this.eps;
    for (int i = 0; i < theta.length; i++) {
      double g = grad[i] + l2 * theta[i];
      double mi = beta1 * m[i] + oneMinusBeta1 * g;
      double vi = beta2 * v[i] + oneMinusBeta2 * g * g;
      m[i] = mi;
      v[i] = vi;
      if (vMax != null) {
        vi = Math.max(vMax[i], vi);
        vMax[i] = vi;
      }
      double denom = Math.sqrt(vi) / sqrtBiasCorrection2 + eps;
      theta[i] = theta[i] * decay - stepSize * mi / denom;
    }
  }

  private static float[] f32(Storage s) {
    return AbstractOptimizer.f32(s);
  }

  private static double[] f64(Storage s) {
    return AbstractOptimizer.f64(s);
  }
}
