package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * Stops a fit when the monitored metric ({@link Trainer#monitor}, by default {@code val_loss}
 * with validation data and {@code loss} without) has not improved for {@code patience} epochs,
 * and puts back the weights of its best epoch, as Keras's {@code EarlyStopping(patience,
 * min_delta, restore_best_weights=True)}.
 *
 * <pre>{@code
 * trainer.validationSplit(0.2).earlyStopping(EarlyStopping.patience(5));
 * }</pre>
 *
 * <p>After each epoch, with the monitored value {@code v}:
 *
 * <pre>
 *   improved = v &lt; best - minDelta   (v &gt; best + minDelta when higher is better; the first
 *                                      epoch with a value that is not NaN always improves)
 *   if improved: best = v, epochsSince = 0, the weights are kept (when restoring)
 *   else:        epochsSince += 1; if epochsSince &gt;= patience: stop, and put back the weights
 *                of the best epoch (when restoring)
 * </pre>
 *
 * <p>A fit that runs out of epochs without stopping keeps the weights of its last epoch, so that
 * {@link Trainer#resume} goes on from them; the best checkpoint ({@link Trainer#checkpoints})
 * holds the best ones.
 *
 * @param patience the epochs without improvement after which the fit stops
 * @param minDelta the change of the metric that counts as an improvement
 * @param restoreBest whether the weights of the best epoch are put back when stopping
 */
public record EarlyStopping(int patience, double minDelta, boolean restoreBest) {
  /**
   * Checks the arguments.
   *
   * @param patience {@code >= 0}
   * @param minDelta {@code >= 0}
   * @param restoreBest whether the best weights are put back
   * @throws IllegalArgumentException if one is out of range
   */
  public EarlyStopping {
    checkArgument(patience >= 0, "earlyStopping expected patience >= 0 but got %s", patience);
    checkArgument(minDelta >= 0 && Double.isFinite(minDelta),
        "earlyStopping expected minDelta >= 0 and finite but got %s", minDelta);
  }

  /**
   * Stops after {@code patience} epochs without improvement, any improvement counting, and puts
   * back the best weights.
   *
   * @param patience the epochs without improvement borne
   * @return the early stopping
   * @throws IllegalArgumentException if {@code patience < 0}
   */
  public static EarlyStopping patience(int patience) {
    return new EarlyStopping(patience, 0, true);
  }

  /**
   * This early stopping with an improvement counting only when larger than {@code minDelta}.
   *
   * @param minDelta the change that counts, {@code >= 0}
   * @return a new early stopping
   */
  public EarlyStopping withMinDelta(double minDelta) {
    return new EarlyStopping(patience, minDelta, restoreBest);
  }

  /**
   * This early stopping keeping the weights of the last epoch when it stops.
   *
   * @return a new early stopping
   */
  public EarlyStopping keepingLastWeights() {
    return new EarlyStopping(patience, minDelta, false);
  }

  /**
   * Whether {@code value} improves on {@code best} (NaN before the first value).
   *
   * @param value the epoch's value of the monitored metric
   * @param best the best value so far, or NaN
   * @param higherIsBetter the metric's direction
   * @param minDelta the change that counts
   */
  static boolean improves(double value, double best, boolean higherIsBetter, double minDelta) {
    if (Double.isNaN(value)) {
      return false;
    }
    if (Double.isNaN(best)) {
      return true;
    }
    return higherIsBetter ? value > best + minDelta : value < best - minDelta;
  }
}
