package dev.rnn.dsl;

import dev.rnn.autograd.Bptt;
import dev.rnn.autograd.optim.GradientClipping;
import dev.rnn.autograd.optim.Optimizer;
import dev.rnn.core.Parameter;
import dev.rnn.core.Storage;
import java.util.List;

/**
 * Guards the optimizer steps of one run: refuses gradients that are NaN or infinite, clips them
 * as set, and undoes a step whose result is not finite, each as the {@link Trainer.NonFinite}
 * policy says.
 *
 * <pre>
 *   if !gradientsFinite(params): SKIP_BATCH -> false, STOP -> throw (nothing changed)
 *   norm = clip(params)                          ||grad|| before clipping
 *   keep(params); optimizer.step()
 *   if !updateFinite(optimizer): the values from before the step back, then SKIP_BATCH -> false,
 *                                STOP -> throw
 * </pre>
 *
 * <p>It keeps a copy of the parameter values from before each step, allocated at the first step
 * and reused: one per run, on the training thread.
 */
final class UpdateSafety {
  private final Trainer.NonFinite onNonFinite;
  private final Double clipNorm;
  private final Double clipValue;
  private Storage[] previous;

  /**
   * A guard with the run's policy and clipping.
   *
   * @param onNonFinite the policy, {@link Trainer.NonFinite#STOP} if null
   * @param clipNorm the largest global norm kept, or null
   * @param clipValue the largest absolute gradient kept, or null (not both set)
   */
  UpdateSafety(Trainer.NonFinite onNonFinite, Double clipNorm, Double clipValue) {
    this.onNonFinite = onNonFinite;
    this.clipNorm = clipNorm;
    this.clipValue = clipValue;
  }

  /**
   * Whether every gradient is finite; if not, under {@link Trainer.NonFinite#STOP} throws naming
   * the parameter, epoch, batch and counted steps.
   */
  boolean gradientsFinite(List<Parameter> params, int epoch, int batch, Bptt.Window w) {
    for (Parameter p : params) {
      Storage grad = p.grad();
      if (!grad.allFinite()) {
        if (onNonFinite == Trainer.NonFinite.SKIP_BATCH) {
          return false;
        }
        throw new IllegalStateException(String.format("the gradient of %s is not finite (%s)"
            + " at epoch %s, batch %s, steps [%s, %s): stopped before the update, the"
            + " parameters keep their values; look for NaN or infinity in that batch's inputs"
            + " and targets, lower the learning rate, or clip the gradients", p.name(),
            firstNonFinite(grad), epoch, batch, w.lossFrom(), w.end()));
      }
    }
    return true;
  }

  /** Clips as set and returns the global L2 norm of the gradients before clipping. */
  double clip(List<Parameter> params) {
    if (clipNorm != null) {
      return GradientClipping.clipByGlobalNorm(params, clipNorm);
    }
    double sumOfSquares = 0;
    for (Parameter p : params) {
      sumOfSquares += p.grad().sumOfSquares();
    }
    if (clipValue != null) {
      GradientClipping.clipByValue(params, clipValue);
    }
    return Math.sqrt(sumOfSquares);
  }

  /**
   * Copies the current values of {@code params}, so that a step whose result is not finite (an
   * overflow: a learning rate of 1e300, a gradient near the float range) is undone before
   * anything sees it.
   */
  void keep(List<Parameter> params) {
    if (previous == null) {
      previous = new Storage[params.size()];
      for (int k = 0; k < previous.length; k++) {
        previous[k] = Storage.allocate(params.get(k).dtype(), params.get(k).size());
      }
    }
    for (int k = 0; k < previous.length; k++) {
      Parameter p = params.get(k);
      previous[k].copyFrom(p.data(), 0, 0, p.size());
    }
  }

  /**
   * Whether every value after the step is finite; if not, puts back the values {@link #keep}
   * copied and, under {@link Trainer.NonFinite#STOP}, throws naming the parameter, epoch, batch
   * and steps.
   */
  boolean updateFinite(Optimizer optimizer, int epoch, int batch, Bptt.Window w) {
    List<Parameter> params = optimizer.parameters();
    for (Parameter p : params) {
      if (!p.data().allFinite()) {
        double bad = firstNonFinite(p.data());
        for (int k = 0; k < previous.length; k++) {
          params.get(k).data().copyFrom(previous[k], 0, 0, params.get(k).size());
        }
        if (onNonFinite == Trainer.NonFinite.SKIP_BATCH) {
          return false;
        }
        throw new IllegalStateException(String.format("the update of %s is not finite (%s) at"
            + " epoch %s, batch %s, steps [%s, %s): stopped, the parameters keep their values"
            + " from before that update; lower the learning rate (%s) or clip the gradients",
            p.name(), bad, epoch, batch, w.lossFrom(), w.end(), optimizer.learningRate()));
      }
    }
    return true;
  }

  private static double firstNonFinite(Storage s) {
    for (int i = 0; i < s.length(); i++) {
      if (!Double.isFinite(s.get(i))) {
        return s.get(i);
      }
    }
    return Double.NaN;
  }
}
