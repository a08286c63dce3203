package dev.rnn.dsl.spark;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.rnn.core.Safetensors;
import dev.rnn.core.SafetensorsFile;
import dev.rnn.core.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.input.PortableDataStream;

/**
 * A data directory of safetensors shards (the {@code fit} command's format, see the README's
 * "Data files") as an RDD of examples, read with {@code binaryFiles} from any Hadoop path, so
 * the same files train on one machine and on a cluster.
 *
 * <pre>
 *   inputs    [N, T, F]   F32 or F64
 *   targets   [N, T, O] / [N, O] floats (values), [N, T] / [N] integers (class ids)
 *   lengths   [N]         integers in [1, T], optional (every shard or none)
 * </pre>
 */
public final class Shards {
  private static final Set<String> NAMES = Set.of("inputs", "targets", "lengths");

  private Shards() {}

  /**
   * The examples of the shards under {@code directory}: the shards in file-name order (hidden
   * files and files not ending in {@code .safetensors} skipped), the examples of each in order.
   * The files are read lazily, on the executors.
   *
   * @param sc the Spark context
   * @param directory the directory's Hadoop path ({@code /data/train}, {@code hdfs://...})
   * @return the examples, in order
   * @throws IllegalArgumentException if the directory does not exist or holds no shard
   */
  public static JavaRDD<Example> read(JavaSparkContext sc, String directory) {
    checkNotNull(sc, "Shards.read expected a Spark context but got null");
    checkNotNull(directory, "Shards.read expected a directory but got null");
    try {
      Path dir = new Path(directory);
      FileSystem fs = dir.getFileSystem(sc.hadoopConfiguration());
      checkArgument(fs.exists(dir) && fs.getFileStatus(dir).isDirectory(),
          "%s: no such directory", directory);
      boolean any = false;
      for (var status : fs.listStatus(dir)) {
        any |= status.isFile() && isShard(status.getPath().getName());
      }
      checkArgument(any, "%s: holds no .safetensors shard", directory);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    JavaPairRDD<String, PortableDataStream> files = sc.binaryFiles(directory)
        .filter(f -> isShard(new Path(f._1()).getName()));
    return files.sortByKey(true, Math.max(1, files.getNumPartitions()))
        .flatMap(f -> examples(new Path(f._1()).getName(), f._2().toArray()).iterator());
  }

  private static boolean isShard(String name) {
    return !name.startsWith(".") && !name.startsWith("_") && name.endsWith(".safetensors");
  }

  /**
   * The examples of one shard.
   *
   * @throws IllegalArgumentException naming the shard, the tensor, what was expected and found
   */
  static List<Example> examples(String shard, byte[] bytes) {
    SafetensorsFile f = Safetensors.read(bytes, shard);
    for (String name : f.tensors().keySet()) {
      checkArgument(NAMES.contains(name), "%s: tensor '%s' is not one of inputs, targets,"
          + " lengths", shard, name);
    }
    checkArgument(f.find("inputs").isPresent(), "%s: has no tensor 'inputs'", shard);
    checkArgument(f.find("targets").isPresent(), "%s: has no tensor 'targets'", shard);
    Tensor x = f.tensor("inputs");
    Tensor y = f.tensor("targets");
    checkArgument(x.rank() == 3, "%s: inputs expected [N, T, F] but got %s", shard, x.shape());
    int n = x.dim(0);
    checkArgument(y.rank() >= 1 && y.dim(0) == n, "%s: targets expected %s examples (as the"
        + " inputs %s) but got %s", shard, n, x.shape(), y.shape());
    int[] lengths = null;
    if (f.find("lengths").isPresent()) {
      Tensor l = f.tensor("lengths");
      checkArgument(f.isInteger("lengths") && l.rank() == 1 && l.dim(0) == n,
          "%s: lengths expected [%s] integers but got %s", shard, n, l.shape());
      lengths = new int[n];
      for (int i = 0; i < n; i++) {
        lengths[i] = (int) l.at(i);
      }
    }
    int t = x.dim(1);
    int[] targetShape = new int[y.rank() - 1];
    for (int k = 1; k < y.rank(); k++) {
      targetShape[k - 1] = y.dim(k);
    }
    List<Example> examples = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Tensor xi = x.slice(0, i, i + 1).reshape(t, x.dim(2));
      Tensor yi = y.slice(0, i, i + 1).reshape(targetShape);
      examples.add(Example.of(xi, lengths == null ? 0 : lengths[i], yi));
    }
    return examples;
  }
}
