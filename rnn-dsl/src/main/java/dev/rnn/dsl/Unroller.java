package dev.rnn.dsl;

import com.google.common.collect.ImmutableList;
import dev.rnn.core.Activation;
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
 * Unrolls a network's wired stages into an {@link UnrolledGraph}: the one place where the graph
 * reads the network's structure (which stage is recurrent, where {@link Wiring} put each
 * activation, s or h, what is handed off), so that the picture shows exactly what the forward
 * pass computes.
 *
 * <p>Under {@link Stacking#STATES} an activation right after {@code recurrent(in, out)} is inside
 * the recurrent node ("relu inside"): the recurrent edge carries the activated h. Under {@link
 * Stacking#OUTPUTS} it is a node of its own after the state: the recurrent edge leaves the
 * pre-activation state s.
 */
final class Unroller {
  private final Network net;
  private final int steps;
  private final List<Row> rows = new ArrayList<>();
  private final Map<String, Node> nodes = new LinkedHashMap<>();
  private final List<Edge> edges = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();

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
      String n = String.valueOf(s.layerNumber);
      if (s instanceof Stage.RecurrentStage r) {
        String h = stateSymbol(r);
        boolean bi = r.directions.size() == 2;
        List<List<String>> next = new ArrayList<>();
        for (int k = 0; k < columns.size(); k++) {
          next.add(new ArrayList<>());
        }
        List<Node> finals = new ArrayList<>();
        for (int d = 0; d < r.directions.size(); d++) {
          boolean reverse = r.directions.get(d).reverse();
          String symbol = h + (bi ? (reverse ? "←" : "→") : "");
          String id = "l" + n + (reverse ? "r" : "");
          int row = rows.size();
          rows.add(recurrentRow(r, bi, reverse));
          for (int k = 0; k < columns.size(); k++) {
            int t = columns.get(k);
            add(new Node(id + "_" + t, NodeKind.RECURRENT, symbol, String.valueOf(t),
                recurrentDetail(r), row, t));
            for (String from : outs.get(k)) {
              edges.add(new Edge(from, id + "_" + t, EdgeKind.LAYER));
            }
            next.get(k).add(id + "_" + t);
          }
          boolean handedOff = r.handOffIn && previousFinals != null;
          String initDetail = handedOff ? "from " + previousFinals.get(d).name()
              : r.initial != null ? "learned" : "zeros";
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
        notes.add(carries(r, h, i + 1 < stages.size() ? stages.get(i + 1) : null));
        previousFinals = finals;
        outs = next;
        in = h;
      } else {
        NodeKind kind;
        String symbol = "y" + n;
        String detail;
        String rowDetail;
        if (s instanceof Stage.ActivationStage a) {
          kind = NodeKind.ACTIVATION;
          detail = a.activation.label() + "(" + in + ")";
          rowDetail = a.activation.label() + "()";
        } else if (s instanceof Stage.DenseStage d) {
          kind = NodeKind.DENSE;
          detail = d.spec.describe();
          rowDetail = detail;
        } else if (s instanceof Stage.DropoutStage d) {
          kind = NodeKind.DROPOUT;
          detail = "dropout(" + d.p + ")";
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
        rows.add(new Row("layer " + n, rowDetail, false));
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

  /** The state's symbol as {@code describe()} writes it: {@code s1} or {@code h1}. */
  private String stateSymbol(Stage.RecurrentStage r) {
    boolean linearOutputs = r.spec.kind() == Layer.Kind.LINEAR && r.inside == Activation.IDENTITY
        && net.stacking() == Stacking.OUTPUTS;
    return (linearOutputs ? "s" : "h") + r.layerNumber;
  }

  private static String recurrentDetail(Stage.RecurrentStage r) {
    switch (r.spec.kind()) {
      case LINEAR:
        return r.inside == Activation.IDENTITY ? "linear" : r.inside.label() + " inside";
      case ELMAN:
        return r.spec.activation().label() + " inside";
      case LSTM:
        return r.spec.peepholes() ? "lstm, peepholes" : "lstm, with c" + r.layerNumber;
      case GRU:
        return "gru";
      default:
        return r.spec.custom().describe();
    }
  }

  private static Row recurrentRow(Stage.RecurrentStage r, boolean bi, boolean reverse) {
    boolean absorbed = r.spec.kind() == Layer.Kind.LINEAR && r.inside != Activation.IDENTITY;
    String title = absorbed ? "layers " + r.layerNumber + "-" + (r.layerNumber + 1)
        : "layer " + r.layerNumber;
    if (bi) {
      title += reverse ? ", reverse" : ", forward";
    }
    String detail = r.spec.describe() + (absorbed ? "." + r.inside.label() + "()" : "");
    return new Row(title, bi && reverse ? "(same layer)" : detail, reverse);
  }

  /** What the recurrent edges of {@code r} carry, for the legend. */
  private String carries(Stage.RecurrentStage r, String h, Stage next) {
    String who = "layer " + r.layerNumber + ": the recurrent edges carry " + h;
    switch (r.spec.kind()) {
      case LINEAR:
        if (r.inside != Activation.IDENTITY) {
          return who + ", after " + r.inside.label() + " (inside the recurrence: "
              + net.stacking() + ")";
        }
        if (next instanceof Stage.ActivationStage a) {
          return who + ", before " + a.activation.label() + " (layer " + a.layerNumber
              + " acts on the output sequence only: " + net.stacking() + ")";
        }
        return who + " (linear: identity inside the recurrence)";
      case ELMAN:
        return who + ", after " + r.spec.activation().label() + " (inside the recurrence)";
      case LSTM:
        return who + " and c" + r.layerNumber + " (the cell state)";
      default:
        return who;
    }
  }

  private String title() {
    return "network()." + net.spec();
  }

  private String subtitle() {
    return "stacking: " + net.stacking() + (net.stacking() == Stacking.STATES
        ? " (activation inside the recurrence)" : " (activations on the output sequence)")
        + (net.handsOffStates() ? ", final states handed off" : "")
        + "; unrolled over " + steps + (steps == 1 ? " step" : " steps")
        + "; time left to right, layers bottom to top";
  }
}
