package dev.rnn.dsl.spark;

import dev.rnn.autograd.Bptt;
import dev.rnn.core.DType;
import dev.rnn.dsl.DataParallel;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.Trainer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import org.apache.spark.Partitioner;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction2;

/**
 * The workers of a {@link SparkTrainer} run, as the driver's {@link DataParallel.Cluster}: the
 * examples laid out so that every global batch is spread evenly over the partitions, and one
 * Spark job per optimizer step.
 *
 * <p>Layout: in epoch e the example at position k of the epoch's order goes to partition {@code
 * (k mod B) mod P}, so each batch's {@code B} examples are dealt round-robin over the {@code P}
 * partitions (each gets {@code floor(B/P)} or {@code ceil(B/P)}), whatever the order of the data.
 * Without shuffling one layout serves every epoch; with it, each epoch is laid out anew (one
 * shuffle of the data per epoch, as the epoch's order changes).
 *
 * <p>A step: the weights are broadcast as one array of bytes ({@code P} floats for a float32
 * network, doubles for float64); each partition sets them on its part's network (cached on the
 * executor across steps, rebuilt from the partition's examples where lost), computes its part of
 * the window and returns a {@link DataParallel.Sum} (as compact bytes, the same width); up to 4
 * partitions, one job hands them to the driver, which adds them in partition order; beyond,
 * {@code treeReduce} adds them in a tree.
 * Truncated BPTT carries each part's state on the executor from window to window of a batch;
 * a retried task that does not find it there replays the batch's earlier windows from their
 * broadcast weights, so a lost task or executor changes nothing.
 */
final class SparkCluster implements DataParallel.Cluster, AutoCloseable {
  private final JavaSparkContext sc;
  private final Trainer trainer;
  private final Network net;
  private final JavaPairRDD<Long, Example> indexed;
  private final int sequences;
  private final int steps;
  private final int partitions;
  private final int batchSize;
  private final boolean shuffled;
  private final String run = UUID.randomUUID().toString();
  private final Broadcast<DataParallel.Worker> worker;
  private final int depth;
  private final boolean float32;

  private int layoutEpoch = -1;
  private JavaRDD<Positioned> laid;
  private final List<Broadcast<byte[]>> batchWeights = new ArrayList<>();

  SparkCluster(JavaSparkContext sc, Trainer trainer, Network net,
      JavaPairRDD<Long, Example> indexed, int sequences, int steps, int partitions,
      boolean shuffled) {
    this.sc = sc;
    this.trainer = trainer;
    this.net = net;
    this.indexed = indexed;
    this.sequences = sequences;
    this.steps = steps;
    this.partitions = partitions;
    this.batchSize = DataParallel.batchSize(trainer);
    this.shuffled = shuffled;
    this.worker = sc.broadcast(DataParallel.Worker.of(trainer));
    this.depth = partitions > 4 ? 2 : 1;
    this.float32 = net.dtype() == DType.FLOAT32;
  }

  /** An example with its index in the data and its position in the epoch's order. */
  record Positioned(int position, int index, Example example) implements java.io.Serializable {}

  /** Partition {@code key} goes to partition {@code key}. */
  static final class ByKey extends Partitioner {
    private static final long serialVersionUID = 1L;
    private final int partitions;

    ByKey(int partitions) {
      this.partitions = partitions;
    }

    @Override public int numPartitions() {
      return partitions;
    }

    @Override public int getPartition(Object key) {
      return (Integer) key;
    }

    @Override public boolean equals(Object o) {
      return o instanceof ByKey k && k.partitions == partitions;
    }

    @Override public int hashCode() {
      return partitions;
    }
  }

  /** The partition of position {@code k}: batches dealt round-robin. */
  static int partitionOf(int k, int batchSize, int partitions) {
    return (k % batchSize) % partitions;
  }

  @Override public int sequences() {
    return sequences;
  }

  @Override public int steps() {
    return steps;
  }

  /** Lays the examples out for epoch {@code epoch}, unless the layout of the epoch is there. */
  private void layout(int epoch) {
    int key = shuffled ? epoch : 0;
    if (laid != null && layoutEpoch == key) {
      return;
    }
    int[] order = DataParallel.order(trainer, sequences, shuffled ? epoch : 1);
    int[] position = new int[sequences];
    for (int k = 0; k < order.length; k++) {
      position[order[k]] = k;
    }
    Broadcast<int[]> positions = sc.broadcast(position);
    int b = batchSize;
    int p = partitions;
    JavaRDD<Positioned> next = indexed
        .mapToPair(t -> {
          int k = positions.value()[(int) (long) t._1()];
          return new Tuple2<>(partitionOf(k, b, p),
              new Positioned(k, (int) (long) t._1(), t._2()));
        })
        .partitionBy(new ByKey(partitions))
        .values()
        .persist(StorageLevel.MEMORY_ONLY());
    next.count();
    positions.destroy(false);
    if (laid != null) {
      laid.unpersist(false);
    }
    laid = next;
    layoutEpoch = key;
  }

  @Override public DataParallel.Sum window(int epoch, int batch, int[] rows, Bptt.Window w) {
    layout(epoch);
    if (w.index() == 0) {
      for (Broadcast<byte[]> old : batchWeights) {
        old.destroy(false);
      }
      batchWeights.clear();
    }
    batchWeights.add(sc.broadcast(pack(DataParallel.weights(net), float32)));
    Step step = new Step(run + "/" + layoutEpoch, List.copyOf(batchWeights), worker, epoch, batch,
        (batch - 1) * batchSize, Math.min(sequences, batch * batchSize), w.index(), steps);
    if (depth > 1) {
      return laid.mapPartitionsWithIndex((p, examples) -> Collections.singletonList(
          step.run(p, examples)).iterator(), true).treeReduce(DataParallel.Sum::add, depth);
    }
    // one job, its closure a plain class (no closure cleaning); the parts' sums added on the
    // driver in the order of the partitions, whatever the order they arrive in
    DataParallel.Sum[] sums = (DataParallel.Sum[]) sc.sc().runJob(laid.rdd(), step,
        ClassTag$.MODULE$.apply(DataParallel.Sum.class));
    DataParallel.Sum total = sums[0];
    for (int i = 1; i < sums.length; i++) {
      total.add(sums[i]);
    }
    return total;
  }

  /**
   * A task of a step: partition {@code p}'s share of a window, from its cached part (rebuilt
   * from the partition's examples where lost); a retried task that does not find the state of
   * truncated BPTT replays the batch's earlier windows from their broadcast weights.
   */
  static final class Step extends AbstractFunction2<TaskContext,
      scala.collection.Iterator<Positioned>, DataParallel.Sum> implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final String key;
    private final List<Broadcast<byte[]>> history;
    private final Broadcast<DataParallel.Worker> recipe;
    private final int epoch;
    private final int batch;
    private final int from;
    private final int to;
    private final int windowIndex;
    private final int steps;

    Step(String key, List<Broadcast<byte[]>> history, Broadcast<DataParallel.Worker> recipe,
        int epoch, int batch, int from, int to, int windowIndex, int steps) {
      this.key = key;
      this.history = history;
      this.recipe = recipe;
      this.epoch = epoch;
      this.batch = batch;
      this.from = from;
      this.to = to;
      this.windowIndex = windowIndex;
      this.steps = steps;
    }

    @Override public DataParallel.Sum apply(TaskContext context,
        scala.collection.Iterator<Positioned> examples) {
      return run(context.partitionId(), CollectionConverters.asJava(examples));
    }

    DataParallel.Sum run(int p, Iterator<Positioned> examples) {
      Parts.Part part = Parts.get(key, p, examples, recipe.value());
      List<Bptt.Window> windows = part.windows(steps);
      int[] local = part.rows(from, to);
      Bptt.Window win = windows.get(windowIndex);
      synchronized (part) {
        if (!part.canRun(epoch, batch, win)) {
          for (int j = 0; j < windowIndex; j++) {
            part.window(unpack(history.get(j).value()), epoch, batch, local, windows.get(j));
          }
        }
        return part.window(unpack(history.get(windowIndex).value()), epoch, batch, local, win);
      }
    }
  }

  /**
   * The weights as one array of little-endian bytes (a broadcast of it is one block, with no
   * per-number serialisation and nothing for Spark's size estimator to walk): float32 for a
   * float32 network (its weights exactly), else float64; the first byte says which.
   */
  static byte[] pack(double[] w, boolean float32) {
    ByteBuffer b = ByteBuffer.allocate(1 + w.length * (float32 ? 4 : 8))
        .order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) (float32 ? 4 : 8));
    if (float32) {
      FloatBuffer f = b.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      for (double v : w) {
        f.put((float) v);
      }
    } else {
      b.slice().order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().put(w);
    }
    return b.array();
  }

  /** The weights {@link #pack} packed. */
  static double[] unpack(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes, 1, bytes.length - 1).slice()
        .order(ByteOrder.LITTLE_ENDIAN);
    double[] w = new double[(bytes.length - 1) / bytes[0]];
    if (bytes[0] == 4) {
      FloatBuffer f = b.asFloatBuffer();
      for (int i = 0; i < w.length; i++) {
        w[i] = f.get(i);
      }
    } else {
      b.asDoubleBuffer().get(w);
    }
    return w;
  }

  /**
   * How many examples of each batch of epoch {@code epoch} each partition holds: {@code
   * [batch][partition]}, for the tests of balance.
   */
  int[][] batchCounts(int epoch) {
    layout(epoch);
    int batches = (sequences + batchSize - 1) / batchSize;
    int b = batchSize;
    List<int[]> perPartition = laid.mapPartitions(it -> {
      int[] counts = new int[batches];
      it.forEachRemaining(e -> counts[e.position() / b]++);
      return List.of(counts).iterator();
    }, true).collect();
    int[][] counts = new int[batches][perPartition.size()];
    for (int p = 0; p < perPartition.size(); p++) {
      for (int k = 0; k < batches; k++) {
        counts[k][p] = perPartition.get(p)[k];
      }
    }
    return counts;
  }

  @Override public void close() {
    for (Broadcast<byte[]> old : batchWeights) {
      old.destroy(false);
    }
    batchWeights.clear();
    if (laid != null) {
      String prefix = run + "/";
      laid.foreachPartition(it -> Parts.forget(prefix));
      laid.unpersist(false);
    }
    Parts.forget(run + "/");
    worker.destroy(false);
  }
}
