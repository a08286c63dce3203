package dev.rnn.autograd;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.core.DType;
import dev.rnn.core.LstmCell;
import dev.rnn.core.Scan;
import dev.rnn.core.Tensor;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * A scan in the graph: one node per step between the two ends of its backward protocol, recorded
 * in forward order and checked when run out of it.
 */
class ScanOpTest {
  private static List<Node> record(Graph g, boolean reverse) {
    Scan scan = new Scan(new LstmCell(2, 3), Scan.Direction.of(reverse), "_l0",
        DType.FLOAT64, Scan.Biases.BOTH);
    scan.initialize(new Random(1));
    ScanOp.apply(g, scan, "layer 0", g.constant(Tensor.randn(DType.FLOAT64, 1, 3, 2, 2)), null, 0, null);
    return g.recorded();
  }

  private static List<String> labels(List<Node> nodes) {
    return nodes.stream().map(Node::label).toList();
  }

  @Nested
  class WhenRecorded {
    @Test
    void theNodesAreFinishThenEveryStepThenBegin() {
      assertEquals(List.of("layer 0 input projection", "layer 0 step 0", "layer 0 step 1",
          "layer 0 step 2", "layer 0 final states"), labels(record(Graph.training(), false)));
    }

    @Test
    void aReverseScanRecordsItsStepsLastTimeFirst() {
      assertEquals(List.of("layer 0 input projection", "layer 0 reverse step 2",
          "layer 0 reverse step 1", "layer 0 reverse step 0", "layer 0 final states"),
          labels(record(Graph.training(), true)));
    }

    @Test
    void theGraphListsItsNodesByLabel() {
      Graph g = Graph.training();
      List<Node> nodes = record(g, false);
      assertEquals(labels(nodes), g.nodes());
    }

    @Test
    void afterBackwardTheGraphStillListsEveryNodeButHoldsNoneOfTheirData() {
      Graph g = Graph.training();
      Scan scan = new Scan(new LstmCell(2, 3), Scan.Direction.of(true), "_l0", DType.FLOAT64,
          Scan.Biases.BOTH);
      scan.initialize(new Random(1));
      Value out = Ops.scan(g, scan, "layer 0", g.variable(Tensor.randn(DType.FLOAT64, 1, 3, 2, 2)),
          null, 0, null).output();
      Value loss = Ops.mse(g, Ops.linear(g, out, g.variable(Tensor.randn(DType.FLOAT64, 2, 1, 3)),
          null), Tensor.zeros(DType.FLOAT64, 3, 2, 1), null);
      List<String> before = g.nodes();
      g.backward(loss);
      assertAll(
          () -> assertEquals(before, g.nodes()),
          () -> assertEquals(List.of("layer 0 input projection", "layer 0 reverse step 2",
              "layer 0 reverse step 1", "layer 0 reverse step 0", "layer 0 final states",
              "dense(3, 1)", "mse"), g.nodes()),
          () -> assertTrue(g.recorded().stream().allMatch(n -> n instanceof Node.Done),
              g.recorded()::toString),
          // The caller's value keeps its gradient.
          () -> assertEquals(List.of(3, 2, 3), List.of(out.gradient().shape().dim(0),
              out.gradient().shape().dim(1), out.gradient().shape().dim(2))),
          () -> assertThrows(IllegalStateException.class, () -> g.recorded().get(0).backward()));
    }

    @Test
    void anInferenceGraphRecordsNothing() {
      assertEquals(List.of(), record(Graph.inference(), false));
    }
  }

  @Nested
  class WhenRunOutOfOrder {
    @Test
    void aStepBeforeTheFinalStatesIsRefused() {
      List<Node> nodes = record(Graph.training(), false);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> nodes.get(3).backward());
      assertEquals("layer 0: step 2 ran before the final states node; a scan's nodes must run in"
          + " reverse recording order", e.getMessage());
    }

    @Test
    void theInputProjectionBeforeTheFinalStatesIsRefused() {
      List<Node> nodes = record(Graph.training(), false);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> nodes.get(0).backward());
      assertEquals("layer 0: the input projection ran before the final states node; a scan's"
          + " nodes must run in reverse recording order", e.getMessage());
    }

    @Test
    void stepsInForwardOrderAreRefusedNamingTheStepDue() {
      List<Node> nodes = record(Graph.training(), false);
      nodes.get(4).backward();
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> nodes.get(1).backward());
      assertAll(
          () -> assertEquals("lstm(2, 3): backward expected step 2 (steps run from T-1 = 2 down"
              + " to 0, then finish) but got step 0", e.getMessage()),
          () -> assertThrows(IllegalStateException.class, () -> nodes.get(4).backward()));
    }
  }
}
