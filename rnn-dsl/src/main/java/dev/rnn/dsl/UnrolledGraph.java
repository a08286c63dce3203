package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkState;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * A network's computation unrolled over T time steps, as an immutable grid: its nodes at (row =
 * layer, column = step), its edges, and the title and notes that explain them. {@link Unroller}
 * builds it from the network's wired stages (the only place that reads them); {@link DotWriter}
 * and {@link SvgWriter} draw it, for {@link Network#graph(int)} and {@link Network#graphSvg(int)}.
 *
 * <p>Nodes: the input {@code x_t} per step; per stage and step one node ({@code h1_t}, or {@code
 * s1_t} for a linear recurrent layer under {@link Stacking#OUTPUTS}, as {@code describe()} names
 * them; {@code y2_t} for an activation, dense or dropout stage); {@code lastStep()} and what
 * follows it one node each; per recurrent stage and direction its initial state {@code h1_0}.
 * Edges: layer to layer at the same step; recurrent, across time within a recurrent stage ({@code
 * h_{t-1} -> h_t}, or {@code h_{t+1} -> h_t} in the reverse direction); initial state to the first
 * step; and with {@code handOffStates()} the final state of one recurrent stage to the initial
 * state of the next.
 *
 * <p>Grid: column = time step (column 0 the initial states, column T + 1 the initial states of
 * reverse directions), row = layer, row 0 the input; a bidirectional stage has two rows, forward
 * below reverse. At most one node sits in each cell.
 */
final class UnrolledGraph {
  /** The most steps drawn: beyond that the picture is unreadable. */
  static final int MAX_STEPS = 50;

  /** What a node computes; decides its colour. */
  enum NodeKind {
    INPUT, RECURRENT, INITIAL, ACTIVATION, DENSE, DROPOUT, LAST_STEP;

    /** The class name both drawings give the node, e.g. {@code last-step}. */
    String css() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
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

    /** The class name both drawings give the edge. */
    final String css;
    /** What the edge means, for a legend. */
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

  /**
   * The label of a row, at the left: {@code layer 1} and {@code recurrent(2, 2)}; {@code reverse}
   * for the row of a reverse direction.
   */
  record Row(String title, String detail, boolean reverse) {}

  private static final Comparator<Node> BY_COLUMN = Comparator.comparingInt(Node::column);
  private static final Comparator<Node> BY_ROW = Comparator.comparingInt(Node::row);

  private final int steps;
  private final String title;
  private final String subtitle;
  private final ImmutableList<String> notes;
  private final boolean handsOffStates;
  private final ImmutableList<Row> rows;
  private final ImmutableMap<String, Node> nodes;
  private final ImmutableList<Edge> edges;
  /** Per row, its nodes left to right. */
  private final ImmutableList<ImmutableList<Node>> byRow;
  /** Per column 0 to T + 1, its nodes bottom to top. */
  private final ImmutableList<ImmutableList<Node>> byColumn;
  /** Per column, the rows of its nodes, ascending. */
  private final int[][] rowsInColumn;

  /**
   * The graph of {@code nodes} (in drawing order) and {@code edges} between them.
   *
   * @param notes per recurrent stage, what its recurrent edges carry
   * @param handsOffStates whether the network hands final states on (whether or not an edge does)
   */
  UnrolledGraph(int steps, String title, String subtitle, List<String> notes,
      boolean handsOffStates, List<Row> rows, Collection<Node> nodes, List<Edge> edges) {
    this.steps = steps;
    this.title = title;
    this.subtitle = subtitle;
    this.notes = ImmutableList.copyOf(notes);
    this.handsOffStates = handsOffStates;
    this.rows = ImmutableList.copyOf(rows);
    ImmutableMap.Builder<String, Node> byId = ImmutableMap.builderWithExpectedSize(nodes.size());
    List<List<Node>> inRow = buckets(rows.size());
    List<List<Node>> inColumn = buckets(steps + 2);
    for (Node n : nodes) {
      byId.put(n.id(), n);
      inRow.get(n.row()).add(n);
      inColumn.get(n.column()).add(n);
    }
    this.nodes = byId.buildOrThrow();
    this.edges = ImmutableList.copyOf(edges);
    this.byRow = sorted(inRow, BY_COLUMN);
    this.byColumn = sorted(inColumn, BY_ROW);
    this.rowsInColumn = new int[byColumn.size()][];
    for (int c = 0; c < byColumn.size(); c++) {
      rowsInColumn[c] = byColumn.get(c).stream().mapToInt(Node::row).toArray();
      for (int k = 1; k < rowsInColumn[c].length; k++) {
        checkState(rowsInColumn[c][k - 1] != rowsInColumn[c][k],
            "two nodes at row %s, column %s", rowsInColumn[c][k], c);
      }
    }
    for (Edge e : this.edges) {
      checkState(this.nodes.containsKey(e.from()) && this.nodes.containsKey(e.to()),
          "edge %s joins a node the graph does not have", e);
    }
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
    return Unroller.unroll(net, steps);
  }

  /** {@link Network#graph(int)}. */
  static String dot(Network net, int steps) {
    return DotWriter.write(of(net, steps, "graph(steps)"));
  }

  /** {@link Network#graphSvg(int)}. */
  static String svg(Network net, int steps) {
    return SvgWriter.write(of(net, steps, "graphSvg(steps)"));
  }

  /** {@return T, the number of steps unrolled} */
  int steps() {
    return steps;
  }

  /** {@return the title: the network's spec} */
  String title() {
    return title;
  }

  /** {@return the line under the title: stacking, hand-off, steps and the directions} */
  String subtitle() {
    return subtitle;
  }

  /** {@return per recurrent stage, in order, what its recurrent edges carry} */
  ImmutableList<String> notes() {
    return notes;
  }

  /** {@return whether the network hands its final states on, whether or not an edge shows it} */
  boolean handsOffStates() {
    return handsOffStates;
  }

  /** {@return the rows, bottom (the input) to top} */
  ImmutableList<Row> rows() {
    return rows;
  }

  /** {@return the nodes, in drawing order: stage by stage, as the network computes them} */
  ImmutableList<Node> nodes() {
    return nodes.values().asList();
  }

  /** {@return the node with id {@code id}} */
  Node node(String id) {
    return nodes.get(id);
  }

  /** {@return the edges, in drawing order} */
  ImmutableList<Edge> edges() {
    return edges;
  }

  /** {@return the nodes of row {@code row}, left to right} */
  ImmutableList<Node> row(int row) {
    return byRow.get(row);
  }

  /** {@return the nodes of column {@code column} (0 to T + 1), bottom to top} */
  ImmutableList<Node> column(int column) {
    return byColumn.get(column);
  }

  /**
   * Whether a node sits in {@code column} strictly between rows {@code from} and {@code to}: a
   * binary search, so that routing every edge stays linear in the number of layers.
   */
  boolean occupiedBetween(int column, int from, int to) {
    int[] rs = rowsInColumn[column];
    int k = Arrays.binarySearch(rs, from + 1);
    int next = k >= 0 ? k : -k - 1;
    return next < rs.length && rs[next] < to;
  }

  private static List<List<Node>> buckets(int n) {
    List<List<Node>> b = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      b.add(new ArrayList<>());
    }
    return b;
  }

  private static ImmutableList<ImmutableList<Node>> sorted(List<List<Node>> buckets,
      Comparator<Node> order) {
    ImmutableList.Builder<ImmutableList<Node>> b = ImmutableList.builderWithExpectedSize(
        buckets.size());
    for (List<Node> bucket : buckets) {
      bucket.sort(order);
      b.add(ImmutableList.copyOf(bucket));
    }
    return b.build();
  }
}
