package dev.rnn.examples.train;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.examples.Main;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rnn-examples train}: a quick run end to end, and its usage errors. */
class TrainCommandTest {
  /** One run of the command line: exit code, stdout and stderr with {@code \n} line ends. */
  record Invocation(int exitCode, String out, String err) {
    static Invocation of(String... args) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int code;
      try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
          PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
        code = Main.run(o, e, args);
      }
      return new Invocation(code, normalize(out.toString(StandardCharsets.UTF_8)),
          normalize(err.toString(StandardCharsets.UTF_8)));
    }

    private static String normalize(String s) {
      return s.replace(System.lineSeparator(), "\n");
    }
  }

  @TempDir
  Path dir;

  @Test
  void aQuickRunPrintsItsResultsAndThePathsOfTheFilesItWrote() throws IOException {
    Path out = dir.resolve("new/out");
    Invocation r = Invocation.of("train", "--example", "sine", "--quick", "--epochs", "2",
        "--seed", "3", "--no-progress", "--out", out.toString());
    assertAll(
        () -> assertEquals(0, r.exitCode(), r.err()),
        () -> assertEquals("", r.err()),
        () -> assertTrue(r.out().startsWith("train sine (quick), seed 3; "), r.out()),
        () -> assertTrue(r.out().contains(", 2 epochs (16 steps, "), r.out()),
        () -> assertTrue(r.out().endsWith("wrote " + out.resolve("sine-loss.csv") + "\n"
            + "wrote " + out.resolve("sine.png") + "\n"), r.out()),
        () -> assertTrue(Files.isRegularFile(out.resolve("sine-loss.csv"))),
        () -> Quick.assertPng(out.resolve("sine.png"), 1600, 500));
  }

  @Test
  void helpListsTheExamples() {
    Invocation r = Invocation.of("train", "--help");
    assertAll(
        () -> assertEquals(0, r.exitCode()),
        () -> assertTrue(r.out().startsWith("Usage: rnn-examples train [-hV] [--no-progress]"
            + " [--quick] [--verbose]\n"), r.out()),
        () -> assertTrue(r.out().contains("\n  sine    "), r.out()),
        () -> assertTrue(r.out().contains("\n  adding  "), r.out()),
        () -> assertTrue(r.out().contains("\n  charlm  "), r.out()),
        () -> assertTrue(r.out().contains("\n  irnn    "), r.out()));
  }

  @Nested
  class WhenTheArgumentsAreBad {
    @Test
    void anUnknownExampleIsNamedWithTheKnownOnesAndExitsWithTwo() {
      Invocation r = Invocation.of("train", "--example", "sinus", "--out", dir.toString());
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("rnn-examples train: unknown example 'sinus': expected one of"
              + " sine, adding, charlm, brackets, irnn\n"
              + "Try 'rnn-examples train --help' for more information.\n", r.err()),
          () -> assertEquals("", r.out()));
    }

    @Test
    void aMissingExampleExitsWithTwo() {
      Invocation r = Invocation.of("train", "--quick");
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("rnn-examples train: Missing required option: '--example=NAME'\n"
              + "Try 'rnn-examples train --help' for more information.\n", r.err()));
    }

    @Test
    void zeroEpochsExitWithTwo() {
      Invocation r = Invocation.of("train", "--example", "sine", "--epochs", "0");
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("rnn-examples train: --epochs expected 1 to 10000 but got 0\n"
              + "Try 'rnn-examples train --help' for more information.\n", r.err()));
    }

    @Test
    void anOutputPathThatIsAFileFailsWithOneBeforeTraining() throws IOException {
      Path file = Files.writeString(dir.resolve("taken"), "x");
      Invocation r = Invocation.of("train", "--example", "sine", "--quick", "--no-progress",
          "--out", file.toString());
      assertAll(
          () -> assertEquals(1, r.exitCode()),
          () -> assertEquals("rnn-examples train: " + file + ": is not a directory\n", r.err()),
          () -> assertFalse(r.out().contains("sine:"), r.out()));
    }
  }
}
