package dev.rnn.autograd;

import com.google.common.collect.ImmutableList;
import dev.rnn.core.RecurrentStack;
import dev.rnn.core.Recurrence;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link RecurrentStack} (torch's multi-layer, bidirectional RNN/LSTM/GRU) in the graph: each
 * layer's directions are {@link Recur} ops over the previous layer's output, joined by {@link
 * Concat} when bidirectional.
 */
public final class StackOp {
  private StackOp() {}

  /**
   * The output and final states of the stack.
   *
   * @param output {@code [T, N, D * H]}
   * @param finalStates per (layer, direction) slot {@code l * D + d}, the final {@code h} (and
   *     {@code c}), {@code [N, H]} each
   */
  public record Result(Value output, ImmutableList<ImmutableList<Value>> finalStates) {}

  /**
   * Runs the stack over the time-major {@code x} ({@code [T, N, H_in]}) from {@code init}: per slot
   * the initial {@code h} (and {@code c}) values, or null for zeros.
   */
  public static Result apply(Graph g, RecurrentStack stack, Value x, List<List<Value>> init) {
    Value in = x;
    ImmutableList.Builder<ImmutableList<Value>> finals = ImmutableList.builder();
    int d = stack.directions();
    for (int l = 0; l < stack.numLayers(); l++) {
      List<Value> outs = new ArrayList<>();
      for (int r = 0; r < d; r++) {
        int slot = l * d + r;
        Recurrence rec = stack.layer(l).get(r);
        Recur.Result res = Recur.apply(g, rec, "layer " + l + " " + rec.cell().describe(), in,
            init == null ? null : init.get(slot));
        outs.add(res.output());
        finals.add(res.finalStates());
      }
      in = d == 1 ? outs.get(0) : Concat.apply(g, outs);
    }
    return new Result(in, finals.build());
  }
}
