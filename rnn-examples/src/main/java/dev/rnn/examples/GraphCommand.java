package dev.rnn.examples;


import dev.rnn.dsl.Network;
import dev.rnn.dsl.Stacking;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * The {@code graph} command: a network's computation unrolled over N time steps, as Graphviz DOT
 * ({@link Network#graph(int)}) or a standalone SVG drawn by the library ({@link
 * Network#graphSvg(int)}), printed or written to a file.
 *
 * <p>FILE is written atomically: to a temporary file in the same directory, then moved over FILE,
 * so a failure leaves no partial FILE behind and an existing FILE as it was. A FILE that exists
 * and is not a regular file (a device, a FIFO, a directory) is refused before anything is drawn;
 * {@code -} is standard output.
 */
@Command(
    name = "graph",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    sortOptions = false,
    description = {
        "Draws a network unrolled over N time steps: one column per step, one row per layer"
            + " (input at the bottom); recurrent edges (red) carry the state across time.",
        "",
        "Under --stacking states an activation right after recurrent(in, out) is drawn inside the"
            + " recurrent node (the recurrent edge carries the activated h); under outputs it is a"
            + " node of its own after the state (the recurrent edge carries the pre-activation s).",
        "",
        "Prints Graphviz DOT (render with: dot -Tpng), or with --out writes DOT or SVG to FILE and"
            + " prints FILE. The SVG is drawn by rnn-examples itself; no Graphviz needed.",
        "",
        "Example: rnn-examples graph --net 'recurrent(2, 2).relu().recurrent(2, 1)'"
            + " --stacking states --out seed.svg"},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:success",
        "1:FILE could not be written (no FILE is left behind), or is not a regular file",
        "2:bad usage, or SPEC does not parse or does not build, or N is not within 1..50"})
final class GraphCommand implements Callable<Integer> {
  /** The output formats. */
  enum Format {
    DOT, SVG
  }

  @Option(names = "--net", required = true, paramLabel = "SPEC",
      description = "The network in the spec language, e.g. 'recurrent(2, 2).relu().recurrent(2,"
          + " 1)'; options such as stacking(states) and handOffStates() may follow the layers.")
  String net;

  @Option(names = "--stacking", paramLabel = "MODE",
      converter = DescribeCommand.StackingConverter.class,
      description = "states or outputs (the default). Not together with stacking(...) in SPEC.")
  Stacking stacking;

  @Option(names = "--steps", paramLabel = "N", defaultValue = "3",
      description = "How many time steps to unroll, 1 to 50 (default ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--format", paramLabel = "FORMAT", converter = FormatConverter.class,
      description = "dot or svg; default svg if FILE ends with .svg, else dot.")
  Format format;

  @Option(names = "--out", paramLabel = "FILE",
      description = "Where to write the graph: a regular file, replaced if it exists, or - for"
          + " standard output. Default: print it.")
  Path out;

  @Mixin
  VerboseOption verbose;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    CommandLine cl = spec.commandLine();
    boolean toFile = out != null && !OutputFile.isStandardOutput(out);
    if (toFile) {
      OutputFile.checkTarget(out); // before the work: a device or FIFO is refused at once
    }
    Network network = DescribeCommand.network(cl, net, stacking);
    Main.working("drawing " + DescribeCommand.abbreviate(network.spec()) + " over " + steps
        + " steps", 0);
    Format f = format != null ? format
        : out != null && out.getFileName() != null
            && out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".svg")
            ? Format.SVG : Format.DOT;
    String text;
    try {
      text = f == Format.SVG ? network.graphSvg(steps) : network.graph(steps);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cl, "Invalid value for option '--steps': " + e.getMessage(),
          e);
    }
    if (!toFile) {
      cl.getOut().print(text);
      cl.getOut().flush();
    } else {
      OutputFile.writeText(out, text);
      cl.getOut().println(out);
    }
    return ExitCode.OK;
  }

  /** {@code dot} or {@code svg}, in any case. */
  static final class FormatConverter implements ITypeConverter<Format> {
    @Override
    public Format convert(String value) {
      for (Format f : Format.values()) {
        if (f.name().equalsIgnoreCase(value.strip())) {
          return f;
        }
      }
      throw new TypeConversionException("expected dot or svg but got '" + value + "'");
    }
  }
}
