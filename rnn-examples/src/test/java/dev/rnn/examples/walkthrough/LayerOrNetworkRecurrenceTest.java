package dev.rnn.examples.walkthrough;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Walkthrough 1 prints the seed numbers, where the modes differ, and why, step by step. */
class LayerOrNetworkRecurrenceTest {
  static final Printed OUT = Printed.of(LayerOrNetworkRecurrence.run());

  @Test
  void opensWithItsQuestion() {
    assertEquals("Walkthrough 1: is the recurrence at the layer level or at the network level?",
        OUT.lines().get(0));
  }

  @Test
  void bothModesGiveTheSeedNumbersOnThePositiveInput() {
    assertAll(
        () -> OUT.assertLine("1. On x = [[1, 1], [2, 2], [3, 3]]"),
        () -> OUT.assertLine("STATES y = [[4], [20], [64]]"),
        () -> OUT.assertLine("OUTPUTS y = [[4], [20], [64]]"));
  }

  @Test
  void theModesDifferOnAnInputWithANegativePreActivation() {
    assertAll(
        () -> OUT.assertLine("2. On x = [[-1, -1], [2, 2], [1, 1]]"),
        () -> OUT.assertLine("STATES y = [[0], [8], [28]]"),
        () -> OUT.assertLine("OUTPUTS y = [[0], [0], [4]]"));
  }

  @Nested
  class StepByStep {
    @Test
    void statesCarriesTheActivatedHiddenState() {
      // t, x_t, the pre-activation, h1_t = relu(.) (carried and passed up), h3_t, y_t
      assertEquals(List.of(
              "t x_t W_ih x_t + W_hh h1_{t-1} h1_t = relu(.) h3_t (carried) y_t",
              "1 [-1, -1] [-2, -2] [0, 0] [0] [0]",
              "2 [2, 2] [4, 4] [4, 4] [8] [8]",
              "3 [1, 1] [10, 10] [10, 10] [28] [28]"),
          OUT.following("STATES: layer 1 carries h1", 4));
    }

    @Test
    void outputsCarriesThePreActivationAndPassesItsReluUp() {
      // t, x_t, s1_t (carried), relu(s1_t) (passed up), s3_t, y_t
      assertEquals(List.of(
              "t x_t s1_t (carried) y2_t = relu(s1_t) (passed up) s3_t (carried) y_t",
              "1 [-1, -1] [-2, -2] [0, 0] [0] [0]",
              "2 [2, 2] [0, 0] [0, 0] [0] [0]",
              "3 [1, 1] [2, 2] [2, 2] [4] [4]"),
          OUT.following("OUTPUTS: layer 1 carries s1", 4));
    }
  }

  @Test
  void printsTheDescriptionOfBothNetworks() {
    assertAll(
        () -> assertEquals(2, OUT.allAfter("network().recurrent(2, 2).relu().recurrent(2, 1)")
            .size(), OUT.text()),
        () -> OUT.after("stacking: STATES"),
        () -> OUT.after("stacking: OUTPUTS"));
  }
}
