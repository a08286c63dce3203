package dev.rnn.core;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The forward pass of every torch reference case, of both formats (format 2: variable lengths
 * and projections): output, h_n and c_n within tolerance.
 */
class TorchCaseForwardTest {
  static final Path CASES = Path.of("src/test/resources/torch-cases");
  static final Path CASES_V2 = Path.of("src/test/resources/torch-cases-v2");

  static Stream<Path> cases() throws IOException {
    return list(CASES);
  }

  static Stream<Path> casesV2() throws IOException {
    return list(CASES_V2);
  }

  static Stream<Path> allCases() throws IOException {
    return Stream.concat(cases(), casesV2());
  }

  private static Stream<Path> list(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList().stream();
    }
  }

  @Test
  void allThirtyTwoPublicCasesAreHere() throws IOException {
    assertEquals(32, cases().count());
  }

  @Test
  void allFortyFormatTwoCasesAreHereWithLengthsAndProjections() throws IOException {
    List<TorchCase> v2 = new ArrayList<>();
    for (Path p : casesV2().toList()) {
      v2.add(TorchCase.read(p));
    }
    assertAll(
        () -> assertEquals(40, v2.size()),
        () -> assertTrue(v2.stream().filter(c -> c.lengths().isPresent()).count() >= 10),
        () -> assertTrue(v2.stream().filter(c -> c.stack().outputSize()
            != c.stack().hiddenSize()).count() >= 3));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("allCases")
  void forwardMatchesTorch(Path file) throws IOException {
    TorchCase c = TorchCase.read(file);
    Stack.Result r = c.forward();
    List<Executable> checks = new ArrayList<>();
    checks.add(check(c, "output", r.output()));
    checks.add(check(c, "h_n", r.hN()));
    if (c.expected().containsKey("c_n")) {
      checks.add(check(c, "c_n", r.cN()));
    }
    assertAll(checks);
  }

  private static Executable check(TorchCase c, String name, Tensor actual) {
    Tensor expected = c.expected().get(name);
    return () -> {
      assertEquals(expected.shape(), actual.shape(), name + " shape");
      assertTrue(c.close(actual, expected),
          () -> name + " max abs error " + actual.maxAbsDiff(expected));
    };
  }
}
