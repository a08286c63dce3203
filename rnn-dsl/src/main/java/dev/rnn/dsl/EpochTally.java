package dev.rnn.dsl;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.rnn.core.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The loss and the metrics of one epoch as it trains: the mean of the losses of its updates, and
 * each {@link Metric}'s tallies summed over them. One per epoch of a fit, on the training thread.
 */
final class EpochTally {
  private final ImmutableList<Metric> metrics;
  private final Metric.Tally[] tallies;
  private double lossSum;
  private int lossCount;

  EpochTally(ImmutableList<Metric> metrics) {
    this.metrics = metrics;
    this.tallies = new Metric.Tally[metrics.size()];
    java.util.Arrays.fill(tallies, Metric.Tally.NONE);
  }

  /**
   * Counts one update: its loss, and each metric on its output.
   *
   * @param loss the window's loss
   * @param output the window's output at its counted steps, time-major
   * @param targets the window's targets
   * @param mask the window's mask, or null
   */
  void add(double loss, Tensor output, Tensor targets, Tensor mask) {
    lossSum += loss;
    lossCount++;
    for (int i = 0; i < tallies.length; i++) {
      tallies[i] = tallies[i].plus(metrics.get(i).tally(output, targets, mask));
    }
  }

  /**
   * Counts one update whose metrics were tallied elsewhere (on the machines of a data-parallel
   * run).
   *
   * @param loss the window's loss
   * @param windowTallies each metric's tally of the window, in order
   */
  void add(double loss, List<Metric.Tally> windowTallies) {
    lossSum += loss;
    lossCount++;
    for (int i = 0; i < tallies.length; i++) {
      tallies[i] = tallies[i].plus(windowTallies.get(i));
    }
  }

  /**
   * Counts the losses of updates made before a run was restarted in the middle of this epoch.
   *
   * @param sum their sum
   * @param count their number
   */
  void addLosses(double sum, int count) {
    lossSum += sum;
    lossCount += count;
  }

  /** {@return the sum of the losses counted} */
  double lossSum() {
    return lossSum;
  }

  /** {@return the number of losses counted} */
  int lossCount() {
    return lossCount;
  }

  /**
   * The epoch's metrics: {@code loss} (NaN for an epoch without an update), each metric, then
   * {@code validation}'s (null for none).
   */
  ImmutableMap<String, Double> values(Map<String, Double> validation) {
    Map<String, Double> values = new LinkedHashMap<>();
    values.put("loss", lossCount == 0 ? Double.NaN : lossSum / lossCount);
    for (int i = 0; i < tallies.length; i++) {
      values.put(metrics.get(i).name(), tallies[i].value());
    }
    if (validation != null) {
      values.putAll(validation);
    }
    return ImmutableMap.copyOf(values);
  }
}
