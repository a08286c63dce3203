package dev.rnn.examples.train;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.io.PrintStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Where live progress goes: a progress bar (me.tongfei progressbar) on a terminal's stderr, or
 * nowhere.
 *
 * <pre>{@code
 * Progress progress = Progress.onStderr(!noProgress);   // nowhere unless a terminal
 * try (Progress.Bar bar = progress.start("sine", steps)) {
 *   trainer.listener(e -> bar.step("loss " + e.loss()));
 *   ...
 * }
 * }</pre>
 *
 * <p>The bar redraws itself from a thread of its own; close it before printing to the terminal.
 */
public final class Progress {
  private static final Progress NONE = new Progress(null);

  private final PrintStream stream;

  private Progress(PrintStream stream) {
    this.stream = stream;
  }

  /**
   * No progress shown: every bar it starts does nothing.
   *
   * @return the silent progress
   */
  public static Progress none() {
    return NONE;
  }

  /**
   * Progress bars on {@code System.err} when {@code wanted} and the program runs in a terminal
   * ({@code System.console() != null}); otherwise {@link #none()}, so that logs and pipes get no
   * control characters.
   *
   * @param wanted whether bars are asked for
   * @return the progress
   */
  public static Progress onStderr(boolean wanted) {
    return wanted && System.console() != null ? new Progress(System.err) : NONE;
  }

  /**
   * Progress bars on {@code stream}, whatever it is.
   *
   * @param stream where bars are drawn
   * @return the progress
   */
  public static Progress on(PrintStream stream) {
    return new Progress(checkNotNull(stream, "stream"));
  }

  /** {@return whether bars are shown} */
  public boolean shown() {
    return stream != null;
  }

  /**
   * A new bar named {@code task} that is complete after {@code total} steps.
   *
   * @param task the bar's name
   * @param total the number of steps
   * @return the bar, which the caller closes
   * @throws IllegalArgumentException if {@code total < 0}
   */
  public Bar start(String task, long total) {
    checkNotNull(task, "task");
    checkArgument(total >= 0, "progress expected total >= 0 but got %s", total);
    if (stream == null) {
      return new Bar(null);
    }
    boolean utf8 = Charset.defaultCharset().equals(StandardCharsets.UTF_8);
    return new Bar(new ProgressBarBuilder()
        .setTaskName(task)
        .setInitialMax(total)
        .setStyle(utf8 ? ProgressBarStyle.COLORFUL_UNICODE_BLOCK : ProgressBarStyle.ASCII)
        .setConsumer(new ConsoleProgressBarConsumer(stream))
        .setUpdateIntervalMillis(200)
        .setUnit(" steps", 1)
        .build());
  }

  /** One progress bar; {@link #close()} draws it complete and ends its line. */
  public static final class Bar implements AutoCloseable {
    private final ProgressBar bar;

    private Bar(ProgressBar bar) {
      this.bar = bar;
    }

    /**
     * One step done; {@code message} is shown after the bar until the next one.
     *
     * @param message the text after the bar
     */
    public void step(String message) {
      if (bar != null) {
        bar.setExtraMessage(message);
        bar.step();
      }
    }

    @Override
    public void close() {
      if (bar != null) {
        bar.close();
      }
    }
  }
}
