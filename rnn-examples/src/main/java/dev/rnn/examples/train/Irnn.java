package dev.rnn.examples.train;

import static dev.rnn.dsl.Rnn.network;

import com.google.common.collect.ImmutableList;
import dev.rnn.autograd.Bptt;
import dev.rnn.autograd.optim.Adam;
import dev.rnn.autograd.optim.Optimizer;
import dev.rnn.core.Activation;
import dev.rnn.core.Parameter;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.Init;
import dev.rnn.dsl.NetworkBuilder;
import dev.rnn.dsl.Trainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The {@code irnn} example: the adding problem at {@code T = 150} as in Le, Jaitly and Hinton
 * (2015), "A simple way to initialize recurrent networks of rectified linear units": an IRNN
 * against an Elman network with tanh, an LSTM and a GRU, all of 100 units, trained alike.
 *
 * <p>An IRNN is a plain recurrent layer with relu, {@code h_t = relu(W_ih x_t + b_ih + W_hh h_{t-1}
 * + b_hh)}, started from
 *
 * <pre>
 *   W_hh = I            the identity: without input, h_t = h_{t-1}, so the state (and the
 *                       gradient back through it) is carried unchanged across time
 *   b_ih = b_hh = 0
 *   W_ih, dense weight  N(0, 0.001^2), "small random input weights"; the dense bias 0
 * </pre>
 *
 * <p>It is built through the DSL alone, the weights above by the builder's initializers:
 *
 * <pre>{@code
 * network().elman(2, 100, Activation.RELU)
 *     .init(Init.recurrent(Init.identity(1)), Init.input(Init.normal(0.001)),
 *         Init.bias(Init.zeros()))
 *     .lastStep().dense(100, 1).init(Init.input(Init.normal(0.001)), Init.bias(Init.zeros()))
 *     .seed(seed).build()
 * }</pre>
 *
 * <p>The other three keep torch's default initialisation. All four are trained alike:
 * Adam with learning rate {@value #LR}, gradient clipping at norm 1, batches of 16 as in the
 * paper, 15 epochs of 16,000 sequences (15,000 steps). The paper used SGD with a learning rate
 * tuned per model and up to 10^6 steps; with SGD at 1e-2 (and clipping) the IRNN here stayed at
 * the baseline for 30,000 steps, while with Adam at {@value #LR} it leaves it after about 6,000.
 * The task and its baseline are {@link Adding}'s: answering 1 whatever the input scores {@code
 * Var(u1 + u2) = 1/6 = 0.167}.
 */
final class Irnn {
  /** The sequence length of the paper's first adding problem. */
  static final int LENGTH = 150;

  /** The hidden units of every network, as in the paper. */
  static final int HIDDEN = 100;

  /** The sequences per batch, as in the paper. */
  static final int BATCH = 16;

  /** The standard deviation of the IRNN's input and output weights. */
  static final double INPUT_STD = 0.001;

  /** The learning rate of every model (the quick version's is {@value #QUICK_LR}). */
  static final double LR = 3e-4;

  /** The learning rate of the quick version, whose short runs need larger steps. */
  static final double QUICK_LR = 1e-3;

  /** The models compared. */
  enum Model {
    IRNN("irnn") {
      @Override NetworkBuilder add(NetworkBuilder b, int hidden) {
        return b.elman(2, hidden, Activation.RELU).init(Init.recurrent(Init.identity(1)),
            Init.input(Init.normal(INPUT_STD)), Init.bias(Init.zeros()));
      }

      @Override NetworkBuilder readOut(NetworkBuilder b, int hidden) {
        return b.dense(hidden, 1).init(Init.input(Init.normal(INPUT_STD)),
            Init.bias(Init.zeros()));
      }
    },
    ELMAN("elman (tanh)") {
      @Override NetworkBuilder add(NetworkBuilder b, int hidden) {
        return b.elman(2, hidden, Activation.TANH);
      }
    },
    LSTM("lstm") {
      @Override NetworkBuilder add(NetworkBuilder b, int hidden) {
        return b.lstm(2, hidden);
      }
    },
    GRU("gru") {
      @Override NetworkBuilder add(NetworkBuilder b, int hidden) {
        return b.gru(2, hidden);
      }
    };

    final String id;

    Model(String id) {
      this.id = id;
    }

    /** Adds the recurrent layer of {@code hidden} units, with its initializers. */
    abstract NetworkBuilder add(NetworkBuilder b, int hidden);

    /** Adds the dense read-out of one value, torch's default unless a model says otherwise. */
    NetworkBuilder readOut(NetworkBuilder b, int hidden) {
      return b.dense(hidden, 1);
    }

    /** The network: the recurrent layer, its last step, a dense read-out of one value. */
    Network build(int hidden, long seed) {
      return readOut(add(network(), hidden).lastStep(), hidden).seed(seed).build();
    }
  }

  /**
   * One model's run.
   *
   * @param layer the recurrent layer as the spec writes it, e.g. {@code elman(2, 100, relu)}
   */
  record Run(Model model, String layer, TrainingRun.Curve curve) {}

  /**
   * What the example gave.
   *
   * @param runs one per model
   * @param length T
   * @param heldOutBaseline the MSE of answering 1 on the held-out sequences
   */
  record Result(ImmutableList<Run> runs, int length, double heldOutBaseline,
      ImmutableList<Path> files) {
    Run run(Model m) {
      return runs.stream().filter(r -> r.model == m).findFirst().orElseThrow();
    }
  }

  private Irnn() {}

  static Result run(Setup s) throws IOException {
    boolean q = s.quick();
    int length = q ? 30 : LENGTH;
    int hidden = q ? 16 : HIDDEN;
    int epochs = s.epochsOr(4, 15);
    int trainSize = q ? 2000 : 16_000;
    int heldOutSize = q ? 500 : 2000;
    double lr = q ? QUICK_LR : LR;
    TrainingRun.Data train = Adding.data(s.seed() * 4 + 7000L + length, length, trainSize);
    TrainingRun.Data heldOut = Adding.data(s.seed() * 4 + 7001L + length, length, heldOutSize);
    double baseline = Adding.answerOneMse(heldOut);
    PrintWriter o = s.report();
    o.printf(Locale.ROOT, "irnn: the adding problem at T = %d, as in Le, Jaitly & Hinton (2015);"
            + " %d train and %d held-out sequences; %d units, lastStep(), dense(%d, 1); Adam lr"
            + " %s, clip 1.0, batch %d, %d epochs (%d steps)%n", length, trainSize, heldOutSize,
        hidden, hidden, lr(lr), BATCH, epochs, epochs * ((trainSize + BATCH - 1) / BATCH));
    o.printf(Locale.ROOT, "  baseline: always answer 1, MSE = 1/6 = 0.167 (%.4f on the held-out"
        + " sequences)%n", baseline);
    o.printf(Locale.ROOT, "  %-22s %12s %10s %8s %7s %8s%n", "model", "held-out MSE",
        "train MSE", "of 0.167", "steps", "time");
    o.flush();
    LossLog log = new LossLog("mse");
    List<Run> runs = new ArrayList<>();
    for (Model m : Model.values()) {
      Network net = m.build(hidden, s.seed());
      Function<List<Parameter>, Optimizer> adam = ps -> Adam.builder().lr(lr).build(ps);
      Trainer trainer = net.trainer().loss(Trainer.Objective.MSE).optimizer(adam::apply)
          .clipGradNorm(1.0);
      TrainingRun.Curve c = TrainingRun.run(m.id, trainer, BATCH, Bptt.full(), train, heldOut,
          epochs, s.seed(), s.progress(), log);
      String spec = net.spec();
      Run r = new Run(m, spec.substring(0, spec.indexOf(").") + 1), c);
      runs.add(r);
      o.printf(Locale.ROOT, "  %-22s %12.5f %10.5f %7.1f%% %7d %7.1fs%n", r.layer(),
          c.finalHeldOut(), c.finalTrain(), 100 * c.finalHeldOut() / Adding.BASELINE,
          c.steps(), c.seconds());
      o.flush();
    }
    Path csv = s.dir().resolve("irnn-loss.csv");
    Path png = s.dir().resolve("irnn.png");
    log.writeCsv(csv);
    Plots.Chart chart = Plots.chart("adding problem, T = " + length + ": held-out MSE", "epoch",
        "MSE (log scale)").logY();
    for (Run r : runs) {
      List<LossLog.Row> rows = log.rows(r.model().id);
      double[] x = new double[rows.size()];
      double[] y = new double[rows.size()];
      for (int i = 0; i < rows.size(); i++) {
        x[i] = rows.get(i).epoch();
        y[i] = rows.get(i).heldOut();
      }
      chart.line(r.model().id, x, y);
    }
    Plots.writePng(png, chart.reference("baseline: always answer 1 (0.167)", Adding.BASELINE));
    return new Result(ImmutableList.copyOf(runs), length, baseline, ImmutableList.of(csv, png));
  }

  /** {@code 3e-4}, as the paper writes a learning rate. */
  private static String lr(double lr) {
    return String.format(Locale.ROOT, "%.0e", lr).replace("e-0", "e-");
  }
}
