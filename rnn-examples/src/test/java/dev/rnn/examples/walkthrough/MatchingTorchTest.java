package dev.rnn.examples.walkthrough;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.core.TorchCase;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Walkthrough 3 prints torch's two biases, the torch case reproduced within tolerance, and the
 * two layouts agreeing.
 */
class MatchingTorchTest {
  static final Printed OUT = Printed.of(MatchingTorch.run());

  @Test
  void opensWithItsQuestion() {
    assertEquals("Walkthrough 3: matching torch.nn.RNN exactly", OUT.lines().get(0));
  }

  @Test
  void theCaseIsABatchFirstTanhRnnShippedNextToTheClass() {
    TorchCase c = TorchCase.of(MatchingTorch.readCase());
    assertAll(
        () -> assertTrue(c.batchFirst()),
        () -> assertEquals("rnn_tanh", c.stack().mode().torchName()),
        () -> OUT.assertLine("torch.nn.RNN(6, 3, num_layers=3, nonlinearity='tanh', bias=True,"
            + " batch_first=True) in float64"),
        () -> OUT.assertLine("input [3, 4, 6] = [batch 3, seq 4, features 6] (batch first)"));
  }

  @Nested
  class TwoBiases {
    @Test
    void elmanHasBothAndRecurrentOne() {
      assertAll(
          () -> OUT.assertLine("elman(6, 3, tanh): weight_ih_l0 [3, 6], weight_hh_l0 [3, 3],"
              + " bias_ih_l0 [3], bias_hh_l0 [3]"),
          () -> OUT.assertLine("recurrent(6, 3).tanh(): weight_ih_l0 [3, 6], weight_hh_l0 [3, 3],"
              + " bias_ih_l0 [3]"));
    }

    @Test
    void onlyTheirSumCounts() {
      assertAll(
          () -> OUT.assertLine("b_ih_l0 = [0.4724, 0.4508, 0.2166]"),
          () -> OUT.assertLine("b_hh_l0 = [0.5122, 0.5358, 0.2199]"),
          () -> OUT.assertLine("b = b_ih_l0 + b_hh_l0 = [0.9846, 0.9866, 0.4364]"),
          () -> assertTrue(
              OUT.numberAfter("max |elman - recurrent.tanh()| over the output:") < 1e-12,
              OUT.text()));
    }

    @Test
    void torchGivesThemTheSameGradient() {
      assertAll(
          () -> OUT.assertLine("torch dL/dbias_ih_l0 = [-0.6168, -3.0008, -2.1123]"),
          () -> OUT.assertLine("torch dL/dbias_hh_l0 = [-0.6168, -3.0008, -2.1123]"));
    }
  }

  @Nested
  class TheTorchCase {
    @Test
    void isBuiltWithTorchsParameterNames() {
      assertAll(
          () -> OUT.assertLine("network().elman(6, 3, tanh).elman(3, 3, tanh).elman(3, 3, tanh)"
              + ".batchFirst().dtype(FLOAT64)"),
          () -> OUT.assertLine("weight_ih_l0 [3, 6] <- case tensor 'weight_ih_l0' [3, 6]"),
          () -> OUT.assertLine("bias_hh_l2 [3] <- case tensor 'bias_hh_l2' [3]"),
          () -> assertEquals(0, OUT.numberAfter("its output differs from the one built by hand"
              + " by")));
    }

    @Test
    void isReproducedWithinTorchsTolerance() {
      assertAll(
          () -> assertTrue(OUT.after("output [3, 4, 3] max abs error").endsWith(
              "within tolerance: yes"), OUT.text()),
          () -> assertTrue(OUT.numberAfter("output [3, 4, 3] max abs error") < 1e-10),
          () -> assertTrue(OUT.after("h_n [3, 3, 3] max abs error").endsWith(
              "within tolerance: yes"), OUT.text()),
          () -> assertTrue(OUT.numberAfter("h_n [3, 3, 3] max abs error") < 1e-10),
          () -> assertEquals(List.of("this network: [0.612, -0.4052, 0.3676]",
              "torch: [0.612, -0.4052, 0.3676]"),
              OUT.following("For example, output[0, -1]", 2)));
    }
  }

  @Test
  void batchFirstAndTimeFirstGiveTheSameNumbersTransposed() {
    assertAll(
        () -> OUT.assertLine("batchFirst(): input [3, 4, 6] [batch, seq, features] -> output"
            + " [3, 4, 3] [batch, seq, H]"),
        () -> OUT.assertLine("time-first: input [4, 3, 6] [seq, batch, features] -> output"
            + " [4, 3, 3] [seq, batch, H]"),
        () -> assertEquals(0,
            OUT.numberAfter("max |output_bf - output_tf.transpose(0, 1)| =")),
        () -> assertEquals(0, OUT.numberAfter("h_n: [3, 3, 3] in both layouts, max difference")));
  }
}
