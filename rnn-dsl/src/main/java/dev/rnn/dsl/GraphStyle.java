package dev.rnn.dsl;

import dev.rnn.dsl.UnrolledGraph.NodeKind;

/**
 * The colours of an unrolled graph, the same in {@link DotWriter} and {@link SvgWriter}: a fill
 * and a stroke per kind of node, one colour per family of edge.
 */
record GraphStyle(String fill, String stroke) {
  /** Edges from layer to layer at one step. */
  static final String LAYER_COLOUR = "#606060";
  /** Recurrent edges and the edges from initial states. */
  static final String RECURRENT_COLOUR = "#c0392b";
  /** Hand-off edges. */
  static final String HANDOFF_COLOUR = "#7d3c98";

  /** {@return the fill and stroke of a node of kind {@code kind}} */
  static GraphStyle of(NodeKind kind) {
    switch (kind) {
      case INPUT:
        return new GraphStyle("#eeeeee", "#707070");
      case RECURRENT:
        return new GraphStyle("#dbe9f6", "#2c6ea6");
      case INITIAL:
        return new GraphStyle("#ffffff", "#2c6ea6");
      case ACTIVATION:
        return new GraphStyle("#fff2cc", "#b8860b");
      case DENSE:
        return new GraphStyle("#e2f0d9", "#4e8a3a");
      case DROPOUT:
        return new GraphStyle("#ece6f5", "#6a5acd");
      default:
        return new GraphStyle("#fde2cf", "#c55a11");
    }
  }
}
