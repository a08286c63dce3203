package dev.rnn.examples;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The top command: help, version, the showcase placeholder and unknown commands. */
class MainTest {
  @Nested
  class WhenAskedForHelp {
    @Test
    void helpListsTheTorchCaseCommand() {
      Invocation r = Invocation.of("--help");
      assertAll(
          () -> assertEquals(0, r.exitCode()),
          () -> assertTrue(r.out().startsWith("Usage: rnn-examples [-hV] [COMMAND]\n"), r.out()),
          () -> assertTrue(r.outLines().stream().anyMatch(l -> l.startsWith("  torch-case  ")),
              r.out()),
          () -> assertEquals("", r.err()));
    }

    @Test
    void torchCaseHelpSaysOutIsWrittenEvenWhenAResultFails() {
      Invocation r = Invocation.of("torch-case", "--help");
      assertAll(
          () -> assertEquals(0, r.exitCode()),
          () -> assertTrue(
              r.out().startsWith("Usage: rnn-examples torch-case [-hV] [--verbose] IN OUT\n"),
              r.out()),
          () -> assertTrue(r.out().contains("(OUT is still written)"), r.out()),
          () -> assertEquals("", r.err()));
    }

    @Test
    void versionNamesTheBuiltVersion() {
      Invocation r = Invocation.of("--version");
      assertAll(
          () -> assertEquals(0, r.exitCode()),
          () -> assertTrue(r.out().startsWith("rnn-examples "), r.out()),
          () -> assertFalse(r.out().contains("unknown version"), r.out()),
          () -> assertFalse(r.out().contains("${"), r.out()));
    }
  }

  @Nested
  class WithNoArguments {
    @Test
    void printsTheUsageToStdoutAndSucceeds() {
      Invocation r = Invocation.of();
      assertAll(
          () -> assertEquals(0, r.exitCode()),
          () -> assertEquals(Invocation.of("--help").out(), r.out()),
          () -> assertEquals("", r.err()));
    }
  }

  @Nested
  class WhenTheCommandIsUnknown {
    @Test
    void namesItSuggestsTheNearestAndExitsWithTwo() {
      Invocation r = Invocation.of("torch-cas");
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("rnn-examples: Unmatched argument at index 0: 'torch-cas'"
              + " (did you mean 'torch-case'?)\n"
              + "Try 'rnn-examples --help' for more information.\n", r.err()),
          () -> assertEquals("", r.out()));
    }
  }
}
