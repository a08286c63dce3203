package dev.rnn.dsl;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Shape;
import dev.rnn.core.Stack;
import dev.rnn.core.Tensor;
import dev.rnn.core.TorchModule;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lstm(in, hidden).projection(p)}: torch's {@code proj_size} in the builder, the spec
 * language, the state slots (h of size p, c of size hidden), checkpoints and torch import; with
 * peepholes it is Sak et al.'s LSTMP.
 */
class ProjectionTest {
  @TempDir
  Path dir;

  @Test
  void theStateSlotsAreSizedFromTheStageNotFromTheHiddenSize() {
    Network net = Rnn.network().lstm(3, 5).projection(2).bidirectional().dense(4, 1).build();
    State s = net.initialState(7);
    assertAll(
        () -> assertEquals(List.of("h_l0", "c_l0", "h_l0_reverse", "c_l0_reverse"),
            net.stateNames()),
        () -> assertEquals(Shape.of(7, 2), s.get("h_l0").shape()),
        () -> assertEquals(Shape.of(7, 5), s.get("c_l0").shape()),
        () -> assertEquals(Shape.of(2, 5), net.namedParameters().get("weight_hr_l0").shape()),
        () -> assertEquals(Shape.of(20, 2), net.namedParameters().get("weight_hh_l0").shape()),
        () -> assertEquals(Shape.of(4, 3, 1), net.forward(Tensor.zeros(DType.FLOAT32, 4, 3, 3),
            null).output().shape()));
  }

  @Test
  void theSpecLanguageWritesAndReadsIt() {
    Network net = Rnn.network().lstm(3, 5).peepholes().projection(2).learnableInitialState()
        .lstm(2, 3).projection(1).build();
    assertAll(
        () -> assertEquals("lstm(3, 5).peepholes().projection(2).learnableInitialState()"
            + ".lstm(2, 3).projection(1)", net.spec()),
        () -> assertEquals(net.spec(), Rnn.parse(net.spec()).build().spec()),
        () -> assertEquals(Shape.of(2), net.namedParameters().get("h0_l0").shape()),
        () -> assertEquals(Shape.of(5), net.namedParameters().get("c0_l0").shape()),
        () -> assertTrue(net.describe().contains("h1_t = W_hr_l0 · (o_t ⊙ tanh(c1_t))"
            + "   (projection to 2)"), net.describe()),
        () -> assertTrue(net.describe().contains("state carried across time: h1, c1 [5] (h1"
            + " projected to 2)"), net.describe()));
  }

  @Test
  void aCheckpointRebuildsItWithItsWeights() throws IOException {
    Network net = Rnn.network().lstm(3, 5).projection(2).bidirectional().dtype(DType.FLOAT64)
        .seed(3).build();
    Path p = dir.resolve("net.safetensors");
    net.save(p);
    Network back = Rnn.load(p);
    Tensor x = Tensor.randn(DType.FLOAT64, 4, 5, 2, 3);
    assertAll(
        () -> assertEquals(net.spec(), back.spec()),
        () -> assertEquals(net.forward(x, null).output(), back.forward(x, null).output()));
  }

  @Test
  void torchsProjSizeImportsByName() {
    TorchModule m = TorchModule.lstm(4, 6).numLayers(2).projSize(3).bidirectional(true)
        .dtype(DType.FLOAT64);
    Network net = Rnn.fromTorch(m).build();
    Stack torch = new Stack(m).initialize(5);
    Map<String, Shape> expected = new LinkedHashMap<>();
    torch.parameters().forEach((k, v) -> expected.put(k, v.shape()));
    Map<String, Shape> actual = new LinkedHashMap<>();
    net.namedParameters().forEach((k, v) -> actual.put(k, v.shape()));
    for (Map.Entry<String, Parameter> e : torch.parameters().entrySet()) {
      net.namedParameters().get(e.getKey()).set(e.getValue().value());
    }
    Tensor x = Tensor.randn(DType.FLOAT64, 6, 5, 2, 4);
    assertAll(
        () -> assertEquals(expected, actual),
        () -> assertEquals("lstm(4, 6).projection(3).bidirectional().lstm(6, 6).projection(3)"
            + ".bidirectional()", net.spec()),
        () -> assertEquals("torch.nn.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=3)"
            + ".to(torch.float64)", m.toString()),
        () -> assertTrue(torch.forward(x, false).output().maxAbsDiff(
            net.forward(x, null).output()) < 1e-14));
  }

  @Test
  void misuseIsRefusedSayingWhy() {
    IllegalStateException notLstm = assertThrows(IllegalStateException.class,
        () -> Rnn.network().gru(3, 5).projection(2));
    IllegalStateException twice = assertThrows(IllegalStateException.class,
        () -> Rnn.network().lstm(3, 5).projection(2).projection(2));
    IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class,
        () -> Rnn.network().lstm(3, 5).projection(5));
    IllegalArgumentException handOff = assertThrows(IllegalArgumentException.class,
        () -> Rnn.network().lstm(3, 5).handOffStates().lstm(5, 5).projection(2));
    IllegalArgumentException torchGru = assertThrows(IllegalArgumentException.class,
        () -> TorchModule.gru(3, 5).projSize(2));
    assertAll(
        () -> assertEquals("projection(2) must follow lstm(in, out) but follows gru(3, 5)",
            notLstm.getMessage()),
        () -> assertEquals("projection() was already called on lstm(3, 5).projection(2)",
            twice.getMessage()),
        () -> assertEquals("projection(5) of lstm(3, 5) expected a size in [1, 5) (smaller than"
            + " the hidden size, as torch's proj_size) but got 5", tooBig.getMessage()),
        () -> assertEquals("handOffStates: layer 1, lstm(3, 5) hands its final state to layer 2,"
            + " lstm(5, 5).projection(2), but their state sizes differ: 5 and 2",
            handOff.getMessage()),
        () -> assertEquals("proj_size is for LSTM only but the module is gru",
            torchGru.getMessage()));
  }
}
