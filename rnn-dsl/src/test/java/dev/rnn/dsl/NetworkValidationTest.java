package dev.rnn.dsl;

import static dev.rnn.dsl.Rnn.network;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rnn.core.DType;
import dev.rnn.core.Tensor;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The public entry points {@code forward(x)}, {@code forward(x, state)} and {@code step(x_t,
 * state)} refuse bad input and state with an {@link IllegalArgumentException} whose message names
 * the culprit, what was expected and what was found; one dimension is changed at a time, to 7.
 */
class NetworkValidationTest {
  /** {@code lstm(2, 3).gru(3, 2).dense(2, 1)}: states h_l0, c_l0 ([N, 3]) and h_l1 ([N, 2]). */
  private static final Network NET = network().lstm(2, 3).gru(3, 2).dense(2, 1).seed(3).build();
  private static final Network BATCH_FIRST =
      network().lstm(2, 3).gru(3, 2).dense(2, 1).batchFirst().seed(3).build();
  private static final String SHAPES = "lstm(2, 3) expected input of shape [seq, batch, 2] or"
      + " [seq, 2]";
  /** What every message about the shape of a sequence ends with: the layout, how to change it. */
  static final String TIME_MAJOR = " (the network is time-major, [seq, batch, ...]; for"
      + " batch-first data build it with batchFirst() or transpose(0, 1) the data)";
  static final String BATCH_FIRST_NOTE = " (the network is batch-first, [batch, seq, ...], as"
      + " built with batchFirst(); for time-major data build it without batchFirst() or"
      + " transpose(0, 1) the data)";

  private static void assertMessage(String message, Executable call) {
    assertEquals(message, assertThrows(IllegalArgumentException.class, call).getMessage());
  }

  private static Tensor input(int... dims) {
    return Tensor.randn(DType.FLOAT32, 11, dims);
  }

  /** {@code t} with {@code value} at row-major position {@code flat}. */
  private static Tensor with(Tensor t, int flat, double value) {
    double[] a = t.toDoubleArray();
    a[flat] = value;
    return Tensor.of(a, t.shape().dims()).to(t.dtype());
  }

  private static State state(Tensor h0, Tensor c0, Tensor h1) {
    return State.of(List.of("h_l0", "c_l0", "h_l1"), List.of(h0, c0, h1));
  }

  @Nested
  class WhenTheInputHasTheWrongShape {
    @Test
    void aWrongFeatureSizeNamesTheFirstLayerAndBothShapes() {
      assertAll(
          () -> assertMessage(SHAPES + " but got [5, 4, 7]" + TIME_MAJOR, () -> NET.forward(input(5, 4, 7))),
          () -> assertMessage(SHAPES + " but got [5, 7]" + TIME_MAJOR, () -> NET.forward(input(5, 7))),
          () -> assertMessage(SHAPES + " but got [5, 4, 7]" + TIME_MAJOR,
              () -> NET.forward(input(5, 4, 7), null)));
    }

    @Test
    void aWrongRankNamesBothShapes() {
      assertAll(
          () -> assertMessage(SHAPES + " but got [2]" + TIME_MAJOR, () -> NET.forward(input(2))),
          () -> assertMessage(SHAPES + " but got [5, 4, 7, 2]" + TIME_MAJOR,
              () -> NET.forward(input(5, 4, 7, 2))),
          () -> assertMessage(SHAPES + " but got []" + TIME_MAJOR, () -> NET.forward(input())));
    }

    @Test
    void batchFirstSaysSoInTheExpectedShape() {
      assertMessage("lstm(2, 3) expected input of shape [batch, seq, 2] or [seq, 2] but got"
          + " [4, 5, 7]" + BATCH_FIRST_NOTE, () -> BATCH_FIRST.forward(input(4, 5, 7)));
    }

    @Test
    void anEmptySequenceIsRefused() {
      assertAll(
          () -> assertMessage(SHAPES + " with seq, batch >= 1 but got [0, 4, 2]" + TIME_MAJOR,
              () -> NET.forward(input(0, 4, 2))),
          () -> assertMessage(SHAPES + " with seq, batch >= 1 but got [0, 2]" + TIME_MAJOR,
              () -> NET.forward(input(0, 2))));
    }

    @Test
    void anEmptyBatchIsRefused() {
      assertAll(
          () -> assertMessage(SHAPES + " with seq, batch >= 1 but got [5, 0, 2]" + TIME_MAJOR,
              () -> NET.forward(input(5, 0, 2), NET.initialState(1))),
          () -> assertMessage("lstm(2, 3) expected input of shape [batch, seq, 2] or [seq, 2]"
              + " with seq, batch >= 1 but got [0, 5, 2]" + BATCH_FIRST_NOTE,
              () -> BATCH_FIRST.forward(input(0, 5, 2))));
    }
  }

  @Nested
  class WhenTheInputIsNotFinite {
    @Test
    void nanIsRefusedNamingItsIndex() {
      // [3, 2, 2] row-major: [2, 0, 1] is 2 * 4 + 0 * 2 + 1 = 9.
      assertMessage("input holds NaN at [2, 0, 1]",
          () -> NET.forward(with(input(3, 2, 2), 9, Double.NaN)));
    }

    @Test
    void infinitiesAreRefusedNamingTheirSign() {
      assertAll(
          () -> assertMessage("input holds Infinity at [0, 1, 0]",
              () -> NET.forward(with(input(3, 2, 2), 2, Double.POSITIVE_INFINITY))),
          () -> assertMessage("input holds -Infinity at [1, 1, 1]",
              () -> NET.forward(with(input(3, 2, 2), 7, Double.NEGATIVE_INFINITY), null)));
    }

    @Test
    void theFirstInRowMajorOrderIsNamed() {
      Tensor x = with(with(input(3, 2, 2), 9, Double.NaN), 5, Double.POSITIVE_INFINITY);
      assertMessage("input holds Infinity at [1, 0, 1]", () -> NET.forward(x));
    }

    @Test
    void theIndexIsInTheInputAsGiven() {
      assertAll(
          () -> assertMessage("input holds NaN at [1, 2, 0]",
              () -> BATCH_FIRST.forward(with(input(2, 3, 2), 10, Double.NaN))),
          () -> assertMessage("input holds NaN at [2, 1]",
              () -> NET.forward(with(input(3, 2), 5, Double.NaN))));
    }

    @Test
    void aFloat64InputIsCheckedBeforeItIsConverted() {
      Tensor x = with(Tensor.randn(DType.FLOAT64, 5, 3, 2, 2), 0, Double.NaN);
      assertMessage("input holds NaN at [0, 0, 0]", () -> NET.forward(x));
    }

    @Test
    void aStateHoldingNanIsRefusedNamingTheTensorAndIndex() {
      Tensor c0 = with(Tensor.zeros(DType.FLOAT32, 2, 3), 5, Double.NaN);
      State s = state(Tensor.zeros(DType.FLOAT32, 2, 3), c0, Tensor.zeros(DType.FLOAT32, 2, 2));
      assertMessage("state 'c_l0' holds NaN at [1, 2]", () -> NET.forward(input(3, 2, 2), s));
    }
  }

  @Nested
  class WhenTheStateDoesNotFit {
    @Test
    void aStateForAnotherBatchNamesBothShapes() {
      assertMessage("state 'h_l0' of lstm(2, 3) expected shape [2, 3] (batch 2, hidden 3) but"
          + " got [7, 3]; the batch is read from the input" + TIME_MAJOR,
          () -> NET.forward(input(3, 2, 2), NET.initialState(7)));
    }

    @Test
    void aStateOfAnotherHiddenSizeNamesBothShapes() {
      State s = state(Tensor.zeros(DType.FLOAT32, 2, 3), Tensor.zeros(DType.FLOAT32, 2, 3),
          Tensor.zeros(DType.FLOAT32, 2, 7));
      assertMessage("state 'h_l1' of gru(3, 2) expected shape [2, 2] (batch 2, hidden 2) but got"
          + " [2, 7]", () -> NET.forward(input(3, 2, 2), s));
    }

    @Test
    void aStateOfTheWrongRankNamesBothShapes() {
      State s = state(Tensor.zeros(DType.FLOAT32, 1, 2, 3), Tensor.zeros(DType.FLOAT32, 2, 3),
          Tensor.zeros(DType.FLOAT32, 2, 2));
      assertMessage("state 'h_l0' of lstm(2, 3) expected shape [2, 3] (batch 2, hidden 3) but"
          + " got [1, 2, 3]", () -> NET.forward(input(3, 2, 2), s));
    }

    @Test
    void aBatchedStateForAnUnbatchedInputNamesBothShapes() {
      assertMessage("state 'h_l0' of lstm(2, 3) expected shape [3] or [1, 3] (hidden 3,"
              + " unbatched input) but got [2, 3]",
          () -> NET.forward(input(5, 2), NET.initialState(2)));
    }

    @Test
    void aMissingStateTensorIsNamed() {
      State s = State.of(List.of("h_l0", "h_l1"),
          List.of(Tensor.zeros(DType.FLOAT32, 2, 3), Tensor.zeros(DType.FLOAT32, 2, 2)));
      assertMessage("state has no tensor 'c_l0': the network expects [h_l0, c_l0, h_l1] but got"
          + " [h_l0, h_l1]", () -> NET.forward(input(3, 2, 2), s));
    }

    @Test
    void aStateTensorTheNetworkDoesNotHaveIsNamed() {
      Network three = network().lstm(2, 3).gru(3, 2).gru(2, 2).seed(3).build();
      assertMessage("state has a tensor 'h_l2' the network does not have (is it another"
              + " network's state?): the network expects [h_l0, c_l0, h_l1] but got [h_l0, c_l0,"
              + " h_l1, h_l2]",
          () -> NET.forward(input(3, 2, 2), three.initialState(2)));
    }

    @Test
    void aStateOfAnotherNetworkWithOtherNamesIsNamed() {
      Network gru = network().gru(2, 3).build();
      assertMessage("state has no tensor 'c_l0': the network expects [h_l0, c_l0, h_l1] but got"
          + " [h_l0]", () -> NET.forward(input(3, 2, 2), gru.initialState(2)));
    }
  }

  @Nested
  class WhenStepping {
    @ParameterizedTest(name = "x_t of rank {0}")
    @ValueSource(ints = {0, 3})
    void aWrongRankNamesTheStepShapes(int rank) {
      int[] dims = rank == 0 ? new int[0] : new int[] {1, 2, 2};
      assertMessage("step expected x_t of shape [batch, 2] or [2] but got "
          + Tensor.zeros(DType.FLOAT32, dims).shape(), () -> NET.step(input(dims), null));
    }

    @Test
    void aWrongFeatureSizeNamesTheStepShapes() {
      assertAll(
          () -> assertMessage("step expected x_t of shape [batch, 2] or [2] but got [4, 7]",
              () -> NET.step(input(4, 7), null)),
          () -> assertMessage("step expected x_t of shape [batch, 2] or [2] but got [7]",
              () -> NET.step(input(7), null)));
    }

    @Test
    void anEmptyBatchIsRefused() {
      assertMessage("step expected x_t of shape [batch, 2] with batch >= 1 but got [0, 2]",
          () -> NET.step(input(0, 2), null));
    }

    @Test
    void nanIsNamedByItsIndexInXt() {
      assertAll(
          () -> assertMessage("x_t holds NaN at [2, 1]",
              () -> NET.step(with(input(4, 2), 5, Double.NaN), null)),
          () -> assertMessage("x_t holds NaN at [2, 1]",
              () -> BATCH_FIRST.step(with(input(4, 2), 5, Double.NaN), null)),
          () -> assertMessage("x_t holds NaN at [1]",
              () -> NET.step(with(input(2), 1, Double.NaN), null)));
    }

    @Test
    void aStateForAnotherBatchNamesBothShapes() {
      State s = NET.step(input(4, 2), null).state();
      assertMessage("state 'h_l0' of lstm(2, 3) expected shape [7, 3] (batch 7, hidden 3) but"
          + " got [4, 3]", () -> NET.step(input(7, 2), s));
    }

    @Test
    void aStateHoldingInfinityIsRefused() {
      State ok = NET.step(input(2), null).state();
      State s = State.of(NET.stateNames(), List.of(ok.get("h_l0"),
          with(ok.get("c_l0"), 1, Double.POSITIVE_INFINITY), ok.get("h_l1")));
      assertMessage("state 'c_l0' holds Infinity at [1]", () -> NET.step(input(2), s));
    }
  }

  @Nested
  class WhenTheArgumentsFit {
    @Test
    void unbatchedStatesMayBeVectorsOrSingleRows() {
      Tensor x = input(5, 2);
      State vectors = NET.forward(x, null).state();
      State rows = State.of(NET.stateNames(), vectors.list().stream()
          .map(t -> t.reshape(1, t.dim(0))).toList());
      assertEquals(NET.forward(x, vectors).output(), NET.forward(x, rows).output());
    }

    @Test
    void aFloat64StateIsConvertedToTheNetworksDtype() {
      State s = State.of(NET.stateNames(), NET.initialState(2).list().stream()
          .map(t -> t.to(DType.FLOAT64)).toList());
      assertEquals(NET.forward(input(3, 2, 2), NET.initialState(2)).output(),
          NET.forward(input(3, 2, 2), s).output());
    }
  }
}
