package dev.rnn.examples.train;

import dev.rnn.examples.OutputFile;
import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.collect.ImmutableList;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The losses of one or more training runs, epoch by epoch, written as a CSV file:
 *
 * <pre>
 *   run,epoch,steps,seconds,train_LOSS,heldout_LOSS
 *   lstm T=50,1,313,2.41,0.18312,0.17661
 * </pre>
 *
 * <p>{@code LOSS} names the loss and its unit, e.g. {@code mse} or {@code nats_per_char};
 * {@code steps} counts optimizer steps and {@code seconds} the training time, both since the
 * run's start; {@code train} is the mean loss of the epoch's updates and {@code heldout} the loss
 * on held-out data after the epoch (epoch 0: before training, with an empty {@code train}).
 */
final class LossLog {
  /**
   * One line of the log.
   *
   * @param train NaN where there is none (epoch 0)
   */
  public record Row(String run, int epoch, long steps, double seconds, double train,
      double heldOut) {}

  private final String loss;
  private final List<Row> rows = new ArrayList<>();

  /**
   * An empty log of the loss named {@code loss}, as it appears in the column names.
   *
   * @param loss the loss's name, e.g. {@code mse}
   * @throws IllegalArgumentException unless the name is letters, digits and underscores
   */
  public LossLog(String loss) {
    checkArgument(loss.matches("[A-Za-z0-9_]+"),
        "loss name expected letters, digits and _ (a CSV column name) but got '%s'", loss);
    this.loss = loss;
  }

  /**
   * Adds a row.
   *
   * @param row the row
   * @throws IllegalArgumentException if the run's name holds a comma, quote or line break
   */
  public void add(Row row) {
    checkNotNull(row, "row");
    checkArgument(!row.run().matches("(?s).*[,\"\\r\\n].*"),
        "run name expected no comma, quote or line break but got '%s'", row.run());
    rows.add(row);
  }

  /** {@return every row, in the order added} */
  public ImmutableList<Row> rows() {
    return ImmutableList.copyOf(rows);
  }

  /** {@return the names of the runs, in the order of their first row} */
  public ImmutableList<String> runs() {
    Set<String> names = new LinkedHashSet<>();
    rows.forEach(r -> names.add(r.run()));
    return ImmutableList.copyOf(names);
  }

  /**
   * The rows of {@code run}, in order.
   *
   * @param run the run's name
   * @return the rows, empty if there are none
   */
  public ImmutableList<Row> rows(String run) {
    return rows.stream().filter(r -> r.run().equals(run)).collect(ImmutableList.toImmutableList());
  }

  /** {@return the CSV text: the header line, then one line per row} */
  public String csv() {
    StringBuilder sb = new StringBuilder();
    sb.append("run,epoch,steps,seconds,train_").append(loss).append(",heldout_").append(loss)
        .append('\n');
    for (Row r : rows) {
      sb.append(String.format(Locale.ROOT, "%s,%d,%d,%.3f,%s,%s%n", r.run(), r.epoch(), r.steps(),
          r.seconds(), number(r.train()), number(r.heldOut())));
    }
    return sb.toString().replace(System.lineSeparator(), "\n");
  }

  /**
   * Writes {@link #csv()} to {@code file}, atomically.
   *
   * @param file the file written or replaced; its directory is created if missing
   * @throws IOException if the file cannot be written
   */
  public void writeCsv(Path file) throws IOException {
    String text = csv();
    OutputFile.writeCreatingDirectory(file, out -> {
      Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
      w.write(text);
      w.flush();
    });
  }

  private static String number(double v) {
    return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6g", v);
  }
}
