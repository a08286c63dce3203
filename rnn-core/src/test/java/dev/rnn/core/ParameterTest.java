package dev.rnn.core;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** When a parameter takes its memory: the value at first use, the gradient when training needs it. */
class ParameterTest {
  @Nested
  class ANewParameter {
    private final Parameter p = new Parameter("w", Shape.of(1 << 14, 1 << 14), DType.FLOAT32);

    @Test
    void holdsNoMemoryForItsNameShapeAndSize() {
      assertAll(
          () -> assertEquals("w [16384, 16384]", p.toString()),
          () -> assertEquals(1 << 28, p.size()),
          () -> assertEquals(DType.FLOAT32, p.dtype()),
          () -> assertFalse(p.holdsValue()),
          () -> assertFalse(p.holdsGradient()));
    }

    @Test
    void clearsAGradientItDoesNotHoldWithoutAllocatingIt() {
      p.zeroGrad();
      assertFalse(p.holdsGradient());
    }
  }

  @Nested
  class WhenUsedForInferenceOnly {
    @Test
    void holdsItsValueButNoGradient() {
      Parameter p = new Parameter("w", Shape.of(2, 3), DType.FLOAT64);
      p.set(Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3));
      assertAll(
          () -> assertTrue(p.holdsValue()),
          () -> assertFalse(p.holdsGradient()),
          () -> assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, p.value().toDoubleArray()),
          () -> assertArrayEquals(new double[6], p.gradient().toDoubleArray()),
          () -> assertFalse(p.holdsGradient(), "gradient() of none is zeros, not an allocation"));
    }
  }

  @Test
  void theGradientIsAllocatedZeroWhenFirstAskedForAndKept() {
    Parameter p = new Parameter("w", Shape.of(3), DType.FLOAT32);
    Storage g = p.grad();
    g.set(1, 2);
    assertAll(
        () -> assertTrue(p.holdsGradient()),
        () -> assertSame(g, p.grad()),
        () -> assertArrayEquals(new double[] {0, 2, 0}, p.gradient().toDoubleArray()));
  }

  @Nested
  class WithADeferredInitialization {
    private final Parameter a = new Parameter("a", Shape.of(2), DType.FLOAT64);
    private final Parameter b = new Parameter("b", Shape.of(3), DType.FLOAT64);
    private final Parameter untouched = new Parameter("c", Shape.of(1), DType.FLOAT64);
    private final AtomicInteger runs = new AtomicInteger();

    private void defer() {
      Parameter.initializeOnFirstUse(List.of(a, b, untouched), () -> {
        runs.incrementAndGet();
        a.data().fill(0, 2, 1);
        b.data().fill(0, 3, 2);
      });
    }

    @Test
    void holdsNothingUntilAParameterOfTheGroupIsFirstUsed() {
      defer();
      assertAll(
          () -> assertEquals(0, runs.get()),
          () -> assertFalse(a.holdsValue()),
          () -> assertFalse(b.holdsValue()));
    }

    @Test
    void runsOnceAtFirstUseAndWritesTheWholeGroup() {
      defer();
      double[] bValue = b.value().toDoubleArray();
      assertAll(
          () -> assertArrayEquals(new double[] {2, 2, 2}, bValue),
          () -> assertArrayEquals(new double[] {1, 1}, a.value().toDoubleArray()),
          () -> assertArrayEquals(new double[] {0}, untouched.value().toDoubleArray()),
          () -> assertEquals(1, runs.get()),
          () -> assertFalse(a.holdsGradient()));
    }

    @Test
    void aSetAfterwardsReplacesTheFirstValues() {
      defer();
      a.set(Tensor.of(new double[] {7, 7}, 2));
      assertAll(
          () -> assertArrayEquals(new double[] {7, 7}, a.value().toDoubleArray()),
          () -> assertArrayEquals(new double[] {2, 2, 2}, b.value().toDoubleArray()));
    }

    @Test
    void isRefusedForAParameterAlreadyUsed() {
      a.data();
      IllegalStateException e = assertThrows(IllegalStateException.class, this::defer);
      assertEquals("parameter a was already used or initialised; defer its initialisation"
          + " before", e.getMessage());
    }

    @Test
    void thatFailsIsRunAgainAtTheNextUse() {
      AtomicInteger calls = new AtomicInteger();
      Parameter.initializeOnFirstUse(List.of(a), () -> {
        if (calls.incrementAndGet() == 1) {
          throw new IllegalStateException("first try fails");
        }
        a.data().fill(0, 2, 5);
      });
      assertThrows(IllegalStateException.class, a::data);
      assertArrayEquals(new double[] {5, 5}, a.value().toDoubleArray());
    }

    @Test
    void otherThreadsWaitForItAndSeeEveryValueWritten() throws Exception {
      Parameter big = new Parameter("big", Shape.of(1 << 20), DType.FLOAT64);
      CountDownLatch started = new CountDownLatch(1);
      Parameter.initializeOnFirstUse(List.of(big), () -> {
        Storage d = big.data();
        started.countDown();
        for (int i = 0; i < d.length(); i++) {
          d.set(i, 1);
        }
      });
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<Double>> sums = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
          sums.add(pool.submit(() -> big.data().sum(0, big.size())));
        }
        assertTrue(started.await(10, TimeUnit.SECONDS));
        for (Future<Double> s : sums) {
          assertEquals(1 << 20, s.get(10, TimeUnit.SECONDS), 0);
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }
}
