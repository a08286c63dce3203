package dev.rnn.examples.train;

import static dev.rnn.dsl.Rnn.network;

import com.google.common.collect.ImmutableList;
import dev.rnn.autograd.Bptt;
import dev.rnn.autograd.optim.Adam;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.State;
import dev.rnn.dsl.Trainer;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.TreeSet;

/**
 * The {@code charlm} example: a character-level language model of Genesis 1-12 (King James
 * Version, public domain, shipped as a resource), {@code embedding(V, E).lstm(E, H).dense(H, V)}
 * over character ids with the cross-entropy of the next character at every step, trained once with
 * full BPTT and once with truncated BPTT from the same initial weights.
 *
 * <p>The text's first 90% trains, the rest is held out; both are cut into sequences of {@code T
 * + 1} characters, inputs the first {@code T} ({@code [T, N]}, character ids, which the embedding
 * turns into learned vectors of {@code E} features), targets the last {@code T} ({@code [T, N]},
 * class indices). The loss per character is in nats ({@code ln}) and
 * bits ({@code log2} = nats / ln 2); for scale, a model that knows only the characters'
 * frequencies (unigram) needs about 4.4 bits and a uniform guess {@code log2 V}.
 *
 * <p>Full BPTT backpropagates each sequence's {@code T} steps and updates once; truncated BPTT
 * ({@code k1}, {@code k2}) updates every {@code k1} steps, backpropagating {@code k2}, with the
 * state carried over: more updates per epoch, each over a shorter window.
 */
final class CharLm {
  /** The text, as a class path resource. */
  static final String TEXT = "/dev/rnn/examples/text/genesis-1-12.txt";

  /** The start of every sample. */
  static final String PROMPT = "And God said";

  /** The temperature of sampling: below 1, likelier characters are favoured further. */
  static final double TEMPERATURE = 0.8;

  /**
   * One of the two trainings.
   *
   * @param sample text generated after training, starting with {@link #PROMPT}
   */
  record Run(String name, Bptt bptt, TrainingRun.Curve curve, String sample) {}

  /**
   * What the example gave.
   *
   * @param unigramBits the held-out bits per character of the training text's character
   *     frequencies
   */
  record Result(Run full, Run truncated, int vocabulary, double unigramBits,
      ImmutableList<Path> files) {}

  private CharLm() {}

  static Result run(Setup s) throws IOException {
    boolean q = s.quick();
    String text = text();
    if (q) {
      text = text.substring(0, 8000);
    }
    int steps = q ? 40 : 100;
    int hidden = q ? 48 : 128;
    int embed = q ? 16 : 32;
    int epochs = s.epochsOr(4, 30);
    Bptt truncated = q ? Bptt.truncated(10, 20) : Bptt.truncated(25, 50);
    int batch = q ? 16 : 32;
    double lr = q ? 1e-2 : 3e-3;
    String vocab = vocabulary(text);
    int v = vocab.length();
    int split = text.length() * 9 / 10;
    String trainText = text.substring(0, split);
    String heldOutText = text.substring(split);
    TrainingRun.Data train = data(trainText, vocab, steps);
    TrainingRun.Data heldOut = data(heldOutText, vocab, steps);
    double unigram = unigramBits(trainText, heldOutText, vocab);

    PrintWriter o = s.report();
    o.printf(Locale.ROOT, "charlm: Genesis 1-12 (KJV), %d characters (%d distinct), %d train"
            + " and %d held-out sequences of %d steps; embedding(%d, %d).lstm(%d, %d).dense(%d,"
            + " %d), character ids in, cross-entropy per step; Adam lr %s, batch %d, clip 5.0, %d"
            + " epochs%n",
        text.length(), v, train.sequences(), heldOut.sequences(), steps, v, embed, embed, hidden,
        hidden, v, q ? "1e-2" : "3e-3", batch, epochs);
    o.printf(Locale.ROOT, "  for scale: uniform %.2f bits/char, unigram (character frequencies)"
        + " %.2f bits/char on the held-out text%n", log2(v), unigram);
    o.flush();

    LossLog log = new LossLog("nats_per_char");
    List<Run> runs = new ArrayList<>();
    for (Bptt bptt : List.of(Bptt.full(), truncated)) {
      String name = bptt.isFull() ? "full BPTT T=" + steps
          : "truncated BPTT k1=" + bptt.k1() + " k2=" + bptt.k2();
      Network net = network().embedding(v, embed).lstm(embed, hidden).dense(hidden, v)
          .seed(s.seed()).build();
      Trainer trainer = net.trainer().loss(Trainer.Objective.CROSS_ENTROPY)
          .optimizer(params -> Adam.builder().lr(lr).build(params))
          .clipGradNorm(5.0);
      TrainingRun.Curve c = TrainingRun.run(name, trainer, batch, bptt, train, heldOut, epochs,
          s.seed(), s.progress(), log);
      String sample = sample(net, vocab, PROMPT, q ? 80 : 400, TEMPERATURE,
          new Random(s.seed()));
      runs.add(new Run(name, bptt, c, sample));
      o.printf(Locale.ROOT, "%n  %s: %d updates in %.1f s (%.2f s per epoch)%n", name,
          c.steps(), c.seconds(), c.seconds() / epochs);
      o.printf(Locale.ROOT, "    train     %.3f nats = %.3f bits per character (first epoch"
          + " %.3f bits)%n", c.finalTrain(), bits(c.finalTrain()), bits(c.firstTrain()));
      o.printf(Locale.ROOT, "    held-out  %.3f nats = %.3f bits per character (before"
              + " training %.3f bits; lowest %.3f bits after epoch %d)%n", c.finalHeldOut(),
          bits(c.finalHeldOut()), bits(c.heldOutBefore()), bits(c.bestHeldOut()),
          c.bestEpoch());
      o.printf(Locale.ROOT, "    sample (temperature %.1f, seed %d):%n", TEMPERATURE, s.seed());
      for (String line : sample.split("\n", -1)) {
        o.println("      " + line);
      }
      o.flush();
    }

    Path csv = s.dir().resolve("charlm-loss.csv");
    Path png = s.dir().resolve("charlm.png");
    log.writeCsv(csv);
    Plots.writePng(png, 2, List.of(byEpoch(log, unigram), bySeconds(log, unigram)));
    return new Result(runs.get(0), runs.get(1), v, unigram, ImmutableList.of(csv, png));
  }

  /** The text of {@link #TEXT}. */
  static String text() {
    try (InputStream in = CharLm.class.getResourceAsStream(TEXT)) {
      if (in == null) {
        throw new IllegalStateException("resource " + TEXT + " is missing from the class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The distinct characters of {@code text}, in order: character {@code c} is class {@code
   * vocab.indexOf(c)}.
   */
  static String vocabulary(String text) {
    TreeSet<Character> set = new TreeSet<>();
    for (char c : text.toCharArray()) {
      set.add(c);
    }
    StringBuilder sb = new StringBuilder();
    set.forEach(sb::append);
    return sb.toString();
  }

  /**
   * The text cut into sequences of {@code steps + 1} characters (the rest dropped): character-id
   * inputs {@code [T, N]} and next-character targets {@code [T, N]}.
   */
  static TrainingRun.Data data(String text, String vocab, int steps) {
    int n = (text.length() - 1) / steps;
    float[] x = new float[steps * n];
    float[] y = new float[steps * n];
    for (int i = 0; i < n; i++) {
      for (int t = 0; t < steps; t++) {
        int at = i * steps + t;
        x[t * n + i] = vocab.indexOf(text.charAt(at));
        y[t * n + i] = vocab.indexOf(text.charAt(at + 1));
      }
    }
    return new TrainingRun.Data(Tensor.of(x, steps, n), Tensor.of(y, steps, n));
  }

  /**
   * {@code length} characters after {@code prompt}, each drawn from {@code softmax(z /
   * temperature)} of the network's logits {@code z} given the characters so far, fed back one step
   * at a time.
   */
  static String sample(Network net, String vocab, String prompt, int length, double temperature,
      Random rnd) {
    float[] p = new float[prompt.length()];
    for (int t = 0; t < prompt.length(); t++) {
      p[t] = vocab.indexOf(prompt.charAt(t));
    }
    Network.Result r = net.forward(Tensor.of(p, prompt.length()), null);
    Tensor logits = r.output().select(0, prompt.length() - 1);
    State state = r.state();
    StringBuilder sb = new StringBuilder(prompt);
    for (int i = 0; i < length; i++) {
      int c = draw(logits, temperature, rnd);
      sb.append(vocab.charAt(c));
      Network.Result step = net.step(Tensor.of(new float[] {c}), state);
      logits = step.output();
      state = step.state();
    }
    return sb.toString();
  }

  /** A class drawn from {@code softmax(z / temperature)}. */
  private static int draw(Tensor z, double temperature, Random rnd) {
    int v = z.size();
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < v; j++) {
      max = Math.max(max, z.at(j));
    }
    double[] w = new double[v];
    double sum = 0;
    for (int j = 0; j < v; j++) {
      w[j] = Math.exp((z.at(j) - max) / temperature);
      sum += w[j];
    }
    double u = rnd.nextDouble() * sum;
    for (int j = 0; j < v; j++) {
      u -= w[j];
      if (u < 0) {
        return j;
      }
    }
    return v - 1;
  }

  /**
   * The bits per character of {@code heldOut} under the character frequencies of {@code train},
   * each count plus one.
   */
  static double unigramBits(String train, String heldOut, String vocab) {
    double[] count = new double[vocab.length()];
    java.util.Arrays.fill(count, 1);
    for (char c : train.toCharArray()) {
      count[vocab.indexOf(c)]++;
    }
    double total = train.length() + vocab.length();
    double s = 0;
    for (char c : heldOut.toCharArray()) {
      s -= log2(count[vocab.indexOf(c)] / total);
    }
    return s / heldOut.length();
  }

  static double bits(double nats) {
    return nats / Math.log(2);
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }

  /** The legend's name of a run: {@code full BPTT} or {@code truncated (25, 50)}. */
  private static String label(String run) {
    return run.startsWith("full") ? "full BPTT"
        : run.replace("truncated BPTT k1=", "truncated (").replace(" k2=", ", ") + ")";
  }

  private static Plots.Chart byEpoch(LossLog log, double unigram) {
    Plots.Chart c = Plots.chart("charlm: loss per character by epoch", "epoch",
        "bits per character").legendInside();
    for (String run : log.runs()) {
      List<LossLog.Row> rows = log.rows(run);
      double[] e = new double[rows.size()];
      double[] held = new double[rows.size()];
      double[] train = new double[rows.size()];
      for (int i = 0; i < rows.size(); i++) {
        e[i] = rows.get(i).epoch();
        held[i] = bits(rows.get(i).heldOut());
        train[i] = bits(rows.get(i).train());
      }
      c.line(label(run) + ", held-out", e, held);
      c.dashed(label(run) + ", train", e, train);
    }
    return c.reference(String.format(Locale.ROOT, "unigram %.2f", unigram), unigram);
  }

  private static Plots.Chart bySeconds(LossLog log, double unigram) {
    Plots.Chart c = Plots.chart("charlm: held-out loss by training time", "seconds of training",
        "bits per character").legendInside();
    for (String run : log.runs()) {
      List<LossLog.Row> rows = log.rows(run);
      double[] sec = new double[rows.size()];
      double[] held = new double[rows.size()];
      for (int i = 0; i < rows.size(); i++) {
        sec[i] = rows.get(i).seconds();
        held[i] = bits(rows.get(i).heldOut());
      }
      c.line(label(run) + ", held-out", sec, held);
    }
    return c.reference(String.format(Locale.ROOT, "unigram %.2f", unigram), unigram);
  }
}
