package dev.rnn.dsl;

import static dev.rnn.dsl.GraphStyle.HANDOFF_COLOUR;
import static dev.rnn.dsl.GraphStyle.LAYER_COLOUR;
import static dev.rnn.dsl.GraphStyle.RECURRENT_COLOUR;
import static dev.rnn.dsl.SvgGrid.NODE_H;

import dev.rnn.dsl.UnrolledGraph.Edge;
import dev.rnn.dsl.UnrolledGraph.EdgeKind;
import dev.rnn.dsl.UnrolledGraph.Node;
import dev.rnn.dsl.UnrolledGraph.NodeKind;
import dev.rnn.dsl.UnrolledGraph.Row;
import java.util.EnumSet;
import java.util.Set;

/**
 * Writes an {@link UnrolledGraph} as a standalone SVG 1.1 document, laid out by the library
 * itself on a {@link SvgGrid}: a header with the title, the legend of the edges present and the
 * notes; row labels at the left; step labels at the bottom; the edges; the nodes.
 */
final class SvgWriter {
  private static final String FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace";
  /** The advance of a monospace character, in ems. */
  private static final double CHAR = 0.61;
  private static final int MARGIN = 20;
  private static final int SYMBOL_SIZE = 14;
  private static final int DETAIL_SIZE = 11;

  private SvgWriter() {}

  /** {@return the SVG text of {@code graph}} */
  static String write(UnrolledGraph graph) {
    int nodeW = 64;
    for (Node n : graph.nodes()) {
      nodeW = Math.max(nodeW, Math.max(width(n.symbol(), SYMBOL_SIZE)
          + width(n.step(), DETAIL_SIZE) + 2, width(n.detail(), DETAIL_SIZE)) + 18);
    }
    int labelW = 0;
    for (Row r : graph.rows()) {
      labelW = Math.max(labelW, Math.max(width(r.title(), 12), width(r.detail(), DETAIL_SIZE)));
    }
    labelW += 16;
    Set<EdgeKind> kinds = EnumSet.noneOf(EdgeKind.class);
    for (Edge e : graph.edges()) {
      kinds.add(e.kind());
    }

    // the header: title, subtitle, legend, notes
    int headerW = Math.max(width(graph.title(), 15), width(graph.subtitle(), 12));
    for (String note : graph.notes()) {
      headerW = Math.max(headerW, width(note, 12));
    }
    for (EdgeKind k : kinds) {
      headerW = Math.max(headerW, 48 + width(k.legend, 12));
    }
    int titleY = MARGIN + 15;
    int subtitleY = titleY + 20;
    int legendY = subtitleY + 24;
    int notesY = legendY + kinds.size() * 18 + 4;
    int gridTop = notesY + graph.notes().size() * 17 + 18;
    SvgGrid at = new SvgGrid(graph, MARGIN + labelW + 8, gridTop, nodeW);
    int width = Math.max(at.right(), MARGIN + headerW) + MARGIN;
    int height = gridTop + at.height() + 44 + MARGIN;

    StringBuilder sb = new StringBuilder();
    sb.append("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n");
    sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"").append(width)
        .append("\" height=\"").append(height).append("\" viewBox=\"0 0 ").append(width)
        .append(' ').append(height).append("\" font-family=\"").append(FONT).append("\">\n");
    sb.append("  <title>").append(xml(graph.title() + ", " + graph.subtitle()))
        .append("</title>\n");
    sb.append("  <defs>\n");
    marker(sb, "arrow-layer", LAYER_COLOUR);
    marker(sb, "arrow-recurrent", RECURRENT_COLOUR);
    marker(sb, "arrow-handoff", HANDOFF_COLOUR);
    sb.append("  </defs>\n");
    sb.append("  <rect x=\"0\" y=\"0\" width=\"").append(width).append("\" height=\"")
        .append(height).append("\" fill=\"#ffffff\"/>\n");

    sb.append("  <g class=\"legend\">\n");
    text(sb, MARGIN, titleY, 15, "bold", "#000000", "start", graph.title());
    text(sb, MARGIN, subtitleY, 12, "normal", "#333333", "start", graph.subtitle());
    int ly = legendY;
    for (EdgeKind k : kinds) {
      sb.append("    <path d=\"M").append(MARGIN).append(',').append(ly - 4).append(" H")
          .append(MARGIN + 36).append("\" ").append(edgeStyle(k)).append("/>\n");
      text(sb, MARGIN + 48, ly, 12, "normal", "#333333", "start", k.legend);
      ly += 18;
    }
    int ny = notesY;
    for (String note : graph.notes()) {
      text(sb, MARGIN, ny, 12, "normal", "#333333", "start", note);
      ny += 17;
    }
    sb.append("  </g>\n");

    axes(sb, graph, at, gridTop);
    sb.append("  <g class=\"edges\" fill=\"none\">\n");
    for (Edge e : graph.edges()) {
      sb.append("    <path class=\"edge ").append(e.kind().css).append("\" id=\"edge-")
          .append(xml(e.from())).append("-").append(xml(e.to())).append("\" d=\"")
          .append(at.path(e)).append("\" ").append(edgeStyle(e.kind())).append(">")
          .append("<title>").append(xml(graph.node(e.from()).name() + " → "
              + graph.node(e.to()).name())).append("</title></path>\n");
    }
    sb.append("  </g>\n");
    sb.append("  <g class=\"nodes\">\n");
    for (Node n : graph.nodes()) {
      node(sb, n, at);
    }
    sb.append("  </g>\n");
    sb.append("</svg>\n");
    return sb.toString();
  }

  /** Row labels at the left, step labels at the bottom. */
  private static void axes(StringBuilder sb, UnrolledGraph graph, SvgGrid at, int gridTop) {
    sb.append("  <g class=\"axes\">\n");
    for (int r = 0; r < graph.rows().size(); r++) {
      int cy = at.cy(r);
      Row row = graph.rows().get(r);
      text(sb, MARGIN, cy - 3, 12, "bold", "#333333", "start", row.title());
      text(sb, MARGIN, cy + 12, DETAIL_SIZE, "normal", "#555555", "start", row.detail());
    }
    int axisY = gridTop + at.height() + 24;
    for (int c = at.minCol(); c <= at.maxCol(); c++) {
      String label = c == 0 ? "initial"
          : c == graph.steps() + 1 ? "initial (reverse)" : "t = " + c;
      text(sb, at.cx(c), axisY, 12, "normal", "#333333", "middle", label);
    }
    text(sb, at.right(), axisY + 18, 12, "normal", "#333333", "end", "time →");
    sb.append("  </g>\n");
  }

  /** A node: a rounded box, the symbol with its step as a subscript, the detail below. */
  private static void node(StringBuilder sb, Node n, SvgGrid at) {
    GraphStyle st = GraphStyle.of(n.kind());
    int cx = at.cx(n.column());
    int cy = at.cy(n.row());
    int nodeW = at.nodeW();
    sb.append("    <g class=\"node ").append(n.kind().css()).append("\" id=\"node-")
        .append(xml(n.id())).append("\">\n");
    sb.append("      <rect x=\"").append(cx - nodeW / 2).append("\" y=\"")
        .append(cy - NODE_H / 2).append("\" width=\"").append(nodeW).append("\" height=\"")
        .append(NODE_H).append("\" rx=\"9\" ry=\"9\" fill=\"").append(st.fill())
        .append("\" stroke=\"").append(st.stroke()).append("\" stroke-width=\"1.4\"")
        .append(n.kind() == NodeKind.INITIAL ? " stroke-dasharray=\"4,3\"" : "")
        .append("/>\n");
    sb.append("      <text x=\"").append(cx).append("\" y=\"").append(cy - 2)
        .append("\" font-size=\"").append(SYMBOL_SIZE)
        .append("\" text-anchor=\"middle\" fill=\"#000000\">").append(xml(n.symbol()));
    if (!n.step().isEmpty()) {
      sb.append("<tspan font-size=\"").append(DETAIL_SIZE).append("\" dy=\"4\">")
          .append(xml(n.step())).append("</tspan>");
    }
    sb.append("</text>\n");
    sb.append("  ");
    text(sb, cx, cy + 15, DETAIL_SIZE, "normal", "#444444", "middle", n.detail());
    sb.append("    </g>\n");
  }

  /** The width of {@code text} in a monospace font of {@code fontSize}. */
  private static int width(String text, int fontSize) {
    return (int) Math.ceil(text.codePointCount(0, text.length()) * CHAR * fontSize);
  }

  private static String edgeStyle(EdgeKind k) {
    switch (k) {
      case LAYER:
        return "stroke=\"" + LAYER_COLOUR + "\" stroke-width=\"1.3\" fill=\"none\""
            + " marker-end=\"url(#arrow-layer)\"";
      case RECURRENT:
        return "stroke=\"" + RECURRENT_COLOUR + "\" stroke-width=\"2.4\" fill=\"none\""
            + " marker-end=\"url(#arrow-recurrent)\"";
      case INITIAL:
        return "stroke=\"" + RECURRENT_COLOUR + "\" stroke-width=\"1.5\" fill=\"none\""
            + " stroke-dasharray=\"5,3\" marker-end=\"url(#arrow-recurrent)\"";
      default:
        return "stroke=\"" + HANDOFF_COLOUR + "\" stroke-width=\"1.8\" fill=\"none\""
            + " stroke-dasharray=\"7,4\" marker-end=\"url(#arrow-handoff)\"";
    }
  }

  private static void marker(StringBuilder sb, String id, String colour) {
    sb.append("    <marker id=\"").append(id).append("\" viewBox=\"0 0 10 10\" refX=\"9\""
        + " refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"10\" markerHeight=\"10\""
        + " orient=\"auto\">\n");
    sb.append("      <path d=\"M0,0 L10,5 L0,10 z\" fill=\"").append(colour).append("\"/>\n");
    sb.append("    </marker>\n");
  }

  private static void text(StringBuilder sb, int x, int y, int size, String weight,
      String colour, String anchor, String s) {
    sb.append("    <text x=\"").append(x).append("\" y=\"").append(y).append("\" font-size=\"")
        .append(size).append('"').append("bold".equals(weight) ? " font-weight=\"bold\"" : "")
        .append(" fill=\"").append(colour).append("\" text-anchor=\"").append(anchor)
        .append("\">").append(xml(s)).append("</text>\n");
  }

  /** {@code s} escaped for XML text and attribute values. */
  static String xml(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&':
          sb.append("&amp;");
          break;
        case '<':
          sb.append("&lt;");
          break;
        case '>':
          sb.append("&gt;");
          break;
        case '"':
          sb.append("&quot;");
          break;
        case '\'':
          sb.append("&apos;");
          break;
        default:
          // characters XML 1.0 does not allow are dropped
          if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') {
            sb.append(c);
          }
      }
    }
    return sb.toString();
  }
}
