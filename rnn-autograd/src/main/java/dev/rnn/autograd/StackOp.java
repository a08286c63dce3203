package dev.rnn.autograd;

import com.google.common.base.Strings;
import com.google.common.collect.ImmutableList;
import dev.rnn.core.Lengths;
import dev.rnn.core.Scan;
import dev.rnn.core.Stack;
import java.util.Arrays;
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
   * As {@link #apply}, the output packed ({@link Steps#pack}, {@code [R, D * P]}): a
   * one-direction stack's last scan gives its packed rows itself ({@link ScanOp#applyPacked}),
   * so no padded output of it is written and gathered (nor, recorded, its gradient scattered
   * back); a bidirectional one is {@code pack(apply(...))}.
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
    if (stack.directions() != 1) {
      Ops.ScanResult r = apply(g, stack, x, init, firstStep, lengths);
      return new Ops.ScanResult(Steps.pack(g, r.output(), lengths), r.finalStates());
    }
    return run(g, stack, x, init, firstStep, lengths, true);
  }

  private static Ops.ScanResult run(Graph g, Stack stack, Value x, List<Value> init,
      int firstStep, Lengths lengths, boolean packLast) {
    int d = stack.directions();
    int k = stack.stateCount();
    int layers = stack.numLayers();
    // Checked and labelled without building strings or boxing unless it fails: the interpreter
    // runs this on every call of a tiny model's first few hundred steps.
    if (init != null && init.size() != layers * d * k) {
      throw new IllegalArgumentException(Strings.lenientFormat(
          "%s expected %s initial states (%s per layer and direction) but got %s",
          stack.describe(), layers * d * k, k, init.size()));
    }
    Value in = x;
    Value[] finals = new Value[layers * d * k];
    Value[] outs = d == 1 ? null : new Value[d];
    for (int l = 0; l < layers; l++) {
      ImmutableList<Scan> scans = stack.layer(l);
      String label = stack.layerLabel(l);
      for (int r = 0; r < d; r++) {
        int slot = l * d + r;
        List<Value> from = init == null ? null : init.subList(slot * k, slot * k + k);
        Ops.ScanResult res = packLast && l == layers - 1
            ? ScanOp.applyPacked(g, scans.get(r), label, in, from, firstStep, lengths)
            : ScanOp.apply(g, scans.get(r), label, in, from, firstStep, lengths);
        List<Value> fs = res.finalStates();
        for (int j = 0; j < k; j++) {
          finals[slot * k + j] = fs.get(j);
        }
        if (d == 1) {
          in = res.output();
        } else {
          outs[r] = res.output();
        }
      }
      if (d > 1) {
        in = Concat.apply(g, Arrays.asList(outs.clone()));
      }
    }
    return new Ops.ScanResult(in, ImmutableList.copyOf(finals));
  }
}
