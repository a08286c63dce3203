package dev.rnn.dsl;

import com.google.common.collect.ImmutableList;
import dev.rnn.dsl.UnrolledGraph.Edge;
import dev.rnn.dsl.UnrolledGraph.EdgeKind;
import dev.rnn.dsl.UnrolledGraph.Node;
import dev.rnn.dsl.UnrolledGraph.NodeKind;
import dev.rnn.dsl.UnrolledGraph.Row;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Unrolls a network's wired {@link Stage} records into an {@link UnrolledGraph}: a visitor that
 * reads what {@link Wiring} decided (where each activation sits, s or h, where an initial state
 * comes from) and decides nothing again, so that the picture shows exactly what the forward pass
 * computes.
 *
 * <p>Under {@link Stacking#STATES} an activation right after {@code recurrent(in, out)} is inside
 * the recurrent node ("relu inside"): the recurrent edge carries the activated h. Under {@link
 * Stacking#OUTPUTS} it is a node of its own after the state: the recurrent edge leaves the
 * pre-activation state s.
 */
final class Unroller implements Stage.Visitor<Void> {
  private final Network net;
  private final int steps;
  private final List<Row> rows = new ArrayList<>();
  private final Map<String, Node> nodes = new LinkedHashMap<>();
  private final List<Edge> edges = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  /** The step columns of the sequence between two stages: 1..T, or T alone after lastStep(). */
  private List<Integer> columns = new ArrayList<>();
  /**
   * {@code outs.get(i)}: the ids of the nodes whose outputs make step {@code columns.get(i)} of
   * the sequence between two stages (two ids after a bidirectional stage, [forward, reverse]).
   */
  private List<List<String>> outs = new ArrayList<>();
  /** The symbol of the sequence flowing into the next stage. */
  private String in = "x";
  private boolean perStep = true;
  /** The final nodes of the previous recurrent stage, per direction, for hand-off. */
  private List<Node> previousFinals;
  /** The stage after the one being visited, or null. */
  private Stage next;

  private Unroller(Network net, int steps) {
    this.net = net;
    this.steps = steps;
  }

  /** The graph of {@code net} over {@code steps} steps (checked by the caller). */
  static UnrolledGraph unroll(Network net, int steps) {
    Unroller u = new Unroller(net, steps);
    u.unroll();
    return new UnrolledGraph(steps, u.title(), u.subtitle(), u.notes, net.handsOffStates(),
        u.rows, u.nodes.values(), u.edges);
  }

  private void unroll() {
    rows.add(new Row("input", "x [" + net.inputSize() + "]", false));
    for (int t = 1; t <= steps; t++) {
      columns.add(t);
      outs.add(List.of(add(new Node("x_" + t, NodeKind.INPUT, "x", String.valueOf(t), "input",
          0, t)).id()));
    }
    ImmutableList<Stage> stages = net.stages();
    for (int i = 0; i < stages.size(); i++) {
      next = i + 1 < stages.size() ? stages.get(i + 1) : null;
      stages.get(i).accept(this);
    }
  }

  @Override public Void recurrent(Stage.Recurrent r) {
    String n = String.valueOf(r.layer());
    String h = r.symbol();
    boolean bi = r.bidirectional();
    List<List<String>> nextOuts = new ArrayList<>();
    for (int k = 0; k < columns.size(); k++) {
      nextOuts.add(new ArrayList<>());
    }
    List<Node> finals = new ArrayList<>();
    for (int d = 0; d < r.directions().size(); d++) {
      boolean reverse = r.directions().get(d).reverse();
      String symbol = h + (bi ? (reverse ? "←" : "→") : "");
      String id = "l" + n + (reverse ? "r" : "");
      int row = rows.size();
      rows.add(recurrentRow(r, reverse));
      for (int k = 0; k < columns.size(); k++) {
        int t = columns.get(k);
        add(new Node(id + "_" + t, NodeKind.RECURRENT, symbol, String.valueOf(t),
            r.graphDetail(), row, t));
        for (String from : outs.get(k)) {
          edges.add(new Edge(from, id + "_" + t, EdgeKind.LAYER));
        }
        nextOuts.get(k).add(id + "_" + t);
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
    notes.add(r.carries(next, net.stacking()));
    previousFinals = finals;
    outs = nextOuts;
    in = h;
    return null;
  }

  @Override public Void pointwise(Stage.Pointwise a) {
    String label = a.activation().label();
    return perStage(a, NodeKind.ACTIVATION, "y" + a.layer(), label + "(" + in + ")",
        label + "()");
  }

  @Override public Void dense(Stage.Dense d) {
    return perStage(d, NodeKind.DENSE, "y" + d.layer(), d.written(), d.written());
  }

  @Override public Void embedding(Stage.Embedding e) {
    return perStage(e, NodeKind.DENSE, "e" + e.layer(), e.written(), e.written() + ", a row per"
        + " id");
  }

  @Override public Void dropout(Stage.Dropout d) {
    return perStage(d, NodeKind.DROPOUT, "y" + d.layer(), d.written(),
        d.written() + ", in training");
  }

  @Override public Void lastStep(Stage.LastStep l) {
    // from here on, one node per stage, at the last step's column
    perStep = false;
    columns = List.of(steps);
    outs = List.of(outs.get(outs.size() - 1));
    return perStage(l, NodeKind.LAST_STEP, "y", "step " + steps + " only", l.written());
  }

  /** A row of one node per step (one node in all after lastStep()) for a stage. */
  private Void perStage(Stage s, NodeKind kind, String symbol, String detail, String rowDetail) {
    String n = String.valueOf(s.layer());
    int row = rows.size();
    rows.add(new Row("layer " + n, rowDetail, false));
    List<List<String>> nextOuts = new ArrayList<>();
    for (int k = 0; k < columns.size(); k++) {
      int t = columns.get(k);
      String id = perStep ? "l" + n + "_" + t : "l" + n;
      add(new Node(id, kind, symbol, perStep ? String.valueOf(t) : "", detail, row, t));
      for (String from : outs.get(k)) {
        edges.add(new Edge(from, id, EdgeKind.LAYER));
      }
      nextOuts.add(List.of(id));
    }
    outs = nextOuts;
    in = symbol;
    return null;
  }

  private Node add(Node node) {
    nodes.put(node.id(), node);
    return node;
  }

  private static Row recurrentRow(Stage.Recurrent r, boolean reverse) {
    String title = r.absorbed() ? "layers " + r.layer() + "-" + (r.layer() + 1)
        : "layer " + r.layer();
    if (r.bidirectional()) {
      title += reverse ? ", reverse" : ", forward";
    }
    return new Row(title, r.bidirectional() && reverse ? "(same layer)" : r.written(), reverse);
  }

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
