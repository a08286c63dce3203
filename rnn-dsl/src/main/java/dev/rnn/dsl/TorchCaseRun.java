package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableMap;
import dev.rnn.autograd.Graph;
import dev.rnn.autograd.Ops;
import dev.rnn.autograd.SequenceModel;
import dev.rnn.autograd.Value;
import dev.rnn.core.Parameter;
import dev.rnn.core.Tensor;
import dev.rnn.core.TorchCase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Runs a torch reference case forward and backward through a network the DSL built: the results
 * a case's {@code expected.*} tensors hold, named as they are there. What the {@code torch-case}
 * command reports.
 *
 * <p>The network is {@link Rnn#fromTorchCase}'s. The backward pass is of {@code L = sum(output *
 * grad_output) + sum(h_n * grad_h_n) [+ sum(c_n * grad_c_n)]}: the upstream gradients are seeded
 * into the outputs and the graph runs once in reverse. A case of format 2 with {@code lengths}
 * runs each sequence over its own steps ({@link Network#forward(Tensor, int[], State)}), and one
 * with {@code proj_size} has {@code h} of that size ({@code projection(p)}).
 *
 * <p>States: torch's {@code h0} is {@code [num_layers * D, N, H]}, slot {@code l * D + d} for
 * layer {@code l} and direction {@code d}; the network takes them flat in its {@link
 * Network#stateNames()} order {@code h_l0, c_l0, h_l0_reverse, c_l0_reverse, h_l1, ...}, which
 * is slot by slot, so state {@code k} of slot {@code s} is the network's state {@code s * K + k}
 * (K = 2 for LSTM, else 1).
 */
public final class TorchCaseRun {
  private static final String[] INITIAL = {"h0", "c0"};
  private static final String[] FINAL = {"h_n", "c_n"};
  private static final String[] UPSTREAM = {"grad_h_n", "grad_c_n"};

  private TorchCaseRun() {}

  /**
   * The case's results under the names of its {@code expected.} tensors: {@code output}, {@code
   * h_n}, {@code c_n} (LSTM), and, when the case has {@code grad_output}, {@code
   * grad.<parameter>}, {@code grad.input}, {@code grad.h0}, {@code grad.c0} (LSTM).
   *
   * @param c the case
   * @return the results by name, in the order listed
   * @throws IllegalArgumentException if an input, state or upstream gradient of the case has the
   *     wrong shape
   */
  public static ImmutableMap<String, Tensor> run(TorchCase c) {
    return run(Rnn.fromTorchCase(c), c);
  }

  /** {@link #run(TorchCase)} with {@code net}, which has the case's architecture. */
  static ImmutableMap<String, Tensor> run(Network net, TorchCase c) {
    boolean train = c.find("grad_output").isPresent();
    for (Parameter p : net.parameters()) {
      p.zeroGrad();
    }
    Graph g = train ? Graph.training() : Graph.inference();
    Value x = g.variable(c.input());
    Value xt = c.batchFirst() ? Ops.swapBatchAndTime(g, x) : x;
    int batch = xt.dim(1);
    int slots = c.stack().numLayers() * c.stack().directions();
    int k = c.stack().stateCount();
    checkArgument(net.stateNames().size() == slots * k,
        "network %s has states %s but the case %s needs %s per (layer, direction) for %s",
        net.spec(), net.stateNames(), c.file().source(), k, c.stack().describe());

    List<Value> init = new ArrayList<>();
    for (int s = 0; s < slots; s++) {
      for (int j = 0; j < k; j++) {
        Optional<Tensor> given = c.find(INITIAL[j]);
        int size = c.stack().stateSize(j);
        if (given.isPresent()) {
          Tensor t = given.get();
          checkArgument(t.rank() == 3 && t.dim(0) == slots && t.dim(1) == batch
                  && t.dim(2) == size, "%s expected %s of shape [%s, %s, %s] but got %s",
              c.stack().describe(), INITIAL[j], slots, batch, size, t.shape());
        }
        init.add(g.variable(given.isPresent() ? given.get().select(0, s)
            : Tensor.zeros(c.dtype(), batch, size)));
      }
    }
    SequenceModel.Forward f = net.model().forward(g, xt, init, 0, c.lengths().orElse(null));
    Value out = c.batchFirst() ? Ops.swapBatchAndTime(g, f.output()) : f.output();

    ImmutableMap.Builder<String, Tensor> results = ImmutableMap.builder();
    results.put("output", out.tensor());
    for (int j = 0; j < k; j++) {
      results.put(FINAL[j], slots(f.states(), slots, k, j, Value::tensor));
    }
    if (!train) {
      return results.buildOrThrow();
    }
    g.seed(out, c.tensor("grad_output"));
    for (int j = 0; j < k; j++) {
      Optional<Tensor> upstream = c.find(UPSTREAM[j]);
      if (upstream.isPresent()) {
        for (int s = 0; s < slots; s++) {
          g.seed(f.states().get(s * k + j), upstream.get().select(0, s));
        }
      }
    }
    g.backward();
    for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
      results.put("grad." + e.getKey(), e.getValue().gradient());
    }
    results.put("grad.input", x.gradient());
    for (int j = 0; j < k; j++) {
      results.put("grad." + INITIAL[j], slots(init, slots, k, j, Value::gradient));
    }
    return results.buildOrThrow();
  }

  /** State {@code j} of every slot, stacked as torch's {@code [slots, N, H]}. */
  private static Tensor slots(List<Value> flat, int slots, int k, int j,
      Function<Value, Tensor> read) {
    List<Tensor> parts = new ArrayList<>();
    for (int s = 0; s < slots; s++) {
      Tensor t = read.apply(flat.get(s * k + j));
      parts.add(t.reshape(1, t.dim(0), t.dim(1)));
    }
    return Tensor.concat(0, parts);
  }
}
