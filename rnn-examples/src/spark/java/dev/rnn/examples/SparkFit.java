package dev.rnn.examples;

import dev.rnn.dsl.Trainer;
import dev.rnn.dsl.spark.SparkTrainer;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * {@code fit --master URL} on Spark: a Spark context for the master, the data directory read with
 * {@code binaryFiles}, and {@link SparkTrainer} (built only with {@code -Pspark}).
 *
 * <p>On a standalone cluster ({@code spark://}) the executors get this jar ({@code spark.jars}),
 * which holds the library; Spark's own jars are the cluster's.
 */
final class SparkFit implements DistributedFit {
  /** For {@link DistributedFit#load}. */
  public SparkFit() {}

  @Override public Trainer.Report fit(Trainer trainer, Path data, String master) {
    SparkConf conf = new SparkConf().setMaster(master).setAppName("rnn-examples fit")
        .set("spark.ui.enabled", "false");
    if (master.startsWith("local")) {
      conf.set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1");
    } else {
      String jar = thisJar();
      if (jar != null) {
        conf.set("spark.jars", jar);
      }
    }
    try (JavaSparkContext sc = new JavaSparkContext(conf)) {
      sc.setLogLevel("WARN");
      return SparkTrainer.of(trainer).fit(sc, data.toAbsolutePath().toUri().toString());
    }
  }

  /** The jar this class was loaded from, or null when run from classes (tests). */
  private static String thisJar() {
    try {
      Path p = Path.of(SparkFit.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return Files.isRegularFile(p) ? p.toString() : null;
    } catch (URISyntaxException | SecurityException e) {
      return null;
    }
  }
}
