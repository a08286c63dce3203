package dev.rnn.examples.cells;

import static dev.rnn.dsl.Rnn.network;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.spy;

import dev.rnn.autograd.GradientCheck;
import dev.rnn.autograd.Graph;
import dev.rnn.autograd.Ops;
import dev.rnn.autograd.Value;
import dev.rnn.autograd.optim.Adam;
import dev.rnn.core.Cell;
import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Scan;
import dev.rnn.core.Shape;
import dev.rnn.core.Step;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.Trainer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CIFG LSTM, a user-written cell that declares the scan's fast path: its backward against
 * central differences with the fast path on and off, the two paths against each other in both
 * dtypes, and a training run through the builder.
 */
class CifgLstmCellTest {
  private static final int SEQ = 5;
  private static final int BATCH = 2;
  private static final int IN = 3;
  private static final int HIDDEN = 4;

  /** A scan of the cell declaring {@code projections}, initialised as torch initialises an LSTM. */
  private static Scan scan(Cell.Projections projections, boolean reverse, DType dtype) {
    Scan scan = new Scan(new CifgLstmCell(IN, HIDDEN, projections), Scan.Direction.of(reverse),
        "_l0", dtype, Scan.Biases.BOTH);
    scan.initialize(new Random(5));
    return scan;
  }

  private static Parameter param(String name, long seed, DType dtype, int... shape) {
    Parameter p = new Parameter(name, Shape.of(shape), dtype);
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
    @ParameterizedTest(name = "{0}, reverse = {1}")
    @CsvSource({"SUMMED, false", "SUMMED, true", "SEPARATE, false", "SEPARATE, true"})
    void matchCentralDifferencesForEveryParameterTheInputAndTheInitialStates(
        Cell.Projections projections, boolean reverse) {
      Scan scan = scan(projections, reverse, DType.FLOAT64);
      Parameter x = param("input", 11, DType.FLOAT64, SEQ, BATCH, IN);
      Parameter h0 = param("h0", 12, DType.FLOAT64, BATCH, HIDDEN);
      Parameter c0 = param("c0", 13, DType.FLOAT64, BATCH, HIDDEN);
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
      assertTrue(r.passed(), r::toString);
    }
  }

  @Nested
  class TheFastPath {
    @ParameterizedTest(name = "reverse = {0}")
    @CsvSource({"false", "true"})
    void givesTheNumbersOfTheSeparateProjectionsInFloat64(boolean reverse) {
      assertAgree(run(Cell.Projections.SUMMED, reverse, DType.FLOAT64),
          run(Cell.Projections.SEPARATE, reverse, DType.FLOAT64), 1e-12);
    }

    @ParameterizedTest(name = "reverse = {0}")
    @CsvSource({"false", "true"})
    void givesCloseNumbersToTheSeparateProjectionsInFloat32(boolean reverse) {
      assertAgree(run(Cell.Projections.SUMMED, reverse, DType.FLOAT32),
          run(Cell.Projections.SEPARATE, reverse, DType.FLOAT32), 1e-5);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"SUMMED, true", "SEPARATE, false"})
    void isWhatTheCellSeesInForwardAndBackward(Cell.Projections projections, boolean summed) {
      Cell cell = spy(new CifgLstmCell(IN, HIDDEN, projections));
      List<Boolean> seen = new ArrayList<>();
      doAnswer(inv -> {
        seen.add(((Step) inv.getArgument(0)).summed());
        return inv.callRealMethod();
      }).when(cell).forward(any());
      doAnswer(inv -> {
        seen.add(((Step) inv.getArgument(0)).summed());
        return inv.callRealMethod();
      }).when(cell).backward(any());
      Scan scan = new Scan(cell, Scan.Direction.FORWARD, "_l0", DType.FLOAT64, Scan.Biases.BOTH);
      Graph g = Graph.training();
      Ops.ScanResult r = Ops.scan(g, scan, "layer 0",
          g.constant(Tensor.randn(DType.FLOAT64, 1, SEQ, BATCH, IN)), null, 0);
      g.backward(Ops.mse(g, r.output(), Tensor.zeros(DType.FLOAT64, SEQ, BATCH, HIDDEN), null));
      assertEquals(java.util.Collections.nCopies(2 * SEQ, summed), seen);
    }

    /**
     * The output, final states and every gradient (parameters, input, initial states) of {@code L
     * = mse(output) + mse(h_T) + mse(c_T)}, by name, in float64.
     */
    private Map<String, Tensor> run(Cell.Projections projections, boolean reverse, DType dtype) {
      Scan scan = scan(projections, reverse, dtype);
      Parameter x = param("input", 11, dtype, SEQ, BATCH, IN);
      Parameter h0 = param("h0", 12, dtype, BATCH, HIDDEN);
      Parameter c0 = param("c0", 13, dtype, BATCH, HIDDEN);
      Graph g = Graph.training();
      Ops.ScanResult r = Ops.scan(g, scan, "layer 0", g.parameter(x),
          List.of(g.parameter(h0), g.parameter(c0)), 0);
      g.backward(Ops.sum(g, List.of(
          Ops.mse(g, r.output(), Tensor.randn(DType.FLOAT64, 21, SEQ, BATCH, HIDDEN), null),
          Ops.mse(g, r.finalStates().get(0), Tensor.randn(DType.FLOAT64, 22, BATCH, HIDDEN),
              null),
          Ops.mse(g, r.finalStates().get(1), Tensor.randn(DType.FLOAT64, 23, BATCH, HIDDEN),
              null))));
      Map<String, Tensor> all = new LinkedHashMap<>();
      all.put("output", r.output().tensor());
      all.put("h_T", r.finalStates().get(0).tensor());
      all.put("c_T", r.finalStates().get(1).tensor());
      for (Parameter p : scan.parameters()) {
        all.put("d " + p.name(), p.gradient());
      }
      all.put("d input", x.gradient());
      all.put("d h0", h0.gradient());
      all.put("d c0", c0.gradient());
      all.replaceAll((k, t) -> t.to(DType.FLOAT64));
      return all;
    }

    /** Each tensor of {@code fast} within {@code tol} of {@code plain}, relative to its max. */
    private void assertAgree(Map<String, Tensor> fast, Map<String, Tensor> plain, double tol) {
      List<Executable> checks = new ArrayList<>();
      assertEquals(plain.keySet(), fast.keySet());
      for (String k : plain.keySet()) {
        Tensor a = fast.get(k);
        Tensor b = plain.get(k);
        double scale = b.maxAbsDiff(Tensor.zeros(DType.FLOAT64, b.shape().dims()));
        checks.add(() -> assertTrue(a.maxAbsDiff(b) <= tol * scale,
            () -> k + ": the fast path differs by " + a.maxAbsDiff(b) + " at scale " + scale));
      }
      assertEquals(10, checks.size());
      assertAll(checks);
    }
  }

  @Nested
  class InTheBuilder {
    @Test
    @Timeout(30)
    void learnsToEchoTheInputDelayedByTwoSteps() {
      Network net = network().cell(new CifgLstmCell(1, 16)).dense(16, 1).seed(3).build();
      Tensor[] train = echo(1, 10, 64);
      Tensor[] held = echo(2, 10, 32);
      Trainer trainer = net.trainer().loss(Trainer.Objective.MSE)
          .optimizer(ps -> Adam.builder().lr(0.02).build(ps)).epochs(40).batchSize(16).shuffle(5);
      double before = trainer.evaluate(held[0], held[1]);
      trainer.fit(train[0], train[1]);
      double after = trainer.evaluate(held[0], held[1]);
      assertAll(
          () -> assertEquals(List.of("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
              "dense0.weight", "dense0.bias"), List.copyOf(net.namedParameters().keySet())),
          () -> assertEquals(Shape.of(3 * 16, 1), net.parameter("weight_ih_l0").shape()),
          () -> assertTrue(after * 5 <= before, () -> "held-out loss " + before + " -> " + after));
    }

    /** Inputs [T, N, 1] uniform in [-1, 1] and targets: the input delayed by two steps. */
    private Tensor[] echo(long seed, int seq, int batch) {
      Tensor x = Tensor.uniform(DType.FLOAT32, seed, -1, 1, seq, batch, 1);
      float[] y = new float[seq * batch];
      for (int t = 2; t < seq; t++) {
        for (int n = 0; n < batch; n++) {
          y[t * batch + n] = (float) x.get(t - 2, n, 0);
        }
      }
      return new Tensor[] {x, Tensor.of(y, seq, batch, 1)};
    }
  }

  @Nested
  class WhenBuiltWrong {
    @Test
    void aSizeBelowOneIsRejected() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new CifgLstmCell(3, 0));
      assertEquals("lstm(3, 0, cifg) expected sizes >= 1", e.getMessage());
    }
  }
}
