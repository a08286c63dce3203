package dev.rnn.autograd;

import java.util.function.Supplier;

/**
 * One operation recorded in a {@link Graph}: whatever its backward needs, saved by its forward,
 * and the backward itself, which adds the gradients of its inputs from the gradients of its
 * outputs.
 *
 * <p>A recurrent layer records one node per (layer, direction, time step) cell application,
 * between a node for its input projection and one for its final states: the steps and the two
 * ends of a scan's backward (see {@link ScanOp}).
 */
abstract class Node {
  private final String label;
  /** The label made when asked, or null: spares a per-call op building a string it rarely shows. */
  private final Supplier<String> lazyLabel;

  /**
   * A node described by {@code label}, e.g. {@code lstm(3, 5) step 4}.
   *
   * @param label what the node computes
   */
  Node(String label) {
    this.label = label;
    this.lazyLabel = null;
  }

  /**
   * A node whose label is made only when asked ({@link #label()}, graphs, errors), not on every
   * call that records it.
   *
   * @param label makes what the node computes, e.g. {@code dense(4, 2)}
   */
  Node(Supplier<String> label) {
    this.label = null;
    this.lazyLabel = label;
  }

  /**
   * A node whose {@link #label()} is made when asked for, by the subclass: a recurrent layer
   * records one node per step on every call, and labels are read only by graphs and reports.
   */
  Node() {
    this.label = null;
    this.lazyLabel = null;
  }

  /** {@return what the node computes, for {@code describe()} and graphs} */
  String label() {
    return lazyLabel != null ? lazyLabel.get() : label;
  }

  /** Adds the gradients of the inputs, from the gradients of the outputs. */
  abstract void backward();

  /**
   * What the graph keeps of this node once its backward ran: its label, without what the
   * backward needed (saved activations, the values whose gradients it read), so that a long
   * backward pass frees the memory of the nodes it is done with, as torch frees a graph's saved
   * tensors.
   *
   * @return a node with this one's label only
   */
  Node released() {
    return lazyLabel != null ? new Done(lazyLabel) : new Done(label, "", -1);
  }

  /**
   * A node whose backward ran: its label only, made when asked for from {@code prefix + suffix}
   * and, if {@code time >= 0}, the time.
   */
  static final class Done extends Node {
    private final String prefix;
    private final String suffix;
    private final int time;
    private final Supplier<String> lazy;

    Done(String prefix, String suffix, int time) {
      this.prefix = prefix;
      this.suffix = suffix;
      this.time = time;
      this.lazy = null;
    }

    /** The released node of one labelled lazily: keeps the maker, not the string. */
    Done(Supplier<String> label) {
      this.prefix = null;
      this.suffix = null;
      this.time = -1;
      this.lazy = label;
    }

    @Override String label() {
      return lazy != null ? lazy.get() : time < 0 ? (suffix.isEmpty() ? prefix : prefix + suffix) : prefix + suffix + time;
    }

    @Override void backward() {
      throw new IllegalStateException(label() + ": backward already ran");
    }

    @Override Node released() {
      return this;
    }
  }

  @Override public String toString() {
    return label();
  }
}
