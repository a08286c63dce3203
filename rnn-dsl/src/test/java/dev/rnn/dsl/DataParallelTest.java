package dev.rnn.dsl;

import static dev.rnn.dsl.Rnn.network;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.autograd.Bptt;
import dev.rnn.autograd.Graph;
import dev.rnn.autograd.optim.Adam;
import dev.rnn.core.DType;
import dev.rnn.core.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data parallelism gives one machine's answer: the sum of parts' gradients, stepped once on the
 * driver, trains exactly as {@link Trainer#fit} (float64, 1e-9 relative after 50 Adam steps with
 * clipping), whatever the split, with lengths, truncated BPTT and dropout; and dropout masks are
 * a sequence's own, whatever batch it is in.
 */
class DataParallelTest {
  static final int N = 24;
  static final int T = 7;
  static final int F = 3;
  static final int O = 2;

  /** Example-major data: inputs [N, T, F], targets [N, T, O], lengths [N]. */
  record Data(Tensor inputs, Tensor targets, int[] lengths) {}

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

  static Trainer trainer(Network net, Bptt bptt) {
    return net.trainer().loss(Trainer.Objective.MSE)
        .optimizer(ps -> Adam.builder().lr(1e-2).build(ps)).epochs(17).batchSize(8).shuffle(7)
        .clipGradNorm(0.5).bptt(bptt);
  }

  /** The driver's cluster in one process: parts by {@code partOf(index)}, summed in order. */
  static final class LocalCluster implements DataParallel.Cluster {
    final Network net;
    final List<DataParallel.Part> parts = new ArrayList<>();
    final List<List<Integer>> members = new ArrayList<>();
    final int[] partOf;
    final int[] positionIn;

    LocalCluster(Trainer trainer, Network net, Data d, int[] partOf, int partCount) {
      this.net = net;
      this.partOf = partOf;
      this.positionIn = new int[N];
      DataParallel.Worker worker = DataParallel.Worker.of(trainer);
      for (int p = 0; p < partCount; p++) {
        List<Integer> m = new ArrayList<>();
        for (int i = 0; i < N; i++) {
          if (partOf[i] == p) {
            positionIn[i] = m.size();
            m.add(i);
          }
        }
        members.add(m);
        List<Tensor> xs = new ArrayList<>();
        List<Tensor> ys = new ArrayList<>();
        int[] lengths = d.lengths() == null ? null : new int[m.size()];
        int[] idx = new int[m.size()];
        for (int k = 0; k < m.size(); k++) {
          int i = m.get(k);
          xs.add(d.inputs().slice(0, i, i + 1));
          ys.add(d.targets().slice(0, i, i + 1));
          if (lengths != null) {
            lengths[k] = d.lengths()[i];
          }
          idx[k] = i;
        }
        parts.add(worker.part(Tensor.concat(0, xs), lengths, Tensor.concat(0, ys), idx));
      }
    }

    @Override public int sequences() {
      return N;
    }

    @Override public int steps() {
      return T;
    }

    @Override public DataParallel.Sum window(int epoch, int batch, int[] rows, Bptt.Window w) {
      double[] weights = DataParallel.weights(net);
      DataParallel.Sum sum = null;
      for (int p = 0; p < parts.size(); p++) {
        List<Integer> local = new ArrayList<>();
        for (int i : rows) {
          if (partOf[i] == p) {
            local.add(positionIn[i]);
          }
        }
        parts.get(p).setWeights(weights);
        DataParallel.Sum s = parts.get(p).window(epoch, batch,
            local.stream().mapToInt(Integer::intValue).toArray(), w);
        sum = sum == null ? s : sum.add(s);
      }
      return sum;
    }
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

  static Network fitOnOneMachine(Data d, Bptt bptt) {
    Network net = lstm();
    Trainer t = trainer(net, bptt);
    Tensor x = d.inputs().transpose(0, 1);
    Tensor y = d.targets().transpose(0, 1);
    Trainer.Report r = d.lengths() == null ? t.fit(x, y) : t.fit(x, d.lengths(), y);
    assertTrue(r.stepsDone() >= 51, "at least 50 steps: " + r.stepsDone());
    return net;
  }

  static Network fitInParts(Data d, Bptt bptt, int[] partOf, int partCount) {
    Network net = lstm();
    Trainer t = trainer(net, bptt);
    DataParallel.fit(t, new LocalCluster(t, net, d, partOf, partCount), 0, null);
    return net;
  }

  static int[] alternate(int parts) {
    int[] partOf = new int[N];
    for (int i = 0; i < N; i++) {
      partOf[i] = i % parts;
    }
    return partOf;
  }

  /** A part's sum of one window over all {@code N} sequences of a network in {@code dtype}. */
  static DataParallel.Sum partsSum(DType dtype) {
    Data d = data(true);
    Network net = network().lstm(F, 6).dense(6, O).dtype(dtype).seed(42).build();
    DataParallel.Worker worker = DataParallel.Worker.of(net.trainer().loss(Trainer.Objective.MSE));
    int[] all = new int[N];
    for (int i = 0; i < N; i++) {
      all[i] = i;
    }
    DataParallel.Part part = worker.part(d.inputs(), d.lengths(), d.targets(), all);
    return part.window(1, 1, all, worker.windows(T).get(0));
  }

  static byte[] serialised(Object o) throws Exception {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
      out.writeObject(o);
    }
    return bytes.toByteArray();
  }

  @Test void aPartsSumTravelsInItsNetworksWidthAndReadsBackExactly() throws Exception {
    for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64)) {
      DataParallel.Sum sum = partsSum(dtype);
      byte[] bytes = serialised(sum);
      DataParallel.Sum back;
      try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
          new java.io.ByteArrayInputStream(bytes))) {
        back = (DataParallel.Sum) in.readObject();
      }
      int width = dtype == DType.FLOAT32 ? 4 : 8;
      int p = sum.gradient().length;
      assertTrue(bytes.length >= width * p && bytes.length < width * p + 1000,
          dtype + ": " + bytes.length + " bytes for " + p + " numbers");
      assertArrayEquals(sum.gradient(), back.gradient(), 0, dtype.toString());
      assertEquals(sum.loss(), back.loss(), 0);
      assertEquals(sum.count(), back.count(), 0);
      assertArrayEquals(sum.tallies(), back.tallies(), 0);
    }
  }

  @Test void lstmWithLengthsAndDropoutTrainsAsOneMachineInThreeParts() {
    Data d = data(true);
    assertClose(fitOnOneMachine(d, Bptt.full()), fitInParts(d, Bptt.full(), alternate(3), 3),
        1e-9);
  }

  @Test void truncatedBpttCarriesEachPartsStateAsOneMachine() {
    Data d = data(true);
    assertClose(fitOnOneMachine(d, Bptt.truncated(3, 3)),
        fitInParts(d, Bptt.truncated(3, 3), alternate(2), 2), 1e-9);
  }

  @Test void aSplitThatLeavesAPartWithoutAnyOfABatchChangesNothing() {
    Data d = data(false);
    int[] partOf = new int[N];
    for (int i = 0; i < N; i++) {
      partOf[i] = i < 20 ? 0 : 1; // part 1 holds four sequences: most batches miss it
    }
    assertClose(fitOnOneMachine(d, Bptt.full()), fitInParts(d, Bptt.full(), partOf, 2), 1e-9);
  }

  @Test void accuracyIsTalliedOnThePartsAsOnOneMachine() {
    Random r = new Random(3);
    double[][][] x = new double[N][T][F];
    double[] classes = new double[N];
    for (int n = 0; n < N; n++) {
      for (int t = 0; t < T; t++) {
        for (int f = 0; f < F; f++) {
          x[n][t][f] = r.nextGaussian();
        }
      }
      classes[n] = r.nextInt(3);
    }
    Data d = new Data(Tensor.of(x), Tensor.of(classes, N), null);
    Supplier<Network> classifier = () -> network().gru(F, 5).lastStep().dense(5, 3)
        .dtype(DType.FLOAT64).seed(9).build();
    Network one = classifier.get();
    Trainer.Report expected = one.trainer().loss(Trainer.Objective.CROSS_ENTROPY)
        .metrics(Metric.accuracy()).epochs(4).batchSize(8).shuffle(3)
        .fit(d.inputs().transpose(0, 1), d.targets());
    Network parted = classifier.get();
    Trainer t = parted.trainer().loss(Trainer.Objective.CROSS_ENTROPY)
        .metrics(Metric.accuracy()).epochs(4).batchSize(8).shuffle(3);
    Trainer.Report actual =
        DataParallel.fit(t, new LocalCluster(t, parted, d, alternate(2), 2), 0, null);
    for (int e = 0; e < 4; e++) {
      assertEquals(expected.history().get(e).metric("accuracy"),
          actual.history().get(e).metric("accuracy"), 1e-12);
      assertEquals(expected.history().get(e).metric("loss"),
          actual.history().get(e).metric("loss"), 1e-9);
    }
    assertClose(one, parted, 1e-9);
  }

  @Test void aSequencesDropoutMaskIsItsOwnWhateverItsBatch() {
    Network net = network().lstm(2, 8).dropout(0.5).dense(8, 2).seed(1).build();
    Tensor x = Tensor.randn(DType.FLOAT32, 2, 5, 3, 2);
    Supplier<Tensor> both = () -> {
      Graph g = Graph.trainingPerRow(new long[] {11, 12, 13});
      return net.forward(g, g.constant(x), null, 0).output().tensor();
    };
    Graph g = Graph.trainingPerRow(new long[] {12});
    Tensor alone = net.forward(g, g.constant(x.slice(1, 1, 2)), null, 0).output().tensor();
    assertArrayEquals(both.get().slice(1, 1, 2).toDoubleArray(), alone.toDoubleArray());
  }

  @Test void aCheckpointEveryKStepsRestartsToTheUnbrokenRunsWeights(@TempDir Path dir)
      throws Exception {
    Data d = data(true);
    Network whole = fitInParts(d, Bptt.full(), alternate(2), 2);
    Network first = lstm();
    // 17 epochs of 3 batches, a checkpoint every 4 steps; the run dies at step 18, so its last
    // checkpoint is that of step 16, after batch 1 of epoch 6: the restart goes on from batch 2
    Trainer dies = trainer(first, Bptt.full()).listener(e -> {
      if (e.step() == 18) {
        throw new IllegalStateException("the driver died");
      }
    });
    Path run = dir.resolve("run"); // created by the fit
    assertThrows(IllegalStateException.class,
        () -> DataParallel.fit(dies, new LocalCluster(dies, first, d, alternate(2), 2), 4, run));
    assertTrue(Files.exists(run.resolve("last.safetensors")));
    Network restarted = lstm();
    Trainer again = trainer(restarted, Bptt.full());
    DataParallel.fitFrom(again, run.resolve("last.safetensors"),
        new LocalCluster(again, restarted, d, alternate(2), 2), 4, run);
    assertClose(whole, restarted, 0);
  }
}
