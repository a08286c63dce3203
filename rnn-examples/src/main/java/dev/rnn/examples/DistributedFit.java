package dev.rnn.examples;

import dev.rnn.dsl.Trainer;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * {@code fit --master URL}: the fit of a trainer on a cluster, from the same data directory. The
 * implementation ({@code SparkFit}) is compiled only with the Maven profile {@code -Pspark}, and
 * Spark's jars sit beside the jar (in {@code spark-jars/}, which the manifest's {@code
 * Class-Path} names); without them {@code --master} says in one line how to build with Spark.
 */
interface DistributedFit {
  /** The build command that adds Spark, for the message. */
  String BUILD = "mvn -B -q -Pspark -DskipTests package";

  /**
   * Trains {@code trainer}'s network on the cluster at {@code master}, as {@link Trainer#fit}
   * would on this machine.
   *
   * @param trainer the configuration
   * @param data the data directory
   * @param master the Spark master URL
   * @return the report
   */
  Trainer.Report fit(Trainer trainer, Path data, String master);

  /**
   * The Spark implementation, if this build has it and Spark's jars are there.
   *
   * @throws ParameterException (exit 2) saying how to build with Spark
   */
  static DistributedFit load(CommandLine cl) {
    try {
      Class.forName("org.apache.spark.SparkConf");
      return (DistributedFit) Class.forName("dev.rnn.examples.SparkFit")
          .getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException | LinkageError e) {
      throw new ParameterException(cl, "--master needs Spark, which this build leaves out;"
          + " build with it: " + BUILD + " (Spark's jars go to rnn-examples/target/spark-jars,"
          + " beside the jar)");
    }
  }
}
