package dev.rnn.autograd.optim;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static com.google.common.base.Preconditions.checkState;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.Sets;
import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Storage;
import dev.rnn.core.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * The parameter list and learning rate every optimizer has, its state as a value ({@link
 * #state()}, {@link #restore}) from the buffers it registers, and the range checks of the
 * builders.
 */
abstract class AbstractOptimizer implements Optimizer {
  /** The parameters as an array, so that the step loops allocate no iterator. */
  final Parameter[] params;

  private final String kind;
  private final ImmutableList<Parameter> parameterList;
  private double lr;
  /** The state buffers by torch's names, one per parameter each; set by {@link #registerState}. */
  private ImmutableMap<String, Storage[]> stateBuffers;
  private StepCount stepCount;

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
    this.kind = name;
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

  // ---- state as a value ------------------------------------------------------------------------

  /**
   * How an optimizer keeps its step count, read by {@link #state()} and set by {@link #restore}.
   *
   * @param get reads the count
   * @param set sets the count
   */
  record StepCount(LongSupplier get, LongConsumer set) {}

  /**
   * Names this optimizer's state: its step count and its per-parameter buffers (each an array of
   * one buffer per parameter, or null where the options leave that state out). Every optimizer
   * calls one of these overloads once, from its constructor, after allocating its buffers.
   */
  final void registerState(StepCount steps, String name, Storage[] buffers) {
    registerState(steps, new String[] {name}, new Storage[][] {buffers});
  }

  /** As {@link #registerState(StepCount, String, Storage[])} with two named buffers. */
  final void registerState(StepCount steps, String name1, Storage[] buffers1, String name2,
      Storage[] buffers2) {
    registerState(steps, new String[] {name1, name2}, new Storage[][] {buffers1, buffers2});
  }

  /** As {@link #registerState(StepCount, String, Storage[])} with three named buffers. */
  final void registerState(StepCount steps, String name1, Storage[] buffers1, String name2,
      Storage[] buffers2, String name3, Storage[] buffers3) {
    registerState(steps, new String[] {name1, name2, name3},
        new Storage[][] {buffers1, buffers2, buffers3});
  }

  private void registerState(StepCount steps, String[] names, Storage[][] buffers) {
    checkState(stateBuffers == null, "%s registered its state twice", kind);
    Map<String, Storage[]> used = new LinkedHashMap<>();
    for (int i = 0; i < names.length; i++) {
      if (buffers[i] != null) {
        checkArgument(buffers[i].length == params.length,
            "%s registered %s buffers of %s for %s parameters", kind, buffers[i].length,
            names[i], params.length);
        used.put(names[i], buffers[i]);
      }
    }
    this.stateBuffers = ImmutableMap.copyOf(used);
    this.stepCount = steps;
  }

  @Override public final OptimizerState state() {
    checkState(stateBuffers != null, "%s registered no state", kind);
    ImmutableList.Builder<OptimizerState.ParameterState> states = ImmutableList.builder();
    for (int k = 0; k < params.length; k++) {
      Parameter p = params[k];
      ImmutableMap.Builder<String, Tensor> tensors = ImmutableMap.builder();
      for (Map.Entry<String, Storage[]> e : stateBuffers.entrySet()) {
        tensors.put(e.getKey(), Tensor.copyOf(e.getValue()[k], p.shape()));
      }
      states.add(new OptimizerState.ParameterState(p.name(), p.shape(), p.dtype(),
          tensors.build()));
    }
    return new OptimizerState(kind, stepCount.get().getAsLong(), states.build());
  }

  @Override public final void restore(OptimizerState state) {
    checkNotNull(state, "%s.restore expected a state but got null", kind);
    checkState(stateBuffers != null, "%s registered no state", kind);
    checkArgument(state.optimizer().equals(kind),
        "%s.restore expected the state of %s but got the state of %s", kind, kind,
        state.optimizer());
    List<OptimizerState.ParameterState> given = state.parameters();
    checkArgument(given.size() == params.length,
        "%s.restore expected the state of %s parameters %s but got %s parameters %s", kind,
        params.length, names(parameterList), given.size(), OptimizerState.names(given));
    for (int k = 0; k < params.length; k++) {
      Parameter p = params[k];
      OptimizerState.ParameterState s = given.get(k);
      checkArgument(s.name().equals(p.name()),
          "%s.restore expected the state of parameter %s to be of %s but got %s", kind, k,
          p.name(), s.name());
      checkArgument(s.shape().equals(p.shape()),
          "%s.restore expected the state of %s of shape %s but got %s", kind, p.name(),
          p.shape(), s.shape());
      checkArgument(s.dtype() == p.dtype(),
          "%s.restore expected the state of %s of dtype %s but got %s", kind, p.name(),
          p.dtype().torchName(), s.dtype().torchName());
      checkArgument(s.tensors().keySet().equals(stateBuffers.keySet()),
          "%s.restore expected the state tensors %s of %s but got %s; build the optimizer with"
              + " the options of the one whose state this is", kind, stateBuffers.keySet(),
          p.name(), s.tensors().keySet());
    }
    for (int k = 0; k < params.length; k++) {
      for (Map.Entry<String, Tensor> e : given.get(k).tensors().entrySet()) {
        e.getValue().copyInto(stateBuffers.get(e.getKey())[k], 0);
      }
    }
    stepCount.set().accept(state.steps());
  }

  private static List<String> names(List<Parameter> parameters) {
    return parameters.stream().map(Parameter::name).toList();
  }

  // ---- helpers of the optimizers ---------------------------------------------------------------

  /** One zero-filled state buffer per parameter, of its dtype and size. */
  final Storage[] zerosLike() {
    Storage[] state = new Storage[params.length];
    for (int k = 0; k < params.length; k++) {
      state[k] = Storage.allocate(params[k].dtype(), params[k].size());
    }
    return state;
  }

  /**
   * {@code value}, checked to be {@code >= 0} (and so not NaN) and finite: an infinite learning
   * rate, momentum, epsilon or weight decay turns every weight into infinity or NaN at the first
   * step.
   */
  static double checkAtLeastZero(String what, double value) {
    checkArgument(value >= 0, "%s must be >= 0 but got %s", what, value);
    checkArgument(value < Double.POSITIVE_INFINITY, "%s must be finite but got %s", what, value);
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
