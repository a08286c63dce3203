package dev.rnn.autograd;

import com.google.common.collect.ImmutableList;
import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Shape;
import dev.rnn.core.Stack;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A torch-style recurrent {@link Stack} with an optional dense head on every time step: {@code
 * y_t = W h_t + b} on the top layer's output: the model the tests of BPTT, truncation and the
 * op gradients train (rnn-examples' benchmark has its own, beside its command).
 *
 * <p>Shapes (T steps, N batch, D = 2 if bidirectional else 1, H hidden, H_in input, F_out the
 * head's output): input {@code [T, N, H_in]}; output {@code [T, N, F_out]}, or {@code [T, N, D *
 * H]} without a head. States: for each (layer, direction) slot in torch's order, {@code h} then
 * (LSTM) {@code c}, each {@code [N, H]}.
 */
final class StackModel implements SequenceModel {
  private final Stack stack;
  private final Parameter headWeight;
  private final Parameter headBias;
  private final ImmutableList<Parameter> parameters;

  /**
   * The stack with a dense head to {@code outputSize} features, or none if {@code outputSize} is
   * 0; the head is initialised as torch's {@code nn.Linear}, uniform in {@code ±1/sqrt(fan_in)}.
   *
   * @param stack the stack, whose parameters are shared
   * @param outputSize the features of the head's output, or 0 for no head
   * @param seed the seed of the head's initialisation
   */
  StackModel(Stack stack, int outputSize, long seed) {
    this.stack = stack;
    List<Parameter> ps = new ArrayList<>(stack.parameters().values());
    if (outputSize > 0) {
      int in = stack.directions() * stack.hiddenSize();
      DType dt = stack.dtype();
      headWeight = new Parameter("head.weight", Shape.of(outputSize, in), dt);
      headBias = new Parameter("head.bias", Shape.of(outputSize), dt);
      Random rnd = new Random(seed);
      headWeight.fillUniform(rnd, 1 / Math.sqrt(in));
      headBias.fillUniform(rnd, 1 / Math.sqrt(in));
      ps.add(headWeight);
      ps.add(headBias);
    } else {
      headWeight = null;
      headBias = null;
    }
    this.parameters = ImmutableList.copyOf(ps);
  }

  @Override public List<Parameter> parameters() {
    return parameters;
  }

  @Override public Forward forward(Graph g, Value input, List<Value> states, int firstStep) {
    Ops.ScanResult r = StackOp.apply(g, stack, input, states, firstStep, null);
    Value out = r.output();
    if (headWeight != null) {
      out = Linear.apply(g, out, g.parameter(headWeight), g.parameter(headBias));
    }
    return new Forward(out, r.finalStates());
  }
}
