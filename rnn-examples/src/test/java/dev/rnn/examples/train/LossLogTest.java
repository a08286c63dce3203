package dev.rnn.examples.train;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loss log: its CSV text, its runs, and the names it refuses. */
class LossLogTest {
  private static LossLog twoRuns() {
    LossLog log = new LossLog("mse");
    log.add(new LossLog.Row("lstm T=50", 0, 0, 0, Double.NaN, 0.25));
    log.add(new LossLog.Row("lstm T=50", 1, 313, 2.4137, 0.183125, 0.1766));
    log.add(new LossLog.Row("gru T=50", 0, 0, 0, Double.NaN, 0.5));
    return log;
  }

  @Test
  void writesOneCsvLinePerRowWithEpochZeroWithoutATrainingLoss(@TempDir Path dir)
      throws IOException {
    Path csv = dir.resolve("loss.csv");
    twoRuns().writeCsv(csv);
    assertEquals(List.of(
        "run,epoch,steps,seconds,train_mse,heldout_mse",
        "lstm T=50,0,0,0.000,,0.250000",
        "lstm T=50,1,313,2.414,0.183125,0.176600",
        "gru T=50,0,0,0.000,,0.500000"), Files.readAllLines(csv));
  }

  @Test
  void groupsRowsByRunInTheOrderTheyCame() {
    LossLog log = twoRuns();
    assertAll(
        () -> assertEquals(List.of("lstm T=50", "gru T=50"), log.runs()),
        () -> assertEquals(2, log.rows("lstm T=50").size()),
        () -> assertEquals(0.5, log.rows("gru T=50").get(0).heldOut()));
  }

  @Test
  void refusesNamesThatWouldBreakTheCsv() {
    IllegalArgumentException run = assertThrows(IllegalArgumentException.class,
        () -> new LossLog("mse").add(new LossLog.Row("lstm(1, 32)", 0, 0, 0, 0, 0)));
    IllegalArgumentException loss = assertThrows(IllegalArgumentException.class,
        () -> new LossLog("bits per char"));
    assertAll(
        () -> assertEquals("run name expected no comma, quote or line break but got"
            + " 'lstm(1, 32)'", run.getMessage()),
        () -> assertEquals("loss name expected letters, digits and _ (a CSV column name) but"
            + " got 'bits per char'", loss.getMessage()));
  }
}
