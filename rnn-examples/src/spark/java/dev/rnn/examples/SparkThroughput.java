package dev.rnn.examples;

import dev.rnn.core.DType;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.Rnn;
import dev.rnn.dsl.Trainer;
import dev.rnn.dsl.spark.Example;
import dev.rnn.dsl.spark.SparkTrainer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Examples per second of one training, on one machine ({@code Trainer.fit}) or on Spark: the
 * benchmark's lstm-m sizes (input 64, hidden 256, 100 steps) with a dense head, MSE, Adam, global
 * batch 256, float32; the median time of a step after {@code warm-up} steps (default 2; Spark's
 * own code takes the JIT a few epochs to compile, so measure its steady state with, e.g., {@code
 * 8 4 8}: 4 epochs of 8 batches, the first epoch left out).
 *
 * <pre>
 *   OPENBLAS_NUM_THREADS=1 java -cp rnn-examples/target/rnn-examples.jar \
 *       dev.rnn.examples.SparkThroughput none|local[1]|local[2]|spark://host:7077 \
 *       [batches [epochs [warm-up]]]
 * </pre>
 */
final class SparkThroughput {
  private SparkThroughput() {}

  static final int INPUT = 64;
  static final int HIDDEN = 256;
  static final int STEPS = 100;
  static final int BATCH = 256;
  /** The steps left out of the medians (the JIT's warm-up of Spark's code takes a few epochs). */
  static int warmUp = 2;

  public static void main(String[] args) {
    String master = args.length > 0 ? args[0] : "none";
    int batches = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    int epochs = args.length > 2 ? Integer.parseInt(args[2]) : 1;
    warmUp = args.length > 3 ? Integer.parseInt(args[3]) : 2;
    int n = BATCH * batches;
    Network net = Rnn.parse("lstm(" + INPUT + ", " + HIDDEN + ").dense(" + HIDDEN + ", 1)")
        .seed(1).build();
    List<Long> stamps = new ArrayList<>();
    List<Long> cpu = new ArrayList<>();
    List<Long> gc = new ArrayList<>();
    List<Long> jit = new ArrayList<>();
    var compiler = java.lang.management.ManagementFactory.getCompilationMXBean();
    var os = (com.sun.management.OperatingSystemMXBean)
        java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    Trainer trainer = net.trainer().loss(Trainer.Objective.MSE).epochs(epochs).batchSize(BATCH)
        .listener(e -> {
          stamps.add(System.nanoTime());
          cpu.add(os.getProcessCpuTime());
          jit.add(compiler.getTotalCompilationTime());
          gc.add(java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
              .mapToLong(java.lang.management.GarbageCollectorMXBean::getCollectionTime).sum());
        });
    Tensor x = Tensor.randn(DType.FLOAT32, 7, n, STEPS, INPUT);
    Tensor y = Tensor.randn(DType.FLOAT32, 8, n, STEPS, 1);
    long start = System.nanoTime();
    if (master.equals("none")) {
      trainer.fit(x.transpose(0, 1), y.transpose(0, 1));
    } else {
      SparkConf conf = new SparkConf().setMaster(master).setAppName("SparkThroughput")
          .set("spark.ui.enabled", "false");
      if (master.startsWith("local")) {
        conf.set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1");
      }
      String jars = System.getProperty("rnn.jar");
      if (jars != null) {
        conf.set("spark.jars", jars);
      }
      try (JavaSparkContext sc = new JavaSparkContext(conf)) {
        sc.setLogLevel("WARN");
        List<Example> examples = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          examples.add(Example.of(x.slice(0, i, i + 1).reshape(STEPS, INPUT),
              y.slice(0, i, i + 1).reshape(STEPS, 1)));
        }
        start = System.nanoTime();
        SparkTrainer.of(trainer).fit(sc.parallelize(examples, sc.defaultParallelism()));
        communicationOnly(sc, (int) net.parameterCount());
      }
    }
    report(master, net, stamps, start);
    long[] c = new long[cpu.size() - 1];
    for (int i = 1; i < cpu.size(); i++) {
      c[i - 1] = cpu.get(i) - cpu.get(i - 1);
    }
    long[] measured = Arrays.copyOfRange(c, Math.min(warmUp, c.length - 1), c.length);
    Arrays.sort(measured);
    int from = Math.min(warmUp, gc.size() - 1);
    double measuredSteps = Math.max(1, gc.size() - 1 - from);
    System.out.printf(Locale.ROOT, "%s: median process CPU time per step %.1f ms, garbage"
        + " collection %.1f ms a step (mean), JIT compilation %.1f ms a step (mean)%n", master,
        measured[measured.length / 2] / 1e6,
        (gc.get(gc.size() - 1) - gc.get(from)) / measuredSteps,
        (jit.get(jit.size() - 1) - jit.get(from)) / measuredSteps);
  }

  /**
   * What a step costs without the computation, as the trainer moves a float32 network: the
   * weights broadcast as one array of 4P bytes, each partition's result of 4P bytes collected
   * and added on the driver, and the job's own latency; the median of 10 after 3 of warm-up.
   */
  static void communicationOnly(JavaSparkContext sc, int parameters) {
    List<Integer> parts = new ArrayList<>();
    for (int i = 0; i < sc.defaultParallelism(); i++) {
      parts.add(i);
    }
    var rdd = sc.parallelize(parts, parts.size()).cache();
    rdd.count();
    var os = (com.sun.management.OperatingSystemMXBean)
        java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    long[] times = new long[13];
    long cpu0 = 0;
    for (int k = 0; k < times.length; k++) {
      if (k == 3) {
        cpu0 = os.getProcessCpuTime();
      }
      long t0 = System.nanoTime();
      var w = sc.broadcast(new byte[4 * parameters + 1]);
      List<byte[]> results = rdd.map(i -> Arrays.copyOf(w.value(), 4 * parameters)).collect();
      float[] sum = new float[parameters];
      for (byte[] r : results) {
        var f = java.nio.ByteBuffer.wrap(r).order(java.nio.ByteOrder.LITTLE_ENDIAN)
            .asFloatBuffer();
        for (int i = 0; i < parameters; i++) {
          sum[i] += f.get(i);
        }
      }
      w.destroy(false);
      times[k] = System.nanoTime() - t0;
    }
    double cpu = (os.getProcessCpuTime() - cpu0) / 1e6 / (times.length - 3);
    long[] measured = Arrays.copyOfRange(times, 3, times.length);
    Arrays.sort(measured);
    System.out.printf(Locale.ROOT, "communication only (broadcast %d floats as bytes, %d results"
        + " of as many, sum): median %.1f ms, process CPU %.1f ms a step (mean)%n", parameters,
        parts.size(), measured[measured.length / 2] / 1e6, cpu);
  }

  static void report(String master, Network net, List<Long> stamps, long start) {
    long[] steps = new long[stamps.size() - 1];
    for (int i = 1; i < stamps.size(); i++) {
      steps[i - 1] = stamps.get(i) - stamps.get(i - 1);
    }
    long[] measured = Arrays.copyOfRange(steps, Math.min(warmUp, steps.length - 1), steps.length);
    Arrays.sort(measured);
    double median = measured[measured.length / 2] / 1e6;
    System.out.printf(Locale.ROOT, "%s: %d parameters, %d steps, median step %.1f ms,"
            + " %.1f examples/s, first step after %.1f s, steps ms %s%n", master,
        net.parameterCount(), stamps.size(), median, BATCH / (median / 1e3),
        (stamps.get(0) - start) / 1e9, Arrays.toString(Arrays.stream(steps)
            .map(s -> s / 1_000_000).toArray()));
  }
}
