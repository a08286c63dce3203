package dev.rnn.examples.train;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Line charts to PNG: sizes, grids, logarithmic axes, atomic writes and misuse. */
class PlotsTest {
  @TempDir
  Path dir;

  private static final double[] X = {0, 1, 2, 3};

  private static Plots.Chart chart(String title) {
    return Plots.chart(title, "x", "y").line("a", X, new double[] {4, 3, 2, 1});
  }

  @Test
  void aChartIsWrittenAsAPngOfItsSize() throws IOException {
    Path png = dir.resolve("one.png");
    Plots.writePng(png, chart("one").size(640, 360).reference("baseline", 2.5));
    Quick.assertPng(png, 640, 360);
  }

  @Test
  void chartsAreLaidOutRowByRowInTheGivenNumberOfColumns() throws IOException {
    Path png = dir.resolve("grid.png");
    Plots.writePng(png, 2, List.of(chart("a").size(300, 200), chart("b"), chart("c")));
    Quick.assertPng(png, 600, 400);
  }

  @Test
  void aLogarithmicAxisLeavesOutValuesThatAreNotPositive() throws IOException {
    Path png = dir.resolve("log.png");
    Plots.writePng(png, Plots.chart("log", "x", "y").logY()
        .line("a", X, new double[] {1e-3, 0, Double.NaN, 10})
        .reference("zero, left out", 0)
        .reference("one", 1));
    Quick.assertPng(png, 800, 500);
  }

  @Test
  void writingReplacesAnOldFileAndCreatesMissingDirectories() throws IOException {
    Path png = dir.resolve("a/b/c.png");
    Plots.writePng(png, chart("first"));
    long first = Files.size(png);
    Plots.writePng(png, chart("second, with a longer title than the first").size(900, 500));
    assertAll(
        () -> Quick.assertPng(png, 900, 500),
        () -> assertEquals(List.of("c.png"), Files.list(png.getParent())
            .map(p -> p.getFileName().toString()).toList(), "no temporary file left"),
        () -> assertEquals(true, Files.size(png) != first));
  }

  @Nested
  class WhenMisused {
    @Test
    void aChartWithoutLinesIsNotDrawn() {
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> Plots.writePng(dir.resolve("x.png"), Plots.chart("empty", "x", "y")));
      assertEquals("chart 'empty' has no line to draw", e.getMessage());
    }

    @Test
    void twoLinesCannotShareAName() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> chart("t").reference("a", 1));
      assertEquals("chart 't' already has a line named 'a'", e.getMessage());
    }

    @Test
    void xAndYMustHaveOneLength() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Plots.chart("t", "x", "y").line("b", X, new double[7]));
      assertEquals("line 'b' expected x and y of one non-zero length but got 4 and 7",
          e.getMessage());
    }

    @Test
    void aFailedWriteLeavesTheOldFile() throws IOException {
      Path png = dir.resolve("keep.png");
      Plots.writePng(png, chart("kept"));
      byte[] before = Files.readAllBytes(png);
      assertThrows(IllegalStateException.class,
          () -> Plots.writePng(png, 1, List.of(chart("ok"), Plots.chart("empty", "x", "y"))));
      assertEquals(List.of("keep.png"), Files.list(dir).map(p -> p.getFileName().toString())
          .toList());
      assertEquals(before.length, Files.readAllBytes(png).length);
    }
  }
}
