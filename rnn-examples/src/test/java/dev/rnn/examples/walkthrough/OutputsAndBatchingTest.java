package dev.rnn.examples.walkthrough;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Walkthrough 4 prints the output against the state, the layouts, stacked states, and a
 * training loss that falls.
 */
class OutputsAndBatchingTest {
  static final Printed OUT = Printed.of(OutputsAndBatching.run());

  @Test
  void opensWithItsQuestion() {
    assertEquals("Walkthrough 4: what does an RNN output, and how are sequences batched?",
        OUT.lines().get(0));
  }

  @Test
  void theLastOutputStepOfOneLayerIsItsFinalState() {
    assertAll(
        () -> OUT.assertLine("output [4, 2, 3]: h_t for every step t of every sequence"),
        () -> OUT.assertLine(
            "t = 4: [[-0.5713, -0.7183, -0.6355], [-0.8844, -0.8538, 0.3347]]"),
        () -> OUT.assertLine("h_l0: [[-0.5713, -0.7183, -0.6355], [-0.8844, -0.8538, 0.3347]]"),
        () -> assertTrue(OUT.after("output[T] equals h_l0:").startsWith("true"), OUT.text()));
  }

  @Test
  void lastStepKeepsOnlyTheFinalState() {
    assertAll(
        () -> OUT.assertLine(
            "output [2, 3] = [[-0.5713, -0.7183, -0.6355], [-0.8844, -0.8538, 0.3347]]"),
        () -> assertTrue(OUT.after("equal to h_l0 above:").startsWith("true"), OUT.text()));
  }

  @Test
  void batchFirstIsTheSameNumbersTransposed() {
    assertAll(
        () -> OUT.assertLine("time first: x [4, 2, 2] -> output [4, 2, 3], state h_l0 [2, 3]"),
        () -> OUT.assertLine("batch first: x.transpose(0, 1) [2, 4, 2] -> output [2, 4, 3],"
            + " state h_l0 [2, 3]"),
        () -> OUT.assertLine(
            "max |output_bf - output_tf.transpose(0, 1)| = 0, max |h_bf - h_tf| = 0:"));
  }

  @Test
  void stackedLayersHaveAStateEachAndTheOutputIsTheTopOnes() {
    assertAll(
        () -> OUT.assertLine("output [4, 2, 3], state [h_l0, h_l1]: one h per layer, each [2, 3]"),
        () -> OUT.assertLine(
            "h_l1 (layer 2, at T): [[-0.5921, 0.7558, -0.0591], [-0.2912, 0.6274, -0.0438]]"),
        () -> OUT.assertLine(
            "output[T]: [[-0.5921, 0.7558, -0.0591], [-0.2912, 0.6274, -0.0438]]"),
        () -> assertTrue(OUT.after("output[T] equals h_l1:").startsWith("true; equals h_l0: false"),
            OUT.text()),
        () -> assertTrue(OUT.text().contains("torch stacks as h_n [2, 2, 3]"), OUT.text()));
  }

  @Test
  void miniBatchTrainingLowersTheLoss() {
    List<Double> losses = OUT.allAfter("epoch ").stream()
        .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).toList();
    double before = OUT.numberAfter("MSE before training:");
    double after = OUT.numberAfter("96 updates; MSE after training:");
    assertAll(
        () -> OUT.assertLine("[-1, 1]: inputs [8, 64, 1] [seq, batch, 1]; the target of each"
            + " sequence is the mean of"),
        () -> OUT.assertLine("MSE before training: 0.164 (always answering 0 would give 0.0506)"),
        () -> assertEquals(OutputsAndBatching.EPOCHS, losses.size(), OUT.text()),
        () -> assertTrue(losses.get(losses.size() - 1) < losses.get(0) / 4, losses::toString),
        () -> assertTrue(after < before / 10, OUT.text()),
        () -> assertTrue(after < 0.0506 / 4, OUT.text()));
  }

  @Test
  void aRaggedBatchWithLengthsGivesEachSequenceItsOwnAnswer() {
    String without = OUT.after("h_l0 of sequence 2:");
    String with = OUT.allAfter("h_l0 of sequence 2:").get(1);
    String reverseWithout = OUT.after("reverse output at t = 1:");
    String reverseWith = OUT.allAfter("reverse output at t = 1:").get(1);
    assertAll(
        () -> assertTrue(without.contains("taken after the padding"), OUT.text()),
        () -> assertTrue(reverseWithout.contains("it started in the padding"), OUT.text()),
        () -> assertTrue(difference(without) > 1e-3, without),
        () -> assertTrue(difference(reverseWithout) > 1e-3, reverseWithout),
        () -> assertTrue(difference(with) < 1e-15, with),
        () -> assertTrue(difference(reverseWith) < 1e-15, reverseWith),
        () -> OUT.assertLine("output of sequence 2 at t = 3, 4 (after its end): [[0, 0, 0, 0, 0,"
            + " 0], [0, 0, 0, 0, 0, 0]]"),
        () -> assertTrue(OUT.text().contains("net.forward(List.of(x1, x2, x3)): the same"
            + " output: true;"), OUT.text()));
  }

  /** The number after {@code max difference } in a line. */
  private static double difference(String line) {
    String s = line.substring(line.indexOf("max difference ") + "max difference ".length());
    return Double.parseDouble(s.substring(0, s.indexOf(s.contains(":") ? ':' : ')')));
  }
}
