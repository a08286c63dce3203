package dev.rnn.examples;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fit --master} in a build without Spark says in one line how to build with it (a usage
 * error: exit 2, with the usual hint line).
 */
class FitMasterTest {
  @TempDir
  Path dir;

  static boolean sparkBuilt() {
    try {
      Class.forName("dev.rnn.examples.SparkFit");
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  @Test
  void withoutTheSparkProfileMasterSaysHowToBuildWithSpark() throws IOException {
    assumeTrue(!sparkBuilt(), "this build has Spark (-Pspark)");
    Path data = DataFiles.echoDirectory(dir.resolve("train"), 1, 1, 4, 5);
    Invocation r = Invocation.of("fit", "--net", FitCommandTest.ECHO, "--data", data.toString(),
        "--master", "local[2]", "--no-progress");
    assertAll(
        () -> assertEquals(2, r.exitCode()),
        () -> assertEquals("rnn-examples fit: --master needs Spark, which this build leaves out;"
            + " build with it: mvn -B -q -Pspark -DskipTests package (Spark's jars go to"
            + " rnn-examples/target/spark-jars, beside the jar)\n"
            + "Try 'rnn-examples fit --help' for more information.\n", r.err()),
        () -> assertEquals("", r.out()));
  }
}
