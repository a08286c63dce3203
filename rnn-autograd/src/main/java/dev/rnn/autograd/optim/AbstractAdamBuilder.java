package dev.rnn.autograd.optim;

import static com.google.common.base.Preconditions.checkState;
import static dev.rnn.autograd.optim.AbstractOptimizer.checkAtLeastZero;
import static dev.rnn.autograd.optim.AbstractOptimizer.checkBelowOne;

import com.google.errorprone.annotations.CanIgnoreReturnValue;
import dev.rnn.core.Parameter;
import java.util.List;

/**
 * The options {@link Adam.Builder} and {@link AdamW.Builder} share, torch's defaults unless set,
 * with their range checks. Each subclass gives the weight decay its default and its public setter,
 * since the two optimizers apply it differently.
 *
 * @param <B> the builder itself, which the setters return
 * @param <O> the optimizer it builds
 */
abstract class AbstractAdamBuilder<B extends AbstractAdamBuilder<B, O>, O extends AbstractAdam> {
  /** The optimizer's class name, for messages and its {@code toString}. */
  final String name;
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weightDecay;
  boolean amsgrad;
  private boolean built;

  /** A builder of the optimizer {@code name} whose weight decay defaults to {@code weightDecay}. */
  AbstractAdamBuilder(String name, double weightDecay) {
    this.name = name;
    this.weightDecay = weightDecay;
  }

  /**
   * The learning rate {@code lr}; default {@code 1e-3}.
   *
   * @param lr the learning rate
   * @return this builder
   * @throws IllegalArgumentException if {@code lr < 0}, NaN or infinite
   */
  @CanIgnoreReturnValue public B lr(double lr) {
    this.lr = checkAtLeastZero("lr", lr);
    return self();
  }

  /**
   * The decay rates of the first and second moment estimates; default {@code (0.9, 0.999)}.
   *
   * @param beta1 the decay rate {@code beta1} of {@code m}
   * @param beta2 the decay rate {@code beta2} of {@code v}
   * @return this builder
   * @throws IllegalArgumentException unless both lie in {@code [0, 1)}
   */
  @CanIgnoreReturnValue public B betas(double beta1, double beta2) {
    this.beta1 = checkBelowOne("beta1", beta1);
    this.beta2 = checkBelowOne("beta2", beta2);
    return self();
  }

  /**
   * The term added to the denominator for numerical stability; default {@code 1e-8}.
   *
   * @param eps the term {@code eps}
   * @return this builder
   * @throws IllegalArgumentException if {@code eps < 0}, NaN or infinite
   */
  @CanIgnoreReturnValue public B eps(double eps) {
    this.eps = checkAtLeastZero("eps", eps);
    return self();
  }

  /**
   * Sets the weight decay, for the public {@code weightDecay} setter of each subclass, which
   * documents how its optimizer applies it.
   *
   * @throws IllegalArgumentException if {@code weightDecay < 0}, NaN or infinite
   */
  @CanIgnoreReturnValue final B setWeightDecay(double weightDecay) {
    this.weightDecay = checkAtLeastZero("weightDecay", weightDecay);
    return self();
  }

  /**
   * Whether to use AMSGrad, the running maximum of {@code v}; default {@code false}.
   *
   * @param amsgrad whether to use AMSGrad
   * @return this builder
   */
  @CanIgnoreReturnValue public B amsgrad(boolean amsgrad) {
    this.amsgrad = amsgrad;
    return self();
  }

  /**
   * An optimizer over {@code parameters} with these options.
   *
   * @param parameters the parameters updated, in order
   * @return a new optimizer
   * @throws IllegalStateException if this builder already built an optimizer
   * @throws IllegalArgumentException if {@code parameters} is empty or holds a parameter twice
   */
  public O build(List<Parameter> parameters) {
    checkState(!built,
        "this %s.Builder already built an optimizer; call %s.builder() for each optimizer",
        name, name);
    O optimizer = newOptimizer(parameters);
    built = true;
    return optimizer;
  }

  /**
   * A new optimizer over {@code parameters} with these options.
   *
   * @throws IllegalArgumentException if {@code parameters} is empty or holds a parameter twice
   */
  abstract O newOptimizer(List<Parameter> parameters);

  @SuppressWarnings("unchecked") // each subclass passes itself as B
  private B self() {
    return (B) this;
  }
}
