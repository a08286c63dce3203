package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;

import dev.rnn.core.Tensor;

/**
 * A number a {@link Trainer} reports per epoch besides the loss, on the training data (tallied
 * over the epoch's updates, as the loss is) and on the validation data: {@link #accuracy()}, or
 * one of your own.
 *
 * <p>An epoch's value is the sum of the tallies of its batches divided by the sum of their
 * counts, {@code sum_b s_b / sum_b c_b}: a mean over whatever the metric counts (steps, sequences,
 * elements), so that it does not depend on how the data is split into batches.
 *
 * <pre>{@code
 * Metric meanAbsoluteError = new Metric() {
 *   public String name() { return "mae"; }
 *   public Metric.Tally tally(Tensor output, Tensor targets, Tensor mask) {
 *     Tensor d = output.sub(targets);                       // MSE objective: same shapes
 *     return new Metric.Tally(d.map(Math::abs).sum(), d.size());   // (no mask in this example)
 *   }
 * };
 * trainer.metrics(Metric.accuracy(), meanAbsoluteError);
 * }</pre>
 *
 * <p>Shapes, time-major as the objective sees them (T' the steps counted in a window of BPTT, or
 * every step on validation data; N the sequences; C = F_out classes):
 *
 * <pre>
 *   output   [T', N, F_out]                          lastStep(): [N, F_out]
 *   targets  [T', N, F_out] (MSE), [T', N] (classes)  lastStep(): [N, F_out], [N]
 *   mask     [T', N] of 0 and 1, or null              lastStep(): [N]
 * </pre>
 */
public interface Metric {
  /**
   * The metric's name in the epoch's metrics: {@code accuracy}; on validation data it is
   * prefixed {@code val_} ({@code val_accuracy}).
   *
   * @return a name other than {@code loss}, not starting with {@code val_}
   */
  String name();

  /**
   * The metric's sum and count over one batch (or window, or the validation data).
   *
   * @param output the network's output, time-major (see the class comment)
   * @param targets the targets, as given to {@link Trainer#fit}, time-major
   * @param mask 0 and 1 per counted step, or null for all
   * @return the sum and the count of what it counts
   */
  Tally tally(Tensor output, Tensor targets, Tensor mask);

  /**
   * Whether a higher value is better, for {@link Trainer#monitor}: false (the default) for an
   * error, true for an accuracy.
   *
   * @return whether higher is better
   */
  default boolean higherIsBetter() {
    return false;
  }

  /**
   * The fraction of counted predictions that are right, higher is better. With class indices as
   * targets ({@link Trainer.Objective#CROSS_ENTROPY}), a prediction is the class of the largest
   * output (the first of equal ones, as {@code torch.argmax}), one per counted step; with targets
   * of the output's shape (0 and 1 per feature, for logits of independent binary classes), a
   * prediction is {@code output > 0} per feature, right where the target is {@code > 0.5}.
   *
   * @return the accuracy metric, named {@code accuracy}
   */
  static Metric accuracy() {
    return Accuracy.INSTANCE;
  }

  /**
   * A metric's sum and count over some data; the value is {@code sum / count}.
   *
   * @param sum the sum of what is counted (e.g. the number of right predictions)
   * @param count how many were counted, {@code >= 0}
   */
  record Tally(double sum, double count) {
    /** Nothing counted yet. */
    public static final Tally NONE = new Tally(0, 0);

    /**
     * Checks the count.
     *
     * @param sum the sum of what is counted
     * @param count how many were counted
     * @throws IllegalArgumentException if {@code count} is negative or NaN
     */
    public Tally {
      checkArgument(count >= 0, "a metric's tally expected count >= 0 but got %s", count);
    }

    /**
     * Both tallies together.
     *
     * @param other another tally of the same metric
     * @return the sums and the counts added
     */
    public Tally plus(Tally other) {
      return new Tally(sum + other.sum, count + other.count);
    }

    /** {@return {@code sum / count}, NaN when nothing was counted} */
    public double value() {
      return count == 0 ? Double.NaN : sum / count;
    }
  }
}

/** {@link Metric#accuracy()}. */
final class Accuracy implements Metric {
  static final Accuracy INSTANCE = new Accuracy();

  private Accuracy() {}

  @Override public String name() {
    return "accuracy";
  }

  @Override public boolean higherIsBetter() {
    return true;
  }

  @Override public Tally tally(Tensor output, Tensor targets, Tensor mask) {
    int features = output.dim(-1);
    int rows = output.size() / features;
    double right = 0;
    double counted = 0;
    if (targets.rank() == output.rank()) {
      // binary: one prediction per feature, output > 0 (a logit) against target > 0.5
      for (int r = 0; r < rows; r++) {
        if (mask != null && mask.at(r) == 0) {
          continue;
        }
        for (int f = 0; f < features; f++) {
          int i = r * features + f;
          right += (output.at(i) > 0) == (targets.at(i) > 0.5) ? 1 : 0;
        }
        counted += features;
      }
    } else {
      for (int r = 0; r < rows; r++) {
        if (mask != null && mask.at(r) == 0) {
          continue;
        }
        int best = 0;
        for (int f = 1; f < features; f++) {
          best = output.at(r * features + f) > output.at(r * features + best) ? f : best;
        }
        right += best == targets.at(r) ? 1 : 0;
        counted++;
      }
    }
    return new Tally(right, counted);
  }

  @Override public String toString() {
    return "accuracy";
  }
}
