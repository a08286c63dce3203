package dev.rnn.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.collect.ImmutableMap;
import dev.rnn.core.Safetensors;
import dev.rnn.core.SafetensorsFile;
import dev.rnn.core.Tensor;
import dev.rnn.core.TorchCase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code rnn-examples torch-case IN OUT}: results, comparison, exit codes and error messages. */
class TorchCaseCommandTest {
  /** The torch cases of rnn-core; tests run in the module directory. */
  static final Path CASES = Path.of("../rnn-core/src/test/resources/torch-cases");

  /** The 40 cases of format 2 (variable lengths, projections). */
  static final Path CASES_V2 = Path.of("../rnn-core/src/test/resources/torch-cases-v2");

  static List<Path> cases() throws IOException {
    return list(CASES);
  }

  /** The cases of both formats. */
  static List<Path> allCases() throws IOException {
    List<Path> all = new java.util.ArrayList<>(list(CASES));
    all.addAll(list(CASES_V2));
    return all;
  }

  private static List<Path> list(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
    }
  }

  @Test
  void thereAre40CasesOfFormat2() throws IOException {
    assertEquals(40, list(CASES_V2).size(), () -> "cases in " + CASES_V2.toAbsolutePath());
  }

  @TempDir
  Path dir;

  @Test
  void thereAre32Cases() throws IOException {
    assertEquals(32, cases().size(), () -> "cases in " + CASES.toAbsolutePath());
  }

  @Nested
  class OnEveryTorchCase {
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.examples.TorchCaseCommandTest#allCases")
    void exitsWithZeroAndWritesResultsThatMatchTorch(Path in) throws IOException {
      Path out = dir.resolve("out.safetensors");
      Invocation r = Invocation.of("torch-case", in.toString(), out.toString());
      TorchCase c = TorchCase.read(in);
      Map<String, Tensor> expected = c.expected();
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.out()),
          () -> assertEquals("", r.err()),
          () -> assertEquals(expected.size() + 1, r.outLines().size(), r.out()),
          () -> assertFalse(r.out().contains("FAIL"), r.out()),
          () -> assertTrue(r.outLines().get(r.outLines().size() - 1).startsWith(
              in + ": " + expected.size() + " of " + expected.size() + " within tolerance ("
                  + c.dtype().torchName() + ": "), r.out()));
      SafetensorsFile written = Safetensors.read(out);
      List<Executable> checks = new ArrayList<>();
      checks.add(() -> assertEquals(ImmutableMap.of(
          "format", "rnn-torch-case-result/1",
          "mode", c.stack().mode().torchName(),
          "dtype", c.dtype().torchName()), written.metadata()));
      for (Map.Entry<String, Tensor> e : expected.entrySet()) {
        String name = e.getKey();
        checks.add(() -> {
          assertTrue(written.find(name).isPresent(), () -> "OUT has no " + name);
          Tensor actual = written.tensor(name);
          assertEquals(c.dtype(), actual.dtype(), name + " dtype");
          assertEquals(e.getValue().shape(), actual.shape(), name + " shape");
          assertTrue(c.close(actual, e.getValue()),
              () -> name + " max abs error " + actual.maxAbsDiff(e.getValue()));
        });
      }
      assertAll(checks);
    }
  }

  @Nested
  class WhenAnExpectedTensorIsPerturbed {
    @ParameterizedTest(name = "{0} with {1} off by 0.01")
    @CsvSource({
        "gru-float64-s7-001.safetensors, h_n",
        "lstm-float32-s8-007.safetensors, grad.input"})
    void printsFailForItExitsWithOneAndStillWritesOut(String file, String perturbed)
        throws IOException {
      Path in = perturbedCopy(CASES.resolve(file), "expected." + perturbed, 0.01);
      Path out = dir.resolve("out.safetensors");
      Invocation r = Invocation.of("torch-case", in.toString(), out.toString());
      List<String> lines = r.outLines();
      List<String> failing = lines.stream().filter(l -> l.endsWith("  FAIL")).toList();
      assertAll(
          () -> assertEquals(1, r.exitCode(), r.out()),
          () -> assertEquals("", r.err()),
          () -> assertEquals(1, failing.size(), r.out()),
          () -> assertTrue(failing.get(0).startsWith(perturbed + " "), r.out()),
          () -> assertTrue(failing.get(0).contains("  max abs error 1.00e-02  "), r.out()),
          () -> assertTrue(lines.get(lines.size() - 1).contains(": FAIL " + perturbed + "; wrote "
              + out), r.out()),
          () -> assertTrue(Files.exists(out), "OUT is still written"));
    }

    /** A copy of {@code source} in the temp dir with {@code 0.01} added to tensor {@code name}. */
    private Path perturbedCopy(Path source, String name, double delta) throws IOException {
      SafetensorsFile f = Safetensors.read(source);
      Map<String, Tensor> tensors = new LinkedHashMap<>(f.tensors());
      Tensor t = tensors.get(name);
      tensors.put(name, t.add(Tensor.full(t.dtype(), delta, t.shape().dims())));
      Path copy = dir.resolve("perturbed-" + source.getFileName());
      Safetensors.write(copy, tensors, f.metadata());
      return copy;
    }
  }

  @Nested
  class WhenTheCaseCannotBeRead {
    @Test
    void aMissingFileIsNamedAndExitsWithOne() {
      Path in = dir.resolve("missing.safetensors");
      Path out = dir.resolve("out.safetensors");
      Invocation r = Invocation.of("torch-case", in.toString(), out.toString());
      assertAll(
          () -> assertEquals(1, r.exitCode()),
          () -> assertEquals(
              "rnn-examples torch-case: " + in + ": no such file or directory\n", r.err()),
          () -> assertEquals("", r.out()),
          () -> assertNothingWritten());
    }

    @Test
    void aFileThatIsNotSafetensorsIsNamedAndExitsWithOne() throws IOException {
      Path in = textFile();
      Path out = dir.resolve("out.safetensors");
      Invocation r = Invocation.of("torch-case", in.toString(), out.toString());
      assertAll(
          () -> assertEquals(1, r.exitCode()),
          () -> assertEquals("rnn-examples torch-case: " + in
              + ": header length 8367736964726416744 is over the limit of 100000000 bytes\n",
              r.err()),
          () -> assertEquals("", r.out()),
          () -> assertFalse(Files.exists(out), "OUT written"));
    }

    @Test
    void aDirectoryIsNamedAndExitsWithOne() {
      Path out = dir.resolve("out.safetensors");
      Invocation r = Invocation.of("torch-case", dir.toString(), out.toString());
      assertAll(
          () -> assertEquals(1, r.exitCode()),
          () -> assertEquals("rnn-examples torch-case: " + dir
              + ": is a directory, not a case file\n", r.err()),
          () -> assertNothingWritten());
    }

    @Test
    void aMissingOutputDirectoryIsNamedBeforeAnyWork() {
      Path out = dir.resolve("no-such-dir").resolve("out.safetensors");
      Invocation r = Invocation.of("torch-case", CASES.resolve("gru-float64-s7-001.safetensors")
          .toString(), out.toString());
      assertAll(
          () -> assertEquals(1, r.exitCode()),
          () -> assertEquals("rnn-examples torch-case: " + out + ": cannot write, directory "
              + out.getParent().toAbsolutePath() + " does not exist\n", r.err()),
          () -> assertNothingWritten());
    }

    @Test
    void anExistingOutIsLeftAsItWas() throws IOException {
      Path out = dir.resolve("out.safetensors");
      byte[] before = "previous results".getBytes(UTF_8);
      Files.write(out, before);
      Invocation r = Invocation.of("torch-case", textFile().toString(), out.toString());
      assertAll(
          () -> assertEquals(1, r.exitCode()),
          () -> assertArrayEquals(before, Files.readAllBytes(out)));
    }

    @Test
    void thereIsNoStackTraceWithoutVerbose() throws IOException {
      Invocation r = Invocation.of("torch-case", textFile().toString(),
          dir.resolve("out.safetensors").toString());
      assertEquals(1, r.err().lines().count(), r.err());
    }

    @Test
    void verbosePrintsTheStackTraceAfterTheMessage() throws IOException {
      Path in = textFile();
      Invocation r = Invocation.of("torch-case", "--verbose", in.toString(),
          dir.resolve("out.safetensors").toString());
      List<String> lines = r.err().lines().toList();
      assertAll(
          () -> assertEquals(1, r.exitCode()),
          () -> assertTrue(lines.get(0).startsWith("rnn-examples torch-case: " + in + ": "),
              r.err()),
          () -> assertTrue(lines.get(1).startsWith("dev.rnn.core.SafetensorsException: "),
              r.err()),
          () -> assertTrue(lines.get(2).startsWith("\tat dev.rnn.core.Safetensors"), r.err()));
    }

    private Path textFile() throws IOException {
      Path p = dir.resolve("notes.txt");
      Files.writeString(p, "hello, this is not a safetensors file\n");
      return p;
    }

    private void assertNothingWritten() throws IOException {
      try (Stream<Path> s = Files.list(dir)) {
        assertEquals(List.of(), s.toList(), "files left in " + dir);
      }
    }
  }

  @Nested
  class WhenUsedWrongly {
    @Test
    void aMissingArgumentIsNamedWithAHintAndExitsWithTwo() {
      Invocation r = Invocation.of("torch-case", dir.resolve("in.safetensors").toString());
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("rnn-examples torch-case: Missing required parameter: 'OUT'\n"
              + "Try 'rnn-examples torch-case --help' for more information.\n", r.err()),
          () -> assertEquals("", r.out()),
          () -> assertNothingIn(dir));
    }

    @Test
    void anExtraArgumentIsNamedWithAHintAndExitsWithTwo() {
      Invocation r = Invocation.of("torch-case", "a.safetensors", "b.safetensors", "c");
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("rnn-examples torch-case: Unmatched argument at index 3: 'c'\n"
              + "Try 'rnn-examples torch-case --help' for more information.\n", r.err()));
    }

    @Test
    void anUnknownOptionIsNamedWithAHintAndExitsWithTwo() {
      Invocation r = Invocation.of("torch-case", "--frob", "a.safetensors", "b.safetensors");
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("rnn-examples torch-case: Unknown option: '--frob'\n"
              + "Try 'rnn-examples torch-case --help' for more information.\n", r.err()));
    }

    private void assertNothingIn(Path d) throws IOException {
      try (Stream<Path> s = Files.list(d)) {
        assertEquals(List.of(), s.toList());
      }
    }
  }
}
