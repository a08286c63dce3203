package dev.rnn.examples;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** The top command: help, version, the showcase placeholder and unknown commands. */
class MainTest {
  @Nested
  class WhenAskedForHelp {
    @Test
    void helpListsTheTorchCaseCommand() {
      Invocation r = Invocation.of("--help");
      assertAll(
          () -> assertEquals(0, r.exitCode()),
          () -> assertTrue(r.out().startsWith("Usage: rnn-examples [-hV] [--no-progress] [--out=DIR] [COMMAND]\n"), r.out()),
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
    void runsTheShowcaseAndWritesItsFiles(@TempDir Path dir) throws Exception {
      Invocation r = Invocation.of("--out", dir.toString(), "--no-progress");
      String out = r.out();
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertEquals("", r.err()),
          () -> assertTrue(out.contains("1  [1, 1]  [4]         [4]"), out),
          () -> assertTrue(out.contains("2  [2, 2]  [20]        [20]"), out),
          () -> assertTrue(out.contains("3  [3, 3]  [64]        [64]"), out),
          () -> assertTrue(out.contains("h1_t = relu(W_ih_l0 · x_t + W_hh_l0 · h1_{t-1} + b_l0)"),
              out),
          () -> assertTrue(out.contains("2  [2, 2]    [8]         [0]"), out),
          () -> assertTrue(out.contains("3  [1, 1]    [28]        [4]"), out),
          () -> assertTrue(out.contains("held-out MSE"), out));
      for (String name : List.of("sine.png", "sine-loss.csv", "graph-states.svg",
          "graph-outputs.svg")) {
        Path f = dir.resolve(name);
        assertTrue(Files.size(f) > 0, name);
        assertTrue(out.contains(f.toString()), () -> "the path of " + name + " is printed");
      }
      assertNotNull(ImageIO.read(dir.resolve("sine.png").toFile()));
      DocumentBuilderFactory.newInstance().newDocumentBuilder()
          .parse(dir.resolve("graph-outputs.svg").toFile());
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
              + " (did you mean 'torch-case', 'bench'?)\n"
              + "Try 'rnn-examples --help' for more information.\n", r.err()),
          () -> assertEquals("", r.out()));
    }
  }
}
