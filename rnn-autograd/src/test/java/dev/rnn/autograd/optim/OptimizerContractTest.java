package dev.rnn.autograd.optim;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Shape;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What every {@link Optimizer} does alike, whatever its update rule: building, the parameter list,
 * zeroing gradients, learning-rate changes, dtypes, and allocation-free steps.
 */
class OptimizerContractTest {
  /**
   * Each optimizer with options that exercise all its state, as a fresh builder's {@code build}:
   * calling the function twice builds twice from one builder.
   */
  static Stream<Arguments> optimizers() {
    return Stream.of(
        Arguments.of("Sgd", (Supplier<Function<List<Parameter>, Optimizer>>)
            () -> Sgd.builder().lr(0.1).momentum(0.9).nesterov(true).weightDecay(0.01)::build),
        Arguments.of("Adam", (Supplier<Function<List<Parameter>, Optimizer>>)
            () -> Adam.builder().lr(0.1).weightDecay(0.1).amsgrad(true)::build),
        Arguments.of("AdamW", (Supplier<Function<List<Parameter>, Optimizer>>)
            () -> AdamW.builder().lr(0.1).amsgrad(true)::build),
        Arguments.of("RmsProp", (Supplier<Function<List<Parameter>, Optimizer>>)
            () -> RmsProp.builder().lr(0.01).momentum(0.9).centered(true).weightDecay(0.1)::build));
  }

  @Nested
  class WhenBuilt {
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.autograd.optim.OptimizerContractTest#optimizers")
    void parametersAreTheGivenListInOrderAndImmutable(String name,
        Supplier<Function<List<Parameter>, Optimizer>> builder) {
      List<Parameter> params = Quadratic.parameters(DType.FLOAT64);
      List<Parameter> listed = builder.get().apply(params).parameters();
      assertAll(
          () -> assertEquals(params, listed),
          () -> assertThrows(UnsupportedOperationException.class, () -> listed.remove(0)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.autograd.optim.OptimizerContractTest#optimizers")
    void buildingTwiceFromOneBuilderIsAnError(String name,
        Supplier<Function<List<Parameter>, Optimizer>> builder) {
      Function<List<Parameter>, Optimizer> build = builder.get();
      build.apply(Quadratic.parameters(DType.FLOAT64));
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> build.apply(Quadratic.parameters(DType.FLOAT64)));
      assertEquals(String.format("this %s.Builder already built an optimizer; call %s.builder() "
          + "for each optimizer", name, name), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.autograd.optim.OptimizerContractTest#optimizers")
    void anEmptyParameterListIsAnErrorThatLeavesTheBuilderUsable(String name,
        Supplier<Function<List<Parameter>, Optimizer>> builder) {
      Function<List<Parameter>, Optimizer> build = builder.get();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> build.apply(List.of()));
      List<Parameter> params = Quadratic.parameters(DType.FLOAT64);
      assertAll(
          () -> assertEquals(name + " expected at least one parameter but got an empty list",
              e.getMessage()),
          () -> assertEquals(params, build.apply(params).parameters()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.autograd.optim.OptimizerContractTest#optimizers")
    void aParameterListedTwiceIsAnError(String name,
        Supplier<Function<List<Parameter>, Optimizer>> builder) {
      List<Parameter> params = Quadratic.parameters(DType.FLOAT64);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> builder.get().apply(List.of(params.get(0), params.get(1), params.get(0))));
      assertEquals(name + " got parameter weight twice; pass each parameter once, or it is "
          + "updated twice per step", e.getMessage());
    }
  }

  @Nested
  class WhenStepping {
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.autograd.optim.OptimizerContractTest#optimizers")
    void stepReadsTheGradientButLeavesItUnchanged(String name,
        Supplier<Function<List<Parameter>, Optimizer>> builder) {
      List<Parameter> params = Quadratic.parameters(DType.FLOAT64);
      Optimizer optimizer = builder.get().apply(params);
      Quadratic.backward(params);
      double[] before = Quadratic.values(params);
      double[] gradient = Quadratic.gradients(params);
      optimizer.step();
      double[] after = Quadratic.values(params);
      assertAll(Stream.concat(
          Stream.<Executable>of(
              () -> assertArrayEquals(gradient, Quadratic.gradients(params), "gradient")),
          IntStream.range(0, before.length).mapToObj(i -> (Executable) () -> assertNotEquals(
              before[i], after[i], Quadratic.ELEMENTS.get(i) + " did not move"))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.autograd.optim.OptimizerContractTest#optimizers")
    void zeroGradZerosEveryGradient(String name,
        Supplier<Function<List<Parameter>, Optimizer>> builder) {
      List<Parameter> params = Quadratic.parameters(DType.FLOAT32);
      Optimizer optimizer = builder.get().apply(params);
      Quadratic.backward(params);
      optimizer.zeroGrad();
      assertArrayEquals(new double[9], Quadratic.gradients(params));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.autograd.optim.OptimizerContractTest#optimizers")
    void aZeroLearningRateLeavesTheParametersUnchanged(String name,
        Supplier<Function<List<Parameter>, Optimizer>> builder) {
      List<Parameter> params = Quadratic.parameters(DType.FLOAT64);
      Optimizer optimizer = builder.get().apply(params);
      double[] before = Quadratic.values(params);
      Quadratic.descend(optimizer, 3, new double[] {0, 0, 0});
      assertArrayEquals(before, Quadratic.values(params));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.autograd.optim.OptimizerContractTest#optimizers")
    void parametersOfDifferentDtypesAreUpdatedEachInItsOwn(String name,
        Supplier<Function<List<Parameter>, Optimizer>> builder) {
      List<Parameter> mixed = Quadratic.parameters(DType.FLOAT32, DType.FLOAT64);
      List<Parameter> reference = Quadratic.parameters(DType.FLOAT64);
      Quadratic.descend(builder.get().apply(mixed), 4, null);
      Quadratic.descend(builder.get().apply(reference), 4, null);
      assertAll(
          () -> assertSame(DType.FLOAT32, mixed.get(0).dtype()),
          () -> assertEquals(0, mixed.get(0).value().maxAbsDiff(reference.get(0).value()), 1e-6),
          () -> assertEquals(mixed.get(1).value(), reference.get(1).value()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.autograd.optim.OptimizerContractTest#optimizers")
    void everyBlockOfALargeParameterIsUpdatedAsASmallOne(String name,
        Supplier<Function<List<Parameter>, Optimizer>> builder) {
      // Updates are elementwise and run block by block: element i of a parameter of three blocks
      // and a ragged rest, starting as element i % 9 of the quadratic and descending on the same
      // loss, must end exactly as that element does.
      for (DType dtype : DType.values()) {
        List<Parameter> small = Quadratic.parameters(dtype);
        Quadratic.descend(builder.get().apply(small), 4, null);
        double[] expected = Quadratic.values(small);
        double[] start = Quadratic.values(Quadratic.parameters(DType.FLOAT64));
        double[] c = concat(Quadratic.CW, Quadratic.CB);
        double[] target = concat(Quadratic.TW, Quadratic.TB);
        int size = 3 * AbstractOptimizer.BLOCK + 7;
        Parameter large = new Parameter("large", Shape.of(size), dtype);
        for (int i = 0; i < size; i++) {
          large.data().set(i, start[i % 9]);
        }
        Optimizer optimizer = builder.get().apply(List.of(large));
        for (int step = 0; step < 4; step++) {
          optimizer.zeroGrad();
          for (int i = 0; i < size; i++) {
            large.grad().set(i, c[i % 9] * (large.data().get(i) - target[i % 9]));
          }
          optimizer.step();
        }
        double[] expectedLarge = new double[size];
        double[] actual = new double[size];
        for (int i = 0; i < size; i++) {
          expectedLarge[i] = expected[i % 9];
          actual[i] = large.data().get(i);
        }
        assertArrayEquals(expectedLarge, actual, dtype.toString());
      }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.autograd.optim.OptimizerContractTest#optimizers")
    void stepAllocatesNothing(String name,
        Supplier<Function<List<Parameter>, Optimizer>> builder) {
      List<Parameter> params = Quadratic.parameters(DType.FLOAT32, DType.FLOAT64);
      Optimizer optimizer = builder.get().apply(params);
      Quadratic.backward(params);
      for (int i = 0; i < 1_000; i++) {
        optimizer.step();
      }
      com.sun.management.ThreadMXBean threads =
          (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
      long thread = Thread.currentThread().getId();
      threads.getThreadAllocatedBytes(thread);
      // An allocation per step, even of the smallest object (16 bytes), shows as at least 16,000
      // bytes in every round of 1000 steps; the JIT may allocate a few bytes once in a while (a
      // deoptimisation, a recompilation), so the quietest of five rounds is what is asserted.
      long least = Long.MAX_VALUE;
      for (int round = 0; round < 5 && least > 0; round++) {
        long before = threads.getThreadAllocatedBytes(thread);
        for (int i = 0; i < 1_000; i++) {
          optimizer.step();
        }
        least = Math.min(least, threads.getThreadAllocatedBytes(thread) - before);
      }
      assertTrue(least < 1_000, "bytes allocated by 1000 steps, in the quietest of five rounds: "
          + least);
    }
  }

  private static double[] concat(double[] a, double[] b) {
    double[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  @Nested
  class WhenTheLearningRateChanges {
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.autograd.optim.OptimizerContractTest#optimizers")
    void theNewRateIsReported(String name,
        Supplier<Function<List<Parameter>, Optimizer>> builder) {
      Optimizer optimizer = builder.get().apply(Quadratic.parameters(DType.FLOAT64));
      optimizer.setLearningRate(0.025);
      assertEquals(0.025, optimizer.learningRate());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.autograd.optim.OptimizerContractTest#optimizers")
    void aNegativeRateIsAnErrorThatKeepsTheOldRate(String name,
        Supplier<Function<List<Parameter>, Optimizer>> builder) {
      Optimizer optimizer = builder.get().apply(Quadratic.parameters(DType.FLOAT64));
      double old = optimizer.learningRate();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> optimizer.setLearningRate(-1));
      assertAll(
          () -> assertEquals("lr must be >= 0 but got -1.0", e.getMessage()),
          () -> assertEquals(old, optimizer.learningRate()));
    }
  }
}
