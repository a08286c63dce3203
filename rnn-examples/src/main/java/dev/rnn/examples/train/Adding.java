package dev.rnn.examples.train;

import dev.rnn.examples.OutputFile;
import static dev.rnn.dsl.Rnn.network;

import com.google.common.collect.ImmutableList;
import dev.rnn.autograd.Bptt;
import dev.rnn.autograd.GradientFlow;
import dev.rnn.autograd.optim.Adam;
import dev.rnn.core.Activation;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.NetworkBuilder;
import dev.rnn.dsl.Trainer;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The {@code adding} example: the adding problem of Hochreiter and Schmidhuber (1997), which
 * needs a memory of {@code T/2} steps or more, for Elman, LSTM and GRU cells at lengths 50 and
 * 100.
 *
 * <p>Each step of a sequence has two inputs: a value {@code U[0, 1]} and a marker, 1 at two
 * steps (one in the first half, one in the second) and 0 elsewhere; inputs {@code [T, N, 2]}.
 * The target, read at the last step ({@code lastStep()}), is the sum of the two marked values
 * ({@code [N, 1]}). Answering 1 whatever the input gives an MSE of {@code Var(u1 + u2) = 2/12 =
 * 0.167}: a network below that has learned to remember the marked values.
 *
 * <p>Besides the losses, it records {@code ||dL/dh_t||} (the {@link GradientFlow} of every
 * update) averaged over the first and the last updates of each run: for the Elman cell it
 * shrinks geometrically from the last step towards the first, so the marked values, most of the
 * sequence before the output, receive almost no gradient.
 */
final class Adding {
  /** {@code Var(u1 + u2)} for independent {@code U[0, 1]}: the MSE of always answering 1. */
  static final double BASELINE = 2.0 / 12;

  /** The number of sequences per batch. */
  static final int BATCH = 32;

  /** The number of updates averaged for the gradient flow at the start and at the end. */
  static final int FLOW_STEPS = 20;

  /** A recurrent cell type. */
  enum CellType {
    ELMAN("elman"), LSTM("lstm"), GRU("gru");

    final String id;

    CellType(String id) {
      this.id = id;
    }

    NetworkBuilder add(NetworkBuilder b, int hidden) {
      return switch (this) {
        case ELMAN -> b.elman(2, hidden, Activation.TANH);
        case LSTM -> b.lstm(2, hidden);
        case GRU -> b.gru(2, hidden);
      };
    }
  }

  /**
   * One cell at one length.
   *
   * @param layer the recurrent layer as the spec writes it, e.g. {@code lstm(2, 32)}
   * @param flowStart the mean {@code ||dL/dh_t||} over the first updates, indexed by {@code t}
   * @param flowEnd the same over the last updates
   */
  record Run(CellType cell, int length, String layer, TrainingRun.Curve curve, double[] flowStart,
      double[] flowEnd) {
    String name() {
      return cell.id + " T=" + length;
    }

    /** {@code ||dL/dh_0|| / ||dL/dh_{T-1}||} at the start of training. */
    double flowRatioAtStart() {
      return flowStart[0] / flowStart[flowStart.length - 1];
    }
  }

  /**
   * What the example gave.
   *
   * @param runs by length, then cell
   * @param heldOutBaseline the MSE of always answering 1 on each length's held-out set
   */
  record Result(ImmutableList<Run> runs, double[] heldOutBaseline, ImmutableList<Path> files) {
    Run run(CellType cell, int length) {
      return runs.stream().filter(r -> r.cell == cell && r.length == length).findFirst()
          .orElseThrow();
    }
  }

  private Adding() {}

  static Result run(Setup s) throws IOException {
    boolean q = s.quick();
    int[] lengths = q ? new int[] {20} : new int[] {50, 100};
    int hidden = q ? 16 : 32;
    int epochs = s.epochsOr(8, 16);
    int trainSize = q ? 3000 : 10_000;
    int heldOutSize = q ? 500 : 1000;
    double lr = q ? 1e-2 : 3e-3;
    LossLog log = new LossLog("mse");
    List<Run> runs = new ArrayList<>();
    double[] baselines = new double[lengths.length];
    PrintWriter o = s.report();
    o.printf(Locale.ROOT, "adding: the sum of the two marked values of a sequence, read at its"
            + " last step; %d train and %d held-out sequences per length; cells of %d units,"
            + " lastStep(), dense(%d, 1); Adam lr %s, batch %d, clip 1.0, %d epochs%n",
        trainSize, heldOutSize, hidden, hidden, q ? "1e-2" : "3e-3", BATCH, epochs);
    o.printf(Locale.ROOT, "  baseline: always answer 1, MSE = Var(u1 + u2) = 1/6 = %.3f%n",
        BASELINE);
    o.flush();
    for (int li = 0; li < lengths.length; li++) {
      int length = lengths[li];
      TrainingRun.Data train = data(s.seed() * 4 + length * 2L, length, trainSize);
      TrainingRun.Data heldOut = data(s.seed() * 4 + length * 2L + 1, length, heldOutSize);
      baselines[li] = answerOneMse(heldOut);
      o.printf(Locale.ROOT, "%n  T = %d (held-out MSE of answering 1: %.4f)%n", length,
          baselines[li]);
      o.printf(Locale.ROOT, "    %-18s %12s %10s %8s %7s  %s%n", "cell", "held-out MSE",
          "train MSE", "of 0.167", "time", "||dL/dh_0|| / ||dL/dh_T-1||: start, end");
      o.flush();
      for (CellType cell : CellType.values()) {
        Run r = train(cell, length, hidden, epochs, lr, train, heldOut, s, log);
        runs.add(r);
        double[] end = r.flowEnd;
        o.printf(Locale.ROOT, "    %-18s %12.5f %10.5f %7.2f%% %6.1fs  %.1e, %.1e%n",
            r.layer, r.curve.finalHeldOut(), r.curve.finalTrain(),
            100 * r.curve.finalHeldOut() / BASELINE, r.curve.seconds(), r.flowRatioAtStart(),
            end[0] / end[end.length - 1]);
        o.flush();
      }
    }

    Path csv = s.dir().resolve("adding-loss.csv");
    Path flowCsv = s.dir().resolve("adding-gradient-flow.csv");
    Path png = s.dir().resolve("adding.png");
    Path flowPng = s.dir().resolve("adding-gradient-flow.png");
    log.writeCsv(csv);
    writeFlowCsv(flowCsv, runs);
    List<Plots.Chart> lossCharts = new ArrayList<>();
    List<Plots.Chart> flowCharts = new ArrayList<>();
    for (int length : lengths) {
      lossCharts.add(lossChart(log, runs, length));
    }
    for (boolean atStart : new boolean[] {true, false}) {
      for (int length : lengths) {
        flowCharts.add(flowChart(runs, length, atStart));
      }
    }
    Plots.writePng(png, lengths.length, lossCharts);
    Plots.writePng(flowPng, lengths.length, flowCharts);
    return new Result(ImmutableList.copyOf(runs), baselines,
        ImmutableList.of(csv, png, flowCsv, flowPng));
  }

  private static Run train(CellType cell, int length, int hidden, int epochs, double lr,
      TrainingRun.Data train, TrainingRun.Data heldOut, Setup s, LossLog log) {
    Network net = cell.add(network(), hidden).lastStep().dense(hidden, 1).seed(s.seed()).build();
    long batches = (train.sequences() + BATCH - 1) / BATCH;
    long total = batches * epochs;
    FlowMean start = new FlowMean();
    FlowMean end = new FlowMean();
    Trainer trainer = net.trainer().loss(Trainer.Objective.MSE)
        .optimizer(params -> Adam.builder().lr(lr).build(params))
        .clipGradNorm(1.0)
        .listener(e -> {
          if (e.step() <= FLOW_STEPS) {
            start.add(e.flow());
          }
          if (e.step() > total - FLOW_STEPS) {
            end.add(e.flow());
          }
        });
    String name = cell.id + " T=" + length;
    TrainingRun.Curve c = TrainingRun.run(name, trainer, BATCH, Bptt.full(), train, heldOut,
        epochs, s.seed(), s.progress(), log);
    String spec = net.spec();
    return new Run(cell, length, spec.substring(0, spec.indexOf(").") + 1), c, start.mean(),
        end.mean());
  }

  /** The mean of the norms {@code ||dL/dh_t||} of the one recurrent layer over some updates. */
  private static final class FlowMean {
    private double[] sum;
    private int count;

    void add(GradientFlow flow) {
      String layer = flow.entries().get(0).layer();
      double[] n = flow.norms(layer, false);
      if (sum == null) {
        sum = new double[n.length];
      }
      for (int t = 0; t < n.length; t++) {
        sum[t] += n[t];
      }
      count++;
    }

    double[] mean() {
      double[] m = sum.clone();
      for (int t = 0; t < m.length; t++) {
        m[t] /= count;
      }
      return m;
    }
  }

  /**
   * {@code n} sequences of the adding problem of length {@code steps}: inputs {@code [T, N, 2]}
   * (value, marker) and targets {@code [N, 1]}.
   */
  static TrainingRun.Data data(long seed, int steps, int n) {
    Random rnd = new Random(seed);
    float[] x = new float[steps * n * 2];
    float[] y = new float[n];
    int half = steps / 2;
    for (int i = 0; i < n; i++) {
      for (int t = 0; t < steps; t++) {
        x[(t * n + i) * 2] = rnd.nextFloat();
      }
      int a = rnd.nextInt(half);
      int b = half + rnd.nextInt(steps - half);
      x[(a * n + i) * 2 + 1] = 1;
      x[(b * n + i) * 2 + 1] = 1;
      y[i] = x[(a * n + i) * 2] + x[(b * n + i) * 2];
    }
    return new TrainingRun.Data(Tensor.of(x, steps, n, 2), Tensor.of(y, n, 1));
  }

  /** The MSE of answering 1 on {@code d}. */
  static double answerOneMse(TrainingRun.Data d) {
    Tensor e = d.targets().map(v -> v - 1);
    return e.mul(e).sum() / e.size();
  }

  private static Plots.Chart lossChart(LossLog log, List<Run> runs, int length) {
    Plots.Chart c = Plots.chart("adding problem, T = " + length + ": held-out MSE", "epoch",
        "MSE (log scale)").logY();
    for (Run r : runs) {
      if (r.length == length) {
        List<LossLog.Row> rows = log.rows(r.name());
        double[] x = new double[rows.size()];
        double[] y = new double[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
          x[i] = rows.get(i).epoch();
          y[i] = rows.get(i).heldOut();
        }
        c.line(r.cell.id, x, y);
      }
    }
    return c.reference("baseline: always answer 1 (0.167)", BASELINE);
  }

  private static Plots.Chart flowChart(List<Run> runs, int length, boolean atStart) {
    Plots.Chart c = Plots.chart(String.format(Locale.ROOT, "T = %d: ||dL/dh_t||, mean of the %s %d"
            + " updates", length, atStart ? "first" : "last", FLOW_STEPS), "time step t",
        "||dL/dh_t|| (log scale)").logY();
    for (Run r : runs) {
      if (r.length == length) {
        double[] n = atStart ? r.flowStart : r.flowEnd;
        double[] t = new double[n.length];
        for (int i = 0; i < n.length; i++) {
          t[i] = i;
        }
        c.line(r.cell.id, t, n);
      }
    }
    return c;
  }

  private static void writeFlowCsv(Path file, List<Run> runs) throws IOException {
    StringBuilder sb = new StringBuilder("cell,length,when,t,grad_norm\n");
    for (Run r : runs) {
      for (boolean atStart : new boolean[] {true, false}) {
        double[] n = atStart ? r.flowStart : r.flowEnd;
        for (int t = 0; t < n.length; t++) {
          sb.append(String.format(Locale.ROOT, "%s,%d,%s,%d,%.6e%n", r.cell.id, r.length,
              atStart ? "start" : "end", t, n[t]));
        }
      }
    }
    String text = sb.toString().replace(System.lineSeparator(), "\n");
    OutputFile.writeCreatingDirectory(file, out -> {
      Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
      w.write(text);
      w.flush();
    });
  }
}
