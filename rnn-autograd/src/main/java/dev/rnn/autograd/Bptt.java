package dev.rnn.autograd;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableList;
import dev.rnn.autograd.optim.Optimizer;
import dev.rnn.core.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

/**
 * Backpropagation through time, full or truncated, over a {@link SequenceModel}.
 *
 * <p>A model whose output is only the last step ({@code [N, F]}) trains with full BPTT only:
 * truncation needs an output per step to split the loss into chunks.
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
 *     L = loss(output[e - k1, e))  ([previous e, T) last)   every step's loss, exactly once
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

  /**
   * Full backpropagation through time: the whole sequence is one chunk.
   *
   * @return full BPTT
   */
  public static Bptt full() {
    return new Bptt(0, 0);
  }

  /**
   * Truncated BPTT: update every {@code k1} steps, backpropagating {@code k2} steps.
   *
   * @param k1 the steps between updates, the chunk length
   * @param k2 the steps each chunk's loss backpropagates through
   * @return truncated BPTT
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

  /** {@return whether this is full BPTT} */
  public boolean isFull() {
    return k1 == 0;
  }

  /**
   * {@code k1}, or 0 for full BPTT.
   *
   * @return {@code k1}
   */
  public int k1() {
    return k1;
  }

  /**
   * {@code k2}, or 0 for full BPTT.
   *
   * @return {@code k2}
   */
  public int k2() {
    return k2;
  }

  /** The loss of a chunk: steps {@code [from, to)} of the sequence, output given for those. */
  @FunctionalInterface
  public interface ChunkLoss {
    /**
     * The scalar loss of {@code output}, which holds steps {@code [from, to)}.
     *
     * @param g the graph recording the loss
     * @param output the chunk's output, {@code [to - from, N, F]} (or {@code [N, F]} for the last
     *     step only)
     * @param from the first step of the chunk in the whole sequence
     * @param to the step after the chunk's last
     * @return a one-element value
     */
    Value apply(Graph g, Value output, int from, int to);
  }

  /**
   * What one pass over a batch of sequences did.
   *
   * @param chunkLosses the loss of each chunk, in order
   * @param flows the gradient flow of each chunk's backward pass
   */
  public record Pass(ImmutableList<Double> chunkLosses, ImmutableList<GradientFlow> flows) {
    /** {@return the mean of the chunk losses} */
    public double meanLoss() {
      return chunkLosses.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }
  }

  /**
   * What a chunk's backward pass gave, as the hook of {@link #train(SequenceModel, Tensor, List,
   * ChunkLoss, Optimizer, Predicate)} sees it before the update.
   *
   * @param index the chunk's number in the pass, from 0
   * @param from the first step whose loss the chunk counts
   * @param to one past the last such step
   * @param loss the chunk's loss
   * @param flow the gradient flow of the chunk's backward pass
   */
  public record Chunk(int index, int from, int to, double loss, GradientFlow flow) {}

  /**
   * Trains on one batch of sequences: zeroes the gradients, runs forward and backward and calls
   * {@code optimizer.step()} once per chunk.
   *
   * @param input time-major {@code [T, N, F]}
   * @param states initial states (null for zeros)
   * @param model the model trained
   * @param loss the loss of each chunk's output
   * @param optimizer the optimizer stepped after each chunk
   * @return the chunk losses and gradient flows
   * @throws IllegalStateException if this is truncated BPTT over more than one chunk and the
   *     model's output is only the last step
   */
  public Pass train(SequenceModel model, Tensor input, List<Tensor> states, ChunkLoss loss,
      Optimizer optimizer) {
    return run(model, input, states, loss, optimizer, chunk -> true,
        ThreadLocalRandom.current().nextLong());
  }

  /**
   * As {@link #train(SequenceModel, Tensor, List, ChunkLoss, Optimizer)}, with a hook that runs
   * after each chunk's backward pass and before its update: it sees the gradients in the
   * parameters (and may change them, e.g. clip them) and returns whether {@code optimizer.step()}
   * runs for this chunk; it may also throw to stop training before the update.
   *
   * @param model the model trained
   * @param input time-major {@code [T, N, F]}
   * @param states initial states (null for zeros)
   * @param loss the loss of each chunk's output
   * @param optimizer the optimizer stepped after each chunk
   * @param beforeUpdate the hook; false skips this chunk's update
   * @return the chunk losses and gradient flows
   */
  public Pass train(SequenceModel model, Tensor input, List<Tensor> states, ChunkLoss loss,
      Optimizer optimizer, Predicate<Chunk> beforeUpdate) {
    return run(model, input, states, loss, optimizer, beforeUpdate,
        ThreadLocalRandom.current().nextLong());
  }

  /**
   * As {@link #train(SequenceModel, Tensor, List, ChunkLoss, Optimizer, Predicate)}, with the
   * seed of the dropout masks: chunk {@code i} is recorded in {@code Graph.training(seed * φ +
   * i)}, so equal seeds give equal masks. The overloads without a seed draw a fresh one.
   *
   * @param model the model trained
   * @param input time-major {@code [T, N, F]}
   * @param states initial states (null for zeros)
   * @param loss the loss of each chunk's output
   * @param optimizer the optimizer stepped after each chunk
   * @param beforeUpdate the hook; false skips this chunk's update
   * @param seed the seed of the stochastic ops (dropout) of this pass
   * @return the chunk losses and gradient flows
   */
  public Pass train(SequenceModel model, Tensor input, List<Tensor> states, ChunkLoss loss,
      Optimizer optimizer, Predicate<Chunk> beforeUpdate, long seed) {
    return run(model, input, states, loss, optimizer, beforeUpdate, seed);
  }

  /**
   * Adds the gradients of every chunk to the parameters without updating them (gradients are not
   * zeroed first): with one chunk, the full BPTT gradient.
   *
   * @param model the model whose parameters' gradients grow
   * @param input time-major {@code [T, N, F]}
   * @param states initial states (null for zeros)
   * @param loss the loss of each chunk's output
   * @return the chunk losses and gradient flows
   */
  public Pass accumulate(SequenceModel model, Tensor input, List<Tensor> states,
      ChunkLoss loss) {
    return run(model, input, states, loss, null, null, 0);
  }

  private Pass run(SequenceModel model, Tensor input, List<Tensor> states, ChunkLoss loss,
      Optimizer optimizer, Predicate<Chunk> beforeUpdate, long seed) {
    checkArgument(input.rank() == 3 && input.dim(0) >= 1,
        "BPTT expected a time-major input [seq, batch, features] with seq >= 1 but got %s",
        input.shape());
    int seq = input.dim(0);
    int c1 = isFull() ? seq : Math.min(k1, seq);
    int c2 = isFull() ? seq : k2;
    List<Tensor> carried = states;
    int carriedAt = 0;
    int counted = 0;
    ImmutableList.Builder<Double> losses = ImmutableList.builder();
    ImmutableList.Builder<GradientFlow> flows = ImmutableList.builder();
    int index = 0;
    for (int e = Math.min(c1, seq); ; e = Math.min(e + c1, seq)) {
      int s = Math.max(0, e - c2);
      // the steps not counted yet: e - k1, except for a shorter last chunk
      int from = counted;
      int next = Math.min(e + c1, seq);
      int nextStart = Math.max(0, next - c2);
      if (s != carriedAt) {
        throw new IllegalStateException("BPTT lost track of the carried state: at step "
            + carriedAt + " but the chunk starts at " + s);
      }
      Graph g = Graph.training(seed * 0x9E3779B97F4A7C15L + index);
      List<Value> init = constants(g, carried);
      List<Tensor> nextStates = null;
      Value out;
      g.setTimeOffset(s);
      boolean whole = from == 0 && e == seq;
      if (nextStart > s && nextStart < e) {
        SequenceModel.Forward a = model.forward(g,
            g.constant(input.slice(0, s, nextStart)), init);
        checkPerStep(a.output(), seq);
        nextStates = tensors(a.states());
        g.setTimeOffset(nextStart);
        SequenceModel.Forward b = model.forward(g, g.constant(input.slice(0, nextStart, e)),
            a.states());
        out = Steps.concat(g, a.output(), b.output());
      } else {
        SequenceModel.Forward a = model.forward(g, g.constant(input.slice(0, s, e)), init);
        out = a.output();
        if (!whole) {
          checkPerStep(out, seq);
        }
        if (nextStart == e) {
          nextStates = tensors(a.states());
        }
      }
      Value l = loss.apply(g, whole ? out : Steps.slice(g, out, from - s, e - s), from, e);
      if (optimizer != null) {
        optimizer.zeroGrad();
      }
      g.backward(l);
      GradientFlow flow = g.gradientFlow();
      if (optimizer != null && beforeUpdate.test(new Chunk(index, from, e, l.item(), flow))) {
        optimizer.step();
      }
      index++;
      losses.add(l.item());
      flows.add(flow);
      counted = e;
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

  /** Truncation splits the output by step: a last-step-only output cannot be split. */
  private void checkPerStep(Value out, int seq) {
    if (out.shape().rank() != 3) {
      throw new IllegalStateException(this + " over " + seq + " steps needs an output per step"
          + " [seq, batch, features] but the model gives " + out.shape() + " (only the last"
          + " step?); train it with Bptt.full(), or keep every step's output");
    }
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
