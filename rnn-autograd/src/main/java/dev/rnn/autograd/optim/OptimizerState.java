package dev.rnn.autograd.optim;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.rnn.core.DType;
import dev.rnn.core.Shape;
import dev.rnn.core.Tensor;
import java.util.List;
import java.util.Map;

/**
 * The state of an {@link Optimizer} as a value: what its next steps depend on besides the
 * parameters and their gradients, so that a run can stop and continue exactly.
 *
 * <pre>{@code
 * OptimizerState saved = adam.state();                      // a copy; adam goes on unchanged
 * Optimizer again = Adam.builder().lr(1e-3).build(params);  // the same options and parameters
 * again.restore(saved);                                      // continues where adam was
 * }</pre>
 *
 * <p>Per parameter, in the optimizer's order, the state tensors under torch's {@code state_dict}
 * names, each of its parameter's shape and dtype:
 *
 * <pre>
 *   Sgd      momentum_buffer                           (momentum &gt; 0 only)
 *   Adam     exp_avg, exp_avg_sq, max_exp_avg_sq       (the last with amsgrad only)
 *   AdamW    exp_avg, exp_avg_sq, max_exp_avg_sq       (the last with amsgrad only)
 *   RmsProp  square_avg, momentum_buffer, grad_avg     (momentum &gt; 0; centered only)
 * </pre>
 *
 * <p>and the number of steps taken (Adam's and AdamW's {@code t} of the bias corrections; Sgd's
 * first step, which sets the momentum buffer to the gradient, is step 0).
 *
 * @param optimizer the kind of optimizer whose state this is: {@code Sgd}, {@code Adam}, {@code
 *     AdamW} or {@code RmsProp}
 * @param steps the step count of the update rule, {@code >= 0}
 * @param parameters the state of each parameter, in the optimizer's order
 */
public record OptimizerState(String optimizer, long steps,
    ImmutableList<ParameterState> parameters) {
  /**
   * Checks the state.
   *
   * @param optimizer the kind of optimizer whose state this is
   * @param steps the number of steps taken, {@code >= 0}
   * @param parameters the state of each parameter, in the optimizer's order
   * @throws IllegalArgumentException if {@code steps < 0}
   */
  public OptimizerState {
    checkNotNull(optimizer, "optimizer");
    checkNotNull(parameters, "parameters");
    checkArgument(steps >= 0, "OptimizerState expected steps >= 0 but got %s", steps);
  }

  /**
   * The state of the parameter named {@code name}.
   *
   * @param name the parameter's name, e.g. {@code weight_ih_l0}
   * @return its state
   * @throws IllegalArgumentException if no parameter has that name
   */
  public ParameterState parameter(String name) {
    for (ParameterState p : parameters) {
      if (p.name().equals(name)) {
        return p;
      }
    }
    throw new IllegalArgumentException("OptimizerState of " + optimizer
        + " has no parameter named " + name + "; it has " + names(parameters));
  }

  static String names(List<ParameterState> parameters) {
    return parameters.stream().map(ParameterState::name).toList().toString();
  }

  @Override public String toString() {
    return "OptimizerState(" + optimizer + ", steps=" + steps + ", " + parameters.size()
        + " parameters)";
  }

  /**
   * The state an optimizer keeps for one parameter.
   *
   * @param name the parameter's name
   * @param shape the parameter's shape
   * @param dtype the parameter's dtype
   * @param tensors the state tensors by torch's names (see {@link OptimizerState}), each of
   *     {@code shape} and {@code dtype}; empty for an optimizer that keeps none (Sgd without
   *     momentum)
   */
  public record ParameterState(String name, Shape shape, DType dtype,
      ImmutableMap<String, Tensor> tensors) {
    /**
     * Checks that every tensor has the parameter's shape and dtype.
     *
     * @param name the parameter's name
     * @param shape the parameter's shape
     * @param dtype the parameter's dtype
     * @param tensors the state tensors by torch's name
     * @throws IllegalArgumentException if one has not, naming it
     */
    public ParameterState {
      checkNotNull(name, "name");
      checkNotNull(shape, "shape");
      checkNotNull(dtype, "dtype");
      checkNotNull(tensors, "tensors");
      for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
        checkArgument(e.getValue().shape().equals(shape) && e.getValue().dtype() == dtype,
            "the state tensor %s of %s expected shape %s and dtype %s but got %s and %s",
            e.getKey(), name, shape, dtype.torchName(), e.getValue().shape(),
            e.getValue().dtype().torchName());
      }
    }
  }
}
