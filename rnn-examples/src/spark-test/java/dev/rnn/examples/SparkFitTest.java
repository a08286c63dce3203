package dev.rnn.examples;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.core.Tensor;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.Rnn;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fit --master local[2]} trains as {@code fit} does on one machine, from the same data
 * directory, with the same flags and output: the same epochs' metrics and (float64) the same
 * weights to 1e-9.
 */
class SparkFitTest {
  @TempDir
  Path dir;

  static void assertSameRun(Invocation local, Invocation spark, Path a, Path b)
      throws IOException {
    List<String> l = local.outLines();
    List<String> s = spark.outLines();
    Map<String, Tensor> wa = FitCommandTest.Weights.of(Rnn.load(a));
    Network nb = Rnn.load(b);
    assertAll(
        () -> assertEquals(0, spark.exitCode(), spark.err()),
        () -> assertEquals(l.size(), s.size(), spark.out()),
        () -> assertEquals(l.subList(0, l.size() - 2), s.subList(0, s.size() - 2),
            "the same header and epochs"),
        () -> nb.namedParameters().forEach((name, p) -> {
          double[] x = wa.get(name).toDoubleArray();
          double[] y = p.value().toDoubleArray();
          for (int i = 0; i < x.length; i++) {
            assertTrue(Math.abs(x[i] - y[i]) <= 1e-9 * Math.max(1e-12, Math.abs(x[i])),
                name + "[" + i + "] " + x[i] + " vs " + y[i]);
          }
        }));
  }

  @Test
  void valuesTrainAsOnOneMachine() throws IOException {
    Path data = DataFiles.echoDirectory(dir.resolve("train"), 1, 3, 20, 6);
    String[] args = {"fit", "--net", FitCommandTest.ECHO, "--data", data.toString(), "--epochs",
        "4", "--batch", "8", "--lr", "0.01", "--clip", "1", "--dtype", "float64",
        "--no-progress", "--out"};
    Path a = dir.resolve("local.safetensors");
    Path b = dir.resolve("spark.safetensors");
    Invocation local = Invocation.of(FitCommandTest.with(args, a.toString()));
    Invocation spark = Invocation.of(FitCommandTest.with(args, b.toString(), "--master",
        "local[2]"));
    assertSameRun(local, spark, a, b);
  }

  @Test
  void classIdsReportTheSameAccuracy() throws IOException {
    Path data = DataFiles.signDirectory(dir.resolve("train"), 2, 40, 5);
    String[] args = {"fit", "--net", FitCommandTest.SIGN, "--data", data.toString(), "--epochs",
        "3", "--batch", "8", "--dtype", "float64", "--no-progress", "--out"};
    Path a = dir.resolve("local.safetensors");
    Path b = dir.resolve("spark.safetensors");
    Invocation local = Invocation.of(FitCommandTest.with(args, a.toString()));
    Invocation spark = Invocation.of(FitCommandTest.with(args, b.toString(), "--master",
        "local[2]"));
    assertSameRun(local, spark, a, b);
  }
}
