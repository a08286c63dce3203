package dev.rnn.examples.train;

import dev.rnn.examples.OutputFile;
import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static com.google.common.base.Preconditions.checkState;

import com.google.errorprone.annotations.CanIgnoreReturnValue;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Line charts written as PNG files (XChart), headless.
 *
 * <pre>{@code
 * Plots.Chart loss = Plots.chart("sine: next-step MSE", "epoch", "MSE").logY()
 *     .line("held-out", epochs, heldOut)
 *     .dashed("train", epochs, train)
 *     .reference("predict the last value", 0.085);
 * Plots.writePng(out.resolve("sine.png"), loss);
 * }</pre>
 *
 * <p>Lines take the colours of a fixed palette in the order they are added: add them in the same
 * order to every chart of a grid and each name has one colour throughout. On a logarithmic axis,
 * values that are not positive are left out (a gap in the line).
 */
final class Plots {
  static {
    // No display is needed, or wanted, to draw into an image.
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  /** The colours of lines, in turn (Tableau 10). */
  private static final Color[] PALETTE = {
      new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44),
      new Color(214, 39, 40), new Color(148, 103, 189), new Color(140, 86, 75),
      new Color(227, 119, 194), new Color(188, 189, 34), new Color(23, 190, 207)};

  private static final Color REFERENCE = new Color(90, 90, 90);

  private static final Color GRID = new Color(225, 225, 225);

  /** The dash patterns of reference lines, in turn: dashes, dots, dash-dot. */
  private static final float[][] DASHES = {{8f, 5f}, {2f, 4f}, {10f, 4f, 2f, 4f}};

  private Plots() {}

  /**
   * A new, empty chart of 800 x 500 pixels.
   *
   * @param title the chart's title
   * @param xTitle the x axis's title
   * @param yTitle the y axis's title
   * @return a new chart
   */
  public static Chart chart(String title, String xTitle, String yTitle) {
    return new Chart(checkNotNull(title, "title"), checkNotNull(xTitle, "xTitle"),
        checkNotNull(yTitle, "yTitle"));
  }

  /**
   * Writes {@code chart} to {@code file} as a PNG, atomically (a temporary file renamed).
   *
   * @param file the file written or replaced
   * @param chart the chart
   * @throws IllegalStateException if the chart has no line
   * @throws IOException if the file cannot be written; a previous file is left as it was
   */
  public static void writePng(Path file, Chart chart) throws IOException {
    writePng(file, 1, List.of(chart));
  }

  /**
   * Writes {@code charts} to {@code file} as one PNG, row by row in a grid of {@code columns}
   * columns (the last row may have empty cells, left white), each cell the size of the first
   * chart, atomically.
   *
   * @param file the file written or replaced
   * @param columns the number of columns of the grid
   * @param charts the charts, in reading order
   * @throws IllegalArgumentException if there is no chart or {@code columns < 1}
   * @throws IllegalStateException if a chart has no line
   * @throws IOException if the file cannot be written; a previous file is left as it was
   */
  public static void writePng(Path file, int columns, List<Chart> charts) throws IOException {
    checkArgument(!charts.isEmpty(), "writePng expected at least one chart");
    checkArgument(columns >= 1, "writePng expected columns >= 1 but got %s", columns);
    int w = charts.get(0).width;
    int h = charts.get(0).height;
    int cols = Math.min(columns, charts.size());
    int rows = (charts.size() + cols - 1) / cols;
    BufferedImage grid = new BufferedImage(cols * w, rows * h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = grid.createGraphics();
    try {
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, grid.getWidth(), grid.getHeight());
      for (int i = 0; i < charts.size(); i++) {
        BufferedImage img = BitmapEncoder.getBufferedImage(charts.get(i).draw(w, h));
        g.drawImage(img, (i % cols) * w, (i / cols) * h, null);
      }
    } finally {
      g.dispose();
    }
    OutputFile.writeCreatingDirectory(file, out -> {
      if (!ImageIO.write(grid, "png", out)) {
        throw new IOException("no PNG writer in this Java runtime");
      }
    });
  }

  /** A line chart being put together: lines, reference lines, axis options. */
  public static final class Chart {
    private record Line(String name, double[] x, double[] y, int color, boolean dashed) {}

    private final String title;
    private final String xTitle;
    private final String yTitle;
    private final List<Line> lines = new ArrayList<>();
    private final List<Line> references = new ArrayList<>();
    private final Set<String> names = new LinkedHashSet<>();
    private boolean logY;
    private boolean legendInside;
    private int width = 800;
    private int height = 500;

    private Chart(String title, String xTitle, String yTitle) {
      this.title = title;
      this.xTitle = xTitle;
      this.yTitle = yTitle;
    }

    /**
     * Adds a solid line through the points {@code (x[i], y[i])}, in the next colour; NaN values
     * are gaps.
     *
     * @param name the name in the legend
     * @param x the x values
     * @param y the y values
     * @return this chart
     * @throws IllegalArgumentException if {@code x} and {@code y} differ in length, are empty,
     *     or the name is already used in this chart
     */
    @CanIgnoreReturnValue
    public Chart line(String name, double[] x, double[] y) {
      int color = lines.isEmpty() ? 0 : lines.get(lines.size() - 1).color + 1;
      return add(name, x, y, color, false);
    }

    /**
     * Adds a dashed line in the colour of the line added before it: its companion, e.g. a run's
     * training loss beside its held-out loss.
     *
     * @param name the name in the legend
     * @param x the x values
     * @param y the y values
     * @return this chart
     * @throws IllegalStateException if there is no line before it
     * @throws IllegalArgumentException as {@link #line}
     */
    @CanIgnoreReturnValue
    public Chart dashed(String name, double[] x, double[] y) {
      checkState(!lines.isEmpty(), "dashed line '%s' needs a line before it, whose colour it"
          + " takes", name);
      return add(name, x, y, lines.get(lines.size() - 1).color, true);
    }

    private Chart add(String name, double[] x, double[] y, int color, boolean dashed) {
      checkNotNull(name, "name");
      checkArgument(x.length == y.length && x.length > 0,
          "line '%s' expected x and y of one non-zero length but got %s and %s", name, x.length,
          y.length);
      checkArgument(names.add(name), "chart '%s' already has a line named '%s'", title, name);
      lines.add(new Line(name, x.clone(), y.clone(), color, dashed));
      return this;
    }

    /**
     * Adds a grey horizontal line at {@code y} across the x range of the lines, e.g. a
     * baseline, named in the legend; the first is dashed, the second dotted, the third
     * dash-dotted.
     *
     * @param name the name in the legend
     * @param y the height of the line
     * @return this chart
     * @throws IllegalArgumentException if the name is already used in this chart
     */
    @CanIgnoreReturnValue
    public Chart reference(String name, double y) {
      checkNotNull(name, "name");
      checkArgument(names.add(name), "chart '%s' already has a line named '%s'", title, name);
      references.add(new Line(name, null, new double[] {y}, -1, true));
      return this;
    }

    /**
     * Puts the legend inside the plot, in its top right corner, one line per entry (default:
     * below the plot, entries side by side).
     *
     * @return this chart
     */
    @CanIgnoreReturnValue
    public Chart legendInside() {
      this.legendInside = true;
      return this;
    }

    /**
     * Makes the y axis logarithmic.
     *
     * @return this chart
     */
    @CanIgnoreReturnValue
    public Chart logY() {
      this.logY = true;
      return this;
    }

    /**
     * The size in pixels (default 800 x 500).
     *
     * @param width the width
     * @param height the height
     * @return this chart
     * @throws IllegalArgumentException unless both are at least 100
     */
    @CanIgnoreReturnValue
    public Chart size(int width, int height) {
      checkArgument(width >= 100 && height >= 100,
          "chart size expected at least 100 x 100 but got %s x %s", width, height);
      this.width = width;
      this.height = height;
      return this;
    }

    private XYChart draw(int w, int h) {
      checkState(!lines.isEmpty(), "chart '%s' has no line to draw", title);
      XYChart chart = new XYChartBuilder().width(w).height(h).title(title)
          .xAxisTitle(xTitle).yAxisTitle(yTitle).build();
      XYStyler s = chart.getStyler();
      s.setChartBackgroundColor(Color.WHITE);
      s.setPlotGridLinesColor(GRID);
      if (legendInside) {
        s.setLegendPosition(Styler.LegendPosition.InsideNE);
        s.setLegendBackgroundColor(new Color(255, 255, 255, 230));
      } else {
        s.setLegendPosition(Styler.LegendPosition.OutsideS);
        s.setLegendLayout(Styler.LegendLayout.Horizontal);
      }
      chart.getStyler().setYAxisLogarithmic(logY);
      double xMin = Double.POSITIVE_INFINITY;
      double xMax = Double.NEGATIVE_INFINITY;
      for (Line l : lines) {
        double[] y = logY ? positiveOrNaN(l.y) : l.y;
        XYSeries series = chart.addSeries(l.name, l.x, y);
        series.setMarker(SeriesMarkers.NONE);
        series.setLineColor(PALETTE[l.color % PALETTE.length]);
        series.setLineStyle(l.dashed
            ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f,
                new float[] {7f, 4f}, 0f)
            : new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        for (double v : l.x) {
          xMin = Math.min(xMin, v);
          xMax = Math.max(xMax, v);
        }
      }
      for (int i = 0; i < references.size(); i++) {
        Line r = references.get(i);
        if (logY && !(r.y[0] > 0)) {
          continue;
        }
        XYSeries series = chart.addSeries(r.name, new double[] {xMin, xMax},
            new double[] {r.y[0], r.y[0]});
        series.setMarker(SeriesMarkers.NONE);
        series.setLineColor(REFERENCE);
        series.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER,
            10f, DASHES[i % DASHES.length], 0f));
      }
      return chart;
    }

    private static double[] positiveOrNaN(double[] y) {
      double[] p = new double[y.length];
      for (int i = 0; i < y.length; i++) {
        p[i] = y[i] > 0 ? y[i] : Double.NaN;
      }
      return p;
    }
  }
}
