package dev.rnn.dsl.spark;

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
 * one-core workers) with one executor ({@code spark.cores.max=1}) against two, and of plain
 * {@link Trainer#fit} inside an executor as the reference: the benchmark's lstm-m sizes (input
 * 64, hidden 256, 100 steps) with a dense head {@code dense(256, 1)} on every step, MSE, Adam,
 * float32, global batch 256 (the training {@code SparkThroughput} times on one machine and on
 * {@code local[N]}). Not part of the build: a measurement, run by hand with
 *
 * <pre>
 *   mvn -B -o verify -Pspark -pl rnn-dsl -am -Dtest=ClusterBenchmarkTest \
 *       -Dsurefire.failIfNoSpecifiedTests=false -Drnn.spark.bench=true
 * </pre>
 *
 * <p>Each repetition runs one executor, then two, each a new application over {@code
 * rnn.spark.bench.batches} batches (one epoch), timing every optimizer step on the driver; a
 * run's figure is the median step after two of warm-up, and the medians of {@code
 * rnn.spark.bench.repeats} repetitions are printed and written to {@code target/spark-bench.txt}.
 */
@EnabledIfSystemProperty(named = "rnn.spark.bench", matches = "true")
class ClusterBenchmarkTest {
  static final int BATCHES = Integer.getInteger("rnn.spark.bench.batches", 8);
  static final int REPEATS = Integer.getInteger("rnn.spark.bench.repeats", 3);
  static final int BATCH = 256;
  static final int EXAMPLES = BATCH * BATCHES;
  static final String SPEC = "lstm(64, 256).dense(256, 1)";

  @Test void examplesPerSecondWithOneAndTwoWorkers() throws IOException {
    List<String> lines = new ArrayList<>();
    double[][] stepMs = new double[3][REPEATS];      // plain, one executor, two executors
    double[][] busiestCpu = new double[3][REPEATS];  // CPU s of the fit's tasks, busiest executor
    double[][] stepCpu = new double[3][REPEATS];     // CPU ms of a step: plain, busiest executor
    try (StandaloneCluster cluster = StandaloneCluster.start(2, Duration.ofSeconds(90))) {
      for (int r = 0; r < REPEATS; r++) {
        for (int executors = 1; executors <= 2; executors++) {
          List<String> detail = new ArrayList<>();
          double[] ms = run(cluster, executors, detail);
          stepMs[executors][r] = ms[0];
          busiestCpu[executors][r] = ms[2];
          stepCpu[executors][r] = ms[3];
          if (executors == 1) {
            stepCpu[0][r] = ms[4];
          }
          if (executors == 1) {
            stepMs[0][r] = ms[1];
          }
          detail.forEach(System.out::println);
          lines.add(String.format(Locale.ROOT, "repeat %d, %d executor(s):", r + 1, executors));
          lines.addAll(detail);
        }
      }
    }
    String[] names = {"plain Trainer.fit in an executor", "standalone, 1 one-core executor",
        "standalone, 2 one-core executors"};
    for (int k = 0; k < 3; k++) {
      double m = median(stepMs[k]);
      lines.add(String.format(Locale.ROOT, "median %s: %.1f ms per step, %.1f examples/s (runs:"
          + " %s ms)", names[k], m, BATCH / (m / 1e3), Arrays.toString(stepMs[k])));
    }
    lines.add(String.format(Locale.ROOT, "speed-up of 2 executors over 1: %.2fx; 1 executor"
        + " against plain Trainer: %+.1f%%", median(stepMs[1]) / median(stepMs[2]),
        100 * (median(stepMs[1]) / median(stepMs[0]) - 1)));
    lines.add(String.format(Locale.ROOT, "CPU seconds of the fit's tasks on the busiest executor:"
        + " 1 executor %.2f, 2 executors %.2f (ratio %.2fx; runs %s and %s)",
        median(busiestCpu[1]), median(busiestCpu[2]),
        median(busiestCpu[1]) / median(busiestCpu[2]), Arrays.toString(busiestCpu[1]),
        Arrays.toString(busiestCpu[2])));
    lines.add(String.format(Locale.ROOT, "median CPU of a step (plain: the training thread;"
        + " Spark: the busiest executor's tasks): plain %.1f ms, 1 executor %.1f ms, 2 executors"
        + " %.1f ms; 1 executor against plain %+.1f%%, 2 executors' speed-up %.2fx (runs %s, %s,"
        + " %s)", median(stepCpu[0]), median(stepCpu[1]), median(stepCpu[2]),
        100 * (median(stepCpu[1]) / median(stepCpu[0]) - 1),
        median(stepCpu[1]) / median(stepCpu[2]), Arrays.toString(stepCpu[0]),
        Arrays.toString(stepCpu[1]), Arrays.toString(stepCpu[2])));
    lines.forEach(System.out::println);
    Files.write(Path.of("target", "spark-bench.txt"), lines);
  }

  /**
   * One application with {@code executors} one-core executors: the median step in ms of the
   * SparkTrainer fit and, with one executor, of plain {@code Trainer.fit} in a task.
   */
  private static double[] run(StandaloneCluster cluster, int executors, List<String> lines) {
    try (JavaSparkContext sc = new JavaSparkContext(cluster.driverConf("bench-" + executors)
        .set("spark.cores.max", String.valueOf(executors))
        .set("spark.executor.memory", "900m")
        .set("spark.executorEnv.OPENBLAS_NUM_THREADS", "1"))) {
      awaitExecutors(sc, executors);           // before any data is cached on the first one
      JavaRDD<Example> data = sc.parallelize(IntStream.range(0, EXAMPLES).boxed().toList(),
          executors).map(new RandomExample(1)).cache();
      data.count();
      Network net = Rnn.parse(SPEC).seed(1).build();
      List<Long> stamps = new ArrayList<>();
      TasksPerExecutor tasks = new TasksPerExecutor();
      sc.sc().addSparkListener(tasks);
      long t0 = System.nanoTime();
      SparkTrainer.of(trainer(net).listener(e -> stamps.add(System.nanoTime())))
          .partitions(executors).fit(data);
      double seconds = (System.nanoTime() - t0) / 1e9;
      sc.sc().removeSparkListener(tasks);
      data.unpersist(true);
      double spark = medianStep(stamps);
      lines.add(String.format(Locale.ROOT, "  %d executor(s): median step %.1f ms, %.1f"
          + " examples/s; fit %.1f s; steps ms %s", executors, spark, BATCH / (spark / 1e3),
          seconds, steps(stamps)));
      lines.add("  " + tasks);
      lines.add(String.format(Locale.ROOT, "  median CPU of a step on the busiest executor:"
          + " %.1f ms", tasks.stepCpuMs()));
      double plain = Double.NaN;
      double plainCpu = Double.NaN;
      if (executors == 1) {
        String[] r = plainOnAnExecutor(sc).split(" ", 3);
        plain = Double.parseDouble(r[0]);
        plainCpu = Double.parseDouble(r[1]);
        lines.add("  plain Trainer.fit in an executor: median step " + r[0] + " ms, CPU "
            + r[1] + " ms; steps ms " + r[2]);
      }
      return new double[] {spark, plain, tasks.busiestCpuSeconds(), tasks.stepCpuMs(), plainCpu};
    }
  }

  /**
   * The same training with plain {@link Trainer#fit} (one thread, no Spark in the loop) inside
   * one task on an executor: its median step in ms, then its steps.
   */
  private static String plainOnAnExecutor(JavaSparkContext sc) {
    return sc.parallelize(List.of(0), 1).map(ignored -> {
      RandomExample make = new RandomExample(1);
      float[] x = new float[EXAMPLES * 100 * 64];
      float[] y = new float[EXAMPLES * 100];
      for (int i = 0; i < EXAMPLES; i++) {
        Example e = make.call(i);
        float[] xi = e.inputs().to(dev.rnn.core.DType.FLOAT32).toFloatArray();
        float[] yi = e.targets().to(dev.rnn.core.DType.FLOAT32).toFloatArray();
        for (int t = 0; t < 100; t++) {              // time-major [T, N, F], as the network reads
          System.arraycopy(xi, t * 64, x, (t * EXAMPLES + i) * 64, 64);
          y[t * EXAMPLES + i] = yi[t];
        }
      }
      Network n = Rnn.parse(SPEC).seed(1).build();
      List<Long> stamps = new ArrayList<>();
      var threads = java.lang.management.ManagementFactory.getThreadMXBean();
      List<Long> cpu = new ArrayList<>();
      cpu.add(threads.getCurrentThreadCpuTime());
      trainer(n).listener(e -> {
        stamps.add(System.nanoTime());
        cpu.add(threads.getCurrentThreadCpuTime());
      }).fit(Tensor.of(x, 100, EXAMPLES, 64), Tensor.of(y, 100, EXAMPLES, 1));
      return String.format(Locale.ROOT, "%.1f %.1f %s (BLAS %s, OPENBLAS_NUM_THREADS=%s,"
          + " OPENBLAS_CORETYPE=%s)", medianStep(stamps), medianStep(cpu.subList(1, cpu.size())),
          steps(stamps), Tensor.blasImplementation(), System.getenv("OPENBLAS_NUM_THREADS"),
          System.getenv("OPENBLAS_CORETYPE"));
    }).collect().get(0);
  }

  /** lstm-m's training: MSE, Adam (torch's defaults), one epoch of batches of 256, no shuffle. */
  static Trainer trainer(Network net) {
    return net.trainer().loss(Trainer.Objective.MSE)
        .optimizer(ps -> dev.rnn.autograd.optim.Adam.builder().build(ps)).epochs(1)
        .batchSize(BATCH);
  }

  /** The median time between step events after two of warm-up, in ms. */
  static double medianStep(List<Long> stamps) {
    long[] d = new long[stamps.size() - 1];
    for (int i = 1; i < stamps.size(); i++) {
      d[i - 1] = stamps.get(i) - stamps.get(i - 1);
    }
    double[] measured = Arrays.stream(Arrays.copyOfRange(d, Math.min(2, d.length - 1), d.length))
        .mapToDouble(v -> v / 1e6).toArray();
    return median(measured);
  }

  static String steps(List<Long> stamps) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 1; i < stamps.size(); i++) {
      sb.append(i > 1 ? ", " : "").append((stamps.get(i) - stamps.get(i - 1)) / 1_000_000);
    }
    return sb.append(']').toString();
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

    /** The name of each stage ({@code treeReduce at SparkCluster.java:178} for a step). */
    final java.util.Map<Integer, String> stageNames = new java.util.concurrent.ConcurrentHashMap<>();
    /** CPU seconds by stage and executor, in the order the stages were submitted. */
    final java.util.Map<Integer, java.util.Map<String, Double>> stageCpu =
        new java.util.concurrent.ConcurrentSkipListMap<>();

    @Override public void onStageSubmitted(
        org.apache.spark.scheduler.SparkListenerStageSubmitted e) {
      stageNames.put(e.stageInfo().stageId(), e.stageInfo().name());
    }

    @Override public void onTaskEnd(org.apache.spark.scheduler.SparkListenerTaskEnd e) {
      String id = e.taskInfo().executorId();
      counts.merge(id, 1, Integer::sum);
      if (e.taskMetrics() != null) {
        double cpu = e.taskMetrics().executorCpuTime() / 1e9;
        cpuSeconds.merge(id, cpu, Double::sum);
        runSeconds.merge(id, e.taskMetrics().executorRunTime() / 1e3, Double::sum);
        stageCpu.computeIfAbsent(e.stageId(), k -> new java.util.concurrent.ConcurrentHashMap<>())
            .merge(id, cpu, Double::sum);
      }
    }

    /**
     * The median over the optimizer steps (the {@code treeReduce} stages, after two of warm-up)
     * of the busiest executor's CPU milliseconds in the step.
     */
    double stepCpuMs() {
      List<Double> steps = new ArrayList<>();
      stageCpu.forEach((stage, byExecutor) -> {
        if (stageNames.getOrDefault(stage, "").startsWith("treeReduce")) {
          steps.add(1e3 * byExecutor.values().stream().mapToDouble(Double::doubleValue).max()
              .orElse(0));
        }
      });
      double[] v = steps.stream().skip(Math.min(2, Math.max(0, steps.size() - 1)))
          .mapToDouble(Double::doubleValue).toArray();
      return v.length == 0 ? Double.NaN : median(v);
    }

    double busiestCpuSeconds() {
      return cpuSeconds.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
    }

    @Override public String toString() {
      StringBuilder sb = new StringBuilder();
      counts.forEach((id, n) -> sb.append(String.format(Locale.ROOT,
          "executor %s: %d tasks, %.2f s running, %.2f s CPU; ", id, n,
          runSeconds.getOrDefault(id, 0.0), cpuSeconds.getOrDefault(id, 0.0))));
      return sb.toString();
    }
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

  /** Example {@code i}: inputs {@code [100, 64]} and targets {@code [100, 1]}, uniform in [-1, 1]. */
  static final class RandomExample implements Function<Integer, Example> {
    private static final long serialVersionUID = 1L;
    private final long seed;

    RandomExample(long seed) {
      this.seed = seed;
    }

    @Override public Example call(Integer i) {
      Random r = new Random(seed * 1_000_003L + i);
      double[] x = new double[100 * 64];
      double[] y = new double[100];
      for (int k = 0; k < x.length; k++) {
        x[k] = 2 * r.nextDouble() - 1;
      }
      for (int k = 0; k < y.length; k++) {
        y[k] = 2 * r.nextDouble() - 1;
      }
      return Example.of(Tensor.of(x, 100, 64), Tensor.of(y, 100, 1));
    }
  }
}
