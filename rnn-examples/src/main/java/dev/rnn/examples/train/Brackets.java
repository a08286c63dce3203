package dev.rnn.examples.train;

import static dev.rnn.dsl.Rnn.network;

import com.google.common.collect.ImmutableList;
import dev.rnn.autograd.optim.Adam;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.Trainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The {@code brackets} example: sentences of different lengths, classified. Is a string of
 * brackets balanced ({@code (()())}) or not ({@code ())(()}), a synthetic grammar (the Dyck
 * language)? Every string has as many {@code (} as {@code )}, so counting does not tell: the
 * network must track the depth through the whole sentence and notice when it goes below zero.
 *
 * <p>The sentences are token ids ({@code 1 = (}, {@code 2 = )}; {@code 0} is the padding id) of
 * even lengths 2 to {@code L}, half balanced and half shuffled until they are not. They go to the
 * trainer as a list of sequences of different lengths: each batch is padded and run with its
 * lengths, so every sentence is read over its own steps only and {@code lastStep()} is its own
 * last token; the network is {@code embedding(3, E, 0).lstm(E, H).dense(H, 2).lastStep()} with
 * the cross-entropy of the class. Accuracy on held-out sentences, against the 50% of a guess.
 */
final class Brackets {
  /**
   * What the run gave.
   *
   * @param accuracy the held-out accuracy after training
   * @param accuracyBefore the held-out accuracy before training
   * @param files the files written
   */
  record Result(double accuracy, double accuracyBefore, double[] heldOutLoss,
      ImmutableList<Path> files) {}

  /** Sentences and their classes: 1 balanced, 0 not. */
  record Data(List<Tensor> sentences, List<Tensor> labels) {}

  private Brackets() {}

  static Result run(Setup s) throws IOException {
    boolean q = s.quick();
    int maxLength = q ? 16 : 40;
    int embed = q ? 4 : 8;
    int hidden = q ? 16 : 32;
    int epochs = s.epochsOr(8, 25);
    Data train = data(s.seed() * 2 + 1, q ? 600 : 4000, maxLength);
    Data heldOut = data(s.seed() * 2 + 2, q ? 200 : 1000, maxLength);
    Network net = network().embedding(3, embed, 0).lstm(embed, hidden).dense(hidden, 2)
        .lastStep().seed(s.seed()).build();
    Trainer trainer = net.trainer().loss(Trainer.Objective.CROSS_ENTROPY)
        .optimizer(params -> Adam.builder().lr(1e-2).build(params))
        .clipGradNorm(1.0).batchSize(32).shuffle(s.seed()).epochs(1);
    LossLog log = new LossLog("cross_entropy");
    double before = trainer.evaluate(heldOut.sentences(), heldOut.labels());
    double accuracyBefore = accuracy(net, heldOut);
    log.add(new LossLog.Row("lstm", 0, 0, 0, Double.NaN, before));
    double[] heldOutLoss = new double[epochs];
    double[] accuracies = new double[epochs];
    double seconds = 0;
    long steps = 0;
    Trainer.Report r = null;
    try (Progress.Bar bar = s.progress().start("brackets", epochs)) {
      for (int e = 1; e <= epochs; e++) {
        r = r == null ? trainer.fit(train.sentences(), train.labels())
            : trainer.resume(r, train.sentences(), train.labels());
        seconds += r.wallTime().toNanos() / 1e9;
        steps += r.steps();
        heldOutLoss[e - 1] = trainer.evaluate(heldOut.sentences(), heldOut.labels());
        accuracies[e - 1] = accuracy(net, heldOut);
        log.add(new LossLog.Row("lstm", e, steps, seconds, r.finalLoss(), heldOutLoss[e - 1]));
        bar.step(String.format(Locale.ROOT, "epoch %d/%d accuracy %.3f", e, epochs,
            accuracies[e - 1]));
      }
    }
    double accuracy = accuracies[epochs - 1];

    PrintWriter o = s.report();
    o.printf(Locale.ROOT, "brackets: is a string of brackets balanced? %d train and %d held-out"
            + " sentences of 2 to %d tokens, given as lists of sequences (each run over its own"
            + " steps); %s, Adam lr 1e-2, batch 32, clip 1.0, %d epochs (%d steps, %.1f s)%n",
        train.sentences().size(), heldOut.sentences().size(), maxLength, net.spec(), epochs,
        steps, seconds);
    o.printf(Locale.ROOT, "  held-out accuracy  %.3f (before training %.3f; a guess 0.5)%n",
        accuracy, accuracyBefore);
    o.printf(Locale.ROOT, "  held-out loss      %.4f nats (before training %.4f)%n",
        heldOutLoss[epochs - 1], before);
    o.flush();

    Path csv = s.dir().resolve("brackets-loss.csv");
    Path png = s.dir().resolve("brackets.png");
    log.writeCsv(csv);
    double[] epoch = new double[epochs];
    for (int e = 0; e < epochs; e++) {
      epoch[e] = e + 1;
    }
    Plots.writePng(png, Plots.chart("brackets: balanced or not, sentences of 2 to " + maxLength
            + " tokens", "epoch", "held-out accuracy").legendInside()
        .line("held-out accuracy", epoch, accuracies)
        .reference("a guess", 0.5));
    return new Result(accuracy, accuracyBefore, heldOutLoss, ImmutableList.of(csv, png));
  }

  /**
   * {@code n} sentences of even lengths 2 to {@code maxLength}, half balanced, half not (shuffled
   * until unbalanced), with their classes.
   */
  static Data data(long seed, int n, int maxLength) {
    Random rnd = new Random(seed);
    List<Tensor> sentences = new ArrayList<>();
    List<Tensor> labels = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int length = 2 * (1 + rnd.nextInt(maxLength / 2));
      boolean balanced = i % 2 == 0;
      float[] ids = balanced(length, rnd);
      while (!balanced && isBalanced(ids)) {
        shuffle(ids, rnd);
      }
      sentences.add(Tensor.of(ids, length));
      labels.add(Tensor.of(new float[] {balanced ? 1 : 0}, 1));
    }
    return new Data(sentences, labels);
  }

  /** A random balanced string of {@code length} brackets, as ids 1 and 2. */
  private static float[] balanced(int length, Random rnd) {
    float[] ids = new float[length];
    int depth = 0;
    for (int t = 0; t < length; t++) {
      int left = length - t;
      boolean open = depth == 0 || depth < left && rnd.nextBoolean();
      ids[t] = open ? 1 : 2;
      depth += open ? 1 : -1;
    }
    return ids;
  }

  static boolean isBalanced(float[] ids) {
    int depth = 0;
    for (float id : ids) {
      depth += id == 1 ? 1 : -1;
      if (depth < 0) {
        return false;
      }
    }
    return depth == 0;
  }

  private static void shuffle(float[] a, Random rnd) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      float t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  /** The share of sentences whose larger logit is their class. */
  static double accuracy(Network net, Data d) {
    Tensor logits = net.forward(d.sentences()).output();
    int right = 0;
    for (int n = 0; n < d.sentences().size(); n++) {
      int guess = logits.get(n, 1) > logits.get(n, 0) ? 1 : 0;
      right += guess == (int) d.labels().get(n).at(0) ? 1 : 0;
    }
    return right / (double) d.sentences().size();
  }
}
