package dev.rnn.core;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A torch case whose metadata, parameters or inputs do not fit is refused with a message naming
 * the file, the key or tensor, what was expected and what was found.
 *
 * <p>Every case starts from {@code lstm-float64-s7-021}: {@code lstm(input_size=4,
 * hidden_size=3, num_layers=1)}, float64, time-major, input {@code [6, 3, 4]}, with {@code h0} and
 * {@code c0}; one thing is changed at a time.
 */
class TorchCaseValidationTest {
  private static final Path BASE =
      Path.of("src/test/resources/torch-cases/lstm-float64-s7-021.safetensors");
  private static final String SOURCE = "cases/lstm.safetensors";
  private static final String LSTM = "lstm(input_size=4, hidden_size=3, num_layers=1)";
  private static final String X = SOURCE + ": ";

  private static SafetensorsFile base;

  @BeforeAll
  static void readBase() throws IOException {
    base = Safetensors.read(BASE);
  }

  /** The base case with its metadata and tensors changed by {@code change}, as read back. */
  private static SafetensorsFile changed(Consumer<Map<String, String>> metadata,
      Consumer<Map<String, Tensor>> tensors) {
    Map<String, String> m = new LinkedHashMap<>(base.metadata());
    Map<String, Tensor> t = new LinkedHashMap<>(base.tensors());
    metadata.accept(m);
    tensors.accept(t);
    return Safetensors.read(Safetensors.toBytes(t, m), SOURCE);
  }

  private static SafetensorsFile withMetadata(String key, String value) {
    return changed(m -> m.put(key, value), t -> { });
  }

  private static SafetensorsFile withTensor(String name, Tensor value) {
    return changed(m -> { }, t -> t.put(name, value));
  }

  private static SafetensorsFile without(String name) {
    return changed(m -> { }, t -> t.remove(name));
  }

  private static String error(SafetensorsFile f) {
    return assertThrows(SafetensorsException.class, () -> TorchCase.of(f)).getMessage();
  }

  private static Tensor zeros(DType dtype, int... dims) {
    return Tensor.zeros(dtype, dims);
  }

  @Test
  void theBaseCaseIsValid() {
    TorchCase c = TorchCase.of(changed(m -> { }, t -> { }));
    assertEquals(LSTM, c.stack().describe());
  }

  @Nested
  class WhenMetadataIsMissing {
    @Test
    void noMetadataAtAllSaysItIsNotATorchCase() {
      assertEquals(X + "is not a torch case: it has no __metadata__ (expected rnn-torch-case/1"
              + " metadata format, mode, dtype, input_size, hidden_size, num_layers, bias,"
              + " batch_first and bidirectional)",
          error(changed(Map::clear, t -> { })));
    }

    @Test
    void noFormatNamesTheKeyAndWhatItShouldBe() {
      assertEquals(X + "metadata 'format' is missing (expected 'rnn-torch-case/1' or"
              + " 'rnn-torch-case/2'); it has"
              + " 'mode', 'input_size', 'hidden_size', 'num_layers', 'bias', 'batch_first',"
              + " 'bidirectional' and 'dtype'",
          error(changed(m -> m.remove("format"), t -> { })));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.core.TorchCaseValidationTest#missingKeys")
    void aMissingKeyIsNamedWithWhatItShouldBe(String key, String expected) {
      String message = error(changed(m -> m.remove(key), t -> { }));
      assertEquals(X + "metadata '" + key + "' is missing (expected " + expected + "); it has",
          message.substring(0, message.indexOf("; it has") + "; it has".length()));
    }
  }

  static Stream<Arguments> missingKeys() {
    return Stream.of(
        arguments("mode", "one of rnn_tanh, rnn_relu, lstm, gru"),
        arguments("dtype", "float32 or float64"),
        arguments("input_size", "an integer in [1, 1048576]"),
        arguments("hidden_size", "an integer in [1, 1048576]"),
        arguments("num_layers", "an integer in [1, 1024]"),
        arguments("bias", "true or false"),
        arguments("batch_first", "true or false"),
        arguments("bidirectional", "true or false"));
  }

  @Nested
  class WhenAMetadataValueIsBad {
    @ParameterizedTest(name = "{0} = ''{1}''")
    @MethodSource("dev.rnn.core.TorchCaseValidationTest#badValues")
    void itIsNamedWithWhatItShouldBe(String key, String value, String message) {
      assertEquals(X + message, error(withMetadata(key, value)));
    }

    @Test
    void aLongValueIsCutInTheMessage() {
      assertEquals(X + "metadata 'num_layers' expected an integer in [1, 1024] but got"
              + " '1111111111111111111111111111111111111...'",
          error(withMetadata("num_layers", "1".repeat(100_000))));
    }
  }

  static Stream<Arguments> badValues() {
    String ints = "expected an integer in [1, 1048576] but got ";
    String layers = "metadata 'num_layers' expected an integer in [1, 1024] but got ";
    return Stream.of(
        arguments("format", "rnn-torch-case/3",
            "metadata 'format' expected 'rnn-torch-case/1' or 'rnn-torch-case/2' but got"
                + " 'rnn-torch-case/3'"),
        arguments("mode", "rnn",
            "metadata 'mode' expected one of rnn_tanh, rnn_relu, lstm, gru but got 'rnn'"),
        arguments("mode", "LSTM",
            "metadata 'mode' expected one of rnn_tanh, rnn_relu, lstm, gru but got 'LSTM'"),
        arguments("dtype", "float16",
            "metadata 'dtype' expected float32 or float64 but got 'float16'"),
        arguments("dtype", "F64", "metadata 'dtype' expected float32 or float64 but got 'F64'"),
        arguments("input_size", "four", "metadata 'input_size' " + ints + "'four'"),
        arguments("input_size", "4.0", "metadata 'input_size' " + ints + "'4.0'"),
        arguments("input_size", "+4", "metadata 'input_size' " + ints + "'+4'"),
        arguments("input_size", " 4", "metadata 'input_size' " + ints + "' 4'"),
        arguments("input_size", "", "metadata 'input_size' " + ints + "''"),
        arguments("hidden_size", "-3", "metadata 'hidden_size' " + ints + "'-3'"),
        arguments("hidden_size", "0", "metadata 'hidden_size' " + ints + "'0'"),
        arguments("hidden_size", "2147483648", "metadata 'hidden_size' " + ints + "'2147483648'"),
        arguments("hidden_size", "1048577", "metadata 'hidden_size' " + ints + "'1048577'"),
        arguments("num_layers", "99999999999", layers + "'99999999999'"),
        arguments("num_layers", "99999999999999999999999", layers + "'99999999999999999999999'"),
        arguments("num_layers", "1025", layers + "'1025'"),
        arguments("num_layers", "-1", layers + "'-1'"),
        arguments("bias", "yes", "metadata 'bias' expected true or false but got 'yes'"),
        arguments("batch_first", "True",
            "metadata 'batch_first' expected true or false but got 'True'"),
        arguments("bidirectional", "1",
            "metadata 'bidirectional' expected true or false but got '1'"));
  }

  @Nested
  class WhenAParameterDoesNotFitTheArchitecture {
    @Test
    void aMissingParameterIsNamedWithItsShape() {
      assertEquals(X + "parameter 'weight_hh_l0' is missing (expected float64 [12, 3] for " + LSTM
          + ")", error(without("weight_hh_l0")));
    }

    @Test
    void aWeightOfTheWrongShapeNamesBothShapes() {
      assertEquals(X + "parameter 'weight_ih_l0' expected float64 [12, 4] for " + LSTM
              + " but got float64 [12, 7]",
          error(withTensor("weight_ih_l0", zeros(DType.FLOAT64, 12, 7))));
    }

    @Test
    void aBiasOfTheWrongDtypeNamesBothDtypes() {
      assertEquals(X + "parameter 'bias_ih_l0' expected float64 [12] for " + LSTM
              + " but got float32 [12]",
          error(withTensor("bias_ih_l0", zeros(DType.FLOAT32, 12))));
    }

    @Test
    void moreLayersThanTheFileHasNamesTheFirstMissingOne() {
      assertEquals(X + "parameter 'weight_ih_l1' is missing (expected float64 [12, 3] for"
              + " lstm(input_size=4, hidden_size=3, num_layers=2))",
          error(withMetadata("num_layers", "2")));
    }

    @Test
    void bidirectionalWithoutReverseWeightsNamesTheFirstOne() {
      assertEquals(X + "parameter 'weight_ih_l0_reverse' is missing (expected float64 [12, 4]"
              + " for lstm(input_size=4, hidden_size=3, num_layers=1, bidirectional))",
          error(withMetadata("bidirectional", "true")));
    }

    @Test
    void anotherModeExpectsOtherGateRows() {
      assertEquals(X + "parameter 'weight_ih_l0' expected float64 [9, 4] for gru(input_size=4,"
              + " hidden_size=3, num_layers=1) but got float64 [12, 4]",
          error(withMetadata("mode", "gru")));
    }

    @Test
    void anotherDtypeNamesTheParameterDtype() {
      assertEquals(X + "parameter 'weight_ih_l0' expected float32 [12, 4] for " + LSTM
              + " but got float64 [12, 4]",
          error(withMetadata("dtype", "float32")));
    }

    @Test
    void aParameterOfAnotherArchitectureIsRefused() {
      assertEquals(X + "parameter 'bias_ih_l0' is not one of lstm(input_size=4, hidden_size=3,"
              + " num_layers=1, bias=false); is the metadata that of another architecture?",
          error(withMetadata("bias", "false")));
    }

    @Test
    void anAbsurdHiddenSizeIsRefusedBeforeAnythingIsAllocated() {
      // 4 * 2^20 rows of 2^20: 2^42 weights per matrix, if the stack were built first.
      SafetensorsFile f = withMetadata("hidden_size", "1048576");
      String message = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> error(f));
      assertEquals(X + "parameter 'weight_ih_l0' expected float64 [4194304, 4] for"
          + " lstm(input_size=4, hidden_size=1048576, num_layers=1) but got float64 [12, 4]",
          message);
    }
  }

  @Nested
  class WhenAnInputDoesNotFit {
    @Test
    void aMissingInputIsNamedWithItsShape() {
      assertEquals(X + "tensor 'input' is missing (expected float64 [seq, batch, 4] for " + LSTM
          + ")", error(without("input")));
    }

    @Test
    void anInputWithTheWrongFeatureSizeNamesBothShapes() {
      assertEquals(X + "tensor 'input' expected float64 [seq, batch, 4] with seq, batch >= 1 for "
              + LSTM + " but got float64 [6, 3, 7]",
          error(withTensor("input", zeros(DType.FLOAT64, 6, 3, 7))));
    }

    @Test
    void anInputOfRankTwoNamesBothShapes() {
      assertEquals(X + "tensor 'input' expected float64 [seq, batch, 4] with seq, batch >= 1 for "
              + LSTM + " but got float64 [6, 4]",
          error(withTensor("input", zeros(DType.FLOAT64, 6, 4))));
    }

    @Test
    void anEmptySequenceIsRefused() {
      assertEquals(X + "tensor 'input' expected float64 [seq, batch, 4] with seq, batch >= 1 for "
              + LSTM + " but got float64 [0, 3, 4]",
          error(withTensor("input", zeros(DType.FLOAT64, 0, 3, 4))));
    }

    @Test
    void batchFirstIsInTheExpectedShape() {
      assertEquals(X + "tensor 'input' expected float64 [batch, seq, 4] with seq, batch >= 1 for "
              + LSTM + " but got float32 [6, 3, 4]",
          error(changed(m -> m.put("batch_first", "true"),
              t -> t.put("input", zeros(DType.FLOAT32, 6, 3, 4)))));
    }

    @Test
    void anH0ForAnotherBatchNamesBothShapes() {
      assertEquals(X + "tensor 'h0' expected float64 [1, 3, 3] for " + LSTM
              + " and its input but got float64 [1, 7, 3]",
          error(withTensor("h0", zeros(DType.FLOAT64, 1, 7, 3))));
    }

    @Test
    void aC0OfAnotherHiddenSizeNamesBothShapes() {
      assertEquals(X + "tensor 'c0' expected float64 [1, 3, 3] for " + LSTM
              + " and its input but got float64 [1, 3, 7]",
          error(withTensor("c0", zeros(DType.FLOAT64, 1, 3, 7))));
    }

    @Test
    void aGradOutputOfTheWrongShapeNamesBothShapes() {
      assertEquals(X + "tensor 'grad_output' expected float64 [6, 3, 3] for " + LSTM
              + " and its input but got float64 [6, 3, 7]",
          error(withTensor("grad_output", zeros(DType.FLOAT64, 6, 3, 7))));
    }

    @Test
    void aCellStateForAGruIsRefused() throws IOException {
      SafetensorsFile gru = Safetensors.read(
          Path.of("src/test/resources/torch-cases/gru-float64-s7-006.safetensors"));
      Map<String, Tensor> t = new LinkedHashMap<>(gru.tensors());
      t.put("c0", gru.tensor("h0"));
      SafetensorsFile f = Safetensors.read(Safetensors.toBytes(t, gru.metadata()), SOURCE);
      assertEquals(X + "tensor 'c0' is not used by gru(input_size=3, hidden_size=5,"
          + " num_layers=1): only lstm has a cell state", error(f));
    }
  }

  @Test
  void aValidCaseRunsForward() {
    TorchCase c = TorchCase.of(changed(m -> { }, t -> { }));
    assertAll(
        () -> assertEquals(Shape.of(6, 3, 3), c.forward().output().shape()),
        () -> assertEquals(Shape.of(1, 3, 3), c.forward().cN().shape()));
  }
}
