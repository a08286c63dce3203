package dev.rnn.dsl;

/** Writes {@link Network#graph(int)} (DOT) and {@link Network#graphSvg(int)} (SVG). */
final class UnrolledGraph {
  private UnrolledGraph() {}

  static String dot(Network net, int steps) {
    throw new UnsupportedOperationException("graph(steps) is being written");
  }

  static String svg(Network net, int steps) {
    throw new UnsupportedOperationException("graph(steps) is being written");
  }
}
