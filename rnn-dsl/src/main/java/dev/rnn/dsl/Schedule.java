package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * A learning-rate schedule: an immutable value that the {@link Trainer} consults before every
 * optimizer step, setting the optimizer's learning rate to {@link #learningRate}, and after every
 * epoch ({@link #afterEpoch}, which only reduce-on-plateau listens to).
 *
 * <pre>{@code
 * trainer.optimizer(ps -> Sgd.builder().lr(0.1).build(ps))       // base = 0.1
 *     .schedule(Schedule.stepDecay(30, 0.1));                       // 0.1, then 0.01 from epoch 31
 * }</pre>
 *
 * <p>{@code base} is the learning rate the optimizer was built with; epochs {@code e} count from
 * 1, steps {@code s} (the optimizer steps taken before this one) from 0. Each schedule is the one
 * of torch with the same name, called as torch's examples call it (an epoch schedule's {@code
 * step()} after every epoch, a step schedule's after every batch):
 *
 * <pre>
 *   stepDecay(k, gamma)       base * gamma^floor((e - 1) / k)           StepLR(step_size=k, gamma)
 *   exponential(gamma)        base * gamma^(e - 1)                      ExponentialLR(gamma)
 *   cosine(W, S, min)         base * (s + 1) / W                 s &lt; W  LinearLR(1/W, 1, W - 1),
 *                             min + (base - min) (1 + cos(pi p)) / 2     then CosineAnnealingLR(
 *                               p = min(1, (s - W) / (S - W))  s &gt;= W     S - W, min)
 *   reduceOnPlateau(f, P)     base, times f after more than P epochs    ReduceLROnPlateau(
 *                             without improvement of the monitored       factor=f, patience=P)
 *                             metric (see {@link ReduceOnPlateau})
 * </pre>
 *
 * <p>Only reduce-on-plateau has a position of its own ({@link State}): the others are functions of
 * the epoch and step, which a {@link Trainer.Report} and a checkpoint carry, so that a resumed
 * run gets the learning rates of an unbroken one.
 */
public sealed interface Schedule {
  /**
   * The learning rate of the step about to be taken.
   *
   * @param base the learning rate the optimizer was built with
   * @param state the schedule's position, from {@link #start} and {@link #afterEpoch}
   * @param epoch the epoch of the step, from 1
   * @param step the optimizer steps taken before this one in the run, from 0
   * @return the learning rate, {@code >= 0}
   */
  double learningRate(double base, State state, int epoch, long step);

  /**
   * The position at the start of a run.
   *
   * @param base the learning rate the optimizer was built with
   * @return the first state
   */
  default State start(double base) {
    return new State(base, Double.NaN, 0, 0);
  }

  /**
   * The position after an epoch whose monitored metric (see {@link Trainer#monitor}) was {@code
   * value}.
   *
   * @param state the position during the epoch
   * @param value the monitored metric of the epoch
   * @param higherIsBetter whether the metric improves upwards (an accuracy)
   * @return the position for the next epoch; {@code state} for every schedule but
   *     reduce-on-plateau
   */
  default State afterEpoch(State state, double value, boolean higherIsBetter) {
    return state;
  }

  /**
   * The position of reduce-on-plateau, as torch's {@code ReduceLROnPlateau} keeps it; the other
   * schedules keep {@link #start}'s.
   *
   * @param learningRate the learning rate now
   * @param best the best monitored value so far, NaN before the first epoch
   * @param badEpochs the epochs since the last improvement ({@code num_bad_epochs})
   * @param cooldown the epochs of cooldown left ({@code cooldown_counter})
   */
  record State(double learningRate, double best, int badEpochs, int cooldown) {}

  /**
   * Multiplies the learning rate by {@code gamma} every {@code stepSize} epochs, as torch's {@code
   * StepLR}.
   *
   * @param stepSize the epochs between decays, {@code >= 1}
   * @param gamma the factor, {@code > 0}
   * @return the schedule
   * @throws IllegalArgumentException if an argument is out of range
   */
  static Schedule stepDecay(int stepSize, double gamma) {
    return new StepDecay(stepSize, gamma);
  }

  /**
   * Multiplies the learning rate by {@code gamma} every epoch, as torch's {@code ExponentialLR}.
   *
   * @param gamma the factor, {@code > 0}
   * @return the schedule
   * @throws IllegalArgumentException if {@code gamma} is not positive and finite
   */
  static Schedule exponential(double gamma) {
    return new Exponential(gamma);
  }

  /**
   * A linear warm-up over the first {@code warmupSteps} optimizer steps, from {@code base /
   * warmupSteps} to {@code base}, then a half cosine from {@code base} down to {@code minLr} at
   * step {@code totalSteps}, and {@code minLr} after it (the formula in the class comment).
   *
   * @param warmupSteps the steps of the warm-up, {@code >= 0}
   * @param totalSteps the step at which the cosine reaches {@code minLr}, {@code > warmupSteps}
   * @param minLr the last learning rate, {@code >= 0}
   * @return the schedule
   * @throws IllegalArgumentException if an argument is out of range
   */
  static Schedule cosine(long warmupSteps, long totalSteps, double minLr) {
    return new WarmupCosine(warmupSteps, totalSteps, minLr);
  }

  /**
   * Multiplies the learning rate by {@code factor} when the monitored metric has not improved for
   * more than {@code patience} epochs, as torch's {@code ReduceLROnPlateau} with its other
   * defaults (relative threshold 1e-4, no cooldown, no minimum); see {@link ReduceOnPlateau} for
   * those.
   *
   * @param factor the factor, in {@code (0, 1)}
   * @param patience the epochs without improvement that are borne, {@code >= 0}
   * @return the schedule
   * @throws IllegalArgumentException if an argument is out of range
   */
  static ReduceOnPlateau reduceOnPlateau(double factor, int patience) {
    return new ReduceOnPlateau(factor, patience, 1e-4, 0, 0);
  }

  /**
   * {@link #stepDecay}.
   *
   * @param stepSize the epochs between decays
   * @param gamma the factor
   */
  record StepDecay(int stepSize, double gamma) implements Schedule {
    /**
     * Checks the arguments.
     *
     * @param stepSize the epochs between decays, {@code >= 1}
     * @param gamma the factor, {@code > 0}
     * @throws IllegalArgumentException if one is out of range
     */
    public StepDecay {
      checkArgument(stepSize >= 1, "stepDecay expected stepSize >= 1 but got %s", stepSize);
      checkArgument(gamma > 0 && Double.isFinite(gamma),
          "stepDecay expected gamma > 0 and finite but got %s", gamma);
    }

    @Override public double learningRate(double base, State state, int epoch, long step) {
      return base * Math.pow(gamma, (epoch - 1) / stepSize);
    }

    @Override public String toString() {
      return "stepDecay(" + stepSize + ", " + gamma + ")";
    }
  }

  /**
   * {@link #exponential}.
   *
   * @param gamma the factor per epoch
   */
  record Exponential(double gamma) implements Schedule {
    /**
     * Checks the argument.
     *
     * @param gamma the factor, {@code > 0}
     * @throws IllegalArgumentException if it is not positive and finite
     */
    public Exponential {
      checkArgument(gamma > 0 && Double.isFinite(gamma),
          "exponential expected gamma > 0 and finite but got %s", gamma);
    }

    @Override public double learningRate(double base, State state, int epoch, long step) {
      return base * Math.pow(gamma, epoch - 1);
    }

    @Override public String toString() {
      return "exponential(" + gamma + ")";
    }
  }

  /**
   * {@link #cosine}.
   *
   * @param warmupSteps the steps of the linear warm-up
   * @param totalSteps the step at which the cosine reaches {@code minLr}
   * @param minLr the last learning rate
   */
  record WarmupCosine(long warmupSteps, long totalSteps, double minLr) implements Schedule {
    /**
     * Checks the arguments.
     *
     * @param warmupSteps the steps of the warm-up, {@code >= 0}
     * @param totalSteps the step at which the cosine ends, {@code > warmupSteps}
     * @param minLr the last learning rate, {@code >= 0}
     * @throws IllegalArgumentException if one is out of range
     */
    public WarmupCosine {
      checkArgument(warmupSteps >= 0, "cosine expected warmupSteps >= 0 but got %s",
          warmupSteps);
      checkArgument(totalSteps > warmupSteps,
          "cosine expected totalSteps > warmupSteps but got totalSteps %s, warmupSteps %s",
          totalSteps, warmupSteps);
      checkArgument(minLr >= 0 && Double.isFinite(minLr),
          "cosine expected minLr >= 0 and finite but got %s", minLr);
    }

    @Override public double learningRate(double base, State state, int epoch, long step) {
      if (step < warmupSteps) {
        return base * (step + 1) / warmupSteps;
      }
      double p = Math.min(1, (double) (step - warmupSteps) / (totalSteps - warmupSteps));
      return minLr + (base - minLr) * (1 + Math.cos(Math.PI * p)) / 2;
    }

    @Override public String toString() {
      return "cosine(" + warmupSteps + ", " + totalSteps + ", " + minLr + ")";
    }
  }

  /**
   * {@link #reduceOnPlateau}: torch's {@code ReduceLROnPlateau} with a relative threshold, step
   * for step. After each epoch, with the monitored value {@code v}:
   *
   * <pre>
   *   if v is better than best (v &lt; best (1 - threshold), or &gt; best (1 + threshold) when higher
   *       is better; the first epoch always):   best = v, badEpochs = 0
   *   else:                                      badEpochs += 1
   *   if cooldown &gt; 0:                           cooldown -= 1, badEpochs = 0
   *   if badEpochs &gt; patience:                   lr = max(lr * factor, minLr) (kept if that
   *                                              changes it by 1e-8 or less),
   *                                              cooldown = the cooldown option, badEpochs = 0
   * </pre>
   *
   * @param factor the factor, in {@code (0, 1)}
   * @param patience the epochs without improvement that are borne
   * @param threshold the relative improvement that counts
   * @param cooldown the epochs after a reduction during which no epoch counts as bad
   * @param minLr the learning rate is never reduced below this
   */
  record ReduceOnPlateau(double factor, int patience, double threshold, int cooldown,
      double minLr) implements Schedule {
    /** torch's {@code eps}: a reduction smaller than this is not made. */
    static final double EPS = 1e-8;

    /**
     * Checks the arguments.
     *
     * @param factor in {@code (0, 1)}
     * @param patience {@code >= 0}
     * @param threshold {@code >= 0}
     * @param cooldown {@code >= 0}
     * @param minLr {@code >= 0}
     * @throws IllegalArgumentException if one is out of range
     */
    public ReduceOnPlateau {
      checkArgument(factor > 0 && factor < 1,
          "reduceOnPlateau expected a factor in (0, 1) but got %s", factor);
      checkArgument(patience >= 0, "reduceOnPlateau expected patience >= 0 but got %s",
          patience);
      checkArgument(threshold >= 0 && Double.isFinite(threshold),
          "reduceOnPlateau expected threshold >= 0 and finite but got %s", threshold);
      checkArgument(cooldown >= 0, "reduceOnPlateau expected cooldown >= 0 but got %s",
          cooldown);
      checkArgument(minLr >= 0 && Double.isFinite(minLr),
          "reduceOnPlateau expected minLr >= 0 and finite but got %s", minLr);
    }

    /**
     * This schedule with another relative threshold.
     *
     * @param threshold the relative improvement that counts (torch's default 1e-4)
     * @return a new schedule
     */
    public ReduceOnPlateau withThreshold(double threshold) {
      return new ReduceOnPlateau(factor, patience, threshold, cooldown, minLr);
    }

    /**
     * This schedule with a cooldown.
     *
     * @param cooldown the epochs after a reduction during which no epoch counts as bad
     * @return a new schedule
     */
    public ReduceOnPlateau withCooldown(int cooldown) {
      return new ReduceOnPlateau(factor, patience, threshold, cooldown, minLr);
    }

    /**
     * This schedule with a smallest learning rate.
     *
     * @param minLr the learning rate is never reduced below this
     * @return a new schedule
     */
    public ReduceOnPlateau withMinLr(double minLr) {
      return new ReduceOnPlateau(factor, patience, threshold, cooldown, minLr);
    }

    @Override public double learningRate(double base, State state, int epoch, long step) {
      return state.learningRate();
    }

    @Override public State afterEpoch(State s, double value, boolean higherIsBetter) {
      double best = s.best();
      int bad = s.badEpochs();
      if (isBetter(value, best, higherIsBetter)) {
        best = value;
        bad = 0;
      } else {
        bad++;
      }
      int cooldownLeft = s.cooldown();
      if (cooldownLeft > 0) {
        cooldownLeft--;
        bad = 0;
      }
      double lr = s.learningRate();
      if (bad > patience) {
        double reduced = Math.max(lr * factor, minLr);
        if (lr - reduced > EPS) {
          lr = reduced;
        }
        cooldownLeft = cooldown;
        bad = 0;
      }
      return new State(lr, best, bad, cooldownLeft);
    }

    /** torch's {@code is_better} in mode {@code rel}; NaN {@code best} is torch's infinity. */
    private boolean isBetter(double value, double best, boolean higherIsBetter) {
      if (Double.isNaN(best)) {
        best = higherIsBetter ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
      }
      return higherIsBetter ? value > best * (1 + threshold) : value < best * (1 - threshold);
    }

    @Override public String toString() {
      return "reduceOnPlateau(" + factor + ", " + patience + ", threshold=" + threshold
          + ", cooldown=" + cooldown + ", minLr=" + minLr + ")";
    }
  }
}
