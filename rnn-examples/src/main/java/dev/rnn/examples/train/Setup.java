package dev.rnn.examples.train;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.OptionalInt;

/**
 * How to run a training {@link Example}.
 *
 * @param seed the seed of the data, the initial weights, the shuffling and the sampling
 * @param epochs the number of epochs, or empty for the example's own choice
 * @param quick a short version (smaller data and model, fewer epochs) that runs in seconds
 * @param dir the directory the CSV and PNG files are written to (created if needed)
 * @param progress where live progress goes
 * @param report where the results are printed, as each run ends
 */
public record Setup(long seed, OptionalInt epochs, boolean quick, Path dir, Progress progress,
    PrintWriter report) {
  /**
   * Checks the values.
   *
   * @param seed the seed of the data, the initial weights, the shuffling and the sampling
   * @param epochs the number of epochs, or empty for the example's own choice
   * @param quick a short version (smaller data and model, fewer epochs) that runs in seconds
   * @param dir the directory the CSV and PNG files are written to (created if needed)
   * @param progress where live progress goes
   * @param report where the results are printed, as each run ends
   * @throws IllegalArgumentException if {@code epochs} is present and less than 1
   */
  public Setup {
    checkNotNull(epochs, "epochs");
    checkNotNull(dir, "dir");
    checkNotNull(progress, "progress");
    checkNotNull(report, "report");
    checkArgument(epochs.isEmpty() || epochs.getAsInt() >= 1, "epochs expected >= 1 but got %s",
        epochs.isEmpty() ? "" : epochs.getAsInt());
  }

  /** The number of epochs: the one asked for, else {@code quick} or {@code full}. */
  int epochsOr(int quickEpochs, int fullEpochs) {
    return epochs.orElse(quick ? quickEpochs : fullEpochs);
  }
}
