package dev.rnn.autograd;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Stack;
import dev.rnn.core.Tensor;
import dev.rnn.core.TorchModule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Truncated BPTT's chunking, and the scan's buffer pool under graphs that share recurrences. */
class ReviewTest {
  private static Map<String, Tensor> gradients(SequenceModel m) {
    Map<String, Tensor> g = new LinkedHashMap<>();
    for (Parameter p : m.parameters()) {
      g.put(p.name(), p.gradient());
    }
    return g;
  }

  @Nested
  class TruncatedBptt {
    @ParameterizedTest(name = "T = {0}, k1 = {1}, k2 = {2}")
    @CsvSource({"7, 2, 2", "7, 3, 3", "7, 3, 5", "7, 4, 7", "7, 2, 3", "6, 3, 3", "7, 1, 2",
        "5, 7, 9", "10, 4, 6"})
    void countsTheLossOfEveryStepExactlyOnceAndAShorterLastChunkOnlyOnce(int seq, int k1,
        int k2) {
      StackModel m = new StackModel(
          new Stack(TorchModule.of(Stack.Mode.GRU, 2, 3).dtype(DType.FLOAT64))
              .initialize(1), 1, 2);
      Tensor x = Tensor.randn(DType.FLOAT64, 3, seq, 2, 2);
      List<int[]> counted = new ArrayList<>();
      Bptt.Pass pass = Bptt.truncated(k1, k2).accumulate(m, x, null, (g, out, from, to) -> {
        counted.add(new int[] {from, to});
        assertEquals(to - from, out.dim(0), "the output holds the counted steps");
        return Loss.mse(g, out, Tensor.zeros(DType.FLOAT64, out.shape().dims()), null);
      });
      int expected = 0;
      for (int[] c : counted) {
        assertEquals(expected, c[0], "chunk starts where the one before ended");
        assertTrue(c[1] > c[0] && c[1] - c[0] <= k1, "chunk of 1 to k1 steps");
        expected = c[1];
      }
      assertEquals(seq, expected, "the chunks cover the sequence");
      assertEquals(counted.size(), pass.windowLosses().size());
    }

    @Test
    void theLossesOfAllChunksSumToTheFullLossWhenEachChunkCountsItsStepsAsASum() {
      // With a loss that sums squared outputs, and k2 = T so that nothing is cut, truncated BPTT
      // adds exactly the full gradient: a step counted twice would add its share twice.
      StackModel m = new StackModel(
          new Stack(TorchModule.of(Stack.Mode.LSTM, 2, 3).numLayers(2).dtype(DType.FLOAT64))
              .initialize(4), 1, 5);
      Tensor x = Tensor.randn(DType.FLOAT64, 6, 7, 2, 2);
      Bptt.WindowLoss sum = (g, out, from, to) -> {
        Value l = Loss.mse(g, out, Tensor.zeros(DType.FLOAT64, out.shape().dims()), null);
        return Loss.sum(g, java.util.Collections.nCopies(to - from, l));
      };
      m.parameters().forEach(Parameter::zeroGrad);
      Bptt.full().accumulate(m, x, null, (g, out, from, to) -> sum.apply(g, out, from, to));
      Map<String, Tensor> full = gradients(m);
      m.parameters().forEach(Parameter::zeroGrad);
      Bptt.Pass pass = Bptt.truncated(3, 7).accumulate(m, x, null, sum);
      Map<String, Tensor> truncated = gradients(m);
      List<Executable> checks = new ArrayList<>();
      full.forEach((n, t) -> checks.add(() -> assertTrue(t.allClose(truncated.get(n), 1e-12,
          1e-10), n + ": " + t + " but " + truncated.get(n))));
      assertAll(checks);
      assertEquals(3, pass.windowLosses().size());
    }
  }

  @Nested
  class TheScanBufferPool {
    /** Sizes at which every scan buffer (2^15 elements and more) comes from the pool. */
    StackModel big(boolean bidirectional) {
      return big(Stack.Mode.LSTM, bidirectional);
    }

    StackModel big(Stack.Mode mode, boolean bidirectional) {
      return new StackModel(new Stack(TorchModule.of(mode, 8, 64).numLayers(2)
          .bidirectional(bidirectional)).initialize(7), 1, 8);
    }

    Value loss(Graph g, StackModel m, Tensor x) {
      Value out = m.forward(g, g.constant(x), null, 0).output();
      return Loss.mse(g, out, Tensor.zeros(DType.FLOAT32, out.shape().dims()), null);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"LSTM", "GRU", "RNN_TANH", "RNN_RELU"})
    void interleavedGraphsDroppedGraphsAndInferenceDoNotDisturbARecordedGraph(
        Stack.Mode mode) {
      for (boolean bi : new boolean[] {false, true}) {
        StackModel m = big(mode, bi);
        Tensor x = Tensor.randn(DType.FLOAT32, 9, 10, 16, 8);
        Tensor other = Tensor.randn(DType.FLOAT32, 10, 10, 16, 8);
        m.parameters().forEach(Parameter::zeroGrad);
        Graph alone = Graph.training();
        alone.backward(loss(alone, m, x));
        Map<String, Tensor> expected = gradients(m);

        m.parameters().forEach(Parameter::zeroGrad);
        Graph a = Graph.training();
        Value la = loss(a, m, x);
        Graph dropped = Graph.training();
        loss(dropped, m, other); // never backpropagated
        Graph b = Graph.training();
        Value lb = loss(b, m, other);
        loss(Graph.inference(), m, other);
        b.backward(lb);
        loss(Graph.inference(), m, other);
        m.parameters().forEach(Parameter::zeroGrad);
        a.backward(la);
        assertEquals(expected, gradients(m), "bidirectional " + bi);
      }
    }

    @Test
    void oneGraphScanningTheSameScansTwiceGivesTheGradientsOfOneScan() {
      StackModel m = big(false);
      Tensor x = Tensor.randn(DType.FLOAT32, 11, 20, 16, 8);
      m.parameters().forEach(Parameter::zeroGrad);
      Graph whole = Graph.training();
      whole.backward(loss(whole, m, x));
      Map<String, Tensor> once = gradients(m);

      m.parameters().forEach(Parameter::zeroGrad);
      Graph g = Graph.training();
      SequenceModel.Forward a = m.forward(g, g.constant(x.slice(0, 0, 10)), null, 0);
      SequenceModel.Forward b = m.forward(g, g.constant(x.slice(0, 10, 20)), a.states(), 10);
      Value out = Steps.concat(g, a.output(), b.output());
      g.backward(Loss.mse(g, out, Tensor.zeros(DType.FLOAT32, out.shape().dims()), null));
      Map<String, Tensor> twice = gradients(m);
      List<Executable> checks = new ArrayList<>();
      once.forEach((n, t) -> checks.add(() -> assertTrue(t.allClose(twice.get(n), 1e-6, 1e-4),
          n + ": max |difference| " + t.maxAbsDiff(twice.get(n)))));
      assertAll(checks);
    }
  }
}
