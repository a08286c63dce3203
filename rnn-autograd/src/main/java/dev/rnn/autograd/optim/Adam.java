package dev.rnn.autograd.optim;

import com.google.errorprone.annotations.CanIgnoreReturnValue;
import dev.rnn.core.Parameter;
import java.util.List;

/**
 * Adam, with weight decay as an L2 penalty added to the gradient and optional AMSGrad, as {@code
 * torch.optim.Adam}.
 *
 * <p>Step {@code t = 1, 2, ...} updates every parameter {@code theta} from its gradient {@code
 * grad} by
 *
 * <pre>
 *   g     = grad + weightDecay * theta
 *   m     = beta1 * m + (1 - beta1) * g
 *   v     = beta2 * v + (1 - beta2) * g * g
 *   vMax  = max(vMax, v)                       (amsgrad only; then v below is vMax)
 *   theta = theta - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 *
 * <p>The moments {@code m}, {@code v} (and {@code vMax}) start at zero, have the shape and dtype of
 * their parameter and are allocated once, when the optimizer is built. Defaults are torch's:
 * {@code lr = 1e-3}, {@code betas = (0.9, 0.999)}, {@code eps = 1e-8}, no weight decay, no
 * AMSGrad. For weight decay that does not pass through the moments, use {@link AdamW}.
 *
 * <pre>{@code
 * Optimizer adam = Adam.builder().lr(1e-3).betas(0.9, 0.999).build(params);
 * }</pre>
 */
public final class Adam extends AbstractAdam {
  private Adam(Builder b, List<Parameter> parameters) {
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
    moments.step(learningRate(), weightDecay, 0);
  }

  /** Options of {@link Adam}, torch's defaults unless set; each setter checks its range. */
  public static final class Builder extends AbstractAdamBuilder<Builder, Adam> {
    private Builder() {
      super("Adam", 0);
    }

    /**
     * The L2 penalty {@code weightDecay}, added to the gradient as {@code weightDecay * theta}
     * before the moments; default {@code 0}.
     *
     * @param weightDecay the L2 penalty
     * @return this builder
     * @throws IllegalArgumentException if {@code weightDecay < 0}, NaN or infinite
     */
    @CanIgnoreReturnValue public Builder weightDecay(double weightDecay) {
      return setWeightDecay(weightDecay);
    }

    @Override Adam newOptimizer(List<Parameter> parameters) {
      return new Adam(this, parameters);
    }
  }
}
