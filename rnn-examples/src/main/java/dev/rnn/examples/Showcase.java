package dev.rnn.examples;

import dev.rnn.core.Tensor;
import dev.rnn.dsl.Stacking;
import dev.rnn.examples.train.Example;
import dev.rnn.examples.train.Progress;
import dev.rnn.examples.train.Setup;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * What {@code java -jar rnn-examples.jar} does with no command: the project's answer to its
 * question, a model trained with a live progress bar, and pictures of both, in under a minute.
 *
 * <ol>
 *   <li>The seed network {@code recurrent(2,2).relu().recurrent(2,1)} (weights one, biases zero)
 *       in both stacking modes with their equations: {@code [4], [20], [64]} either way; then an
 *       input on which the modes differ.
 *   <li>An LSTM learning next-step prediction of noisy sine waves, with a progress bar, against
 *       the baseline of repeating the last value.
 *   <li>Files in the output folder: the loss curve and forecast (PNG), the loss log (CSV), and the
 *       seed network unrolled over three steps in each mode (SVG).
 * </ol>
 */
final class Showcase {
  /** An input on which the two stacking modes differ: the first step is negative. */
  static final double[][] DIFFERING_INPUT = {{-1, -1}, {2, 2}, {1, 1}};

  private Showcase() {}

  /** Runs the showcase, writing into {@code dir}; returns the files written. */
  static List<Path> run(PrintWriter out, Path dir, Progress progress) throws IOException {
    // Before any output or work: a --out that is a file, or under one, fails here, not in part 3.
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new FileSystemException(dir.toString(), null, "is not a directory");
    }
    Files.createDirectories(dir);
    List<Path> files = new ArrayList<>();
    out.println("rnn: recurrent neural networks in Java. Is the recurrence at the layer level or at"
        + " the network level?");
    out.println();
    out.println("== 1. The seed network, in both stacking modes ==");
    out.println();
    SeedCommand.report(out, SeedCommand.SEED_INPUT, List.of(Stacking.STATES, Stacking.OUTPUTS),
        true, false);
    out.println("== 2. An input where the modes differ ==");
    out.println();
    out.println("STATES puts the relu inside layer 1's recurrence, so layer 1 carries relu(-2) = 0"
        + " from step 1; OUTPUTS applies it to the output sequence only, so the recurrence"
        + " carries -2 itself:");
    out.println();
    SeedCommand.report(out, DIFFERING_INPUT, List.of(Stacking.STATES, Stacking.OUTPUTS), false,
        false);
    out.println("== 3. Training: an LSTM learns to forecast noisy sine waves ==");
    out.println();
    out.flush();
    files.addAll(Example.SINE.run(new Setup(1, OptionalInt.empty(), false, dir, progress, out)));
    out.println();
    out.println("== 4. The seed network unrolled over 3 steps ==");
    out.println();
    for (Stacking mode : List.of(Stacking.STATES, Stacking.OUTPUTS)) {
      Path svg = dir.resolve("graph-" + mode.name().toLowerCase(java.util.Locale.ROOT) + ".svg");
      OutputFile.writeText(svg, SeedCommand.seedNetwork(mode).graphSvg(3));
      files.add(svg);
    }
    out.println("wrote:");
    for (Path f : files) {
      out.println("  " + f);
    }
    out.println();
    out.println("BLAS: " + Tensor.blasImplementation() + ". Next: --help lists the commands;"
        + " 'walkthrough' explains, 'train --example adding' compares Elman, LSTM and GRU.");
    return files;
  }
}
