package dev.rnn.autograd;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.spy;

import dev.rnn.autograd.optim.Adam;
import dev.rnn.autograd.optim.Optimizer;
import dev.rnn.core.Activation;
import dev.rnn.core.Cell;
import dev.rnn.core.DType;
import dev.rnn.core.ElmanCell;
import dev.rnn.core.Parameter;
import dev.rnn.core.Scan;
import dev.rnn.core.Stack;
import dev.rnn.core.Step;
import dev.rnn.core.Tensor;
import dev.rnn.core.TorchModule;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Full and truncated backpropagation through time. */
class BpttTest {
  private static final Bptt.WindowLoss MSE_TO_ZERO = (g, out, from, to) ->
      Loss.mse(g, out, Tensor.zeros(out.dtype(), out.shape().dims()), null);

  private static StackModel model(Stack.Mode mode, int layers) {
    return new StackModel(new Stack(TorchModule.of(mode, 3, 4).numLayers(layers)
        .dtype(DType.FLOAT64))
        .initialize(5), 2, 6);
  }

  private static Bptt.WindowLoss mseAgainst(Tensor target) {
    return (g, out, from, to) -> Loss.mse(g, out, target.slice(0, from, to), null);
  }

  private static Map<String, Tensor> gradients(SequenceModel m) {
    Map<String, Tensor> grads = new java.util.LinkedHashMap<>();
    for (Parameter p : m.parameters()) {
      grads.put(p.name(), p.gradient());
    }
    return grads;
  }

  private static void zeroGrad(SequenceModel m) {
    m.parameters().forEach(Parameter::zeroGrad);
  }

  /** {@code [start, end, lossFrom, carryAt]} of each window. */
  private static List<List<Integer>> plan(Bptt bptt, int steps) {
    List<List<Integer>> plan = new ArrayList<>();
    for (Bptt.Window w : bptt.windows(steps)) {
      assertEquals(plan.size(), w.index());
      plan.add(List.of(w.start(), w.end(), w.lossFrom(), w.carryAt()));
    }
    return plan;
  }

  @Nested
  class ThePlan {
    @Test
    void fullBpttIsOneWindowOverTheWholeSequence() {
      assertAll(
          () -> assertEquals(List.of(List.of(0, 7, 0, 7)), plan(Bptt.full(), 7)),
          () -> assertEquals(List.of(List.of(0, 6, 0, 6)), plan(Bptt.truncated(8, 8), 6)),
          () -> assertEquals(List.of(List.of(0, 6, 0, 6)), plan(Bptt.truncated(6, 9), 6)));
    }

    @Test
    void equalLengthsGiveAdjacentWindowsAndAShorterLastOneReachesBackK2Steps() {
      // k1 = k2 = 3 over 7 steps: the last window counts step 6 only but runs [4, 7), so the
      // window before splits its forward at 4 to carry the state there.
      assertEquals(List.of(List.of(0, 3, 0, 3), List.of(3, 6, 3, 4), List.of(4, 7, 6, 7)),
          plan(Bptt.truncated(3, 3), 7));
    }

    @Test
    void aLongerK2StartsEachWindowK2StepsBeforeItsEnd() {
      assertAll(
          () -> assertEquals(List.of(List.of(0, 2, 0, 1), List.of(1, 4, 2, 3),
              List.of(3, 6, 4, 6)), plan(Bptt.truncated(2, 3), 6)),
          // the first windows start at 0, the second from the same initial state as the first
          () -> assertEquals(List.of(List.of(0, 2, 0, 0), List.of(0, 4, 2, 1),
              List.of(1, 6, 4, 2), List.of(2, 7, 6, 7)), plan(Bptt.truncated(2, 5), 7)));
    }

    @Test
    void aWindowOutOfOrderIsRefused() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new Bptt.Window(0, 3, 7, 2, 7));
      assertEquals("a BPTT window expected index >= 0, 0 <= start <= lossFrom < end and start"
          + " <= carryAt <= end but got index 0, start 3, lossFrom 2, end 7, carryAt 7",
          e.getMessage());
    }

    @Test
    void anEmptySequenceHasNoPlan() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Bptt.truncated(2, 3).windows(0));
      assertEquals("truncated BPTT(k1 = 2, k2 = 3) expected a sequence of at least one step but"
          + " got 0", e.getMessage());
    }
  }

  @Nested
  class WhenTruncationCoversTheWholeSequence {
    @ParameterizedTest(name = "{0}")
    @CsvSource({"RNN_TANH", "LSTM", "GRU"})
    void truncatedGivesTheFullGradientsExactly(Stack.Mode mode) {
      StackModel m = model(mode, 2);
      Tensor x = Tensor.randn(DType.FLOAT64, 1, 7, 2, 3);
      Tensor target = Tensor.randn(DType.FLOAT64, 2, 7, 2, 2);
      zeroGrad(m);
      Bptt.full().accumulate(m, x, null, mseAgainst(target));
      Map<String, Tensor> full = gradients(m);
      zeroGrad(m);
      Bptt.truncated(7, 7).accumulate(m, x, null, mseAgainst(target));
      Map<String, Tensor> truncated = gradients(m);
      assertEquals(full, truncated);
      zeroGrad(m);
      Bptt.truncated(7, 50).accumulate(m, x, null, mseAgainst(target));
      assertEquals(full, gradients(m));
    }
  }

  @Nested
  class WhenTruncated {
    @ParameterizedTest(name = "k1 = {0}, k2 = {1}")
    @CsvSource({"2, 2", "3, 3", "2, 3", "2, 5", "3, 4", "1, 2", "4, 7"})
    void gradientsAreThoseOfEachChunkFromItsDetachedState(int k1, int k2) {
      StackModel m = model(Stack.Mode.LSTM, 2);
      int seq = 7;
      Tensor x = Tensor.randn(DType.FLOAT64, 1, seq, 2, 3);
      Tensor target = Tensor.randn(DType.FLOAT64, 2, seq, 2, 2);
      // Central differences of sum over chunks of loss(chunk | state at its start held fixed):
      // the state at step s is the plain forward over [0, s) with the unperturbed weights.
      List<List<Tensor>> startStates = new ArrayList<>();
      List<int[]> chunks = new ArrayList<>();
      int counted = 0;
      for (int e = Math.min(k1, seq); ; e = Math.min(e + k1, seq)) {
        int s = Math.max(0, e - k2);
        // each step's loss once: a shorter last chunk counts only the steps after the previous
        chunks.add(new int[] {s, counted, e});
        counted = e;
        startStates.add(s == 0 ? null : statesAfter(m, x, s));
        if (e == seq) {
          break;
        }
      }
      GradientCheck.Report r = GradientCheck.defaults().check(m.parameters(), () -> {
        double total = 0;
        for (int c = 0; c < chunks.size(); c++) {
          int[] ch = chunks.get(c);
          Graph g = Graph.inference();
          List<Value> init = null;
          if (startStates.get(c) != null) {
            init = new ArrayList<>();
            for (Tensor t : startStates.get(c)) {
              init.add(g.constant(t));
            }
          }
          Value out = m.forward(g, g.constant(x.slice(0, ch[0], ch[2])), init, ch[0]).output();
          Value part = Steps.slice(g, out, ch[1] - ch[0], ch[2] - ch[0]);
          total += Loss.mse(g, part, target.slice(0, ch[1], ch[2]), null).item();
        }
        return total;
      }, () -> Bptt.truncated(k1, k2).accumulate(m, x, null, mseAgainst(target)));
      assertTrue(r.passed(), r::toString);
    }

    private List<Tensor> statesAfter(StackModel m, Tensor x, int s) {
      Graph g = Graph.inference();
      List<Tensor> out = new ArrayList<>();
      for (Value v : m.forward(g, g.constant(x.slice(0, 0, s)), null, 0).states()) {
        out.add(v.tensor());
      }
      return out;
    }

    @Test
    void backwardVisitsStepsInReverseAndStopsAtTheWindow() {
      Cell cell = spy(new ElmanCell(3, 4, Activation.TANH));
      List<String> visits = new ArrayList<>();
      doAnswer(inv -> {
        visits.add("b" + ((Step) inv.getArgument(0)).time());
        return inv.callRealMethod();
      }).when(cell).backward(any());
      doAnswer(inv -> {
        visits.add("f" + ((Step) inv.getArgument(0)).time());
        return inv.callRealMethod();
      }).when(cell).forward(any());
      Scan scan = new Scan(cell, Scan.Direction.FORWARD, "_l0", DType.FLOAT64, Scan.Biases.BOTH);
      scan.initialize(new Random(3));
      SequenceModel m = new SequenceModel() {
        @Override public List<Parameter> parameters() {
          return scan.parameters();
        }

        @Override public Forward forward(Graph g, Value input, List<Value> states,
            int firstStep) {
          Ops.ScanResult r = ScanOp.apply(g, scan, "layer 0", input, states, firstStep, null);
          return new Forward(r.output(), r.finalStates());
        }
      };
      Tensor x = Tensor.randn(DType.FLOAT64, 1, 6, 2, 3);
      Bptt.truncated(2, 3).accumulate(m, x, null, MSE_TO_ZERO);
      // k1 = 2, k2 = 3 over 6 steps: the chunk ending at 2 runs [0, 2) and backpropagates 1, 0;
      // the chunk ending at 4 starts at 4 - 3 = 1 from the state carried from the first, runs
      // [1, 4) and backpropagates 3, 2, 1 only; the chunk ending at 6 runs [3, 6), back to 3.
      assertEquals(List.of(
          "f0", "f1", "b1", "b0",
          "f1", "f2", "f3", "b3", "b2", "b1",
          "f3", "f4", "f5", "b5", "b4", "b3"), visits);
    }
  }

  @Nested
  class WhenKIsInvalid {
    @Test
    void k1BelowOneIsRejected() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Bptt.truncated(0, 3));
      assertEquals("truncated BPTT expected k1 >= 1 but got k1 = 0", e.getMessage());
    }

    @Test
    void k2BelowK1IsRejected() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Bptt.truncated(5, 3));
      assertEquals("truncated BPTT expected k2 >= k1 (every step's loss is backpropagated) but"
          + " got k1 = 5, k2 = 3", e.getMessage());
    }
  }

  @Nested
  class GradientFlowThroughTime {
    @Test
    void everyLayerAndStepHasANormAndTruncationShowsAsMissingSteps() {
      StackModel m = model(Stack.Mode.RNN_TANH, 2);
      Tensor x = Tensor.randn(DType.FLOAT64, 1, 6, 2, 3);
      Bptt.Pass full = Bptt.full().accumulate(m, x, null, MSE_TO_ZERO);
      GradientFlow flow = full.flows().get(0);
      double[] l0 = flow.norms("layer 0 elman(3, 4, tanh)", false);
      double[] l1 = flow.norms("layer 1 elman(4, 4, tanh)", false);
      assertAll(
          () -> assertEquals(12, flow.entries().size()),
          () -> assertEquals(6, l0.length),
          () -> assertEquals(6, l1.length),
          () -> assertTrue(java.util.Arrays.stream(l0).allMatch(v -> v > 0)));
      Bptt.Pass cut = Bptt.truncated(3, 3).accumulate(m, x, null, MSE_TO_ZERO);
      assertEquals(2, cut.flows().size());
      double[] second = cut.flows().get(1).norms("layer 0 elman(3, 4, tanh)", false);
      // The second chunk starts at step 3: steps 0..2 get no gradient.
      assertAll(
          () -> assertTrue(Double.isNaN(second[0]) && Double.isNaN(second[2])),
          () -> assertTrue(second[3] > 0));
    }
  }

  @Nested
  class Training {
    @ParameterizedTest(name = "{0}")
    @CsvSource({"LSTM, full", "GRU, full", "LSTM, truncated"})
    void learnsToEchoTheInputDelayedByThreeSteps(Stack.Mode mode, String how) {
      int seq = 12;
      int batch = 16;
      int delay = 3;
      StackModel m = new StackModel(
          new Stack(TorchModule.of(mode, 1, 24)).initialize(1), 1, 2);
      Adam adam = Adam.builder().lr(0.01).build(m.parameters());
      Bptt bptt = how.equals("full") ? Bptt.full() : Bptt.truncated(4, 8);
      Random rnd = new Random(42);
      Function<Long, Tensor[]> batchOf = seed -> {
        Tensor x = Tensor.uniform(DType.FLOAT32, seed, -1, 1, seq, batch, 1);
        float[] y = new float[seq * batch];
        for (int t = delay; t < seq; t++) {
          for (int n = 0; n < batch; n++) {
            y[t * batch + n] = (float) x.get(t - delay, n, 0);
          }
        }
        return new Tensor[] {x, Tensor.of(y, seq, batch, 1)};
      };
      Tensor[] eval = batchOf.apply(999L);
      double before = evalLoss(m, eval);
      for (int it = 0; it < 300; it++) {
        Tensor[] b = batchOf.apply(rnd.nextLong());
        trainOnBatch(bptt, m, b[0], b[1], adam);
      }
      double after = evalLoss(m, eval);
      assertTrue(after * 10 <= before, () -> "loss fell from " + before + " to " + after);
    }

    /** One update per window: forward, loss, zero grads, backward, step; the state carried on. */
    private void trainOnBatch(Bptt bptt, SequenceModel m, Tensor x, Tensor y, Optimizer opt) {
      List<Tensor> carried = null;
      for (Bptt.Window w : bptt.windows(x.dim(0))) {
        Graph g = Graph.training();
        Bptt.WindowForward f = bptt.forward(g, m, x, w, carried);
        Value loss = Loss.mse(g, f.output(), y.slice(0, w.lossFrom(), w.end()), null);
        opt.zeroGrad();
        g.backward(loss);
        opt.step();
        carried = f.carried();
      }
    }

    private double evalLoss(StackModel m, Tensor[] b) {
      Graph g = Graph.inference();
      Value out = m.forward(g, g.constant(b[0]), null, 0).output();
      return Loss.mse(g, out, b[1], null).item();
    }
  }
}
