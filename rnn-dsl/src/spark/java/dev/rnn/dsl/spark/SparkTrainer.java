package dev.rnn.dsl.spark;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.rnn.dsl.DataParallel;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.Trainer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * Trains a network on a Spark cluster by synchronous data parallelism, exactly as {@link
 * Trainer#fit} trains it on one machine: a {@link Trainer} configuration (its network, loss,
 * optimizer, epochs, batch size, shuffle, BPTT, clipping, schedule) run over a {@code
 * JavaRDD<Example>} or a data directory of safetensors shards on any Hadoop path.
 *
 * <pre>{@code
 * Trainer trainer = net.trainer().loss(Trainer.Objective.MSE)
 *     .optimizer(ps -> Adam.builder().lr(1e-3).build(ps)).epochs(10).batchSize(256).shuffle(7)
 *     .clipGradNorm(1.0);
 * Trainer.Report r = SparkTrainer.of(trainer).checkpointEvery(100, Path.of("run"))
 *     .fit(examples);                                  // a JavaRDD<Example>; net now trained
 * }</pre>
 *
 * <p>Every step:
 *
 * <pre>
 *   driver:    w = the network's parameters (P numbers), broadcast as one byte[] (4P bytes
 *              for a float32 network, 8P for float64)
 *   partition p (of the epoch's layout, which spreads each global batch evenly):
 *              its part of the batch, the window's forward and BPTT with the existing code, on
 *              its own copy of the network kept on the executor across steps,
 *              g_p = sum over its examples of d(sum of their step losses) / dw,  c_p = their count
 *              (sent as bytes of the network's width)
 *   one job:   g = sum_p g_p, c = sum_p c_p (added on the driver in partition order; beyond 4
 *              partitions by treeReduce)
 *   driver:    grad = g / c (the global batch's mean, as on one machine); finite check, clip
 *              on the global norm, schedule, one optimizer step; every K steps a checkpoint
 * </pre>
 *
 * <p>So the weights equal those of {@code trainer.fit} on the same data, in the same order, up to
 * the order of floating-point additions. The same global batches come from the same shuffle of
 * (shuffle seed, epoch) over the examples' indices (their order in the RDD); dropout masks are
 * drawn per example from (dropout seed, epoch, example index, window), as {@code Trainer.fit}
 * draws them, so they do not depend on how examples are split.
 *
 * <p>A configuration, like the trainer: it keeps nothing between fits; the network is the
 * trainer's, updated in place on the driver.
 */
public final class SparkTrainer {
  private final Trainer trainer;
  private Integer partitions;
  private Integer checkpointEvery;
  private Path checkpointDirectory;

  private SparkTrainer(Trainer trainer) {
    this.trainer = trainer;
  }

  /**
   * A distributed run of {@code trainer}'s configuration, over its network.
   *
   * @param trainer the configuration: its network, loss, optimizer, epochs, batches, BPTT, clipping
   * @return a Spark trainer with the default options
   */
  public static SparkTrainer of(Trainer trainer) {
    return new SparkTrainer(checkNotNull(trainer, "SparkTrainer expected a trainer but got null"));
  }

  /**
   * Spreads each global batch over {@code n} partitions (default: the context's default
   * parallelism, one per core of the cluster).
   *
   * @param n the partitions, {@code >= 1}
   * @return this
   * @throws IllegalArgumentException if {@code n < 1}
   * @throws IllegalStateException if set before
   */
  public SparkTrainer partitions(int n) {
    checkArgument(n >= 1, "partitions expected n >= 1 but got %s", n);
    if (partitions != null) {
      throw new IllegalStateException("partitions was already set to " + partitions);
    }
    partitions = n;
    return this;
  }

  /**
   * Has the driver write a checkpoint of the run (weights, optimizer state, where the run is,
   * down to the batch) atomically as {@code directory}/{@code last.safetensors}: at the end of
   * the batch that reaches each multiple of {@code steps} optimizer steps (a batch of truncated
   * BPTT is not cut), and at the end of every epoch; {@link #fitFrom} finishes the run from it
   * with the weights of an unbroken run.
   *
   * @param steps the optimizer steps between checkpoints, {@code >= 1}
   * @param directory the directory, created if missing
   * @return this
   * @throws IllegalArgumentException if {@code steps < 1}
   * @throws IllegalStateException if set before
   */
  public SparkTrainer checkpointEvery(int steps, Path directory) {
    checkArgument(steps >= 1, "checkpointEvery expected steps >= 1 but got %s", steps);
    checkNotNull(directory, "checkpointEvery expected a directory but got null");
    if (checkpointEvery != null) {
      throw new IllegalStateException("checkpointEvery was already set to " + checkpointEvery);
    }
    checkpointEvery = steps;
    checkpointDirectory = directory;
    return this;
  }

  /**
   * Trains the trainer's network on {@code examples}, in their RDD order (the order of {@code
   * Trainer.fit}'s batch dimension), on the cluster of the RDD's context.
   *
   * @param examples the training sequences
   * @return the report, as {@link Trainer#fit}'s
   * @throws IllegalArgumentException if the examples do not fit the network or each other,
   *     naming the first
   * @throws IllegalStateException as {@link Trainer#fit}, or for an option Spark training does
   *     not support
   */
  public Trainer.Report fit(JavaRDD<Example> examples) {
    return run(examples, null);
  }

  /**
   * Trains on a data directory of safetensors shards (the {@code fit} command's format), read
   * from any Hadoop path ({@code file:}, {@code hdfs:}, {@code s3a:}, ...) with {@code
   * binaryFiles}: the shards in file-name order, the examples of each in file order.
   *
   * @param sc the Spark context
   * @param directory the directory's Hadoop path
   * @return the report, as {@link Trainer#fit}'s
   */
  public Trainer.Report fit(JavaSparkContext sc, String directory) {
    return fit(Shards.read(sc, directory));
  }

  /**
   * Finishes the run that wrote {@code checkpoint} ({@link #checkpointEvery}): its weights and
   * optimizer state, from the step after it, with the weights at the end those of the unbroken
   * run.
   *
   * @param checkpoint the run's {@code last.safetensors}
   * @param examples the same training sequences, in the same order
   * @return the report of the steps after the checkpoint, with the run's totals
   * @throws IOException if the checkpoint cannot be read
   */
  public Trainer.Report fitFrom(Path checkpoint, JavaRDD<Example> examples) throws IOException {
    checkNotNull(checkpoint, "fitFrom expected a checkpoint but got null");
    try {
      return run(examples, checkpoint);
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /**
   * As {@link #fitFrom(Path, JavaRDD)} on a data directory (see {@link #fit(JavaSparkContext,
   * String)}).
   *
   * @param checkpoint the run's {@code last.safetensors}
   * @param sc the Spark context
   * @param directory the directory's Hadoop path
   * @return the report of the steps after the checkpoint, with the run's totals
   * @throws IOException if the checkpoint cannot be read
   */
  public Trainer.Report fitFrom(Path checkpoint, JavaSparkContext sc, String directory)
      throws IOException {
    return fitFrom(checkpoint, Shards.read(sc, directory));
  }

  /** The fit, or (with a checkpoint) the rest of the run that wrote it. */
  private Trainer.Report run(JavaRDD<Example> examples, Path checkpoint) {
    checkNotNull(examples, "fit expected examples but got null");
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(examples.context());
    JavaPairRDD<Long, Example> indexed = examples.zipWithIndex()
        .mapToPair(t -> new Tuple2<>(t._2(), t._1()))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      List<Example> firsts = indexed.values().take(1);
      checkArgument(!firsts.isEmpty(), "fit expected examples but the RDD is empty");
      String kind = firsts.get(0).kind();
      List<Tuple2<Long, Example>> other = indexed.filter(t -> !t._2().kind().equals(kind))
          .take(1);
      checkArgument(other.isEmpty(), "fit expected every example to be like example 0 (%s) but"
          + " example %s is %s", kind, other.isEmpty() ? "" : other.get(0)._1(),
          other.isEmpty() ? "" : other.get(0)._2().kind());
      long n = indexed.count();
      checkArgument(n <= Integer.MAX_VALUE, "fit expected at most %s examples but got %s",
          Integer.MAX_VALUE, n);
      Example first = firsts.get(0);
      Network net = network();
      int p = partitions != null ? partitions : sc.defaultParallelism();
      try (SparkCluster cluster = new SparkCluster(sc, trainer, net, indexed, (int) n,
          first.steps(), p, DataParallel.shuffles(trainer))) {
        int every = checkpointEvery == null ? 0 : checkpointEvery;
        return checkpoint == null
            ? DataParallel.fit(trainer, cluster, every, checkpointDirectory)
            : DataParallel.fitFrom(trainer, checkpoint, cluster, every, checkpointDirectory);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    } finally {
      indexed.unpersist(false);
    }
  }

  private Network network() {
    return DataParallel.network(trainer);
  }
}
