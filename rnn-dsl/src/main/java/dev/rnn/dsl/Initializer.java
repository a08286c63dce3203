package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * How a new network's parameters are set: torch's default random initialisation from a seed, or
 * constants (as in hand-worked examples).
 *
 * <p>Torch's default: every recurrent weight and bias uniform in {@code [-1/sqrt(H), 1/sqrt(H)]}
 * (H the layer's hidden size), every dense weight and bias uniform in {@code [-1/sqrt(in),
 * 1/sqrt(in)]}.
 */
public final class Initializer {
  private final Long seed;
  private final double weight;
  private final double bias;

  private Initializer(Long seed, double weight, double bias) {
    this.seed = seed;
    this.weight = weight;
    this.bias = bias;
  }

  /**
   * Torch's default initialisation, reproducible from {@code seed}.
   *
   * @param seed the seed
   * @return the initializer
   */
  public static Initializer torchDefault(long seed) {
    return new Initializer(seed, 0, 0);
  }

  /**
   * Every weight {@code weight} and every bias {@code bias}; e.g. {@code constant(1, 0)} for the
   * seed network. Extra cell parameters (peepholes, gains) get {@code weight} too.
   *
   * @param weight the value of every weight
   * @param bias the value of every bias
   * @return the initializer
   */
  public static Initializer constant(double weight, double bias) {
    checkArgument(Double.isFinite(weight) && Double.isFinite(bias),
        "constant initializer expected finite values but got %s and %s", weight, bias);
    return new Initializer(null, weight, bias);
  }

  /** Whether this is the seeded random initialisation. */
  boolean isRandom() {
    return seed != null;
  }

  long seed() {
    return seed;
  }

  double weight() {
    return weight;
  }

  double bias() {
    return bias;
  }

  @Override public String toString() {
    return isRandom() ? "torchDefault(" + seed + ")" : "constant(" + weight + ", " + bias + ")";
  }
}
