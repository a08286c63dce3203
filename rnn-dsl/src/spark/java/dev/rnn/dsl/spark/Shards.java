package dev.rnn.dsl.spark;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * A data directory of safetensors shards (the {@code fit} command's format) as an RDD of
 * examples, read with {@code binaryFiles} from any Hadoop path.
 */
public final class Shards {
  private Shards() {}

  /**
   * The examples of the shards under {@code directory}: the shards in file-name order (hidden
   * files and files not ending in {@code .safetensors} skipped), the examples of each in order.
   *
   * @param sc the Spark context
   * @param directory the directory's Hadoop path
   * @return the examples, in order
   */
  public static JavaRDD<Example> read(JavaSparkContext sc, String directory) {
    throw new UnsupportedOperationException("not yet");
  }
}
