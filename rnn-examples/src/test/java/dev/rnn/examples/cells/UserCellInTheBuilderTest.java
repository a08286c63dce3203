package dev.rnn.examples.cells;

import static dev.rnn.dsl.Rnn.network;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.autograd.optim.Adam;
import dev.rnn.core.DType;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.Trainer;
import org.junit.jupiter.api.Test;

/** A user-written cell goes into the builder with {@code cell(...)} and trains like lstm(). */
class UserCellInTheBuilderTest {
  /** Inputs [T, N, 1] uniform in [-1, 1] and targets: the input delayed by two steps. */
  private static Tensor[] echo(long seed, int seq, int batch) {
    Tensor x = Tensor.uniform(DType.FLOAT32, seed, -1, 1, seq, batch, 1);
    float[] y = new float[seq * batch];
    for (int t = 2; t < seq; t++) {
      for (int n = 0; n < batch; n++) {
        y[t * batch + n] = (float) x.get(t - 2, n, 0);
      }
    }
    return new Tensor[] {x, Tensor.of(y, seq, batch, 1)};
  }

  @Test
  void aLayerNormalisedLstmBuiltWithCellTrainsThroughTheTrainer() {
    Network net = network().cell(new LayerNormLstmCell(1, 16)).dense(16, 1).seed(3).build();
    Tensor[] train = echo(1, 10, 64);
    Tensor[] held = echo(2, 10, 32);
    Trainer trainer = net.trainer().loss(Trainer.Objective.MSE)
        .optimizer(ps -> Adam.builder().lr(0.02).build(ps)).epochs(40).batchSize(16).shuffle(5);
    double before = trainer.evaluate(held[0], held[1]);
    trainer.fit(train[0], train[1]);
    double after = trainer.evaluate(held[0], held[1]);
    assertAll(
        () -> assertTrue(net.describe().contains("(a user-written cell)"), net::describe),
        () -> assertEquals(2 + 2 + 6 + 2, net.parameters().size()),
        () -> assertTrue(after * 5 <= before, () -> "held-out loss " + before + " -> " + after));
  }
}
