package dev.rnn.examples;

import static dev.rnn.examples.SeedCommandTest.asPrinted;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.dsl.Network;
import dev.rnn.dsl.Rnn;
import dev.rnn.dsl.Stacking;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.w3c.dom.Document;

/** {@code rnn-examples graph --net SPEC}: DOT on stdout, DOT or SVG to a file, and errors. */
class GraphCommandTest {
  static final String SEED = "recurrent(2, 2).relu().recurrent(2, 1)";

  @TempDir
  Path dir;

  static Network seed(Stacking mode) {
    return Rnn.parse(SEED).stacking(mode).build();
  }

  List<Path> files() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().toList();
    }
  }

  @Nested
  class WithoutOut {
    @Test
    void printsTheDotOfThreeSteps() {
      Invocation r = Invocation.of("graph", "--net", SEED);
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertEquals("", r.err()),
          () -> assertEquals(asPrinted(seed(Stacking.OUTPUTS).graph(3)), r.out()),
          () -> assertTrue(r.out().contains("digraph \"unrolled\" {\n"), r.out()),
          () -> assertTrue(r.out().endsWith("}\n"), r.out()));
    }

    @Test
    void takesTheStackingAndTheSteps() {
      Invocation r = Invocation.of("graph", "--net", SEED, "--stacking", "states", "--steps",
          "5");
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertEquals(asPrinted(seed(Stacking.STATES).graph(5)), r.out()),
          () -> assertTrue(r.out().contains("\"l1_5\" [label=\"h1_5\\nrelu inside\""), r.out()));
    }

    @Test
    void printsSvgWhenAskedTo() {
      Invocation r = Invocation.of("graph", "--net", SEED, "--format", "SVG");
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertEquals(asPrinted(seed(Stacking.OUTPUTS).graphSvg(3)), r.out()));
    }
  }

  @Nested
  class WithOut {
    @Test
    void writesSvgForADotSvgFileAndPrintsThePath() throws Exception {
      Path out = dir.resolve("seed.svg");
      Invocation r = Invocation.of("graph", "--net", SEED, "--stacking", "states", "--out",
          out.toString());
      String written = Files.readString(out, UTF_8);
      DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
      f.setNamespaceAware(true);
      Document d = f.newDocumentBuilder().parse(out.toFile());
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertEquals("", r.err()),
          () -> assertEquals(out + "\n", r.out()),
          () -> assertEquals(seed(Stacking.STATES).graphSvg(3), written),
          () -> assertEquals("svg", d.getDocumentElement().getLocalName()),
          () -> assertEquals(List.of(out), files(), "no temporary file is left"));
    }

    @Test
    void writesDotForAnyOtherName() throws IOException {
      Path out = dir.resolve("seed.gv");
      Invocation r = Invocation.of("graph", "--net", SEED, "--out", out.toString());
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertEquals(seed(Stacking.OUTPUTS).graph(3), Files.readString(out, UTF_8)));
    }

    @Test
    void theFormatOptionWinsOverTheName() throws IOException {
      Path out = dir.resolve("graph.svg");
      Invocation r = Invocation.of("graph", "--net", SEED, "--format", "dot", "--out",
          out.toString());
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertTrue(Files.readString(out, UTF_8).contains("digraph")));
    }

    @Test
    void replacesAnExistingFile() throws IOException {
      Path out = dir.resolve("seed.svg");
      Files.writeString(out, "old and much longer than nothing at all ".repeat(1000));
      Invocation r = Invocation.of("graph", "--net", SEED, "--out", out.toString());
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertEquals(seed(Stacking.OUTPUTS).graphSvg(3), Files.readString(out, UTF_8)),
          () -> assertEquals(List.of(out), files()));
    }

    @Test
    void aMissingDirectoryFailsWithOneAndWritesNothing() throws IOException {
      Path out = dir.resolve("missing").resolve("seed.svg");
      Invocation r = Invocation.of("graph", "--net", SEED, "--out", out.toString());
      assertAll(
          () -> assertEquals(1, r.exitCode()),
          () -> assertEquals("", r.out()),
          () -> assertEquals("rnn-examples graph: " + out + ": cannot write, directory "
              + out.getParent().toAbsolutePath() + " does not exist\n", r.err()),
          () -> assertEquals(List.of(), files()));
    }

    @Test
    void aDirectoryFailsWithOne() {
      Invocation r = Invocation.of("graph", "--net", SEED, "--out", dir.toString());
      assertAll(
          () -> assertEquals(1, r.exitCode()),
          () -> assertEquals("rnn-examples graph: " + dir + ": is a directory, not a regular file:"
              + " not replaced\n",
              r.err()));
    }
  }

  @Nested
  class WhenUsedBadly {
    private void assertUsageError(String message, String... args) throws IOException {
      Invocation r = Invocation.of(args);
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("", r.out()),
          () -> assertEquals("rnn-examples graph: " + message + "\n"
              + "Try 'rnn-examples graph --help' for more information.\n", r.err()));
      assertFalse(Files.exists(dir.resolve("g.svg")), "no FILE is written");
    }

    @ParameterizedTest(name = "--steps {0}")
    @ValueSource(strings = {"0", "51"})
    void stepsOutOfRange(String steps) throws IOException {
      assertUsageError("Invalid value for option '--steps': graphSvg(steps) expected 1 <= steps"
              + " <= 50 but got " + steps + " (one column is drawn per step)",
          "graph", "--net", SEED, "--steps", steps, "--out", dir.resolve("g.svg").toString());
    }

    @Test
    void zeroStepsOfDot() throws IOException {
      assertUsageError("Invalid value for option '--steps': graph(steps) expected 1 <= steps"
          + " <= 50 but got 0 (one column is drawn per step)", "graph", "--net", SEED, "--steps",
          "0");
    }

    @Test
    void stepsNotANumber() throws IOException {
      assertUsageError("Invalid value for option '--steps': 'three' is not an int", "graph",
          "--net", SEED, "--steps", "three");
    }

    @Test
    void anUnknownFormat() throws IOException {
      assertUsageError("Invalid value for option '--format': expected dot or svg but got 'png'",
          "graph", "--net", SEED, "--format", "png");
    }

    @Test
    void aSpecThatDoesNotBuild() throws IOException {
      assertUsageError("Invalid value for option '--net': spec 'lstm(2, 3).bidirectional()"
              + ".dense(3, 1)' at position 27: dense(3, 1) expects input size 6 (the output of"
              + " layer 1, lstm(2, 3).bidirectional()) but got 3",
          "graph", "--net", "lstm(2, 3).bidirectional().dense(3, 1)", "--out",
          dir.resolve("g.svg").toString());
    }

    @Test
    void noSpec() throws IOException {
      assertUsageError("Missing required option: '--net=SPEC'", "graph", "--steps", "4");
    }
  }
}
