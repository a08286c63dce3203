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
  /** Scratch blocks of {@code g} and of the denominator, per dtype. */
  private final Storage[] gBlock = AbstractOptimizer.scratchBlocks();
  private final Storage[] denomBlock = AbstractOptimizer.scratchBlocks();

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
   * gradient and decoupled weight decay {@code decoupled} applied to the parameter: the formula of
   * the class comment, one line an op, block by block (see {@link AbstractOptimizer#BLOCK}).
   */
  void step(double lr, double l2, double decoupled) {
    t++;
    double decay = 1 - lr * decoupled;
    double stepSize = lr / (1 - Math.pow(beta1, t));
    double sqrtBiasCorrection2 = Math.sqrt(1 - Math.pow(beta2, t));
    for (int k = 0; k < params.length; k++) {
      Parameter p = params[k];
      Storage theta = p.data();
      Storage grad = p.grad();
      Storage mk = m[k];
      Storage vk = v[k];
      Storage vHat = amsgrad ? vMax[k] : vk;
      Storage gScratch = gBlock[p.dtype().ordinal()];
      Storage denom = denomBlock[p.dtype().ordinal()];
      for (int off = 0; off < p.size(); off += AbstractOptimizer.BLOCK) {
        int n = Math.min(AbstractOptimizer.BLOCK, p.size() - off);
        // g = grad + l2 * theta
        Storage g = AbstractOptimizer.penalizedGradient(grad, theta, l2, gScratch, off, n);
        int gOff = g == grad ? off : 0;
        // m = beta1 * m + (1 - beta1) * g
        mk.axpby(n, 1 - beta1, g, gOff, beta1, off);
        // v = beta2 * v + (1 - beta2) * g * g
        vk.addcmul(off, n, beta2, 1 - beta2, g, gOff, g, gOff);
        if (amsgrad) {
          // vMax = max(vMax, v)
          vHat.maximum(off, n, vk, off);
        }
        // denom = sqrt(v) / sqrt(1 - beta2^t) + eps
        denom.sqrt(0, n, vHat, off, sqrtBiasCorrection2, eps);
        // theta = theta * (1 - lr * decoupled) - lr / (1 - beta1^t) * m / denom
        theta.addcdiv(off, n, decay, -stepSize, mk, off, denom, 0);
      }
    }
  }
}
