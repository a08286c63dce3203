package dev.rnn.autograd;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Shape;
import dev.rnn.core.Tensor;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.Function;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The weighted losses, binary cross-entropy with logits and user losses: values and gradients
 * against torch 1.13's, and central differences.
 *
 * <p>The expected numbers come from this script (torch 1.13.1, float64):
 *
 * <pre>
 * import torch, torch.nn.functional as F
 * d = torch.float64
 * z = torch.tensor(Z_BCE, dtype=d, requires_grad=True)           # the arrays below
 * y = torch.tensor(Y_BCE, dtype=d); a = torch.tensor(ROWS, dtype=d)
 * L = F.binary_cross_entropy_with_logits(z, y); L.backward()      # "bce", "bce dz"
 * L = (F.binary_cross_entropy_with_logits(z, y, reduction='none').mean(-1) * a).sum() / a.sum()
 * z = torch.tensor(Z_CE, dtype=d, requires_grad=True); c = torch.tensor(C)
 * w = torch.tensor(CLASS_WEIGHTS, dtype=d)
 * L = F.cross_entropy(z.reshape(-1, 4), c.reshape(-1), weight=w, ignore_index=-100)
 * l = F.cross_entropy(z.reshape(-1, 4), c.reshape(-1), weight=w, ignore_index=-100,
 *                     reduction='none')
 * wc = w[c.reshape(-1).clamp(min=0)] * (c.reshape(-1) != -100)
 * L = (l * a.reshape(-1)).sum() / (a.reshape(-1) * wc).sum()      # "ce weighted"
 * L = F.cross_entropy(z.reshape(-1, 4), c.reshape(-1), ignore_index=-100)    # "ce ignore"
 * L = (((z_bce - y_bce) ** 2).mean(-1) * a).sum() / a.sum()       # "mse weighted"
 * </pre>
 */
class LossTest {
  static final double[] Z_BCE = {0.5, -1.2, 2.0, 0.1, -3.0, 0.7, 1.5, -0.4, -0.2, 4.0, 0.0, -2.5};
  static final double[] Y_BCE = {1, 0, 1, 0.3, 0, 1, 0, 0, 1, 1, 0.5, 0};
  static final double[] ROWS = {1, 0.5, 2, 0, 1, 3};
  static final double[] Z_CE = {0.5, -1.2, 0.3, 2.0, 2.0, 0.1, -0.7, 0.0, -3.0, 0.7, 1.1, -0.2,
      1.5, -0.4, 0.9, 0.2, -0.2, 4.0, 0.6, -1.0, 0.0, -2.5, 0.4, 1.3};
  static final double[] C = {3, 0, -100, 2, 1, 3};
  static final double[] CLASS_WEIGHTS = {1, 2, 0.5, 3};
  static final double TOL = 1e-15;

  private static Parameter param(double[] values, int... shape) {
    Parameter p = new Parameter("z", Shape.of(shape), DType.FLOAT64);
    p.set(Tensor.of(values, shape));
    return p;
  }

  /** The loss and the gradient of {@code p} after one backward pass of {@code loss}. */
  private static void assertTorch(double value, double[] gradient, Parameter p,
      Function<Graph, Value> loss) {
    p.zeroGrad();
    Graph g = Graph.training();
    Value l = loss.apply(g);
    g.backward(l);
    double[] actual = p.gradient().toDoubleArray();
    assertAll(
        () -> assertEquals(value, l.item(), TOL * Math.abs(value), "loss"),
        () -> {
          for (int i = 0; i < gradient.length; i++) {
            assertEquals(gradient[i], actual[i], TOL, "gradient " + i);
          }
        });
  }

  private static void assertGradients(Parameter p, Function<Graph, Value> loss) {
    GradientCheck.Report r = GradientCheck.defaults().check(List.of(p),
        () -> loss.apply(Graph.training()).item(),
        () -> {
          Graph g = Graph.training();
          g.backward(loss.apply(g));
        });
    assertTrue(r.passed(), r::toString);
  }

  private static void assertMessage(String message, Executable call) {
    assertEquals(message, assertThrows(IllegalArgumentException.class, call).getMessage());
  }

  @Nested
  class BinaryCrossEntropyWithLogits {
    final Parameter z = param(Z_BCE, 2, 3, 2);
    final Tensor y = Tensor.of(Y_BCE, 2, 3, 2);

    @Test
    void matchesTorchWithAndWithoutRowWeights() {
      assertAll(
          () -> assertTorch(0.4861009804690402, new double[] {-0.03146172239984545,
              0.019289601375081865, -0.009933576835176474, 0.018748265623245,
              0.003952156098130565, -0.027651018985986153, 0.0681312063494703, 0.033442694990629,
              -0.04581949977603982, -0.0014988508301742958, 0.0, 0.0063215150017702955}, z,
              g -> Ops.binaryCrossEntropyWithLogits(g, g.parameter(z), y, null)),
          () -> assertTorch(0.34626454199011303, new double[] {-0.02516937791987636,
              0.015431681100065492, -0.003973430734070589, 0.0074993062492980005,
              0.006323449757008904, -0.04424163037757785, 0.0, 0.0, -0.03665559982083186,
              -0.0011990806641394365, 0.0, 0.01517163600424871}, z,
              g -> Ops.binaryCrossEntropyWithLogits(g, g.parameter(z), y,
                  Tensor.of(ROWS, 2, 3))));
    }

    @Test
    void passesFiniteDifferencesAndStaysFiniteForLargeLogits() {
      Parameter big = param(new double[] {800, -800, 30, -30}, 2, 2);
      Tensor t = Tensor.of(new double[] {0, 1, 1, 0}, 2, 2);
      Graph g = Graph.inference();
      assertAll(
          () -> assertGradients(z, h -> Ops.binaryCrossEntropyWithLogits(h, h.parameter(z), y,
              Tensor.of(ROWS, 2, 3))),
          () -> assertEquals((800 + 800 + Math.log1p(Math.exp(-30)) * 2) / 4,
              Ops.binaryCrossEntropyWithLogits(g, g.parameter(big), t, null).item(), 1e-12));
    }

    @Test
    void refusesTargetsOutsideZeroOneAndOtherShapes() {
      Graph g = Graph.inference();
      assertAll(
          () -> assertMessage("binaryCrossEntropyWithLogits expected targets in [0, 1] but"
                  + " element 4 is 2.0",
              () -> Ops.binaryCrossEntropyWithLogits(g, g.parameter(z),
                  Tensor.of(new double[] {1, 0, 1, 0, 2, 1, 0, 0, 1, 1, 0, 0}, 2, 3, 2), null)),
          () -> assertMessage("binaryCrossEntropyWithLogits expected targets of shape [2, 3, 2]"
                  + " but got [2, 3]",
              () -> Ops.binaryCrossEntropyWithLogits(g, g.parameter(z), Tensor.of(ROWS, 2, 3),
                  null)),
          () -> assertMessage("binaryCrossEntropyWithLogits expected row weights >= 0 but"
                  + " element 1 is -1.0",
              () -> Ops.binaryCrossEntropyWithLogits(g, g.parameter(z), y,
                  Tensor.of(new double[] {1, -1, 1, 1, 1, 1}, 2, 3))),
          () -> assertMessage("binaryCrossEntropyWithLogits: every row weight is 0",
              () -> Ops.binaryCrossEntropyWithLogits(g, g.parameter(z), y,
                  Tensor.zeros(DType.FLOAT64, 2, 3))));
    }
  }

  @Nested
  class WeightedCrossEntropy {
    final Parameter z = param(Z_CE, 2, 3, 4);
    final Tensor c = Tensor.of(C, 2, 3);
    final Tensor w = Tensor.of(CLASS_WEIGHTS, 4);
    final OptionalInt ignore = OptionalInt.of(-100);

    @Test
    void matchesTorchsClassWeightsAndIgnoreIndex() {
      assertAll(
          () -> assertTorch(0.39476607111764866, new double[] {0.04870961586745416,
              0.008898444281921524, 0.039880060481299974, -0.09748812063067562,
              -0.02741209295022961, 0.011644076288761632, 0.005232020736931165,
              0.010535995924536813, 0, 0, 0, 0, 0.026704174339698367, 0.003994106483469207,
              -0.03797601733745844, 0.007277736514290867, 0.002992079626218187,
              -0.010995503334680023, 0.006658995669457021, 0.0013444280390048618,
              0.05058129673735978, 0.0041519656730811955, 0.07545842771151512,
              -0.1301916901219561}, z,
              g -> Ops.weightedCrossEntropy(g, g.parameter(z), c, null, w, ignore)),
          () -> assertTorch(0.5068994986698159, new double[] {0.03084942338272097,
              0.0056356813785503, 0.025257371638156653, -0.0617424763994279,
              -0.05208297660543626, 0.022123744948647106, 0.009940839400169215,
              0.020018392256619947, 0, 0, 0, 0, 0.10147586249085382, 0.015177604637182988,
              -0.14430886588234207, 0.027655398754305296, 0.002842475644907278,
              -0.010445728167946023, 0.00632604588598417, 0.0012772066370546188,
              0.03203482126699453, 0.002629578259618091, 0.04779033755062625,
              -0.08245473707723888}, z,
              g -> Ops.weightedCrossEntropy(g, g.parameter(z), c, null, null, ignore)));
    }

    @Test
    void rowWeightsTimesClassWeightsAreAWeightedMean() {
      assertTorch(0.42407999080995357, new double[] {0.031913196602814796, 0.005830015219189965,
          0.026128315487748258, -0.06387152730975298, -0.008979823552661423,
          0.0038144387842495007, 0.0017139378276153818, 0.0034514469407965426, 0, 0, 0, 0, 0, 0,
          0, 0, 0.0019603280309705364, -0.007203950460652429, 0.004362790266195979,
          0.000880832163485944, 0.09941841082860371, 0.008160760116056143, 0.14831484067435732,
          -0.2558940116190172}, z,
          g -> Ops.weightedCrossEntropy(g, g.parameter(z), c, Tensor.of(ROWS, 2, 3), w, ignore));
    }

    @Test
    void passesFiniteDifferences() {
      assertGradients(z, g -> Ops.weightedCrossEntropy(g, g.parameter(z), c,
          Tensor.of(ROWS, 2, 3), w, ignore));
    }

    @Test
    void aMaskAndItsZeroOneWeightsGiveTheSameNumbersBitForBit() {
      Tensor classes = Tensor.of(new double[] {3, 0, 1, 2, 1, 3}, 2, 3);
      Tensor mask = Tensor.of(new double[] {1, 0, 1, 1, 1, 0}, 2, 3);
      Graph g1 = Graph.training();
      Value a = Ops.crossEntropy(g1, g1.parameter(z), classes, mask);
      z.zeroGrad();
      g1.backward(a);
      Tensor ga = z.gradient();
      Graph g2 = Graph.training();
      Value b = Ops.weightedCrossEntropy(g2, g2.parameter(z), classes, mask, null,
          OptionalInt.empty());
      z.zeroGrad();
      g2.backward(b);
      assertAll(
          () -> assertEquals(a.item(), b.item()),
          () -> assertEquals(ga, z.gradient()));
    }

    @Test
    void refusesTargetsThatAreNeitherClassesNorIgnoredAndBadWeights() {
      Graph g = Graph.inference();
      assertAll(
          () -> assertMessage("weightedCrossEntropy expected class indices in [0, 4) or the"
                  + " ignored -1 but target 2 is -100.0",
              () -> Ops.weightedCrossEntropy(g, g.parameter(z), c, null, null,
                  OptionalInt.of(-1))),
          () -> assertMessage("weightedCrossEntropy expected class indices in [0, 4) but target"
                  + " 2 is -100.0",
              () -> Ops.weightedCrossEntropy(g, g.parameter(z), c, null, null,
                  OptionalInt.empty())),
          () -> assertMessage("weightedCrossEntropy expected class weights of shape [4] but got"
                  + " [3]",
              () -> Ops.weightedCrossEntropy(g, g.parameter(z), c, null,
                  Tensor.of(new double[] {1, 1, 1}, 3), ignore)),
          () -> assertMessage("weightedCrossEntropy expected class weights >= 0 but class 1 has"
                  + " NaN",
              () -> Ops.weightedCrossEntropy(g, g.parameter(z), c, null,
                  Tensor.of(new double[] {1, Double.NaN, 1, 1}, 4), ignore)),
          () -> assertMessage("weightedCrossEntropy: the row weights, class weights and ignored"
                  + " targets leave nothing to average (every weight of a counted row is 0)",
              () -> Ops.weightedCrossEntropy(g, g.parameter(z), c, null,
                  Tensor.of(new double[] {0, 0, 0, 0}, 4), ignore)));
    }
  }

  @Nested
  class WeightedMse {
    @Test
    void isTheWeightedMeanOfTheRowsMeanSquares() {
      Parameter p = param(Z_BCE, 2, 3, 2);
      assertAll(
          () -> assertTorch(3.3553333333333333, new double[] {-0.06666666666666667, -0.16,
              0.06666666666666667, -0.013333333333333332, -0.8, -0.08000000000000002, 0.0, -0.0,
              -0.16, 0.4, -0.2, -1.0}, p,
              g -> Ops.weightedMse(g, g.parameter(p), Tensor.of(Y_BCE, 2, 3, 2),
                  Tensor.of(ROWS, 2, 3))),
          () -> assertGradients(p, g -> Ops.weightedMse(g, g.parameter(p),
              Tensor.of(Y_BCE, 2, 3, 2), Tensor.of(ROWS, 2, 3))),
          () -> assertMessage("weightedMse expected row weights of shape [2, 3] but got [3, 2]",
              () -> {
                Graph g = Graph.inference();
                Ops.weightedMse(g, g.parameter(p), Tensor.of(Y_BCE, 2, 3, 2),
                    Tensor.of(ROWS, 3, 2));
              }));
    }
  }

  @Nested
  class UserLoss {
    /** The mean squared error of a row, as a user would write it. */
    final LossFunction squares = new LossFunction() {
      @Override public double value(double[] y, double[] t) {
        double s = 0;
        for (int j = 0; j < y.length; j++) {
          s += (y[j] - t[j]) * (y[j] - t[j]);
        }
        return s / y.length;
      }

      @Override public double[] gradient(double[] y, double[] t) {
        double[] g = new double[y.length];
        for (int j = 0; j < y.length; j++) {
          g[j] = 2 * (y[j] - t[j]) / y.length;
        }
        return g;
      }
    };

    /** Huber with delta 1, mean over the row. */
    final LossFunction huber = new LossFunction() {
      @Override public double value(double[] y, double[] t) {
        double s = 0;
        for (int j = 0; j < y.length; j++) {
          double d = Math.abs(y[j] - t[j]);
          s += d < 1 ? d * d / 2 : d - 0.5;
        }
        return s / y.length;
      }

      @Override public double[] gradient(double[] y, double[] t) {
        double[] g = new double[y.length];
        for (int j = 0; j < y.length; j++) {
          g[j] = Math.max(-1, Math.min(1, y[j] - t[j])) / y.length;
        }
        return g;
      }
    };

    @Test
    void aUserMseIsTheWeightedMse() {
      Parameter p = param(Z_BCE, 2, 3, 2);
      Tensor t = Tensor.of(Y_BCE, 2, 3, 2);
      Graph g = Graph.inference();
      assertEquals(Ops.weightedMse(g, g.parameter(p), t, Tensor.of(ROWS, 2, 3)).item(),
          Ops.loss(g, g.parameter(p), t, Tensor.of(ROWS, 2, 3), squares).item(), 1e-15);
    }

    @Test
    void passesFiniteDifferencesWithRowWeightsAndPerRowTargets() {
      Parameter p = param(Z_BCE, 2, 3, 2);
      LossFunction nll = new LossFunction() { // -log softmax(y)[t], t a class index
        @Override public double value(double[] y, double[] t) {
          double lse = Math.log(Math.exp(y[0]) + Math.exp(y[1]));
          return lse - y[(int) t[0]];
        }

        @Override public double[] gradient(double[] y, double[] t) {
          double lse = Math.log(Math.exp(y[0]) + Math.exp(y[1]));
          double[] g = {Math.exp(y[0] - lse), Math.exp(y[1] - lse)};
          g[(int) t[0]] -= 1;
          return g;
        }
      };
      Tensor classes = Tensor.of(new double[] {1, 0, 1, 1, 0, 0}, 2, 3);
      Parameter q = param(Z_BCE, 2, 3, 2);
      Graph g = Graph.inference();
      assertAll(
          () -> assertGradients(p, h -> Ops.loss(h, h.parameter(p), Tensor.of(Y_BCE, 2, 3, 2),
              Tensor.of(ROWS, 2, 3), huber)),
          () -> assertGradients(q, h -> Ops.loss(h, h.parameter(q), classes, null, nll)),
          () -> assertEquals(Ops.crossEntropy(g, g.parameter(q), classes, null).item(),
              Ops.loss(g, g.parameter(q), classes, null, nll).item(), 1e-15));
    }

    @Test
    void refusesTargetsOfAnotherShapeAndGradientsOfAnotherLength() {
      Parameter p = param(Z_BCE, 2, 3, 2);
      LossFunction shortGradient = new LossFunction() {
        @Override public double value(double[] y, double[] t) {
          return 0;
        }

        @Override public double[] gradient(double[] y, double[] t) {
          return new double[1];
        }
      };
      assertAll(
          () -> assertMessage("loss expected targets of shape [2, 3, F_t] or [2, 3] but got"
                  + " [3, 2]",
              () -> {
                Graph g = Graph.inference();
                Ops.loss(g, g.parameter(p), Tensor.of(ROWS, 3, 2), null, huber);
              }),
          () -> assertMessage("loss expected a gradient of 2 elements, one per output, but got 1",
              () -> {
                Graph g = Graph.training();
                g.backward(Ops.loss(g, g.parameter(p), Tensor.of(Y_BCE, 2, 3, 2), null,
                    shortGradient));
              }));
    }
  }
}
