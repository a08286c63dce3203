package dev.rnn.dsl;

import static dev.rnn.dsl.Rnn.network;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.core.Activation;
import dev.rnn.core.DType;
import dev.rnn.core.LstmCell;
import dev.rnn.core.Parameter;
import dev.rnn.core.Scan;
import dev.rnn.core.Shape;
import dev.rnn.core.Tensor;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Initializers: torch's default as before, each rule's statistics against its formula, exact
 * orthogonality and identity, the forget-gate bias in torch's two biases, layer assignments over
 * the network's initializer, seeded reproducibility and the fail-fast messages.
 */
class InitializerTest {
  private static void assertMessage(Class<? extends Throwable> type, String message,
      Executable call) {
    assertEquals(message, assertThrows(type, call).getMessage());
  }

  /** The elements of {@code t} as {@code [rows, cols]}, in double. */
  private static double[][] matrix(Tensor t) {
    int rows = t.dim(0);
    int cols = t.size() / rows;
    double[][] m = new double[rows][cols];
    for (int i = 0; i < t.size(); i++) {
      m[i / cols][i % cols] = t.at(i);
    }
    return m;
  }

  /** The largest {@code |(A^T A - g^2 I)_ij|} over the {@code cols x cols} Gram matrix. */
  private static double columnGramError(double[][] a, double gain) {
    int cols = a[0].length;
    double worst = 0;
    for (int i = 0; i < cols; i++) {
      for (int j = 0; j < cols; j++) {
        double dot = 0;
        for (double[] row : a) {
          dot += row[i] * row[j];
        }
        worst = Math.max(worst, Math.abs(dot - (i == j ? gain * gain : 0)));
      }
    }
    return worst;
  }

  private static double[][] transpose(double[][] a) {
    double[][] t = new double[a[0].length][a.length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[0].length; j++) {
        t[j][i] = a[i][j];
      }
    }
    return t;
  }

  @Nested
  class TorchsDefault {
    @Test
    void drawsAsBeforeFromTheSeedInParameterOrder() {
      Network net = network().lstm(3, 4).dense(4, 2).seed(5).build();
      Random rnd = new Random(5);
      Scan scan = new Scan(new LstmCell(3, 4), Scan.Direction.of(false), "_l0", DType.FLOAT32,
          Scan.Biases.BOTH);
      scan.initialize(rnd);
      Parameter w = new Parameter("w", Shape.of(2, 4), DType.FLOAT32);
      Parameter b = new Parameter("b", Shape.of(2), DType.FLOAT32);
      w.fillUniform(rnd, 0.5);
      b.fillUniform(rnd, 0.5);
      assertAll(
          () -> assertEquals(scan.parameters().get(0).value(), net.parameter("weight_ih_l0")),
          () -> assertEquals(scan.parameters().get(1).value(), net.parameter("weight_hh_l0")),
          () -> assertEquals(scan.parameters().get(2).value(), net.parameter("bias_ih_l0")),
          () -> assertEquals(scan.parameters().get(3).value(), net.parameter("bias_hh_l0")),
          () -> assertEquals(w.value(), net.parameter("dense0.weight")),
          () -> assertEquals(b.value(), net.parameter("dense0.bias")),
          () -> assertEquals(Initializer.torchDefault(0).toString(),
              "torchDefault(0)"));
    }

    @Test
    void isTheDefaultAndEqualsItsExplicitForm() {
      Network implicit = network().gru(2, 3).dense(3, 1).build();
      Network explicit = network().gru(2, 3).dense(3, 1)
          .initializer(Initializer.torchDefault(0).with(Init.input(Init.torchDefault()),
              Init.recurrent(Init.torchDefault()), Init.bias(Init.torchDefault())))
          .build();
      implicit.namedParameters().forEach((name, p) ->
          assertEquals(p.value(), explicit.parameter(name), name));
    }
  }

  @Nested
  class Statistics {
    /**
     * The mean and variance of {@code t} against 0 and {@code variance}, within 5 standard
     * errors: {@code sqrt(variance / n)} for the mean, {@code sqrt((m4 - variance^2) / n)} for
     * the variance, with {@code m4} the fourth central moment of the distribution.
     */
    private void assertMoments(Tensor t, double variance, double m4) {
      int n = t.size();
      double mean = t.sum() / n;
      double ss = 0;
      for (int i = 0; i < n; i++) {
        ss += (t.at(i) - mean) * (t.at(i) - mean);
      }
      double var = ss / (n - 1);
      double meanError = 5 * Math.sqrt(variance / n);
      double varError = 5 * Math.sqrt((m4 - variance * variance) / n);
      assertAll(
          () -> assertTrue(Math.abs(mean) < meanError, "mean " + mean + " > " + meanError),
          () -> assertTrue(Math.abs(var - variance) < varError,
              "variance " + var + " differs from " + variance + " by more than " + varError));
    }

    private void assertUniform(Tensor t, double bound) {
      double v = bound * bound / 3;
      assertMoments(t, v, Math.pow(bound, 4) / 5);
      for (int i = 0; i < t.size(); i++) {
        assertTrue(Math.abs(t.at(i)) <= bound, "element " + i + " = " + t.at(i) + " > " + bound);
      }
    }

    private void assertNormal(Tensor t, double std) {
      double v = std * std;
      assertMoments(t, v, 3 * v * v);
    }

    /** lstm(300, 200): weight_ih [800, 300], weight_hh [800, 200]; dense(200, 500). */
    private Network build(Init input, Init recurrent, Init bias) {
      return network().lstm(300, 200).init(Init.input(input), Init.recurrent(recurrent),
          Init.bias(bias)).dense(200, 500).init(Init.input(input), Init.bias(bias))
          .dtype(DType.FLOAT64).seed(11).build();
    }

    @Test
    void glorotUniformIsUniformInSqrtSixOverFanInPlusFanOut() {
      Network net = build(Init.glorotUniform(), Init.glorotUniform(), Init.zeros());
      assertAll(
          () -> assertUniform(net.parameter("weight_ih_l0"), Math.sqrt(6.0 / (300 + 800))),
          () -> assertUniform(net.parameter("weight_hh_l0"), Math.sqrt(6.0 / (200 + 800))),
          () -> assertUniform(net.parameter("dense0.weight"), Math.sqrt(6.0 / (200 + 500))),
          () -> assertEquals(Tensor.zeros(DType.FLOAT64, 800), net.parameter("bias_ih_l0")));
    }

    @Test
    void glorotNormalHasVarianceTwoOverFanInPlusFanOut() {
      Network net = build(Init.glorotNormal(), Init.glorotNormal(), Init.zeros());
      assertAll(
          () -> assertNormal(net.parameter("weight_ih_l0"), Math.sqrt(2.0 / (300 + 800))),
          () -> assertNormal(net.parameter("weight_hh_l0"), Math.sqrt(2.0 / (200 + 800))),
          () -> assertNormal(net.parameter("dense0.weight"), Math.sqrt(2.0 / (200 + 500))));
    }

    @Test
    void heUniformAndNormalFollowTheFanIn() {
      Network u = build(Init.heUniform(), Init.heUniform(), Init.zeros());
      Network n = build(Init.heNormal(), Init.heNormal(), Init.zeros());
      assertAll(
          () -> assertUniform(u.parameter("weight_ih_l0"), Math.sqrt(6.0 / 300)),
          () -> assertUniform(u.parameter("weight_hh_l0"), Math.sqrt(6.0 / 200)),
          () -> assertUniform(u.parameter("dense0.weight"), Math.sqrt(6.0 / 200)),
          () -> assertNormal(n.parameter("weight_ih_l0"), Math.sqrt(2.0 / 300)),
          () -> assertNormal(n.parameter("weight_hh_l0"), Math.sqrt(2.0 / 200)),
          () -> assertNormal(n.parameter("dense0.weight"), Math.sqrt(2.0 / 200)));
    }

    @Test
    void uniformNormalAndTorchDefaultHaveTheirWidths() {
      Network net = build(Init.uniform(0.3), Init.normal(0.05), Init.normal(0.2));
      Network torch = build(Init.torchDefault(), Init.torchDefault(), Init.torchDefault());
      assertAll(
          () -> assertUniform(net.parameter("weight_ih_l0"), 0.3),
          () -> assertNormal(net.parameter("weight_hh_l0"), 0.05),
          () -> assertNormal(net.parameter("bias_hh_l0"), 0.2),
          () -> assertUniform(torch.parameter("weight_hh_l0"), 1 / Math.sqrt(200)),
          () -> assertUniform(torch.parameter("bias_ih_l0"), 1 / Math.sqrt(200)),
          () -> assertUniform(torch.parameter("dense0.weight"), 1 / Math.sqrt(200)));
    }
  }

  @Nested
  class OrthogonalAndIdentity {
    @ParameterizedTest
    @EnumSource(DType.class)
    void orthogonalIsOrthogonalToOneInAMillion(DType dtype) {
      // lstm's weight_hh [4H, H]: orthonormal columns; dense(30, 10) [10, 30]: orthonormal rows
      Network net = network().lstm(16, 64).init(Init.recurrent(Init.orthogonal()))
          .dense(64, 20).init(Init.input(Init.orthogonal(2)))
          .elman(20, 20, Activation.TANH).init(Init.recurrent(Init.orthogonal()))
          .dtype(dtype).seed(3).build();
      double tol = dtype == DType.FLOAT64 ? 1e-12 : 1e-6;
      double[][] lstm = matrix(net.parameter("weight_hh_l0"));
      double[][] dense = matrix(net.parameter("dense0.weight"));
      double[][] square = matrix(net.parameter("weight_hh_l1"));
      assertAll(
          () -> assertTrue(columnGramError(lstm, 1) < tol, "W^T W - I: " + columnGramError(lstm, 1)),
          () -> assertTrue(columnGramError(transpose(dense), 2) < 4 * tol,
              "W W^T - 4 I: " + columnGramError(transpose(dense), 2)),
          () -> assertTrue(columnGramError(square, 1) < tol, "square W^T W - I"),
          () -> assertTrue(columnGramError(transpose(square), 1) < tol, "square W W^T - I"));
    }

    @Test
    void identityPutsTheGainOnTheDiagonalOfEachGateBlock() {
      Network net = network().elman(2, 3, Activation.RELU)
          .init(Init.recurrent(Init.identity(1)), Init.input(Init.identity(0.5)))
          .gru(3, 2).init(Init.recurrent(Init.identity(2)))
          .dtype(DType.FLOAT64).build();
      assertAll(
          () -> assertEquals(Tensor.ofRows(new double[][] {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}),
              net.parameter("weight_hh_l0")),
          () -> assertEquals(Tensor.ofRows(new double[][] {{0.5, 0}, {0, 0.5}, {0, 0}}),
              net.parameter("weight_ih_l0")),
          () -> assertEquals(Tensor.ofRows(new double[][] {{2, 0}, {0, 2}, {2, 0}, {0, 2}, {2, 0},
              {0, 2}}), net.parameter("weight_hh_l1")));
    }

    @Test
    void anIrnnWithZeroInputKeepsItsState() {
      // Le, Jaitly & Hinton 2015: h_t = relu(W_ih x_t + I h_{t-1} + 0) carries h unchanged
      Network irnn = network().elman(2, 4, Activation.RELU)
          .init(Init.recurrent(Init.identity(1)), Init.input(Init.normal(0.001)),
              Init.bias(Init.zeros()))
          .dtype(DType.FLOAT64).seed(1).build();
      State h0 = State.of(java.util.Map.of("h_l0",
          Tensor.ofRows(new double[][] {{0.5, 1, 2, 3}})));
      Network.Result r = irnn.forward(Tensor.zeros(DType.FLOAT64, 150, 1, 2), h0);
      assertEquals(h0.get("h_l0"), r.state().get("h_l0"));
    }
  }

  @Nested
  class ForgetGateBias {
    @Test
    void goesToTheForgetBlockOfBiasIhWithBiasHhsBlockZeroSoTheirSumIsTheValue() {
      Network plain = network().lstm(2, 3).bidirectional().dtype(DType.FLOAT64).seed(4).build();
      Network net = network().lstm(2, 3).bidirectional().init(Init.forgetBias(1))
          .dtype(DType.FLOAT64).seed(4).build();
      for (String sfx : new String[] {"_l0", "_l0_reverse"}) {
        double[] ih = plain.parameter("bias_ih" + sfx).toDoubleArray();
        double[] hh = plain.parameter("bias_hh" + sfx).toDoubleArray();
        for (int j = 3; j < 6; j++) {
          ih[j] = 1;
          hh[j] = 0;
        }
        assertAll(
            () -> assertEquals(Tensor.of(ih, 12), net.parameter("bias_ih" + sfx), sfx),
            () -> assertEquals(Tensor.of(hh, 12), net.parameter("bias_hh" + sfx), sfx),
            () -> assertEquals(plain.parameter("weight_hh" + sfx),
                net.parameter("weight_hh" + sfx), "the draws are those of torch's default"));
      }
    }

    @Test
    void kerasDefaultsAreGlorotOrthogonalZeroBiasAndForgetBiasOne() {
      Network keras = network().lstm(3, 4).peepholes().gru(4, 4).dense(4, 2)
          .initializer(Initializer.kerasDefaults(9)).dtype(DType.FLOAT64).build();
      Network spelled = network().lstm(3, 4).peepholes().gru(4, 4).dense(4, 2)
          .initializer(Initializer.torchDefault(9).with(Init.input(Init.glorotUniform()),
              Init.recurrent(Init.orthogonal()), Init.bias(Init.zeros()), Init.forgetBias(1)))
          .dtype(DType.FLOAT64).build();
      assertAll(
          () -> assertEquals(Tensor.of(new double[] {0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0,
              0}, 16), keras.parameter("bias_ih_l0")),
          () -> assertEquals(Tensor.zeros(DType.FLOAT64, 16), keras.parameter("bias_hh_l0")),
          () -> assertEquals(Tensor.zeros(DType.FLOAT64, 12), keras.parameter("bias_ih_l1"),
              "a GRU has no forget gate"),
          () -> assertEquals(Tensor.zeros(DType.FLOAT64, 2), keras.parameter("dense0.bias")),
          () -> assertTrue(columnGramError(matrix(keras.parameter("weight_hh_l0")), 1) < 1e-12),
          () -> assertEquals("kerasDefaults(9)", Initializer.kerasDefaults(9).toString()));
      keras.namedParameters().forEach((name, p) ->
          assertEquals(p.value(), spelled.parameter(name), name));
    }

    @Test
    void aNetworkWideForgetBiasLeavesLayersWithoutBiasesOrForgetGatesAlone() {
      Network net = network().lstm(2, 3).noBias().gru(3, 3).elman(3, 2, Activation.TANH)
          .initializer(Initializer.constant(0.5, 0.25).with(Init.forgetBias(7))).build();
      assertAll(
          () -> assertEquals(Tensor.full(DType.FLOAT32, 0.25, 9), net.parameter("bias_ih_l1")),
          () -> assertEquals(Tensor.full(DType.FLOAT32, 0.25, 2), net.parameter("bias_hh_l2")),
          () -> assertEquals(Tensor.full(DType.FLOAT32, 0.5, 12, 3),
              net.parameter("weight_hh_l0")));
    }
  }

  @Nested
  class LayerAssignments {
    @Test
    void replaceOnlyTheirKindsOnTheirLayer() {
      Initializer base = Initializer.constant(1, 0);
      Network net = network().lstm(2, 3).init(Init.recurrent(Init.constant(3)))
          .dense(3, 2).init(Init.bias(Init.constant(-1))).gru(2, 2)
          .initializer(base).build();
      assertAll(
          () -> assertEquals(Tensor.full(DType.FLOAT32, 1, 12, 2), net.parameter("weight_ih_l0")),
          () -> assertEquals(Tensor.full(DType.FLOAT32, 3, 12, 3), net.parameter("weight_hh_l0")),
          () -> assertEquals(Tensor.full(DType.FLOAT32, 0, 12), net.parameter("bias_ih_l0")),
          () -> assertEquals(Tensor.full(DType.FLOAT32, 1, 2, 3), net.parameter("dense0.weight")),
          () -> assertEquals(Tensor.full(DType.FLOAT32, -1, 2), net.parameter("dense0.bias")),
          () -> assertEquals(Tensor.full(DType.FLOAT32, 1, 6, 2), net.parameter("weight_hh_l1")));
    }

    @Test
    void followTheModifiersOfTheirLayerInEitherOrder() {
      Supplier<NetworkBuilder> a = () -> network().lstm(2, 3)
          .init(Init.recurrent(Init.orthogonal())).bidirectional().peepholes();
      Supplier<NetworkBuilder> b = () -> network().lstm(2, 3).bidirectional()
          .init(Init.recurrent(Init.orthogonal())).peepholes();
      Network x = a.get().seed(2).build();
      Network y = b.get().seed(2).build();
      x.namedParameters().forEach((name, p) -> assertEquals(p.value(), y.parameter(name), name));
    }
  }

  @Nested
  class Reproducibility {
    private Network build(Initializer init) {
      return network().lstm(3, 5).init(Init.recurrent(Init.orthogonal()))
          .gru(5, 4).init(Init.input(Init.heNormal())).dense(4, 2)
          .init(Init.input(Init.glorotNormal())).initializer(init).build();
    }

    @Test
    void equalSeedsGiveEqualNetworksAndOtherSeedsOthers() {
      Network a = build(Initializer.kerasDefaults(21));
      Network b = build(Initializer.kerasDefaults(21));
      Network c = build(Initializer.kerasDefaults(22));
      a.namedParameters().forEach((name, p) -> {
        assertEquals(p.value(), b.parameter(name), name);
        if (!name.startsWith("bias") && !name.endsWith("bias")) {
          assertNotEquals(p.value(), c.parameter(name), name);
        }
      });
    }
  }

  @Nested
  class FailsFast {
    @Test
    void anAssignmentToAKindTheLayerDoesNotHaveIsRefusedWhereItIsWritten() {
      assertAll(
          () -> assertMessage(IllegalStateException.class,
              "init(Init.recurrent(orthogonal(1.0))) must follow a recurrent or dense layer but"
                  + " follows relu()",
              () -> network().lstm(2, 3).relu().init(Init.recurrent(Init.orthogonal()))),
          () -> assertMessage(IllegalStateException.class,
              "init(Init.input(glorotUniform())) must follow a recurrent or dense layer but"
                  + " follows nothing",
              () -> network().init(Init.input(Init.glorotUniform()))),
          () -> assertMessage(IllegalStateException.class,
              "init(Init.recurrent(orthogonal(1.0))): dense(2, 3) has no recurrent weights",
              () -> network().dense(2, 3).init(Init.recurrent(Init.orthogonal()))),
          () -> assertMessage(IllegalStateException.class,
              "init(Init.forgetBias(1.0)): gru(2, 3) has no forget gate (only lstm has one)",
              () -> network().gru(2, 3).init(Init.forgetBias(1))),
          () -> assertMessage(IllegalStateException.class,
              "init(Init.forgetBias(1.0)): dense(2, 3) has no forget gate (only lstm has one)",
              () -> network().dense(2, 3).init(Init.forgetBias(1))),
          () -> assertMessage(IllegalStateException.class,
              "init(Init.bias(constant(0.0))): lstm(2, 3).noBias() has no biases",
              () -> network().lstm(2, 3).noBias().init(Init.bias(Init.zeros()))),
          () -> assertMessage(IllegalStateException.class,
              "noBias() removes the biases that Init.forgetBias(1.0) set on lstm(2, 3)",
              () -> network().lstm(2, 3).init(Init.forgetBias(1)).noBias()));
    }

    @Test
    void aKindSetTwiceOnALayerNamesWhatSetItFirst() {
      assertAll(
          () -> assertMessage(IllegalStateException.class,
              "the recurrent weights of layer 1, lstm(2, 3) were already set by"
                  + " Init.recurrent(orthogonal(1.0))",
              () -> network().lstm(2, 3).init(Init.recurrent(Init.orthogonal()))
                  .init(Init.recurrent(Init.identity(1)))),
          () -> assertMessage(IllegalStateException.class,
              "the biases of layer 2, dense(3, 1) were already set by Init.bias(constant(0.0))",
              () -> network().lstm(2, 3).dense(3, 1)
                  .init(Init.bias(Init.zeros()), Init.bias(Init.constant(1)))),
          () -> assertMessage(IllegalStateException.class,
              "the initializer was already set to kerasDefaults(1)",
              () -> network().initializer(Initializer.kerasDefaults(1)).seed(2)));
    }

    @Test
    void badRulesAndAssignmentsAreBadArguments() {
      assertAll(
          () -> assertMessage(IllegalArgumentException.class,
              "Init.bias expected a rule for a vector (torchDefault, constant, zeros, uniform,"
                  + " normal) but got orthogonal(1.0), which needs a matrix",
              () -> Init.bias(Init.orthogonal())),
          () -> assertMessage(IllegalArgumentException.class,
              "Init.bias expected a rule for a vector (torchDefault, constant, zeros, uniform,"
                  + " normal) but got glorotUniform(), which needs a matrix",
              () -> Init.bias(Init.glorotUniform())),
          () -> assertMessage(IllegalArgumentException.class,
              "with got the recurrent weights twice: Init.recurrent(orthogonal(1.0)) and"
                  + " Init.recurrent(identity(1.0))",
              () -> Initializer.torchDefault(1).with(Init.recurrent(Init.orthogonal()),
                  Init.recurrent(Init.identity(1)))),
          () -> assertMessage(IllegalArgumentException.class,
              "orthogonal expected a finite gain but got NaN", () -> Init.orthogonal(Double.NaN)),
          () -> assertMessage(IllegalArgumentException.class,
              "uniform expected a positive finite bound but got 0.0", () -> Init.uniform(0)),
          () -> assertMessage(IllegalArgumentException.class,
              "normal expected a positive finite standard deviation but got -1.0",
              () -> Init.normal(-1)),
          () -> assertMessage(IllegalArgumentException.class,
              "forgetBias expected a finite value but got Infinity",
              () -> Init.forgetBias(Double.POSITIVE_INFINITY)));
    }

    @Test
    void initializersPrintAsWritten() {
      assertAll(
          () -> assertEquals("torchDefault(1).with(Init.recurrent(orthogonal(1.0)),"
                  + " Init.forgetBias(1.0))",
              Initializer.torchDefault(1).with(Init.recurrent(Init.orthogonal()),
                  Init.forgetBias(1)).toString()),
          () -> assertEquals("constant(1.0, 0.0)", Initializer.constant(1, 0).toString()),
          () -> assertEquals(Init.orthogonal(), Init.orthogonal(1)),
          () -> assertEquals(Init.zeros(), Init.constant(0)));
    }
  }
}
