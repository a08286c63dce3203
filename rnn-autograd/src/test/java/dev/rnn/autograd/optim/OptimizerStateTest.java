package dev.rnn.autograd.optim;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Shape;
import dev.rnn.core.Tensor;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The optimizer state as a value: exported by {@code state()}, continued by {@code restore}. */
class OptimizerStateTest {
  /**
   * Each optimizer, with and without its optional state, as a fresh builder's {@code build}; the
   * state tensor names and the step count after three steps.
   */
  static Stream<Arguments> optimizers() {
    return Stream.of(
        Arguments.of("Sgd", (Supplier<Function<List<Parameter>, Optimizer>>)
            () -> Sgd.builder().lr(0.1)::build, List.of(), 3),
        Arguments.of("Sgd with Nesterov momentum", (Supplier<Function<List<Parameter>, Optimizer>>)
            () -> Sgd.builder().lr(0.1).momentum(0.9).nesterov(true).weightDecay(0.01)::build,
            List.of("momentum_buffer"), 3),
        Arguments.of("Sgd with dampened momentum", (Supplier<Function<List<Parameter>, Optimizer>>)
            () -> Sgd.builder().lr(0.1).momentum(0.9).dampening(0.5)::build,
            List.of("momentum_buffer"), 3),
        Arguments.of("Adam", (Supplier<Function<List<Parameter>, Optimizer>>)
            () -> Adam.builder().lr(0.1).weightDecay(0.1)::build,
            List.of("exp_avg", "exp_avg_sq"), 3),
        Arguments.of("Adam amsgrad", (Supplier<Function<List<Parameter>, Optimizer>>)
            () -> Adam.builder().lr(0.1).amsgrad(true)::build,
            List.of("exp_avg", "exp_avg_sq", "max_exp_avg_sq"), 3),
        Arguments.of("AdamW amsgrad", (Supplier<Function<List<Parameter>, Optimizer>>)
            () -> AdamW.builder().lr(0.1).amsgrad(true)::build,
            List.of("exp_avg", "exp_avg_sq", "max_exp_avg_sq"), 3),
        Arguments.of("RmsProp", (Supplier<Function<List<Parameter>, Optimizer>>)
            () -> RmsProp.builder().lr(0.01)::build, List.of("square_avg"), 3),
        Arguments.of("RmsProp centered with momentum",
            (Supplier<Function<List<Parameter>, Optimizer>>)
            () -> RmsProp.builder().lr(0.01).momentum(0.9).centered(true).weightDecay(0.1)::build,
            List.of("square_avg", "momentum_buffer", "grad_avg"), 3));
  }

  @Nested
  class WhenExported {
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.autograd.optim.OptimizerStateTest#optimizers")
    void theStateHasTorchsNamesAndTheStepCountOfTheRule(String name,
        Supplier<Function<List<Parameter>, Optimizer>> builder, List<String> tensors,
        int steps) {
      List<Parameter> params = Quadratic.parameters(DType.FLOAT32, DType.FLOAT64);
      Optimizer optimizer = builder.get().apply(params);
      Quadratic.descend(optimizer, 3, null);
      OptimizerState state = optimizer.state();
      OptimizerState.ParameterState bias = state.parameter("bias");
      assertAll(
          () -> assertEquals(name.split(" ")[0], state.optimizer()),
          () -> assertEquals(steps, state.steps()),
          () -> assertEquals(List.of("weight", "bias"),
              state.parameters().stream().map(OptimizerState.ParameterState::name).toList()),
          () -> assertEquals(tensors, List.copyOf(bias.tensors().keySet())),
          () -> assertEquals(Shape.of(3), bias.shape()),
          () -> assertEquals(DType.FLOAT64, bias.dtype()),
          () -> assertEquals(DType.FLOAT32, state.parameter("weight").dtype()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.autograd.optim.OptimizerStateTest#optimizers")
    void theStateIsACopyThatLaterStepsLeaveAlone(String name,
        Supplier<Function<List<Parameter>, Optimizer>> builder) {
      Optimizer optimizer = builder.get().apply(Quadratic.parameters(DType.FLOAT64));
      Quadratic.descend(optimizer, 2, null);
      OptimizerState state = optimizer.state();
      OptimizerState again = optimizer.state();
      Quadratic.descend(optimizer, 2, null);
      assertEquals(again, state);
    }

    @Test
    void adamsMomentsAreThoseOfItsFirstStep() {
      // After one step from zero moments: m = (1 - beta1) g, v = (1 - beta2) g^2.
      List<Parameter> params = Quadratic.parameters(DType.FLOAT64);
      Optimizer adam = Adam.builder().betas(0.5, 0.75).build(params);
      Quadratic.backward(params);
      Tensor g = params.get(1).gradient();
      adam.step();
      OptimizerState.ParameterState bias = adam.state().parameter("bias");
      assertAll(
          () -> assertEquals(g.scale(0.5), bias.tensors().get("exp_avg")),
          () -> assertEquals(g.mul(g).scale(0.25), bias.tensors().get("exp_avg_sq")));
    }
  }

  @Nested
  class WhenRestored {
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.autograd.optim.OptimizerStateTest#optimizers")
    void aNewOptimizerContinuesBitForBit(String name,
        Supplier<Function<List<Parameter>, Optimizer>> builder) {
      List<Parameter> unbroken = Quadratic.parameters(DType.FLOAT32, DType.FLOAT64);
      Optimizer whole = builder.get().apply(unbroken);
      Quadratic.descend(whole, 5, null);

      List<Parameter> resumed = Quadratic.parameters(DType.FLOAT32, DType.FLOAT64);
      Optimizer first = builder.get().apply(resumed);
      Quadratic.descend(first, 2, null);
      Optimizer second = builder.get().apply(resumed);
      second.restore(first.state());
      Quadratic.descend(second, 3, null);

      assertAll(
          () -> assertArrayEquals(Quadratic.values(unbroken), Quadratic.values(resumed)),
          () -> assertEquals(whole.state(), second.state()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.autograd.optim.OptimizerStateTest#optimizers")
    void withoutTheStateANewOptimizerGoesAnotherWayUnlessItKeepsNone(String name,
        Supplier<Function<List<Parameter>, Optimizer>> builder, List<String> tensors) {
      List<Parameter> unbroken = Quadratic.parameters(DType.FLOAT64);
      Quadratic.descend(builder.get().apply(unbroken), 5, null);
      List<Parameter> restarted = Quadratic.parameters(DType.FLOAT64);
      Quadratic.descend(builder.get().apply(restarted), 2, null);
      Quadratic.descend(builder.get().apply(restarted), 3, null);
      if (tensors.isEmpty()) {
        assertArrayEquals(Quadratic.values(unbroken), Quadratic.values(restarted));
      } else {
        assertNotEquals(List.of(Quadratic.values(unbroken)),
            List.of(Quadratic.values(restarted)));
      }
    }
  }

  @Nested
  class WhenTheStateDoesNotFit {
    final List<Parameter> params = Quadratic.parameters(DType.FLOAT64);
    final Optimizer adam = Adam.builder().build(params);

    OptimizerState stateOf(Optimizer o) {
      Quadratic.descend(o, 2, null);
      return o.state();
    }

    void assertRefused(String expected, OptimizerState state) {
      OptimizerState before = adam.state();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> adam.restore(state));
      assertAll(
          () -> assertEquals(expected, e.getMessage()),
          () -> assertEquals(before, adam.state(), "a refused state changes nothing"));
    }

    @Test
    void everyMessageNamesTheFirstDifference() {
      Parameter weight7 = new Parameter("weight", Shape.of(7, 3), DType.FLOAT64);
      Parameter bias32 = new Parameter("bias", Shape.of(3), DType.FLOAT32);
      Parameter other = new Parameter("other", Shape.of(3), DType.FLOAT64);
      assertAll(
          () -> assertRefused("Adam.restore expected the state of Adam but got the state of AdamW",
              stateOf(AdamW.builder().build(Quadratic.parameters(DType.FLOAT64)))),
          () -> assertRefused("Adam.restore expected the state of 2 parameters [weight, bias]"
              + " but got 1 parameters [weight]",
              Adam.builder().build(List.of(Quadratic.parameters(DType.FLOAT64).get(0)))
                  .state()),
          () -> assertRefused("Adam.restore expected the state of parameter 1 to be of bias"
              + " but got other", stateOf(Adam.builder().build(List.of(
                  Quadratic.parameters(DType.FLOAT64).get(0), other)))),
          () -> assertRefused("Adam.restore expected the state of weight of shape [2, 3] but got"
              + " [7, 3]", Adam.builder().build(List.of(weight7, params.get(1))).state()),
          () -> assertRefused("Adam.restore expected the state of bias of dtype float64 but got"
              + " float32", Adam.builder().build(List.of(params.get(0), bias32)).state()),
          () -> assertRefused("Adam.restore expected the state tensors [exp_avg, exp_avg_sq] of"
              + " weight but got [exp_avg, exp_avg_sq, max_exp_avg_sq]; build the optimizer"
              + " with the options of the one whose state this is",
              stateOf(Adam.builder().amsgrad(true).build(Quadratic.parameters(DType.FLOAT64)))));
    }

    @Test
    void aStateTensorOfAnotherShapeIsRefusedWhenTheStateIsMade() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new OptimizerState.ParameterState("bias", Shape.of(3), DType.FLOAT64,
              ImmutableMap.of("exp_avg", Tensor.zeros(DType.FLOAT64, 7))));
      assertEquals("the state tensor exp_avg of bias expected shape [3] and dtype float64 but"
          + " got [7] and float64", e.getMessage());
    }

    @Test
    void aNegativeStepCountAndAnUnknownParameterAreRefused() {
      List<Executable> checks = List.of(
          () -> assertEquals("OptimizerState expected steps >= 0 but got -1",
              assertThrows(IllegalArgumentException.class,
                  () -> new OptimizerState("Adam", -1, ImmutableList.of())).getMessage()),
          () -> assertEquals("OptimizerState of Adam has no parameter named bias_hh_l0; it has"
              + " [weight, bias]", assertThrows(IllegalArgumentException.class,
                  () -> adam.state().parameter("bias_hh_l0")).getMessage()));
      assertAll(checks);
    }
  }
}
