package dev.rnn.examples.walkthrough;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.examples.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** {@code rnn-examples walkthrough [N|NAME]} finds, lists and prints the walkthroughs. */
class WalkthroughCommandTest {
  /** Exit code, stdout and stderr of one run of the command line, line ends {@code \n}. */
  record Run(int exitCode, String out, String err) {
    static Run of(String... args) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int code;
      try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
          PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
        code = Main.run(o, e, args);
      }
      String nl = System.lineSeparator();
      return new Run(code, out.toString(StandardCharsets.UTF_8).replace(nl, "\n"),
          err.toString(StandardCharsets.UTF_8).replace(nl, "\n"));
    }
  }

  @Test
  void withoutAnArgumentListsEveryWalkthrough() {
    Run r = Run.of("walkthrough");
    assertAll(
        () -> assertEquals(0, r.exitCode()),
        () -> assertEquals(Walkthrough.values().length, r.out().lines().count(), r.out()),
        () -> assertTrue(r.out().startsWith(
            "1  layer-or-network           Is the recurrence per layer or per network?\n"),
            r.out()),
        () -> assertEquals("", r.err()));
  }

  @Test
  void helpListsEveryWalkthroughAsTheEnumDoes() {
    Run r = Run.of("walkthrough", "--help");
    assertAll(Stream.of(Walkthrough.values()).map(w -> () -> assertTrue(r.out().contains(
        String.format("  %d  %-26s %s\n", w.number(), w.id(), w.question())), r.out())));
  }

  @Nested
  class WhenNamed {
    @Test
    void byNumberPrintsThatWalkthrough() {
      Run r = Run.of("walkthrough", "1");
      assertAll(
          () -> assertEquals(0, r.exitCode()),
          () -> assertEquals(LayerOrNetworkRecurrence.run(), r.out()),
          () -> assertEquals("", r.err()));
    }

    @Test
    void byNamePrintsThatWalkthrough() {
      Run r = Run.of("walkthrough", "Matching-Torch");
      assertAll(
          () -> assertEquals(0, r.exitCode()),
          () -> assertTrue(r.out().startsWith("Walkthrough 3: matching torch.nn.RNN exactly\n"),
              r.out()));
    }

    @Test
    void everyNumberFindsTheWalkthroughWithThatNumberAndName() {
      for (Walkthrough w : Walkthrough.values()) {
        assertEquals(w, Walkthrough.find(Integer.toString(w.number())).orElseThrow());
        assertEquals(w, Walkthrough.find(w.id()).orElseThrow());
      }
    }
  }

  @Test
  void anUnknownWalkthroughIsBadUsage() {
    Run r = Run.of("walkthrough", "7");
    assertAll(
        () -> assertEquals(2, r.exitCode()),
        () -> assertEquals("", r.out()),
        () -> assertEquals("rnn-examples walkthrough: unknown walkthrough '7': expected 1 to 4"
            + " or one of layer-or-network, feed-forward-to-recurrent, matching-torch,"
            + " outputs-and-batching\n"
            + "Try 'rnn-examples walkthrough --help' for more information.\n", r.err()));
  }
}
