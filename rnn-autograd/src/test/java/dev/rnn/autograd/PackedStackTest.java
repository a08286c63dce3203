package dev.rnn.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rnn.core.DType;
import dev.rnn.core.Lengths;
import dev.rnn.core.LstmCell;
import dev.rnn.core.Scan;
import dev.rnn.core.Stack;
import dev.rnn.core.Tensor;
import dev.rnn.core.TorchModule;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Ops#packedStack}: the same bits as {@code pack(stack(...))}, output and final states,
 * whether the last scan writes its packed rows itself (inference, one direction, no projection)
 * or not; the padding (NaN here) is never read.
 */
class PackedStackTest {
  static List<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    for (DType dt : DType.values()) {
      for (Stack.Mode mode : List.of(Stack.Mode.LSTM, Stack.Mode.GRU, Stack.Mode.RNN_TANH)) {
        out.add(Arguments.of(TorchModule.of(mode, 5, 70).dtype(dt), new int[] {5, 2, 4, 1, 5}));
        out.add(Arguments.of(TorchModule.of(mode, 5, 70).numLayers(2).dtype(dt),
            new int[] {7, 3, 7, 1, 6, 6, 2, 5, 4, 7, 1, 3, 7}));
        out.add(Arguments.of(TorchModule.of(mode, 5, 9).bidirectional(true).dtype(dt),
            new int[] {6, 2, 4}));
        out.add(Arguments.of(TorchModule.of(mode, 5, 9).dtype(dt), new int[] {7, 7, 7}));
      }
      out.add(Arguments.of(TorchModule.of(Stack.Mode.LSTM, 5, 9).projSize(4).dtype(dt),
          new int[] {6, 2, 4}));
    }
    return out;
  }

  @ParameterizedTest
  @MethodSource("cases")
  void givesTheBitsOfPackOfStack(TorchModule module, int[] lens) {
    Stack stack = new Stack(module).initialize(3);
    Lengths lengths = Lengths.of(lens);
    int seq = 7;
    int batch = lens.length;
    double[] x = Tensor.randn(DType.FLOAT64, 4, seq, batch, 5).toDoubleArray();
    for (int t = 0; t < seq; t++) {
      for (int n = 0; n < batch; n++) {
        for (int f = t < lens[n] ? 5 : 0; f < 5; f++) {
          x[(t * batch + n) * 5 + f] = Double.NaN;
        }
      }
    }
    Tensor input = module.dtype() == DType.FLOAT64 ? Tensor.of(x, seq, batch, 5)
        : Tensor.of(toFloat(x), seq, batch, 5);
    List<Value> init = new ArrayList<>();
    for (int k = 0; k < stack.numLayers() * stack.directions() * stack.stateCount(); k++) {
      int w = stack.stateCount() == 2 && k % 2 == 1 ? stack.hiddenSize() : module.outputSize();
      init.add(Graph.inference().constant(Tensor.randn(module.dtype(), 10 + k, batch, w)));
    }
    for (List<Value> from : Arrays.asList(null, init)) {
      Graph g = Graph.inference();
      Ops.ScanResult want = Ops.stack(g, stack, g.constant(input), from, 0, lengths);
      Value wantOut = Ops.pack(g, want.output(), lengths);
      Ops.ScanResult got = Ops.packedStack(g, stack, g.constant(input), from, 0, lengths);
      Ops.ScanResult recorded = Ops.packedStack(Graph.training(), stack,
          Graph.training().constant(input), from, 0, lengths);
      assertEquals(wantOut.shape(), got.output().shape());
      assertArrayEquals(wantOut.tensor().toDoubleArray(), got.output().tensor().toDoubleArray());
      assertArrayEquals(wantOut.tensor().toDoubleArray(),
          recorded.output().tensor().toDoubleArray());
      for (int k = 0; k < want.finalStates().size(); k++) {
        assertArrayEquals(want.finalStates().get(k).tensor().toDoubleArray(),
            got.finalStates().get(k).tensor().toDoubleArray(), "final state " + k);
      }
    }
  }

  /**
   * Recorded, the last scan's packed rows (copied from its states, backward reading the packed
   * gradient per step) give the bits of {@code pack(stack(...))}: the output, and every gradient
   * (parameters, input, initial states) after the same loss.
   */
  @ParameterizedTest
  @MethodSource("cases")
  void trainingGivesTheGradientsOfPackOfStack(TorchModule module, int[] lens) {
    Stack stack = new Stack(module).initialize(3);
    Lengths lengths = Lengths.of(lens);
    int seq = 7;
    int batch = lens.length;
    Tensor input = Tensor.randn(module.dtype(), 4, seq, batch, 5);
    int rows = (int) lengths.total();
    Tensor target = Tensor.randn(module.dtype(), 5, rows, module.outputSize()
        * (stack.directions()));
    List<Tensor> init = new ArrayList<>();
    for (int k = 0; k < stack.numLayers() * stack.directions() * stack.stateCount(); k++) {
      int w = stack.stateCount() == 2 && k % 2 == 1 ? stack.hiddenSize() : module.outputSize();
      init.add(Tensor.randn(module.dtype(), 10 + k, batch, w));
    }
    List<double[]> want = gradients(stack, input, init, target, lengths, false);
    List<double[]> got = gradients(stack, input, init, target, lengths, true);
    assertEquals(want.size(), got.size());
    for (int i = 0; i < want.size(); i++) {
      assertArrayEquals(want.get(i), got.get(i), "gradient " + i);
    }
  }

  /** The output, then the gradients of the parameters, the input and the initial states. */
  private static List<double[]> gradients(Stack stack, Tensor input, List<Tensor> init,
      Tensor target, Lengths lengths, boolean packed) {
    stack.parameters().values().forEach(dev.rnn.core.Parameter::zeroGrad);
    Graph g = Graph.training();
    Value x = g.variable(input);
    List<Value> from = new ArrayList<>();
    for (Tensor t : init) {
      from.add(g.variable(t));
    }
    Value out = packed ? Ops.packedStack(g, stack, x, from, 0, lengths).output()
        : Ops.pack(g, Ops.stack(g, stack, x, from, 0, lengths).output(), lengths);
    g.backward(Ops.mse(g, out, target, null));
    List<double[]> all = new ArrayList<>();
    all.add(out.tensor().toDoubleArray());
    for (dev.rnn.core.Parameter p : stack.parameters().values()) {
      all.add(p.gradient().toDoubleArray());
    }
    all.add(x.gradient().toDoubleArray());
    for (Value v : from) {
      all.add(v.gradient().toDoubleArray());
    }
    return all;
  }

  @ParameterizedTest
  @MethodSource("dtypes")
  void aReverseScanPacksItsPaddedOutput(DType dt) {
    Scan scan = new Scan(new LstmCell(5, 70), Scan.Direction.REVERSE, "_l0_reverse", dt,
        Scan.Biases.BOTH);
    scan.initialize(new Random(2));
    Lengths lengths = Lengths.of(5, 2, 7, 1);
    Graph g = Graph.inference();
    Value x = g.constant(Tensor.randn(dt, 6, 7, 4, 5));
    Ops.ScanResult want = ScanOp.apply(g, scan, "r", x, null, 0, lengths);
    Ops.ScanResult got = ScanOp.applyPacked(scan, "r", x, null, 0, lengths);
    assertArrayEquals(Ops.pack(g, want.output(), lengths).tensor().toDoubleArray(),
        got.output().tensor().toDoubleArray());
    for (int k = 0; k < 2; k++) {
      assertArrayEquals(want.finalStates().get(k).tensor().toDoubleArray(),
          got.finalStates().get(k).tensor().toDoubleArray());
    }
  }

  static DType[] dtypes() {
    return DType.values();
  }

  private static float[] toFloat(double[] x) {
    float[] f = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      f[i] = (float) x[i];
    }
    return f;
  }
}
