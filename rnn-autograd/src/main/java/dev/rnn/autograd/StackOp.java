package dev.rnn.autograd;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableList;
import dev.rnn.core.Lengths;
import dev.rnn.core.Scan;
import dev.rnn.core.Stack;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link Stack} (torch's multi-layer, bidirectional RNN/LSTM/GRU) in the graph ({@link
 * Ops#stack}): each layer's directions are {@link ScanOp}s over the previous layer's output,
 * joined by {@link Concat} when bidirectional. Its backward is theirs.
 *
 * <pre>
 *   y_0 = x
 *   for l in 0..L-1:
 *     y_{l+1} = [ScanOp(layer l, forward)(y_l), ScanOp(layer l, reverse)(y_l)]   (or the first)
 *   output = y_L
 * </pre>
 *
 * <p>Shapes (T steps, N batch, L layers, D = 2 if bidirectional else 1, H hidden, P output
 * ({@code proj_size}, or H), H_in input, K states per slot: 2 for LSTM, else 1): {@code x [T, N,
 * H_in]}; initial and final states {@code [N, P]} ({@code h}) and {@code [N, H]} ({@code c}),
 * flat, state {@code k} of slot {@code l * D + d} at {@code (l * D + d) * K + k}; output {@code
 * [T, N, D * P]}.
 */
final class StackOp {
  private StackOp() {}

  /**
   * Runs the stack over the time-major {@code x} from {@code init}, flat by slot: the initial
   * {@code h} (and {@code c}) of each slot, or null for zeros.
   *
   * @param g the graph recording the ops
   * @param stack the stack, whose parameters receive the gradients
   * @param x the input, {@code [T, N, H_in]}
   * @param init the initial states, {@code L * D * K} of them, or null for zeros
   * @param firstStep the index of {@code x}'s first step in the whole sequence, for the scans
   * @param lengths the length of each sequence, or null for {@code T} each
   * @return the output and the final states, flat as {@code init}
   * @throws IllegalArgumentException if {@code init} has another number of states
   */
  static Ops.ScanResult apply(Graph g, Stack stack, Value x, List<Value> init, int firstStep,
      Lengths lengths) {
    return run(g, stack, x, init, firstStep, lengths, false);
  }

  /**
   * As {@link #apply}, the output packed ({@link Steps#pack}, {@code [R, D * P]}): unrecorded, a
   * one-direction stack's last scan writes its packed rows itself ({@link ScanOp#applyPacked}),
   * so no padded output of it is written and gathered; else {@code pack(apply(...))}.
   *
   * @param g the graph recording the ops
   * @param stack the stack, whose parameters receive the gradients
   * @param x the input, {@code [T, N, H_in]}
   * @param init the initial states, {@code L * D * K} of them, or null for zeros
   * @param firstStep the index of {@code x}'s first step in the whole sequence, for the scans
   * @param lengths the length of each sequence
   * @return the packed output and the final states, flat as {@code init}
   * @throws IllegalArgumentException if {@code init} has another number of states or a shape does
   *     not fit
   */
  static Ops.ScanResult applyPacked(Graph g, Stack stack, Value x, List<Value> init,
      int firstStep, Lengths lengths) {
    if (g.recording() || stack.directions() != 1) {
      Ops.ScanResult r = apply(g, stack, x, init, firstStep, lengths);
      return new Ops.ScanResult(Steps.pack(g, r.output(), lengths), r.finalStates());
    }
    return run(g, stack, x, init, firstStep, lengths, true);
  }

  private static Ops.ScanResult run(Graph g, Stack stack, Value x, List<Value> init,
      int firstStep, Lengths lengths, boolean packLast) {
    int d = stack.directions();
    int k = stack.stateCount();
    checkArgument(init == null || init.size() == stack.numLayers() * d * k,
        "%s expected %s initial states (%s per layer and direction) but got %s",
        stack.describe(), stack.numLayers() * d * k, k, init == null ? 0 : init.size());
    Value in = x;
    ImmutableList.Builder<Value> finals = ImmutableList.builder();
    for (int l = 0; l < stack.numLayers(); l++) {
      List<Value> outs = new ArrayList<>();
      for (int r = 0; r < d; r++) {
        int slot = l * d + r;
        Scan scan = stack.layer(l).get(r);
        String label = "layer " + l + " " + scan.cell().describe();
        List<Value> from = init == null ? null : init.subList(slot * k, slot * k + k);
        Ops.ScanResult res = packLast && l == stack.numLayers() - 1
            ? ScanOp.applyPacked(scan, label, in, from, firstStep, lengths)
            : ScanOp.apply(g, scan, label, in, from, firstStep, lengths);
        outs.add(res.output());
        finals.addAll(res.finalStates());
      }
      in = d == 1 ? outs.get(0) : Concat.apply(g, outs);
    }
    return new Ops.ScanResult(in, finals.build());
  }
}
