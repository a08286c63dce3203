package dev.rnn.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.rnn.core.DType;
import dev.rnn.core.Safetensors;
import dev.rnn.core.SafetensorsFile;
import dev.rnn.core.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * When {@code torch-case} fails on a well-formed safetensors file that is not a valid case, or
 * while writing OUT, it leaves nothing behind: no OUT, no temporary file, and an OUT that was
 * there before is left byte for byte as it was.
 */
class TorchCaseCommandFailureTest {
  private static final Path BASE =
      TorchCaseCommandTest.CASES.resolve("lstm-float64-s7-021.safetensors");
  private static final String LSTM = "lstm(input_size=4, hidden_size=3, num_layers=1)";

  @TempDir
  Path dir;

  /** A copy of the base case in the temp dir, changed by {@code metadata} and {@code tensors}. */
  private Path brokenCase(Consumer<Map<String, String>> metadata,
      Consumer<Map<String, Tensor>> tensors) throws IOException {
    SafetensorsFile f = Safetensors.read(BASE);
    Map<String, String> m = new LinkedHashMap<>(f.metadata());
    Map<String, Tensor> t = new LinkedHashMap<>(f.tensors());
    metadata.accept(m);
    tensors.accept(t);
    Path in = dir.resolve("broken.safetensors");
    Safetensors.write(in, t, m);
    return in;
  }

  private List<Path> files() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().toList();
    }
  }

  static Stream<Arguments> brokenCases() {
    Consumer<Map<String, String>> sameMetadata = m -> { };
    Consumer<Map<String, Tensor>> sameTensors = t -> { };
    return Stream.of(
        arguments("an absurd num_layers",
            (Consumer<Map<String, String>>) m -> m.put("num_layers", "99999999999"), sameTensors,
            "metadata 'num_layers' expected an integer in [1, 1024] but got '99999999999'"),
        arguments("a missing parameter", sameMetadata,
            (Consumer<Map<String, Tensor>>) t -> t.remove("weight_hh_l0"),
            "parameter 'weight_hh_l0' is missing (expected float64 [12, 3] for " + LSTM + ")"),
        arguments("an input of the wrong feature size", sameMetadata,
            (Consumer<Map<String, Tensor>>) t -> t.put("input",
                Tensor.zeros(DType.FLOAT64, 6, 3, 7)),
            "tensor 'input' expected float64 [seq, batch, 4] with seq, batch >= 1 for " + LSTM
                + " but got float64 [6, 3, 7]"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("brokenCases")
  void anInvalidCaseWritesNoOutAndNoTemporaryFile(String what,
      Consumer<Map<String, String>> metadata, Consumer<Map<String, Tensor>> tensors,
      String message) throws IOException {
    Path in = brokenCase(metadata, tensors);
    Path out = dir.resolve("out.safetensors");
    Invocation r = Invocation.of("torch-case", in.toString(), out.toString());
    assertAll(
        () -> assertEquals(1, r.exitCode()),
        () -> assertEquals("rnn-examples torch-case: " + in + ": " + message + "\n", r.err()),
        () -> assertEquals("", r.out()),
        () -> assertEquals(List.of(in), files(), "only IN is left"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("brokenCases")
  void anInvalidCaseLeavesAnExistingOutAsItWas(String what,
      Consumer<Map<String, String>> metadata, Consumer<Map<String, Tensor>> tensors,
      String message) throws IOException {
    Path in = brokenCase(metadata, tensors);
    Path out = dir.resolve("out.safetensors");
    byte[] before = "previous results".getBytes(UTF_8);
    Files.write(out, before);
    FileTime modified = FileTime.fromMillis(1_000_000_000_000L);
    Files.setLastModifiedTime(out, modified);
    Invocation r = Invocation.of("torch-case", in.toString(), out.toString());
    assertAll(
        () -> assertEquals(1, r.exitCode()),
        () -> assertArrayEquals(before, Files.readAllBytes(out)),
        () -> assertEquals(modified, Files.getLastModifiedTime(out)),
        () -> assertEquals(List.of(in, out), files(), "only IN and the old OUT are left"));
  }

  @Test
  void failingToMoveOutIntoPlaceLeavesNoTemporaryFile() throws IOException {
    // OUT is a non-empty directory: the results are written to a temporary file beside it, and
    // moving that over OUT fails at the very end.
    Path out = Files.createDirectory(dir.resolve("out.safetensors"));
    Path inside = Files.writeString(out.resolve("keep.txt"), "kept");
    Invocation r = Invocation.of("torch-case", BASE.toString(), out.toString());
    assertAll(
        () -> assertEquals(1, r.exitCode()),
        () -> assertEquals(1, r.err().lines().count(), r.err()),
        () -> assertTrue(r.err().startsWith("rnn-examples torch-case: "), r.err()),
        () -> assertTrue(r.err().contains(out.getFileName().toString()), r.err()),
        () -> assertEquals(List.of(out), files(), "only the OUT directory is left"),
        () -> assertEquals("kept", Files.readString(inside)));
  }
}
