package dev.rnn.autograd.optim;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The builders' options: torch's defaults, and pinned messages for values out of range. */
class OptimizerOptionsTest {
  @Nested
  class ByDefault {
    static Stream<Arguments> defaults() {
      return Stream.of(
          Arguments.of("Sgd", (Supplier<Optimizer>) () -> Sgd.builder().build(params()),
              "Sgd(lr=0.001, momentum=0.0, dampening=0.0, nesterov=false, weightDecay=0.0)"),
          Arguments.of("Adam", (Supplier<Optimizer>) () -> Adam.builder().build(params()),
              "Adam(lr=0.001, betas=(0.9, 0.999), eps=1.0E-8, weightDecay=0.0, amsgrad=false)"),
          Arguments.of("AdamW", (Supplier<Optimizer>) () -> AdamW.builder().build(params()),
              "AdamW(lr=0.001, betas=(0.9, 0.999), eps=1.0E-8, weightDecay=0.01, amsgrad=false)"),
          Arguments.of("RmsProp", (Supplier<Optimizer>) () -> RmsProp.builder().build(params()),
              "RmsProp(lr=0.01, alpha=0.99, eps=1.0E-8, weightDecay=0.0, momentum=0.0, "
                  + "centered=false)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("defaults")
    void theOptionsAreTorchs(String name, Supplier<Optimizer> optimizer, String options) {
      assertEquals(options, optimizer.get().toString());
    }
  }

  @Nested
  class WhenAnOptionIsOutOfRange {
    static Stream<Arguments> badOptions() {
      return Stream.of(
          bad("Sgd lr -1", () -> Sgd.builder().lr(-1), "lr must be >= 0 but got -1.0"),
          bad("Sgd lr NaN", () -> Sgd.builder().lr(Double.NaN), "lr must be >= 0 but got NaN"),
          bad("Sgd momentum -0.5", () -> Sgd.builder().momentum(-0.5),
              "momentum must be >= 0 but got -0.5"),
          bad("Sgd dampening 7", () -> Sgd.builder().dampening(7),
              "dampening must be in [0, 1] but got 7.0"),
          bad("Sgd dampening -0.1", () -> Sgd.builder().dampening(-0.1),
              "dampening must be in [0, 1] but got -0.1"),
          bad("Sgd weightDecay -0.1", () -> Sgd.builder().weightDecay(-0.1),
              "weightDecay must be >= 0 but got -0.1"),
          bad("Adam lr -1", () -> Adam.builder().lr(-1), "lr must be >= 0 but got -1.0"),
          bad("Adam beta1 1", () -> Adam.builder().betas(1, 0.999),
              "beta1 must be in [0, 1) but got 1.0"),
          bad("Adam beta1 -0.1", () -> Adam.builder().betas(-0.1, 0.999),
              "beta1 must be in [0, 1) but got -0.1"),
          bad("Adam beta2 7", () -> Adam.builder().betas(0.9, 7),
              "beta2 must be in [0, 1) but got 7.0"),
          bad("Adam eps -1e-8", () -> Adam.builder().eps(-1e-8),
              "eps must be >= 0 but got -1.0E-8"),
          bad("Adam weightDecay -1", () -> Adam.builder().weightDecay(-1),
              "weightDecay must be >= 0 but got -1.0"),
          bad("AdamW lr -1", () -> AdamW.builder().lr(-1), "lr must be >= 0 but got -1.0"),
          bad("AdamW beta2 1", () -> AdamW.builder().betas(0.9, 1),
              "beta2 must be in [0, 1) but got 1.0"),
          bad("AdamW eps NaN", () -> AdamW.builder().eps(Double.NaN),
              "eps must be >= 0 but got NaN"),
          bad("AdamW weightDecay -0.01", () -> AdamW.builder().weightDecay(-0.01),
              "weightDecay must be >= 0 but got -0.01"),
          bad("RmsProp lr -1", () -> RmsProp.builder().lr(-1), "lr must be >= 0 but got -1.0"),
          bad("RmsProp alpha 7", () -> RmsProp.builder().alpha(7),
              "alpha must be in [0, 1] but got 7.0"),
          bad("RmsProp eps -1", () -> RmsProp.builder().eps(-1), "eps must be >= 0 but got -1.0"),
          bad("RmsProp weightDecay -0.1", () -> RmsProp.builder().weightDecay(-0.1),
              "weightDecay must be >= 0 but got -0.1"),
          bad("RmsProp momentum -0.9", () -> RmsProp.builder().momentum(-0.9),
              "momentum must be >= 0 but got -0.9"),
          // Infinite hyper-parameters put infinity or NaN into every weight at the first step.
          bad("Sgd lr Infinity", () -> Sgd.builder().lr(Double.POSITIVE_INFINITY),
              "lr must be finite but got Infinity"),
          bad("Sgd momentum Infinity", () -> Sgd.builder().momentum(Double.POSITIVE_INFINITY),
              "momentum must be finite but got Infinity"),
          bad("Sgd weightDecay Infinity",
              () -> Sgd.builder().weightDecay(Double.POSITIVE_INFINITY),
              "weightDecay must be finite but got Infinity"),
          bad("Adam lr Infinity", () -> Adam.builder().lr(Double.POSITIVE_INFINITY),
              "lr must be finite but got Infinity"),
          bad("Adam eps Infinity", () -> Adam.builder().eps(Double.POSITIVE_INFINITY),
              "eps must be finite but got Infinity"),
          bad("AdamW weightDecay Infinity",
              () -> AdamW.builder().weightDecay(Double.POSITIVE_INFINITY),
              "weightDecay must be finite but got Infinity"),
          bad("RmsProp lr Infinity", () -> RmsProp.builder().lr(Double.POSITIVE_INFINITY),
              "lr must be finite but got Infinity"),
          bad("RmsProp momentum Infinity",
              () -> RmsProp.builder().momentum(Double.POSITIVE_INFINITY),
              "momentum must be finite but got Infinity"),
          bad("setLearningRate Infinity", () -> Sgd.builder().build(List.of(
              new dev.rnn.core.Parameter("w", dev.rnn.core.Shape.of(1), dev.rnn.core.DType.FLOAT32)))
              .setLearningRate(Double.POSITIVE_INFINITY), "lr must be finite but got Infinity"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badOptions")
    void theSetterThrowsNamingTheOptionAndValue(String name, Executable setter, String message) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, setter);
      assertEquals(message, e.getMessage());
    }

    private static Arguments bad(String name, Executable setter, String message) {
      return Arguments.of(name, setter, message);
    }
  }

  @Nested
  class WhenNesterovMomentumIsAskedFor {
    static Stream<Arguments> conflicts() {
      return Stream.of(
          Arguments.of("without momentum", Sgd.builder().nesterov(true),
              "nesterov requires momentum > 0 and dampening = 0 but got momentum 0.0 and "
                  + "dampening 0.0"),
          Arguments.of("with dampening", Sgd.builder().momentum(0.9).dampening(0.1).nesterov(true),
              "nesterov requires momentum > 0 and dampening = 0 but got momentum 0.9 and "
                  + "dampening 0.1"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("conflicts")
    void buildFailsAsTorchDoes(String name, Sgd.Builder builder, String message) {
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> builder.build(params()));
      assertEquals(message, e.getMessage());
    }

    @Test
    void momentumWithoutDampeningBuilds() {
      Sgd sgd = Sgd.builder().lr(0.1).momentum(0.9).nesterov(true).build(params());
      assertAll(
          () -> assertEquals(0.1, sgd.learningRate()),
          () -> assertEquals(
              "Sgd(lr=0.1, momentum=0.9, dampening=0.0, nesterov=true, weightDecay=0.0)",
              sgd.toString()));
    }
  }

  private static List<Parameter> params() {
    return Quadratic.parameters(DType.FLOAT64);
  }
}
