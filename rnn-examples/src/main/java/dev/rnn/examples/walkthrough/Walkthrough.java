package dev.rnn.examples.walkthrough;

import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The walkthroughs, in order: each answers one question about recurrent networks with real
 * computation by the project and prints the explained result. Each is found by its number, from
 * 1, or its name, e.g. {@code matching-torch}.
 */
public enum Walkthrough {
  /** {@link LayerOrNetworkRecurrence}. */
  LAYER_OR_NETWORK("layer-or-network",
      "Is the recurrence per layer or per network?",
      LayerOrNetworkRecurrence::run),
  /** {@link FeedForwardToRecurrent}. */
  FEED_FORWARD_TO_RECURRENT("feed-forward-to-recurrent",
      "What makes a feed-forward network recurrent?",
      FeedForwardToRecurrent::run),
  /** {@link MatchingTorch}. */
  MATCHING_TORCH("matching-torch",
      "How to match torch.nn.RNN exactly?",
      MatchingTorch::run),
  /** {@link OutputsAndBatching}. */
  OUTPUTS_AND_BATCHING("outputs-and-batching",
      "What does an RNN output; how to batch?",
      OutputsAndBatching::run);

  private final String id;
  private final String question;
  private final Supplier<String> text;

  Walkthrough(String id, String question, Supplier<String> text) {
    this.id = id;
    this.question = question;
    this.text = text;
  }

  /** {@return its number, from 1} */
  public int number() {
    return ordinal() + 1;
  }

  /** {@return its name on the command line, e.g. {@code matching-torch}} */
  public String id() {
    return id;
  }

  /** {@return the question it answers, in short (its text opens with the question in full)} */
  public String question() {
    return question;
  }

  /**
   * Runs it and returns what it prints; lines end with {@code \n}.
   *
   * @return the text
   */
  public String run() {
    return text.get();
  }

  /**
   * The walkthrough numbered or named {@code numberOrName} (case-insensitive), if any.
   *
   * @param numberOrName e.g. {@code 3} or {@code matching-torch}
   * @return the walkthrough, if any
   */
  public static Optional<Walkthrough> find(String numberOrName) {
    String s = numberOrName.strip().toLowerCase(Locale.ROOT);
    for (Walkthrough w : values()) {
      if (s.equals(Integer.toString(w.number())) || s.equals(w.id)) {
        return Optional.of(w);
      }
    }
    return Optional.empty();
  }
}
