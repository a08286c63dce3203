package dev.rnn.autograd;

import com.google.common.collect.ImmutableList;
import java.util.Comparator;
import java.util.List;

/**
 * How the gradient flowed back through time: {@code ||dL/dh_t||} (the Euclidean norm over the
 * batch and the hidden units of the total gradient reaching {@code h_t}) for every recurrent
 * layer, direction and step of a backward pass.
 *
 * <p>Vanishing gradients show as norms that shrink towards the first steps, exploding ones as
 * norms that grow; truncation shows as steps that have no entry.
 */
public final class GradientFlow {
  /**
   * One measurement.
   *
   * @param layer the recurrent layer's label, e.g. {@code layer 1 lstm(3, 5)}
   * @param reverse whether it is the reverse direction
   * @param time the time step {@code t}
   * @param norm {@code ||dL/dh_t||}
   */
  public record Entry(String layer, boolean reverse, int time, double norm) {}

  private final ImmutableList<Entry> entries;

  GradientFlow(List<Entry> entries) {
    this.entries = ImmutableList.sortedCopyOf(
        Comparator.comparing(Entry::layer).thenComparing(Entry::reverse)
            .thenComparingInt(Entry::time), entries);
  }

  /** {@return every entry, by layer, direction and time} */
  public ImmutableList<Entry> entries() {
    return entries;
  }

  /**
   * The norms of one layer and direction, indexed by time (NaN for steps backward skipped).
   *
   * @param layer the layer's label
   * @param reverse whether the reverse direction is wanted
   * @return {@code ||dL/dh_t||} by {@code t}
   */
  public double[] norms(String layer, boolean reverse) {
    int max = -1;
    for (Entry e : entries) {
      if (e.layer().equals(layer) && e.reverse() == reverse) {
        max = Math.max(max, e.time());
      }
    }
    double[] n = new double[max + 1];
    java.util.Arrays.fill(n, Double.NaN);
    for (Entry e : entries) {
      if (e.layer().equals(layer) && e.reverse() == reverse) {
        n[e.time()] = e.norm();
      }
    }
    return n;
  }
}
