package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Writes {@link Network#graph(int)} (Graphviz DOT) and {@link Network#graphSvg(int)} (SVG): the
 * network's computation unrolled over T time steps, read off its wired stages, so that the picture
 * shows exactly where {@link Wiring} put each activation and where each state goes.
 *
 * <p>Nodes: the input {@code x_t} per step; per stage and step one node ({@code h1_t}, or {@code
 * s1_t} for a linear recurrent layer under {@link Stacking#OUTPUTS}, as {@code describe()} names
 * them; {@code y2_t} for an activation, dense or dropout stage); {@code lastStep()} and what
 * follows it one node each; per recurrent stage and direction its initial state {@code h1_0}. Edges: layer
 * to layer at the same step; recurrent, across time within a recurrent stage ({@code h_{t-1} ->
 * h_t}, or {@code h_{t+1} -> h_t} in the reverse direction); initial state to the first step; and
 * with {@code handOffStates()} the final state of one recurrent stage to the initial state of the
 * next.
 *
 * <p>Under {@link Stacking#STATES} an activation right after {@code recurrent(in, out)} is inside
 * the recurrent node ("relu inside"): the recurrent edge carries the activated h. Under {@link
 * Stacking#OUTPUTS} it is a node of its own after the state: the recurrent edge leaves the
 * pre-activation state s.
 *
 * <p>Layout: column = time step (column 0 the initial states, column T + 1 the initial states of
 * reverse directions), row = layer, input at the bottom; a bidirectional stage has two rows,
 * forward below reverse.
 */
final class UnrolledGraph {
  /** The most steps drawn: beyond that the picture is unreadable. */
  static final int MAX_STEPS = 50;

  /** What a node computes; decides its colour. */
  enum NodeKind {
    INPUT, RECURRENT, INITIAL, ACTIVATION, DENSE, DROPOUT, LAST_STEP
  }

  /** What an edge carries. */
  enum EdgeKind {
    /** A stage's output at step t into the next stage at step t. */
    LAYER("layer", "same step: layer to layer"),
    /** A recurrent stage's state from one step to the next. */
    RECURRENT("recurrent", "across time: the state carried by the recurrence"),
    /** The initial state into the first step. */
    INITIAL("initial", "initial state into the first step"),
    /** A recurrent stage's final state into the next recurrent stage's initial state. */
    HANDOFF("handoff", "hand-off: final state to the next recurrent layer's initial state");

    final String css;
    final String legend;

    EdgeKind(String css, String legend) {
      this.css = css;
      this.legend = legend;
    }
  }

  /**
   * One node: {@code symbol} with subscript {@code step} (empty for none), a short {@code detail}
   * line, placed at ({@code row}, {@code column}).
   */
  record Node(String id, NodeKind kind, String symbol, String step, String detail, int row,
      int column) {
    /** As in {@code describe()}: {@code h1_2}, or the symbol alone. */
    String name() {
      return step.isEmpty() ? symbol : symbol + "_" + step;
    }
  }

  /** One edge from node id {@code from} to node id {@code to}. */
  record Edge(String from, String to, EdgeKind kind) {}

  /** The label of a row, at the left: {@code layer 1} and {@code recurrent(2, 2)}. */
  record Row(String title, String detail) {}

  private final Network net;
  private final int steps;
  private final List<Row> rows = new ArrayList<>();
  private final Map<String, Node> nodes = new LinkedHashMap<>();
  private final List<Edge> edges = new ArrayList<>();
  /** Per recurrent stage, what its recurrent edges carry. */
  private final List<String> notes = new ArrayList<>();
  /** The rows of reverse directions. */
  private final Set<Integer> reverseRows = new HashSet<>();

  private UnrolledGraph(Network net, int steps) {
    this.net = net;
    this.steps = steps;
    unroll();
  }

  /**
   * The unrolled graph of {@code net} over {@code steps} steps.
   *
   * @param caller the method to name in the error, e.g. {@code graph(steps)}
   * @throws IllegalArgumentException unless {@code 1 <= steps <= 50}
   */
  static UnrolledGraph of(Network net, int steps, String caller) {
    checkArgument(steps >= 1 && steps <= MAX_STEPS,
        "%s expected 1 <= steps <= %s but got %s (one column is drawn per step)", caller,
        MAX_STEPS, steps);
    return new UnrolledGraph(net, steps);
  }

  static String dot(Network net, int steps) {
    return of(net, steps, "graph(steps)").toDot();
  }

  static String svg(Network net, int steps) {
    return of(net, steps, "graphSvg(steps)").toSvg();
  }

  ImmutableList<Node> nodes() {
    return ImmutableList.copyOf(nodes.values());
  }

  ImmutableList<Edge> edges() {
    return ImmutableList.copyOf(edges);
  }

  // ---- the graph ------------------------------------------------------------------------------

  private void unroll() {
    rows.add(new Row("input", "x [" + net.inputSize() + "]"));
    // outs.get(i): the ids of the nodes whose outputs make step columns.get(i) of the sequence
    // between two stages (two ids after a bidirectional stage, [forward, reverse]).
    List<Integer> columns = new ArrayList<>();
    List<List<String>> outs = new ArrayList<>();
    for (int t = 1; t <= steps; t++) {
      columns.add(t);
      outs.add(List.of(add(new Node("x_" + t, NodeKind.INPUT, "x", String.valueOf(t), "input",
          0, t)).id()));
    }
    String in = "x";
    boolean perStep = true;
    List<Node> previousFinals = null;
    ImmutableList<Stage> stages = net.stages();
    for (int i = 0; i < stages.size(); i++) {
      Stage s = stages.get(i);
      String n = String.valueOf(s.layer());
      if (s instanceof Stage.Recurrent r) {
        String h = r.symbol();
        boolean bi = r.bidirectional();
        List<List<String>> next = new ArrayList<>();
        for (int k = 0; k < columns.size(); k++) {
          next.add(new ArrayList<>());
        }
        List<Node> finals = new ArrayList<>();
        for (int d = 0; d < r.directions().size(); d++) {
          boolean reverse = r.directions().get(d).reverse();
          String symbol = h + (bi ? (reverse ? "←" : "→") : "");
          String id = "l" + n + (reverse ? "r" : "");
          int row = rows.size();
          rows.add(recurrentRow(r, bi, reverse));
          if (reverse) {
            reverseRows.add(row);
          }
          for (int k = 0; k < columns.size(); k++) {
            int t = columns.get(k);
            add(new Node(id + "_" + t, NodeKind.RECURRENT, symbol, String.valueOf(t),
                r.graphDetail(), row, t));
            for (String from : outs.get(k)) {
              edges.add(new Edge(from, id + "_" + t, EdgeKind.LAYER));
            }
            next.get(k).add(id + "_" + t);
          }
          boolean handedOff = r.initial() == Stage.InitialState.HANDED_OFF;
          String initDetail = handedOff ? "from " + previousFinals.get(d).name()
              : r.initial() == Stage.InitialState.LEARNED ? "learned" : "zeros";
          Node init = add(new Node(id + "_0", NodeKind.INITIAL, symbol, "0", initDetail, row,
              reverse ? steps + 1 : 0));
          edges.add(new Edge(init.id(), id + "_" + (reverse ? steps : 1), EdgeKind.INITIAL));
          for (int t = 2; t <= steps; t++) {
            edges.add(reverse ? new Edge(id + "_" + t, id + "_" + (t - 1), EdgeKind.RECURRENT)
                : new Edge(id + "_" + (t - 1), id + "_" + t, EdgeKind.RECURRENT));
          }
          if (handedOff) {
            edges.add(new Edge(previousFinals.get(d).id(), init.id(), EdgeKind.HANDOFF));
          }
          finals.add(nodes.get(id + "_" + (reverse ? 1 : steps)));
        }
        notes.add(r.carries(i + 1 < stages.size() ? stages.get(i + 1) : null, net.stacking()));
        previousFinals = finals;
        outs = next;
        in = h;
      } else {
        NodeKind kind;
        String symbol = "y" + n;
        String detail;
        String rowDetail;
        if (s instanceof Stage.Pointwise a) {
          kind = NodeKind.ACTIVATION;
          detail = a.activation().label() + "(" + in + ")";
          rowDetail = a.activation().label() + "()";
        } else if (s instanceof Stage.Dense d) {
          kind = NodeKind.DENSE;
          detail = d.spec().describe();
          rowDetail = detail;
        } else if (s instanceof Stage.Dropout d) {
          kind = NodeKind.DROPOUT;
          detail = "dropout(" + d.p() + ")";
          rowDetail = detail + ", in training";
        } else {
          kind = NodeKind.LAST_STEP;
          symbol = "y";
          detail = "step " + steps + " only";
          rowDetail = "lastStep()";
          // from here on, one node per stage, at the last step's column
          perStep = false;
          columns = List.of(steps);
          outs = List.of(outs.get(outs.size() - 1));
        }
        int row = rows.size();
        rows.add(new Row("layer " + n, rowDetail));
        List<List<String>> next = new ArrayList<>();
        for (int k = 0; k < columns.size(); k++) {
          int t = columns.get(k);
          String id = perStep ? "l" + n + "_" + t : "l" + n;
          add(new Node(id, kind, symbol, perStep ? String.valueOf(t) : "", detail, row, t));
          for (String from : outs.get(k)) {
            edges.add(new Edge(from, id, EdgeKind.LAYER));
          }
          next.add(List.of(id));
        }
        outs = next;
        in = symbol;
      }
    }
  }

  private Node add(Node node) {
    nodes.put(node.id(), node);
    return node;
  }

  private static Row recurrentRow(Stage.Recurrent r, boolean bi, boolean reverse) {
    String title = r.absorbed() ? "layers " + r.layer() + "-" + (r.layer() + 1)
        : "layer " + r.layer();
    if (bi) {
      title += reverse ? ", reverse" : ", forward";
    }
    String detail = r.written();
    return new Row(title, bi && reverse ? "(same layer)" : detail);
  }



  // ---- DOT ------------------------------------------------------------------------------------

  /** Graphviz DOT: bottom to top, one rank per row, flat recurrent edges left to right. */
  String toDot() {
    StringBuilder sb = new StringBuilder();
    sb.append("// ").append(comment(title())).append('\n');
    sb.append("digraph \"unrolled\" {\n");
    StringBuilder label = new StringBuilder();
    label.append(escapeDot(title())).append("\\n").append(escapeDot(subtitle())).append("\\n");
    for (String note : notes) {
      label.append(escapeDot(note)).append("\\l");
    }
    label.append(escapeDot(dotLegend())).append("\\l");
    sb.append("  graph [rankdir=BT, newrank=true, nodesep=0.35, ranksep=0.45,"
        + " fontname=\"Helvetica\", fontsize=11, labelloc=t, label=\"").append(label)
        .append("\"];\n");
    sb.append("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\","
        + " fontsize=11, margin=\"0.12,0.05\"];\n");
    sb.append("  edge [arrowsize=0.7];\n");
    // invisible anchors in the input row under the columns of initial states, which keep those
    // columns at the left (and right) end
    Map<Integer, Node> anchors = new LinkedHashMap<>();
    for (int column : new int[] {0, steps + 1}) {
      if (nodes.values().stream().anyMatch(n -> n.column() == column)) {
        anchors.put(column, new Node("anchor_" + column, NodeKind.INPUT, "", "", "", 0, column));
      }
    }
    for (int row = 0; row < rows.size(); row++) {
      Row r = rows.get(row);
      sb.append("\n  // ").append(comment(r.title() + ": " + r.detail())).append('\n');
      List<Node> inRow = new ArrayList<>();
      for (Node node : nodes.values()) {
        if (node.row() == row) {
          inRow.add(node);
        }
      }
      if (row == 0) {
        inRow.addAll(anchors.values());
      }
      inRow.sort((a, b) -> Integer.compare(a.column(), b.column()));
      for (Node node : inRow) {
        if (anchors.containsValue(node)) {
          sb.append("  ").append(quote(node.id())).append(" [style=invis, label=\"\", group=\"c")
              .append(node.column()).append("\"];\n");
          continue;
        }
        Style st = Style.of(node.kind());
        sb.append("  ").append(quote(node.id())).append(" [label=\"")
            .append(escapeDot(node.name())).append("\\n").append(escapeDot(node.detail()))
            .append("\", fillcolor=\"").append(st.fill).append("\", color=\"").append(st.stroke)
            .append('"').append(node.kind() == NodeKind.INITIAL ? ", style=\"rounded,dashed\"" : "")
            .append(", group=\"c").append(node.column()).append('"')
            .append(", class=\"node ").append(css(node.kind())).append("\"];\n");
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
    // each column's nodes one above the other, in row order (and a reverse direction one rank
    // above its forward direction)
    sb.append("\n  // columns\n");
    for (int column = 0; column <= steps + 1; column++) {
      Node below = anchors.get(column);
      for (int row = 0; row < rows.size(); row++) {
        Node node = at(row, column);
        if (node != null) {
          if (below != null) {
            sb.append("  ").append(quote(below.id())).append(" -> ").append(quote(node.id()))
                .append(" [style=invis, weight=4];\n");
          }
          below = node;
        }
      }
    }
    sb.append('\n');
    for (Edge e : edges) {
      Node from = nodes.get(e.from());
      Node to = nodes.get(e.to());
      // a flat edge pointing left (reverse direction) is written left to right with dir=back,
      // so that Graphviz keeps time flowing left to right
      boolean leftward = from.row() == to.row() && to.column() < from.column();
      Node a = leftward ? to : from;
      Node b = leftward ? from : to;
      sb.append("  ").append(quote(a.id())).append(" -> ").append(quote(b.id())).append(" [");
      switch (e.kind()) {
        case LAYER:
          sb.append("color=\"").append(LAYER_COLOUR).append('"');
          break;
        case RECURRENT:
          sb.append("color=\"").append(RECURRENT_COLOUR).append("\", penwidth=2");
          break;
        case INITIAL:
          sb.append("color=\"").append(RECURRENT_COLOUR).append("\", style=dashed");
          break;
        default:
          sb.append("color=\"").append(HANDOFF_COLOUR)
              .append("\", style=dashed, penwidth=1.5, constraint=false");
      }
      if (leftward) {
        sb.append(", dir=back");
      }
      sb.append(", class=\"edge ").append(e.kind().css).append("\"];\n");
    }
    sb.append("}\n");
    return sb.toString();
  }

  private String dotLegend() {
    StringBuilder sb = new StringBuilder("edges: grey = same step, layer to layer; red = across"
        + " time (recurrent); red dashed = initial state");
    if (net.handsOffStates()) {
      sb.append("; purple dashed = hand-off of the final state");
    }
    return sb.toString();
  }

  private static String comment(String s) {
    return s.replaceAll("\\s+", " ");
  }

  private static String quote(String id) {
    return '"' + escapeDot(id) + '"';
  }

  private static String escapeDot(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  // ---- SVG ------------------------------------------------------------------------------------

  private static final String FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace";
  /** The advance of a monospace character, in ems. */
  private static final double CHAR = 0.61;
  private static final int MARGIN = 20;
  private static final int NODE_H = 44;
  private static final int COL_GAP = 50;
  /** Wider: edges around the nodes of bidirectional stages pass between the columns. */
  private static final int COL_GAP_BIDIRECTIONAL = 76;
  private static final int ROW_GAP = 46;
  private static final int SYMBOL_SIZE = 14;
  private static final int DETAIL_SIZE = 11;
  private static final String LAYER_COLOUR = "#606060";
  private static final String RECURRENT_COLOUR = "#c0392b";
  private static final String HANDOFF_COLOUR = "#7d3c98";

  /** The fill and stroke of a kind of node. */
  private record Style(String fill, String stroke) {
    static Style of(NodeKind kind) {
      switch (kind) {
        case INPUT:
          return new Style("#eeeeee", "#707070");
        case RECURRENT:
          return new Style("#dbe9f6", "#2c6ea6");
        case INITIAL:
          return new Style("#ffffff", "#2c6ea6");
        case ACTIVATION:
          return new Style("#fff2cc", "#b8860b");
        case DENSE:
          return new Style("#e2f0d9", "#4e8a3a");
        case DROPOUT:
          return new Style("#ece6f5", "#6a5acd");
        default:
          return new Style("#fde2cf", "#c55a11");
      }
    }
  }

  private static String css(NodeKind kind) {
    return kind.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  private static int width(String text, int fontSize) {
    return (int) Math.ceil(text.codePointCount(0, text.length()) * CHAR * fontSize);
  }

  /** A standalone SVG 1.1 document, laid out on a grid: column = step, row = layer. */
  String toSvg() {
    int nodeW = 64;
    for (Node n : nodes.values()) {
      nodeW = Math.max(nodeW, Math.max(width(n.symbol(), SYMBOL_SIZE)
          + width(n.step(), DETAIL_SIZE) + 2, width(n.detail(), DETAIL_SIZE)) + 18);
    }
    int labelW = 0;
    for (Row r : rows) {
      labelW = Math.max(labelW, Math.max(width(r.title(), 12), width(r.detail(), DETAIL_SIZE)));
    }
    labelW += 16;
    int minCol = Integer.MAX_VALUE;
    int maxCol = 0;
    for (Node n : nodes.values()) {
      minCol = Math.min(minCol, n.column());
      maxCol = Math.max(maxCol, n.column());
    }
    Set<EdgeKind> kinds = EnumSet.noneOf(EdgeKind.class);
    for (Edge e : edges) {
      kinds.add(e.kind());
    }

    // the header: title, subtitle, legend, notes
    List<String[]> header = new ArrayList<>(); // {text, font size, weight}
    int headerW = Math.max(width(title(), 15), width(subtitle(), 12));
    for (String note : notes) {
      headerW = Math.max(headerW, width(note, 12));
    }
    for (EdgeKind k : kinds) {
      headerW = Math.max(headerW, 48 + width(k.legend, 12));
    }
    int y = MARGIN;
    int titleY = y + 15;
    int subtitleY = titleY + 20;
    int legendY = subtitleY + 24;
    int notesY = legendY + kinds.size() * 18 + 4;
    int gridTop = notesY + notes.size() * 17 + 18;
    int colGap = reverseRows.isEmpty() ? COL_GAP : COL_GAP_BIDIRECTIONAL;
    int colW = nodeW + colGap;
    int rowH = NODE_H + ROW_GAP;
    int x0 = MARGIN + labelW + 8;
    int gridW = (maxCol - minCol + 1) * colW - colGap;
    int gridH = rows.size() * rowH - ROW_GAP;
    int width = Math.max(x0 + gridW, MARGIN + headerW) + MARGIN;
    int height = gridTop + gridH + 44 + MARGIN;

    Layout at = new Layout(x0, gridTop, nodeW, colW, rowH, minCol, rows.size());
    StringBuilder sb = new StringBuilder();
    sb.append("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n");
    sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"").append(width)
        .append("\" height=\"").append(height).append("\" viewBox=\"0 0 ").append(width)
        .append(' ').append(height).append("\" font-family=\"").append(FONT).append("\">\n");
    sb.append("  <title>").append(xml(title() + ", " + subtitle())).append("</title>\n");
    sb.append("  <defs>\n");
    marker(sb, "arrow-layer", LAYER_COLOUR);
    marker(sb, "arrow-recurrent", RECURRENT_COLOUR);
    marker(sb, "arrow-handoff", HANDOFF_COLOUR);
    sb.append("  </defs>\n");
    sb.append("  <rect x=\"0\" y=\"0\" width=\"").append(width).append("\" height=\"")
        .append(height).append("\" fill=\"#ffffff\"/>\n");

    sb.append("  <g class=\"legend\">\n");
    text(sb, MARGIN, titleY, 15, "bold", "#000000", "start", title());
    text(sb, MARGIN, subtitleY, 12, "normal", "#333333", "start", subtitle());
    int ly = legendY;
    for (EdgeKind k : kinds) {
      sb.append("    <path d=\"M").append(MARGIN).append(',').append(ly - 4).append(" H")
          .append(MARGIN + 36).append("\" ").append(edgeStyle(k)).append("/>\n");
      text(sb, MARGIN + 48, ly, 12, "normal", "#333333", "start", k.legend);
      ly += 18;
    }
    int ny = notesY;
    for (String note : notes) {
      text(sb, MARGIN, ny, 12, "normal", "#333333", "start", note);
      ny += 17;
    }
    sb.append("  </g>\n");

    // row labels at the left, step labels at the bottom
    sb.append("  <g class=\"axes\">\n");
    for (int r = 0; r < rows.size(); r++) {
      int cy = at.cy(r);
      text(sb, MARGIN, cy - 3, 12, "bold", "#333333", "start", rows.get(r).title());
      text(sb, MARGIN, cy + 12, DETAIL_SIZE, "normal", "#555555", "start", rows.get(r).detail());
    }
    int axisY = gridTop + gridH + 24;
    for (int c = minCol; c <= maxCol; c++) {
      String label = c == 0 ? "initial" : c == steps + 1 ? "initial (reverse)" : "t = " + c;
      text(sb, at.cx(c), axisY, 12, "normal", "#333333", "middle", label);
    }
    text(sb, x0 + gridW, axisY + 18, 12, "normal", "#333333", "end", "time →");
    sb.append("  </g>\n");

    sb.append("  <g class=\"edges\" fill=\"none\">\n");
    for (Edge e : edges) {
      sb.append("    <path class=\"edge ").append(e.kind().css).append("\" id=\"edge-")
          .append(xml(e.from())).append("-").append(xml(e.to())).append("\" d=\"")
          .append(path(e, at)).append("\" ").append(edgeStyle(e.kind())).append(">")
          .append("<title>").append(xml(nodes.get(e.from()).name() + " → "
              + nodes.get(e.to()).name())).append("</title></path>\n");
    }
    sb.append("  </g>\n");

    sb.append("  <g class=\"nodes\">\n");
    for (Node n : nodes.values()) {
      Style st = Style.of(n.kind());
      int cx = at.cx(n.column());
      int cy = at.cy(n.row());
      sb.append("    <g class=\"node ").append(css(n.kind())).append("\" id=\"node-")
          .append(xml(n.id())).append("\">\n");
      sb.append("      <rect x=\"").append(cx - nodeW / 2).append("\" y=\"")
          .append(cy - NODE_H / 2).append("\" width=\"").append(nodeW).append("\" height=\"")
          .append(NODE_H).append("\" rx=\"9\" ry=\"9\" fill=\"").append(st.fill)
          .append("\" stroke=\"").append(st.stroke).append("\" stroke-width=\"1.4\"")
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
    sb.append("  </g>\n");
    sb.append("</svg>\n");
    return sb.toString();
  }

  /** Grid coordinates: column and row to the centre of a cell. */
  private record Layout(int x0, int top, int nodeW, int colW, int rowH, int minCol, int rows) {
    int cx(int column) {
      return x0 + (column - minCol) * colW + nodeW / 2;
    }

    int cy(int row) {
      return top + (rows - 1 - row) * rowH + NODE_H / 2;
    }
  }

  /** The path data of an edge. */
  private String path(Edge e, Layout at) {
    Node from = nodes.get(e.from());
    Node to = nodes.get(e.to());
    int half = at.nodeW() / 2;
    int fx = at.cx(from.column());
    int fy = at.cy(from.row());
    int tx = at.cx(to.column());
    int ty = at.cy(to.row());
    if (e.kind() == EdgeKind.HANDOFF) {
      // up into the gap above the source row, along it to the target's column, up to the target
      boolean reverse = to.column() > from.column();
      int sx = fx + (reverse ? -1 : 1) * at.nodeW() * 3 / 10;
      int gap = fy - NODE_H / 2 - (reverse ? ROW_GAP * 2 / 3 : ROW_GAP / 3);
      return rounded(new int[][] {{sx, fy - NODE_H / 2}, {sx, gap}, {tx, gap},
          {tx, ty + NODE_H / 2}}, 10);
    }
    if (from.row() == to.row()) {
      int dir = Integer.signum(to.column() - from.column());
      return "M" + (fx + dir * half) + "," + fy + " L" + (tx - dir * (half + 2)) + "," + ty;
    }
    // vertical, from the source's top to the target's bottom
    int fromTop = fy - NODE_H / 2;
    int toBottom = ty + NODE_H / 2 + 2;
    if (!blocked(from, to)) {
      return "M" + fx + "," + fromTop + " L" + tx + "," + toBottom;
    }
    // around the node in between: into a reverse node on the right, out of a forward node on
    // the left
    // the longer the way round, the further out, so that two such edges into one node part
    int side = reverseRows.contains(to.row()) ? 1 : -1;
    int span = to.row() - from.row();
    int sx = fx + side * half * Math.min(2 + 2 * (span - 2), 7) / 10;
    int gap = at.colW() - at.nodeW();
    int peak = fx + side * (half + gap * Math.min(3 + span - 2, 6) / 10);
    int control = (int) Math.round((peak - 0.25 * sx) / 0.75);
    int k = ROW_GAP / 2;
    return "M" + sx + "," + fromTop + " L" + sx + "," + (fromTop - 8) + " C" + control + ","
        + (fromTop - 8 - k) + " " + control + "," + (toBottom + 8 + k) + " " + sx + ","
        + (toBottom + 8) + " L" + sx + "," + toBottom;
  }

  /** The node at {@code row} and {@code column}, or null. */
  private Node at(int row, int column) {
    for (Node n : nodes.values()) {
      if (n.row() == row && n.column() == column) {
        return n;
      }
    }
    return null;
  }

  /** Whether a node sits in the column of {@code from} and {@code to}, between their rows. */
  private boolean blocked(Node from, Node to) {
    if (from.column() != to.column()) {
      return false;
    }
    for (Node n : nodes.values()) {
      if (n.column() == from.column() && n.row() > from.row() && n.row() < to.row()) {
        return true;
      }
    }
    return false;
  }

  /** A polyline through {@code points} with its corners rounded by {@code r}. */
  private static String rounded(int[][] points, int r) {
    StringBuilder sb = new StringBuilder("M" + points[0][0] + "," + points[0][1]);
    for (int i = 1; i < points.length - 1; i++) {
      int[] p = points[i];
      int[] a = toward(p, points[i - 1], r);
      int[] b = toward(p, points[i + 1], r);
      sb.append(" L").append(a[0]).append(',').append(a[1]).append(" Q").append(p[0]).append(',')
          .append(p[1]).append(' ').append(b[0]).append(',').append(b[1]);
    }
    int[] last = points[points.length - 1];
    return sb.append(" L").append(last[0]).append(',').append(last[1] + 2).toString();
  }

  /** The point {@code r} from {@code p} toward {@code q} (axis-aligned segments). */
  private static int[] toward(int[] p, int[] q, int r) {
    int dx = Integer.signum(q[0] - p[0]);
    int dy = Integer.signum(q[1] - p[1]);
    int len = Math.abs(q[0] - p[0]) + Math.abs(q[1] - p[1]);
    int d = Math.min(r, len / 2);
    return new int[] {p[0] + dx * d, p[1] + dy * d};
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

  // ---- titles ---------------------------------------------------------------------------------

  private String title() {
    return "network()." + net.spec();
  }

  private String subtitle() {
    return "stacking: " + net.stacking() + " (" + net.stacking().shortExplanation() + ")"
        + (net.handsOffStates() ? ", final states handed off" : "")
        + "; unrolled over " + steps + (steps == 1 ? " step" : " steps")
        + "; time left to right, layers bottom to top";
  }
}
