package dev.rnn.dsl;

import static dev.rnn.dsl.Rnn.network;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.core.DType;
import dev.rnn.core.Tensor;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The builder, the two stacking modes on hand-worked numbers, hand-off and validation. */
class NetworkTest {
  static final Tensor SEED_INPUT = Tensor.ofRows(new double[][] {{1, 1}, {2, 2}, {3, 3}});

  static Network seed(Stacking mode) {
    return network().recurrent(2, 2).relu().recurrent(2, 1).stacking(mode)
        .initializer(Initializer.constant(1, 0)).build();
  }

  @Nested
  class TheSeedNetwork {
    @ParameterizedTest
    @EnumSource(Stacking.class)
    void givesFourTwentySixtyFourInBothModes(Stacking mode) {
      Tensor out = seed(mode).forward(SEED_INPUT);
      assertEquals(Tensor.of(new float[] {4, 20, 64}, 3, 1), out);
    }

    @Test
    void compilesAndRunsAsWrittenInAnApp() {
      var net = network().recurrent(2, 2).relu().recurrent(2, 1).build();
      String d = net.describe();
      assertAll(
          () -> assertTrue(d.startsWith("network().recurrent(2, 2).relu().recurrent(2, 1)\n"), d),
          () -> assertTrue(d.contains("stacking: OUTPUTS"), d),
          () -> assertEquals(3, net.forward(SEED_INPUT).dim(0)));
    }
  }

  @Nested
  class WhenTheModesDiffer {
    // x = [-1,-1], [2,2], [1,1], all weights one, biases zero.
    // STATES:  h1 = relu(-2) = 0 is carried: h1 = [0,0], [4,4], [10,10]; y = 0, 8, 28.
    // OUTPUTS: s1 = -2 is carried as it is: s1 = -2, 4 - 4 = 0, 2 + 0 = 2; relu(s1) = 0, 0, 2;
    //          y = 0, 0 + 0, 4 + 0 = 0, 0, 4.
    static final Tensor NEGATIVE_FIRST = Tensor.ofRows(new double[][] {{-1, -1}, {2, 2}, {1, 1}});

    @Test
    void statesCarriesTheActivatedHiddenState() {
      assertEquals(Tensor.of(new float[] {0, 8, 28}, 3, 1),
          seed(Stacking.STATES).forward(NEGATIVE_FIRST));
    }

    @Test
    void outputsCarriesThePreActivationState() {
      assertEquals(Tensor.of(new float[] {0, 0, 4}, 3, 1),
          seed(Stacking.OUTPUTS).forward(NEGATIVE_FIRST));
    }

    @Test
    void describeSaysWhereTheActivationSits() {
      String states = seed(Stacking.STATES).describe();
      String outputs = seed(Stacking.OUTPUTS).describe();
      assertAll(
          () -> assertTrue(states.contains("h1_t = relu(W_ih_l0 · x_t + W_hh_l0 · h1_{t-1} + b_l0)"),
              states),
          () -> assertTrue(states.contains("h3_t = W_ih_l1 · h1_t + W_hh_l1 · h3_{t-1} + b_l1"),
              states),
          () -> assertTrue(outputs.contains("s1_t = W_ih_l0 · x_t + W_hh_l0 · s1_{t-1} + b_l0"),
              outputs),
          () -> assertTrue(outputs.contains("y2_t = relu(s1_t)"), outputs),
          () -> assertTrue(outputs.contains("s3_t = W_ih_l1 · y2_t + W_hh_l1 · s3_{t-1} + b_l1"),
              outputs));
    }
  }

  @Nested
  class WhenStatesAreHandedOff {
    @Test
    void theFirstLayersFinalStateStartsTheSecond() {
      // Layer 1 (linear) ends at s1_T = [22, 22]; layer 2 starts there:
      // t1: 2 * relu(2) + 2 * 22 = 48; t2: 2 * 8 + 2 * 48 = 112; t3: 2 * 22 + 2 * 112 = 268.
      Network net = network().recurrent(2, 2).relu().recurrent(2, 2).handOffStates()
          .initializer(Initializer.constant(1, 0)).build();
      Network.Result r = net.forward(SEED_INPUT, null);
      assertAll(
          () -> assertEquals(Tensor.of(new float[] {48, 48, 112, 112, 268, 268}, 3, 2),
              r.output()),
          () -> assertEquals(Tensor.of(new float[] {22, 22}, 2), r.state().get("h_l0")),
          () -> assertEquals(Tensor.of(new float[] {268, 268}, 2), r.state().get("h_l1")));
    }

    @Test
    void withoutHandOffTheSecondStartsAtZero() {
      Network net = network().recurrent(2, 2).relu().recurrent(2, 2)
          .initializer(Initializer.constant(1, 0)).build();
      assertEquals(Tensor.of(new float[] {4, 4, 24, 24, 92, 92}, 3, 2), net.forward(SEED_INPUT));
    }
  }

  @Nested
  class WhenStreaming {
    @Test
    void stepByStepEqualsTheWholeSequence() {
      Network net = network().lstm(2, 3).gru(3, 2).dense(2, 1).seed(3).build();
      Tensor x = Tensor.randn(DType.FLOAT32, 4, 5, 2, 2);
      Network.Result whole = net.forward(x, null);
      State s = null;
      for (int t = 0; t < 5; t++) {
        Network.Result r = net.step(x.select(0, t), s);
        s = r.state();
        float[] expected = whole.output().select(0, t).toFloatArray();
        assertArrayEquals(expected, r.output().toFloatArray(), 1e-6f);
      }
      assertArrayEquals(whole.state().get("c_l0").toFloatArray(),
          s.get("c_l0").toFloatArray(), 1e-6f);
    }
  }

  @Nested
  class WhenTheBuilderIsMisused {
    private void assertMessage(Class<? extends Throwable> type, String message,
        Executable call) {
      Throwable e = assertThrows(type, call);
      assertEquals(message, e.getMessage());
    }

    @Test
    void inputSizeDiffersFromThePreviousOutput() {
      assertMessage(IllegalArgumentException.class,
          "recurrent(3, 1) expects input size 2 (the output of layer 1, recurrent(2, 2)) but got 3",
          () -> network().recurrent(2, 2).relu().recurrent(3, 1).build());
    }

    @Test
    void aBidirectionalLayerDoublesItsOutput() {
      assertMessage(IllegalArgumentException.class,
          "dense(3, 1) expects input size 6 (the output of layer 1, lstm(2, 3).bidirectional())"
              + " but got 3",
          () -> network().lstm(2, 3).bidirectional().dense(3, 1).build());
    }

    @Test
    void stackingSetTwice() {
      assertMessage(IllegalStateException.class, "stacking was already set to STATES",
          () -> network().recurrent(2, 2).stacking(Stacking.STATES).stacking(Stacking.OUTPUTS));
    }

    @Test
    void emptyNetwork() {
      assertMessage(IllegalStateException.class,
          "network() has no layers: add one, e.g. network().recurrent(2, 2)",
          () -> network().build());
    }

    @Test
    void handOffBetweenDifferentSizes() {
      assertMessage(IllegalArgumentException.class,
          "handOffStates: layer 1, recurrent(2, 3) hands its final state to layer 3,"
              + " recurrent(3, 2), but their state sizes differ: 3 and 2",
          () -> network().recurrent(2, 3).relu().recurrent(3, 2).handOffStates().build());
    }

    @Test
    void handOffUnderStates() {
      assertMessage(IllegalStateException.class,
          "stacking(STATES) does not go with handOffStates(): under Stacking.STATES the hidden"
              + " sequence, not the final state, feeds the next layer",
          () -> network().recurrent(2, 2).recurrent(2, 2).handOffStates()
              .stacking(Stacking.STATES));
      assertMessage(IllegalStateException.class,
          "handOffStates() needs Stacking.OUTPUTS: under Stacking.STATES the hidden sequence,"
              + " not the final state, feeds the next layer",
          () -> network().recurrent(2, 2).recurrent(2, 2).stacking(Stacking.STATES)
              .handOffStates());
    }

    @Test
    void peepholesOnAGru() {
      assertMessage(IllegalStateException.class,
          "peepholes() must follow lstm(in, out) but follows gru(2, 3)",
          () -> network().gru(2, 3).peepholes());
    }

    @Test
    void bidirectionalFirst() {
      assertMessage(IllegalStateException.class,
          "bidirectional() must follow a recurrent layer but follows nothing",
          () -> network().bidirectional());
    }

    @Test
    void recurrentAfterLastStep() {
      assertMessage(IllegalArgumentException.class,
          "gru(3, 2) (layer 3) needs a sequence but follows lastStep(), which keeps only the"
              + " final step",
          () -> network().lstm(2, 3).lastStep().gru(3, 2).build());
    }

    @Test
    void dropoutOutOfRange() {
      assertMessage(IllegalArgumentException.class, "dropout(p) expected 0 <= p < 1 but got 1.5",
          () -> network().dropout(1.5));
    }

    @Test
    void sizesBelowOne() {
      assertMessage(IllegalArgumentException.class, "lstm(0, 3) expected sizes >= 1",
          () -> network().lstm(0, 3));
    }

    @Test
    void inputWithTheWrongFeatureSize() {
      Network net = seed(Stacking.STATES);
      assertMessage(IllegalArgumentException.class,
          "recurrent(2, 2) expected input of shape [seq, batch, 2] or [seq, 2] but got [3, 7]"
              + NetworkValidationTest.TIME_MAJOR,
          () -> net.forward(Tensor.zeros(DType.FLOAT32, 3, 7)));
    }
  }
}
