package dev.rnn.dsl;

import static dev.rnn.dsl.Rnn.network;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rnn.core.DType;
import dev.rnn.core.Stack;
import dev.rnn.core.Tensor;
import dev.rnn.core.TorchModule;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The builder fails at the call that is wrong, torch import takes named arguments, streaming
 * refuses what cannot stream, and states convert to and from torch's layout.
 */
class FailFastTest {
  private static void assertMessage(Class<? extends Throwable> type, String message,
      Executable call) {
    assertEquals(message, assertThrows(type, call).getMessage());
  }

  @Nested
  class WhenASizeDoesNotFit {
    @Test
    void theLayerThatDoesNotFitFailsWhenItIsAdded() {
      NetworkBuilder b = network().recurrent(2, 2).relu();
      assertMessage(IllegalArgumentException.class,
          "recurrent(3, 1) expects input size 2 (the output of layer 1, recurrent(2, 2)) but got"
              + " 3", () -> b.recurrent(3, 1));
    }

    @Test
    void aBidirectionalLayerDoublesTheSizeTheNextLayerMustTake() {
      NetworkBuilder b = network().lstm(2, 3).bidirectional();
      assertAll(
          () -> assertMessage(IllegalArgumentException.class,
              "dense(3, 1) expects input size 6 (the output of layer 1,"
                  + " lstm(2, 3).bidirectional()) but got 3", () -> b.dense(3, 1)),
          () -> assertEquals(6, network().lstm(2, 3).bidirectional().dense(6, 1).build()
              .layers().get(1).inputSize()));
    }

    @Test
    void aRecurrentLayerAfterLastStepFailsWhenItIsAdded() {
      NetworkBuilder b = network().gru(2, 3).lastStep();
      assertAll(
          () -> assertMessage(IllegalArgumentException.class,
              "gru(3, 3) (layer 3) needs a sequence but follows lastStep(), which keeps only the"
                  + " final step", () -> b.gru(3, 3)),
          () -> assertMessage(IllegalArgumentException.class,
              "lastStep() (layer 3) needs a sequence but follows lastStep(), which keeps only the"
                  + " final step", () -> b.lastStep()));
    }

    @Test
    void handOffBetweenStatesOfDifferentSizesFailsAtTheCallThatJoinsThem() {
      assertAll(
          () -> assertMessage(IllegalArgumentException.class,
              "handOffStates: layer 1, lstm(2, 3) hands its final state to layer 2, lstm(3, 4),"
                  + " but their state sizes differ: 3 and 4",
              () -> network().handOffStates().lstm(2, 3).lstm(3, 4)),
          () -> assertMessage(IllegalArgumentException.class,
              "handOffStates: layer 1, lstm(2, 3) hands its final state to layer 2, lstm(3, 4),"
                  + " but their state sizes differ: 3 and 4",
              () -> network().lstm(2, 3).lstm(3, 4).handOffStates()));
    }

    @Test
    void handOffBetweenDirectionsIsKnownOnlyAtBuild() {
      NetworkBuilder b = network().handOffStates().lstm(2, 3).bidirectional().lstm(6, 3);
      assertMessage(IllegalArgumentException.class,
          "handOffStates: layer 1, lstm(2, 3).bidirectional() hands its final state to layer 2,"
              + " lstm(6, 3), but one is bidirectional and the other is not", b::build);
      b.bidirectional();
      assertEquals(2, b.build().layers().size());
    }
  }

  @Nested
  class WhenAnOptionIsSetTwice {
    @Test
    void eachOptionNamesWhatItWasAlreadySetTo() {
      assertAll(
          () -> assertMessage(IllegalStateException.class,
              "the initializer was already set to torchDefault(1)",
              () -> network().seed(1).initializer(Initializer.constant(1, 0))),
          () -> assertMessage(IllegalStateException.class,
              "the initializer was already set to constant(1.0, 0.0)",
              () -> network().initializer(Initializer.constant(1, 0)).seed(1)),
          () -> assertMessage(IllegalStateException.class, "dtype was already set to FLOAT64",
              () -> network().dtype(DType.FLOAT64).dtype(DType.FLOAT32)),
          () -> assertMessage(IllegalStateException.class,
              "the dropout seed was already set to 3",
              () -> network().dropoutSeed(3).dropoutSeed(4)),
          () -> assertMessage(IllegalStateException.class, "batchFirst() was already called",
              () -> network().batchFirst().batchFirst()),
          () -> assertMessage(IllegalStateException.class, "handOffStates() was already called",
              () -> network().handOffStates().handOffStates()),
          () -> assertMessage(IllegalStateException.class,
              "bidirectional() was already called on lstm(2, 3).bidirectional()",
              () -> network().lstm(2, 3).bidirectional().bidirectional()),
          () -> assertMessage(IllegalStateException.class,
              "noBias() was already called on gru(2, 3).noBias()",
              () -> network().gru(2, 3).noBias().noBias()));
    }
  }

  @Nested
  class TorchImport {
    @Test
    void aModuleReadsAsTorchsCall() {
      assertAll(
          () -> assertEquals("torch.nn.LSTM(3, 5, num_layers=2, bias=False, batch_first=True,"
                  + " bidirectional=True)",
              TorchModule.lstm(3, 5).numLayers(2).bias(false).batchFirst(true)
                  .bidirectional(true).toString()),
          () -> assertEquals("torch.nn.RNN(2, 4, nonlinearity='relu').to(torch.float64)",
              TorchModule.rnnRelu(2, 4).dtype(DType.FLOAT64).toString()),
          () -> assertEquals("torch.nn.GRU(1, 1)", TorchModule.gru(1, 1).toString()));
    }

    @Test
    void batchFirstAndBidirectionalCannotBeSwappedByPosition() {
      Network net = Rnn.fromTorch(TorchModule.gru(2, 3).batchFirst(true)).build();
      assertAll(
          () -> assertEquals(true, net.batchFirst()),
          () -> assertEquals("gru(2, 3)", net.spec()));
    }

    @Test
    void badSizesAreNamedByTorchsArgument() {
      assertAll(
          () -> assertMessage(IllegalArgumentException.class, "input_size must be >= 1 but got 0",
              () -> TorchModule.lstm(0, 3)),
          () -> assertMessage(IllegalArgumentException.class,
              "hidden_size must be >= 1 but got -2", () -> TorchModule.of(
                  Stack.Mode.RNN_TANH, 3, -2)));
    }

    @Test
    void equalModulesAreEqualValues() {
      assertEquals(TorchModule.lstm(3, 5).numLayers(2), TorchModule.lstm(3, 5).numLayers(2));
    }
  }

  @Nested
  class Streaming {
    @Test
    void stepRefusesABidirectionalNetwork() {
      Network net = network().recurrent(2, 2).relu().lstm(2, 3).bidirectional().seed(1).build();
      assertMessage(IllegalStateException.class,
          "step() streams one step at a time, but layer 3, lstm(2, 3).bidirectional() runs a"
              + " reverse direction, which starts from the end of the whole sequence; use"
              + " forward(x, state) over the whole sequence",
          () -> net.step(Tensor.zeros(DType.FLOAT32, 1, 2), null));
    }
  }

  @Nested
  class TorchStateLayout {
    final Network net = Rnn.fromTorch(TorchModule.lstm(2, 3).numLayers(2).bidirectional(true)
        .dtype(DType.FLOAT64)).seed(4).build();
    final Tensor x = Tensor.randn(DType.FLOAT64, 5, 7, 4, 2);

    @Test
    void hnAndCnStackLayersAndDirectionsInTorchsOrder() {
      State s = net.forward(x, null).state();
      Tensor hN = s.hN();
      assertAll(
          () -> assertEquals(dev.rnn.core.Shape.of(4, 4, 3), hN.shape()),
          () -> assertEquals(s.get("h_l0_reverse"), hN.select(0, 1)),
          () -> assertEquals(s.get("h_l1"), hN.select(0, 2)),
          () -> assertEquals(s.get("c_l1_reverse"), s.cN().select(0, 3)));
    }

    @Test
    void aStateFromTorchsLayoutRoundTrips() {
      State s = net.forward(x, null).state();
      State back = net.stateFromTorch(s.hN(), s.cN());
      assertEquals(s.tensors(), back.tensors());
      assertEquals(net.forward(x, s).output(), net.forward(x, back).output());
    }

    @Test
    void mismatchesAreNamed() {
      State s = net.forward(x, null).state();
      Network gru = network().gru(2, 3).gru(3, 5).build();
      State g = gru.forward(Tensor.zeros(DType.FLOAT32, 2, 1, 2), null).state();
      assertAll(
          () -> assertMessage(IllegalArgumentException.class,
              "stateFromTorch expected c0 for the cell states [h_l0, c_l0, h_l0_reverse,"
                  + " c_l0_reverse, h_l1, c_l1, h_l1_reverse, c_l1_reverse] but got none",
              () -> net.stateFromTorch(s.hN(), null)),
          () -> assertMessage(IllegalArgumentException.class,
              "stateFromTorch expected h0 of shape [4, batch, hidden] (one slice per layer and"
                  + " direction: [h_l0, c_l0, h_l0_reverse, c_l0_reverse, h_l1, c_l1,"
                  + " h_l1_reverse, c_l1_reverse]) but got [3, 4, 3]",
              () -> net.stateFromTorch(s.hN().slice(0, 0, 3), s.cN())),
          () -> assertMessage(IllegalArgumentException.class,
              "h_n stacks every layer's h, which needs one shape, but h_l0 is [1, 3] and h_l1 is"
                  + " [1, 5]", g::hN),
          () -> assertMessage(IllegalArgumentException.class,
              "c_n needs a c for every layer and direction, but the state has [h_l0, h_l1] (only"
                  + " lstm layers have a cell state c)", g::cN));
    }

    @Test
    void aStateCanBeMadeByName() {
      Network one = network().gru(2, 3).build();
      Map<String, Tensor> ts = new LinkedHashMap<>();
      ts.put("h_l0", Tensor.full(DType.FLOAT32, 0.5, 1, 3));
      State s = State.of(ts);
      assertEquals(one.forward(Tensor.zeros(DType.FLOAT32, 2, 1, 2), s).output(),
          one.forward(Tensor.zeros(DType.FLOAT32, 2, 1, 2), one.stateFromTorch(
              Tensor.full(DType.FLOAT32, 0.5, 1, 1, 3), null)).output());
    }
  }
}
