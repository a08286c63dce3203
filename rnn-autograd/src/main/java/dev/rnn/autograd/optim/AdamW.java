package dev.rnn.autograd.optim;

import static com.google.common.base.Preconditions.checkState;

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
public final class AdamW extends AbstractOptimizer {
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final double weightDecay;
  private final boolean amsgrad;
  private final Moments moments;

  private AdamW(Builder b, List<Parameter> parameters) {
    super("AdamW", parameters, b.lr);
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
    moments.step(learningRate(), 0, weightDecay);
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
    return String.format("AdamW(lr=%s, betas=(%s, %s), eps=%s, weightDecay=%s, amsgrad=%s)",
        learningRate(), beta1, beta2, eps, weightDecay, amsgrad);
  }

  /** Options of {@link AdamW}, torch's defaults unless set; each setter checks its range. */
  public static final class Builder {
    private double lr = 1e-3;
    private double beta1 = 0.9;
    private double beta2 = 0.999;
    private double eps = 1e-8;
    private double weightDecay = 1e-2;
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
     * The decoupled weight decay: each step multiplies the parameter by {@code 1 - lr *
     * weightDecay}; default {@code 0.01}.
     *
     * @param weightDecay the decoupled weight decay
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
    public AdamW build(List<Parameter> parameters) {
      checkState(!built,
          "this AdamW.Builder already built an optimizer; call AdamW.builder() for each optimizer");
      AdamW adamW = new AdamW(this, parameters);
      built = true;
      return adamW;
    }
  }
}
