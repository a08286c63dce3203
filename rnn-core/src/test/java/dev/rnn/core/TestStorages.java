package dev.rnn.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

/** Seeded test data and comparisons of storages, shared by the scan tests. */
final class TestStorages {
  private TestStorages() {}

  /** {@code n} standard normal values of {@code dt}, from {@code new Random(seed)}. */
  static Storage gaussian(long seed, int n, DType dt) {
    Random rnd = new Random(seed);
    Storage s = Storage.allocate(dt, n);
    for (int i = 0; i < n; i++) {
      s.set(i, rnd.nextGaussian());
    }
    return s;
  }

  /**
   * Asserts {@code max |actual - expected| <= 1e-12 max |expected|}, with {@code expected} not
   * all zero: two float64 results equal up to the order of their sums.
   */
  static void assertClose(String what, Storage actual, Storage expected) {
    double diff = 0;
    double scale = 0;
    for (int i = 0; i < actual.length(); i++) {
      diff = Math.max(diff, Math.abs(actual.get(i) - expected.get(i)));
      scale = Math.max(scale, Math.abs(expected.get(i)));
    }
    assertTrue(scale > 0 && diff <= 1e-12 * scale,
        what + " differs by " + diff + " (scale " + scale + ")");
  }
}
