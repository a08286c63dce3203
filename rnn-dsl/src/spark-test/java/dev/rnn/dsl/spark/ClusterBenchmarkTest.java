package dev.rnn.dsl.spark;

import dev.rnn.autograd.optim.Sgd;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.Rnn;
import dev.rnn.dsl.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Examples per second of one training on the standalone cluster ({@link StandaloneCluster}, two
 * one-core workers) with one executor ({@code spark.cores.max=1}) against two: lstm-m's sizes
 * (input 64, hidden 256, 100 steps, a dense head on every step, MSE, float32, batch-first, SGD
 * 0.01, full BPTT), global batch 256. Not part of the build: a measurement, run by hand with
 *
 * <pre>
 *   mvn -B -o verify -Pspark -pl rnn-dsl -am -Dtest=ClusterBenchmarkTest \
 *       -Dsurefire.failIfNoSpecifiedTests=false -Drnn.spark.bench=true
 * </pre>
 *
 * <p>Each repetition runs one executor, then two, each in a new application: one warm-up epoch,
 * then {@code rnn.spark.bench.epochs} timed epochs; the medians of {@code rnn.spark.bench.repeats}
 * repetitions are printed and written to {@code target/spark-bench.txt}.
 */
@EnabledIfSystemProperty(named = "rnn.spark.bench", matches = "true")
class ClusterBenchmarkTest {
  static final int EXAMPLES = Integer.getInteger("rnn.spark.bench.examples", 1024);
  static final int EPOCHS = Integer.getInteger("rnn.spark.bench.epochs", 2);
  static final int REPEATS = Integer.getInteger("rnn.spark.bench.repeats", 3);
  static final int BATCH = 256;
  static final String SPEC = "lstm(64, 256).dense(256, 64).batchFirst()";

  @Test void examplesPerSecondWithOneAndTwoWorkers() throws IOException {
    List<String> lines = new ArrayList<>();
    double[][] perSecond = new double[2][REPEATS];
    double[][] stepMs = new double[2][REPEATS];
    try (StandaloneCluster cluster = StandaloneCluster.start(2, Duration.ofSeconds(90))) {
      for (int r = 0; r < REPEATS; r++) {
        for (int executors = 1; executors <= 2; executors++) {
          List<String> detail = new ArrayList<>();
          double seconds = run(cluster, executors, detail);
          long examples = (long) EXAMPLES * EPOCHS;
          long steps = (long) Math.ceil(EXAMPLES / (double) BATCH) * EPOCHS;
          perSecond[executors - 1][r] = examples / seconds;
          stepMs[executors - 1][r] = seconds * 1000 / steps;
          String line = String.format(Locale.ROOT, "repeat %d, %d executor(s): %d examples in"
              + " %.2f s: %.1f examples/s, %.1f ms per step", r + 1, executors, examples, seconds,
              perSecond[executors - 1][r], stepMs[executors - 1][r]);
          System.out.println(line);
          lines.add(line);
          detail.forEach(System.out::println);
          lines.addAll(detail);
        }
      }
    }
    double one = median(perSecond[0]);
    double two = median(perSecond[1]);
    String summary = String.format(Locale.ROOT, "medians: 1 executor %.1f examples/s (%.1f ms per"
        + " step), 2 executors %.1f examples/s (%.1f ms per step); speed-up %.2fx", one,
        median(stepMs[0]), two, median(stepMs[1]), two / one);
    System.out.println(summary);
    lines.add(summary);
    Files.write(Path.of("target", "spark-bench.txt"), lines);
  }

  /**
   * One application with {@code executors} one-core executors: the timed fit's seconds, and
   * how many of its tasks each executor ran.
   */
  private static double run(StandaloneCluster cluster, int executors, List<String> lines) {
    try (JavaSparkContext sc = new JavaSparkContext(cluster.driverConf("bench-" + executors)
        .set("spark.cores.max", String.valueOf(executors))
        .set("spark.executor.memory", "900m")
        .set("spark.executorEnv.OPENBLAS_NUM_THREADS", "1"))) {
      awaitExecutors(sc, executors);           // before any data is cached on the first one
      JavaRDD<Example> data = sc.parallelize(IntStream.range(0, EXAMPLES).boxed().toList(),
          executors).map(new RandomExample(1)).cache();
      data.count();
      Network net = Rnn.parse(SPEC).seed(1).build();
      SparkTrainer.of(trainer(net, 1)).partitions(executors).fit(data);      // warm-up
      TasksPerExecutor tasks = new TasksPerExecutor();
      sc.sc().addSparkListener(tasks);
      long t0 = System.nanoTime();
      SparkTrainer.of(trainer(net, EPOCHS)).partitions(executors).fit(data);
      double seconds = (System.nanoTime() - t0) / 1e9;
      sc.sc().removeSparkListener(tasks);
      lines.add("  " + tasks);
      if (executors == 1) {
        lines.add("  " + plainOnAnExecutor(sc));
      }
      return seconds;
    }
  }

  /**
   * The same training with plain {@link Trainer#fit} (one thread, no Spark in the loop) inside
   * one task on an executor, after a warm-up epoch: the reference for Spark's overhead.
   */
  private static String plainOnAnExecutor(JavaSparkContext sc) {
    return sc.parallelize(List.of(0), 1).map(ignored -> {
      RandomExample make = new RandomExample(1);
      double[] x = new double[EXAMPLES * 100 * 64];
      double[] y = new double[EXAMPLES * 100 * 64];
      for (int i = 0; i < EXAMPLES; i++) {
        Example e = make.call(i);
        System.arraycopy(e.inputs().toDoubleArray(), 0, x, i * 6400, 6400);
        System.arraycopy(e.targets().toDoubleArray(), 0, y, i * 6400, 6400);
      }
      Tensor in = Tensor.of(x, EXAMPLES, 100, 64).to(dev.rnn.core.DType.FLOAT32);
      Tensor out = Tensor.of(y, EXAMPLES, 100, 64).to(dev.rnn.core.DType.FLOAT32);
      Network n = Rnn.parse(SPEC).seed(1).build();
      trainer(n, 1).fit(in, out);
      long t0 = System.nanoTime();
      trainer(n, EPOCHS).fit(in, out);
      double s = (System.nanoTime() - t0) / 1e9;
      long steps = (long) Math.ceil(EXAMPLES / (double) BATCH) * EPOCHS;
      return String.format(Locale.ROOT, "plain Trainer.fit in an executor: %.2f s: %.1f"
          + " examples/s, %.1f ms per step", s, (double) EXAMPLES * EPOCHS / s, s * 1000 / steps);
    }).collect().get(0);
  }

  /**
   * Counts the tasks each executor ran and adds up their CPU and run times (Spark's task
   * metrics), which other processes on the machine disturb less than the wall clock.
   */
  private static final class TasksPerExecutor extends org.apache.spark.scheduler.SparkListener {
    final java.util.Map<String, Integer> counts = new java.util.concurrent.ConcurrentSkipListMap<>();
    final java.util.Map<String, Double> cpuSeconds =
        new java.util.concurrent.ConcurrentSkipListMap<>();
    final java.util.Map<String, Double> runSeconds =
        new java.util.concurrent.ConcurrentSkipListMap<>();

    @Override public void onTaskEnd(org.apache.spark.scheduler.SparkListenerTaskEnd e) {
      String id = e.taskInfo().executorId();
      counts.merge(id, 1, Integer::sum);
      if (e.taskMetrics() != null) {
        cpuSeconds.merge(id, e.taskMetrics().executorCpuTime() / 1e9, Double::sum);
        runSeconds.merge(id, e.taskMetrics().executorRunTime() / 1e3, Double::sum);
      }
    }

    @Override public String toString() {
      StringBuilder sb = new StringBuilder();
      counts.forEach((id, n) -> sb.append(String.format(Locale.ROOT,
          "executor %s: %d tasks, %.2f s running, %.2f s CPU; ", id, n,
          runSeconds.getOrDefault(id, 0.0), cpuSeconds.getOrDefault(id, 0.0))));
      return sb.toString();
    }
  }

  static Trainer trainer(Network net, int epochs) {
    return net.trainer().loss(Trainer.Objective.MSE)
        .optimizer(ps -> Sgd.builder().lr(0.01).build(ps)).epochs(epochs).batchSize(BATCH);
  }

  private static void awaitExecutors(JavaSparkContext sc, int n) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (sc.sc().getExecutorMemoryStatus().size() < n + 1 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  /** Example {@code i}: inputs and targets {@code [100, 64]} uniform in [-1, 1], seeded by i. */
  static final class RandomExample implements Function<Integer, Example> {
    private static final long serialVersionUID = 1L;
    private final long seed;

    RandomExample(long seed) {
      this.seed = seed;
    }

    @Override public Example call(Integer i) {
      Random r = new Random(seed * 1_000_003L + i);
      double[] x = new double[100 * 64];
      double[] y = new double[100 * 64];
      for (int k = 0; k < x.length; k++) {
        x[k] = 2 * r.nextDouble() - 1;
        y[k] = 2 * r.nextDouble() - 1;
      }
      return Example.of(Tensor.of(x, 100, 64), Tensor.of(y, 100, 64));
    }
  }
}
