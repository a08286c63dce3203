package dev.rnn.examples.train;

import static dev.rnn.dsl.Rnn.network;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.dsl.Network;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quick {@code charlm} example: the loss falls with full and truncated BPTT, samples are
 * text of the vocabulary, and the files are written.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CharLmTest {
  private Path dir;
  private Quick quick;
  private CharLm.Result result;

  @BeforeAll
  void runQuick(@TempDir Path dir) throws IOException {
    this.dir = dir;
    quick = new Quick(dir);
    result = CharLm.run(quick.setup);
  }

  @Nested
  class TheText {
    @Test
    void isTheShippedGenesisText() {
      String text = CharLm.text();
      assertAll(
          () -> assertEquals(37_581, text.length()),
          () -> assertTrue(text.startsWith("In the beginning God created the heaven and the"
              + " earth.\n"), text.substring(0, 60)),
          () -> assertEquals(59, CharLm.vocabulary(text).length()));
    }

    @Test
    void isCutIntoCharacterIdsAndNextCharacterTargets() {
      String vocab = "abc";
      TrainingRun.Data d = CharLm.data("abcabca", vocab, 3);
      // two sequences: "abc" -> "bca" and "abc" -> "bca"; the last character starts nothing
      assertAll(
          () -> assertEquals("[3, 2]", d.inputs().shape().toString()),
          () -> assertEquals("[3, 2]", d.targets().shape().toString()),
          () -> assertEquals(0, d.inputs().get(0, 0)),
          () -> assertEquals(2, d.inputs().get(2, 1)),
          () -> assertEquals(1, d.targets().get(0, 1)),
          () -> assertEquals(0, d.targets().get(2, 0)));
    }
  }

  @Test
  void theLossFallsWithFullAndWithTruncatedBptt() {
    assertAll(List.of(result.full(), result.truncated()).stream().map(r -> () -> assertAll(
        () -> assertTrue(r.curve().finalTrain() < r.curve().firstTrain(),
            r.name() + " train " + r.curve().firstTrain() + " -> " + r.curve().finalTrain()),
        () -> assertTrue(r.curve().finalHeldOut() < r.curve().heldOutBefore() * 0.75,
            r.name() + " held-out " + r.curve().heldOutBefore() + " -> "
                + r.curve().finalHeldOut()),
        () -> assertTrue(CharLm.bits(r.curve().finalHeldOut()) < result.unigramBits(),
            r.name() + " held-out " + CharLm.bits(r.curve().finalHeldOut())
                + " bits beats the unigram " + result.unigramBits()))));
  }

  @Test
  void truncatedBpttUpdatesOncePerChunk() {
    // 179 sequences in batches of 16: 12 batches; 40 steps in chunks of k1 = 10: 4 chunks.
    assertAll(
        () -> assertEquals(4 * 12, result.full().curve().steps()),
        () -> assertEquals(4 * 12 * 4, result.truncated().curve().steps()));
  }

  @Test
  void samplesStartWithThePromptAndUseTheVocabulary() {
    String vocab = CharLm.vocabulary(CharLm.text().substring(0, 8000));
    assertAll(List.of(result.full(), result.truncated()).stream().map(r -> () -> {
      String s = r.sample();
      assertEquals(CharLm.PROMPT.length() + 80, s.length(), s);
      assertTrue(s.startsWith(CharLm.PROMPT), s);
      assertTrue(s.chars().allMatch(c -> vocab.indexOf(c) >= 0), s);
    }));
  }

  @Test
  void samplingIsSeeded() {
    String vocab = "ab .";
    Network net = network().embedding(4, 3).lstm(3, 8).dense(8, 4).seed(3).build();
    String a = CharLm.sample(net, vocab, "ab", 30, 1.0, new Random(7));
    String b = CharLm.sample(net, vocab, "ab", 30, 1.0, new Random(7));
    String c = CharLm.sample(net, vocab, "ab", 30, 1.0, new Random(8));
    assertAll(
        () -> assertEquals(a, b),
        () -> assertNotEquals(a, c));
  }

  @Test
  void reportsBothRunsInNatsAndBits() {
    String r = quick.report();
    assertAll(
        () -> assertTrue(r.contains("\n  full BPTT T=40: 48 updates in "), r),
        () -> assertTrue(r.contains("\n  truncated BPTT k1=10 k2=20: 192 updates in "), r),
        () -> assertTrue(r.contains(String.format(java.util.Locale.ROOT,
            "    held-out  %.3f nats = %.3f bits per character",
            result.full().curve().finalHeldOut(),
            CharLm.bits(result.full().curve().finalHeldOut()))), r),
        () -> assertTrue(r.contains("      " + result.truncated().sample().split("\n")[0]), r));
  }

  @Test
  void writesTheLossLogAndAPlotThatDecodes() throws IOException {
    List<String> csv = Quick.csvLines(dir.resolve("charlm-loss.csv"),
        "run,epoch,steps,seconds,train_nats_per_char,heldout_nats_per_char");
    assertAll(
        () -> assertEquals(List.of(dir.resolve("charlm-loss.csv"), dir.resolve("charlm.png")),
            result.files()),
        () -> assertEquals(1 + 2 * (1 + 4), csv.size(), "2 runs, epochs 0 to 4"),
        () -> assertTrue(csv.get(6).startsWith("truncated BPTT k1=10 k2=20,0,0,"), csv.get(6)),
        () -> Quick.assertPng(dir.resolve("charlm.png"), 1600, 500),
        () -> Quick.assertNoTemporaryFiles(dir));
  }
}
