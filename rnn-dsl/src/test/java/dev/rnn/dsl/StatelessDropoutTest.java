package dev.rnn.dsl;

import static dev.rnn.dsl.Rnn.network;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.rnn.autograd.Graph;
import dev.rnn.core.DType;
import dev.rnn.core.Tensor;
import org.junit.jupiter.api.Test;

/** Dropout masks come from the graph's seed: the network keeps no random state between calls. */
class StatelessDropoutTest {
  private static final Network NET =
      network().lstm(2, 8).dropout(0.5).dense(8, 2).seed(1).build();
  private static final Tensor X = Tensor.randn(DType.FLOAT32, 2, 5, 3, 2);

  private static Tensor trainingForward(long seed) {
    Graph g = Graph.training(seed);
    return NET.forward(g, g.constant(X), null, 0).output().tensor();
  }

  @Test
  void theSameGraphSeedGivesTheSameMasksWhateverRanBefore() {
    Tensor first = trainingForward(7);
    trainingForward(8);
    NET.forward(X);
    Tensor again = trainingForward(7);
    assertAll(
        () -> assertEquals(first, again),
        () -> assertNotEquals(first, trainingForward(8)),
        () -> assertNotEquals(NET.forward(X), first, "inference has no dropout"));
  }
}
