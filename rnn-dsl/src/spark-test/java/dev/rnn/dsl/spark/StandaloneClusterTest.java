package dev.rnn.dsl.spark;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.autograd.optim.Adam;
import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.Rnn;
import dev.rnn.dsl.Trainer;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * A real standalone cluster on this machine ({@link StandaloneCluster}: a master and two
 * one-core workers, separate JVMs on 127.0.0.1, from Spark's Maven jars), the project's classes
 * shipped with {@code spark.jars}: distributed inference equals the local forward; training
 * equals {@code local[2]}'s weights (float64, 1e-9 relative), also when one executor is killed
 * with {@code kill -9} in the middle of the run.
 *
 * <p>Bounded: the cluster must come up in 90 s and each test end in 240 s (else it fails);
 * every process started is stopped in {@link #stop}, or by the cluster's shutdown hook.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterTest {
  private static Network onLocal2;
  private static StandaloneCluster cluster;
  private static JavaSparkContext sc;

  @BeforeAll static void start() throws IOException {
    onLocal2 = trainedOnLocal2();                                // one context per JVM at a time
    cluster = StandaloneCluster.start(2, Duration.ofSeconds(90));
    try {
      sc = new JavaSparkContext(cluster.driverConf("StandaloneClusterTest")
          .set("spark.task.maxFailures", "8"));
      awaitExecutors(2, Duration.ofSeconds(90));
    } catch (RuntimeException | IOException e) {
      stop();
      throw e;
    }
  }

  @AfterAll static void stop() {
    try {
      if (sc != null) {
        sc.stop();
      }
    } finally {
      if (cluster != null) {
        cluster.close();
      }
    }
  }

  @Test @Order(1) @Timeout(value = 240, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void inferenceOnTheClusterEqualsTheLocalForward() {
    Network net = Rnn.parse("gru(3, 6).dense(6, 2)").dtype(DType.FLOAT64).seed(2).build();
    List<double[][]> xs = BroadcastNetworkTest.sequences(30, 8);
    List<double[][]> ys;
    try (BroadcastNetwork b = BroadcastNetwork.of(sc, net)) {
      ys = b.predict(sc.parallelize(xs, 4), 5).collect();
    }
    List<Executable> checks = new ArrayList<>();
    for (int n = 0; n < xs.size(); n++) {
      double[][] want = BroadcastNetworkTest.local(net, xs.get(n));
      double[][] got = ys.get(n);
      int i = n;
      checks.add(() -> BroadcastNetworkTest.assertSameRows(want, got, "sequence " + i));
    }
    assertAll(checks);
  }

  @Test @Order(2) @Timeout(value = 240, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void trainingOnTheClusterGivesTheWeightsOfLocal2() {
    Network net = network();
    SparkTrainer.of(trainer(net)).partitions(2).fit(sc.parallelize(examples(), 2));
    assertSameWeights(onLocal2, net);
  }

  @Test @Order(3) @Timeout(value = 240, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void killingAnExecutorInTheMiddleStillGivesTheWeightsOfLocal2() throws Exception {
    String app = sc.sc().applicationId();
    Map<String, ProcessHandle> before = cluster.executors(app);
    assertEquals(2, before.size(), "executors before: " + before + "\n" + cluster.logs());
    KillOnce killer = new KillOnce(app, 60);                  // of about 130: mid-run
    sc.sc().addSparkListener(killer);
    Network net = network();
    // The kill is meant: the driver's complaints about the lost connection are not news.
    List<String> quiet = List.of("org.apache.spark.network", "org.apache.spark.rpc",
        "org.apache.spark.storage");
    quiet.forEach(name -> org.apache.logging.log4j.core.config.Configurator.setLevel(
        name, org.apache.logging.log4j.Level.OFF));
    try {
      SparkTrainer.of(trainer(net)).partitions(2).fit(sc.parallelize(examples(), 2));
    } finally {
      sc.sc().removeSparkListener(killer);
      quiet.forEach(name -> org.apache.logging.log4j.core.config.Configurator.setLevel(
          name, org.apache.logging.log4j.Level.WARN));
    }
    killer.done.get(30, TimeUnit.SECONDS);
    ProcessHandle killed = before.get(killer.executor);
    System.out.printf("killed executor %s (pid %d) at task %d; %d tasks failed and were rerun;"
        + " %d tasks in all%n", killer.executor, killed.pid(), killer.at, killer.failedTasks.get(),
        killer.tasks.get());
    assertAll(
        () -> assertFalse(killed.isAlive(), "executor " + killer.executor + " still alive"),
        () -> assertSameWeights(onLocal2, net),
        () -> assertTrue(relaunched(app, before.keySet(), Duration.ofSeconds(60)),
            "no executor relaunched after the kill: " + cluster.executors(app) + "\n"
                + cluster.logs()));
  }

  /** Whether an executor other than {@code old} runs for {@code app} within {@code timeout}. */
  private static boolean relaunched(String app, java.util.Set<String> old, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (cluster.executors(app).keySet().stream().anyMatch(id -> !old.contains(id))) {
        return true;
      }
      Thread.sleep(200);
    }
    return false;
  }

  /**
   * A driver-side listener that kills, with {@code kill -9}, the executor running the {@code
   * at}-th task of the application (once), and counts the tasks that end in failure.
   */
  private static final class KillOnce extends SparkListener {
    final String app;
    final int at;
    final AtomicInteger tasks = new AtomicInteger();
    final AtomicInteger failedTasks = new AtomicInteger();
    final java.util.concurrent.CompletableFuture<Long> done =
        new java.util.concurrent.CompletableFuture<>();
    volatile String executor;

    KillOnce(String app, int at) {
      this.app = app;
      this.at = at;
    }

    @Override public void onTaskStart(SparkListenerTaskStart e) {
      if (tasks.incrementAndGet() == at) {
        executor = e.taskInfo().executorId();
        Thread t = new Thread(() -> {
          try {
            done.complete(cluster.killExecutor(app, executor));
          } catch (RuntimeException ex) {
            done.completeExceptionally(ex);
          }
        }, "kill executor " + executor);
        t.setDaemon(true);
        t.start();
      }
    }

    @Override public void onTaskEnd(SparkListenerTaskEnd e) {
      if (!e.taskInfo().successful()) {
        failedTasks.incrementAndGet();
      }
    }
  }

  /** Waits until {@code n} executors have registered with the driver. */
  private static void awaitExecutors(int n, Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (sc.sc().getExecutorMemoryStatus().size() < n + 1) {   // + the driver's block manager
      if (System.nanoTime() > deadline) {
        throw new IOException("fewer than " + n + " executors after " + timeout + ":\n"
            + cluster.logs());
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(e);
      }
    }
  }

  // ---- the data and the training compared ----------------------------------------------------

  static final String SPEC = "lstm(3, 8).dense(8, 2)";

  /** 192 examples of 10 steps padded, lengths 3 to 10, values targets, seeded. */
  static List<Example> examples() {
    Random r = new Random(21);
    List<Example> ex = new ArrayList<>();
    for (int n = 0; n < 192; n++) {
      int len = 3 + r.nextInt(8);
      double[] x = new double[10 * 3];
      double[] y = new double[10 * 2];
      for (int t = 0; t < len; t++) {
        for (int f = 0; f < 3; f++) {
          x[t * 3 + f] = r.nextGaussian();
        }
        y[t * 2] = Math.tanh(x[t * 3] - x[t * 3 + 2]);
        y[t * 2 + 1] = 0.3 * x[t * 3 + 1];
      }
      ex.add(Example.of(Tensor.of(x, 10, 3), len, Tensor.of(y, 10, 2)));
    }
    return ex;
  }

  /** 10 epochs of 4 steps of 48 examples, Adam with clipping, float64. */
  static Trainer trainer(Network net) {
    return net.trainer().loss(Trainer.Objective.MSE)
        .optimizer(ps -> Adam.builder().lr(1e-2).build(ps))
        .epochs(10).batchSize(48).shuffle(3).clipGradNorm(1.0);
  }

  static Network network() {
    return Rnn.parse(SPEC).dtype(DType.FLOAT64).seed(4).dropoutSeed(4).build();
  }

  /** The network after the same training on {@code local[2]}, in a context of its own. */
  private static Network trainedOnLocal2() {
    SparkConf conf = new SparkConf().setMaster("local[2]").setAppName("local[2] reference")
        .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
        .set("spark.driver.bindAddress", "127.0.0.1");
    Network net = network();
    try (JavaSparkContext local = new JavaSparkContext(conf)) {
      SparkTrainer.of(trainer(net)).partitions(2).fit(local.parallelize(examples(), 2));
    }
    return net;
  }

  static void assertSameWeights(Network expected, Network actual) {
    List<Executable> checks = new ArrayList<>();
    for (Map.Entry<String, Parameter> e : expected.namedParameters().entrySet()) {
      double[] want = e.getValue().value().toDoubleArray();
      double[] got = actual.parameter(e.getKey()).toDoubleArray();
      checks.add(() -> {
        for (int i = 0; i < want.length; i++) {
          assertEquals(want[i], got[i], 1e-9 * Math.max(1e-3, Math.abs(want[i])),
              e.getKey() + "[" + i + "]");
        }
      });
    }
    assertAll(checks);
  }
}
