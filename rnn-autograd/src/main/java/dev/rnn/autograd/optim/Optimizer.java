package dev.rnn.autograd.optim;

import dev.rnn.core.Parameter;
import java.util.List;

/**
 * An update rule that moves parameters against their gradients, one {@link #step()} at a time.
 *
 * <p>An optimizer is built over a fixed list of parameters and owns their per-parameter state
 * (momentum buffers, moment estimates, the step count), allocated once when it is built. It reads
 * each parameter's live {@link Parameter#grad() gradient} and writes its live {@link
 * Parameter#data() value}; it never changes the gradient. A training iteration is
 *
 * <pre>{@code
 * optimizer.zeroGrad();                                            // grad = 0
 * ... forward and backward pass ...                                // grad += dL/dtheta
 * GradientClipping.clipByGlobalNorm(optimizer.parameters(), 1.0);  // optional
 * optimizer.step();                                                // theta = update(theta, grad)
 * }</pre>
 *
 * <p>The state is a value that comes out ({@link #state()}) and goes into a new optimizer over the
 * same parameters ({@link #restore}), so that a run can stop and continue exactly.
 *
 * <p>The implementations follow {@code torch.optim} formula for formula, with torch's defaults:
 * {@link Sgd}, {@link Adam}, {@link AdamW}, {@link RmsProp}.
 */
public interface Optimizer {
  /**
   * Applies one update to every parameter from its current gradient, and advances the step count.
   */
  void step();

  /** Sets the gradient of every parameter to zero, as before a new backward pass. */
  void zeroGrad();

  /**
   * {@return the parameters this optimizer updates, in the order it was built with; an immutable
   * list}
   */
  List<Parameter> parameters();

  /** {@return the learning rate the next {@link #step()} uses} */
  double learningRate();

  /**
   * Sets the learning rate of the following steps, for schedules; the state is kept.
   *
   * @param lr the new learning rate
   * @throws IllegalArgumentException if {@code lr} is negative, NaN or infinite
   */
  void setLearningRate(double lr);

  /**
   * A copy of this optimizer's state: its kind, step count and per-parameter state tensors (see
   * {@link OptimizerState} for their names). Later steps do not change it.
   *
   * @return the state now
   */
  OptimizerState state();

  /**
   * Replaces this optimizer's state with a copy of {@code state}, as exported by {@link #state()}
   * from an optimizer of the same kind and options over parameters of the same names, shapes and
   * dtypes: the next {@link #step()} then updates as that optimizer's would have. The learning
   * rate is an option, not state, and is kept.
   *
   * @param state the state to continue from
   * @throws IllegalArgumentException if the kind, the parameters' names, shapes or dtypes, or the
   *     names of the state tensors (which follow the options, e.g. amsgrad) differ, naming the
   *     first difference; this optimizer is then unchanged
   */
  void restore(OptimizerState state);
}
