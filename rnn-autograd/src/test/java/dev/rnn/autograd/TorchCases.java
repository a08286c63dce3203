package dev.rnn.autograd;

import com.google.common.collect.ImmutableMap;
import dev.rnn.core.Parameter;
import dev.rnn.core.Stack;
import dev.rnn.core.Tensor;
import dev.rnn.core.TorchCase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Runs a torch reference case forward and backward through its {@link Stack} ({@link
 * StackOp}): the results a case's {@code expected.*} tensors hold. A test harness; rnn-dsl's
 * {@code TorchCaseRun} does the same through a DSL network, for the {@code torch-case} command.
 *
 * <p>The backward pass is of {@code L = sum(output * grad_output) + sum(h_n * grad_h_n) [+
 * sum(c_n * grad_c_n)]}: the upstream gradients are seeded into the outputs and the graph runs
 * once in reverse.
 */
final class TorchCases {
  private TorchCases() {}

  /**
   * The case's results under the names of its {@code expected.} tensors: {@code output}, {@code
   * h_n}, {@code c_n} (LSTM), and, when the case has {@code grad_output}, {@code
   * grad.<parameter>}, {@code grad.input}, {@code grad.h0}, {@code grad.c0} (LSTM).
   *
   * @param c the case
   * @return the results by name, in the order listed
   */
  static ImmutableMap<String, Tensor> run(TorchCase c) {
    Stack stack = c.stack();
    boolean train = c.find("grad_output").isPresent();
    for (Parameter p : stack.parameters().values()) {
      p.zeroGrad();
    }
    Graph g = train ? Graph.training() : Graph.inference();
    Tensor input = c.input();
    stack.timeMajor(input, c.batchFirst());
    Value x = g.variable(input);
    Value xt = c.batchFirst() ? Steps.swapBatchAndTime(g, x) : x;
    int batch = xt.dim(1);
    int slots = stack.numLayers() * stack.directions();
    int states = stack.stateCount();
    String[] initNames = {"h0", "c0"};
    stack.initialStates(batch, c.find("h0").orElse(null), c.find("c0").orElse(null));
    Value[][] init = new Value[slots][states];
    List<Value> flat = new ArrayList<>();
    for (int s = 0; s < slots; s++) {
      for (int k = 0; k < states; k++) {
        Optional<Tensor> t = c.find(initNames[k]);
        init[s][k] = g.variable(t.isPresent() ? t.get().select(0, s)
            : Tensor.zeros(stack.dtype(), batch, stack.stateSize(k)));
        flat.add(init[s][k]);
      }
    }
    Ops.ScanResult r = StackOp.apply(g, stack, xt, flat, 0, c.lengths().orElse(null));
    Value out = c.batchFirst() ? Steps.swapBatchAndTime(g, r.output()) : r.output();

    ImmutableMap.Builder<String, Tensor> results = ImmutableMap.builder();
    results.put("output", out.tensor());
    String[] finalNames = {"h_n", "c_n"};
    String[] gradNames = {"grad_h_n", "grad_c_n"};
    for (int k = 0; k < states; k++) {
      List<Tensor> parts = new ArrayList<>();
      for (int s = 0; s < slots; s++) {
        Tensor t = r.finalStates().get(s * states + k).tensor();
        parts.add(t.reshape(1, batch, stack.stateSize(k)));
      }
      results.put(finalNames[k], Tensor.concat(0, parts));
    }
    if (train) {
      g.seed(out, c.tensor("grad_output"));
      for (int k = 0; k < states; k++) {
        Optional<Tensor> gk = c.find(gradNames[k]);
        if (gk.isPresent()) {
          for (int s = 0; s < slots; s++) {
            g.seed(r.finalStates().get(s * states + k), gk.get().select(0, s));
          }
        }
      }
      g.backward();
      for (Map.Entry<String, Parameter> e : stack.parameters().entrySet()) {
        results.put("grad." + e.getKey(), e.getValue().gradient());
      }
      results.put("grad.input", x.gradient());
      for (int k = 0; k < states; k++) {
        List<Tensor> parts = new ArrayList<>();
        for (int s = 0; s < slots; s++) {
          parts.add(init[s][k].gradient().reshape(1, batch, stack.stateSize(k)));
        }
        results.put("grad." + initNames[k], Tensor.concat(0, parts));
      }
    }
    return results.buildOrThrow();
  }
}
