package dev.rnn.dsl;

import static dev.rnn.dsl.Rnn.network;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.rnn.core.DType;
import dev.rnn.core.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/** A built network is shared by threads: every call gives exactly the single-threaded result. */
class ConcurrencyTest {
  static final int THREADS = 8;
  static final int CALLS = 1000;

  @Test
  @Timeout(60)
  void eightThreadsOfAThousandForwardCallsEachGiveExactlyTheSingleThreadedResults()
      throws Exception {
    Network net = network().lstm(3, 8).gru(8, 4).dense(4, 2).seed(3).build();
    List<Tensor> inputs = new ArrayList<>();
    List<Network.Result> expected = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      Tensor x = Tensor.randn(DType.FLOAT32, 100L + t, 5, 2, 3);
      inputs.add(x);
      expected.add(net.forward(x, null));
    }
    for (int t = 1; t < THREADS; t++) {
      assertNotEquals(expected.get(0).output(), expected.get(t).output(),
          "inputs differ per thread, and so do outputs");
    }

    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Integer>> mismatches = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        int thread = t;
        mismatches.add(pool.submit(() -> {
          start.await();
          int wrong = 0;
          for (int i = 0; i < CALLS; i++) {
            Network.Result r = net.forward(inputs.get(thread), null);
            Network.Result e = expected.get(thread);
            if (!r.output().equals(e.output())
                || !r.state().tensors().equals(e.state().tensors())) {
              wrong++;
            }
          }
          return wrong;
        }));
      }
      start.countDown();
      List<Executable> checks = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        int wrong = mismatches.get(t).get(60, TimeUnit.SECONDS);
        int thread = t;
        checks.add(() -> assertEquals(0, wrong,
            "thread " + thread + ": calls that differ from the single-threaded result"));
      }
      assertAll(checks);
    } finally {
      pool.shutdownNow();
    }
  }
}
