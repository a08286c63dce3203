package dev.rnn.examples.cells;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.autograd.Bptt;
import dev.rnn.autograd.GradientCheck;
import dev.rnn.autograd.Graph;
import dev.rnn.autograd.Ops;
import dev.rnn.autograd.SequenceModel;
import dev.rnn.autograd.Value;
import dev.rnn.autograd.optim.Adam;
import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Scan;
import dev.rnn.core.Shape;
import dev.rnn.core.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The layer-normalised LSTM, a cell written outside the core: its backward against central
 * differences through the scan and the graph, its float32 path against float64, its errors, and
 * a short training run.
 */
class LayerNormLstmCellTest {
  private static final int SEQ = 5;
  private static final int BATCH = 2;
  private static final int IN = 3;
  private static final int HIDDEN = 4;

  /**
   * A scan of the cell, initialised as torch initialises an LSTM, with the layer-norm
   * gains and biases moved away from ones and zeros so that every term of backward shows.
   */
  private static Scan scan(boolean reverse, DType dtype) {
    Scan scan = new Scan(new LayerNormLstmCell(IN, HIDDEN), Scan.Direction.of(reverse), "_l0",
        dtype, Scan.Biases.BOTH);
    scan.initialize(new Random(5));
    Random rnd = new Random(6);
    for (Parameter p : scan.parameters().subList(4, scan.parameters().size())) {
      for (int i = 0; i < p.size(); i++) {
        p.data().set(i, p.data().get(i) + 0.5 * rnd.nextGaussian());
      }
    }
    return scan;
  }

  private static Parameter param(String name, long seed, int... shape) {
    Parameter p = new Parameter(name, Shape.of(shape), DType.FLOAT64);
    p.set(Tensor.randn(DType.FLOAT64, seed, shape));
    return p;
  }

  /** {@code L = mse(output) + mse(h_T) + mse(c_T)}, each against a fixed random target. */
  private static Value loss(Graph g, Scan scan, Value x, Value h0, Value c0) {
    Ops.ScanResult r = Ops.scan(g, scan, "layer 0", x, List.of(h0, c0), 0);
    return Ops.sum(g, List.of(
        Ops.mse(g, r.output(), Tensor.randn(DType.FLOAT64, 21, SEQ, BATCH, HIDDEN), null),
        Ops.mse(g, r.finalStates().get(0), Tensor.randn(DType.FLOAT64, 22, BATCH, HIDDEN), null),
        Ops.mse(g, r.finalStates().get(1), Tensor.randn(DType.FLOAT64, 23, BATCH, HIDDEN),
            null)));
  }

  @Nested
  class Gradients {
    @ParameterizedTest(name = "reverse = {0}")
    @ValueSource(booleans = {false, true})
    void matchCentralDifferencesForEveryParameterTheInputAndTheInitialStates(boolean reverse) {
      Scan scan = scan(reverse, DType.FLOAT64);
      Parameter x = param("input", 11, SEQ, BATCH, IN);
      Parameter h0 = param("h0", 12, BATCH, HIDDEN);
      Parameter c0 = param("c0", 13, BATCH, HIDDEN);
      List<Parameter> all = new ArrayList<>(scan.parameters());
      all.addAll(List.of(x, h0, c0));
      Function<Graph, Value> loss =
          g -> loss(g, scan, g.parameter(x), g.parameter(h0), g.parameter(c0));
      GradientCheck.Report r = GradientCheck.defaults().check(all,
          () -> loss.apply(Graph.inference()).item(),
          () -> {
            Graph g = Graph.training();
            g.backward(loss.apply(g));
          });
      List<String> names = scan.parameters().stream().map(Parameter::name).toList();
      assertAll(
          () -> assertEquals(List.of("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
              "gamma_x_l0", "beta_x_l0", "gamma_h_l0", "beta_h_l0", "gamma_c_l0", "beta_c_l0"),
              names),
          () -> assertTrue(r.passed(), r::toString));
    }
  }

  @Nested
  class InFloat32 {
    @Test
    void outputAndGradientsAgreeWithFloat64() {
      Scan r64 = scan(false, DType.FLOAT64);
      Scan r32 = new Scan(r64.cell(), Scan.Direction.FORWARD, "_l0",
          DType.FLOAT32, Scan.Biases.BOTH);
      for (int k = 0; k < r64.parameters().size(); k++) {
        r32.parameters().get(k).set(r64.parameters().get(k).value());
      }
      Tensor x = Tensor.randn(DType.FLOAT64, 11, SEQ, BATCH, IN);
      Tensor target = Tensor.randn(DType.FLOAT64, 12, SEQ, BATCH, HIDDEN);
      Tensor out64 = trainStep(r64, x, target);
      Tensor out32 = trainStep(r32, x.to(DType.FLOAT32), target);
      List<Executable> checks = new ArrayList<>();
      checks.add(() -> assertTrue(out32.to(DType.FLOAT64).allClose(out64, 1e-6, 1e-5),
          () -> "output differs by " + out32.to(DType.FLOAT64).maxAbsDiff(out64)));
      for (int k = 0; k < r64.parameters().size(); k++) {
        Parameter p64 = r64.parameters().get(k);
        Tensor g32 = r32.parameters().get(k).gradient().to(DType.FLOAT64);
        checks.add(() -> assertTrue(g32.allClose(p64.gradient(), 1e-5, 1e-4),
            () -> p64.name() + " gradient differs by " + g32.maxAbsDiff(p64.gradient())));
      }
      assertAll(checks);
    }

    /** The output of one forward; the gradients of an mse loss are left in the parameters. */
    private Tensor trainStep(Scan scan, Tensor x, Tensor target) {
      Graph g = Graph.training();
      Ops.ScanResult r = Ops.scan(g, scan, "layer 0", g.constant(x), null, 0);
      g.backward(Ops.mse(g, r.output(), target, null));
      return r.output().tensor();
    }
  }

  @Nested
  class WhenSizesAreInvalid {
    @Test
    void anInputSizeBelowOneIsRejected() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new LayerNormLstmCell(0, 4));
      assertEquals("lstm(0, 4, layer norm) expected input size >= 1", e.getMessage());
    }

    @Test
    void aHiddenSizeOfOneIsRejectedWithTheReason() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new LayerNormLstmCell(3, 1));
      assertEquals("lstm(3, 1, layer norm) expected hidden size >= 2 (layer norm over one"
          + " element of c is a constant)", e.getMessage());
    }
  }

  @Nested
  class Training {
    private static final int STEPS = 10;
    private static final int SEQUENCES = 16;
    private static final int DELAY = 2;

    @Test
    @Timeout(10)
    void learnsToEchoTheInputDelayedByTwoSteps() {
      EchoModel m = new EchoModel(16);
      Adam adam = Adam.builder().lr(0.01).build(m.parameters());
      Random rnd = new Random(42);
      Tensor[] eval = batch(999L);
      double before = evalLoss(m, eval);
      for (int it = 0; it < 200; it++) {
        Tensor[] b = batch(rnd.nextLong());
        adam.zeroGrad();
        Bptt.full().accumulate(m, b[0], null,
            (g, out, from, to) -> Ops.mse(g, out, b[1].slice(0, from, to), null));
        adam.step();
      }
      double after = evalLoss(m, eval);
      assertTrue(after * 5 <= before, () -> "loss fell from " + before + " to " + after);
    }

    /** Inputs uniform in [-1, 1), {@code [T, N, 1]}; targets the inputs DELAY steps earlier. */
    private Tensor[] batch(long seed) {
      Tensor x = Tensor.uniform(DType.FLOAT32, seed, -1, 1, STEPS, SEQUENCES, 1);
      float[] y = new float[STEPS * SEQUENCES];
      for (int t = DELAY; t < STEPS; t++) {
        for (int n = 0; n < SEQUENCES; n++) {
          y[t * SEQUENCES + n] = (float) x.get(t - DELAY, n, 0);
        }
      }
      return new Tensor[] {x, Tensor.of(y, STEPS, SEQUENCES, 1)};
    }

    private double evalLoss(EchoModel m, Tensor[] b) {
      Graph g = Graph.inference();
      Value out = m.forward(g, g.constant(b[0]), null, 0).output();
      return Ops.mse(g, out, b[1], null).item();
    }
  }

  /**
   * One layer-normalised LSTM layer in float32 and a dense head to one output. It keeps {@code
   * bias_ih}: with one input feature and no bias, {@code LN(x W_ih^T)} is {@code sign(x)} times a
   * constant row and the cell could not echo the magnitude of x.
   */
  private static final class EchoModel implements SequenceModel {
    private final Scan scan;
    private final Parameter headWeight;
    private final Parameter headBias;
    private final List<Parameter> parameters;

    EchoModel(int hidden) {
      scan = new Scan(new LayerNormLstmCell(1, hidden), Scan.Direction.FORWARD, "_l0",
          DType.FLOAT32, Scan.Biases.BOTH);
      scan.initialize(new Random(1));
      double k = 1 / Math.sqrt(hidden);
      headWeight = new Parameter("head.weight", Shape.of(1, hidden), DType.FLOAT32);
      headWeight.set(Tensor.uniform(DType.FLOAT32, 2, -k, k, 1, hidden));
      headBias = new Parameter("head.bias", Shape.of(1), DType.FLOAT32);
      parameters = new ArrayList<>(scan.parameters());
      parameters.add(headWeight);
      parameters.add(headBias);
    }

    @Override public List<Parameter> parameters() {
      return parameters;
    }

    @Override public Forward forward(Graph g, Value input, List<Value> states, int firstStep) {
      Ops.ScanResult r = Ops.scan(g, scan, "layer 0", input, states, firstStep);
      Value y = Ops.linear(g, r.output(), g.parameter(headWeight), g.parameter(headBias));
      return new Forward(y, r.finalStates());
    }
  }
}
