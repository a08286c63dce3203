package dev.rnn.dsl.spark;

import static dev.rnn.dsl.Rnn.network;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.autograd.Bptt;
import dev.rnn.autograd.optim.Adam;
import dev.rnn.core.DType;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.DataParallel;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.Tuple2;

/**
 * Training on Spark ({@code local[2]}) gives {@link Trainer#fit}'s weights: float64, 1e-9
 * relative after more than 50 Adam steps with gradient clipping; an LSTM with lengths and
 * dropout, truncated BPTT; whatever the partitioning of the data, each batch spread evenly; a
 * run restarted from the driver's checkpoint ends as the unbroken one; and the data directory
 * read with {@code binaryFiles} trains as the same data in memory.
 */
class SparkTrainerTest {
  static final int N = 48;
  static final int T = 6;
  static final int F = 3;
  static final int O = 2;
  static final int B = 8;
  private static JavaSparkContext sc;

  @BeforeAll static void start() {
    sc = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("SparkTrainerTest")
        .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
        .set("spark.driver.bindAddress", "127.0.0.1"));
  }

  @AfterAll static void stop() {
    sc.stop();
  }

  /** Example-major data: inputs [N, T, F], targets [N, T, O], lengths [N] (or null). */
  record Data(Tensor inputs, Tensor targets, int[] lengths) {
    List<Example> examples() {
      List<Example> list = new ArrayList<>();
      for (int n = 0; n < N; n++) {
        list.add(Example.of(inputs.slice(0, n, n + 1).reshape(T, F),
            lengths == null ? 0 : lengths[n], targets.slice(0, n, n + 1).reshape(T, O)));
      }
      return list;
    }
  }

  static Data data(boolean withLengths) {
    Random r = new Random(5);
    double[][][] x = new double[N][T][F];
    double[][][] y = new double[N][T][O];
    int[] lengths = new int[N];
    for (int n = 0; n < N; n++) {
      lengths[n] = withLengths ? 1 + r.nextInt(T) : T;
      for (int t = 0; t < T; t++) {
        for (int f = 0; f < F; f++) {
          x[n][t][f] = r.nextGaussian();
        }
        for (int o = 0; o < O; o++) {
          y[n][t][o] = r.nextGaussian();
        }
      }
    }
    return new Data(Tensor.of(x), Tensor.of(y), withLengths ? lengths : null);
  }

  static Network lstm() {
    return network().lstm(F, 6).dropout(0.3).dense(6, O).dtype(DType.FLOAT64).seed(42).build();
  }

  /** 9 epochs of 6 batches: 54 Adam steps with clipping (per window for truncated BPTT). */
  static Trainer trainer(Network net, Bptt bptt) {
    return net.trainer().loss(Trainer.Objective.MSE)
        .optimizer(ps -> Adam.builder().lr(1e-2).build(ps)).epochs(9).batchSize(B).shuffle(7)
        .clipGradNorm(0.5).bptt(bptt);
  }

  static Network onOneMachine(Data d, Bptt bptt) {
    Network net = lstm();
    Trainer t = trainer(net, bptt);
    Tensor x = d.inputs().transpose(0, 1);
    Tensor y = d.targets().transpose(0, 1);
    Trainer.Report r = d.lengths() == null ? t.fit(x, y) : t.fit(x, d.lengths(), y);
    assertTrue(r.stepsDone() >= 50, "steps " + r.stepsDone());
    return net;
  }

  static void assertClose(Network expected, Network actual, double rel) {
    double[] a = DataParallel.weights(expected);
    double[] b = DataParallel.weights(actual);
    double worst = 0;
    for (int i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1e-12, Math.abs(a[i])));
    }
    assertTrue(worst <= rel, "worst relative difference " + worst + " > " + rel);
  }

  @Test void mistakesFailAtTheCallThatMakesThem() {
    Trainer t = trainer(lstm(), Bptt.full());
    SparkTrainer twice = SparkTrainer.of(t).partitions(2);
    JavaRDD<Example> mixed = sc.parallelize(List.of(
        Example.of(Tensor.zeros(DType.FLOAT64, T, F), Tensor.zeros(DType.FLOAT64, T, O)),
        Example.of(Tensor.zeros(DType.FLOAT64, T + 1, F), Tensor.zeros(DType.FLOAT64, T + 1, O))),
        1);
    assertAll(
        () -> assertEquals("partitions expected n >= 1 but got 0",
            assertThrows(IllegalArgumentException.class,
                () -> SparkTrainer.of(t).partitions(0)).getMessage()),
        () -> assertEquals("partitions was already set to 2",
            assertThrows(IllegalStateException.class, () -> twice.partitions(3)).getMessage()),
        () -> assertEquals("checkpointEvery expected steps >= 1 but got 0",
            assertThrows(IllegalArgumentException.class,
                () -> SparkTrainer.of(t).checkpointEvery(0, Path.of("run"))).getMessage()),
        () -> assertEquals("fit expected every example to be like example 0 (inputs [6, 3],"
            + " targets [6, 2], no length) but example 1 is inputs [7, 3], targets [7, 2], no"
            + " length",
            assertThrows(IllegalArgumentException.class,
                () -> SparkTrainer.of(t).fit(mixed)).getMessage()),
        () -> assertEquals("Example expected a length in [1, 6] (the steps of its inputs [6, 3])"
            + " but got 7", assertThrows(IllegalArgumentException.class,
                () -> Example.of(Tensor.zeros(DType.FLOAT64, T, F), 7,
                    Tensor.zeros(DType.FLOAT64, T, O))).getMessage()));
  }

  @Test void weightsTravelInTheNetworksWidth() {
    double[] w = {1.5, -0.1, 3e-9, 0};
    double[] floats = {1.5, (float) -0.1, (float) 3e-9, 0};
    assertAll(
        () -> assertEquals(1 + 4 * 4, SparkCluster.pack(w, true).length),
        () -> assertArrayEquals(floats, SparkCluster.unpack(SparkCluster.pack(floats, true)), 0),
        () -> assertEquals(1 + 8 * 4, SparkCluster.pack(w, false).length),
        () -> assertArrayEquals(w, SparkCluster.unpack(SparkCluster.pack(w, false)), 0));
  }

  @Test void aFloat32NetworkTrainsAsTrainerFitToFloat32Precision() {
    Data d = data(true);
    Network spread = network().lstm(F, 6).dense(6, O).seed(42).build();
    SparkTrainer.of(trainer(spread, Bptt.full())).fit(sc.parallelize(d.examples(), 2));
    Network one = network().lstm(F, 6).dense(6, O).seed(42).build();
    trainer(one, Bptt.full()).fit(d.inputs().transpose(0, 1), d.lengths(),
        d.targets().transpose(0, 1));
    double[] a = DataParallel.weights(one);
    double[] b = DataParallel.weights(spread);
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < a.length; i++) {
      diff += (a[i] - b[i]) * (a[i] - b[i]);
      norm += a[i] * a[i];
    }
    assertTrue(Math.sqrt(diff / norm) <= 1e-4, "relative difference " + Math.sqrt(diff / norm));
  }

  @Test void anLstmWithLengthsAndDropoutTrainsAsTrainerFit() {
    Data d = data(true);
    Network net = lstm();
    Trainer.Report r = SparkTrainer.of(trainer(net, Bptt.full()))
        .fit(sc.parallelize(d.examples(), 3));
    assertAll(
        () -> assertEquals(54, r.stepsDone()),
        () -> assertClose(onOneMachine(d, Bptt.full()), net, 1e-9));
  }

  @Test void truncatedBpttTrainsAsTrainerFit() {
    Data d = data(true);
    Network net = lstm();
    SparkTrainer.of(trainer(net, Bptt.truncated(2, 3))).fit(sc.parallelize(d.examples(), 2));
    assertClose(onOneMachine(d, Bptt.truncated(2, 3)), net, 1e-9);
  }

  @Test void executorsThatLoseTheirPartsInTheMiddleOfABatchReplayItAndEndTheSame() {
    Data d = data(true);
    Network net = lstm();
    // local mode: the executors are this JVM; forgetting every part after some windows is what
    // an executor lost and replaced does (the carried state of truncated BPTT gone with it)
    Trainer forgetful = trainer(net, Bptt.truncated(2, 3)).listener(e -> {
      if (e.step() % 7 == 0) {
        Parts.forget("");
      }
    });
    SparkTrainer.of(forgetful).fit(sc.parallelize(d.examples(), 2));
    assertClose(onOneMachine(d, Bptt.truncated(2, 3)), net, 1e-9);
  }

  @Test void dataWhoseEveryBatchSitsInOnePartitionIsSpreadEvenly() {
    Data d = data(false);
    Network net = lstm();
    Trainer trainer = net.trainer().loss(Trainer.Objective.MSE).epochs(2).batchSize(B);
    // no shuffle: batch b is examples [8(b-1), 8b), and each slice of parallelize holds one batch
    JavaRDD<Example> sorted = sc.parallelize(d.examples(), N / B);
    JavaPairRDD<Long, Example> indexed = sorted.zipWithIndex()
        .mapToPair(t -> new Tuple2<>(t._2(), t._1()));
    try (SparkCluster cluster = new SparkCluster(sc, trainer, net, indexed, N, T, 2, false)) {
      int[][] counts = cluster.batchCounts(1);
      for (int[] batch : counts) {
        assertEquals(List.of(B / 2, B / 2), List.of(batch[0], batch[1]));
      }
    }
    Network spread = lstm();
    SparkTrainer.of(trainer(spread, Bptt.full())).partitions(2).fit(sorted);
    assertClose(onOneMachine(d, Bptt.full()), spread, 1e-9);
  }

  @Test void aRunRestartedFromTheDriversCheckpointEndsAsTheUnbrokenRun(@TempDir Path dir)
      throws Exception {
    Data d = data(true);
    JavaRDD<Example> examples = sc.parallelize(d.examples(), 2);
    Network whole = lstm();
    SparkTrainer.of(trainer(whole, Bptt.full())).fit(examples);
    Network dies = lstm();
    // a checkpoint every 10 steps (and at each epoch's end, 6 steps); the driver dies at step
    // 23: the last checkpoint is that of step 20 (epoch 4, batch 2), in the middle of an epoch
    Trainer dying = trainer(dies, Bptt.full()).listener(e -> {
      if (e.step() == 23) {
        throw new IllegalStateException("the driver died");
      }
    });
    assertThrows(IllegalStateException.class,
        () -> SparkTrainer.of(dying).checkpointEvery(10, dir).fit(examples));
    Network restarted = lstm();
    SparkTrainer.of(trainer(restarted, Bptt.full())).checkpointEvery(10, dir)
        .fitFrom(dir.resolve("last.safetensors"), examples);
    assertClose(whole, restarted, 0);
  }

  /** A safetensors shard: inputs and targets F64, lengths I64, as torch's save_file writes. */
  static byte[] shard(Tensor inputs, Tensor targets, long[] lengths) {
    double[] x = inputs.toDoubleArray();
    double[] y = targets.toDoubleArray();
    String header = String.format("{\"inputs\":{\"dtype\":\"F64\",\"shape\":%s,"
        + "\"data_offsets\":[0,%d]},\"targets\":{\"dtype\":\"F64\",\"shape\":%s,"
        + "\"data_offsets\":[%d,%d]},\"lengths\":{\"dtype\":\"I64\",\"shape\":[%d],"
        + "\"data_offsets\":[%d,%d]}}", shape(inputs), 8 * x.length, shape(targets),
        8 * x.length, 8 * (x.length + y.length), lengths.length, 8 * (x.length + y.length),
        8 * (x.length + y.length + lengths.length));
    byte[] h = header.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + h.length
        + 8 * (x.length + y.length + lengths.length)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    for (double v : x) {
      b.putDouble(v);
    }
    for (double v : y) {
      b.putDouble(v);
    }
    for (long v : lengths) {
      b.putLong(v);
    }
    return b.array();
  }

  static String shape(Tensor t) {
    List<Integer> dims = new ArrayList<>();
    for (int i = 0; i < t.rank(); i++) {
      dims.add(t.dim(i));
    }
    return dims.toString().replace(" ", "");
  }

  @Test void aDataDirectoryReadWithBinaryFilesTrainsAsTheSameDataInMemory(@TempDir Path dir)
      throws Exception {
    Data d = data(true);
    for (int s = 0; s < 3; s++) {
      int from = s * N / 3;
      int to = (s + 1) * N / 3;
      long[] l = new long[to - from];
      for (int i = from; i < to; i++) {
        l[i - from] = d.lengths()[i];
      }
      Files.write(dir.resolve("part-" + s + ".safetensors"), shard(
          d.inputs().slice(0, from, to), d.targets().slice(0, from, to), l));
    }
    Files.writeString(dir.resolve(".hidden.safetensors"), "not a shard");
    Files.writeString(dir.resolve("README.txt"), "not a shard");
    Network net = lstm();
    SparkTrainer.of(trainer(net, Bptt.full())).fit(sc, dir.toUri().toString());
    assertClose(onOneMachine(d, Bptt.full()), net, 1e-9);
  }
}
