package dev.rnn.examples;

import dev.rnn.dsl.Network;
import dev.rnn.dsl.NetworkBuilder;
import dev.rnn.dsl.Rnn;
import dev.rnn.dsl.Stacking;
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
 * The {@code describe} command: what a network written in the spec language computes, as {@link
 * Network#describe()} writes it (per layer the equation, where each activation sits, the
 * parameters, the state and the stacking).
 *
 * <p>A spec that does not parse or does not build (sizes that do not fit, a layer over {@link
 * NetworkBuilder#MAX_PARAMETERS} parameters, {@code handOffStates()} under STATES, a stacking given
 * twice) is bad usage: the library's message, exit 2. The network's weights are never allocated
 * (a network is described from its sizes), so a network larger than memory is described too.
 */
@Command(
    name = "describe",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    sortOptions = false,
    description = {
        "Prints what a network computes: per layer its equation, where each activation sits, its"
            + " parameters, the state carried across time and the stacking mode.",
        "",
        "Example: rnn-examples describe --net 'recurrent(2, 2).relu().recurrent(2, 1)'"
            + " --stacking states"},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:success",
        "2:bad usage, or SPEC does not parse or does not build"})
final class DescribeCommand implements Callable<Integer> {
  @Option(names = "--net", required = true, paramLabel = "SPEC",
      description = "The network in the spec language, e.g. 'recurrent(2, 2).relu().recurrent(2,"
          + " 1)' or 'lstm(3, 8).bidirectional().dense(16, 1).lastStep()'; options such as"
          + " stacking(states) and handOffStates() may follow the layers.")
  String net;

  @Option(names = "--stacking", paramLabel = "MODE", converter = StackingConverter.class,
      description = "states (paper style: an activation right after recurrent(in, out) is inside"
          + " its recurrence) or outputs (Keras style, the default: activations act on the output"
          + " sequence). Not together with stacking(...) in SPEC.")
  Stacking stacking;

  @Mixin
  VerboseOption verbose;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    Network network = network(spec.commandLine(), net, stacking);
    Main.working("describing " + abbreviate(network.spec()), 0);
    spec.commandLine().getOut().println(network.describe());
    return ExitCode.OK;
  }

  /**
   * The network {@code text} (with {@code stacking}, if not null) as built by the DSL.
   *
   * @throws ParameterException naming {@code --net} (or {@code --stacking}) and the library's
   *     message, when the spec does not parse or build
   */
  static Network network(CommandLine cl, String text, Stacking stacking) {
    Main.working("building the network " + abbreviate(text), 0);
    NetworkBuilder b;
    try {
      b = Rnn.parse(text);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cl, "Invalid value for option '--net': " + e.getMessage(), e);
    }
    if (stacking != null) {
      try {
        b.stacking(stacking);
      } catch (IllegalStateException e) {
        if (!e.getMessage().startsWith("stacking was already set to ")) {
          throw new ParameterException(cl, "Invalid value for option '--stacking': "
              + stacking.name().toLowerCase(Locale.ROOT) + ": " + e.getMessage(), e);
        }
        throw new ParameterException(cl, "Invalid value for option '--stacking': "
            + stacking.name().toLowerCase(Locale.ROOT) + ", but the spec already says "
            + e.getMessage().replace("stacking was already set to ", "stacking(")
                .toLowerCase(Locale.ROOT) + "): give one or the other", e);
      }
    }
    try {
      return b.build();
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new ParameterException(cl, "Invalid value for option '--net': spec '" + text
          + "' does not build: " + e.getMessage(), e);
    }
  }

  /** {@code spec}, cut to 60 characters for a message. */
  static String abbreviate(String spec) {
    return spec.length() <= 60 ? spec : spec.substring(0, 57) + "...";
  }

  /** {@code states} or {@code outputs}, in any case. */
  static final class StackingConverter implements ITypeConverter<Stacking> {
    @Override
    public Stacking convert(String value) {
      for (Stacking s : Stacking.values()) {
        if (s.name().equalsIgnoreCase(value.strip())) {
          return s;
        }
      }
      throw new TypeConversionException("expected states or outputs but got '" + value + "'");
    }
  }
}
