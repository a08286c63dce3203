package dev.rnn.examples.train;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Progress bars: shown on a stream, or nowhere. */
class ProgressTest {
  @Test
  void aBarOnAStreamShowsItsTaskTheCountAndTheMessage() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream stream = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    Progress p = Progress.on(stream);
    try (Progress.Bar bar = p.start("sine", 4)) {
      for (int i = 0; i < 4; i++) {
        bar.step("loss 0.25");
      }
    }
    String shown = bytes.toString(StandardCharsets.UTF_8);
    assertAll(
        () -> assertTrue(p.shown()),
        () -> assertTrue(shown.contains("sine"), shown),
        () -> assertTrue(shown.contains("100%"), shown),
        () -> assertTrue(shown.contains("4/4"), shown),
        () -> assertTrue(shown.contains("loss 0.25"), shown));
  }

  @Test
  void withoutATerminalNothingIsShown() {
    // Tests run without a console, as when the output goes to a file or a pipe.
    Progress p = Progress.onStderr(true);
    assertAll(
        () -> assertFalse(p.shown()),
        () -> assertFalse(Progress.onStderr(false).shown()),
        () -> assertFalse(Progress.none().shown()));
    try (Progress.Bar bar = p.start("nothing", 2)) {
      bar.step("ignored");
    }
  }

  @Test
  void noneIsOneSharedInstance() {
    assertEquals(Progress.none(), Progress.onStderr(false));
  }
}
