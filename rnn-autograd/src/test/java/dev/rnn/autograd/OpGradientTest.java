package dev.rnn.autograd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.core.Activation;
import dev.rnn.core.DType;
import dev.rnn.core.Lengths;
import dev.rnn.core.Parameter;
import dev.rnn.core.Shape;
import dev.rnn.core.Stack;
import dev.rnn.core.Tensor;
import dev.rnn.core.TorchModule;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Central differences in float64 against the backward of every op of the graph. */
class OpGradientTest {
  private static Parameter param(String name, long seed, int... shape) {
    Parameter p = new Parameter(name, Shape.of(shape), DType.FLOAT64);
    p.set(Tensor.randn(DType.FLOAT64, seed, shape));
    return p;
  }

  /** Reduces any value to a scalar with nontrivial gradients: mse against a random target. */
  private static Value reduce(Graph g, Value v) {
    return Ops.mse(g, v, Tensor.randn(DType.FLOAT64, 99, v.shape().dims()), null);
  }

  private static void assertGradients(List<Parameter> ps, Function<Graph, Value> loss) {
    GradientCheck.Report r = GradientCheck.defaults().check(ps,
        () -> loss.apply(Graph.training()).item(),
        () -> {
          Graph g = Graph.training();
          g.backward(loss.apply(g));
        });
    assertTrue(r.passed(), r::toString);
  }

  @Nested
  class PointwiseAndDenseOps {
    @Test
    void dense() {
      Parameter x = param("x", 1, 3, 2, 4);
      Parameter w = param("w", 2, 5, 4);
      Parameter b = param("b", 3, 5);
      assertGradients(List.of(x, w, b), g -> reduce(g,
          Ops.linear(g, g.parameter(x), g.parameter(w), g.parameter(b))));
    }

    @Test
    void denseWithoutBias() {
      Parameter x = param("x", 1, 6, 4);
      Parameter w = param("w", 2, 3, 4);
      assertGradients(List.of(x, w), g -> reduce(g,
          Ops.linear(g, g.parameter(x), g.parameter(w), null)));
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void activation(Activation f) {
      Parameter x = param("x", 4, 3, 2, 5);
      assertGradients(List.of(x), g -> reduce(g, Ops.activate(g, f, g.parameter(x))));
    }

    @Test
    void dropoutWithAFixedMask() {
      Parameter x = param("x", 5, 3, 2, 5);
      assertGradients(List.of(x), g -> reduce(g,
          Ops.dropout(g, 0.3, new Random(17), g.parameter(x))));
    }

    @Test
    void addMultiplyAndScale() {
      Parameter a = param("a", 61, 3, 2, 4);
      Parameter b = param("b", 62, 3, 2, 4);
      assertGradients(List.of(a, b), g -> reduce(g, Ops.scale(g, Ops.add(g,
          Ops.multiply(g, g.parameter(a), g.parameter(b)), g.parameter(a)), 0.5)));
    }

    @Test
    void embeddingWithLengths() {
      Parameter w = param("w", 63, 5, 3);
      Tensor ids = Tensor.of(new double[] {1, 4, 0, 2, 2, -1, 3, -1, -1}, 3, 3);
      assertGradients(List.of(w), g -> reduce(g, Ops.embedding(g, ids, g.parameter(w), -1,
          Lengths.of(3, 2, 1))));
    }

    @Test
    void packAndUnpack() {
      Parameter x = param("x", 64, 4, 3, 2);
      Lengths lengths = Lengths.of(2, 4, 1);
      assertGradients(List.of(x), g -> {
        Value packed = Ops.pack(g, g.parameter(x), lengths);
        return Ops.sum(g, List.of(reduce(g, packed),
            reduce(g, Ops.unpack(g, Ops.scale(g, packed, 2), lengths, 5))));
      });
    }

    @Test
    void concatAlongFeatures() {
      Parameter a = param("a", 6, 3, 2, 2);
      Parameter b = param("b", 7, 3, 2, 5);
      assertGradients(List.of(a, b), g -> reduce(g,
          Ops.concat(g, List.of(g.parameter(a), g.parameter(b)))));
    }

    @Test
    void broadcastRows() {
      Parameter v = param("v", 11, 5);
      assertGradients(List.of(v), g -> reduce(g, Ops.broadcastRows(g, g.parameter(v), 7)));
    }
  }

  @Nested
  class TimeAxisOps {
    @Test
    void lastStep() {
      Parameter x = param("x", 8, 4, 2, 3);
      assertGradients(List.of(x), g -> reduce(g, Ops.lastStep(g, g.parameter(x))));
    }

    @Test
    void eachSequencesOwnLastStep() {
      Parameter x = param("x", 8, 4, 3, 3);
      assertGradients(List.of(x), g -> reduce(g, Ops.lastStep(g, g.parameter(x),
          Lengths.of(2, 4, 1))));
    }

    @Test
    void zeroPadding() {
      Parameter x = param("x", 8, 4, 3, 3);
      assertGradients(List.of(x), g -> reduce(g, Ops.zeroPadding(g, g.parameter(x),
          Lengths.of(2, 4, 1))));
    }

    @Test
    void swapBatchAndTime() {
      Parameter x = param("x", 9, 4, 2, 3);
      assertGradients(List.of(x), g -> reduce(g, Ops.swapBatchAndTime(g, g.parameter(x))));
    }

    @Test
    void sliceAndConcatInTime() {
      Parameter x = param("x", 10, 5, 2, 3);
      assertGradients(List.of(x), g -> {
        Value v = g.parameter(x);
        return reduce(g, Ops.concatTime(g, Ops.slice(g, v, 3, 5), Ops.slice(g, v, 0, 2)));
      });
    }
  }

  @Nested
  class Losses {
    @Test
    void mseWithMask() {
      Parameter y = param("y", 11, 4, 3, 2);
      Tensor target = Tensor.randn(DType.FLOAT64, 12, 4, 3, 2);
      Tensor mask = Tensor.of(new double[] {1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0}, 4, 3);
      assertGradients(List.of(y), g -> Ops.mse(g, g.parameter(y), target, mask));
    }

    @Test
    void crossEntropyWithMask() {
      Parameter z = param("z", 13, 4, 3, 5);
      Tensor targets = Tensor.of(new double[] {0, 4, 2, 1, 3, 3, 0, 2, 1, 4, 4, 0}, 4, 3);
      Tensor mask = Tensor.of(new double[] {1, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0, 1}, 4, 3);
      assertGradients(List.of(z), g -> Ops.crossEntropy(g, g.parameter(z), targets, mask));
    }
  }

  @Nested
  class Stacks {
    @ParameterizedTest
    @EnumSource(Stack.Mode.class)
    void twoLayersBidirectionalWithInitialStatesAndAHead(Stack.Mode mode) {
      Stack stack = new Stack(TorchModule.of(mode, 3, 4).numLayers(2).bidirectional(true)
          .dtype(DType.FLOAT64))
          .initialize(21);
      StackModel model = new StackModel(stack, 2, 22);
      Parameter x = param("input", 23, 5, 2, 3);
      List<Parameter> init = new ArrayList<>();
      for (int s = 0; s < 4 * stack.stateCount(); s++) {
        init.add(param("state" + s, 30 + s, 2, 4));
      }
      List<Parameter> all = new ArrayList<>(model.parameters());
      all.add(x);
      all.addAll(init);
      assertGradients(all, g -> {
        List<Value> states = new ArrayList<>();
        for (Parameter p : init) {
          states.add(g.parameter(p));
        }
        SequenceModel.Forward f = model.forward(g, g.parameter(x), states, 0);
        List<Value> terms = new ArrayList<>();
        terms.add(reduce(g, f.output()));
        for (Value s : f.states()) {
          terms.add(reduce(g, s));
        }
        return Ops.sum(g, terms);
      });
    }

    @ParameterizedTest
    @EnumSource(Stack.Mode.class)
    void twoLayersBidirectionalWithLengthsAndInitialStates(Stack.Mode mode) {
      Stack stack = new Stack(TorchModule.of(mode, 3, 4).numLayers(2).bidirectional(true)
          .dtype(DType.FLOAT64).projSize(mode == Stack.Mode.LSTM ? 2 : 0))
          .initialize(24);
      Lengths lengths = Lengths.of(3, 5, 1);
      Parameter x = param("input", 25, 5, 3, 3);
      List<Parameter> init = new ArrayList<>();
      for (int s = 0; s < 4; s++) {
        for (int k = 0; k < stack.stateCount(); k++) {
          init.add(param("state" + s + "_" + k, 40 + 2 * s + k, 3, stack.stateSize(k)));
        }
      }
      List<Parameter> all = new ArrayList<>(stack.parameters().values());
      all.add(x);
      all.addAll(init);
      assertGradients(all, g -> {
        List<Value> states = new ArrayList<>();
        for (Parameter p : init) {
          states.add(g.parameter(p));
        }
        Ops.ScanResult r = Ops.stack(g, stack, g.parameter(x), states, 0, lengths);
        List<Value> terms = new ArrayList<>();
        terms.add(reduce(g, r.output()));
        for (Value s : r.finalStates()) {
          terms.add(reduce(g, s));
        }
        return Ops.sum(g, terms);
      });
    }
  }
}
