package dev.rnn.examples.train;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The quick {@code sine} example: the LSTM learns to forecast, and the files are written. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SineTest {
  private Path dir;
  private Quick quick;
  private Sine.Result result;

  @BeforeAll
  void runQuick(@TempDir Path dir) throws IOException {
    this.dir = dir;
    quick = new Quick(dir);
    result = Sine.run(quick.setup);
  }

  @Test
  void theLossFallsBelowTheLastValueBaseline() {
    TrainingRun.Curve c = result.curve();
    assertAll(
        () -> assertTrue(c.finalTrain() < c.firstTrain() / 2,
            "train MSE fell from " + c.firstTrain() + " to " + c.finalTrain()),
        () -> assertTrue(c.finalHeldOut() < c.heldOutBefore() / 5,
            "held-out MSE fell from " + c.heldOutBefore() + " to " + c.finalHeldOut()),
        () -> assertTrue(c.finalHeldOut() < result.naive(),
            "held-out MSE " + c.finalHeldOut() + " beats the last value " + result.naive()),
        () -> assertTrue(c.finalHeldOut() > Sine.NOISE * Sine.NOISE,
            "held-out MSE " + c.finalHeldOut() + " cannot beat the noise floor"));
  }

  @Test
  void theLastValueBaselineIsNearItsExpectedValue() {
    // E[(v_{t+1} - v_t)^2] = E[2 (1 - cos w) sin^2(...)] + 2 sigma^2, about 0.08 + 0.02 here.
    assertTrue(result.naive() > 0.05 && result.naive() < 0.15, "naive MSE " + result.naive());
  }

  @Test
  void writesTheLossLogAndAPlotThatDecodes() throws IOException {
    assertEquals(List.of(dir.resolve("sine-loss.csv"), dir.resolve("sine.png")), result.files());
    List<String> csv = Quick.csvLines(dir.resolve("sine-loss.csv"),
        "run,epoch,steps,seconds,train_mse,heldout_mse");
    assertAll(
        () -> assertEquals(1 + 1 + 6, csv.size(), "header, epoch 0, 6 epochs"),
        () -> assertTrue(csv.get(1).startsWith("lstm,0,0,0.000,,"), csv.get(1)),
        () -> assertTrue(csv.get(7).startsWith("lstm,6,48,"), csv.get(7)),
        () -> Quick.assertPng(dir.resolve("sine.png"), 1600, 500),
        () -> Quick.assertNoTemporaryFiles(dir));
  }

  @Test
  void reportsTheNumbers() {
    String r = quick.report();
    assertAll(
        () -> assertTrue(r.startsWith("sine: next-step prediction of noisy sine waves, 256 train"
            + " and 64 held-out sequences of 30 steps, lstm(1, 16).dense(16, 1)"), r),
        () -> assertTrue(r.contains(String.format(Locale.ROOT,
            "  held-out MSE    %.4f (before training %.4f)", result.curve().finalHeldOut(),
            result.curve().heldOutBefore())), r),
        () -> assertTrue(r.contains(String.format(Locale.ROOT,
            "  baseline        %.4f  predict the last value",
            result.naive())), r));
  }
}
