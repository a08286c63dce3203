package dev.rnn.examples;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exact commands of the hostile probe (issue 16, items 1 to 7), each run as its own process
 * under {@code -Xmx256m}, as a user would run them: the exit code, the one-line message and, where
 * a file was aimed at, that it is still what it was. Device nodes ({@code mknod X c 1 3}, the
 * numbers of {@code /dev/null}; {@code c 1 7}, {@code /dev/full}; {@code c 1 5}, {@code /dev/zero})
 * and FIFOs are made in a temporary folder, never the system's own; where they cannot be made (not
 * root) the test is skipped. Every process must finish within {@value #SECONDS} seconds (most take
 * one: a JVM's start).
 */
class HostileCommandLineTest {
  static final int SECONDS = 60;
  static final String SECRET = "s3cr3t-value-of-the-environment";

  @TempDir
  Path dir;

  /** One finished run of {@code rnn-examples} in its own JVM. */
  record Run(int exitCode, String out, String err, long millis) {
    List<String> errLines() {
      return err.lines().toList();
    }

    /** The usage error's message line, checked to be followed by the help hint only. */
    String usageError(String command) {
      List<String> lines = errLines();
      assertEquals(2, lines.size(), err);
      assertEquals("Try 'rnn-examples " + command + " --help' for more information.",
          lines.get(1));
      return lines.get(0);
    }

    /** The failure's one line. */
    String failure() {
      assertEquals(1, errLines().size(), err);
      return errLines().get(0);
    }
  }

  /** Runs {@code rnn-examples args} in {@link #dir} under {@code -Xmx256m}. */
  Run run(String... args) throws IOException, InterruptedException {
    return runWithHeap("256m", args);
  }

  /**
   * The test class path without Spark's jars, which a -Pspark build puts there (provided: the
   * command line loads them only for fit --master), so that a small heap is the application's.
   */
  static String applicationClassPath() {
    String spark = System.getProperty("rnn.test.sparkClassPath", "");
    java.util.Set<String> leaveOut = new java.util.HashSet<>(
        List.of(spark.split(java.io.File.pathSeparator)));
    return String.join(java.io.File.pathSeparator, java.util.Arrays.stream(
        System.getProperty("java.class.path").split(java.io.File.pathSeparator))
        .filter(e -> !leaveOut.contains(e)).toList());
  }

  Run runWithHeap(String heap, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx" + heap,
        "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp", applicationClassPath(),
        Main.class.getName()));
    command.addAll(List.of(args));
    Path out = Files.createTempFile(dir, "stdout", ".txt");
    Path err = Files.createTempFile(dir, "stderr", ".txt");
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile())
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().put("RNN_PROBE_SECRET", SECRET);
    long start = System.nanoTime();
    Process p = pb.start();
    p.getOutputStream().close(); // no input
    if (!p.waitFor(SECONDS, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      fail("rnn-examples " + String.join(" ", args).substring(0,
          Math.min(200, String.join(" ", args).length())) + " did not finish in " + SECONDS
          + " s");
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    Run r = new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8), millis);
    Files.delete(out);
    Files.delete(err);
    return r;
  }

  private static boolean isCharacterDevice(Path p) throws IOException {
    return ((Integer) Files.getAttribute(p, "unix:mode") & 0170000) == 0020000;
  }

  private static boolean isFifo(Path p) throws IOException {
    return ((Integer) Files.getAttribute(p, "unix:mode") & 0170000) == 0010000;
  }

  private Path torchCase() throws IOException {
    return Files.copy(TorchCaseCommandTest.CASES.resolve("gru-float32-s8-001.safetensors"),
        dir.resolve("case.safetensors"));
  }

  @Nested
  class Item1TheAtomicWriterReplacesOnlyRegularFiles {
    @Test
    void graphOutACharacterDeviceIsRefusedAndTheDeviceKept() throws Exception {
      Path dev = SpecialFiles.characterDevice(dir.resolve("null"), 1, 3);
      Run r = run("graph", "--net", "recurrent(2,2)", "--out", "null");
      assertAll(
          () -> assertEquals(1, r.exitCode()),
          () -> assertEquals("rnn-examples graph: null: is a character device, not a regular"
              + " file: not replaced", r.failure()),
          () -> assertTrue(isCharacterDevice(dev)));
    }

    @Test
    void graphOutAFifoIsRefusedAndTheFifoKept() throws Exception {
      Path fifo = SpecialFiles.fifo(dir.resolve("pipe"));
      Run r = run("graph", "--net", "recurrent(2,2)", "--out", "pipe");
      assertAll(
          () -> assertEquals(1, r.exitCode()),
          () -> assertEquals("rnn-examples graph: pipe: is a FIFO, not a regular file: not"
              + " replaced", r.failure()),
          () -> assertTrue(isFifo(fifo)));
    }

    @Test
    void graphOutALinkToStandardOutputIsRefusedAndTheLinkKept() throws Exception {
      // The process's standard output is a regular file here: following the link would replace
      // the file a shell redirected it to.
      Path link = Files.createSymbolicLink(dir.resolve("link"), Path.of("/proc/self/fd/1"));
      Run r = run("graph", "--net", "recurrent(2,2)", "--out", "link");
      assertAll(
          () -> assertEquals(1, r.exitCode()),
          () -> assertEquals("rnn-examples graph: link: is a link to /proc/self/fd/1, an open file"
              + " of a process, not a regular file: not replaced; use - for standard output",
              r.failure()),
          () -> assertTrue(Files.isSymbolicLink(link)),
          () -> assertEquals("", r.out()));
    }

    @Test
    void graphOutDashWritesToStandardOutput() throws Exception {
      Run r = run("graph", "--net", "recurrent(2,2)", "--out", "-");
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertTrue(r.out().startsWith("// network().recurrent(2, 2)\ndigraph"), r.out()),
          () -> assertFalse(Files.exists(dir.resolve("-"))));
    }

    @Test
    void torchCaseOutTheFullDeviceIsRefusedBeforeTheRunAndTheDeviceKept() throws Exception {
      Path in = torchCase();
      Path full = SpecialFiles.characterDevice(dir.resolve("full"), 1, 7);
      Run r = run("torch-case", in.getFileName().toString(), "full");
      assertAll(
          () -> assertEquals(1, r.exitCode()),
          () -> assertEquals("rnn-examples torch-case: full: is a character device, not a regular"
              + " file: not replaced", r.failure()),
          () -> assertEquals("", r.out(), "refused before the run"),
          () -> assertTrue(isCharacterDevice(full)));
    }

    @Test
    void staleTemporaryFilesOfKilledRunsAreRemovedAndTheFileWritten() throws Exception {
      Path stale = Files.writeString(dir.resolve(".g.dot.1x2y3z.tmp"), "half of a graph");
      Files.setLastModifiedTime(stale, FileTime.from(Instant.parse("2021-06-01T00:00:00Z")));
      Path old = Files.writeString(dir.resolve("g.dot"), "the previous graph");
      Run r = run("graph", "--net", "recurrent(2,2)", "--out", "g.dot");
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertFalse(Files.exists(stale)),
          () -> assertTrue(Files.readString(old).startsWith("// network().recurrent(2, 2)")),
          () -> assertEquals(List.of("g.dot"), names()));
    }

    private List<String> names() throws IOException {
      try (var s = Files.list(dir)) {
        return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("std"))
            .sorted().toList();
      }
    }
  }

  @Nested
  class Item2SizesAreCountedInLong {
    @Test
    void describeOfAnLstmWhoseGatesOverflowAnIntIsBadUsageNamingTheLayer() throws Exception {
      Run r = run("describe", "--net", "lstm(1, 1073741824)");
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("rnn-examples describe: Invalid value for option '--net': spec"
              + " 'lstm(1, 1073741824)' at position 0: lstm(1, 1073741824) (layer 1) would have"
              + " 4611686031312289792 parameters, more than the 2147483639 a network may hold",
              r.usageError("describe")),
          () -> assertEquals("", r.out()));
    }

    @Test
    void describeOfAnLstmWhoseGatesAreTwoToThe31IsBadUsageNamingTheLayer() throws Exception {
      Run r = run("describe", "--net", "lstm(1, 536870912)");
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertTrue(r.usageError("describe").endsWith("lstm(1, 536870912) (layer 1) would"
              + " have 1152921511049297920 parameters, more than the 2147483639 a network may"
              + " hold"), r.err()));
    }
  }

  @Nested
  class Item4NonFiniteValues {
    @Test
    void seedOfInputsNearTheFloatLimitSaysTheOutputOverflowsInsteadOfPrintingNaN()
        throws Exception {
      Run r = run("seed", "--input", "[[3e38,3e38],[3e38,3e38]]");
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("rnn-examples seed: Invalid value for option '--input': the seed"
              + " network's output under stacking STATES overflows float32 at step 1 (inputs up to"
              + " 3.0E38 in magnitude): give inputs whose sums stay within 3.4e38",
              r.usageError("seed")),
          () -> assertFalse(r.out().contains("NaN"), r.out()));
    }
  }

  @Nested
  class Item5NoRawTracesOnOutOfMemory {
    @Test
    void trainForTwoBillionEpochsIsBadUsage() throws Exception {
      Run r = run("train", "--example", "sine", "--epochs", "2147483647");
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("rnn-examples train: --epochs expected 1 to 10000 but got"
              + " 2147483647", r.usageError("train")),
          () -> assertEquals("", r.out()));
    }

    @Test
    void describeOfANetworkOfSixGigabytesAllocatesNoWeights() throws Exception {
      Run r = run("describe", "--net", "recurrent(1, 40000)");
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertTrue(r.out().contains("parameters: 1600080000 in 3 tensors"), r.out()),
          () -> assertEquals("", r.err()));
    }

    @Test
    void graphOfANetworkOfSixGigabytesAllocatesNoWeights() throws Exception {
      Run r = run("graph", "--net", "recurrent(1, 40000)", "--out", "big.svg");
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertEquals("big.svg\n", r.out()),
          () -> assertTrue(Files.size(dir.resolve("big.svg")) > 0));
    }

    @Test
    void describeAndGraphOfThreeBillionNumbersAreBadUsage() throws Exception {
      Run d = run("describe", "--net", "dense(2, 1000000000)");
      Run g = run("graph", "--net", "dense(2, 1000000000)");
      String message = "Invalid value for option '--net': spec 'dense(2, 1000000000)' at"
          + " position 0: dense(2, 1000000000) (layer 1) would have 3000000000 parameters, more"
          + " than the 2147483639 a network may hold";
      assertAll(
          () -> assertEquals(2, d.exitCode()),
          () -> assertEquals("rnn-examples describe: " + message, d.usageError("describe")),
          () -> assertEquals(2, g.exitCode()),
          () -> assertEquals("rnn-examples graph: " + message, g.usageError("graph")));
    }

    @Test
    void seedOfAnInputOfTwentyThousandStepsIsBadUsage() throws Exception {
      // The probe's 9 MB input came through an @-file; an argument can hold about 128 KB.
      String input = "[" + String.join(",", Collections.nCopies(20_000, "[1,1]")) + "]";
      Run r = run("seed", "--input", input);
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("rnn-examples seed: Invalid value for option '--input': expected a"
              + " JSON list of steps, each a list of 2 numbers, e.g. [[1,1],[2,2],[3,3]], but got"
              + " 20000 steps, more than the 10000 this command runs", r.usageError("seed")));
    }

    @Test
    void runningOutOfMemoryIsOneLineSayingWhatWasBeingDoneAndHowToGiveMore()
        throws Exception {
      String spec = String.join(".", Collections.nCopies(8000, "recurrent(2,2)"));
      Run r = runWithHeap("24m", "graph", "--net", spec, "--out", "g.svg");
      assertAll(
          () -> assertEquals(1, r.exitCode(), r.err()),
          () -> assertTrue(r.failure().matches("rnn-examples graph: out of memory while drawing"
              + " recurrent\\(2, 2\\)\\.recurrent.*\\.\\.\\. over 3 steps: the JVM may use at most"
              + " [0-9]+ MB; give it more with -Xmx, e.g. java -Xmx1g -jar rnn-examples.jar \\.\\.\\."),
              r.err()),
          () -> assertFalse(Files.exists(dir.resolve("g.svg"))));
    }
  }

  @Nested
  class Item6ArgumentFilesAreOff {
    @Test
    void anAtFileOfAZeroDeviceIsAnUnknownArgumentNotAnEndlessRead() throws Exception {
      SpecialFiles.characterDevice(dir.resolve("zero"), 1, 5);
      Run r = run("seed", "@zero");
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("rnn-examples seed: Unmatched argument at index 1: '@zero'",
              r.usageError("seed")));
    }

    @Test
    void anAtFileOfADirectoryIsAnUnknownArgumentNotAStackTrace() throws Exception {
      Run r = run("seed", "@" + dir);
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("rnn-examples seed: Unmatched argument at index 1: '@" + dir + "'",
              r.usageError("seed")));
    }

    @Test
    void anAtFileOfTheEnvironmentIsNotEchoed() throws Exception {
      Run r = run("seed", "@/proc/self/environ");
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("rnn-examples seed: Unmatched argument at index 1:"
              + " '@/proc/self/environ'", r.usageError("seed")),
          () -> assertFalse(r.err().contains(SECRET) || r.out().contains(SECRET)));
    }
  }

  @Nested
  class Item7BoundedWork {
    @Test
    void graphOfEightThousandLayersTakesSeconds() throws Exception {
      // As many layers as one argument can hold (128 KB); the library draws 50,000 in a second.
      String spec = String.join(".", Collections.nCopies(8000, "recurrent(2,2)"));
      Run r = run("graph", "--net", spec, "--out", "deep.dot");
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertTrue(r.millis() < 30_000, r.millis() + " ms"),
          () -> assertTrue(Files.readString(dir.resolve("deep.dot")).contains("\"l8000_3\"")));
    }

    @Test
    void benchWithAHundredThousandThreadsIsBadUsage() throws Exception {
      Run r = run("bench", "--threads", "100000");
      int cores = Runtime.getRuntime().availableProcessors();
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("rnn-examples bench: --threads expected 1 to " + 4 * cores + " (4 x"
              + " the " + cores + " cores) but got 100000", r.usageError("bench")),
          () -> assertEquals("", r.out()));
    }

    @Test
    void benchWithAGarbageBlasCoreIsBadUsage() throws Exception {
      Run r = run("bench", "--blas-core", "garbage");
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertTrue(r.usageError("bench").startsWith("rnn-examples bench: unknown"
              + " --blas-core 'garbage'; expected auto, keep or an OpenBLAS core: Prescott,"),
              r.err()),
          () -> assertEquals("", r.out()));
    }

    @Test
    void torchCaseOfAFifoIsRefusedInsteadOfBlockingForever() throws Exception {
      Path fifo = SpecialFiles.fifo(dir.resolve("in.fifo"));
      Run r = run("torch-case", "in.fifo", "out.safetensors");
      assertAll(
          () -> assertEquals(1, r.exitCode()),
          () -> assertEquals("rnn-examples torch-case: in.fifo: is a FIFO, not a regular file",
              r.failure()),
          () -> assertTrue(isFifo(fifo)),
          () -> assertFalse(Files.exists(dir.resolve("out.safetensors"))));
    }

    @Test
    void torchCaseOfAZeroDeviceIsRefusedInsteadOfReadingForever() throws Exception {
      SpecialFiles.characterDevice(dir.resolve("zero"), 1, 5);
      Run r = run("torch-case", "zero", "out.safetensors");
      assertAll(
          () -> assertEquals(1, r.exitCode()),
          () -> assertEquals("rnn-examples torch-case: zero: is a character device, not a regular"
              + " file", r.failure()));
    }
  }

  @Test
  void aCaseRunStillWorksUnderTheSameLimits() throws Exception {
    Path in = torchCase();
    byte[] before = Files.readAllBytes(in);
    Run r = run("torch-case", "case.safetensors", "out.safetensors");
    assertAll(
        () -> assertEquals(0, r.exitCode(), r.err()),
        () -> assertTrue(r.out().endsWith(": ok; wrote out.safetensors\n"), r.out()),
        () -> assertArrayEquals(before, Files.readAllBytes(in)));
  }
}
