package dev.rnn.autograd;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.core.Tensor;
import dev.rnn.core.TorchCase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every torch reference case of both formats (format 2: variable lengths, projections), forward
 * and backward: every expected tensor within tolerance.
 */
class TorchCaseGradientTest {
  static final Path CASES = Path.of(System.getProperty("rnn.torchCases",
      "../rnn-core/src/test/resources/torch-cases"));
  static final Path CASES_V2 = Path.of("../rnn-core/src/test/resources/torch-cases-v2");

  static Stream<Path> cases() throws IOException {
    return Stream.concat(list(CASES), list(CASES_V2));
  }

  private static Stream<Path> list(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList().stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void everyExpectedTensorMatchesTorch(Path file) throws IOException {
    TorchCase c = TorchCase.read(file);
    Map<String, Tensor> results = TorchCases.run(c);
    List<Executable> checks = new ArrayList<>();
    for (Map.Entry<String, Tensor> e : c.expected().entrySet()) {
      String name = e.getKey();
      Tensor expected = e.getValue();
      checks.add(() -> {
        assertTrue(results.containsKey(name), "no result for expected." + name);
        Tensor actual = results.get(name);
        assertEquals(expected.shape(), actual.shape(), name + " shape");
        assertTrue(c.close(actual, expected),
            () -> name + " max abs error " + actual.maxAbsDiff(expected));
      });
    }
    assertAll(checks);
  }
}
