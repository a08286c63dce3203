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

  // ---- the update loops ------------------------------------------------------------------------
  //
  // An update is written, as torch's foreach optimizers are, as a sequence of elementwise Storage
  // ops, each a line of its formula. Run over whole parameters, the sequence would read and write
  // every state array once per op; run block by block, each block of every operand stays in the
  // L1 cache from the first op to the last, so the update costs one pass over memory, as a fused
  // loop does. Intermediate values (the penalized gradient, the denominator) live in block-sized
  // scratch storages allocated with the optimizer, so a step allocates nothing.

  /**
   * Elements per block of the update loops: the blocks of the up to seven operands of an update
   * (28 KiB in float64) fit together in the L1 cache.
   */
  static final int BLOCK = 512;

  /**
   * {@return one block-sized scratch storage per dtype, indexed by {@link DType#ordinal()}}
   */
  static Storage[] scratchBlocks() {
    DType[] dtypes = DType.values();
    Storage[] blocks = new Storage[dtypes.length];
    for (DType dtype : dtypes) {
      blocks[dtype.ordinal()] = Storage.allocate(dtype, BLOCK);
    }
    return blocks;
  }

  /**
   * The block {@code [off, off + n)} of the gradient with an L2 penalty, {@code g = grad +
   * weightDecay * theta}: {@code grad} itself (read {@code g} at {@code off}) when {@code
   * weightDecay} is 0, as torch skips the addition; else {@code scratch} (read {@code g} at 0).
   */
  static Storage penalizedGradient(Storage grad, Storage theta, double weightDecay,
      Storage scratch, int off, int n) {
    if (weightDecay == 0) {
      return grad;
    }
    scratch.copyFrom(grad, off, 0, n);
    scratch.axpy(n, weightDecay, theta, off, 0);
    return scratch;
  }
}
