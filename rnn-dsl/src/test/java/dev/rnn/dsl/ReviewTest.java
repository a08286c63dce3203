package dev.rnn.dsl;

import static dev.rnn.dsl.Rnn.network;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.autograd.Bptt;
import dev.rnn.autograd.GradientCheck;
import dev.rnn.autograd.GradientFlow;
import dev.rnn.autograd.Graph;
import dev.rnn.autograd.Ops;
import dev.rnn.autograd.SequenceModel;
import dev.rnn.autograd.Value;
import dev.rnn.autograd.optim.Sgd;
import dev.rnn.core.Activation;
import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Combinations of layers, modifiers and options that the other tests do not cover. */
class ReviewTest {
  private static final double EXACT = 1e-12;

  /** The MSE of the network's output against {@code target}, recorded in {@code g}. */
  private static Value mse(Graph g, Network net, Tensor x, Tensor target) {
    Value out = net.forward(g, g.constant(x), null, 0).output();
    return Ops.mse(g, out, target, null);
  }

  private static GradientCheck.Report gradientCheck(Network net, Tensor x, Tensor target) {
    return GradientCheck.defaults().check(net.parameters(),
        () -> mse(Graph.inference(), net, x, target).item(),
        () -> {
          Graph g = Graph.training();
          g.backward(mse(g, net, x, target));
        });
  }

  private static Map<String, Tensor> gradients(Network net) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    net.namedParameters().forEach((n, p) -> m.put(n, p.gradient()));
    return m;
  }

  private static void assertClose(Tensor expected, Tensor actual, double tol, String what) {
    assertEquals(expected.shape(), actual.shape(), what + ": shape");
    assertTrue(expected.maxAbsDiff(actual) <= tol,
        what + ": max |difference| " + expected.maxAbsDiff(actual) + " > " + tol);
  }

  @Nested
  class BidirectionalLayersHandingOffStates {
    @Test
    void theSecondLayerStartsFromTheFirstLayersFinalStatesDirectionByDirection() {
      Network net = network().lstm(2, 3).bidirectional().lstm(6, 3).bidirectional()
          .handOffStates().dtype(DType.FLOAT64).seed(4).build();
      Network first = network().lstm(2, 3).bidirectional().dtype(DType.FLOAT64).build();
      Network second = network().lstm(6, 3).bidirectional().dtype(DType.FLOAT64).build();
      Map<String, String> rename = new LinkedHashMap<>();
      for (String p : List.of("weight_ih", "weight_hh", "bias_ih", "bias_hh")) {
        rename.put(p + "_l1", p + "_l0");
        rename.put(p + "_l1_reverse", p + "_l0_reverse");
      }
      for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
        String name = rename.getOrDefault(e.getKey(), e.getKey());
        Network to = e.getKey().contains("_l1") ? second : first;
        to.namedParameters().get(name).set(e.getValue().value());
      }
      Tensor x = Tensor.randn(DType.FLOAT64, 7, 5, 2, 2);
      Network.Result one = first.forward(x, null);
      Network.Result two = second.forward(one.output(), one.state());
      Network.Result both = net.forward(x, null);
      assertAll(
          () -> assertClose(two.output(), both.output(), EXACT, "output"),
          () -> assertClose(two.state().get("h_l0_reverse"), both.state().get("h_l1_reverse"),
              EXACT, "h_l1_reverse"),
          () -> assertClose(two.state().get("c_l0"), both.state().get("c_l1"), EXACT, "c_l1"));
    }

    @Test
    void describeHandsOffDirectionByDirection() {
      String d = network().lstm(2, 3).bidirectional().lstm(6, 3).bidirectional()
          .handOffStates().build().describe();
      assertAll(
          () -> assertTrue(d.contains("initial state: h2→_0 = h1→_T (handed off)\n"), d),
          () -> assertTrue(d.contains("initial state: h2←_0 = h1←_T (handed off)\n"), d));
    }

    @Test
    void gradientsAgreeWithFiniteDifferences() {
      Network net = network().gru(2, 3).bidirectional().gru(6, 3).bidirectional()
          .handOffStates().dense(6, 1).dtype(DType.FLOAT64).seed(5).build();
      Tensor x = Tensor.randn(DType.FLOAT64, 8, 4, 2, 2);
      Tensor y = Tensor.randn(DType.FLOAT64, 9, 4, 2, 1);
      GradientCheck.Report r = gradientCheck(net, x, y);
      assertTrue(r.passed(), r.toString());
    }
  }

  @Nested
  class LearnableInitialStateOfABidirectionalLstm {
    Network net() {
      return network().lstm(2, 3).bidirectional().learnableInitialState().lstm(6, 2)
          .learnableInitialState().dense(2, 1).dtype(DType.FLOAT64).seed(6).build();
    }

    @Test
    void everyGradientIncludingH0AndC0AgreesWithFiniteDifferences() {
      Network net = net();
      // Non-zero initial states, so that the check does not pass by symmetry.
      for (Parameter p : net.parameters()) {
        if (p.name().startsWith("h0") || p.name().startsWith("c0")) {
          p.set(Tensor.randn(DType.FLOAT64, p.name().hashCode(), p.shape().dims()));
        }
      }
      assertEquals(List.of("h0_l0", "c0_l0", "h0_l0_reverse", "c0_l0_reverse", "h0_l1", "c0_l1"),
          net.namedParameters().keySet().stream()
              .filter(n -> n.startsWith("h0") || n.startsWith("c0")).toList());
      Tensor x = Tensor.randn(DType.FLOAT64, 10, 4, 3, 2);
      Tensor y = Tensor.randn(DType.FLOAT64, 11, 4, 3, 1);
      GradientCheck.Report r = gradientCheck(net, x, y);
      assertTrue(r.passed(), r.toString());
    }

    @Test
    void theTrainerUpdatesTheInitialStatesOfBothDirections() {
      Network net = net();
      Map<String, Tensor> before = new LinkedHashMap<>();
      net.namedParameters().forEach((n, p) -> before.put(n, p.value()));
      Tensor x = Tensor.randn(DType.FLOAT64, 12, 5, 4, 2);
      Tensor y = Tensor.randn(DType.FLOAT64, 13, 5, 4, 1);
      net.trainer().loss(Trainer.Objective.MSE)
          .optimizer(ps -> Sgd.builder().lr(0.5).build(ps)).epochs(2).batchSize(2).fit(x, y);
      List<Executable> checks = new ArrayList<>();
      for (String n : List.of("h0_l0", "c0_l0", "h0_l0_reverse", "c0_l0_reverse", "h0_l1",
          "c0_l1")) {
        checks.add(() -> assertNotEquals(before.get(n), net.parameter(n), n + " was trained"));
      }
      assertAll(checks);
    }

    @Test
    void truncatedBpttIsRefusedSinceTheReverseDirectionStartsAtTheSequencesEnd() {
      Tensor x = Tensor.randn(DType.FLOAT64, 12, 5, 4, 2);
      Tensor y = Tensor.randn(DType.FLOAT64, 13, 5, 4, 1);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> net().trainer().loss(Trainer.Objective.MSE).bptt(Bptt.truncated(2, 3)).fit(x, y));
      assertEquals("truncated BPTT(k1 = 2, k2 = 3) splits the 5 steps into chunks, but lstm(2,"
          + " 3).bidirectional().learnableInitialState().lstm(6, 2).learnableInitialState()"
          + ".dense(2, 1) has a bidirectional layer, whose reverse direction runs back from the"
          + " end of the whole sequence; use Bptt.full()", e.getMessage());
    }

    @Test
    void withTruncatedBpttOnlyTheFirstChunkReachesTheInitialState() {
      Network net = network().gru(2, 3).learnableInitialState().dense(3, 1)
          .dtype(DType.FLOAT64).seed(6).build();
      Tensor x = Tensor.randn(DType.FLOAT64, 12, 6, 4, 2);
      Tensor y = Tensor.randn(DType.FLOAT64, 13, 6, 4, 1);
      Bptt.WindowLoss loss = (g, out, from, to) -> Ops.mse(g, out, y.slice(0, from, to), null);
      net.parameters().forEach(Parameter::zeroGrad);
      Bptt.truncated(3, 3).accumulate(net.model(), x, null, loss);
      Tensor truncated = net.namedParameters().get("h0_l0").gradient();
      net.parameters().forEach(Parameter::zeroGrad);
      Graph g = Graph.training();
      Value out = net.forward(g, g.constant(x.slice(0, 0, 3)), null, 0).output();
      g.backward(Ops.mse(g, out, y.slice(0, 0, 3), null));
      Tensor firstChunk = net.namedParameters().get("h0_l0").gradient();
      assertAll(
          () -> assertTrue(firstChunk.maxAbsDiff(Tensor.zeros(DType.FLOAT64, 3)) > 0),
          () -> assertClose(firstChunk, truncated, EXACT, "dL/dh0"));
    }
  }

  @Nested
  class Dropout {
    @Test
    void isTheIdentityInForwardAndStepAndActiveOnlyInTraining() {
      Network with = network().lstm(2, 4).dropout(0.5).dense(4, 1).seed(7).build();
      Network without = network().lstm(2, 4).dense(4, 1).seed(7).build();
      Tensor x = Tensor.randn(DType.FLOAT32, 14, 6, 3, 2);
      Tensor expected = without.forward(x);
      Network.Result s1 = with.step(x.select(0, 0), null);
      Network.Result w1 = without.step(x.select(0, 0), null);
      Graph g = Graph.training();
      Tensor trained = with.forward(g, g.constant(x), null, 0).output().tensor();
      assertAll(
          () -> assertEquals(expected, with.forward(x)),
          () -> assertEquals(expected, with.forward(x)),
          () -> assertEquals(w1.output(), s1.output()),
          () -> assertEquals(w1.state().tensors(), s1.state().tensors()),
          () -> assertNotEquals(expected, trained, "dropout acts while training"));
    }

    @Test
    void evaluateIsDeterministicAndMatchesForward() {
      Network net = network().gru(2, 4).dropout(0.25).dense(4, 1).seed(8).build();
      Tensor x = Tensor.randn(DType.FLOAT32, 15, 6, 3, 2);
      Tensor y = Tensor.randn(DType.FLOAT32, 16, 6, 3, 1);
      Trainer t = net.trainer().loss(Trainer.Objective.MSE);
      Tensor d = net.forward(x).sub(y);
      double expected = d.mul(d).sum() / d.size();
      assertEquals(expected, t.evaluate(x, y), 1e-6);
      assertEquals(t.evaluate(x, y), t.evaluate(x, y));
    }
  }

  @Nested
  class LastStepWithBatchFirst {
    final Network net = network().gru(3, 4).lastStep().dense(4, 2).batchFirst().seed(9).build();
    final Network timeMajor = network().gru(3, 4).lastStep().dense(4, 2).seed(9).build();

    @Test
    void outputsAreBatchByFeaturesAndUnbatchedInputGivesAVector() {
      Tensor bf = Tensor.randn(DType.FLOAT32, 17, 5, 6, 3); // [N=5, T=6, 3]
      Tensor out = net.forward(bf);
      Tensor one = net.forward(bf.select(0, 2)); // [T, F]
      assertAll(
          () -> assertArrayEquals(new int[] {5, 2}, out.shape().dims()),
          () -> assertEquals(timeMajor.forward(bf.transpose(0, 1)), out),
          () -> assertArrayEquals(new int[] {2}, one.shape().dims()),
          () -> assertClose(out.select(0, 2), one, 1e-6, "unbatched row"));
    }

    @Test
    void stepGivesBatchByFeatures() {
      Tensor xt = Tensor.randn(DType.FLOAT32, 18, 5, 3);
      Network.Result r = net.step(xt, null);
      Network.Result u = net.step(xt.select(0, 1), null);
      assertAll(
          () -> assertArrayEquals(new int[] {5, 2}, r.output().shape().dims()),
          () -> assertArrayEquals(new int[] {2}, u.output().shape().dims()),
          () -> assertClose(r.output().select(0, 1), u.output(), 1e-6, "unbatched step"));
    }

    @Test
    void trainsWithBatchFirstTargetsOfTheLastStep() {
      Tensor x = Tensor.randn(DType.FLOAT32, 19, 8, 6, 3);
      Tensor y = Tensor.randn(DType.FLOAT32, 20, 8, 2);
      Trainer.Report r = net.trainer().loss(Trainer.Objective.MSE).epochs(3).batchSize(4)
          .fit(x, y);
      assertTrue(Double.isFinite(r.finalLoss()));
    }
  }

  @Nested
  class StatesStackingWithAnActivationAfterAGatedLayer {
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"lstm(2, 3).relu()", "gru(2, 3).relu()", "elman(2, 3, tanh).relu()"})
    void theActivationStaysOutsideTheRecurrence(String spec) {
      Network states = Rnn.parse(spec).stacking(Stacking.STATES).seed(10).build();
      Network outputs = Rnn.parse(spec).stacking(Stacking.OUTPUTS).seed(10).build();
      Network bare = Rnn.parse(spec.replace(".relu()", "")).seed(10).build();
      Tensor x = Tensor.randn(DType.FLOAT32, 21, 6, 2, 2);
      Network.Result r = states.forward(x, null);
      assertAll(
          () -> assertEquals(outputs.forward(x), r.output()),
          () -> assertEquals(bare.forward(x).relu(), r.output()),
          () -> assertEquals(bare.forward(x, null).state().tensors(), r.state().tensors()));
    }
  }

  @Nested
  class FirstLayerWithoutASize {
    @Test
    void anActivationFirstActsOnTheInput() {
      Network net = network().relu().recurrent(2, 2).seed(11).build();
      Network bare = network().recurrent(2, 2).seed(11).build();
      Tensor x = Tensor.randn(DType.FLOAT32, 22, 4, 3, 2);
      assertAll(
          () -> assertEquals(2, net.inputSize()),
          () -> assertEquals(bare.forward(x.relu()), net.forward(x)));
    }

    @Test
    void dropoutFirstIsTheIdentityInInference() {
      Network net = network().dropout(0.5).gru(2, 2).seed(12).build();
      Network bare = network().gru(2, 2).seed(12).build();
      Tensor x = Tensor.randn(DType.FLOAT32, 23, 4, 3, 2);
      assertEquals(bare.forward(x), net.forward(x));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"relu()", "dropout(0.5)", "lastStep()", "tanh().sigmoid()"})
    void aNetworkWithNoSizedLayerIsRefusedAtBuild(String spec) {
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> Rnn.parse(spec).build());
      assertEquals("network()." + spec + " has no layer that sets the input size: add a"
          + " recurrent or dense layer, e.g. network()." + spec + ".dense(2, 2)", e.getMessage());
    }

    @Test
    void aSecondLastStepIsRefusedAtBuild() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> network().gru(2, 3).lastStep().lastStep().build());
      assertEquals("lastStep() (layer 3) needs a sequence but follows lastStep(), which keeps"
          + " only the final step", e.getMessage());
    }
  }

  @Nested
  class DenseOnlyNetworks {
    final Network net = network().dense(3, 4).tanh().dense(4, 2).seed(13).build();

    @Test
    void actOnEveryStepWithNoState() {
      Tensor x = Tensor.randn(DType.FLOAT32, 24, 5, 2, 3);
      Network.Result r = net.forward(x, null);
      Tensor w0 = net.parameter("dense0.weight");
      Tensor b0 = net.parameter("dense0.bias");
      Tensor w1 = net.parameter("dense1.weight");
      Tensor b1 = net.parameter("dense1.bias");
      Tensor row = x.select(0, 3).select(0, 1).reshape(1, 3);
      Tensor expected = row.matmul(w0.transpose(0, 1)).add(b0.reshape(1, 4)).tanh()
          .matmul(w1.transpose(0, 1)).add(b1.reshape(1, 2)).reshape(2);
      assertAll(
          () -> assertArrayEquals(new int[] {5, 2, 2}, r.output().shape().dims()),
          () -> assertTrue(r.state().tensors().isEmpty()),
          () -> assertTrue(net.stateNames().isEmpty()),
          () -> assertClose(expected, r.output().select(0, 3).select(0, 1), 1e-6, "step 3"),
          () -> assertArrayEquals(new int[] {2, 2},
              net.step(x.select(0, 0), null).output().shape().dims()),
          () -> assertArrayEquals(new int[] {5, 2}, net.forward(x.select(1, 0)).shape().dims()));
    }

    @Test
    void saveAndLoad(@TempDir Path dir) throws Exception {
      Path file = dir.resolve("dense.safetensors");
      net.save(file);
      Network again = Rnn.load(file);
      Tensor x = Tensor.randn(DType.FLOAT32, 41, 5, 2, 3);
      assertAll(
          () -> assertEquals(net.spec(), again.spec()),
          () -> assertEquals(net.forward(x), again.forward(x)));
    }

    @Test
    void trainAndDescribe() {
      Tensor x = Tensor.randn(DType.FLOAT32, 25, 5, 8, 3);
      Tensor y = Tensor.randn(DType.FLOAT32, 26, 5, 8, 2);
      Trainer.Report r = net.trainer().loss(Trainer.Objective.MSE).epochs(2).batchSize(4)
          .bptt(Bptt.truncated(2, 2)).fit(x, y);
      assertAll(
          () -> assertTrue(Double.isFinite(r.finalLoss())),
          () -> assertTrue(net.describe().contains("state: []"), net.describe()));
    }
  }

  @Nested
  class Float64EndToEnd {
    @Test
    void forwardTrainSaveAndLoad(@TempDir Path dir) throws Exception {
      Network net = network().lstm(2, 3).peepholes().gru(3, 3).bidirectional().dense(6, 2)
          .dtype(DType.FLOAT64).seed(14).build();
      Tensor x = Tensor.randn(DType.FLOAT64, 27, 6, 4, 2);
      Tensor y = Tensor.randn(DType.FLOAT64, 28, 6, 4, 2);
      Trainer.Report r = net.trainer().loss(Trainer.Objective.MSE).epochs(3).batchSize(2)
          .clipGradNorm(1).fit(x, y);
      Network causal = network().lstm(2, 3).gru(3, 2).dtype(DType.FLOAT64).seed(14).build();
      Trainer.Report rc = causal.trainer().loss(Trainer.Objective.MSE).epochs(2).batchSize(2)
          .bptt(Bptt.truncated(2, 4)).fit(x, y);
      Tensor out = net.forward(x);
      Path file = dir.resolve("net.safetensors");
      net.save(file);
      Network again = Rnn.load(file);
      assertAll(
          () -> assertEquals(DType.FLOAT64, out.dtype()),
          () -> assertTrue(Double.isFinite(r.finalLoss())),
          () -> assertTrue(Double.isFinite(rc.finalLoss())),
          () -> assertEquals(DType.FLOAT64, again.dtype()),
          () -> assertEquals(out, again.forward(x)),
          () -> assertClose(out, net.forward(x.to(DType.FLOAT32)), 1e-6,
              "float32 input converted"));
    }
  }

  @Nested
  class SpecRoundTrip {
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "recurrent(2, 3).relu().recurrent(3, 1)",
        "recurrent(2, 3).noBias().tanh()",
        "recurrent(2, 3).bidirectional().learnableInitialState().sigmoid()",
        "elman(2, 3, tanh)", "elman(2, 3, relu)", "elman(2, 3, sigmoid)", "elman(2, 3, identity)",
        "elman(2, 3, tanh).bidirectional().noBias().learnableInitialState()",
        "lstm(2, 3).peepholes()",
        "lstm(2, 3).peepholes().bidirectional().noBias().learnableInitialState()",
        "lstm(2, 3).noBias().peepholes()",
        "gru(2, 3).bidirectional().noBias()",
        "gru(2, 3).learnableInitialState().dropout(0.25).dense(3, 2)",
        "dropout(0.25).lstm(2, 3).lastStep().dense(3, 1).sigmoid()",
        "dense(2, 3).relu().gru(3, 4).bidirectional().dense(8, 1)"})
    void parsingTheSpecBuildsTheSameNetwork(String spec) {
      Network net = Rnn.parse(spec).seed(15).build();
      Network again = Rnn.parse(net.spec()).seed(15).build();
      Tensor x = Tensor.randn(DType.FLOAT32, 29, 4, 2, 2);
      assertAll(
          () -> assertEquals(net.spec(), again.spec()),
          () -> assertEquals(net.namedParameters().keySet(), again.namedParameters().keySet()),
          () -> assertEquals(net.stateNames(), again.stateNames()),
          () -> assertEquals(net.forward(x), again.forward(x)));
    }
  }

  @Nested
  class ChainedForwardCalls {
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"lstm(2, 3).lstm(3, 2)", "gru(2, 3).gru(3, 3).dense(3, 1)",
        "lstm(2, 3).peepholes().learnableInitialState().gru(3, 2).learnableInitialState()",
        "elman(2, 3, relu).dropout(0.5).recurrent(3, 2).tanh()"})
    void continuingFromTheReturnedStateEqualsOneForwardOverBoth(String spec) {
      for (Stacking mode : Stacking.values()) {
        Network net = Rnn.parse(spec).stacking(mode).dtype(DType.FLOAT64).seed(16).build();
        Tensor x = Tensor.randn(DType.FLOAT64, 30, 9, 2, 2);
        Network.Result whole = net.forward(x, null);
        Network.Result a = net.forward(x.slice(0, 0, 4), null);
        Network.Result b = net.forward(x.slice(0, 4, 9), a.state());
        assertClose(whole.output(), Tensor.concat(0, List.of(a.output(), b.output())), EXACT,
            mode + " output");
        for (String s : net.stateNames()) {
          assertClose(whole.state().get(s), b.state().get(s), EXACT, mode + " " + s);
        }
        // step by step, unbatched, too
        Network.Result r = null;
        for (int t = 0; t < 9; t++) {
          r = net.step(x.select(1, 1).select(0, t), r == null ? null : r.state());
          assertClose(whole.output().select(0, t).select(0, 1), r.output(), EXACT,
              mode + " step " + t);
        }
      }
    }
  }

  @Nested
  class TruncatedBpttCarriesEveryState {
    @Test
    void multiLayerStatesAreCarriedFromChunkToChunk() {
      Network net = network().lstm(2, 3).lstm(3, 3).gru(3, 3).dense(3, 1)
          .dtype(DType.FLOAT64).seed(17).build();
      Tensor x = Tensor.randn(DType.FLOAT64, 31, 7, 2, 2);
      Tensor y = Tensor.randn(DType.FLOAT64, 32, 7, 2, 1);
      Bptt.WindowLoss loss = (g, out, from, to) -> Ops.mse(g, out, y.slice(0, from, to), null);
      net.parameters().forEach(Parameter::zeroGrad);
      Bptt.truncated(3, 3).accumulate(net.model(), x, null, loss);
      Map<String, Tensor> truncated = gradients(net);

      // by hand: chunks (start, first counted step, end) of k1 = k2 = 3 over 7 steps, each from
      // the state at its start, as a constant; the last, shorter one backpropagates 3 steps
      // but counts only step 6
      net.parameters().forEach(Parameter::zeroGrad);
      for (int[] c : List.of(new int[] {0, 0, 3}, new int[] {3, 3, 6}, new int[] {4, 6, 7})) {
        Graph g = Graph.training();
        List<Value> init = null;
        if (c[0] > 0) {
          Graph before = Graph.inference();
          init = new ArrayList<>();
          for (Value v : net.forward(before, before.constant(x.slice(0, 0, c[0])), null, 0)
              .states()) {
            init.add(g.constant(v.tensor()));
          }
        }
        SequenceModel.Forward f = net.forward(g, g.constant(x.slice(0, c[0], c[2])), init, c[0]);
        Value counted = Ops.slice(g, f.output(), c[1] - c[0], c[2] - c[0]);
        g.backward(Ops.mse(g, counted, y.slice(0, c[1], c[2]), null));
      }
      Map<String, Tensor> byHand = gradients(net);
      List<Executable> checks = new ArrayList<>();
      truncated.forEach((n, t) -> checks.add(() -> assertClose(byHand.get(n), t, EXACT, n)));
      assertAll(checks);
    }

    @Test
    void aHandOffStackTrainsWithFullBpttButRefusesChunks() {
      // A chunk would hand off the first layer's state at the chunk's end (or wherever BPTT
      // splits the chunk into two forwards), not at the sequence's end as forward does.
      Network net = network().gru(2, 3).bidirectional().gru(6, 3).bidirectional()
          .handOffStates().dense(6, 1).seed(18).build();
      Tensor x = Tensor.randn(DType.FLOAT32, 33, 9, 6, 2);
      Tensor y = Tensor.randn(DType.FLOAT32, 34, 9, 6, 1);
      List<Trainer.Event> events = new ArrayList<>();
      Trainer.Report r = net.trainer().loss(Trainer.Objective.MSE).epochs(2).batchSize(3)
          .listener(events::add).fit(x, y);
      Trainer.Report whole = net.trainer().loss(Trainer.Objective.MSE).bptt(Bptt.truncated(9, 9))
          .fit(x, y);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> net.trainer().loss(Trainer.Objective.MSE).bptt(Bptt.truncated(3, 5)).fit(x, y));
      assertAll(
          () -> assertEquals(2 * 2, r.steps()),
          () -> assertTrue(Double.isFinite(r.finalLoss())),
          () -> assertEquals(1, whole.steps()),
          () -> assertEquals("truncated BPTT(k1 = 3, k2 = 5) splits the 9 steps into chunks, but"
              + " gru(2, 3).bidirectional().gru(6, 3).bidirectional().dense(6, 1) hands each"
              + " recurrent layer's final state, at the end of the whole sequence, to the next"
              + " layer (handOffStates()); use Bptt.full()", e.getMessage()));
    }
  }

  @Nested
  class GradientFlowOfBidirectionalLayers {
    @Test
    void hasOneSeriesPerDirectionUnderTheLayersLabel() {
      Network net = network().lstm(2, 3).bidirectional().dense(6, 1).seed(19).build();
      Tensor x = Tensor.randn(DType.FLOAT32, 35, 5, 2, 2);
      Graph g = Graph.training();
      g.backward(mse(g, net, x, Tensor.zeros(DType.FLOAT32, 5, 2, 1)));
      GradientFlow flow = g.gradientFlow();
      String label = "layer 1 lstm(2, 3).bidirectional()";
      double[] forward = flow.norms(label, false);
      double[] reverse = flow.norms(label, true);
      assertAll(
          () -> assertEquals(10, flow.entries().size()),
          () -> assertTrue(flow.entries().stream().allMatch(e -> e.layer().equals(label)),
              flow.entries().toString()),
          () -> assertEquals(5, forward.length),
          () -> assertEquals(5, reverse.length),
          () -> assertTrue(java.util.Arrays.stream(forward).allMatch(v -> v > 0)),
          () -> assertTrue(java.util.Arrays.stream(reverse).allMatch(v -> v > 0)),
          // the output gradient is all that reaches the last step of the forward direction and
          // the first step of the reverse one; elsewhere the carried gradient adds to it
          () -> assertNotEquals(forward[0], reverse[0]));
    }
  }

  @Nested
  class ConcurrentSteps {
    @Test
    @Timeout(60)
    void eightStreamingThreadsGetTheSingleThreadedResults() throws Exception {
      // (not bidirectional: step() refuses a reverse direction, which cannot stream)
      Network net = network().lstm(3, 8).gru(8, 4).learnableInitialState()
          .dense(4, 2).seed(20).build();
      int threads = 8;
      int steps = 200;
      List<Tensor> inputs = new ArrayList<>();
      List<Tensor> expected = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        Tensor x = Tensor.randn(DType.FLOAT32, 200L + t, steps, 2, 3);
        inputs.add(x);
        Network.Result r = null;
        List<Tensor> ys = new ArrayList<>();
        for (int s = 0; s < steps; s++) {
          r = net.step(x.select(0, s), r == null ? null : r.state());
          ys.add(r.output().reshape(1, 2, 2));
        }
        expected.add(Tensor.concat(0, ys));
      }
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Tensor>> results = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          Tensor x = inputs.get(t);
          results.add(pool.submit(() -> {
            start.await();
            Network.Result r = null;
            List<Tensor> ys = new ArrayList<>();
            for (int s = 0; s < steps; s++) {
              r = net.step(x.select(0, s), r == null ? null : r.state());
              ys.add(r.output().reshape(1, 2, 2));
            }
            return Tensor.concat(0, ys);
          }));
        }
        start.countDown();
        List<Executable> checks = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          Tensor got = results.get(t).get(60, TimeUnit.SECONDS);
          Tensor want = expected.get(t);
          int thread = t;
          checks.add(() -> assertEquals(want, got, "thread " + thread));
        }
        assertAll(checks);
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Nested
  class TheScanBufferPool {
    /** Large enough that the scan's buffers come from the pool (2^15 elements and more). */
    Network big() {
      return network().lstm(8, 64).peepholes().lstm(64, 64).dense(64, 1).dtype(DType.FLOAT64)
          .seed(21).build();
    }

    @Test
    void oneGraphScanningEachRecurrenceTwiceGivesTheGradientsOfOneScan() {
      Network net = big();
      Tensor x = Tensor.randn(DType.FLOAT64, 36, 20, 16, 8);
      Tensor y = Tensor.randn(DType.FLOAT64, 37, 20, 16, 1);
      net.parameters().forEach(Parameter::zeroGrad);
      Graph whole = Graph.training();
      whole.backward(mse(whole, net, x, y));
      Map<String, Tensor> once = gradients(net);

      // a recorded graph dropped without backward keeps its buffers: nothing else may get them
      Graph dropped = Graph.training();
      mse(dropped, net, x, y);

      net.parameters().forEach(Parameter::zeroGrad);
      Graph g = Graph.training();
      SequenceModel.Forward a = net.forward(g, g.constant(x.slice(0, 0, 10)), null, 0);
      SequenceModel.Forward b = net.forward(g, g.constant(x.slice(0, 10, 20)), a.states(), 10);
      Value out = Ops.concatTime(g, a.output(), b.output());
      // an inference forward in between borrows and returns buffers of the same sizes
      net.forward(x.slice(0, 0, 10));
      g.backward(Ops.mse(g, out, y, null));
      Map<String, Tensor> twice = gradients(net);
      List<Executable> checks = new ArrayList<>();
      once.forEach((n, t) -> checks.add(() -> assertClose(t, twice.get(n), 1e-10, n)));
      assertAll(checks);
    }
  }

  @Nested
  class DescribeAndGraph {
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"dense(2, 3)", "relu().dense(2, 3).lastStep()",
        "dropout(0.5).gru(2, 3).lastStep().dense(3, 1)",
        "lstm(2, 3).bidirectional().lstm(6, 3).bidirectional().handOffStates()",
        "recurrent(2, 3).bidirectional().relu().recurrent(6, 2).stacking(states)",
        "lstm(2, 3).peepholes().learnableInitialState().noBias().gru(3, 3).handOffStates()",
        "elman(2, 3, identity).tanh().sigmoid().dense(3, 1).relu()"})
    void workForEveryKindOfNetwork(String spec) {
      Network net = Rnn.parse(spec).build();
      assertAll(
          () -> assertTrue(net.describe().startsWith("network()."), net::describe),
          () -> assertTrue(net.graph(3).contains("digraph")),
          () -> assertTrue(net.graphSvg(3).contains("<svg")),
          () -> assertEquals(net.initialState(2).tensors().keySet(),
              net.forward(Tensor.zeros(DType.FLOAT32, 3, 2, 2), null).state().tensors()
                  .keySet()));
    }

    @Test
    void theLearnedInitialStateIsTheStateForwardStartsFrom() {
      Network net = network().lstm(2, 3).bidirectional().learnableInitialState().seed(23)
          .build();
      for (Parameter p : net.parameters()) {
        if (p.name().startsWith("h0") || p.name().startsWith("c0")) {
          p.set(Tensor.randn(DType.FLOAT32, p.name().hashCode(), p.shape().dims()));
        }
      }
      Tensor x = Tensor.randn(DType.FLOAT32, 40, 4, 2, 2);
      Network.Result fromDefault = net.forward(x, null);
      Network.Result fromGiven = net.forward(x, net.initialState(2));
      assertAll(
          () -> assertEquals(fromDefault.output(), fromGiven.output()),
          () -> assertEquals(net.parameter("c0_l0_reverse"),
              net.initialState(2).get("c_l0_reverse").select(0, 1)));
    }
  }

  @Nested
  class Elman {
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TANH", "RELU", "SIGMOID", "IDENTITY"})
    void gradientsOfEachActivationAgreeWithFiniteDifferences(Activation act) {
      Network net = network().elman(2, 3, act).bidirectional().learnableInitialState()
          .dense(6, 1).dtype(DType.FLOAT64).seed(22).build();
      Tensor x = Tensor.randn(DType.FLOAT64, 38, 4, 2, 2);
      Tensor y = Tensor.randn(DType.FLOAT64, 39, 4, 2, 1);
      GradientCheck.Report r = gradientCheck(net, x, y);
      assertTrue(r.passed(), r.toString());
      assertFalse(net.describe().isEmpty());
    }
  }
}
