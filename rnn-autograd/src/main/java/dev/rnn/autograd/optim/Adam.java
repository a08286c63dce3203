package dev.rnn.autograd.optim;

import static com.google.common.base.Preconditions.checkState;

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
public final class Adam extends AbstractOptimizer {
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final double weightDecay;
  private final boolean amsgrad;
  private final Moments moments;

  private Adam(Builder b, List<Parameter> parameters) {
    super("Adam", parameters, b.lr);
    this.beta1 = b.beta1;
    this.beta2 = b.beta2;
    this.eps = b.eps;
    this.weightDecay = b.weightDecay;
    this.amsgrad = b.amsgrad;
    this.moments = new Moments(this, beta1, beta2, eps, amsgrad);
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

  /**
   * The number of steps taken, {@code t} of the class comment.
   *
   * @return {@code t}
   */
  public long steps() {
    return moments.steps();
  }

  @Override public String toString() {
    return String.format("Adam(lr=%s, betas=(%s, %s), eps=%s, weightDecay=%s, amsgrad=%s)",
        learningRate(), beta1, beta2, eps, weightDecay, amsgrad);
  }

  /** Options of {@link Adam}, torch's defaults unless set; each setter checks its range. */
  public static final class Builder {
    private double lr = 1e-3;
    private double beta1 = 0.9;
    private double beta2 = 0.999;
    private double eps = 1e-8;
    private double weightDecay;
    private boolean amsgrad;
    private boolean built;

    private Builder() {}

    /**
     * The learning rate {@code lr}; default {@code 1e-3}.
     *
     * @param lr the learning rate
     * @return this builder
     * @throws IllegalArgumentException if {@code lr < 0} or NaN
     */
    @CanIgnoreReturnValue public Builder lr(double lr) {
      this.lr = checkAtLeastZero("lr", lr);
      return this;
    }

    /**
     * The decay rates of the first and second moment estimates; default {@code (0.9, 0.999)}.
     *
     * @param beta1 the decay rate {@code beta1} of {@code m}
     * @param beta2 the decay rate {@code beta2} of {@code v}
     * @return this builder
     * @throws IllegalArgumentException unless both lie in {@code [0, 1)}
     */
    @CanIgnoreReturnValue public Builder betas(double beta1, double beta2) {
      this.beta1 = checkBelowOne("beta1", beta1);
      this.beta2 = checkBelowOne("beta2", beta2);
      return this;
    }

    /**
     * The term added to the denominator for numerical stability; default {@code 1e-8}.
     *
     * @param eps the term {@code eps}
     * @return this builder
     * @throws IllegalArgumentException if {@code eps < 0} or NaN
     */
    @CanIgnoreReturnValue public Builder eps(double eps) {
      this.eps = checkAtLeastZero("eps", eps);
      return this;
    }

    /**
     * The L2 penalty {@code weightDecay}, added to the gradient as {@code weightDecay * theta}
     * before the moments; default {@code 0}.
     *
     * @param weightDecay the L2 penalty
     * @return this builder
     * @throws IllegalArgumentException if {@code weightDecay < 0} or NaN
     */
    @CanIgnoreReturnValue public Builder weightDecay(double weightDecay) {
      this.weightDecay = checkAtLeastZero("weightDecay", weightDecay);
      return this;
    }

    /**
     * Whether to use AMSGrad, the running maximum of {@code v}; default {@code false}.
     *
     * @param amsgrad whether to use AMSGrad
     * @return this builder
     */
    @CanIgnoreReturnValue public Builder amsgrad(boolean amsgrad) {
      this.amsgrad = amsgrad;
      return this;
    }

    /**
     * An optimizer over {@code parameters} with these options.
     *
     * @param parameters the parameters updated, in order
     * @return a new optimizer
     * @throws IllegalStateException if this builder already built an optimizer
     * @throws IllegalArgumentException if {@code parameters} is empty or holds a parameter twice
     */
    public Adam build(List<Parameter> parameters) {
      checkState(!built,
          "this Adam.Builder already built an optimizer; call Adam.builder() for each optimizer");
      Adam adam = new Adam(this, parameters);
      built = true;
      return adam;
    }
  }
}
