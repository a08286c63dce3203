package dev.rnn.examples.walkthrough;

import static dev.rnn.dsl.Rnn.network;

import dev.rnn.autograd.optim.Sgd;
import dev.rnn.core.Activation;
import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.Trainer;
import java.util.List;
import java.util.Map;

/**
 * Walkthrough 4 answers "what does an RNN output, and how are sequences batched?": the output
 * sequence against the final state, {@code lastStep()}, the {@code [seq, batch, features]} and
 * {@code [batch, seq, features]} layouts, the state of stacked layers, mini-batch training over a
 * small data set, and a ragged batch (sequences of different lengths) with and without lengths.
 *
 * <p>Shapes (T steps, N sequences, F features, H hidden units, L recurrent layers): input {@code
 * [T, N, F]} (or {@code [N, T, F]} with {@code batchFirst()}); output {@code [T, N, H]} (or {@code
 * [N, T, H]}), or {@code [N, H]} after {@code lastStep()}; state {@code h_l0 ... h_l(L-1)}, each
 * {@code [N, H]} in both layouts, which torch stacks as {@code h_n [L, N, H]}.
 */
final class OutputsAndBatching {
  static final long SEED = 4;
  static final int SEQUENCES = 64;
  static final int STEPS = 8;
  static final int BATCH = 8;
  static final int EPOCHS = 12;
  static final double LEARNING_RATE = 0.1;
  static final double MOMENTUM = 0.5;

  private OutputsAndBatching() {}

  /** {@return the walkthrough's text} */
  public static String run() {
    Report r = new Report();
    r.line("Walkthrough 4: what does an RNN output, and how are sequences batched?");
    r.line();
    Network one = network().elman(2, 3, Activation.TANH).dtype(DType.FLOAT64).seed(SEED)
        .build();
    Tensor x = Tensor.uniform(DType.FLOAT64, SEED, -1, 1, 4, 2, 2);
    outputAndState(r, one, x);
    r.line();
    lastStep(r, one, x);
    r.line();
    layouts(r, one, x);
    r.line();
    stacked(r, x);
    r.line();
    training(r);
    r.line();
    ragged(r);
    return r.toString();
  }

  /** The lengths of section 6's ragged batch. */
  static final int[] LENGTHS = {4, 2, 3};

  /**
   * Section 6: a ragged batch padded to one block. Without lengths the padding runs through the
   * recurrence: the final state of a short sequence is taken after it, and the reverse direction
   * starts in it. With lengths each sequence gets its own answer, as if run alone.
   */
  private static void ragged(Report r) {
    Network net = network().gru(2, 3).bidirectional().dtype(DType.FLOAT64).seed(SEED).build();
    int steps = LENGTHS[0];
    List<Tensor> sequences = new java.util.ArrayList<>();
    for (int n = 0; n < LENGTHS.length; n++) {
      sequences.add(Tensor.uniform(DType.FLOAT64, SEED + 10 + n, -1, 1, LENGTHS[n], 2));
    }
    // the padded block [4, 3, 2]: zeros after each sequence's end, as padding usually is
    Tensor padded = padded(sequences, steps);
    Network.Result without = net.forward(padded, null);
    Network.Result with = net.forward(padded, LENGTHS, null);
    Network.Result alone = net.forward(sequences.get(1), null);
    Tensor aloneH = alone.state().get("h_l0");
    Tensor aloneReverse = alone.output().select(0, 0).slice(0, 3, 6);
    r.line("6. A ragged batch: %d sequences of lengths %s, padded with zeros to one block",
        LENGTHS.length, java.util.Arrays.toString(LENGTHS));
    r.line("   x %s [seq, batch, 2], through network().%s, float64, seed %d.",
        padded.shape(), net.spec(), SEED);
    r.line("   Sequence 2 (length 2) alone: h_l0 = %s,", Report.tensor(aloneH));
    r.line("   its reverse direction's output at t = 1: %s.", Report.tensor(aloneReverse));
    r.line("   Without lengths, net.forward(x, null) runs every sequence over all %d steps:",
        steps);
    Tensor h0 = without.state().get("h_l0").select(0, 1);
    Tensor rev0 = without.output().select(0, 0).select(0, 1).slice(0, 3, 6);
    r.line("     h_l0 of sequence 2:       %s (max difference %s: taken after the padding)",
        Report.tensor(h0), Report.error(h0.maxAbsDiff(aloneH)));
    r.line("     reverse output at t = 1:  %s (max difference %s: it started in the padding)",
        Report.tensor(rev0), Report.error(rev0.maxAbsDiff(aloneReverse)));
    Tensor h1 = with.state().get("h_l0").select(0, 1);
    Tensor rev1 = with.output().select(0, 0).select(0, 1).slice(0, 3, 6);
    r.line("   With lengths, net.forward(x, new int[] {4, 2, 3}, null) runs each sequence over");
    r.line("   its own steps (the batch sorted once by length, shrinking as sequences end, as");
    r.line("   torch's pack_padded_sequence):");
    r.line("     h_l0 of sequence 2:       %s (max difference %s)", Report.tensor(h1),
        Report.error(h1.maxAbsDiff(aloneH)));
    r.line("     reverse output at t = 1:  %s (max difference %s)", Report.tensor(rev1),
        Report.error(rev1.maxAbsDiff(aloneReverse)));
    Tensor after = with.output().slice(0, 2, steps).select(1, 1);
    r.line("     output of sequence 2 at t = 3, 4 (after its end): %s", Report.tensor(after));
    Network.Result list = net.forward(sequences);
    r.line("   A list of sequences, net.forward(List.of(x1, x2, x3)): the same output: %s;",
        list.output().equals(with.output()));
    r.line("   the padding is never read, so what it holds (zeros, NaN) changes nothing. A loss");
    r.line("   counts the real steps only (trainer.fit(x, lengths, targets), or fit(list of");
    r.line("   inputs, list of targets)), and lastStep() takes each sequence's own last step.");
  }

  /** The sequences ({@code [T_n, F]}) as one time-major block {@code [T, N, F]}, zero-padded. */
  private static Tensor padded(List<Tensor> sequences, int steps) {
    int n = sequences.size();
    int f = sequences.get(0).dim(1);
    double[] a = new double[steps * n * f];
    for (int i = 0; i < n; i++) {
      Tensor s = sequences.get(i);
      for (int t = 0; t < s.dim(0); t++) {
        for (int k = 0; k < f; k++) {
          a[(t * n + i) * f + k] = s.get(t, k);
        }
      }
    }
    return Tensor.of(a, steps, n, f);
  }

  /** Section 1: a one-layer network's output at the last step is its final state. */
  private static void outputAndState(Report r, Network net, Tensor x) {
    Network.Result res = net.forward(x, null);
    Tensor y = res.output();
    Tensor h = res.state().get("h_l0");
    Tensor last = y.select(0, y.dim(0) - 1);
    r.line("1. Output sequence against final state, network().%s, float64, seed %d,", net.spec(),
        SEED);
    r.line("   on x %s = [seq 4, batch 2, features 2] (time first, the default, as torch):",
        x.shape());
    r.line("   output %s: h_t for every step t of every sequence", y.shape());
    for (int t = 0; t < y.dim(0); t++) {
      r.line("     t = %d: %s", t + 1, Report.tensor(y.select(0, t)));
    }
    r.line("   state h_l0 %s: h_T only, to continue from (net.forward(x, state))", h.shape());
    r.line("     h_l0:  %s", Report.tensor(h));
    r.line("   output[T] equals h_l0: %s (max difference %s). With one layer and nothing after",
        last.equals(h), Report.error(last.maxAbsDiff(h)));
    r.line("   it, the output is the hidden state itself; the state is just its last step.");
  }

  /** Section 2: {@code lastStep()} keeps only {@code h_T}. */
  private static void lastStep(Report r, Network one, Tensor x) {
    Network last = network().elman(2, 3, Activation.TANH).lastStep().dtype(DType.FLOAT64)
        .build();
    copy(one, last);
    Tensor y = last.forward(x);
    Tensor h = one.forward(x, null).state().get("h_l0");
    r.line("2. lastStep(): with the same weights, network().%s", last.spec());
    r.line("   outputs one vector per sequence:");
    r.line("   output %s = %s", y.shape(), Report.tensor(y));
    r.line("   equal to h_l0 above: %s. For one answer per sequence (classification,", y.equals(h));
    r.line("   regression) put a head on it, e.g. lastStep().dense(3, 1): [batch, 1].");
  }

  /** Section 3: the same network batch first, on the transposed input. */
  private static void layouts(Report r, Network timeFirst, Tensor x) {
    Network batchFirst = network().elman(2, 3, Activation.TANH).batchFirst()
        .dtype(DType.FLOAT64).build();
    copy(timeFirst, batchFirst);
    Tensor xb = x.transpose(0, 1);
    Network.Result tf = timeFirst.forward(x, null);
    Network.Result bf = batchFirst.forward(xb, null);
    r.line("3. Layout: [seq, batch, features] (the default) or [batch, seq, features]");
    r.line("   (batchFirst()), the same weights:");
    r.line("   time first:   x %s -> output %s, state h_l0 %s", x.shape(), tf.output().shape(),
        tf.state().get("h_l0").shape());
    r.line("   batch first:  x.transpose(0, 1) %s -> output %s, state h_l0 %s", xb.shape(),
        bf.output().shape(), bf.state().get("h_l0").shape());
    r.line("   max |output_bf - output_tf.transpose(0, 1)| = %s, max |h_bf - h_tf| = %s:",
        Report.error(bf.output().maxAbsDiff(tf.output().transpose(0, 1))),
        Report.error(bf.state().get("h_l0").maxAbsDiff(tf.state().get("h_l0"))));
    r.line("   the same numbers; only the order of the input and output dimensions changes, and");
    r.line("   the state is [batch, H] either way. Time first is the order the loop over time");
    r.line("   reads (one [batch, features] slice per step); batch first keeps each sequence in");
    r.line("   one piece, as many data pipelines store them.");
  }

  /** Section 4: two stacked layers have a state each; the output is the top layer's. */
  private static void stacked(Report r, Tensor x) {
    Network two = network().elman(2, 3, Activation.TANH).elman(3, 3, Activation.TANH)
        .dtype(DType.FLOAT64).seed(SEED).build();
    Network.Result res = two.forward(x, null);
    Tensor last = res.output().select(0, res.output().dim(0) - 1);
    Tensor hN = MatchingTorch.stateAsTorch(res.state(), two);
    r.line("4. Stacked layers: network().%s", two.spec());
    r.line("   output %s, state %s: one h per layer, each %s", res.output().shape(),
        two.stateNames(), res.state().get("h_l0").shape());
    r.line("     h_l0 (layer 1, at T): %s", Report.tensor(res.state().get("h_l0")));
    r.line("     h_l1 (layer 2, at T): %s", Report.tensor(res.state().get("h_l1")));
    r.line("     output[T]:            %s", Report.tensor(last));
    r.line("   output[T] equals h_l1: %s; equals h_l0: %s. The output sequence is the top",
        last.equals(res.state().get("h_l1")), last.equals(res.state().get("h_l0")));
    r.line("   layer's; the state holds every layer's last step, which torch stacks as h_n %s",
        hN.shape());
    r.line("   = [num_layers, batch, H]: h_n[-1] is the last output step, h_n[0] is not.");
  }

  /** Section 5: mini-batch SGD with the {@link Trainer} on a small seeded data set. */
  private static void training(Report r) {
    Tensor inputs = Tensor.uniform(DType.FLOAT64, SEED + 1, -1, 1, STEPS, SEQUENCES, 1);
    Tensor targets = meanOverTime(inputs);
    Network net = network().elman(1, 8, Activation.TANH).lastStep().dense(8, 1)
        .dtype(DType.FLOAT64).seed(SEED).build();
    double baseline = targets.mul(targets).sum() / SEQUENCES;
    Trainer trainer = net.trainer()
        .loss(Trainer.Objective.MSE)
        .optimizer(params -> Sgd.builder().lr(LEARNING_RATE).momentum(MOMENTUM).build(params))
        .epochs(EPOCHS).batchSize(BATCH).shuffle(SEED);
    double before = trainer.evaluate(inputs, targets);
    r.line("5. Mini-batch training. The data set: %d sequences of %d steps, x_t uniform in",
        SEQUENCES, STEPS);
    r.line("   [-1, 1]: inputs %s [seq, batch, 1]; the target of each sequence is the mean of",
        inputs.shape());
    r.line("   its steps: targets %s [batch, 1], one number per sequence.", targets.shape());
    r.line("   network().%s, float64, seed %d", net.spec(), SEED);
    r.line("   net.trainer().loss(MSE).optimizer(SGD lr %s, momentum %s)", Report.number(
        LEARNING_RATE), Report.number(MOMENTUM));
    r.line("      .epochs(%d).batchSize(%d).shuffle(%d).fit(inputs, targets)", EPOCHS, BATCH,
        SEED);
    r.line("   Each epoch shuffles the %d sequences, cuts them into %d batches of %d along the",
        SEQUENCES, SEQUENCES / BATCH, BATCH);
    r.line("   batch dimension ([%d, %d, 1] each), and per batch runs forward, the MSE, BPTT",
        STEPS, BATCH);
    r.line("   backward through all %d steps and one SGD update.", STEPS);
    r.line();
    r.line("   MSE before training: %s (always answering 0 would give %s)",
        Report.number(before), Report.number(baseline));
    Trainer.Report report = trainer.fit(inputs, targets);
    List<Double> losses = report.epochLosses();
    for (int e = 0; e < losses.size(); e++) {
      r.line("   epoch %2d  mean batch loss %s", e + 1, Report.number(losses.get(e)));
    }
    double after = trainer.evaluate(inputs, targets);
    r.line("   %d updates; MSE after training: %s, %s than before (%s) and than always", report
        .steps(), Report.number(after), after < before ? "lower" : "NOT lower",
        Report.number(before));
    r.line("   answering 0 (%s)", Report.number(baseline));
    r.line("   (the mean batch loss of an epoch is measured while the weights move, so it");
    r.line("   lags a little behind the MSE of the final weights).");
  }

  /** {@code [T, N, 1] -> [N, 1]}: each sequence's mean over its steps. */
  static Tensor meanOverTime(Tensor x) {
    int steps = x.dim(0);
    int n = x.dim(1);
    double[] mean = new double[n];
    for (int t = 0; t < steps; t++) {
      for (int i = 0; i < n; i++) {
        mean[i] += x.get(t, i, 0) / steps;
      }
    }
    return Tensor.of(mean, n, 1);
  }

  /** Copies every parameter of {@code from} into {@code to}, by name. */
  private static void copy(Network from, Network to) {
    for (Map.Entry<String, Parameter> e : from.namedParameters().entrySet()) {
      to.namedParameters().get(e.getKey()).set(e.getValue().value());
    }
  }
}
