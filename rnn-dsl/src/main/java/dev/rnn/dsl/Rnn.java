package dev.rnn.dsl;

/**
 * The entry point of the DSL: {@code import static dev.rnn.dsl.Rnn.network;} and then {@code
 * network().recurrent(2, 2).relu().recurrent(2, 1).build()}.
 */
public final class Rnn {
  private Rnn() {}

  /** A new, empty network builder. */
  public static NetworkBuilder network() {
    return new NetworkBuilder();
  }

  /**
   * A builder holding the layers and options of a spec such as {@code
   * "recurrent(2, 2).relu().recurrent(2, 1).stacking(states)"}, as {@link Network#spec()} writes
   * it; more options can be set before {@code build()}.
   *
   * @throws IllegalArgumentException naming the position and what was expected
   */
  public static NetworkBuilder parse(String spec) {
    return SpecParser.parse(spec);
  }
}
