package dev.rnn.examples.train;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.core.Tensor;
import dev.rnn.dsl.Network;
import dev.rnn.examples.train.Irnn.Model;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code irnn} example: the IRNN's initial weights are Le et al.'s, built through the DSL, and
 * the quick run (length 30) trains the four models and writes its files.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IrnnTest {
  private Path dir;
  private Quick quick;
  private Irnn.Result result;

  @BeforeAll
  void runQuick(@TempDir Path dir) throws IOException {
    this.dir = dir;
    quick = new Quick(dir);
    result = Irnn.run(quick.setup);
  }

  @Nested
  class TheIrnn {
    final Network net = Model.IRNN.build(100, 3);

    @Test
    void isAReluElmanLayerWithAReadOutWrittenInTheDsl() {
      assertEquals("elman(2, 100, relu).lastStep().dense(100, 1)", net.spec());
    }

    @Test
    void startsFromTheIdentityZeroBiasesAndSmallInputWeightsSetByTheBuildersInitializers() {
      Tensor whh = net.parameter("weight_hh_l0");
      Tensor wih = net.parameter("weight_ih_l0");
      Tensor dense = net.parameter("dense0.weight");
      double sumOfSquares = wih.mul(wih).sum() + dense.mul(dense).sum();
      double std = Math.sqrt(sumOfSquares / (wih.size() + dense.size()));
      boolean identity = true;
      for (int i = 0; i < 100; i++) {
        for (int j = 0; j < 100; j++) {
          identity &= whh.get(i, j) == (i == j ? 1 : 0);
        }
      }
      boolean isIdentity = identity;
      assertAll(
          () -> assertTrue(isIdentity, "weight_hh_l0 is the identity"),
          () -> assertEquals(0, net.parameter("bias_ih_l0").map(Math::abs).sum()),
          () -> assertEquals(0, net.parameter("bias_hh_l0").map(Math::abs).sum()),
          () -> assertEquals(0, net.parameter("dense0.bias").map(Math::abs).sum()),
          // 300 samples of N(0, 0.001^2): the sample std within 15% of 0.001
          () -> assertEquals(Irnn.INPUT_STD, std, 0.15 * Irnn.INPUT_STD, "std " + std));
    }

    @Test
    void isSeeded() {
      Network again = Model.IRNN.build(100, 3);
      Network other = Model.IRNN.build(100, 4);
      assertAll(
          () -> assertEquals(net.parameter("weight_ih_l0"), again.parameter("weight_ih_l0")),
          () -> assertTrue(!net.parameter("weight_ih_l0").equals(
              other.parameter("weight_ih_l0"))));
    }

    @Test
    void carriesItsStateUnchangedWithoutInput() {
      Network small = Model.IRNN.build(4, 5);
      // zero input: h_t = relu(I h_{t-1}) = h_{t-1} for h >= 0; from zeros it stays zero
      Tensor y = small.forward(Tensor.zeros(dev.rnn.core.DType.FLOAT32, 150, 1, 2));
      assertEquals(0, y.map(Math::abs).sum());
    }
  }

  @Test
  void trainsTheFourModelsAndReportsEach() {
    List<String> lines = quick.report().lines().toList();
    assertAll(
        () -> assertEquals(4, result.runs().size()),
        () -> assertEquals(30, result.length()),
        () -> assertTrue(lines.get(0).startsWith("irnn: the adding problem at T = 30"),
            lines.get(0)),
        () -> assertTrue(lines.get(3).startsWith("  elman(2, 16, relu) "), lines.get(3)),
        () -> assertTrue(lines.get(6).startsWith("  gru(2, 16) "), lines.get(6)),
        () -> assertAll(result.runs().stream().map(r -> () -> assertTrue(
            Double.isFinite(r.curve().finalHeldOut()) && r.curve().steps() == 4 * 125,
            r.layer() + ": " + r.curve().finalHeldOut() + " after " + r.curve().steps()))));
  }

  @Test
  void writesTheLossLogAndThePlot() throws IOException {
    assertEquals(List.of(dir.resolve("irnn-loss.csv"), dir.resolve("irnn.png")),
        result.files());
    List<String> csv = Quick.csvLines(dir.resolve("irnn-loss.csv"),
        "run,epoch,steps,seconds,train_mse,heldout_mse");
    assertAll(
        () -> assertEquals(1 + 4 * 5, csv.size()),
        () -> Quick.assertPng(dir.resolve("irnn.png"), 800, 500),
        () -> Quick.assertNoTemporaryFiles(dir));
  }
}
