package dev.rnn.dsl.spark;

import static dev.rnn.dsl.Rnn.network;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rnn.core.DType;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.Rnn;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Distributed inference on {@code local[2]}: each sequence's output on the executors is the
 * local {@link Network#forward} of that sequence alone, in float64 to 1e-12, with lengths.
 */
class BroadcastNetworkTest {
  private static SparkSession spark;
  private static JavaSparkContext sc;

  @BeforeAll static void start() {
    spark = LocalSpark.session("BroadcastNetworkTest");
    sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
  }

  @AfterAll static void stop() {
    spark.stop();
  }

  static Stream<Arguments> networks() {
    return Stream.of(
        Arguments.of("lstm, time-major", "lstm(3, 8).dense(8, 2)"),
        Arguments.of("gru, batch-first", "gru(3, 6).relu().dense(6, 2).batchFirst()"),
        Arguments.of("bidirectional lstm", "lstm(3, 4).bidirectional().dense(8, 2)"),
        Arguments.of("last step", "gru(3, 5).lastStep().dense(5, 4)"));
  }

  /** {@code n} sequences of 1 to 9 steps of 3 features, seeded. */
  static List<double[][]> sequences(int n, long seed) {
    Random r = new Random(seed);
    List<double[][]> s = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double[][] x = new double[1 + r.nextInt(9)][3];
      for (double[] step : x) {
        for (int f = 0; f < 3; f++) {
          step[f] = r.nextGaussian();
        }
      }
      s.add(x);
    }
    return s;
  }

  /** The local forward of one sequence, {@code [T][O]} ({@code [1][O]} for lastStep). */
  static double[][] local(Network net, double[][] x) {
    Tensor y = net.forward(List.of(Tensor.of(x))).output();
    double[] flat = y.toDoubleArray();
    int o = y.dim(-1);
    double[][] rows = new double[flat.length / o][];
    for (int t = 0; t < rows.length; t++) {
      rows[t] = Arrays.copyOfRange(flat, t * o, (t + 1) * o);
    }
    return rows;
  }

  static void assertSameRows(double[][] expected, double[][] actual, String what) {
    assertEquals(expected.length, actual.length, what + ": steps");
    for (int t = 0; t < expected.length; t++) {
      assertArrayEquals(expected[t], actual[t], 1e-12, what + ", step " + t);
    }
  }

  @ParameterizedTest(name = "{0}") @MethodSource("networks")
  void anRddOfSequencesGivesEachSequencesLocalForward(String name, String spec) {
    Network net = Rnn.parse(spec).dtype(DType.FLOAT64).seed(7).build();
    List<double[][]> xs = sequences(23, 11);
    List<double[][]> ys;
    try (BroadcastNetwork b = BroadcastNetwork.of(sc, net)) {
      ys = b.predict(sc.parallelize(xs, 3), 4).collect();
    }
    assertEquals(xs.size(), ys.size());
    assertAll(java.util.stream.IntStream.range(0, xs.size()).mapToObj(n -> () ->
        assertSameRows(local(net, xs.get(n)), ys.get(n), name + ", sequence " + n)));
  }

  @Nested class OnADataset {
    private final StructType schema = new StructType()
        .add("id", DataTypes.IntegerType, false)
        .add("sequence", BroadcastNetwork.SEQUENCE, false)
        .add("length", DataTypes.IntegerType, false);

    /** Rows of sequences padded with NaN to 9 steps, with their lengths. */
    private Dataset<Row> padded(List<double[][]> xs) {
      List<Row> rows = new ArrayList<>();
      for (int n = 0; n < xs.size(); n++) {
        double[][] p = new double[9][];
        for (int t = 0; t < 9; t++) {
          p[t] = t < xs.get(n).length ? xs.get(n)[t] : new double[] {Double.NaN, 1e300, -7};
        }
        rows.add(RowFactory.create(n, p, xs.get(n).length));
      }
      return spark.createDataFrame(rows, schema).repartition(3);
    }

    @ParameterizedTest(name = "{0}") @MethodSource("dev.rnn.dsl.spark.BroadcastNetworkTest#networks")
    void aPredictionColumnHoldsEachSequencesLocalForwardOverItsLength(String name, String spec) {
      Network net = Rnn.parse(spec).dtype(DType.FLOAT64).seed(7).build();
      List<double[][]> xs = sequences(17, 12);
      List<Row> out;
      try (BroadcastNetwork b = BroadcastNetwork.of(sc, net)) {
        out = b.predict(padded(xs), "sequence", "length", "prediction", 5).collectAsList();
      }
      assertEquals(xs.size(), out.size());
      List<Executable> checks = new ArrayList<>();
      for (Row r : out) {
        int n = r.getInt(0);
        double[][] expected = local(net, xs.get(n));
        double[][] actual = net.lastStepOnly()
            ? new double[][] {SparkRows.vector(r, 3)} : SparkRows.sequence(r, 3);
        checks.add(() -> assertSameRows(expected, actual, name + ", row " + n));
      }
      assertAll(checks);
    }

    @Test void aMissingOrMistypedColumnIsNamed() {
      Network net = network().lstm(3, 4).build();
      try (BroadcastNetwork b = BroadcastNetwork.of(sc, net)) {
        Dataset<Row> d = padded(sequences(2, 1));
        assertAll(
            () -> assertEquals("sequence column 'seq' is not among the columns [id, sequence,"
                    + " length]",
                assertThrows(IllegalArgumentException.class,
                    () -> b.predict(d, "seq", null, "p", 4)).getMessage()),
            () -> assertEquals("sequence column 'id' expected array<array<double>> but got int",
                assertThrows(IllegalArgumentException.class,
                    () -> b.predict(d, "id", null, "p", 4)).getMessage()),
            () -> assertEquals("length column 'sequence' expected an integer type but got"
                    + " array<array<double>>",
                assertThrows(IllegalArgumentException.class,
                    () -> b.predict(d, "sequence", "sequence", "p", 4)).getMessage()),
            () -> assertEquals("prediction column 'id' already exists among [id, sequence,"
                    + " length]",
                assertThrows(IllegalArgumentException.class,
                    () -> b.predict(d, "sequence", null, "id", 4)).getMessage()));
      }
    }
  }
}
