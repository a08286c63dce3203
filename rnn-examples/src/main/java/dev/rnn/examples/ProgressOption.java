package dev.rnn.examples;

import dev.rnn.examples.train.Progress;
import picocli.CommandLine.Option;

/**
 * The {@code --no-progress} option, mixed into a command with {@code @Mixin ProgressOption
 * progress;}: the command's progress bar shows on a terminal's stderr unless it is given.
 */
final class ProgressOption {
  @Option(names = "--no-progress",
      description = "Show no progress bar (it shows only on a terminal anyway).")
  boolean noProgress;

  /** {@return where the command's progress goes: a bar on a terminal's stderr, or nowhere} */
  Progress progress() {
    return Progress.onStderr(!noProgress);
  }
}
