package dev.rnn.dsl;

import static dev.rnn.dsl.Rnn.network;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.autograd.LossFunction;
import dev.rnn.autograd.optim.Sgd;
import dev.rnn.core.DType;
import dev.rnn.core.Tensor;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The trainer's losses: binary cross-entropy, class weights, the ignored target, sample weights
 * and a user's loss, against torch's numbers through a network whose output is its input, and
 * against each other in training, bit for bit where they must agree.
 *
 * <p>The numbers are those of {@code dev.rnn.autograd.LossTest} (torch 1.13.1, float64; the
 * script is in its class comment): the network {@code dense(F, F)} with identity weights and
 * zero biases outputs its input, so its logits are the arrays given there.
 */
class TrainerLossTest {
  static final double[] Z_BCE = {0.5, -1.2, 2.0, 0.1, -3.0, 0.7, 1.5, -0.4, -0.2, 4.0, 0.0, -2.5};
  static final double[] Y_BCE = {1, 0, 1, 0.3, 0, 1, 0, 0, 1, 1, 0.5, 0};
  static final double[] ROWS = {1, 0.5, 2, 0, 1, 3};
  static final double[] Z_CE = {0.5, -1.2, 0.3, 2.0, 2.0, 0.1, -0.7, 0.0, -3.0, 0.7, 1.1, -0.2,
      1.5, -0.4, 0.9, 0.2, -0.2, 4.0, 0.6, -1.0, 0.0, -2.5, 0.4, 1.3};
  static final double[] C = {3, 0, -100, 2, 1, 3};
  static final double TOL = 1e-15;

  /** {@code dense(f, f)}, identity weights, zero biases, float64: its output is its input. */
  static NetworkBuilder identity(int f) {
    return network().dense(f, f).init(Init.input(Init.identity(1)), Init.bias(Init.zeros()))
        .dtype(DType.FLOAT64);
  }

  private static void assertArgument(String message, Executable call) {
    assertEquals(message, assertThrows(IllegalArgumentException.class, call).getMessage());
  }

  private static void assertState(String message, Executable call) {
    assertEquals(message, assertThrows(IllegalStateException.class, call).getMessage());
  }

  @Nested
  class AgainstTorch {
    final Network ce = identity(4).build();
    final Network bce = identity(2).build();
    final Tensor z = Tensor.of(Z_CE, 2, 3, 4);
    final Tensor c = Tensor.of(C, 2, 3);

    @Test
    void crossEntropyWithClassWeightsIgnoredTargetsAndSampleWeights() {
      Trainer t = ce.trainer().loss(Trainer.Objective.CROSS_ENTROPY).classWeights(1, 2, 0.5, 3)
          .ignoreIndex(-100);
      assertAll(
          () -> assertEquals(0.39476607111764866, t.evaluate(z, c), TOL),
          () -> assertEquals(0.42407999080995357,
              t.evaluate(z, c, null, Tensor.of(ROWS, 2, 3)), TOL),
          () -> assertEquals(0.5068994986698159, ce.trainer()
              .loss(Trainer.Objective.CROSS_ENTROPY).ignoreIndex(-100).evaluate(z, c), TOL));
    }

    @Test
    void binaryCrossEntropyWithLogitsAndSampleWeights() {
      Trainer t = bce.trainer().loss(Trainer.Objective.BINARY_CROSS_ENTROPY);
      Tensor x = Tensor.of(Z_BCE, 2, 3, 2);
      Tensor y = Tensor.of(Y_BCE, 2, 3, 2);
      assertAll(
          () -> assertEquals(0.4861009804690402, t.evaluate(x, y), TOL),
          () -> assertEquals(0.34626454199011303, t.evaluate(x, y, null, Tensor.of(ROWS, 2, 3)),
              TOL),
          () -> assertEquals(3.3553333333333333, bce.trainer().loss(Trainer.Objective.MSE)
              .evaluate(x, y, null, Tensor.of(ROWS, 2, 3)), TOL));
    }

    @Test
    void aBatchFirstNetworkReadsTheSameNumbersTransposed() {
      Network bf = identity(4).batchFirst().build();
      Trainer t = bf.trainer().loss(Trainer.Objective.CROSS_ENTROPY).classWeights(1, 2, 0.5, 3)
          .ignoreIndex(-100);
      assertEquals(0.42407999080995357, t.evaluate(z.transpose(0, 1), c.transpose(0, 1), null,
          Tensor.of(ROWS, 2, 3).transpose(0, 1)), TOL);
    }

    @Test
    void oneSampleWeightPerSequenceIsThatWeightOnEachOfItsSteps() {
      Trainer t = ce.trainer().loss(Trainer.Objective.CROSS_ENTROPY).ignoreIndex(-100);
      Tensor perSequence = Tensor.of(new double[] {2, 0.5, 1}, 3);
      Tensor perStep = Tensor.of(new double[] {2, 0.5, 1, 2, 0.5, 1}, 2, 3);
      assertEquals(t.evaluate(z, c, null, perStep), t.evaluate(z, c, null, perSequence));
    }
  }

  @Nested
  class InTraining {
    final Tensor x = Tensor.randn(DType.FLOAT64, 5, 6, 7, 2);
    final Tensor classes;

    InTraining() {
      double[] k = new double[6 * 7];
      for (int i = 0; i < k.length; i++) {
        k[i] = i % 3;
      }
      classes = Tensor.of(k, 6, 7);
    }

    Network net() {
      return network().gru(2, 5).dense(5, 3).dtype(DType.FLOAT64).seed(8).build();
    }

    Trainer trainer(Network net) {
      return net.trainer().optimizer(p -> Sgd.builder().lr(0.1).build(p)).epochs(2)
          .batchSize(3).shuffle(4);
    }

    @Test
    void anIgnoredTargetTrainsAsAMaskedStepBitForBit() {
      double[] k = classes.toDoubleArray();
      double[] m = new double[k.length];
      for (int i = 0; i < k.length; i++) {
        m[i] = i % 5 == 0 ? 0 : 1;
        k[i] = i % 5 == 0 ? -100 : k[i];
      }
      Network a = net();
      Network b = net();
      trainer(a).loss(Trainer.Objective.CROSS_ENTROPY).fit(x, classes, Tensor.of(m, 6, 7));
      trainer(b).loss(Trainer.Objective.CROSS_ENTROPY).ignoreIndex(-100)
          .fit(x, Tensor.of(k, 6, 7));
      assertEquals(TrainerTest.snapshot(a), TrainerTest.snapshot(b));
    }

    @Test
    void sampleWeightsOfZeroAndOneTrainAsAMaskAndOnesAsNone() {
      // no batch all 0: a 0/1 mask that counts no step of a batch is refused
      double[] w = {1, 1, 0, 1, 0, 1, 1};
      double[] m = new double[6 * 7];
      for (int i = 0; i < m.length; i++) {
        m[i] = w[i % 7];
      }
      Network masked = net();
      Network weighted = net();
      Network plain = net();
      Network ones = net();
      trainer(masked).loss(Trainer.Objective.CROSS_ENTROPY).fit(x, classes, Tensor.of(m, 6, 7));
      trainer(weighted).loss(Trainer.Objective.CROSS_ENTROPY)
          .fit(x, classes, null, Tensor.of(w, 7));
      trainer(plain).loss(Trainer.Objective.CROSS_ENTROPY).fit(x, classes);
      trainer(ones).loss(Trainer.Objective.CROSS_ENTROPY)
          .fit(x, classes, null, Tensor.full(DType.FLOAT64, 1, 7));
      assertAll(
          () -> assertEquals(TrainerTest.snapshot(masked), TrainerTest.snapshot(weighted)),
          () -> assertEquals(TrainerTest.snapshot(plain), TrainerTest.snapshot(ones)));
    }

    @Test
    void classWeightsChangeTheTrainingAndOnesDoNot() {
      Network plain = net();
      Network ones = net();
      Network weighted = net();
      trainer(plain).loss(Trainer.Objective.CROSS_ENTROPY).fit(x, classes);
      trainer(ones).loss(Trainer.Objective.CROSS_ENTROPY).classWeights(1, 1, 1).fit(x, classes);
      trainer(weighted).loss(Trainer.Objective.CROSS_ENTROPY).classWeights(1, 5, 1)
          .fit(x, classes);
      assertAll(
          () -> assertEquals(TrainerTest.snapshot(plain), TrainerTest.snapshot(ones)),
          () -> assertTrue(!TrainerTest.snapshot(plain).equals(TrainerTest.snapshot(weighted))));
    }

    @Test
    void aBatchWhoseClassesAllWeighZeroTakesNoUpdate() {
      double[] k = classes.toDoubleArray(); // [6 steps, 7 sequences]
      for (int i = 0; i < k.length; i++) {
        k[i] = i % 7 < 3 ? 0 : k[i];       // sequences 0-2, the first batch, are all class 0
      }
      Trainer.Report r = net().trainer().loss(Trainer.Objective.CROSS_ENTROPY)
          .classWeights(0, 1, 1).batchSize(3).fit(x, Tensor.of(k, 6, 7));
      assertEquals(2, r.steps(), "batches 2 and 3 of 3");
    }

    @Test
    void aUsersMeanSquaredErrorTrainsAsMse() {
      LossFunction squares = new LossFunction() {
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
      Tensor y = Tensor.randn(DType.FLOAT64, 6, 6, 7, 3);
      Network a = net();
      Network b = net();
      trainer(a).loss(Trainer.Objective.MSE).fit(x, y);
      Trainer.Report r = trainer(b).lossFunction(squares).fit(x, y);
      Map<String, Tensor> sa = TrainerTest.snapshot(a);
      Map<String, Tensor> sb = TrainerTest.snapshot(b);
      assertAll(
          () -> sa.forEach((name, v) -> assertTrue(v.maxAbsDiff(sb.get(name)) < 1e-12, name)),
          () -> assertEquals(a.trainer().loss(Trainer.Objective.MSE).evaluate(x, y),
              b.trainer().lossFunction(squares).evaluate(x, y), 1e-14),
          () -> assertEquals(6, r.steps(), "2 epochs of 3 batches"));
    }

    @Test
    void binaryCrossEntropyLearnsTheSignOfEachStep() {
      Network net = network().lstm(1, 8).dense(8, 1).seed(2).build();
      Tensor in = TrainerTest.inputs(3, 10, 64);
      float[] y = new float[in.size()];
      for (int i = 0; i < y.length; i++) {
        y[i] = in.at(i) > 0 ? 1 : 0;
      }
      Trainer.Report r = net.trainer().loss(Trainer.Objective.BINARY_CROSS_ENTROPY)
          .optimizer(p -> dev.rnn.autograd.optim.Adam.builder().lr(0.05).build(p))
          .epochs(15).batchSize(16).fit(in, Tensor.of(y, 10, 64, 1));
      assertTrue(r.finalLoss() < 0.3 * r.epochLosses().get(0), r.epochLosses().toString());
    }
  }

  @Nested
  class WhenMisused {
    final Network net = network().lstm(2, 4).dense(4, 3).build();
    final Tensor x = Tensor.zeros(DType.FLOAT32, 5, 6, 2);
    final Tensor classes = Tensor.zeros(DType.FLOAT32, 5, 6);

    @Test
    void badWeightsAndTargetsNameWhatIsWrong() {
      float[] bad = new float[30];
      bad[17] = 5;
      float[] two = new float[90];
      two[3 * 18 + 2] = 2;
      assertAll(
          () -> assertArgument("classWeights expected 3 weights, one per class (the output size"
              + " of lstm(2, 4).dense(4, 3)), but got 2", () -> net.trainer().classWeights(1, 2)),
          () -> assertArgument("classWeights expected weights >= 0 but class 1 has -1.0",
              () -> net.trainer().classWeights(1, -1, 1)),
          () -> assertArgument("fit expected class indices in [0, 3) or the ignored -100 (the"
                  + " output size of lstm(2, 4).dense(4, 3)) but targets[2, 5] is 5.0",
              () -> net.trainer().loss(Trainer.Objective.CROSS_ENTROPY).ignoreIndex(-100)
                  .fit(x, Tensor.of(bad, 5, 6))),
          () -> assertArgument("fit expected targets in [0, 1] for BINARY_CROSS_ENTROPY but"
                  + " targets[3, 0, 2] is 2.0",
              () -> net.trainer().loss(Trainer.Objective.BINARY_CROSS_ENTROPY)
                  .fit(x, Tensor.of(two, 5, 6, 3))),
          () -> assertArgument("fit expected sample weights of shape [6] (one per sequence) or"
                  + " [5, 6] ([seq, batch], one per step) but got [6, 5]"
                  + TrainerTest.WhenShapesDoNotFit.TIME_MAJOR,
              () -> net.trainer().loss(Trainer.Objective.CROSS_ENTROPY)
                  .fit(x, classes, null, Tensor.zeros(DType.FLOAT32, 6, 5))),
          () -> assertArgument("fit expected sample weights >= 0 but sampleWeights[2] is -1.0",
              () -> net.trainer().loss(Trainer.Objective.CROSS_ENTROPY)
                  .fit(x, classes, null, Tensor.of(new double[] {1, 1, -1, 1, 1, 1}, 6))),
          () -> assertArgument("fit expected targets of shape [seq, batch, F_t] (targets for the"
                  + " loss function on every step) but got [5]"
                  + TrainerTest.WhenShapesDoNotFit.TIME_MAJOR,
              () -> net.trainer().lossFunction(new LossFunction() {
                @Override public double value(double[] y, double[] t) {
                  return 0;
                }

                @Override public double[] gradient(double[] y, double[] t) {
                  return new double[y.length];
                }
              }).fit(x, Tensor.zeros(DType.FLOAT32, 5))));
    }

    @Test
    void optionsThatDoNotFitTheLossOrAreSetTwiceAreRefused() {
      LossFunction none = new LossFunction() {
        @Override public double value(double[] y, double[] t) {
          return 0;
        }

        @Override public double[] gradient(double[] y, double[] t) {
          return new double[y.length];
        }
      };
      assertAll(
          () -> assertState("fit: classWeights(...) applies to"
                  + " loss(Trainer.Objective.CROSS_ENTROPY), but the loss is MSE",
              () -> net.trainer().loss(Trainer.Objective.MSE).classWeights(1, 1, 1)
                  .fit(x, Tensor.zeros(DType.FLOAT32, 5, 6, 3))),
          () -> assertState("evaluate: ignoreIndex(-100) applies to"
                  + " loss(Trainer.Objective.CROSS_ENTROPY), but the loss is BINARY_CROSS_ENTROPY",
              () -> net.trainer().ignoreIndex(-100).loss(Trainer.Objective.BINARY_CROSS_ENTROPY)
                  .evaluate(x, Tensor.zeros(DType.FLOAT32, 5, 6, 3))),
          () -> assertState("fit: ignoreIndex(-1) applies to"
                  + " loss(Trainer.Objective.CROSS_ENTROPY), but the loss is a LossFunction",
              () -> net.trainer().lossFunction(none).ignoreIndex(-1)
                  .fit(x, Tensor.zeros(DType.FLOAT32, 5, 6, 3))),
          () -> assertState("loss was already set to a LossFunction (lossFunction(...))",
              () -> net.trainer().lossFunction(none).loss(Trainer.Objective.MSE)),
          () -> assertState("loss was already set to MSE",
              () -> net.trainer().loss(Trainer.Objective.MSE).lossFunction(none)),
          () -> assertState("ignoreIndex was already set to -100",
              () -> net.trainer().ignoreIndex(-100).ignoreIndex(-1)),
          () -> assertState("classWeights was already set to [1.0, 1.0, 1.0]",
              () -> net.trainer().classWeights(1, 1, 1).classWeights(1, 2, 1)));
    }
  }
}
