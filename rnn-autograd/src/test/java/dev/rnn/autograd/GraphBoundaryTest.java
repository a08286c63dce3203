package dev.rnn.autograd;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rnn.core.DType;
import dev.rnn.core.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Data into and out of a graph with the batch and time dimensions swapped on the way, in one copy:
 * the same values as a transpose and a copy.
 */
class GraphBoundaryTest {
  @Test
  void aTransposedConstantIsTheConstantOfTheTranspose() {
    Graph g = Graph.training();
    Tensor x = Tensor.randn(DType.FLOAT32, 3, 4, 5, 2);
    Value v = g.constant(x, 0, 1);
    assertAll(
        () -> assertEquals(List.of(5, 4, 2), List.of(v.dim(0), v.dim(1), v.dim(2))),
        () -> assertEquals(x.transpose(0, 1), v.tensor()),
        () -> assertEquals(x, v.tensor(0, 1)),
        () -> assertEquals(x.transpose(0, 1), g.constant(x, 1, 0).tensor()),
        () -> assertEquals(x.transpose(0, 2), g.constant(x, 0, -1).tensor()),
        () -> assertFalse(v.requiresGrad()),
        () -> assertEquals(List.of(), g.nodes()),
        () -> assertThrows(IllegalArgumentException.class, () -> g.constant(x, 0, 3)));
  }

  @Test
  void aTransposedSnapshotOfAResultIsTheTransposeOfItsSnapshot() {
    Graph g = Graph.inference();
    Tensor x = Tensor.randn(DType.FLOAT64, 5, 3, 4, 2);
    Value y = Ops.swapBatchAndTime(g, g.constant(x));
    assertAll(
        () -> assertEquals(y.tensor().transpose(0, 1), y.tensor(0, 1)),
        () -> assertEquals(x, y.tensor(0, 1)),
        () -> assertEquals(y.tensor(), y.tensor(2, 2)));
  }
}
