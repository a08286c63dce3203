package dev.rnn.dsl;

import static dev.rnn.dsl.Rnn.network;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.autograd.Bptt;
import dev.rnn.autograd.Ops;
import dev.rnn.autograd.optim.Adam;
import dev.rnn.autograd.optim.Sgd;
import dev.rnn.core.DType;
import dev.rnn.core.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Training a network: it learns, deterministically, honours masks and non-finite gradients. */
class TrainerTest {
  private static final int DELAY = 2;

  /** {@code lstm(1, 16).dense(16, 1)}, seeded. */
  static Network echoNet(long seed) {
    return network().lstm(1, 16).dense(16, 1).seed(seed).build();
  }

  /** {@code lstm(1, 16).lastStep().dense(16, 2)}, seeded: two-class logits from the last step. */
  static Network signNet(long seed) {
    return network().lstm(1, 16).lastStep().dense(16, 2).seed(seed).build();
  }

  /** Inputs uniform in [-1, 1], {@code [steps, batch, 1]}. */
  static Tensor inputs(long seed, int steps, int batch) {
    return Tensor.uniform(DType.FLOAT32, seed, -1, 1, steps, batch, 1);
  }

  /** The input delayed by {@link #DELAY} steps, zeros before: {@code y_t = x_{t-2}}. */
  static Tensor echo(Tensor x) {
    int steps = x.dim(0);
    int batch = x.dim(1);
    float[] y = new float[steps * batch];
    for (int t = DELAY; t < steps; t++) {
      for (int n = 0; n < batch; n++) {
        y[t * batch + n] = (float) x.get(t - DELAY, n, 0);
      }
    }
    return Tensor.of(y, steps, batch, 1);
  }

  /** Class 1 where the sequence sums to more than 0, else class 0: {@code [batch]}. */
  static Tensor signOfSum(Tensor x) {
    float[] c = new float[x.dim(1)];
    for (int n = 0; n < x.dim(1); n++) {
      double s = 0;
      for (int t = 0; t < x.dim(0); t++) {
        s += x.get(t, n, 0);
      }
      c[n] = s > 0 ? 1 : 0;
    }
    return Tensor.of(c, x.dim(1));
  }

  static Map<String, Tensor> snapshot(Network net) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    net.namedParameters().forEach((name, p) -> m.put(name, p.value()));
    return m;
  }

  /** MSE, Adam with lr 1e-2, batches of 16, shuffled from seed 3. */
  static Trainer echoTrainer(Network net) {
    return echoTrainer(net, 16, 3);
  }

  static Trainer echoTrainer(Network net, int batchSize) {
    return echoTrainer(net, batchSize, 3);
  }

  static Trainer echoTrainer(Network net, int batchSize, long shuffleSeed) {
    return net.trainer().loss(Trainer.Objective.MSE)
        .optimizer(params -> Adam.builder().lr(1e-2).build(params))
        .batchSize(batchSize).shuffle(shuffleSeed);
  }

  @Nested
  class OnARealTask {
    @Test
    void anLstmLearnsToEchoItsInputTwoStepsLater() {
      Network net = echoNet(1);
      Tensor x = inputs(10, 10, 128);
      Tensor heldOut = inputs(11, 10, 64);
      Trainer trainer = echoTrainer(net).epochs(25);
      double before = trainer.evaluate(heldOut, echo(heldOut));
      Trainer.Report r = trainer.fit(x, echo(x));
      double after = trainer.evaluate(heldOut, echo(heldOut));
      assertAll(
          () -> assertTrue(after * 10 <= before, "loss fell from " + before + " to " + after),
          () -> assertEquals(25, r.epochLosses().size()),
          () -> assertEquals(25 * 8, r.steps()),
          () -> assertTrue(r.finalLoss() < r.epochLosses().get(0), r.epochLosses()::toString),
          () -> assertTrue(r.wallTime().toMillis() < 10_000, r.wallTime()::toString));
    }

    @Test
    void truncatedBpttLearnsTheEchoToo() {
      Network net = echoNet(1);
      Tensor x = inputs(10, 16, 128);
      Tensor heldOut = inputs(11, 16, 64);
      Trainer trainer = echoTrainer(net).epochs(15).bptt(Bptt.truncated(4, 8));
      double before = trainer.evaluate(heldOut, echo(heldOut));
      Trainer.Report r = trainer.fit(x, echo(x));
      double after = trainer.evaluate(heldOut, echo(heldOut));
      assertAll(
          () -> assertTrue(after * 10 <= before, "loss fell from " + before + " to " + after),
          () -> assertEquals(15 * 8 * 4, r.steps(), "4 chunks of 4 steps per batch"));
    }

    @Test
    void crossEntropyOnTheLastStepLearnsTheSignOfASum() {
      Network net = signNet(2);
      Tensor x = inputs(20, 8, 512);
      Tensor test = inputs(21, 8, 256);
      net.trainer().loss(Trainer.Objective.CROSS_ENTROPY)
          .optimizer(params -> Adam.builder().lr(1e-2).build(params))
          .epochs(15).batchSize(32).shuffle(5)
          .fit(x, signOfSum(x));
      Tensor logits = net.forward(test);
      Tensor labels = signOfSum(test);
      int right = 0;
      for (int n = 0; n < test.dim(1); n++) {
        int predicted = logits.get(n, 1) > logits.get(n, 0) ? 1 : 0;
        right += predicted == labels.at(n) ? 1 : 0;
      }
      double accuracy = right / (double) test.dim(1);
      assertTrue(accuracy > 0.9, "accuracy " + accuracy);
    }

    @Test
    void aBatchFirstNetworkTrainsExactlyAsItsTimeMajorTwin() {
      Network timeMajor = echoNet(4);
      Network batchFirst = network().lstm(1, 16).dense(16, 1).seed(4).batchFirst().build();
      Tensor x = inputs(12, 6, 32);
      Tensor mask = Tensor.uniform(DType.FLOAT32, 13, 0, 1, 6, 32).map(v -> v < 0.8 ? 1 : 0);
      Trainer.Report a = echoTrainer(timeMajor).epochs(2).fit(x, echo(x), mask);
      Trainer.Report b = echoTrainer(batchFirst).epochs(2)
          .fit(x.transpose(0, 1), echo(x).transpose(0, 1), mask.transpose(0, 1));
      assertAll(
          () -> assertEquals(a.epochLosses(), b.epochLosses()),
          () -> assertEquals(snapshot(timeMajor), snapshot(batchFirst)));
    }
  }

  @Nested
  class WithTheSameSeeds {
    @Test
    void twoRunsGiveIdenticalLossesAndWeights() {
      Tensor x = inputs(30, 10, 48);
      List<List<Double>> losses = new ArrayList<>();
      List<Map<String, Tensor>> weights = new ArrayList<>();
      for (int run = 0; run < 2; run++) {
        Network net = network().lstm(1, 8).dropout(0.2).dense(8, 1).seed(7).dropoutSeed(9)
            .build();
        losses.add(echoTrainer(net).epochs(3).bptt(Bptt.truncated(3, 5)).fit(x, echo(x))
            .epochLosses());
        weights.add(snapshot(net));
      }
      assertAll(
          () -> assertEquals(losses.get(0), losses.get(1)),
          () -> assertEquals(weights.get(0), weights.get(1)));
    }

    @Test
    void anotherShuffleSeedGivesOtherLosses() {
      Tensor x = inputs(30, 10, 48);
      Network a = echoNet(7);
      Network b = echoNet(7);
      List<Double> la = echoTrainer(a).epochs(2).fit(x, echo(x)).epochLosses();
      List<Double> lb = echoTrainer(b, 16, 4).epochs(2).fit(x, echo(x)).epochLosses();
      assertNotEquals(la, lb);
    }
  }

  @Nested
  class WithAMask {
    @Test
    void aTargetAtAMaskedStepChangesNothing() {
      Tensor x = inputs(40, 8, 24);
      Tensor y = echo(x);
      // Sequence n has length 8 - (n % 4): its last n % 4 steps are padding.
      float[] m = new float[8 * 24];
      float[] changed = y.toFloatArray();
      for (int t = 0; t < 8; t++) {
        for (int n = 0; n < 24; n++) {
          boolean padded = t >= 8 - n % 4;
          m[t * 24 + n] = padded ? 0 : 1;
          if (padded) {
            changed[t * 24 + n] = 1000;
          }
        }
      }
      Tensor mask = Tensor.of(m, 8, 24);
      Tensor y2 = Tensor.of(changed, 8, 24, 1);
      Network a = echoNet(5);
      Network b = echoNet(5);
      Trainer ta = echoTrainer(a, 8).epochs(2).bptt(Bptt.truncated(3, 4));
      Trainer tb = echoTrainer(b, 8).epochs(2).bptt(Bptt.truncated(3, 4));
      Trainer.Report ra = ta.fit(x, y, mask);
      Trainer.Report rb = tb.fit(x, y2, mask);
      assertAll(
          () -> assertEquals(ra.epochLosses(), rb.epochLosses()),
          () -> assertEquals(snapshot(a), snapshot(b)),
          () -> assertEquals(ta.evaluate(x, y, mask), tb.evaluate(x, y2, mask)),
          () -> assertNotEquals(ta.evaluate(x, y), tb.evaluate(x, y2)));
    }

    @Test
    void aChunkWhoseStepsAreAllMaskedMakesNoUpdate() {
      Tensor x = inputs(41, 8, 12);
      float[] m = new float[8 * 12];
      java.util.Arrays.fill(m, 0, 4 * 12, 1);
      List<Trainer.Event> events = new ArrayList<>();
      Trainer.Report r = echoTrainer(echoNet(5), 4).bptt(Bptt.truncated(4, 4))
          .listener(events::add).fit(x, echo(x), Tensor.of(m, 8, 12));
      assertAll(
          () -> assertEquals(3, r.steps(), "one step per batch: steps 4..7 are padding"),
          () -> assertEquals(3, events.size()),
          () -> assertTrue(events.stream().allMatch(e -> e.window() == 1)));
    }
  }

  @Nested
  class WhenAGradientIsNotFinite {
    /** Eight sequences, the sixth (in the second batch of four) holding a NaN at step 2. */
    final Tensor x = withNaN(inputs(50, 6, 8), 2, 5);

    static Tensor withNaN(Tensor x, int t, int n) {
      float[] a = x.toFloatArray();
      a[(t * x.dim(1) + n) * x.dim(2)] = Float.NaN;
      return Tensor.of(a, x.shape().dims());
    }

    Trainer trainer(Network net, int epochs) {
      return net.trainer().loss(Trainer.Objective.MSE).batchSize(4).epochs(epochs);
    }

    @Test
    void stopThrowsBeforeTheUpdateNamingEpochBatchAndParameter() {
      Network net = echoNet(6);
      Network firstBatchOnly = echoNet(6);
      trainer(firstBatchOnly, 1).fit(x.slice(1, 0, 4), echo(x).slice(1, 0, 4));
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> trainer(net, 3).fit(x, echo(x)));
      assertAll(
          () -> assertEquals("the gradient of weight_ih_l0 is not finite (NaN) at epoch 1,"
              + " batch 2, steps [0, 6): stopped before the update, the parameters keep their"
              + " values; look for NaN or infinity in that batch's inputs and targets, lower the"
              + " learning rate, or clip the gradients", e.getMessage()),
          () -> assertEquals(snapshot(firstBatchOnly), snapshot(net)));
    }

    @Test
    void skipBatchLeavesOutTheBatchAndGoesOn() {
      Network net = echoNet(6);
      Network cleanOnly = echoNet(6);
      trainer(cleanOnly, 3).fit(x.slice(1, 0, 4), echo(x).slice(1, 0, 4));
      Trainer.Report r = trainer(net, 3).onNonFinite(Trainer.NonFinite.SKIP_BATCH)
          .fit(x, echo(x));
      assertAll(
          () -> assertEquals(3, r.skippedBatches()),
          () -> assertEquals(3, r.steps()),
          () -> assertTrue(r.epochLosses().stream().allMatch(Double::isFinite)),
          () -> assertEquals(snapshot(cleanOnly), snapshot(net)));
    }
  }

  @Nested
  class Listeners {
    @Test
    void receiveOneEventPerOptimizerStep() {
      Tensor x = inputs(60, 10, 10);
      List<Trainer.Event> events = new ArrayList<>();
      Trainer.Report r = echoTrainer(echoNet(8), 4).epochs(2)
          .bptt(Bptt.truncated(3, 5)).listener(events::add).fit(x, echo(x));
      // 3 batches (4, 4, 2) of 4 chunks (steps [0, 3), [3, 6), [6, 9), [9, 10)) per epoch.
      Trainer.Event first = events.get(0);
      Trainer.Event last = events.get(events.size() - 1);
      assertAll(
          () -> assertEquals(24, events.size()),
          () -> assertEquals(24, r.steps()),
          () -> assertEquals(List.of(1, 1, 1, 1), List.of(first.epoch(), first.batch(),
              first.window(), (int) first.step())),
          () -> assertEquals(List.of(2, 3, 4, 24), List.of(last.epoch(), last.batch(),
              last.window(), (int) last.step())),
          () -> assertTrue(events.stream().allMatch(e -> e.gradientNorm() > 0
              && Double.isFinite(e.loss()))),
          () -> assertNotNull(first.flow()),
          () -> assertEquals(3, first.flow().entries().size(),
              "the first chunk backpropagates steps 2, 1, 0 of the one lstm layer"));
    }

    @Test
    void seeTheFirstStepsLossAsEvaluateDoes() {
      Network net = echoNet(9);
      Tensor x = inputs(61, 7, 12);
      List<Trainer.Event> events = new ArrayList<>();
      Trainer t = echoTrainer(net, 12).listener(events::add);
      double before = t.evaluate(x, echo(x));
      t.fit(x, echo(x));
      assertEquals(before, events.get(0).loss());
    }
  }

  @Nested
  class WhenClipping {
    @Test
    void toANormOfZeroSgdChangesNothing() {
      Network net = echoNet(10);
      Map<String, Tensor> before = snapshot(net);
      Tensor x = inputs(70, 5, 8);
      List<Trainer.Event> events = new ArrayList<>();
      net.trainer().loss(Trainer.Objective.MSE)
          .optimizer(params -> Sgd.builder().lr(0.5).build(params))
          .clipGradNorm(0).listener(events::add).fit(x, echo(x));
      assertAll(
          () -> assertEquals(before, snapshot(net)),
          () -> assertTrue(events.get(0).gradientNorm() > 0, "the norm before clipping"));
    }

    @Test
    void toAValueOfZeroSgdChangesNothing() {
      Network net = echoNet(10);
      Map<String, Tensor> before = snapshot(net);
      Tensor x = inputs(70, 5, 8);
      net.trainer().loss(Trainer.Objective.MSE)
          .optimizer(params -> Sgd.builder().lr(0.5).build(params))
          .clipGradValue(0).fit(x, echo(x));
      assertEquals(before, snapshot(net));
    }
  }

  @Nested
  class WithALastStepNetwork {
    @Test
    void truncatedBpttThatSplitsTheSequenceIsRefused() {
      Network net = signNet(1);
      Tensor x = inputs(80, 6, 4);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> net.trainer().loss(Trainer.Objective.CROSS_ENTROPY).bptt(Bptt.truncated(2, 3))
              .fit(x, signOfSum(x)));
      assertEquals("truncated BPTT(k1 = 2, k2 = 3) splits the 6 steps into chunks, but"
          + " lstm(1, 16).lastStep().dense(16, 2) outputs only the last step; use Bptt.full()",
          e.getMessage());
    }

    @Test
    void bpttItselfRefusesToSliceALastStepOutput() {
      Network net = signNet(1);
      Tensor x = inputs(80, 6, 4);
      Bptt.WindowLoss loss = (g, out, from, to) -> Ops.crossEntropy(g, out, signOfSum(x), null);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> Bptt.truncated(2, 2).accumulate(net.model(), x, null, loss));
      assertEquals("truncated BPTT(k1 = 2, k2 = 2) over 6 steps needs an output per step"
          + " [seq, batch, features] but the model gives [4, 2] (only the last step?); train it"
          + " with Bptt.full(), or keep every step's output", e.getMessage());
    }

    @Test
    void fullBpttAndATruncationLongerThanTheSequenceTrainIt() {
      Network net = signNet(1);
      Tensor x = inputs(80, 6, 4);
      Bptt.WindowLoss loss = (g, out, from, to) -> Ops.crossEntropy(g, out, signOfSum(x), null);
      assertAll(
          () -> assertEquals(1, Bptt.full().accumulate(net.model(), x, null, loss).windowLosses().size()),
          () -> assertEquals(1,
              Bptt.truncated(6, 6).accumulate(net.model(), x, null, loss).windowLosses().size()),
          () -> assertEquals(1, net.trainer().loss(Trainer.Objective.CROSS_ENTROPY)
              .bptt(Bptt.truncated(8, 8)).fit(x, signOfSum(x)).steps()));
    }
  }

  @Nested
  class WhenShapesDoNotFit {
    final Network seq = network().lstm(3, 4).dense(4, 2).build();
    final Network last = network().lstm(3, 4).lastStep().dense(4, 2).build();
    final Network batchFirst = network().lstm(3, 4).dense(4, 2).batchFirst().build();
    final Tensor x = Tensor.zeros(DType.FLOAT32, 5, 8, 3);
    final Tensor y = Tensor.zeros(DType.FLOAT32, 5, 8, 2);

    /** The layout note of a time-major network's messages about sequences. */
    static final String TIME_MAJOR = " (the network is time-major, [seq, batch, ...]; for"
        + " batch-first data build it with batchFirst() or transpose(0, 1) the data)";
    /** The layout note of a batch-first network's messages about sequences. */
    static final String BATCH_FIRST = " (the network is batch-first, [batch, seq, ...], as built"
        + " with batchFirst(); for time-major data build it without batchFirst() or transpose(0,"
        + " 1) the data)";

    void assertMessage(String expected, Executable call) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
      assertEquals(expected, e.getMessage());
    }

    Tensor maskWithHalfAt(int t, int n) {
      float[] m = new float[5 * 8];
      java.util.Arrays.fill(m, 1);
      m[t * 8 + n] = 0.5f;
      return Tensor.of(m, 5, 8);
    }

    Trainer mse(Network net) {
      return net.trainer().loss(Trainer.Objective.MSE);
    }

    Trainer ce(Network net) {
      return net.trainer().loss(Trainer.Objective.CROSS_ENTROPY);
    }

    @Test
    void everyMessageNamesWhatDiffers() {
      assertAll(
          () -> assertMessage("fit expected inputs of shape [seq, batch, 3] but got [5, 8]"
              + TIME_MAJOR,
              () -> mse(seq).fit(Tensor.zeros(DType.FLOAT32, 5, 8), y)),
          () -> assertMessage("fit expected inputs of shape [seq, batch, 3] but got [5, 8, 7]"
              + TIME_MAJOR,
              () -> mse(seq).fit(Tensor.zeros(DType.FLOAT32, 5, 8, 7), y)),
          () -> assertMessage("fit expected inputs of shape [batch, seq, 3] but got [5, 8, 7]"
              + BATCH_FIRST,
              () -> mse(batchFirst).fit(Tensor.zeros(DType.FLOAT32, 5, 8, 7), y)),
          () -> assertMessage("fit expected targets of shape [seq, batch, 2] (MSE on every step)"
              + " but got [5, 8]" + TIME_MAJOR,
              () -> mse(seq).fit(x, Tensor.zeros(DType.FLOAT32, 5, 8))),
          () -> assertMessage("fit expected targets for 8 sequences, as many as the inputs"
              + " [5, 8, 3], but got 7 (targets [5, 7, 2])" + TIME_MAJOR,
              () -> mse(seq).fit(x, Tensor.zeros(DType.FLOAT32, 5, 7, 2))),
          () -> assertMessage("fit expected targets for 5 steps, as many as the inputs"
              + " [5, 8, 3], but got 7 (targets [7, 8, 2])" + TIME_MAJOR,
              () -> mse(seq).fit(x, Tensor.zeros(DType.FLOAT32, 7, 8, 2))),
          () -> assertMessage("fit expected targets of 2 features, the output size of"
              + " lstm(3, 4).dense(4, 2), but got 7 (targets [5, 8, 7])",
              () -> mse(seq).fit(x, Tensor.zeros(DType.FLOAT32, 5, 8, 7))),
          () -> assertMessage("fit expected a mask of shape [5, 8] ([seq, batch]) but got [5, 7]"
              + TIME_MAJOR,
              () -> mse(seq).fit(x, y, Tensor.zeros(DType.FLOAT32, 5, 7))),
          () -> assertMessage("fit expected a mask of 0 and 1 but mask[2, 3] is 0.5",
              () -> mse(seq).fit(x, y, maskWithHalfAt(2, 3))),
          () -> assertMessage("evaluate expected targets for 8 sequences, as many as the inputs"
              + " [5, 8, 3], but got 7 (targets [5, 7, 2])" + TIME_MAJOR,
              () -> mse(seq).evaluate(x, Tensor.zeros(DType.FLOAT32, 5, 7, 2))));
    }

    @Test
    void classTargetsAreIndicesOnePerStepOrPerSequence() {
      float[] bad = new float[8];
      bad[3] = 2;
      assertAll(
          () -> assertMessage("fit expected targets of shape [seq, batch] (class indices for"
              + " CROSS_ENTROPY on every step) but got [5, 8, 2]" + TIME_MAJOR,
              () -> ce(seq).fit(x, y)),
          () -> assertMessage("fit expected targets of shape [batch] (class indices for"
              + " CROSS_ENTROPY on the last step) but got [5, 8]",
              () -> ce(last).fit(x, Tensor.zeros(DType.FLOAT32, 5, 8))),
          () -> assertMessage("fit expected targets of shape [batch, 2] (MSE on the last step)"
              + " but got [5, 8, 2]", () -> mse(last).fit(x, y)),
          () -> assertMessage("fit expected targets for 8 sequences, as many as the inputs"
              + " [5, 8, 3], but got 7 (targets [7])" + TIME_MAJOR,
              () -> ce(last).fit(x, Tensor.zeros(DType.FLOAT32, 7))),
          () -> assertMessage("fit expected class indices in [0, 2) (the output size of"
              + " lstm(3, 4).lastStep().dense(4, 2)) but targets[3] is 2.0",
              () -> ce(last).fit(x, Tensor.of(bad, 8))),
          () -> assertMessage("fit expected a mask of shape [8] ([batch]) but got [5, 8]",
              () -> ce(last).fit(x, Tensor.zeros(DType.FLOAT32, 8),
                  Tensor.zeros(DType.FLOAT32, 5, 8))));
    }
  }

  @Nested
  class WhenMisused {
    final Network net = network().lstm(3, 4).dense(4, 2).build();
    final Tensor x = Tensor.zeros(DType.FLOAT32, 5, 8, 3);
    final Tensor y = Tensor.zeros(DType.FLOAT32, 5, 8, 2);

    void assertState(String expected, Executable call) {
      IllegalStateException e = assertThrows(IllegalStateException.class, call);
      assertEquals(expected, e.getMessage());
    }

    void assertArgument(String expected, Executable call) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
      assertEquals(expected, e.getMessage());
    }

    void assertNull(String expected, Executable call) {
      NullPointerException e = assertThrows(NullPointerException.class, call);
      assertEquals(expected, e.getMessage());
    }

    @Test
    void everyMessageSaysWhatToDo() {
      assertAll(
          () -> assertState("fit needs an objective: call loss(Trainer.Objective.MSE) or"
              + " loss(Trainer.Objective.CROSS_ENTROPY) first", () -> net.trainer().fit(x, y)),
          () -> assertState("evaluate needs an objective: call loss(Trainer.Objective.MSE) or"
              + " loss(Trainer.Objective.CROSS_ENTROPY) first",
              () -> net.trainer().evaluate(x, y)),
          () -> assertState("gradient clipping was already set to clipGradNorm(1.0)",
              () -> net.trainer().clipGradNorm(1).clipGradValue(0.5)),
          () -> assertState("gradient clipping was already set to clipGradValue(0.5)",
              () -> net.trainer().clipGradValue(0.5).clipGradValue(0.5)));
    }

    @Test
    void everyOptionIsSetOnce() {
      assertAll(
          () -> assertState("loss was already set to MSE",
              () -> net.trainer().loss(Trainer.Objective.MSE)
                  .loss(Trainer.Objective.CROSS_ENTROPY)),
          () -> assertState("optimizer was already set", () -> net.trainer()
              .optimizer(ps -> Sgd.builder().build(ps)).optimizer(ps -> Adam.builder().build(ps))),
          () -> assertState("epochs was already set to 2",
              () -> net.trainer().epochs(2).epochs(3)),
          () -> assertState("batchSize was already set to 4",
              () -> net.trainer().batchSize(4).batchSize(4)),
          () -> assertState("shuffle was already set to 3",
              () -> net.trainer().shuffle(3).shuffle(7)),
          () -> assertState("bptt was already set to full BPTT",
              () -> net.trainer().bptt(Bptt.full()).bptt(Bptt.truncated(2, 3))),
          () -> assertState("onNonFinite was already set to STOP",
              () -> net.trainer().onNonFinite(Trainer.NonFinite.STOP)
                  .onNonFinite(Trainer.NonFinite.SKIP_BATCH)));
    }

    @Test
    void aBadArgumentFailsAtItsCallNamingIt() {
      assertAll(
          () -> assertArgument("epochs must be >= 1 but got 0", () -> net.trainer().epochs(0)),
          () -> assertArgument("batchSize must be >= 1 but got 0",
              () -> net.trainer().batchSize(0)),
          () -> assertArgument("clipGradNorm expected maxNorm >= 0 but got -1.0",
              () -> net.trainer().clipGradNorm(-1)),
          () -> assertArgument("clipGradValue expected clip >= 0 but got NaN",
              () -> net.trainer().clipGradValue(Double.NaN)),
          () -> assertNull("loss expected an objective but got null",
              () -> net.trainer().loss(null)),
          () -> assertNull("optimizer expected a factory but got null",
              () -> net.trainer().optimizer(null)),
          () -> assertNull("bptt expected Bptt.full() or Bptt.truncated(k1, k2) but got null",
              () -> net.trainer().bptt(null)),
          () -> assertNull("onNonFinite expected a policy but got null",
              () -> net.trainer().onNonFinite(null)),
          () -> assertNull("listener expected a listener but got null",
              () -> net.trainer().listener(null)),
          () -> assertNull("resume expected the report of a fit but got null",
              () -> net.trainer().loss(Trainer.Objective.MSE).resume(null, x, y)));
    }

    @Test
    void aBadArgumentLeavesTheOptionUnset() {
      Trainer t = net.trainer();
      assertThrows(IllegalArgumentException.class, () -> t.epochs(0));
      assertDoesNotThrow(() -> t.epochs(3));
    }
  }

  @Nested
  class ATrainerIsAConfiguration {
    @Test
    void twoFitsFromTheSameWeightsGiveTheSameWeightsBitForBit() {
      Network net = network().lstm(1, 8).dropout(0.3).dense(8, 1).seed(12).dropoutSeed(13)
          .build();
      Tensor x = inputs(91, 9, 40);
      Trainer trainer = echoTrainer(net).epochs(2).bptt(Bptt.truncated(3, 5));
      Map<String, Tensor> start = snapshot(net);
      Trainer.Report first = trainer.fit(x, echo(x));
      Map<String, Tensor> afterFirst = snapshot(net);
      load(net, start);
      Trainer.Report second = trainer.fit(x, echo(x));
      Map<String, Tensor> afterSecond = snapshot(net);
      List<Executable> checks = new ArrayList<>();
      afterFirst.forEach((name, t) -> checks.add(() -> assertTrue(bitwiseEqual(t,
          afterSecond.get(name)), name + " differs between the two fits")));
      checks.add(() -> assertNotEquals(start, afterFirst, "the fit trained"));
      checks.add(() -> assertEquals(first.epochLosses(), second.epochLosses()));
      checks.add(() -> assertEquals(first.optimizerState(), second.optimizerState()));
      checks.add(() -> assertEquals(List.of(2, 2), List.of(first.epochsDone(),
          second.epochsDone()), "each fit starts a run"));
      assertAll(checks);
    }

    @Test
    void dropoutActsAndAnotherDropoutSeedTrainsOtherwise() {
      Tensor x = inputs(91, 9, 40);
      List<Map<String, Tensor>> weights = new ArrayList<>();
      for (long dropoutSeed : new long[] {13, 14}) {
        Network net = network().lstm(1, 8).dropout(0.3).dense(8, 1).seed(12)
            .dropoutSeed(dropoutSeed).build();
        echoTrainer(net).epochs(2).fit(x, echo(x));
        weights.add(snapshot(net));
      }
      assertNotEquals(weights.get(0), weights.get(1));
    }
  }

  @Nested
  class ResumingARun {
    Network net(int hidden) {
      return network().lstm(1, hidden).dropout(0.3).dense(hidden, 1).seed(14).dropoutSeed(15)
          .build();
    }

    Trainer trainer(Network net, int epochs, List<Trainer.Event> events) {
      return net.trainer().loss(Trainer.Objective.MSE)
          .optimizer(params -> Adam.builder().lr(1e-2).build(params))
          .batchSize(16).shuffle(16).bptt(Bptt.truncated(3, 5)).epochs(epochs)
          .listener(events::add);
    }

    @Test
    void twoEpochsEqualOneEpochAndOneMoreResumedBitForBit() {
      Tensor x = inputs(92, 9, 40);
      Network unbroken = net(8);
      Network resumed = net(8);
      List<Trainer.Event> all = new ArrayList<>();
      List<Trainer.Event> first = new ArrayList<>();
      List<Trainer.Event> more = new ArrayList<>();
      Trainer.Report two = trainer(unbroken, 2, all).fit(x, echo(x));
      Trainer.Report one = trainer(resumed, 1, first).fit(x, echo(x));
      Trainer.Report rest = trainer(resumed, 1, more).resume(one, x, echo(x));
      Map<String, Tensor> a = snapshot(unbroken);
      Map<String, Tensor> b = snapshot(resumed);
      List<Executable> checks = new ArrayList<>();
      a.forEach((name, t) -> checks.add(() -> assertTrue(bitwiseEqual(t, b.get(name)),
          name + " differs between the unbroken and the resumed run")));
      checks.add(() -> assertEquals(two.epochLosses(), List.of(one.finalLoss(),
          rest.finalLoss())));
      checks.add(() -> assertEquals(two.optimizerState(), rest.optimizerState()));
      checks.add(() -> assertEquals(List.of(2, 2), List.of(rest.epochsDone(), two.epochsDone())));
      checks.add(() -> assertEquals(List.of(two.stepsDone(), two.steps() / 2),
          List.of(rest.stepsDone(), rest.steps())));
      checks.add(() -> assertEquals(all.subList(first.size(), all.size()).stream()
          .map(e -> List.of(e.epoch(), e.batch(), e.window(), e.step(), e.loss())).toList(),
          more.stream().map(e -> List.of(e.epoch(), e.batch(), e.window(), e.step(), e.loss()))
              .toList(), "the events of the resumed epoch continue the numbering"));
      checks.add(() -> assertEquals(2, more.get(0).epoch()));
      assertAll(checks);
    }

    @Test
    void aStateFromAnotherNetworkIsRefusedBeforeAnyUpdate() {
      Tensor x = inputs(93, 9, 16);
      Trainer.Report small = trainer(net(8), 1, new ArrayList<>()).fit(x, echo(x));
      Network big = net(16);
      Map<String, Tensor> before = snapshot(big);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> trainer(big, 1, new ArrayList<>()).resume(small, x, echo(x)));
      assertAll(
          () -> assertEquals("Adam.restore expected the state of weight_ih_l0 of shape [64, 1]"
              + " but got [32, 1]", e.getMessage()),
          () -> assertEquals(before, snapshot(big)));
    }

    @Test
    void aStateOfAnotherOptimizerIsRefused() {
      Tensor x = inputs(93, 9, 16);
      Network net = net(8);
      Trainer.Report adam = trainer(net, 1, new ArrayList<>()).fit(x, echo(x));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> net.trainer().loss(Trainer.Objective.MSE)
              .optimizer(ps -> Sgd.builder().lr(0.1).momentum(0.9).build(ps))
              .resume(adam, x, echo(x)));
      assertEquals("Sgd.restore expected the state of Sgd but got the state of Adam",
          e.getMessage());
    }
  }

  /** Equal to the bit: every element's IEEE 754 representation (so NaN equals NaN, 0 not -0). */
  static boolean bitwiseEqual(Tensor a, Tensor b) {
    if (!a.shape().equals(b.shape()) || a.dtype() != b.dtype()) {
      return false;
    }
    double[] x = a.toDoubleArray();
    double[] y = b.toDoubleArray();
    for (int i = 0; i < x.length; i++) {
      if (Double.doubleToRawLongBits(x[i]) != Double.doubleToRawLongBits(y[i])) {
        return false;
      }
    }
    return true;
  }

  static void load(Network net, Map<String, Tensor> weights) {
    weights.forEach((name, t) -> net.namedParameters().get(name).set(t));
  }

  @Test
  void evaluateChangesNoParameter() {
    Network net = echoNet(11);
    Map<String, Tensor> before = snapshot(net);
    Tensor x = inputs(90, 6, 5);
    double loss = net.trainer().loss(Trainer.Objective.MSE).evaluate(x, echo(x));
    assertAll(
        () -> assertTrue(loss > 0),
        () -> assertEquals(before, snapshot(net)));
  }
}
