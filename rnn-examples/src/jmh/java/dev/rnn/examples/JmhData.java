package dev.rnn.examples;

import dev.rnn.core.DType;
import dev.rnn.core.Storage;
import java.util.Random;

/** Seeded data for the JMH benchmarks' setups. */
public final class JmhData {
  private JmhData() {}

  /**
   * {@code len} float32 values drawn from the standard normal distribution, the same for the same
   * seed.
   *
   * @param len how many
   * @param seed the seed of {@link Random}
   * @return the values, float32 storage
   */
  public static Storage gaussian(int len, long seed) {
    return gaussian(len, seed, 1);
  }

  /**
   * As {@link #gaussian(int, long)}, each value times {@code scale} (0.1 keeps an LSTM's gates
   * away from saturation).
   *
   * @param len how many
   * @param seed the seed of {@link Random}
   * @param scale the standard deviation
   * @return the values, float32 storage
   */
  public static Storage gaussian(int len, long seed, double scale) {
    Random r = new Random(seed);
    Storage x = Storage.allocate(DType.FLOAT32, len);
    for (int i = 0; i < len; i++) {
      x.set(i, r.nextGaussian() * scale);
    }
    return x;
  }
}
