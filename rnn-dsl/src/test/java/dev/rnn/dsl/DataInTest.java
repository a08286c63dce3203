package dev.rnn.dsl;

import static dev.rnn.dsl.Rnn.network;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rnn.autograd.optim.Sgd;
import dev.rnn.core.DType;
import dev.rnn.core.Tensor;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Data in: tensors from nested arrays, either dtype fed to a network of either dtype, states from
 * tensors in the project's layout and torch's, and layout mistakes named where they show.
 */
class DataInTest {
  static final String TIME_MAJOR = TrainerTest.WhenShapesDoNotFit.TIME_MAJOR;

  @Nested
  class Dtypes {
    /** Float32 numbers, as float32 and as float64 tensors: equal values in both dtypes. */
    final Tensor x32 = Tensor.uniform(DType.FLOAT32, 1, -1, 1, 6, 4, 2);
    final Tensor y32 = Tensor.uniform(DType.FLOAT32, 2, -1, 1, 6, 4, 1);
    final Tensor m32 = Tensor.of(new float[] {1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1,
        1, 1, 1, 1, 1, 0, 1, 1}, 6, 4);

    Network net() {
      return network().gru(2, 3).dense(3, 1).seed(4).build(); // float32
    }

    Trainer trainer(Network net) {
      return net.trainer().loss(Trainer.Objective.MSE).epochs(2).batchSize(2)
          .optimizer(p -> Sgd.builder().lr(0.1).build(p));
    }

    @Test
    void aFloat32NetworkTrainsOnFloat64DataAsOnFloat32DataBitForBit() {
      Network a = net();
      Network b = net();
      trainer(a).fit(x32, y32, m32, Tensor.of(new float[] {1, 2, 0.5f, 1}, 4));
      trainer(b).fit(x32.to(DType.FLOAT64), y32.to(DType.FLOAT64), m32.to(DType.FLOAT64),
          Tensor.of(new double[] {1, 2, 0.5, 1}, 4));
      assertAll(
          () -> assertEquals(TrainerTest.snapshot(a), TrainerTest.snapshot(b)),
          () -> assertEquals(trainer(a).evaluate(x32, y32),
              trainer(a).evaluate(x32.to(DType.FLOAT64), y32.to(DType.FLOAT64))));
    }

    @Test
    void inputsAndStatesOfEitherDtypeGiveTheNetworksDtype() {
      Network net = net();
      Network.Result r32 = net.forward(x32, net.initialState(4));
      State s64 = State.of(Map.of("h_l0", Tensor.zeros(DType.FLOAT64, 4, 3)));
      Network.Result r64 = net.forward(x32.to(DType.FLOAT64), s64);
      assertAll(
          () -> assertEquals(DType.FLOAT32, r64.output().dtype()),
          () -> assertEquals(r32.output(), r64.output()),
          () -> assertEquals(r32.state().tensors(), r64.state().tensors()));
    }

    @Test
    void mixingAnOutputWithAFloat64TensorSaysWhichConversionToWrite() {
      Tensor y = net().forward(x32);
      Tensor target = Tensor.of(new double[24], 6, 4, 1);
      assertEquals("sub expected dtype FLOAT32 but got FLOAT64: convert it with"
              + " .to(DType.FLOAT32) (Tensor.of(double[]...) makes float64, Tensor.of(float[]...)"
              + " float32, and a network's outputs have the network's dtype)",
          assertThrows(IllegalArgumentException.class, () -> y.sub(target)).getMessage());
    }
  }

  @Nested
  class NestedArraysAndStates {
    @Test
    void aBatchOfSequencesFromNestedArraysIsTheFlatTensor() {
      double[][][] batchFirst = {{{1, 2}, {3, 4}, {5, 6}}, {{7, 8}, {9, 10}, {11, 12}}};
      Network net = network().lstm(2, 3).batchFirst().seed(1).build();
      Tensor flat = Tensor.of(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 2, 3, 2);
      assertEquals(net.forward(flat), net.forward(Tensor.of(batchFirst)));
    }

    @Test
    void aStateFromTorchsLayoutInNestedArraysIsTheStateByName() {
      Network net = network().lstm(2, 3).lstm(3, 3).dtype(DType.FLOAT64).seed(2).build();
      // torch's h0 and c0: [num_layers * D, N, H] = [2, 1, 3]
      Tensor h0 = Tensor.of(new double[][][] {{{0.1, 0.2, 0.3}}, {{-0.1, 0, 0.5}}});
      Tensor c0 = Tensor.of(new double[][][] {{{1, -1, 0}}, {{0.25, 0.5, 0.75}}});
      State fromTorch = net.stateFromTorch(h0, c0);
      State byName = State.of(Map.of(
          "h_l0", Tensor.of(new double[][] {{0.1, 0.2, 0.3}}),
          "c_l0", Tensor.of(new double[][] {{1, -1, 0}}),
          "h_l1", Tensor.of(new double[][] {{-0.1, 0, 0.5}}),
          "c_l1", Tensor.of(new double[][] {{0.25, 0.5, 0.75}})));
      Tensor x = Tensor.of(new double[][][] {{{1, 2}}, {{0, -1}}, {{0.5, 0.5}}});
      Network.Result a = net.forward(x, fromTorch);
      Network.Result b = net.forward(x, byName);
      assertAll(
          () -> assertEquals(a.output(), b.output()),
          () -> assertEquals(a.state().hN(), b.state().hN()),
          () -> assertEquals(h0, fromTorch.hN()),
          () -> assertEquals(c0, fromTorch.cN()));
    }
  }

  @Nested
  class LayoutMistakes {
    @Test
    void batchFirstTargetsForATimeMajorNetworkAreNamedWithTheFix() {
      // the case: inputs [8, 6, 3] read time-major (8 steps of 6), targets batch-first
      Network net = network().lstm(3, 4).dense(4, 1).build();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> net.trainer().loss(Trainer.Objective.MSE).fit(
              Tensor.zeros(DType.FLOAT32, 8, 6, 3), Tensor.zeros(DType.FLOAT32, 6, 8, 1)));
      assertEquals("fit expected targets for 6 sequences, as many as the inputs [8, 6, 3], but"
          + " got 8 (targets [6, 8, 1])" + TIME_MAJOR, e.getMessage());
    }

    @Test
    void batchFirstInputsForALastStepNetworkAreNamedWithTheFix() {
      Network net = network().lstm(3, 4).lastStep().dense(4, 2).build();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> net.trainer().loss(Trainer.Objective.CROSS_ENTROPY).fit(
              Tensor.zeros(DType.FLOAT32, 6, 8, 3), Tensor.zeros(DType.FLOAT32, 6)));
      assertEquals("fit expected targets for 8 sequences, as many as the inputs [6, 8, 3], but"
          + " got 6 (targets [6])" + TIME_MAJOR, e.getMessage());
    }

    @Test
    void aStateWhoseBatchIsTheInputsOtherDimensionNamesTheLayout() {
      Network net = network().gru(2, 3).build();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> net.forward(Tensor.zeros(DType.FLOAT32, 5, 2, 2), net.initialState(5)));
      assertEquals("state 'h_l0' of gru(2, 3) expected shape [2, 3] (batch 2, hidden 3) but got"
          + " [5, 3]; the batch is read from the input" + TIME_MAJOR, e.getMessage());
    }
  }
}
