package dev.rnn.autograd;

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

  /**
   * A node described by {@code label}, e.g. {@code lstm(3, 5) step 4}.
   *
   * @param label what the node computes
   */
  Node(String label) {
    this.label = label;
  }

  /**
   * A node whose {@link #label()} is made when asked for, by the subclass: a recurrent layer
   * records one node per step on every call, and labels are read only by graphs and reports.
   */
  Node() {
    this.label = null;
  }

  /** {@return what the node computes, for {@code describe()} and graphs} */
  String label() {
    return label;
  }

  /** Adds the gradients of the inputs, from the gradients of the outputs. */
  abstract void backward();

  @Override public String toString() {
    return label();
  }
}
