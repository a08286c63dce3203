package dev.rnn.examples.walkthrough;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Walkthrough 2 prints that only the recurrent network remembers, the weights by what they
 * connect, and that {@code W [x; h] = W_ih x + W_hh h}.
 */
class FeedForwardToRecurrentTest {
  static final Printed OUT = Printed.of(FeedForwardToRecurrent.run());

  @Test
  void opensWithItsQuestion() {
    assertEquals("Walkthrough 2: from a feed-forward network to a recurrent one",
        OUT.lines().get(0));
  }

  @Nested
  class OnTwoSequencesThatDifferOnlyAtStepOne {
    @Test
    void theFeedForwardNetworkGivesTheSameLaterOutputs() {
      assertAll(
          () -> OUT.assertLine("feed-forward y(a) = [[-0.065], [-0.0528], [0.1763]]"),
          () -> OUT.assertLine("y(b) = [[0.1435], [-0.0528], [0.1763]]"),
          () -> assertEquals(0, OUT.numberAfter("max |y(a) - y(b)| at steps 2 and 3:")));
    }

    @Test
    void theRecurrentNetworkRemembersStepOne() {
      assertAll(
          () -> OUT.assertLine("recurrent y(a) = [[0.1025], [0.2895], [0.1842]]"),
          () -> OUT.assertLine("y(b) = [[0.2399], [0.2806], [0.2361]]"),
          () -> assertEquals("5.2e-02",
              OUT.allAfter("max |y(a) - y(b)| at steps 2 and 3:").get(1)));
    }
  }

  @Test
  void listsTheWeightsInputToHiddenHiddenToHiddenAndHiddenToOutput() {
    assertAll(
        () -> OUT.assertLine("recurrent: 55 numbers"),
        () -> OUT.assertLine(
            "weight_ih_l0 [4, 3] input -> hidden x_t (3) -> h1_t (4), same step"),
        () -> OUT.assertLine("weight_hh_l0 [4, 4] hidden -> hidden, recurrence"
            + " h1_{t-1} (4) -> h1_t (4), across time"),
        () -> OUT.assertLine("weight_ih_l1 [2, 4] hidden -> hidden, next layer"
            + " h1_t (4) -> h2_t (2), same step"),
        () -> OUT.assertLine("weight_hh_l1 [2, 2] hidden -> hidden, recurrence"
            + " h2_{t-1} (2) -> h2_t (2), across time"),
        () -> OUT.assertLine(
            "dense0.weight [1, 2] hidden -> output h2_t (2) -> y_t (1), same step"),
        () -> OUT.assertLine("feed-forward: 29 numbers, and no hidden -> hidden weight across"
            + " time"),
        () -> OUT.assertLine("bias_hh [H]): 26 more numbers here."));
  }

  @Nested
  class TheConcatenationCheck {
    @Test
    void joinsTheWeightsAlongColumns() {
      OUT.assertLine("W = [W_ih | W_hh] = Tensor.concat(1, weight_ih_l0 [4, 3], weight_hh_l0"
          + " [4, 4]) -> [4, 7]");
    }

    @Test
    void givesTheSameVectorBothWays() {
      assertAll(
          () -> assertEquals("[0.3987, 0.5635, 0.1506, 0.1745]", OUT.after("W [x; h] =")),
          () -> assertEquals("[0.3987, 0.5635, 0.1506, 0.1745]",
              OUT.after("W_ih x + W_hh h =")),
          () -> assertTrue(OUT.numberAfter("max abs difference:") < 1e-12, OUT.text()));
    }

    @Test
    void isTheNetworksOwnNextState() {
      assertAll(
          () -> assertEquals("[0.4334, 0.2058, 0.5861, -0.1035]",
              OUT.after("tanh(W [x; h] + b_ih + b_hh) =")),
          () -> assertEquals("[0.4334, 0.2058, 0.5861, -0.1035]",
              OUT.after("h1_2 from the network =")),
          () -> assertTrue(Double.parseDouble(
              OUT.allAfter("max abs difference:").get(1).split(" ")[0]) < 1e-12,
              OUT.text()));
    }
  }
}
