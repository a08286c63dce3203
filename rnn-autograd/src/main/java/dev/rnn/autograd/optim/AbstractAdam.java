package dev.rnn.autograd.optim;

import dev.rnn.core.Parameter;
import java.util.List;

/**
 * What {@link Adam} and {@link AdamW} share: the options of their {@link AbstractAdamBuilder
 * builder}, the {@link Moments} both update, the step count and the description. They differ only
 * in where {@link #step()} applies {@link #weightDecay}: to the gradient (Adam) or to the parameter
 * (AdamW).
 */
abstract class AbstractAdam extends AbstractOptimizer {
  private final String name;
  private final double beta1;
  private final double beta2;
  private final double eps;
  final double weightDecay;
  private final boolean amsgrad;
  final Moments moments;

  /**
   * An optimizer over {@code parameters} with the options of {@code b}.
   *
   * @throws IllegalArgumentException if {@code parameters} is empty or holds a parameter twice
   */
  AbstractAdam(AbstractAdamBuilder<?, ?> b, List<Parameter> parameters) {
    super(b.name, parameters, b.lr);
    this.name = b.name;
    this.beta1 = b.beta1;
    this.beta2 = b.beta2;
    this.eps = b.eps;
    this.weightDecay = b.weightDecay;
    this.amsgrad = b.amsgrad;
    this.moments = new Moments(this, beta1, beta2, eps, amsgrad);
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
    return String.format("%s(lr=%s, betas=(%s, %s), eps=%s, weightDecay=%s, amsgrad=%s)",
        name, learningRate(), beta1, beta2, eps, weightDecay, amsgrad);
  }
}
