package dev.rnn.autograd;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkState;

import com.google.common.collect.ImmutableList;
import dev.rnn.core.Parameter;
import dev.rnn.core.Shape;
import dev.rnn.core.Storage;
import dev.rnn.core.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The record of one forward computation, unrolled in time: every op of {@link Ops} appends a node
 * in the order it runs, which is a topological order; {@link #backward} walks the nodes in
 * reverse.
 *
 * <p>A graph made by {@link #inference()} records nothing: ops compute their results only. A
 * graph is used by one thread, for one forward and at most one backward.
 */
public final class Graph {
  private final boolean recording;
  private final List<Node> nodes = new ArrayList<>();
  private final List<GradientFlow.Entry> flow = new ArrayList<>();
  private boolean backwardDone;
  private final long seed;
  private Random random;
  private final long[] rowSeeds;

  private Graph(boolean recording, long seed) {
    this(recording, seed, null);
  }

  private Graph(boolean recording, long seed, long[] rowSeeds) {
    this.recording = recording;
    this.seed = seed;
    this.rowSeeds = rowSeeds;
  }

  /**
   * A graph that records for backward, whose stochastic ops (dropout) draw from seed 0.
   *
   * @return a new recording graph
   */
  public static Graph training() {
    return new Graph(true, 0);
  }

  /**
   * A graph that records for backward, whose stochastic ops (dropout masks) draw from {@link
   * #random()} seeded with {@code seed}: the same seed and the same ops give the same masks.
   *
   * @param seed the seed of {@link #random()}
   * @return a new recording graph
   */
  public static Graph training(long seed) {
    return new Graph(true, seed);
  }

  /**
   * A graph that records for backward, whose stochastic ops draw per batch row: row {@code n}'s
   * dropout mask is a function of {@code rowSeeds[n]} and where the element is (the op, the
   * step, the feature) alone, so a sequence gets the same mask whatever batch it is in and
   * wherever in it (what data-parallel training needs: the split of a batch cannot change it).
   *
   * @param rowSeeds one seed per row of the batch (sequence); kept, not copied
   * @return a new recording graph
   */
  public static Graph trainingPerRow(long[] rowSeeds) {
    return new Graph(true, 0, rowSeeds);
  }

  /**
   * The seed of each batch row for stochastic ops ({@link #trainingPerRow}), or null for a graph
   * whose ops draw from {@link #random()}.
   *
   * @return the row seeds, or null
   */
  public long[] rowSeeds() {
    return rowSeeds;
  }

  /**
   * A graph that records nothing: forward only, no memory kept for backward.
   *
   * @return a new graph that records nothing
   */
  public static Graph inference() {
    return new Graph(false, 0);
  }

  /**
   * The random source of this graph's stochastic ops, such as dropout masks, made from the
   * graph's seed on first use: randomness belongs to one forward pass, not to a model, so a model
   * keeps no state between calls.
   *
   * @return the graph's random source
   */
  public Random random() {
    if (random == null) {
      random = new Random(seed);
    }
    return random;
  }

  /** {@return whether ops record nodes for backward} */
  public boolean recording() {
    return recording;
  }

  /**
   * What the recorded nodes compute, in forward order, e.g. {@code dense(3, 5)}, {@code layer 1
   * lstm(3, 5) step 4}: the graph as backward will walk it, last first.
   *
   * @return the labels of the recorded nodes; empty for a graph that records nothing
   */
  public ImmutableList<String> nodes() {
    return nodes.stream().map(Node::label).collect(ImmutableList.toImmutableList());
  }

  /** {@return the recorded nodes themselves, in forward order} */
  ImmutableList<Node> recorded() {
    return ImmutableList.copyOf(nodes);
  }

  /**
   * A value that takes no gradient (data, targets).
   *
   * @param t the data
   * @return a value over {@code t}
   */
  public Value constant(Tensor t) {
    return new Value(t.shape(), t.copyStorage(), false);
  }

  /**
   * A value whose gradient backward computes (an input whose gradient is wanted, h0, c0).
   *
   * @param t the data
   * @return a value over {@code t} with a gradient
   */
  public Value variable(Tensor t) {
    return new Value(t.shape(), t.copyStorage(), recording);
  }

  /**
   * A value sharing a parameter's data and gradient: backward accumulates into the parameter.
   *
   * @param p the parameter
   * @return a value over the parameter's live storages
   */
  public Value parameter(Parameter p) {
    return new Value(p.shape(), p.data(), recording, p.grad());
  }

  /** A new value over {@code data}, taking gradient if the graph records and any input does. */
  Value result(Shape shape, Storage data, Value... inputs) {
    boolean rg = false;
    for (Value v : inputs) {
      rg |= v != null && v.requiresGrad();
    }
    return new Value(shape, data, recording && rg);
  }

  /** Appends a node; ops call this after computing their forward. */
  void record(Node node) {
    if (recording) {
      nodes.add(node);
    }
  }

  /** Adds an entry of the gradient-flow report. */
  void recordFlow(GradientFlow.Entry e) {
    flow.add(e);
  }

  /**
   * Backpropagates from a one-element value (a loss): its gradient is set to 1 and every node
   * runs its backward, last first.
   *
   * @param loss the one-element value differentiated
   * @throws IllegalStateException if nothing was recorded, or backward already ran
   * @throws IllegalArgumentException if the value has more than one element
   */
  public void backward(Value loss) {
    checkArgument(loss.shape().size() == 1, "backward expected a one-element loss but got shape %s",
        loss.shape());
    loss.grad().set(0, 1);
    backward();
  }

  /**
   * Backpropagates gradients already seeded into outputs with {@link #seed}: for {@code L =
   * sum(output * g)}, seed {@code g} into {@code output}.
   */
  public void backward() {
    checkState(recording, "backward needs a graph made by Graph.training()");
    checkState(!backwardDone, "backward already ran on this graph");
    backwardDone = true;
    for (int i = nodes.size() - 1; i >= 0; i--) {
      nodes.get(i).backward();
    }
  }

  /**
   * Adds {@code g} to the gradient of {@code v}, as the upstream gradient of an output.
   *
   * @param v an output of the graph
   * @param g {@code dL/dv}, of the shape of {@code v}
   * @throws IllegalArgumentException if the shapes differ
   */
  public void seed(Value v, Tensor g) {
    checkArgument(v.shape().equals(g.shape()), "seed expected a gradient of shape %s but got %s",
        v.shape(), g.shape());
    if (v.requiresGrad()) {
      Storage s = g.to(v.dtype()).copyStorage();
      v.grad().axpy(s.length(), 1, s, 0, 0);
    }
  }

  /**
   * The norm of {@code dL/dh_t} for every recurrent layer, direction and time step, in the order
   * backward visited them: available after {@link #backward}.
   *
   * @return the norms of the last backward pass
   */
  public GradientFlow gradientFlow() {
    checkState(backwardDone, "the gradient flow is known after backward");
    return new GradientFlow(flow);
  }
}
