package dev.rnn.autograd.optim;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.Sets;
import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Storage;
import java.util.List;
import java.util.Set;

/**
 * The parameter list and learning rate every optimizer has, and the range checks of the builders.
 */
abstract class AbstractOptimizer implements Optimizer {
  /** The parameters as an array, so that the step loops allocate no iterator. */
  final Parameter[] params;

  private final ImmutableList<Parameter> parameterList;
  private double lr;

  /**
   * An optimizer named {@code name} (for messages) over a copy of {@code parameters}.
   *
   * @throws IllegalArgumentException if {@code parameters} is empty or holds a parameter twice
   */
  AbstractOptimizer(String name, List<Parameter> parameters, double lr) {
    checkArgument(!parameters.isEmpty(),
        "%s expected at least one parameter but got an empty list", name);
    this.parameterList = ImmutableList.copyOf(parameters);
    Set<Parameter> seen = Sets.newIdentityHashSet();
    for (Parameter p : parameterList) {
      checkArgument(seen.add(p),
          "%s got parameter %s twice; pass each parameter once, or it is updated twice per step",
          name, p.name());
    }
    this.params = parameterList.toArray(new Parameter[0]);
    this.lr = lr;
  }

  @Override public final List<Parameter> parameters() {
    return parameterList;
  }

  @Override public final double learningRate() {
    return lr;
  }

  @Override public final void setLearningRate(double lr) {
    this.lr = checkAtLeastZero("lr", lr);
  }

  @Override public final void zeroGrad() {
    for (Parameter p : params) {
      p.zeroGrad();
    }
  }

  /** One zero-filled state buffer per parameter, of its dtype and size. */
  final Storage[] zerosLike() {
    Storage[] state = new Storage[params.length];
    for (int k = 0; k < params.length; k++) {
      state[k] = Storage.allocate(params[k].dtype(), params[k].size());
    }
    return state;
  }

  static boolean isFloat32(Parameter p) {
    return p.dtype() == DType.FLOAT32;
  }

  /** {@code value}, checked to be {@code >= 0} (and so not NaN). */
  static double checkAtLeastZero(String what, double value) {
    checkArgument(value >= 0, "%s must be >= 0 but got %s", what, value);
    return value;
  }

  /** {@code value}, checked to lie in {@code [0, 1)}. */
  static double checkBelowOne(String what, double value) {
    checkArgument(value >= 0 && value < 1, "%s must be in [0, 1) but got %s", what, value);
    return value;
  }

  /** {@code value}, checked to lie in {@code [0, 1]}. */
  static double checkUpToOne(String what, double value) {
    checkArgument(value >= 0 && value <= 1, "%s must be in [0, 1] but got %s", what, value);
    return value;
  }

  static float[] f32(Storage s) {
    return ((Storage.F32) s).a;
  }

  static double[] f64(Storage s) {
    return ((Storage.F64) s).a;
  }
}
