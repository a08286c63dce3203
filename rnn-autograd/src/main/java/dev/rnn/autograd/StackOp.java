package dev.rnn.autograd;

import com.google.common.collect.ImmutableList;
import dev.rnn.core.Scan;
import dev.rnn.core.Stack;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link Stack} (torch's multi-layer, bidirectional RNN/LSTM/GRU) in the graph: each layer's
 * directions are {@link ScanOp}s over the previous layer's output, joined by {@link Concat} when
 * bidirectional.
 *
 * <pre>
 *   y_0 = x
 *   for l in 0..L-1:
 *     y_{l+1} = [ScanOp(layer l, forward)(y_l), ScanOp(layer l, reverse)(y_l)]   (or the first)
 *   output = y_L
 * </pre>
 *
 * <p>Shapes (T steps, N batch, L layers, D = 2 if bidirectional else 1, H hidden, H_in input):
 * {@code x [T, N, H_in]}; initial and final states {@code [N, H]} each, per slot {@code l * D +
 * d}; output {@code [T, N, D * H]}.
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
   *
   * @param g the graph recording the ops
   * @param stack the stack, whose parameters receive the gradients
   * @param x the input, {@code [T, N, H_in]}
   * @param init the initial states by slot {@code l * D + d}, or null for zeros
   * @return the output and the final states
   */
  public static Result apply(Graph g, Stack stack, Value x, List<List<Value>> init) {
    Value in = x;
    ImmutableList.Builder<ImmutableList<Value>> finals = ImmutableList.builder();
    int d = stack.directions();
    for (int l = 0; l < stack.numLayers(); l++) {
      List<Value> outs = new ArrayList<>();
      for (int r = 0; r < d; r++) {
        int slot = l * d + r;
        Scan scan = stack.layer(l).get(r);
        ScanOp.Result res = ScanOp.apply(g, scan, "layer " + l + " " + scan.cell().describe(), in,
            init == null ? null : init.get(slot));
        outs.add(res.output());
        finals.add(res.finalStates());
      }
      in = d == 1 ? outs.get(0) : Concat.apply(g, outs);
    }
    return new Result(in, finals.build());
  }
}
