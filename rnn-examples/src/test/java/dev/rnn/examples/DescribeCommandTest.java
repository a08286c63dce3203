package dev.rnn.examples;

import static dev.rnn.examples.SeedCommandTest.asPrinted;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.dsl.Rnn;
import dev.rnn.dsl.Stacking;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code rnn-examples describe --net SPEC}: the network's own description, and bad specs. */
class DescribeCommandTest {
  static final String SEED = "recurrent(2, 2).relu().recurrent(2, 1)";

  @Nested
  class WithAGoodSpec {
    @Test
    void printsWhatTheNetworkDescribes() {
      Invocation r = Invocation.of("describe", "--net", SEED);
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertEquals("", r.err()),
          () -> assertEquals(asPrinted(Rnn.parse(SEED).build().describe()) + "\n", r.out()),
          () -> assertTrue(r.out().startsWith("network().recurrent(2, 2).relu().recurrent(2, 1)\n"
              + "stacking: OUTPUTS"), r.out()));
    }

    @ParameterizedTest(name = "--stacking {0}")
    @CsvSource({"states, STATES", "STATES, STATES", "Outputs, OUTPUTS"})
    void theStackingOptionSetsTheMode(String option, Stacking mode) {
      Invocation r = Invocation.of("describe", "--net", SEED, "--stacking", option);
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertEquals(asPrinted(Rnn.parse(SEED).stacking(mode).build().describe()) + "\n",
              r.out()),
          () -> assertTrue(r.outLines().get(1).startsWith("stacking: " + mode), r.out()));
    }

    @Test
    void underStatesTheReluIsInsideLayerOne() {
      Invocation r = Invocation.of("describe", "--net", SEED + ".stacking(states)");
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertTrue(r.out().contains(
              "layer 1: recurrent(2, 2), with relu inside the recurrence (layer 2)\n"), r.out()));
    }
  }

  @Nested
  class WithABadSpec {
    private void assertUsageError(String message, String... args) {
      Invocation r = Invocation.of(args);
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("", r.out()),
          () -> assertEquals("rnn-examples describe: " + message + "\n"
              + "Try 'rnn-examples describe --help' for more information.\n", r.err()));
    }

    @Test
    void anUnknownLayer() {
      assertUsageError("Invalid value for option '--net': spec 'recurrent(2, 2).foo()' at"
              + " position 16: unknown layer 'foo' (expected one of embedding, recurrent, elman,"
              + " lstm, gru, dense, relu, tanh, sigmoid, dropout, lastStep, bidirectional,"
              + " peepholes, projection, noBias, learnableInitialState, stacking, handOffStates,"
              + " batchFirst)",
          "describe", "--net", "recurrent(2, 2).foo()");
    }

    @Test
    void sizesThatDoNotFit() {
      assertUsageError("Invalid value for option '--net': spec 'recurrent(2, 2).relu()"
              + ".recurrent(7, 1)' at position 23: recurrent(7, 1) expects input size 2 (the"
              + " output of layer 1, recurrent(2, 2)) but got 7",
          "describe", "--net", "recurrent(2, 2).relu().recurrent(7, 1)");
    }

    @Test
    void handOffUnderStates() {
      assertUsageError("Invalid value for option '--stacking': states: stacking(STATES) does not"
              + " go with handOffStates(): under Stacking.STATES the hidden sequence, not the final"
              + " state, feeds the next layer",
          "describe", "--net", "recurrent(2, 2).recurrent(2, 2).handOffStates()", "--stacking",
          "states");
    }

    @Test
    void stackingInTheSpecAndAsAnOption() {
      assertUsageError("Invalid value for option '--stacking': outputs, but the spec already says"
              + " stacking(states): give one or the other",
          "describe", "--net", SEED + ".stacking(states)", "--stacking", "outputs");
    }

    @Test
    void anUnknownStacking() {
      assertUsageError("Invalid value for option '--stacking': expected states or outputs but"
          + " got 'both'", "describe", "--net", SEED, "--stacking", "both");
    }

    @Test
    void noSpec() {
      assertUsageError("Missing required option: '--net=SPEC'", "describe");
    }
  }
}
