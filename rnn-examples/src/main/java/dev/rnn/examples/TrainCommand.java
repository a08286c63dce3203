package dev.rnn.examples;

import dev.rnn.core.Tensor;
import dev.rnn.examples.train.Example;
import dev.rnn.examples.train.Setup;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code train} command: runs one of the training {@link Example}s, with a progress bar on a
 * terminal's stderr, prints its results and the paths of the loss log (CSV) and plots (PNG) it
 * wrote.
 */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    sortOptions = false,
    description = {
        "Trains a recurrent network on one of the examples, prints the results and writes the"
            + " loss log (CSV) and plots (PNG) into the output directory.",
        "",
        "  sine    next-step prediction of noisy sine waves (MSE): an LSTM against",
        "          repeating the last value",
        "  adding  the adding problem (Hochreiter & Schmidhuber 1997) at length 50 and",
        "          100: Elman vs LSTM vs GRU against the 0.167 baseline of answering 1,",
        "          and the gradient norm ||dL/dh_t|| through time",
        "  charlm  a character-level LSTM language model of Genesis 1-12 (King James",
        "          Version): full vs truncated BPTT on time and loss, sampled text",
        "  brackets  balanced brackets or not: sentences of different lengths as token",
        "          ids, classified by an LSTM over each one's own steps",
        "  irnn    the adding problem at length 150 as in Le, Jaitly & Hinton (2015):",
        "          an IRNN (identity recurrent matrix, relu) vs Elman (tanh), LSTM and",
        "          GRU, against the 0.167 baseline",
        "",
        "A progress bar is shown on stderr when it is a terminal. Files are written",
        "atomically (a temporary file, then renamed).",
        ""},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:success",
        "1:the run failed, e.g. a file could not be written (the message says why)",
        "2:bad usage, e.g. an unknown example"})
final class TrainCommand implements Callable<Integer> {
  /** The most epochs a run may take: the examples need tens; each epoch keeps its loss. */
  static final int MAX_EPOCHS = 10_000;

  @Option(names = "--example", required = true, paramLabel = "NAME",
      description = "The example: sine, adding, charlm, brackets or irnn.")
  String example;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
      description = "The seed of the data, weights, shuffling and sampling"
          + " (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--epochs", paramLabel = "N",
      description = "The number of epochs, 1 to 10000 (default: the example's own).")
  Integer epochs;

  @Option(names = "--out", paramLabel = "DIR", defaultValue = "rnn-out",
      description = "Where to write the CSV and PNG files (default ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--quick",
      description = "A short version with less data, a smaller model and fewer epochs.")
  boolean quick;

  @Mixin
  ProgressOption progress;

  @Mixin
  VerboseOption verbose;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    Example e = Example.find(example).orElseThrow(() -> new ParameterException(
        spec.commandLine(), "unknown example '" + example + "': expected one of "
            + Example.ids()));
    if (epochs != null && (epochs < 1 || epochs > MAX_EPOCHS)) {
      throw new ParameterException(spec.commandLine(),
          "--epochs expected 1 to " + MAX_EPOCHS + " but got " + epochs);
    }
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new FileSystemException(out.toString(), null, "is not a directory");
    }
    // Before the training, not after it: a --out under a file fails in a second, not in minutes.
    Files.createDirectories(out);
    System.setProperty("java.awt.headless", "true");
    PrintWriter o = spec.commandLine().getOut();
    o.printf("train %s%s, seed %d; %d cores, Java %s, BLAS %s%n", e.id(), quick ? " (quick)" : "",
        seed, Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
        Tensor.blasImplementation());
    o.flush();
    Setup setup = new Setup(seed, epochs == null ? OptionalInt.empty() : OptionalInt.of(epochs),
        quick, out, progress.progress(), o);
    Main.working("training the " + e.id() + " example", 0);
    List<Path> files = e.run(setup);
    for (Path f : files) {
      o.println("wrote " + f);
    }
    o.flush();
    return ExitCode.OK;
  }
}
