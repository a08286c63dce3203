package dev.rnn.dsl;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.autograd.Bptt;
import dev.rnn.autograd.Graph;
import dev.rnn.autograd.Ops;
import dev.rnn.autograd.SequenceModel;
import dev.rnn.autograd.Value;
import dev.rnn.autograd.optim.Sgd;
import dev.rnn.core.DType;
import dev.rnn.core.Lengths;
import dev.rnn.core.Parameter;
import dev.rnn.core.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Sequences of different lengths through every entry point of a network: a batch with lengths is
 * each sequence run alone (float64, to 1e-12: outputs, final states, every gradient), whatever the
 * padding holds; bidirectional, both stacking modes, hand-off, projections, lastStep(); truncated
 * BPTT, streaming, the trainer with a padded block or a list of sequences; refusals named.
 */
class VariableLengthsTest {
  private static final int SEQ = 6;
  private static final int[] LENGTHS = {4, 6, 1, 3};
  private static final double TOL = 1e-12;

  static Stream<Arguments> networks() {
    return Stream.of(
        Arguments.of("lstm bidirectional, lstm, dense, tanh (OUTPUTS)",
            (Supplier<Network>) () -> Rnn.network().lstm(3, 4).bidirectional().lstm(8, 3)
                .dense(3, 2).tanh().dtype(DType.FLOAT64).seed(1).build()),
        Arguments.of("recurrent relu recurrent (STATES)",
            (Supplier<Network>) () -> Rnn.network().recurrent(3, 4).relu().recurrent(4, 2)
                .stacking(Stacking.STATES).dtype(DType.FLOAT64).seed(2).build()),
        Arguments.of("gru, gru, handOffStates",
            (Supplier<Network>) () -> Rnn.network().gru(3, 4).gru(4, 4).handOffStates()
                .dtype(DType.FLOAT64).seed(3).build()),
        Arguments.of("lstm projection, dense, lastStep",
            (Supplier<Network>) () -> Rnn.network().lstm(3, 5).projection(2).dense(2, 2)
                .lastStep().dtype(DType.FLOAT64).seed(4).build()),
        Arguments.of("peephole lstm bidirectional, learnable initial state, batch-first",
            (Supplier<Network>) () -> Rnn.network().lstm(3, 3).peepholes().bidirectional()
                .learnableInitialState().dense(6, 1).batchFirst().dtype(DType.FLOAT64).seed(5)
                .build()),
        Arguments.of("dense first, sigmoid, elman bidirectional, lastStep",
            (Supplier<Network>) () -> Rnn.network().dense(3, 4).sigmoid()
                .elman(4, 3, dev.rnn.core.Activation.TANH).bidirectional().lastStep()
                .dtype(DType.FLOAT64).seed(6).build()));
  }

  /** The results of one forward and backward pass through the graph. */
  private record Pass(Tensor out, List<Tensor> states, Map<String, Tensor> grads, Tensor dx) {}

  /** Forward (time-major {@code x}) and backward of {@code sum(out * gOut) + sum(s * gS)}. */
  private static Pass pass(Network net, Tensor x, Lengths lengths, Tensor gOut,
      List<Tensor> gStates) {
    for (Parameter p : net.parameters()) {
      p.zeroGrad();
    }
    Graph g = Graph.training();
    Value xv = g.variable(x);
    SequenceModel.Forward f = net.model().forward(g, xv, null, 0, lengths);
    g.seed(f.output(), gOut);
    for (int k = 0; k < gStates.size(); k++) {
      g.seed(f.states().get(k), gStates.get(k));
    }
    g.backward();
    Map<String, Tensor> grads = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
      grads.put(e.getKey(), e.getValue().gradient());
    }
    List<Tensor> states = new ArrayList<>();
    for (Value v : f.states()) {
      states.add(v.tensor());
    }
    return new Pass(f.output().tensor(), states, grads, xv.gradient());
  }

  /** {@code [T, N, F]} with NaN after each sequence's length. */
  private static Tensor paddedWith(double pad, long seed, int features) {
    return paddedWith(pad, seed, features, LENGTHS);
  }

  private static Tensor paddedWith(double pad, long seed, int features, int[] lengths) {
    Tensor x = Tensor.randn(DType.FLOAT64, seed, SEQ, lengths.length, features);
    double[] a = x.toDoubleArray();
    for (int t = 0; t < SEQ; t++) {
      for (int n = 0; n < lengths.length; n++) {
        if (t >= lengths[n]) {
          for (int f = 0; f < features; f++) {
            a[(t * lengths.length + n) * features + f] = pad;
          }
        }
      }
    }
    return Tensor.of(a, SEQ, lengths.length, features);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("networks")
  void aBatchWithLengthsIsEachSequenceAloneWhateverThePaddingHolds(String name,
      Supplier<Network> factory) {
    Network net = factory.get();
    int batch = LENGTHS.length;
    Tensor x = paddedWith(Double.NaN, 7, 3);
    boolean last = net.lastStepOnly();
    int fOut = net.outputSize();
    Tensor gOut = last ? Tensor.randn(DType.FLOAT64, 8, batch, fOut)
        : Tensor.randn(DType.FLOAT64, 8, SEQ, batch, fOut);
    State init = net.initialState(batch);
    List<Tensor> gStates = new ArrayList<>();
    for (int k = 0; k < net.stateNames().size(); k++) {
      Tensor s = init.get(net.stateNames().get(k));
      gStates.add(Tensor.randn(DType.FLOAT64, 9 + k, s.dim(0), s.dim(1)));
    }
    Pass all = pass(net, x, Lengths.of(LENGTHS), gOut, gStates);
    Pass huge = pass(net, paddedWith(1e300, 7, 3), Lengths.of(LENGTHS), gOut, gStates);

    List<Executable> checks = new ArrayList<>();
    checks.add(() -> assertEquals(all.out, huge.out, "huge values in the padding change the output"));
    checks.add(() -> assertEquals(all.grads, huge.grads, "huge padding changes a gradient"));
    Map<String, double[]> summed = new LinkedHashMap<>();
    all.grads.forEach((k, v) -> summed.put(k, new double[v.size()]));
    for (int n = 0; n < batch; n++) {
      int len = LENGTHS[n];
      int seqN = n;
      Tensor xn = x.slice(0, 0, len).slice(1, n, n + 1);
      Tensor gOutN = last ? gOut.slice(0, n, n + 1) : gOut.slice(0, 0, len).slice(1, n, n + 1);
      List<Tensor> gStatesN = new ArrayList<>();
      for (Tensor gs : gStates) {
        gStatesN.add(gs.slice(0, n, n + 1));
      }
      Pass one = pass(net, xn, null, gOutN, gStatesN);
      one.grads.forEach((k, v) -> {
        double[] s = summed.get(k);
        for (int i = 0; i < s.length; i++) {
          s[i] += v.at(i);
        }
      });
      if (last) {
        checks.add(close("output of sequence " + n, one.out, all.out.slice(0, n, n + 1)));
      } else {
        checks.add(close("output of sequence " + n, one.out,
            all.out.slice(0, 0, len).slice(1, n, n + 1)));
        if (len < SEQ) {
          Tensor pad = all.out.slice(0, len, SEQ).slice(1, n, n + 1);
          checks.add(() -> assertEquals(0, pad.maxAbsDiff(Tensor.zeros(DType.FLOAT64,
              pad.shape().dims())), "output after the end of sequence " + seqN));
        }
      }
      checks.add(close("input gradient of sequence " + n, one.dx,
          all.dx.slice(0, 0, len).slice(1, n, n + 1)));
      if (len < SEQ) {
        Tensor pad = all.dx.slice(0, len, SEQ).slice(1, n, n + 1);
        checks.add(() -> assertEquals(0, pad.maxAbsDiff(Tensor.zeros(DType.FLOAT64,
            pad.shape().dims())), "input gradient after the end of sequence " + seqN));
      }
      for (int k = 0; k < all.states.size(); k++) {
        checks.add(close("final state " + net.stateNames().get(k) + " of sequence " + n,
            one.states.get(k), all.states.get(k).slice(0, n, n + 1)));
      }
    }
    summed.forEach((k, v) -> checks.add(close("gradient of " + k,
        Tensor.of(v, all.grads.get(k).shape().dims()), all.grads.get(k))));
    assertAll(checks);
  }

  private static Executable close(String what, Tensor expected, Tensor actual) {
    return () -> {
      assertEquals(expected.shape(), actual.shape(), what + " shape");
      assertTrue(actual.maxAbsDiff(expected) <= TOL,
          () -> what + ": max abs difference " + actual.maxAbsDiff(expected));
    };
  }

  @Nested
  class ThePublicForward {
    private final Network net = Rnn.network().lstm(3, 4).bidirectional().dense(8, 2)
        .dtype(DType.FLOAT64).seed(11).build();

    @Test
    void aPaddedBlockWithLengthsEqualsAListOfSequencesAndEachAlone() {
      Tensor x = paddedWith(Double.NaN, 12, 3);
      Network.Result r = net.forward(x, LENGTHS, null);
      List<Tensor> list = new ArrayList<>();
      for (int n = 0; n < LENGTHS.length; n++) {
        list.add(x.slice(0, 0, LENGTHS[n]).select(1, n));
      }
      Network.Result fromList = net.forward(list);
      List<Executable> checks = new ArrayList<>();
      checks.add(() -> assertEquals(r.output(), fromList.output()));
      checks.add(() -> assertEquals(r.state().tensors(), fromList.state().tensors()));
      for (int n = 0; n < LENGTHS.length; n++) {
        Network.Result one = net.forward(list.get(n), null);
        int len = LENGTHS[n];
        int seqN = n;
        checks.add(() -> assertTrue(one.output().maxAbsDiff(
            r.output().slice(0, 0, len).select(1, seqN)) <= TOL, "output " + seqN));
        for (String s : net.stateNames()) {
          checks.add(() -> assertTrue(one.state().get(s).maxAbsDiff(
              r.state().get(s).select(0, seqN)) <= TOL, s + " of " + seqN));
        }
      }
      assertAll(checks);
    }

    @Test
    void streamingWithLengthsGivesTheForwardsOutputsAndFinalStates() {
      Network uni = Rnn.network().lstm(3, 4).projection(3).gru(3, 2).dense(2, 2)
          .dtype(DType.FLOAT64).seed(13).build();
      Tensor x = paddedWith(Double.NaN, 14, 3);
      Network.Result whole = uni.forward(x, LENGTHS, null);
      State s = null;
      List<Executable> checks = new ArrayList<>();
      for (int t = 0; t < SEQ; t++) {
        Network.Result r = uni.step(x.select(0, t), s, LENGTHS, t);
        s = r.state();
        Tensor y = r.output();
        int tt = t;
        checks.add(() -> assertTrue(y.maxAbsDiff(whole.output().select(0, tt)) <= TOL,
            "step " + tt));
      }
      State last = s;
      for (String name : uni.stateNames()) {
        checks.add(() -> assertTrue(last.get(name).maxAbsDiff(whole.state().get(name)) <= TOL,
            name));
      }
      assertAll(checks);
    }

    @Test
    void lastStepTakesEachSequencesLastRealStep() {
      Network withLast = Rnn.network().lstm(3, 4).bidirectional().dense(8, 2).lastStep()
          .dtype(DType.FLOAT64).seed(11).build();
      Tensor x = paddedWith(Double.NaN, 12, 3);
      Tensor seqOut = net.forward(x, LENGTHS, null).output();
      Tensor lastOut = withLast.forward(x, LENGTHS, null).output();
      List<Executable> checks = new ArrayList<>();
      for (int n = 0; n < LENGTHS.length; n++) {
        int seqN = n;
        checks.add(() -> assertTrue(lastOut.select(0, seqN).maxAbsDiff(
            seqOut.select(0, LENGTHS[seqN] - 1).select(0, seqN)) <= TOL, "sequence " + seqN));
      }
      assertAll(checks);
    }

    @Test
    void aDenseLayerAfterLastStepReadsEachSequencesLastRealStep() {
      Network dense = Rnn.network().lstm(3, 4).bidirectional().lastStep().dense(8, 2)
          .dtype(DType.FLOAT64).seed(11).build();
      Network last = Rnn.network().lstm(3, 4).bidirectional().lastStep()
          .dtype(DType.FLOAT64).seed(11).build();
      Tensor x = paddedWith(Double.NaN, 12, 3);
      Tensor h = last.forward(x, LENGTHS, null).output();
      Tensor w = dense.parameter("dense0.weight");
      Tensor b = dense.parameter("dense0.bias");
      // y_n = W h_n + b, with h_n the state at sequence n's own last step
      Tensor ones = Tensor.full(DType.FLOAT64, 1, LENGTHS.length, 1);
      Tensor expected = h.matmul(w.transpose(0, 1)).add(ones.matmul(b.reshape(1, 2)));
      assertTrue(dense.forward(x, LENGTHS, null).output().maxAbsDiff(expected) <= TOL);
      Trainer.Report r = dense.trainer().loss(Trainer.Objective.MSE).epochs(2)
          .fit(x, LENGTHS, Tensor.zeros(DType.FLOAT64, LENGTHS.length, 2));
      assertTrue(Double.isFinite(r.finalLoss()));
    }

    @Test
    void describeSaysHowLengthsAreHandled() {
      assertTrue(net.describe().contains("lengths: forward(x, lengths), a list of sequences and"
          + " the trainer run each sequence over its own steps only"), net.describe());
      assertTrue(net.describe().contains("the reverse direction starts at each sequence's last"
          + " step"), net.describe());
    }

    @Test
    void lengthsThatDoNotFitAreRefusedNamingThem() {
      Tensor x = Tensor.zeros(DType.FLOAT64, SEQ, 4, 3);
      IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
          () -> net.forward(x, new int[] {1, 2, 3}, null));
      IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
          () -> net.forward(x, new int[] {1, 7, 3, 2}, null));
      IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
          () -> net.forward(x, new int[] {1, 0, 3, 2}, null));
      IllegalArgumentException realNaN = assertThrows(IllegalArgumentException.class,
          () -> net.forward(paddedWith(Double.NaN, 3, 3), new int[] {5, 6, 1, 3}, null));
      IllegalArgumentException badSequence = assertThrows(IllegalArgumentException.class,
          () -> net.forward(List.of(Tensor.zeros(DType.FLOAT64, 2, 3),
              Tensor.zeros(DType.FLOAT64, 2, 4))));
      assertAll(
          () -> assertEquals("forward expected 4 lengths (one per sequence of the batch) but got"
              + " 3", count.getMessage()),
          () -> assertEquals("forward expected lengths in [1, 6] (the input's steps) but"
              + " lengths[1] is 7", range.getMessage()),
          () -> assertEquals("forward expected lengths in [1, 6] (the input's steps) but"
              + " lengths[1] is 0", zero.getMessage()),
          () -> assertEquals("input holds NaN at [4, 0, 0]", realNaN.getMessage()),
          () -> assertEquals("forward expected sequences of shape [seq, 3] with seq >= 1 (the"
              + " input of lstm(3, 4).bidirectional()) but sequences[1] has shape [2, 4]",
              badSequence.getMessage()));
    }

    @Test
    void streamingABidirectionalNetworkIsRefusedSayingWhy() {
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> net.step(Tensor.zeros(DType.FLOAT64, 4, 3), null, LENGTHS, 0));
      assertEquals("step() streams one step at a time, but layer 1, lstm(3, 4).bidirectional()"
          + " runs a reverse direction, which starts from the end of the whole sequence; use"
          + " forward(x, lengths, state) over the whole sequence", e.getMessage());
    }
  }

  @Nested
  class TruncatedBptt {
    @Test
    void windowsWithLengthsGiveEachSequencesOwnGradients() {
      // k1 divides every length, so each sequence alone is cut into the same windows
      int[] lengths = {4, 6, 2};
      Network net = Rnn.network().lstm(3, 4).gru(4, 3).dense(3, 2).dtype(DType.FLOAT64).seed(21)
          .build();
      Tensor x = Tensor.randn(DType.FLOAT64, 22, SEQ, 3, 3);
      Tensor gOut = Tensor.randn(DType.FLOAT64, 23, SEQ, 3, 2);
      Bptt bptt = Bptt.truncated(2, 3);
      zero(net);
      bptt.accumulate(net.model(), x, null, Lengths.of(lengths), linear(gOut));
      Map<String, Tensor> batched = gradients(net);
      Map<String, double[]> summed = new LinkedHashMap<>();
      batched.forEach((k, v) -> summed.put(k, new double[v.size()]));
      for (int n = 0; n < lengths.length; n++) {
        zero(net);
        bptt.accumulate(net.model(), x.slice(0, 0, lengths[n]).slice(1, n, n + 1), null,
            linear(gOut.slice(0, 0, lengths[n]).slice(1, n, n + 1)));
        gradients(net).forEach((k, v) -> {
          for (int i = 0; i < v.size(); i++) {
            summed.get(k)[i] += v.at(i);
          }
        });
      }
      List<Executable> checks = new ArrayList<>();
      summed.forEach((k, v) -> checks.add(close("gradient of " + k,
          Tensor.of(v, batched.get(k).shape().dims()), batched.get(k))));
      assertAll(checks);
    }

    /** {@code L = sum(out * w)} over the window's counted steps: seeded, plus a zero loss. */
    private Bptt.WindowLoss linear(Tensor w) {
      return (g, out, from, to) -> {
        g.seed(out, w.slice(0, from, to));
        return Ops.mse(g, out, out.tensor(), null);
      };
    }

    private void zero(Network net) {
      for (Parameter p : net.parameters()) {
        p.zeroGrad();
      }
    }

    private Map<String, Tensor> gradients(Network net) {
      Map<String, Tensor> m = new LinkedHashMap<>();
      net.namedParameters().forEach((k, p) -> m.put(k, p.gradient()));
      return m;
    }
  }

  @Nested
  class TheTrainer {
    private Network net(long seed) {
      return Rnn.network().lstm(3, 4).dense(4, 2).dtype(DType.FLOAT64).seed(seed).build();
    }

    private Trainer trainer(Network net) {
      return net.trainer().loss(Trainer.Objective.MSE).epochs(3).batchSize(2)
          .optimizer(ps -> Sgd.builder().lr(0.1).build(ps));
    }

    @Test
    void aPaddedBlockWithLengthsTrainsAsAListOfSequences() {
      Tensor x = paddedWith(Double.NaN, 31, 3);
      Tensor y = Tensor.randn(DType.FLOAT64, 32, SEQ, LENGTHS.length, 2);
      List<Tensor> xs = new ArrayList<>();
      List<Tensor> ys = new ArrayList<>();
      for (int n = 0; n < LENGTHS.length; n++) {
        xs.add(x.slice(0, 0, LENGTHS[n]).select(1, n));
        ys.add(y.slice(0, 0, LENGTHS[n]).select(1, n));
      }
      Network a = net(33);
      Network b = net(33);
      Trainer.Report ra = trainer(a).fit(x, LENGTHS, y);
      Trainer.Report rb = trainer(b).fit(xs, ys);
      assertAll(
          () -> assertEquals(ra.epochLosses(), rb.epochLosses()),
          () -> assertTrue(ra.epochLosses().stream().allMatch(Double::isFinite)),
          () -> assertEquals(a.parameter("weight_hh_l0"), b.parameter("weight_hh_l0")));
    }

    @Test
    void theLossCountsTheRealStepsOnly() {
      Network net = net(34);
      Tensor x = paddedWith(Double.NaN, 35, 3);
      Tensor zeroPadded = paddedWith(0, 35, 3);
      Tensor y = Tensor.randn(DType.FLOAT64, 36, SEQ, LENGTHS.length, 2);
      Tensor mask = Lengths.of(LENGTHS).mask(DType.FLOAT64, SEQ, false);
      Trainer t = net.trainer().loss(Trainer.Objective.MSE);
      // a forward layer's real steps do not see the padding after them
      assertEquals(t.evaluate(zeroPadded, y, mask), t.evaluate(x, LENGTHS, y), 1e-14);
    }

    @Test
    void validationDataWithLengthsIsMeasuredAsEvaluateMeasuresIt() {
      Network net = net(43);
      Tensor x = paddedWith(Double.NaN, 44, 3);
      Tensor y = Tensor.randn(DType.FLOAT64, 45, SEQ, LENGTHS.length, 2);
      int[] lengths = {2, 5, 6, 1};
      Tensor vx = paddedWith(Double.NaN, 46, 3, lengths);
      Tensor vy = Tensor.randn(DType.FLOAT64, 47, SEQ, lengths.length, 2);
      Trainer t = trainer(net).validation(vx, lengths, vy);
      Trainer.Report r = t.fit(x, LENGTHS, y);
      Trainer.Epoch last = r.history().get(r.history().size() - 1);
      assertAll(
          () -> assertTrue(Double.isFinite(last.metric("val_loss")), "the NaN padding unread"),
          () -> assertEquals(t.evaluate(vx, lengths, vy), last.metric("val_loss"), 1e-12),
          () -> assertNotEquals(last.metric("loss"), last.metric("val_loss")));
    }

    @Test
    void aValidationSplitOfDataWithLengthsKeepsEachSequencesLength() {
      Network net = net(48);
      Tensor x = paddedWith(Double.NaN, 49, 3);
      Tensor y = Tensor.randn(DType.FLOAT64, 50, SEQ, LENGTHS.length, 2);
      Trainer t = trainer(net).validationSplit(0.5);
      Trainer.Report r = t.fit(x, LENGTHS, y);
      Trainer.Epoch last = r.history().get(r.history().size() - 1);
      Tensor heldX = x.slice(1, 2, 4);
      Tensor heldY = y.slice(1, 2, 4);
      assertEquals(t.evaluate(heldX, new int[] {LENGTHS[2], LENGTHS[3]}, heldY),
          last.metric("val_loss"), 1e-12);
    }

    @Test
    void truncatedBpttWithLengthsTrainsAndLowersTheLoss() {
      Network net = net(37);
      Tensor x = paddedWith(Double.NaN, 38, 3);
      Tensor y = Tensor.randn(DType.FLOAT64, 39, SEQ, LENGTHS.length, 2).scale(0.1);
      Trainer t = net.trainer().loss(Trainer.Objective.MSE).epochs(30).batchSize(4)
          .bptt(Bptt.truncated(2, 4)).optimizer(ps -> Sgd.builder().lr(0.2).build(ps));
      double before = t.evaluate(x, LENGTHS, y);
      Trainer.Report r = t.fit(x, LENGTHS, y);
      assertAll(
          () -> assertTrue(r.epochLosses().stream().allMatch(Double::isFinite)),
          () -> assertTrue(t.evaluate(x, LENGTHS, y) < before, "the loss fell"));
    }

    @Test
    void aLastStepClassifierTrainsOnAListOfSentences() {
      Network net = Rnn.network().gru(3, 4).bidirectional().dense(8, 2).lastStep()
          .dtype(DType.FLOAT64).seed(40).build();
      List<Tensor> xs = new ArrayList<>();
      List<Tensor> ys = new ArrayList<>();
      for (int n = 0; n < 8; n++) {
        xs.add(Tensor.randn(DType.FLOAT64, 41 + n, 1 + n % 5, 3));
        ys.add(Tensor.of(new double[] {n % 2}, 1));
      }
      Trainer t = net.trainer().loss(Trainer.Objective.CROSS_ENTROPY).epochs(20).batchSize(4)
          .optimizer(ps -> Sgd.builder().lr(0.5).build(ps));
      double before = t.evaluate(xs, ys);
      t.fit(xs, ys);
      assertTrue(t.evaluate(xs, ys) < before, "the loss fell");
    }

    @Test
    void lengthsThatDoNotFitAreRefusedNamingThem() {
      Network net = net(42);
      Tensor x = Tensor.zeros(DType.FLOAT64, SEQ, 4, 3);
      Tensor y = Tensor.zeros(DType.FLOAT64, SEQ, 4, 2);
      Trainer t = trainer(net);
      IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
          () -> t.fit(x, new int[] {1, 2}, y));
      IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
          () -> t.fit(x, new int[] {1, 2, 9, 1}, y));
      IllegalArgumentException targets = assertThrows(IllegalArgumentException.class,
          () -> t.fit(List.of(Tensor.zeros(DType.FLOAT64, 3, 3)),
              List.of(Tensor.zeros(DType.FLOAT64, 2, 2))));
      assertAll(
          () -> assertEquals("fit expected 4 lengths (one per sequence of the inputs [6, 4, 3])"
              + " but got 2", count.getMessage()),
          () -> assertEquals("fit expected lengths in [1, 6] (the steps of the inputs [6, 4, 3])"
              + " but lengths[2] is 9", range.getMessage()),
          () -> assertEquals("fit expected targets[0] for the 3 steps of inputs[0] but got shape"
              + " [2, 2]", targets.getMessage()));
    }
  }
}
