package dev.rnn.autograd;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableList;
import dev.rnn.autograd.optim.Optimizer;
import dev.rnn.core.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Backpropagation through time, full or truncated, over a {@link SequenceModel}.
 *
 * <p>Truncated BPTT with the usual two lengths (Williams and Peng 1990): every {@code k1} steps
 * the loss of those {@code k1} steps is backpropagated through the last {@code k2} steps (k1 &lt;=
 * k2), from the state at step {@code e - k2}, which is carried from the previous forward and
 * detached (a constant: no gradient flows into earlier steps); the optimizer updates after each
 * chunk. Full BPTT is {@code k1 = k2 = T}: one chunk, one update.
 *
 * <pre>
 *   for e = k1, 2 k1, ..., T (the last chunk may be shorter):
 *     s = max(0, e - k2)
 *     forward steps [s, e) from state_s (detached)        remembering state_{e + k1 - k2}
 *     L = loss(output[e - k1, e))                          every step's loss, exactly once
 *     zero gradients, backward through steps e-1 .. s, update
 * </pre>
 */
public final class Bptt {
  private final int k1;
  private final int k2;

  private Bptt(int k1, int k2) {
    this.k1 = k1;
    this.k2 = k2;
  }

  /** Full backpropagation through time: the whole sequence is one chunk. */
  public static Bptt full() {
    return new Bptt(0, 0);
  }

  /**
   * Truncated BPTT: update every {@code k1} steps, backpropagating {@code k2} steps.
   *
   * @throws IllegalArgumentException unless {@code 1 <= k1 <= k2}, since with {@code k2 < k1} the
   *     losses of the first {@code k1 - k2} steps of each chunk would reach no weight at their own
   *     step, which would skip them silently
   */
  public static Bptt truncated(int k1, int k2) {
    checkArgument(k1 >= 1, "truncated BPTT expected k1 >= 1 but got k1 = %s", k1);
    checkArgument(k2 >= k1,
        "truncated BPTT expected k2 >= k1 (every step's loss is backpropagated) but got k1 = %s,"
            + " k2 = %s", k1, k2);
    return new Bptt(k1, k2);
  }

  /** Whether this is full BPTT. */
  public boolean isFull() {
    return k1 == 0;
  }

  /** {@code k1}, or 0 for full BPTT. */
  public int k1() {
    return k1;
  }

  /** {@code k2}, or 0 for full BPTT. */
  public int k2() {
    return k2;
  }

  /** The loss of a chunk: steps {@code [from, to)} of the sequence, output given for those. */
  @FunctionalInterface
  public interface ChunkLoss {
    /** The scalar loss of {@code output}, which holds steps {@code [from, to)}. */
    Value apply(Graph g, Value output, int from, int to);
  }

  /**
   * What one pass over a batch of sequences did.
   *
   * @param chunkLosses the loss of each chunk, in order
   * @param flows the gradient flow of each chunk's backward pass
   */
  public record Pass(ImmutableList<Double> chunkLosses, ImmutableList<GradientFlow> flows) {
    /** The mean of the chunk losses. */
    public double meanLoss() {
      return chunkLosses.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }
  }

  /**
   * Trains on one batch of sequences: zeroes the gradients, runs forward and backward and calls
   * {@code optimizer.step()} once per chunk.
   *
   * @param input time-major {@code [T, N, F]}
   * @param states initial states (null for zeros)
   */
  public Pass train(SequenceModel model, Tensor input, List<Tensor> states, ChunkLoss loss,
      Optimizer optimizer) {
    return run(model, input, states, loss, optimizer);
  }

  /**
   * Adds the gradients of every chunk to the parameters without updating them (gradients are not
   * zeroed first): with one chunk, the full BPTT gradient.
   */
  public Pass accumulate(SequenceModel model, Tensor input, List<Tensor> states,
      ChunkLoss loss) {
    return run(model, input, states, loss, null);
  }

  private Pass run(SequenceModel model, Tensor input, List<Tensor> states, ChunkLoss loss,
      Optimizer optimizer) {
    checkArgument(input.rank() == 3 && input.dim(0) >= 1,
        "BPTT expected a time-major input [seq, batch, features] with seq >= 1 but got %s",
        input.shape());
    int seq = input.dim(0);
    int c1 = isFull() ? seq : Math.min(k1, seq);
    int c2 = isFull() ? seq : k2;
    List<Tensor> carried = states;
    int carriedAt = 0;
    ImmutableList.Builder<Double> losses = ImmutableList.builder();
    ImmutableList.Builder<GradientFlow> flows = ImmutableList.builder();
    for (int e = Math.min(c1, seq); ; e = Math.min(e + c1, seq)) {
      int s = Math.max(0, e - c2);
      int from = Math.max(s, e - c1);
      int next = Math.min(e + c1, seq);
      int nextStart = Math.max(0, next - c2);
      if (s != carriedAt) {
        throw new IllegalStateException("BPTT lost track of the carried state: at step "
            + carriedAt + " but the chunk starts at " + s);
      }
      Graph g = Graph.training();
      List<Value> init = constants(g, carried);
      List<Tensor> nextStates = null;
      Value out;
      g.setTimeOffset(s);
      if (nextStart > s && nextStart < e) {
        SequenceModel.Forward a = model.forward(g,
            g.constant(input.slice(0, s, nextStart)), init);
        nextStates = tensors(a.states());
        g.setTimeOffset(nextStart);
        SequenceModel.Forward b = model.forward(g, g.constant(input.slice(0, nextStart, e)),
            a.states());
        out = Steps.concat(g, a.output(), b.output());
      } else {
        SequenceModel.Forward a = model.forward(g, g.constant(input.slice(0, s, e)), init);
        out = a.output();
        if (nextStart == e) {
          nextStates = tensors(a.states());
        }
      }
      Value l = loss.apply(g, Steps.slice(g, out, from - s, e - s), from, e);
      if (optimizer != null) {
        optimizer.zeroGrad();
      }
      g.backward(l);
      if (optimizer != null) {
        optimizer.step();
      }
      losses.add(l.item());
      flows.add(g.gradientFlow());
      if (e == seq) {
        break;
      }
      if (nextStart > s) {
        carried = nextStates;
        carriedAt = nextStart;
      }
    }
    return new Pass(losses.build(), flows.build());
  }

  private static List<Value> constants(Graph g, List<Tensor> states) {
    if (states == null) {
      return null;
    }
    List<Value> v = new ArrayList<>();
    for (Tensor t : states) {
      v.add(t == null ? null : g.constant(t));
    }
    return v;
  }

  private static List<Tensor> tensors(List<Value> values) {
    List<Tensor> t = new ArrayList<>();
    for (Value v : values) {
      t.add(v.tensor());
    }
    return t;
  }

  @Override public String toString() {
    return isFull() ? "full BPTT" : "truncated BPTT(k1 = " + k1 + ", k2 = " + k2 + ")";
  }
}
