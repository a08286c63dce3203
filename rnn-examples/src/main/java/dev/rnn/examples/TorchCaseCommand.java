package dev.rnn.examples;

import com.google.common.collect.ImmutableMap;
import dev.rnn.core.Safetensors;
import dev.rnn.core.Tensor;
import dev.rnn.core.TorchCase;
import dev.rnn.dsl.TorchCaseRun;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The {@code torch-case} command: runs one torch reference case forward and backward, writes the
 * results, and compares them with torch's.
 *
 * <p>The network is built by the DSL ({@link dev.rnn.dsl.Rnn#fromTorchCase}: {@code elman},
 * {@code lstm} (with {@code projection(p)} for a format-2 case's {@code proj_size}) or {@code
 * gru} per layer, with the case's parameters) and run by {@link TorchCaseRun#run}, each sequence
 * over its own steps when a format-2 case has {@code lengths}. The results are in the case's dtype, under the names of the case's
 * {@code expected.*} tensors ({@code output}, {@code h_n}, {@code c_n}, {@code grad.<parameter>},
 * {@code grad.input}, {@code grad.h0}, {@code grad.c0}), with metadata {@code format} = {@value
 * #FORMAT} and the case's {@code mode} and {@code dtype}. OUT is written atomically and only after
 * the case was read and run, so a failure leaves no OUT behind. Each expected tensor is compared
 * within {@link TorchCase#close}'s tolerances: float64 absolute 1e-10 plus relative 1e-8, float32
 * absolute 1e-5 plus relative 1e-4.
 */
@Command(
    name = "torch-case",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    sortOptions = false,
    description = {
        "Runs a torch reference case and compares the results with torch's.",
        "",
        "Reads the case IN (format rnn-torch-case/1 or /2), runs its recurrent stack forward"
            + " and backward (with a format-2 case's lengths, each sequence over its own steps;"
            + " with its proj_size, projected LSTM layers), writes every result to OUT and"
            + " compares each with torch's result in the case (expected.*).",
        "",
        "Prints one line per compared tensor (name, shape, max abs error, ok or FAIL), then a"
            + " summary. Tolerances: float64 abs 1e-10 + rel 1e-8; float32 abs 1e-5 + rel 1e-4."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:every result within tolerance, or nothing to compare",
        "1:a result outside tolerance (OUT is still written), or IN could not be read or run,"
            + " or IN or OUT is not a regular file (no OUT is written)",
        "2:bad usage"})
final class TorchCaseCommand implements Callable<Integer> {
  /** The metadata {@code format} of the results file. */
  static final String FORMAT = "rnn-torch-case-result/1";

  @Parameters(index = "0", paramLabel = "IN", description = "The case, a .safetensors file.")
  Path in;

  @Parameters(index = "1", paramLabel = "OUT",
      description = "Where to write the results, a .safetensors file; replaced if it exists.")
  Path out;

  @Mixin
  VerboseOption verbose;

  @Spec
  CommandSpec spec;

  /** One expected tensor against its result: a line of the report. */
  private record Comparison(String name, String shape, String maxAbsError, boolean ok) {}

  @Override
  public Integer call() throws IOException {
    checkPaths();
    Main.working("running the torch case " + in, 0);
    TorchCase c = TorchCase.read(in);
    ImmutableMap<String, Tensor> results = inDtype(c, TorchCaseRun.run(c));
    Safetensors.write(out, results, ImmutableMap.of(
        "format", FORMAT,
        "mode", c.stack().mode().torchName(),
        "dtype", c.dtype().torchName()));
    return report(c, compare(c, results));
  }

  /**
   * Fails before the work, rather than after it, when IN is not a regular file (a FIFO would block
   * the read forever, a device read forever) or OUT cannot be written (its directory is missing,
   * or it exists and is not a regular file, such as a device, which the results would replace).
   */
  private void checkPaths() throws IOException {
    if (Files.isDirectory(in)) {
      throw new FileSystemException(in.toString(), null, "is a directory, not a case file");
    }
    if (Files.exists(in)) {
      OutputFile.checkReadable(in);
    }
    if (Files.exists(in) && Files.exists(out) && Files.isSameFile(in, out)) {
      throw new ParameterException(spec.commandLine(), "IN and OUT are the same file, " + in
          + ": the results would replace the case; give another OUT");
    }
    OutputFile.checkTarget(out);
  }

  private static ImmutableMap<String, Tensor> inDtype(TorchCase c, Map<String, Tensor> results) {
    ImmutableMap.Builder<String, Tensor> b = ImmutableMap.builderWithExpectedSize(results.size());
    results.forEach((name, t) -> b.put(name, t.to(c.dtype())));
    return b.buildOrThrow();
  }

  /** One comparison per expected tensor, in file order; one the run did not compute fails. */
  private static List<Comparison> compare(TorchCase c, Map<String, Tensor> results) {
    List<Comparison> rows = new ArrayList<>();
    for (Map.Entry<String, Tensor> e : c.expected().entrySet()) {
      String name = e.getKey();
      Tensor expected = e.getValue();
      Tensor actual = results.get(name);
      if (actual == null) {
        rows.add(new Comparison(name, expected.shape().toString(), "(not computed)", false));
      } else if (!actual.shape().equals(expected.shape())) {
        rows.add(new Comparison(name, actual.shape() + " but expected " + expected.shape(), "-",
            false));
      } else {
        rows.add(new Comparison(name, actual.shape().toString(),
            String.format(Locale.ROOT, "%.2e", actual.maxAbsDiff(expected)),
            c.close(actual, expected)));
      }
    }
    return rows;
  }

  /** Prints the comparisons and the summary; the exit code: 1 if any failed. */
  private int report(TorchCase c, List<Comparison> rows) {
    PrintWriter o = spec.commandLine().getOut();
    if (rows.isEmpty()) {
      o.printf("%s: no expected tensors to compare; wrote %s%n", in, out);
      return ExitCode.OK;
    }
    int nameWidth = 0;
    int shapeWidth = 0;
    for (Comparison r : rows) {
      nameWidth = Math.max(nameWidth, r.name().length());
      shapeWidth = Math.max(shapeWidth, r.shape().length());
    }
    List<String> failed = new ArrayList<>();
    for (Comparison r : rows) {
      o.printf(Locale.ROOT, "%-" + nameWidth + "s  %-" + shapeWidth + "s  max abs error %-8s  %s%n",
          r.name(), r.shape(), r.maxAbsError(), r.ok() ? "ok" : "FAIL");
      if (!r.ok()) {
        failed.add(r.name());
      }
    }
    String tolerance = String.format(Locale.ROOT, "%s: abs %s + rel %s", c.dtype().torchName(),
        exponent(c.absoluteTolerance()), exponent(c.relativeTolerance()));
    o.printf("%s: %d of %d within tolerance (%s): %s; wrote %s%n", in,
        rows.size() - failed.size(), rows.size(), tolerance,
        failed.isEmpty() ? "ok" : "FAIL " + String.join(", ", failed), out);
    return failed.isEmpty() ? ExitCode.OK : ExitCode.SOFTWARE;
  }

  /** E.g. {@code 1e-10}, {@code 1e-5}. */
  private static String exponent(double x) {
    return String.format(Locale.ROOT, "%.0e", x).replace("e-0", "e-").replace("e+0", "e+");
  }
}
