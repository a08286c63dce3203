package dev.rnn.examples.train;

import static dev.rnn.dsl.Rnn.network;

import com.google.common.collect.ImmutableList;
import dev.rnn.autograd.Bptt;
import dev.rnn.autograd.optim.Adam;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.Trainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The {@code sine} example: next-step prediction of noisy sine waves with {@code
 * lstm(1, 32).dense(32, 1)}, against the naive forecast that repeats the last value.
 *
 * <p>Each sequence is {@code v_t = sin(2 pi f t + phi) + eps_t}, {@code t = 0..T}, with its own
 * frequency {@code f ~ U[1/40, 1/10]} cycles per step, phase {@code phi ~ U[0, 2 pi)} and noise
 * {@code eps_t ~ N(0, 0.1^2)}. The input is {@code v_0..v_{T-1}} ({@code [T, N, 1]}), the target
 * {@code v_1..v_T}: at every step, the next value. No model can beat the noise floor {@code
 * 0.1^2 = 0.01}; the naive forecast {@code v_{t+1} ~ v_t} scores about 0.1. To beat it the network
 * must infer each sequence's frequency and phase from the values it has seen.
 */
final class Sine {
  static final double NOISE = 0.1;

  /**
   * What the run gave.
   *
   * @param curve the losses, epoch by epoch
   * @param naive the held-out MSE of predicting the last value
   * @param files the files written
   */
  record Result(TrainingRun.Curve curve, double naive, ImmutableList<Path> files) {}

  private Sine() {}

  static Result run(Setup s) throws IOException {
    boolean q = s.quick();
    int steps = q ? 30 : 60;
    int hidden = q ? 16 : 32;
    int epochs = s.epochsOr(6, 30);
    TrainingRun.Data train = data(s.seed() * 2 + 1, steps, q ? 256 : 1024);
    Waves heldOutWaves = waves(s.seed() * 2 + 2, steps, q ? 64 : 256);
    TrainingRun.Data heldOut = heldOutWaves.data();
    Network net = network().lstm(1, hidden).dense(hidden, 1).seed(s.seed()).build();
    Trainer trainer = net.trainer().loss(Trainer.Objective.MSE)
        .optimizer(params -> Adam.builder().lr(1e-2).build(params))
        .clipGradNorm(1.0);
    LossLog log = new LossLog("mse");
    String name = net.spec();
    TrainingRun.Curve c = TrainingRun.run("lstm", trainer, 32, Bptt.full(), train, heldOut,
        epochs, s.seed(), s.progress(), log);
    double naive = naiveMse(heldOut);

    PrintWriter o = s.report();
    o.printf(Locale.ROOT, "sine: next-step prediction of noisy sine waves, %d train and %d"
            + " held-out sequences of %d steps, %s (%d parameters), Adam lr 1e-2, batch 32,"
            + " clip 1.0, %d epochs (%d steps, %.1f s)%n", train.sequences(),
        heldOut.sequences(), steps, name, net.parameterCount(), epochs, c.steps(), c.seconds());
    o.printf(Locale.ROOT, "  train MSE       %.4f (first epoch %.4f)%n", c.finalTrain(),
        c.firstTrain());
    o.printf(Locale.ROOT, "  held-out MSE    %.4f (before training %.4f)%n", c.finalHeldOut(),
        c.heldOutBefore());
    o.printf(Locale.ROOT, "  baseline        %.4f  predict the last value (held-out)%n", naive);
    o.printf(Locale.ROOT, "  noise floor     %.4f  the variance of the noise, which no model"
        + " can predict%n", NOISE * NOISE);
    o.flush();

    Path csv = s.dir().resolve("sine-loss.csv");
    Path png = s.dir().resolve("sine.png");
    log.writeCsv(csv);
    Plots.writePng(png, 2,
        List.of(lossChart(log, "lstm", name, naive), predictionChart(net, heldOutWaves)));
    return new Result(c, naive, ImmutableList.of(csv, png));
  }

  /**
   * {@code n} noisy sine waves of {@code steps + 1} values as inputs {@code v_0..v_{T-1}} and
   * targets {@code v_1..v_T}, both {@code [T, N, 1]}.
   */
  static TrainingRun.Data data(long seed, int steps, int n) {
    return waves(seed, steps, n).data();
  }

  /**
   * The waves of {@link #data} and, beside them, the targets without their noise ({@code
   * sin(2 pi f t + phi)} for {@code t = 1..T}, {@code [T, N, 1]}).
   */
  record Waves(TrainingRun.Data data, Tensor clean) {}

  static Waves waves(long seed, int steps, int n) {
    Random rnd = new Random(seed);
    float[] x = new float[steps * n];
    float[] y = new float[steps * n];
    float[] clean = new float[steps * n];
    for (int i = 0; i < n; i++) {
      double f = 1.0 / 40 + rnd.nextDouble() * (1.0 / 10 - 1.0 / 40);
      double phi = rnd.nextDouble() * 2 * Math.PI;
      for (int t = 0; t <= steps; t++) {
        double sin = Math.sin(2 * Math.PI * f * t + phi);
        double v = sin + NOISE * rnd.nextGaussian();
        if (t < steps) {
          x[t * n + i] = (float) v;
        }
        if (t > 0) {
          y[(t - 1) * n + i] = (float) v;
          clean[(t - 1) * n + i] = (float) sin;
        }
      }
    }
    return new Waves(new TrainingRun.Data(Tensor.of(x, steps, n, 1), Tensor.of(y, steps, n, 1)),
        Tensor.of(clean, steps, n, 1));
  }

  /** The MSE of predicting {@code v_{t+1}} by {@code v_t}: the input itself. */
  static double naiveMse(TrainingRun.Data d) {
    Tensor diff = d.targets().sub(d.inputs());
    return diff.mul(diff).sum() / diff.size();
  }

  private static Plots.Chart lossChart(LossLog log, String run, String spec, double naive) {
    List<LossLog.Row> rows = log.rows(run);
    double[] epoch = new double[rows.size() - 1];
    double[] train = new double[rows.size() - 1];
    double[] heldOut = new double[rows.size()];
    double[] all = new double[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      all[i] = rows.get(i).epoch();
      heldOut[i] = rows.get(i).heldOut();
      if (i > 0) {
        epoch[i - 1] = rows.get(i).epoch();
        train[i - 1] = rows.get(i).train();
      }
    }
    return Plots.chart("sine: next-step MSE of " + spec, "epoch", "MSE (log scale)").logY()
        .legendInside()
        .line("held-out", all, heldOut)
        .dashed("train", epoch, train)
        .reference("baseline: predict the last value", naive)
        .reference("noise floor 0.01", NOISE * NOISE);
  }

  /**
   * The first held-out sequence: its noisy values, the sine under them, the network's forecasts
   * and the naive one's.
   */
  private static Plots.Chart predictionChart(Network net, Waves heldOut) {
    Tensor x = heldOut.data().inputs().slice(1, 0, 1);
    Tensor y = heldOut.data().targets().slice(1, 0, 1);
    Tensor p = net.forward(x);
    int steps = x.dim(0);
    double[] t = new double[steps];
    double[] target = new double[steps];
    double[] clean = new double[steps];
    double[] forecast = new double[steps];
    double[] last = new double[steps];
    for (int i = 0; i < steps; i++) {
      t[i] = i + 1;
      target[i] = y.get(i, 0, 0);
      clean[i] = heldOut.clean().get(i, 0, 0);
      forecast[i] = p.get(i, 0, 0);
      last[i] = x.get(i, 0, 0);
    }
    return Plots.chart("a held-out sequence: forecasts of v(t) from v(0..t-1)", "t", "v(t)")
        .line("v(t), noisy", t, target)
        .line("network", t, forecast)
        .line("last value v(t-1)", t, last)
        .line("sine without noise", t, clean);
  }
}
