package dev.rnn.dsl;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Safetensors;
import dev.rnn.core.SafetensorsException;
import dev.rnn.core.Shape;
import dev.rnn.core.Stack;
import dev.rnn.core.Tensor;
import dev.rnn.core.TorchCase;
import dev.rnn.core.TorchModule;
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
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Torch's recurrent modules as DSL networks: names, shapes, loading, and every torch case. */
class TorchImportTest {
  /** The torch cases of rnn-core; tests run in the module directory. */
  static final Path CASES = Path.of("../rnn-core/src/test/resources/torch-cases");

  /** The 40 cases of format 2 (variable lengths, projections). */
  static final Path CASES_V2 = Path.of("../rnn-core/src/test/resources/torch-cases-v2");

  static List<Path> cases() throws IOException {
    return list(CASES);
  }

  /** The cases of both formats. */
  static List<Path> allCases() throws IOException {
    List<Path> all = new ArrayList<>(list(CASES));
    all.addAll(list(CASES_V2));
    return all;
  }

  private static List<Path> list(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
    }
  }

  @TempDir
  Path dir;

  /**
   * The names, in order, of the results the case's stack gives when run forward and backward as
   * torch ran it (autograd's torch-case harness): output, h_n [c_n], and with grad_output the
   * gradient of each stack parameter, of the input and of h0 [c0].
   */
  static List<String> resultNames(TorchCase c) {
    boolean lstm = c.stack().stateCount() == 2;
    List<String> names = new ArrayList<>(List.of("output", "h_n"));
    if (lstm) {
      names.add("c_n");
    }
    if (c.find("grad_output").isPresent()) {
      for (String p : c.stack().parameters().keySet()) {
        names.add("grad." + p);
      }
      names.add("grad.input");
      names.add("grad.h0");
      if (lstm) {
        names.add("grad.c0");
      }
    }
    return names;
  }

  @Test
  void thereAre32Cases() throws IOException {
    assertEquals(32, cases().size(), () -> "cases in " + CASES.toAbsolutePath());
  }

  @Nested
  class OnEveryTorchCase {
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.dsl.TorchImportTest#allCases")
    void theDslNetworkMatchesTorchForwardAndEveryGradient(Path file) throws IOException {
      TorchCase c = TorchCase.read(file);
      ImmutableMap<String, Tensor> results = TorchCaseRun.run(c);
      List<Executable> checks = new ArrayList<>();
      checks.add(() -> assertEquals(ImmutableSet.copyOf(resultNames(c)), results.keySet(),
          "the same results as the stack's run"));
      for (Map.Entry<String, Tensor> e : c.expected().entrySet()) {
        String name = e.getKey();
        checks.add(() -> {
          Tensor actual = results.get(name);
          assertTrue(actual != null, () -> "no result " + name);
          assertEquals(e.getValue().shape(), actual.shape(), name + " shape");
          assertTrue(c.close(actual, e.getValue()),
              () -> name + " max abs error " + actual.maxAbsDiff(e.getValue()));
        });
      }
      assertAll(checks);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.dsl.TorchImportTest#allCases")
    void theNetworksOwnForwardGivesTorchsOutputAndFinalStates(Path file) throws IOException {
      TorchCase c = TorchCase.read(file);
      Network net = Rnn.fromTorchCase(c);
      Stack s = c.stack();
      int slots = s.numLayers() * s.directions();
      int k = s.stateCount();
      Map<String, Tensor> initial = new LinkedHashMap<>();
      String[] init = {"h0", "c0"};
      for (int slot = 0; slot < slots; slot++) {
        for (int j = 0; j < k; j++) {
          Tensor t = c.find(init[j]).orElse(null);
          initial.put(net.stateNames().get(slot * k + j), t == null
              ? Tensor.zeros(c.dtype(), c.input().dim(c.batchFirst() ? 0 : 1), s.stateSize(j))
              : t.select(0, slot));
        }
      }
      Network.Result r = c.lengths().isPresent()
          ? net.forward(c.input(), c.lengths().get().toArray(), new State(initial))
          : net.forward(c.input(), new State(initial));
      Tensor hN = stack(r.state(), net, slots, k, 0);
      assertAll(
          () -> assertTrue(c.close(r.output(), c.tensor("expected.output")),
              () -> "output max abs error " + r.output().maxAbsDiff(c.tensor("expected.output"))),
          () -> assertTrue(c.close(hN, c.tensor("expected.h_n")),
              () -> "h_n max abs error " + hN.maxAbsDiff(c.tensor("expected.h_n"))));
    }

    private Tensor stack(State state, Network net, int slots, int k, int j) {
      List<Tensor> parts = new ArrayList<>();
      for (int slot = 0; slot < slots; slot++) {
        Tensor t = state.get(net.stateNames().get(slot * k + j));
        parts.add(t.reshape(1, t.dim(0), t.dim(1)));
      }
      return Tensor.concat(0, parts);
    }
  }

  @Nested
  class FromTorch {
    static Stream<Arguments> modules() {
      List<Arguments> all = new ArrayList<>();
      for (Stack.Mode mode : Stack.Mode.values()) {
        for (boolean bias : new boolean[] {true, false}) {
          for (boolean bi : new boolean[] {false, true}) {
            all.add(Arguments.of(mode, bias, bi));
          }
        }
      }
      return all.stream();
    }

    @ParameterizedTest(name = "{0} bias={1} bidirectional={2}")
    @MethodSource("modules")
    void hasExactlyTorchsParameterNamesShapesAndOrder(Stack.Mode mode, boolean bias,
        boolean bidirectional) {
      Network net = Rnn.fromTorch(TorchModule.of(mode, 5, 3).numLayers(3).bias(bias)
          .bidirectional(bidirectional).dtype(DType.FLOAT64)).build();
      Stack torch = new Stack(TorchModule.of(mode, 5, 3).numLayers(3).bias(bias)
          .bidirectional(bidirectional).dtype(DType.FLOAT64));
      assertEquals(shapes(torch.parameters()), shapes(net.namedParameters()));
    }

    @Test
    void writesTheLayersTorchWouldHave() {
      assertAll(
          () -> assertEquals("elman(5, 3, tanh).elman(3, 3, tanh)",
              Rnn.fromTorch(TorchModule.rnn(5, 3).numLayers(2)).build().spec()),
          () -> assertEquals("lstm(5, 3).bidirectional().noBias().lstm(6, 3).bidirectional()"
                  + ".noBias()",
              Rnn.fromTorch(TorchModule.lstm(5, 3).numLayers(2).bias(false)
                  .bidirectional(true)).build().spec()),
          () -> assertEquals("elman(2, 4, relu)",
              Rnn.fromTorch(TorchModule.rnnRelu(2, 4)).build().spec()));
    }

    @Test
    void setsBatchFirstAndDtype() {
      Network net = Rnn.fromTorch(TorchModule.gru(2, 4).batchFirst(true)
          .dtype(DType.FLOAT64)).build();
      assertAll(
          () -> assertTrue(net.batchFirst()),
          () -> assertEquals(DType.FLOAT64, net.dtype()));
    }

    @Test
    void aLayerCountBelowOneIsNamed() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> TorchModule.gru(2, 4).numLayers(0));
      assertEquals("num_layers must be >= 1 but got 0", e.getMessage());
    }

    private Map<String, Shape> shapes(Map<String, Parameter> ps) {
      Map<String, Shape> m = new LinkedHashMap<>();
      ps.forEach((name, p) -> m.put(name, p.shape()));
      return m;
    }
  }

  @Nested
  class LoadTorch {
    static final Path CASE = CASES.resolve("lstm-float64-s7-010.safetensors");

    /** The case's parameters alone, as {@code save_file(module.state_dict())} writes them. */
    private Path stateDict(TorchCase c) throws IOException {
      Map<String, Tensor> ps = new LinkedHashMap<>();
      c.stack().parameters().forEach((name, p) -> ps.put(name, p.value()));
      Path p = dir.resolve("state_dict.safetensors");
      Safetensors.write(p, ps, Map.of());
      return p;
    }

    @Test
    void loadsAStateDictByNameAndRunsAsTorch() throws IOException {
      TorchCase c = TorchCase.read(CASE);
      Network net = Rnn.loadTorch(stateDict(c), TorchModule.of(c));
      assertEquals(TorchCaseRun.run(Rnn.fromTorchCase(c), c).get("output"),
          TorchCaseRun.run(net, c).get("output"));
    }

    @Test
    void aStateDictOfAnotherModuleIsRefusedNamingTheFirstMismatch() throws IOException {
      TorchCase c = TorchCase.read(CASE);
      Stack s = c.stack();
      Path p = stateDict(c);
      SafetensorsException e = assertThrows(SafetensorsException.class,
          () -> Rnn.loadTorch(p, TorchModule.of(Stack.Mode.GRU, s.inputSize(),
              s.hiddenSize()).numLayers(s.numLayers()).bias(s.bias())
              .bidirectional(s.bidirectional()).batchFirst(c.batchFirst()).dtype(s.dtype())));
      int h = s.hiddenSize();
      assertEquals(p + ": parameter weight_ih_l0 expected shape [" + 3 * h + ", "
          + s.inputSize() + "] but got [" + 4 * h + ", " + s.inputSize() + "]", e.getMessage());
    }
  }
}
