package dev.rnn.examples;

import com.google.common.collect.ImmutableList;
import dev.rnn.autograd.Graph;
import dev.rnn.autograd.Ops;
import dev.rnn.autograd.SequenceModel;
import dev.rnn.autograd.Value;
import dev.rnn.core.DType;
import dev.rnn.core.Lengths;
import dev.rnn.core.Parameter;
import dev.rnn.core.Shape;
import dev.rnn.core.Stack;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A torch-style recurrent {@link Stack} with an optional dense head on every time step: {@code
 * y_t = W h_t + b} on the top layer's output: the model the {@code bench} command times (see
 * {@link BenchCommand}), as {@code shared/bench/torch_bench.py} times torch's.
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
    return forward(g, input, states, firstStep, null);
  }

  /**
   * As torch_bench.py runs a packed batch: the stack with each sequence's lengths, then the head
   * on the packed real rows only ({@code head(out.data)}).
   *
   * @param g the graph recording the pass
   * @param input the padded input, time-major {@code [T, N, H_in]}
   * @param lengths the length of each sequence
   * @return the head's output on the real steps, {@code [R, F_out]} in {@link Ops#pack}'s order
   */
  Value packedForward(Graph g, Value input, Lengths lengths) {
    Value out = Ops.packedStack(g, stack, input, null, 0, lengths).output();
    return headWeight == null ? out
        : Ops.linear(g, out, g.parameter(headWeight), g.parameter(headBias));
  }

  /** The stack with lengths, the head on every step (zero rows in, the bias out, at padding). */
  @Override public Forward forward(Graph g, Value input, List<Value> states, int firstStep,
      Lengths lengths) {
    Ops.ScanResult r = Ops.stack(g, stack, input, states, firstStep, lengths);
    Value out = r.output();
    if (headWeight != null) {
      out = Ops.linear(g, out, g.parameter(headWeight), g.parameter(headBias));
    }
    return new Forward(out, r.finalStates());
  }
}
