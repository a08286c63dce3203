package dev.rnn.examples.train;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.examples.train.Adding.CellType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quick {@code adding} example (length 20): the gated cells learn the sum, the Elman cell's
 * gradient vanishes towards the early steps, and the files are written.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AddingTest {
  private static final int LENGTH = 20;

  private Path dir;
  private Adding.Result result;

  @BeforeAll
  void runQuick(@TempDir Path dir) throws IOException {
    this.dir = dir;
    result = Adding.run(new Quick(dir).setup);
  }

  @Nested
  class TheData {
    @Test
    void marksOneStepInEachHalfAndSumsTheirValues() {
      TrainingRun.Data d = Adding.data(5, 10, 7);
      assertEquals("[10, 7, 2]", d.inputs().shape().toString());
      assertEquals("[7, 1]", d.targets().shape().toString());
      for (int n = 0; n < 7; n++) {
        int first = 0;
        int second = 0;
        double sum = 0;
        for (int t = 0; t < 10; t++) {
          if (d.inputs().get(t, n, 1) == 1) {
            first += t < 5 ? 1 : 0;
            second += t >= 5 ? 1 : 0;
            sum += d.inputs().get(t, n, 0);
          }
        }
        int seq = n;
        double s = sum;
        int a = first;
        int b = second;
        assertAll("sequence " + seq,
            () -> assertEquals(1, a, "marks in the first half"),
            () -> assertEquals(1, b, "marks in the second half"),
            () -> assertEquals(s, d.targets().get(seq, 0), 1e-6, "target"));
      }
    }

    @Test
    void answeringOneScoresTheVarianceOfTheSum() {
      double mse = Adding.answerOneMse(Adding.data(3, 10, 20_000));
      assertEquals(Adding.BASELINE, mse, 0.005);
    }
  }

  @Nested
  class AfterTraining {
    @Test
    void lstmAndGruBeatTheBaselineOfAnsweringOne() {
      Adding.Run lstm = result.run(CellType.LSTM, LENGTH);
      Adding.Run gru = result.run(CellType.GRU, LENGTH);
      assertAll(
          () -> assertTrue(lstm.curve().finalHeldOut() < Adding.BASELINE / 10,
              "lstm held-out MSE " + lstm.curve().finalHeldOut()),
          () -> assertTrue(gru.curve().finalHeldOut() < Adding.BASELINE / 10,
              "gru held-out MSE " + gru.curve().finalHeldOut()));
    }

    @Test
    void everyCellsLossFalls() {
      assertAll(result.runs().stream().map(r -> () -> assertTrue(
          r.curve().finalTrain() < r.curve().firstTrain()
              && r.curve().finalHeldOut() < r.curve().heldOutBefore(),
          r.name() + ": train " + r.curve().firstTrain() + " -> " + r.curve().finalTrain()
              + ", held-out " + r.curve().heldOutBefore() + " -> " + r.curve().finalHeldOut())));
    }

    @Test
    void theGradientReachingTheFirstStepIsFarSmallerThroughElman() {
      double elman = result.run(CellType.ELMAN, LENGTH).flowRatioAtStart();
      double lstm = result.run(CellType.LSTM, LENGTH).flowRatioAtStart();
      double gru = result.run(CellType.GRU, LENGTH).flowRatioAtStart();
      assertAll(
          () -> assertTrue(elman < 1e-3, "elman ||dL/dh_0|| / ||dL/dh_19|| = " + elman),
          () -> assertTrue(elman * 10 < lstm, "elman " + elman + " vs lstm " + lstm),
          () -> assertTrue(elman * 10 < gru, "elman " + elman + " vs gru " + gru));
    }

    @Test
    void theGradientFlowHasOneNormPerStep() {
      assertAll(result.runs().stream().map(r -> () -> assertAll(
          () -> assertEquals(LENGTH, r.flowStart().length, r.name()),
          () -> assertEquals(LENGTH, r.flowEnd().length, r.name()))));
    }
  }

  @Test
  void writesTwoLogsAndTwoPlotsThatDecode() throws IOException {
    assertEquals(List.of(dir.resolve("adding-loss.csv"), dir.resolve("adding.png"),
        dir.resolve("adding-gradient-flow.csv"), dir.resolve("adding-gradient-flow.png")),
        result.files());
    List<String> loss = Quick.csvLines(dir.resolve("adding-loss.csv"),
        "run,epoch,steps,seconds,train_mse,heldout_mse");
    List<String> flow = Quick.csvLines(dir.resolve("adding-gradient-flow.csv"),
        "cell,length,when,t,grad_norm");
    assertAll(
        () -> assertEquals(1 + 3 * (1 + 8), loss.size(), "3 cells, epochs 0 to 8"),
        () -> assertTrue(loss.get(1).startsWith("elman T=20,0,0,"), loss.get(1)),
        () -> assertEquals(1 + 3 * 2 * LENGTH, flow.size(), "3 cells, start and end, 20 steps"),
        () -> assertTrue(flow.get(1).startsWith("elman,20,start,0,"), flow.get(1)),
        () -> Quick.assertPng(dir.resolve("adding.png"), 800, 500),
        () -> Quick.assertPng(dir.resolve("adding-gradient-flow.png"), 800, 1000),
        () -> Quick.assertNoTemporaryFiles(dir));
  }
}
