package dev.rnn.examples;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Review tests: command-line cases no other test covered. */
class CliReviewTest {
  static final Path CASE = TorchCaseCommandTest.CASES.resolve("gru-float32-s8-001.safetensors");

  @TempDir
  Path dir;

  @Nested
  class ShowcaseOut {
    @Test
    void aFileIsRefusedBeforeAnythingIsPrintedOrTrained() throws IOException {
      Path file = Files.writeString(dir.resolve("a file"), "keep me");
      Invocation r = Invocation.of("--out", file.toString(), "--no-progress");
      assertAll(
          () -> assertEquals(1, r.exitCode()),
          () -> assertEquals("rnn-examples: " + file + ": is not a directory\n", r.err()),
          () -> assertEquals("", r.out()),
          () -> assertEquals("keep me", Files.readString(file)));
    }

    @Test
    void aDirectoryUnderAFileIsRefusedBeforeAnythingIsPrinted() throws IOException {
      Path file = Files.writeString(dir.resolve("f"), "");
      Invocation r = Invocation.of("--out", file.resolve("sub").toString(), "--no-progress");
      assertAll(
          () -> assertEquals(1, r.exitCode()),
          () -> assertTrue(r.err().startsWith("rnn-examples: "), r.err()),
          () -> assertTrue(r.err().contains(file.toString()), r.err()),
          () -> assertEquals(1, r.err().lines().count(), r.err()),
          () -> assertEquals("", r.out()));
    }

    @Test
    void aNestedDirectoryWithSpacesThatDoesNotExistYetIsCreated() {
      Path out = dir.resolve("not yet/with spaces/out");
      Invocation r = Invocation.of("--out", out.toString(), "--no-progress");
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertEquals("", r.err()),
          () -> assertTrue(Files.size(out.resolve("sine.png")) > 0),
          () -> assertTrue(Files.size(out.resolve("graph-states.svg")) > 0),
          () -> assertTrue(r.out().contains("  " + out.resolve("graph-outputs.svg")), r.out()));
    }
  }

  @Nested
  class TrainOut {
    @Test
    void aDirectoryUnderAFileIsRefusedBeforeTraining() throws IOException {
      Path file = Files.writeString(dir.resolve("f"), "");
      Invocation r = Invocation.of("train", "--example", "sine", "--quick", "--no-progress",
          "--out", file.resolve("sub").toString());
      assertAll(
          () -> assertEquals(1, r.exitCode()),
          () -> assertTrue(r.err().startsWith("rnn-examples train: "), r.err()),
          () -> assertFalse(r.out().contains("held-out"), "trained before failing: " + r.out()));
    }

    @Test
    void aFileIsRefused() throws IOException {
      Path file = Files.writeString(dir.resolve("a file"), "keep me");
      Invocation r = Invocation.of("train", "--example", "sine", "--quick", "--no-progress",
          "--out", file.toString());
      assertAll(
          () -> assertEquals(1, r.exitCode()),
          () -> assertEquals("rnn-examples train: " + file + ": is not a directory\n", r.err()),
          () -> assertEquals("keep me", Files.readString(file)));
    }

    @Test
    void aNestedDirectoryWithSpacesIsCreated() {
      Path out = dir.resolve("a b/c d");
      Invocation r = Invocation.of("train", "--example", "sine", "--quick", "--epochs", "1",
          "--no-progress", "--out", out.toString());
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertTrue(Files.isRegularFile(out.resolve("sine-loss.csv"))),
          () -> assertTrue(r.out().contains("wrote " + out.resolve("sine.png")), r.out()));
    }
  }

  @Nested
  class TorchCaseInAndOut {
    @Test
    void theSameFileForInAndOutIsRefusedAndTheCaseIsKept() throws IOException {
      Path in = Files.copy(CASE, dir.resolve("case.safetensors"));
      byte[] before = Files.readAllBytes(in);
      Invocation r = Invocation.of("torch-case", in.toString(),
          dir.resolve(".").resolve("case.safetensors").toString());
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertTrue(r.err().startsWith("rnn-examples torch-case: IN and OUT are the same"
              + " file, " + in + ": the results would replace the case; give another OUT\n"),
              r.err()),
          () -> assertArrayEquals(before, Files.readAllBytes(in)));
    }

    @Test
    void aDirectoryAsOutIsRefusedBeforeTheRunAndLeftAlone() throws IOException {
      Path out = Files.createDirectory(dir.resolve("empty dir"));
      Invocation r = Invocation.of("torch-case", CASE.toString(), out.toString());
      assertAll(
          () -> assertEquals(1, r.exitCode()),
          () -> assertEquals("rnn-examples torch-case: " + out + ": is a directory, not a regular"
              + " file: not replaced\n",
              r.err()),
          () -> assertEquals("", r.out()),
          () -> assertTrue(Files.isDirectory(out)));
    }

    @Test
    void pathsWithSpacesWork() throws IOException {
      Path in = Files.copy(CASE, Files.createDirectory(dir.resolve("in put")).resolve("c a.st"));
      Path out = dir.resolve("out put.safetensors");
      Invocation r = Invocation.of("torch-case", in.toString(), out.toString());
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertTrue(Files.size(out) > 0),
          () -> assertTrue(r.out().endsWith(": ok; wrote " + out + "\n"), r.out()));
    }
  }

  @Test
  void graphRefusesFiftyOneStepsAndDrawsFifty() {
    Invocation bad = Invocation.of("graph", "--net", "recurrent(2,2)", "--steps", "51");
    Invocation ok = Invocation.of("graph", "--net", "recurrent(2,2)", "--steps", "50");
    assertAll(
        () -> assertEquals(2, bad.exitCode()),
        () -> assertTrue(bad.err().contains("expected 1 <= steps <= 50 but got 51"), bad.err()),
        () -> assertEquals(0, ok.exitCode(), ok.err()));
  }

  @ParameterizedTest(name = "walkthrough {0}")
  @ValueSource(strings = {"0", "5", "-1"})
  void walkthroughOutsideOneToFourIsBadUsage(String n) {
    Invocation r = Invocation.of("walkthrough", n);
    assertAll(
        () -> assertEquals(2, r.exitCode()),
        () -> assertTrue(r.err().startsWith("rnn-examples walkthrough: unknown walkthrough '" + n
            + "': expected 1 to 4"), r.err()),
        () -> assertEquals("", r.out()));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"[[NaN,1]]", "[[1,Infinity]]", "[[-Infinity,1]]", "[[1,2],[NaN,NaN]]"})
  void seedInputWithNaNOrInfinityIsBadUsage(String input) {
    Invocation r = Invocation.of("seed", "--input", input);
    assertAll(
        () -> assertEquals(2, r.exitCode()),
        () -> assertTrue(r.err().startsWith("rnn-examples seed: Invalid value for option"
            + " '--input': expected a JSON list of steps"), r.err()),
        () -> assertEquals("", r.out()));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"recurrent(2,2).", "recurrent(2,2).relu().", "."})
  void describeOfASpecWithATrailingDotIsBadUsage(String spec) {
    Invocation r = Invocation.of("describe", "--net", spec);
    assertAll(
        () -> assertEquals(2, r.exitCode()),
        () -> assertTrue(r.err().contains("at position " + (spec.length() == 1 ? 0
            : spec.length()) + ": expected a layer name but got"), r.err()),
        () -> assertEquals("", r.out()));
  }

  @Test
  void messagesOfFileErrorsNameTheFileAndWhatIsWrong() {
    assertAll(Stream.of(
        List.of(new java.nio.file.FileAlreadyExistsException("x"), "x: already exists"),
        List.of(new java.nio.file.NoSuchFileException("y"), "y: no such file or directory"))
        .map(c -> () -> assertEquals(c.get(1), Main.message((Exception) c.get(0)))));
  }
}
