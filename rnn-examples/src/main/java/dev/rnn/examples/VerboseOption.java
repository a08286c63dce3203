package dev.rnn.examples;

import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;

/**
 * The {@code --verbose} option, mixed into a command with {@code @Mixin VerboseOption verbose;}:
 * when the command fails, {@link Main} prints the stack trace after the one-line message.
 */
final class VerboseOption {
  /** The option's name. */
  static final String NAME = "--verbose";

  @Option(names = NAME, description = "When the command fails, also print the stack trace.")
  boolean verbose;

  /** Whether {@code --verbose} was given to any command in {@code parsed}. */
  static boolean isSet(ParseResult parsed) {
    for (ParseResult p = parsed; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption(NAME)) {
        return true;
      }
    }
    return false;
  }
}
