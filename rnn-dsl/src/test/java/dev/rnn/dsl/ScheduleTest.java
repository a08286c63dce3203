package dev.rnn.dsl;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Each schedule's learning rates against hand-computed values, which are torch's schedulers'
 * (StepLR, ExponentialLR, LinearLR then CosineAnnealingLR, ReduceLROnPlateau traced by hand).
 */
class ScheduleTest {
  private static final double BASE = 0.1;

  /** The learning rate of epochs 1..n (step 0 of each). */
  static double[] perEpoch(Schedule s, int n) {
    double[] lr = new double[n];
    Schedule.State state = s.start(BASE);
    for (int e = 1; e <= n; e++) {
      lr[e - 1] = s.learningRate(BASE, state, e, 0);
    }
    return lr;
  }

  @Test
  void stepDecayHalvesEveryTwoEpochsAsStepLR() {
    // StepLR(opt, step_size=2, gamma=0.5) with lr 0.1: 0.1, 0.1, 0.05, 0.05, 0.025, 0.025
    assertArrayEquals(new double[] {0.1, 0.1, 0.05, 0.05, 0.025, 0.025},
        perEpoch(Schedule.stepDecay(2, 0.5), 6), 1e-17);
  }

  @Test
  void exponentialMultipliesEveryEpochAsExponentialLR() {
    // ExponentialLR(opt, gamma=0.9) with lr 0.1: 0.1 * 0.9^(e - 1)
    assertArrayEquals(new double[] {0.1, 0.09, 0.081, 0.0729, 0.06561},
        perEpoch(Schedule.exponential(0.9), 5), 1e-15);
  }

  @Test
  void cosineWarmsUpLinearlyThenFollowsAHalfCosineToTheMinimum() {
    // W = 2, S = 6, min 0.01: LinearLR(start_factor=1/2, total_iters=1), then
    // CosineAnnealingLR(T_max=4, eta_min=0.01); constant after step 6
    Schedule s = Schedule.cosine(2, 6, 0.01);
    double[] want = {0.05, 0.1, 0.1, 0.08681980515339464, 0.05500000000000001,
        0.023180194846605363, 0.01, 0.01};
    double[] got = new double[want.length];
    for (int step = 0; step < want.length; step++) {
      got[step] = s.learningRate(BASE, s.start(BASE), 1 + step / 3, step);
    }
    assertArrayEquals(want, got, 1e-17);
  }

  @Test
  void cosineWithoutWarmUpStartsAtTheBase() {
    Schedule s = Schedule.cosine(0, 4, 0);
    assertAll(
        () -> assertEquals(0.1, s.learningRate(BASE, s.start(BASE), 1, 0), 1e-17),
        () -> assertEquals(0.05, s.learningRate(BASE, s.start(BASE), 1, 2), 1e-17),
        () -> assertEquals(0, s.learningRate(BASE, s.start(BASE), 1, 4), 1e-17));
  }

  @Nested
  class ReduceOnPlateau {
    /** The learning rate of epochs 1..values.length + 1, after each value. */
    double[] run(Schedule.ReduceOnPlateau s, boolean higherIsBetter, double... values) {
      double[] lr = new double[values.length + 1];
      Schedule.State state = s.start(BASE);
      lr[0] = s.learningRate(BASE, state, 1, 0);
      for (int e = 0; e < values.length; e++) {
        state = s.afterEpoch(state, values[e], higherIsBetter);
        lr[e + 1] = s.learningRate(BASE, state, e + 2, 0);
      }
      return lr;
    }

    @Test
    void reducesAfterMoreThanPatienceBadEpochsWithCooldownAndMinimumAsTorch() {
      // ReduceLROnPlateau(opt, factor=0.5, patience=1, threshold=0.1, cooldown=1, min_lr=0.02),
      // lr 0.1, traced by hand through torch's step(): 0.95 is not below 1 * (1 - 0.1), a bad
      // epoch; the third reduction is clamped at min_lr 0.02, the fourth changes nothing.
      Schedule.ReduceOnPlateau s = Schedule.reduceOnPlateau(0.5, 1).withThreshold(0.1)
          .withCooldown(1).withMinLr(0.02);
      double[] got = run(s, false, 1.0, 0.95, 0.95, 0.8, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9);
      assertArrayEquals(new double[] {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025,
          0.02, 0.02, 0.02, 0.02}, got, 1e-17);
    }

    @Test
    void withHigherIsBetterAnAccuracyThatStopsRisingReduces() {
      // mode='max', factor 0.1, patience 0: every epoch not above best * (1 + 1e-4) reduces
      double[] got = run(Schedule.reduceOnPlateau(0.1, 0), true, 0.5, 0.6, 0.6, 0.7, 0.5);
      assertArrayEquals(new double[] {0.1, 0.1, 0.1, 0.01, 0.01, 0.001}, got, 1e-17);
    }

    @Test
    void theDefaultsAreTorchs() {
      Schedule.ReduceOnPlateau s = Schedule.reduceOnPlateau(0.1, 10);
      assertAll(
          () -> assertEquals(1e-4, s.threshold()),
          () -> assertEquals(0, s.cooldown()),
          () -> assertEquals(0, s.minLr()));
    }
  }

  @Test
  void onlyReduceOnPlateauMovesAfterAnEpoch() {
    Schedule s = Schedule.stepDecay(1, 0.5);
    Schedule.State start = s.start(BASE);
    assertEquals(start, s.afterEpoch(start, 1.0, false));
  }

  @Test
  void badArgumentsAreRefusedNamingThem() {
    Executable[] checks = {
        () -> pinned("stepDecay expected stepSize >= 1 but got 0", () -> Schedule.stepDecay(0, 1)),
        () -> pinned("stepDecay expected gamma > 0 and finite but got -0.5",
            () -> Schedule.stepDecay(1, -0.5)),
        () -> pinned("exponential expected gamma > 0 and finite but got NaN",
            () -> Schedule.exponential(Double.NaN)),
        () -> pinned("cosine expected warmupSteps >= 0 but got -1",
            () -> Schedule.cosine(-1, 7, 0)),
        () -> pinned("cosine expected totalSteps > warmupSteps but got totalSteps 7, warmupSteps 7",
            () -> Schedule.cosine(7, 7, 0)),
        () -> pinned("cosine expected minLr >= 0 and finite but got -1.0",
            () -> Schedule.cosine(0, 7, -1)),
        () -> pinned("reduceOnPlateau expected a factor in (0, 1) but got 1.0",
            () -> Schedule.reduceOnPlateau(1, 7)),
        () -> pinned("reduceOnPlateau expected patience >= 0 but got -7",
            () -> Schedule.reduceOnPlateau(0.5, -7)),
        () -> pinned("reduceOnPlateau expected cooldown >= 0 but got -7",
            () -> Schedule.reduceOnPlateau(0.5, 7).withCooldown(-7)),
        () -> pinned("reduceOnPlateau expected minLr >= 0 and finite but got Infinity",
            () -> Schedule.reduceOnPlateau(0.5, 7).withMinLr(Double.POSITIVE_INFINITY)),
    };
    assertAll(checks);
  }

  static void pinned(String message, Executable call) {
    assertEquals(message, assertThrows(IllegalArgumentException.class, call).getMessage());
  }
}
