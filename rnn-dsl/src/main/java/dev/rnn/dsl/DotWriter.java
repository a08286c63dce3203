package dev.rnn.dsl;

import dev.rnn.dsl.UnrolledGraph.Edge;
import dev.rnn.dsl.UnrolledGraph.Node;
import dev.rnn.dsl.UnrolledGraph.NodeKind;
import dev.rnn.dsl.UnrolledGraph.Row;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes an {@link UnrolledGraph} as Graphviz DOT: bottom to top, one rank per row, one group per
 * column, flat recurrent edges left to right; {@code dot -Tsvg} lays it out.
 */
final class DotWriter {
  private final UnrolledGraph graph;
  private final StringBuilder sb = new StringBuilder();

  private DotWriter(UnrolledGraph graph) {
    this.graph = graph;
  }

  /** {@return the DOT text of {@code graph}} */
  static String write(UnrolledGraph graph) {
    DotWriter w = new DotWriter(graph);
    w.header();
    // invisible anchors in the input row under the columns of initial states, which keep those
    // columns at the left (and right) end
    int last = graph.steps() + 1;
    Node left = graph.column(0).isEmpty() ? null : anchor(0);
    Node right = graph.column(last).isEmpty() ? null : anchor(last);
    for (int row = 0; row < graph.rows().size(); row++) {
      w.row(row, left, right);
    }
    w.columns(left, right);
    w.sb.append('\n');
    for (Edge e : graph.edges()) {
      w.edge(e);
    }
    w.sb.append("}\n");
    return w.sb.toString();
  }

  private static Node anchor(int column) {
    return new Node("anchor_" + column, NodeKind.INPUT, "", "", "", 0, column);
  }

  private void header() {
    sb.append("// ").append(comment(graph.title())).append('\n');
    sb.append("digraph \"unrolled\" {\n");
    StringBuilder label = new StringBuilder();
    label.append(escape(graph.title())).append("\\n").append(escape(graph.subtitle()))
        .append("\\n");
    for (String note : graph.notes()) {
      label.append(escape(note)).append("\\l");
    }
    label.append(escape(legend())).append("\\l");
    sb.append("  graph [rankdir=BT, newrank=true, nodesep=0.35, ranksep=0.45,"
        + " fontname=\"Helvetica\", fontsize=11, labelloc=t, label=\"").append(label)
        .append("\"];\n");
    sb.append("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\","
        + " fontsize=11, margin=\"0.12,0.05\"];\n");
    sb.append("  edge [arrowsize=0.7];\n");
  }

  /** The nodes of a row (with the anchors in the input row), on one rank, in time order. */
  private void row(int row, Node left, Node right) {
    Row r = graph.rows().get(row);
    sb.append("\n  // ").append(comment(r.title() + ": " + r.detail())).append('\n');
    List<Node> inRow = new ArrayList<>(graph.row(row));
    if (row == 0) {
      // the input row holds columns 1 to T only
      if (left != null) {
        inRow.add(0, left);
      }
      if (right != null) {
        inRow.add(right);
      }
    }
    for (Node node : inRow) {
      if (node == left || node == right) {
        sb.append("  ").append(quote(node.id())).append(" [style=invis, label=\"\", group=\"c")
            .append(node.column()).append("\"];\n");
        continue;
      }
      GraphStyle st = GraphStyle.of(node.kind());
      sb.append("  ").append(quote(node.id())).append(" [label=\"")
          .append(escape(node.name())).append("\\n").append(escape(node.detail()))
          .append("\", fillcolor=\"").append(st.fill()).append("\", color=\"")
          .append(st.stroke()).append('"')
          .append(node.kind() == NodeKind.INITIAL ? ", style=\"rounded,dashed\"" : "")
          .append(", group=\"c").append(node.column()).append('"')
          .append(", class=\"node ").append(node.kind().css()).append("\"];\n");
    }
    sb.append("  { rank=same;");
    for (Node node : inRow) {
      sb.append(' ').append(quote(node.id())).append(';');
    }
    sb.append(" }\n");
    // keep the steps in time order in rows without recurrent edges
    if (inRow.get(0).kind() != NodeKind.RECURRENT && inRow.get(0).kind() != NodeKind.INITIAL) {
      for (int k = 1; k < inRow.size(); k++) {
        sb.append("  ").append(quote(inRow.get(k - 1).id())).append(" -> ")
            .append(quote(inRow.get(k).id())).append(" [style=invis];\n");
      }
    }
  }

  /**
   * Each column's nodes one above the other, in row order (and a reverse direction one rank above
   * its forward direction).
   */
  private void columns(Node left, Node right) {
    sb.append("\n  // columns\n");
    int last = graph.steps() + 1;
    for (int column = 0; column <= last; column++) {
      Node below = column == 0 ? left : column == last ? right : null;
      for (Node node : graph.column(column)) {
        if (below != null) {
          sb.append("  ").append(quote(below.id())).append(" -> ").append(quote(node.id()))
              .append(" [style=invis, weight=4];\n");
        }
        below = node;
      }
    }
  }

  private void edge(Edge e) {
    Node from = graph.node(e.from());
    Node to = graph.node(e.to());
    // a flat edge pointing left (reverse direction) is written left to right with dir=back,
    // so that Graphviz keeps time flowing left to right
    boolean leftward = from.row() == to.row() && to.column() < from.column();
    Node a = leftward ? to : from;
    Node b = leftward ? from : to;
    sb.append("  ").append(quote(a.id())).append(" -> ").append(quote(b.id())).append(" [");
    switch (e.kind()) {
      case LAYER:
        sb.append("color=\"").append(GraphStyle.LAYER_COLOUR).append('"');
        break;
      case RECURRENT:
        sb.append("color=\"").append(GraphStyle.RECURRENT_COLOUR).append("\", penwidth=2");
        break;
      case INITIAL:
        sb.append("color=\"").append(GraphStyle.RECURRENT_COLOUR).append("\", style=dashed");
        break;
      default:
        sb.append("color=\"").append(GraphStyle.HANDOFF_COLOUR)
            .append("\", style=dashed, penwidth=1.5, constraint=false");
    }
    if (leftward) {
      sb.append(", dir=back");
    }
    sb.append(", class=\"edge ").append(e.kind().css).append("\"];\n");
  }

  private String legend() {
    return "edges: grey = same step, layer to layer; red = across time (recurrent); red dashed ="
        + " initial state" + (graph.handsOffStates()
            ? "; purple dashed = hand-off of the final state" : "");
  }

  /** {@code s} on one line, for a {@code //} comment. */
  private static String comment(String s) {
    return s.replaceAll("\\s+", " ");
  }

  private static String quote(String id) {
    return '"' + escape(id) + '"';
  }

  /** {@code s} escaped for a quoted DOT string. */
  static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
