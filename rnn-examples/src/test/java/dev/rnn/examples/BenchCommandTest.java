package dev.rnn.examples;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.rnn.autograd.Ops;
import dev.rnn.autograd.optim.Optimizer;
import dev.rnn.autograd.optim.Sgd;
import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Shape;
import dev.rnn.core.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rnn-examples bench}: the table, the JSON of torch_bench.py, and usage errors. */
class BenchCommandTest {
  static final int CORES = Runtime.getRuntime().availableProcessors();

  @TempDir
  Path dir;

  @Nested
  class WhenRunOnTheSeedConfig {
    @Test
    void printsOneRowAndWritesTheJsonKeysOfTorchBench() throws IOException {
      Path json = dir.resolve("bench.json");
      // --blas-core keep, --blas-thread-timeout keep and no --threads: the benchmark runs in this
      // JVM, as it is configured.
      Invocation r = Invocation.of("bench", "--configs", "seed", "--blas-core", "keep",
          "--blas-thread-timeout", "keep", "--json", json.toString());
      List<String> lines = r.outLines();
      JsonArray rows = JsonParser.parseString(Files.readString(json)).getAsJsonArray();
      JsonObject row = rows.get(0).getAsJsonObject();
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertTrue(lines.get(0).startsWith("blas: "), r.out()),
          () -> assertEquals("config   threads  train_step_ms  inference_ms  stream_step_us"
              + "  peak_heap_mb  train_alloc_mb", lines.get(1)),
          () -> assertTrue(lines.get(2).startsWith("seed "), r.out()),
          () -> assertEquals(3, lines.size(), r.out()),
          () -> assertEquals(1, rows.size()),
          () -> assertEquals("seed", row.get("config").getAsString()),
          () -> assertEquals(Tensor.blasImplementation().equals("JNIBLAS")
              ? BenchCommand.configuredThreads() : 1, row.get("threads").getAsInt()),
          () -> assertEquals("rnn_relu", row.get("cell").getAsString()),
          () -> assertTrue(row.get("train_step_ms").getAsDouble() > 0, row::toString),
          () -> assertTrue(row.get("inference_ms").getAsDouble() > 0, row::toString),
          () -> assertTrue(row.get("stream_step_us").getAsDouble() > 0, row::toString),
          // The seed network's step: a few kB live and allocated, under a megabyte.
          () -> assertTrue(row.get("peak_heap_mb").getAsDouble() >= 0
              && row.get("peak_heap_mb").getAsDouble() < 1, row::toString),
          () -> assertTrue(row.get("train_alloc_mb").getAsDouble() > 0
              && row.get("train_alloc_mb").getAsDouble() < 1, row::toString),
          () -> assertEquals(row.get("peak_heap_mb").getAsDouble(),
              Double.parseDouble(lines.get(2).trim().split("\\s+")[5]), 1e-3, lines.get(2)),
          () -> assertEquals(row.get("train_alloc_mb").getAsDouble(),
              Double.parseDouble(lines.get(2).trim().split("\\s+")[6]), 1e-3, lines.get(2)));
    }
  }

  @Nested
  class WhenMeasuringTheMemoryOfAStep {
    /**
     * A step over a 4 MB value: forward keeps the value and the loss's copy of the target (8 MB,
     * the peak: backward lets go of them as it goes, the value's gradient too, since no one holds
     * the value); it allocates the zeros, their copy, the target's copy and the gradient (16 MB).
     */
    @Test
    void countsWhatTheGraphHoldsAtItsPeakAndWhatTheStepAllocates() {
      int n = 1_000_000;
      Tensor target = Tensor.zeros(DType.FLOAT32, 1000, n / 1000);
      Parameter p = new Parameter("p", Shape.of(1), DType.FLOAT32);
      Optimizer sgd = Sgd.builder().lr(0.01).build(List.of(p));
      long before = BenchCommand.liveHeap();
      BenchCommand.Memory m = BenchCommand.memory(sgd, g -> Ops.mse(g,
          g.variable(Tensor.zeros(DType.FLOAT32, 1000, n / 1000)), target, null), before);
      assertAll(
          // The graph holds at least the 4 MB variable; softly held buffers of earlier tests in this
          // JVM may be given up between the two readings and lower the difference below 8 MB.
          () -> assertTrue(m.peakHeapBytes() >= 4e6 && m.peakHeapBytes() < 12e6, m::toString),
          () -> assertTrue(m.trainAllocBytes() >= 16e6 && m.trainAllocBytes() < 20e6,
              m::toString),
          () -> assertEquals(m.peakHeapBytes() / 1e6, m.peakHeapMb()),
          () -> assertEquals(m.trainAllocBytes() / 1e6, m.trainAllocMb()));
    }
  }

  @Nested
  class WhenAConfigIsUnknown {
    @Test
    void namesItListsTheKnownOnesAndExitsWithTwo() {
      Invocation r = Invocation.of("bench", "--configs", "seed,lstm-xl");
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("rnn-examples bench: unknown config 'lstm-xl'; expected one of seed,"
              + " elman-s, lstm-m, gru-m, lstm-l, lstm-ragged\n"
              + "Try 'rnn-examples bench --help' for more information.\n", r.err()),
          () -> assertEquals("", r.out()));
    }

    @Test
    void aThreadTimeoutOutsideFourToThirtyIsBadUsageToo() {
      Invocation r = Invocation.of("bench", "--configs", "seed", "--blas-thread-timeout", "31");
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("rnn-examples bench: --blas-thread-timeout expected auto, keep or 4"
              + " to 30 but got '31'\n"
              + "Try 'rnn-examples bench --help' for more information.\n", r.err()),
          () -> assertFalse(r.out().contains("seed"), r.out()));
    }

    @Test
    void aZeroThreadCountIsBadUsageToo() {
      Invocation r = Invocation.of("bench", "--configs", "seed", "--threads", "0");
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("rnn-examples bench: --threads expected 1 to " + 4 * CORES
              + " (4 x the " + CORES + " cores) but got 0\n"
              + "Try 'rnn-examples bench --help' for more information.\n", r.err()),
          () -> assertFalse(r.out().contains("seed"), r.out()));
    }
  }
}
