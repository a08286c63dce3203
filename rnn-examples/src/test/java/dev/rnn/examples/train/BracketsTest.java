package dev.rnn.examples.train;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.core.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The {@code brackets} example, quick: sentences of different lengths learned, files written. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BracketsTest {
  private Path dir;
  private Quick quick;
  private Brackets.Result result;

  @BeforeAll
  void runQuick(@TempDir Path dir) throws IOException {
    this.dir = dir;
    quick = new Quick(dir);
    result = Brackets.run(quick.setup);
  }

  @Test
  void theDataAreHalfBalancedSentencesOfEvenLengths() {
    Brackets.Data d = Brackets.data(3, 40, 12);
    int balanced = 0;
    for (int n = 0; n < 40; n++) {
      Tensor s = d.sentences().get(n);
      float[] ids = new float[s.size()];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = (float) s.at(i);
      }
      int label = (int) d.labels().get(n).at(0);
      assertEquals(label == 1, Brackets.isBalanced(ids), "sentence " + n);
      assertTrue(s.size() % 2 == 0 && s.size() >= 2 && s.size() <= 12, "length " + s.size());
      balanced += label;
    }
    assertEquals(20, balanced);
  }

  @Test
  void learnsBetterThanAGuess() {
    assertAll(
        () -> assertTrue(result.accuracy() > 0.6, "accuracy " + result.accuracy()),
        () -> assertTrue(result.heldOutLoss()[result.heldOutLoss().length - 1]
            < result.heldOutLoss()[0], "the held-out loss fell"));
  }

  @Test
  void reportsAndWritesItsFiles() throws IOException {
    List<String> csv = Quick.csvLines(dir.resolve("brackets-loss.csv"),
        "run,epoch,steps,seconds,train_cross_entropy,heldout_cross_entropy");
    assertAll(
        () -> assertTrue(quick.report().contains("held-out accuracy"), quick.report()),
        () -> assertEquals(1 + 1 + 8, csv.size()),
        () -> Quick.assertPng(dir.resolve("brackets.png"), 800, 500),
        () -> Quick.assertNoTemporaryFiles(dir));
  }
}
