package dev.rnn.examples;

import dev.rnn.examples.walkthrough.Walkthrough;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The {@code walkthrough} command: prints one {@link Walkthrough}, by number or name, or the list
 * of them when none is named.
 */
@Command(
    name = "walkthrough",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
        "Prints a walkthrough: one question about recurrent networks, answered by running the"
            + " networks and explaining the numbers they give.",
        "",
        "  1  layer-or-network           Is the recurrence per layer or per network?",
        "  2  feed-forward-to-recurrent  What makes a feed-forward network recurrent?",
        "  3  matching-torch             How to match torch.nn.RNN exactly?",
        "  4  outputs-and-batching       What does an RNN output; how to batch?",
        ""},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:success",
        "1:the walkthrough failed (a bug: the message says where)",
        "2:bad usage, e.g. an unknown walkthrough"})
final class WalkthroughCommand implements Callable<Integer> {
  @Parameters(index = "0", arity = "0..1", paramLabel = "WALKTHROUGH",
      description = "Its number (1 to 4) or name; without it, the list.")
  String which;

  @Mixin
  VerboseOption verbose;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (which == null) {
      for (Walkthrough w : Walkthrough.values()) {
        out.printf("%d  %-26s %s%n", w.number(), w.id(), w.question());
      }
      out.flush();
      return ExitCode.OK;
    }
    Walkthrough w = Walkthrough.find(which).orElseThrow(() -> new ParameterException(
        spec.commandLine(), "unknown walkthrough '" + which + "': expected 1 to "
            + Walkthrough.values().length + " or one of " + Stream.of(Walkthrough.values())
                .map(Walkthrough::id).collect(Collectors.joining(", "))));
    out.print(w.run().replace("\n", System.lineSeparator()));
    out.flush();
    return ExitCode.OK;
  }
}
