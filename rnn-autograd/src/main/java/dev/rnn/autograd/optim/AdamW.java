package dev.rnn.autograd.optim;

import com.google.errorprone.annotations.CanIgnoreReturnValue;
import dev.rnn.core.Parameter;
import java.util.List;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter), and optional AMSGrad, as {@code
 * torch.optim.AdamW}.
 *
 * <p>Step {@code t = 1, 2, ...} updates every parameter {@code theta} from its gradient {@code
 * grad} by
 *
 * <pre>
 *   theta = theta * (1 - lr * weightDecay)
 *   m     = beta1 * m + (1 - beta1) * grad
 *   v     = beta2 * v + (1 - beta2) * grad * grad
 *   vMax  = max(vMax, v)                       (amsgrad only; then v below is vMax)
 *   theta = theta - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 *
 * <p>Unlike {@link Adam}'s L2 penalty, the decay shrinks the parameter directly and never enters
 * the moments; it scales with the current learning rate, so a schedule decays it too. The moments
 * start at zero, have the shape and dtype of their parameter and are allocated once, when the
 * optimizer is built. Defaults are torch's: {@code lr = 1e-3}, {@code betas = (0.9, 0.999)},
 * {@code eps = 1e-8}, {@code weightDecay = 0.01}, no AMSGrad.
 *
 * <pre>{@code
 * Optimizer adamW = AdamW.builder().lr(1e-3).weightDecay(0.1).build(params);
 * }</pre>
 */
public final class AdamW extends AbstractAdam {
  private AdamW(Builder b, List<Parameter> parameters) {
    super(b, parameters);
  }

  /**
   * A builder with torch's defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  @Override public void step() {
    moments.step(learningRate(), 0, weightDecay);
  }

  /** Options of {@link AdamW}, torch's defaults unless set; each setter checks its range. */
  public static final class Builder extends AbstractAdamBuilder<Builder, AdamW> {
    private Builder() {
      super("AdamW", 1e-2);
    }

    /**
     * The decoupled weight decay: each step multiplies the parameter by {@code 1 - lr *
     * weightDecay}; default {@code 0.01}.
     *
     * @param weightDecay the decoupled weight decay
     * @return this builder
     * @throws IllegalArgumentException if {@code weightDecay < 0}, NaN or infinite
     */
    @CanIgnoreReturnValue public Builder weightDecay(double weightDecay) {
      return setWeightDecay(weightDecay);
    }

    @Override AdamW newOptimizer(List<Parameter> parameters) {
      return new AdamW(this, parameters);
    }
  }
}
