package dev.rnn.dsl;

import dev.rnn.dsl.UnrolledGraph.Edge;
import dev.rnn.dsl.UnrolledGraph.EdgeKind;
import dev.rnn.dsl.UnrolledGraph.Node;

/**
 * The geometry of {@link SvgWriter}'s drawing: where the cell of each (row, column) of an {@link
 * UnrolledGraph} lies, time left to right and layers bottom to top, and the path of each edge
 * between cells, around the nodes in its way.
 */
final class SvgGrid {
  /** The height of a node. */
  static final int NODE_H = 44;
  /** The space between two rows. */
  static final int ROW_GAP = 46;
  private static final int COL_GAP = 50;
  /** Wider: edges around the nodes of bidirectional stages pass between the columns. */
  private static final int COL_GAP_BIDIRECTIONAL = 76;

  private final UnrolledGraph graph;
  private final int x0;
  private final int top;
  private final int nodeW;
  private final int colGap;
  private final int colW;
  private final int rowH;
  private final int minCol;
  private final int maxCol;

  /**
   * The grid of {@code graph} with its left edge at {@code x0}, its top at {@code top} and nodes
   * {@code nodeW} wide.
   */
  SvgGrid(UnrolledGraph graph, int x0, int top, int nodeW) {
    this.graph = graph;
    this.x0 = x0;
    this.top = top;
    this.nodeW = nodeW;
    this.colGap = graph.rows().stream().anyMatch(UnrolledGraph.Row::reverse)
        ? COL_GAP_BIDIRECTIONAL : COL_GAP;
    this.colW = nodeW + colGap;
    this.rowH = NODE_H + ROW_GAP;
    int min = Integer.MAX_VALUE;
    int max = 0;
    for (Node n : graph.nodes()) {
      min = Math.min(min, n.column());
      max = Math.max(max, n.column());
    }
    this.minCol = min;
    this.maxCol = max;
  }

  /** {@return the width of a node} */
  int nodeW() {
    return nodeW;
  }

  /** {@return the leftmost column with a node} */
  int minCol() {
    return minCol;
  }

  /** {@return the rightmost column with a node} */
  int maxCol() {
    return maxCol;
  }

  /** {@return the width of the grid, from the left of the first column to the right of the last} */
  int width() {
    return (maxCol - minCol + 1) * colW - colGap;
  }

  /** {@return the x of the grid's right end} */
  int right() {
    return x0 + width();
  }

  /** {@return the height of the grid, from the top of the top row to the bottom of row 0} */
  int height() {
    return graph.rows().size() * rowH - ROW_GAP;
  }

  /** {@return the x of the centre of column {@code column}} */
  int cx(int column) {
    return x0 + (column - minCol) * colW + nodeW / 2;
  }

  /** {@return the y of the centre of row {@code row}} */
  int cy(int row) {
    return top + (graph.rows().size() - 1 - row) * rowH + NODE_H / 2;
  }

  /** {@return the SVG path data of {@code e}} */
  String path(Edge e) {
    Node from = graph.node(e.from());
    Node to = graph.node(e.to());
    int half = nodeW / 2;
    int fx = cx(from.column());
    int fy = cy(from.row());
    int tx = cx(to.column());
    int ty = cy(to.row());
    if (e.kind() == EdgeKind.HANDOFF) {
      // up into the gap above the source row, along it to the target's column, up to the target
      boolean reverse = to.column() > from.column();
      int sx = fx + (reverse ? -1 : 1) * nodeW * 3 / 10;
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
    if (from.column() != to.column()
        || !graph.occupiedBetween(from.column(), from.row(), to.row())) {
      return "M" + fx + "," + fromTop + " L" + tx + "," + toBottom;
    }
    // around the node in between: into a reverse node on the right, out of a forward node on
    // the left
    // the longer the way round, the further out, so that two such edges into one node part
    int side = graph.rows().get(to.row()).reverse() ? 1 : -1;
    int span = to.row() - from.row();
    int sx = fx + side * half * Math.min(2 + 2 * (span - 2), 7) / 10;
    int gap = colW - nodeW;
    int peak = fx + side * (half + gap * Math.min(3 + span - 2, 6) / 10);
    int control = (int) Math.round((peak - 0.25 * sx) / 0.75);
    int k = ROW_GAP / 2;
    return "M" + sx + "," + fromTop + " L" + sx + "," + (fromTop - 8) + " C" + control + ","
        + (fromTop - 8 - k) + " " + control + "," + (toBottom + 8 + k) + " " + sx + ","
        + (toBottom + 8) + " L" + sx + "," + toBottom;
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
}
