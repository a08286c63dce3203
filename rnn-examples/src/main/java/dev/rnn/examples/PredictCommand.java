package dev.rnn.examples;

import dev.rnn.core.Safetensors;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.Rnn;
import dev.rnn.examples.train.Progress;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code predict} command: runs a saved network ({@code fit --out}, or {@link
 * dev.rnn.dsl.Network#save}) over the inputs of a data directory and writes its outputs, example
 * by example in the order read, to a safetensors file.
 *
 * <p>The output file holds {@code outputs} {@code [N, T, O]} ({@code [N, O]} for a network ending
 * in {@code lastStep()}), example-major as the data, in the network's dtype; with {@code
 * --probabilities} also {@code probabilities}, their softmax over the last dimension (for a
 * network trained with cross-entropy, whose outputs are logits). Targets in the shards are not
 * needed and not read beyond their checks.
 *
 * <p>With {@code lengths} in the shards, each example runs over its own steps only, as {@link
 * Network#forward(Tensor, int[], dev.rnn.dsl.State)}: the padding is never read, per-step outputs
 * are zero after each example's end, and a {@code lastStep()} output is its last real step.
 */
@Command(
    name = "predict",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    sortOptions = false,
    description = {
        "Runs a saved network over the inputs of a data directory and writes its outputs.",
        "",
        "Example:",
        "  rnn-examples predict --model model.safetensors --data test",
        "      --out predictions.safetensors",
        ""},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:success",
        "1:the model, the data or the output is wrong (the message says why)",
        "2:bad usage"})
final class PredictCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, paramLabel = "FILE",
      description = "The network: a checkpoint written by fit --out.")
  Path model;

  @Option(names = "--data", required = true, paramLabel = "DIR",
      description = "The data directory whose inputs are run (targets are not needed).")
  Path data;

  @Option(names = "--out", required = true, paramLabel = "FILE",
      description = "The safetensors file written: outputs [N, T, O] (or [N, O]).")
  Path out;

  @Option(names = "--batch", paramLabel = "B", defaultValue = "256",
      description = "Examples per forward pass (default ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--probabilities",
      description = "Also write probabilities, the softmax of the outputs over their last"
          + " dimension (for a classifier).")
  boolean probabilities;

  @Mixin
  ProgressOption progress;

  @Mixin
  VerboseOption verbose;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if (batch < 1) {
      throw new ParameterException(spec.commandLine(),
          "--batch expected a number >= 1 but got " + batch);
    }
    Network net = Rnn.load(model);
    DataDirectory d = DataDirectory.read(data, net.dtype(), false);
    d.checkFits(net, "--data " + data);
    Tensor x = d.inputsFor(net);
    int n = d.examples();
    int batchDim = net.batchFirst() ? 0 : 1;
    int[] lengths = d.lengths();
    List<Tensor> parts = new ArrayList<>();
    try (Progress.Bar bar = progress.progress().start("predict",
        (n + batch - 1) / batch)) {
      for (int from = 0; from < n; from += batch) {
        int to = Math.min(n, from + batch);
        Tensor xs = x.slice(batchDim, from, to);
        parts.add(lengths == null ? net.predict(xs, batch)
            : net.forward(xs, Arrays.copyOfRange(lengths, from, to), null).output());
        bar.step(String.format(Locale.ROOT, "%d/%d examples", Math.min(n, from + batch), n));
      }
    }
    boolean perStep = !net.lastStepOnly();
    Tensor outputs = Tensor.concat(perStep && !net.batchFirst() ? 1 : 0, parts);
    if (perStep && !net.batchFirst()) {
      outputs = outputs.transpose(0, 1);
    }
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("outputs", outputs);
    if (probabilities) {
      tensors.put("probabilities", softmax(outputs));
    }
    Safetensors.write(out, tensors, Map.of("format", "rnn-predictions/1", "spec", net.spec(),
        "model", model.getFileName().toString()));
    PrintWriter o = spec.commandLine().getOut();
    o.printf(Locale.ROOT, "predict %s on %s: %d examples; outputs %s%n", net.spec(), data, n,
        outputs.shape());
    o.println("wrote " + out);
    o.flush();
    return ExitCode.OK;
  }

  /** The softmax over the last dimension, as {@link Network#classProbabilities} computes it. */
  static Tensor softmax(Tensor z) {
    int c = z.dim(-1);
    double[] p = z.toDoubleArray();
    for (int row = 0; row < p.length; row += c) {
      double max = Double.NEGATIVE_INFINITY;
      for (int k = 0; k < c; k++) {
        max = Math.max(max, p[row + k]);
      }
      double sum = 0;
      for (int k = 0; k < c; k++) {
        p[row + k] = Math.exp(p[row + k] - max);
        sum += p[row + k];
      }
      for (int k = 0; k < c; k++) {
        p[row + k] /= sum;
      }
    }
    return Tensor.of(p, z.shape().dims()).to(z.dtype());
  }
}
