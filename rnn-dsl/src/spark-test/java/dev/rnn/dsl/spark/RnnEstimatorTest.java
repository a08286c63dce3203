package dev.rnn.dsl.spark;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rnn.core.Parameter;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.Rnn;
import dev.rnn.dsl.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
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
import org.junit.jupiter.api.io.TempDir;

/**
 * The Spark ML estimator on {@code local[2]}: in a {@link Pipeline} it trains the network of its
 * params to the weights of {@link Trainer#fit} on the same rows (float64, 1e-9 relative), its
 * model predicts what the network's {@code forward} gives, and both survive Spark ML's writer and
 * reader.
 */
class RnnEstimatorTest {
  private static SparkSession spark;

  @BeforeAll static void start() {
    spark = LocalSpark.session("RnnEstimatorTest");
  }

  @AfterAll static void stop() {
    spark.stop();
  }

  static final String SPEC = "lstm(3, 6).dense(6, 2)";
  static final String LAST_STEP_SPEC = "gru(3, 5).lastStep().dense(5, 3)";

  private static final StructType SEQUENCES = new StructType()
      .add("id", DataTypes.IntegerType, false)
      .add("sequence", BroadcastNetwork.SEQUENCE, false)
      .add("length", DataTypes.IntegerType, false)
      .add("target", BroadcastNetwork.SEQUENCE, false);

  private static final StructType CLASSES = new StructType()
      .add("id", DataTypes.IntegerType, false)
      .add("sequence", BroadcastNetwork.SEQUENCE, false)
      .add("label", DataTypes.IntegerType, false);

  /** {@code n} rows of sequences of 2 to 8 steps padded to 8, targets [8][2], seeded. */
  static List<Row> sequenceRows(int n, long seed) {
    Random r = new Random(seed);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int len = 2 + r.nextInt(7);
      double[][] x = new double[8][3];
      double[][] y = new double[8][2];
      for (int t = 0; t < 8; t++) {
        for (int f = 0; f < 3; f++) {
          x[t][f] = t < len ? r.nextGaussian() : Double.NaN;
        }
        y[t][0] = t < len ? Math.sin(x[t][0] + x[t][1]) : 0;
        y[t][1] = t < len ? x[t][2] * 0.5 : 0;
      }
      rows.add(RowFactory.create(i, x, len, y));
    }
    return rows;
  }

  /** {@code n} rows of sequences of 1 to 6 steps (unpadded) with a class in [0, 3), seeded. */
  static List<Row> classRows(int n, long seed) {
    Random r = new Random(seed);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double[][] x = new double[1 + r.nextInt(6)][3];
      double s = 0;
      for (double[] step : x) {
        for (int f = 0; f < 3; f++) {
          step[f] = r.nextGaussian();
          s += step[f];
        }
      }
      rows.add(RowFactory.create(i, x, s < -1 ? 0 : s < 1 ? 1 : 2));
    }
    return rows;
  }

  /** The same training as the estimator's, with {@link Trainer#fit} on one machine. */
  static Network trainedLocally(List<Row> rows) {
    Network net = Rnn.parse(SPEC).dtype(dev.rnn.core.DType.FLOAT64).seed(5).dropoutSeed(5)
        .build();
    int n = rows.size();
    double[][][] x = new double[8][n][3];
    double[][][] y = new double[8][n][2];
    int[] lengths = new int[n];
    for (int i = 0; i < n; i++) {
      Row row = rows.get(i);
      lengths[i] = row.getInt(2);
      double[][] xs = (double[][]) row.get(1);
      double[][] ys = (double[][]) row.get(3);
      for (int t = 0; t < 8; t++) {
        x[t][i] = t < lengths[i] ? xs[t] : new double[3];
        y[t][i] = ys[t];
      }
    }
    net.trainer().loss(Trainer.Objective.MSE)
        .optimizer(ps -> dev.rnn.autograd.optim.Adam.builder().lr(1e-2).build(ps))
        .epochs(5).batchSize(8).shuffle(5).clipGradNorm(0.5)
        .fit(Tensor.of(x), lengths, Tensor.of(y));
    return net;
  }

  static RnnEstimator estimator() {
    return new RnnEstimator().setNetwork(SPEC).setDtype("float64").setLengthCol("length")
        .setOptimizer("adam").setLearningRate(1e-2).setEpochs(5).setBatchSize(8).setSeed(5)
        .setClipGradNorm(0.5);
  }

  static void assertSameWeights(Network expected, Network actual) {
    List<Executable> checks = new ArrayList<>();
    for (Map.Entry<String, Parameter> e : expected.namedParameters().entrySet()) {
      double[] want = e.getValue().value().toDoubleArray();
      double[] got = actual.parameter(e.getKey()).toDoubleArray();
      checks.add(() -> {
        assertEquals(want.length, got.length, e.getKey());
        for (int i = 0; i < want.length; i++) {
          assertEquals(want[i], got[i], 1e-9 * Math.max(1e-3, Math.abs(want[i])),
              e.getKey() + "[" + i + "]");
        }
      });
    }
    assertAll(checks);
  }

  @Nested class InAPipeline {
    @Test void fitGivesTheWeightsOfTrainerFitOnTheSameRows() {
      List<Row> rows = sequenceRows(40, 3);
      Dataset<Row> data = spark.createDataFrame(rows, SEQUENCES).orderBy("id");
      PipelineModel m = new Pipeline().setStages(new PipelineStage[] {estimator()}).fit(data);
      RnnModel model = (RnnModel) m.stages()[0];
      assertSameWeights(trainedLocally(rows), model.network());
    }

    @Test void theModelAddsEachSequencesForwardOverItsLength() {
      List<Row> rows = sequenceRows(20, 4);
      Dataset<Row> data = spark.createDataFrame(rows, SEQUENCES).orderBy("id");
      PipelineModel m = new Pipeline().setStages(new PipelineStage[] {estimator().setEpochs(1)})
          .fit(data);
      Network net = ((RnnModel) m.stages()[0]).network();
      List<Row> out = m.transform(data).orderBy("id").collectAsList();
      List<Executable> checks = new ArrayList<>();
      for (Row r : out) {
        int len = r.getInt(2);
        double[][] x = java.util.Arrays.copyOf(SparkRows.sequence(r, 1), len);
        double[][] want = BroadcastNetworkTest.local(net, x);
        double[][] got = SparkRows.sequence(r, 4);
        checks.add(() -> BroadcastNetworkTest.assertSameRows(want, got, "row " + r.getInt(0)));
      }
      assertAll(checks);
    }

    @Test void classIdsTrainWithCrossEntropyAndPredictOneVectorPerSequence() {
      Dataset<Row> data = spark.createDataFrame(classRows(30, 5), CLASSES);
      RnnEstimator e = new RnnEstimator().setNetwork(LAST_STEP_SPEC).setTargetCol("label")
          .setEpochs(2).setBatchSize(10);
      assertEquals(Trainer.Objective.CROSS_ENTROPY,
          e.objective(data.schema(), e.buildNetwork()));
      PipelineModel m = new Pipeline().setStages(new PipelineStage[] {e}).fit(data);
      Dataset<Row> out = m.transform(data);
      assertEquals(BroadcastNetwork.VECTOR, out.schema().apply("prediction").dataType());
      assertAll(out.collectAsList().stream().map(r -> () ->
          assertEquals(3, SparkRows.vector(r, 3).length)));
    }

    @Test void savedAndLoadedTheModelPredictsTheSameAndTheEstimatorKeepsItsParams(@TempDir Path dir) {
      List<Row> rows = sequenceRows(16, 6);
      Dataset<Row> data = spark.createDataFrame(rows, SEQUENCES).orderBy("id");
      Network net = Rnn.parse(SPEC).dtype(dev.rnn.core.DType.FLOAT64).seed(9).build();
      PipelineModel m = new Pipeline().setStages(new PipelineStage[] {
          new RnnModel(net).setLengthCol("length").setBatchSize(3)}).fit(data);
      Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {estimator()});
      String modelPath = dir.resolve("model").toString();
      String pipelinePath = dir.resolve("pipeline").toString();
      try {
        m.write().overwrite().save(modelPath);
        pipeline.write().overwrite().save(pipelinePath);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      PipelineModel back = PipelineModel.load(modelPath);
      RnnModel was = (RnnModel) m.stages()[0];
      RnnModel is = (RnnModel) back.stages()[0];
      RnnEstimator reread = (RnnEstimator) Pipeline.load(pipelinePath).getStages()[0];
      List<Row> before = m.transform(data).orderBy("id").collectAsList();
      List<Row> after = back.transform(data).orderBy("id").collectAsList();
      assertAll(
          () -> assertEquals(was.uid(), is.uid()),
          () -> assertEquals("length", is.getOrDefault(is.lengthCol())),
          () -> assertEquals(3, (Integer) is.getOrDefault(is.batchSize())),
          () -> assertSameWeights(was.network(), is.network()),
          () -> assertSameWeights(was.network(),
              Rnn.load(dir.resolve("model/stages").toFile().listFiles()[0].toPath()
                  .resolve(RnnModel.NETWORK_FILE))),
          () -> assertEquals(before.size(), after.size()),
          () -> {
            for (int i = 0; i < before.size(); i++) {
              double[][] b = SparkRows.sequence(before.get(i), 4);
              double[][] a = SparkRows.sequence(after.get(i), 4);
              for (int t = 0; t < b.length; t++) {
                assertArrayEquals(b[t], a[t], 0.0, "row " + i + " step " + t);
              }
            }
          },
          () -> assertEquals(SPEC, reread.getOrDefault(reread.network())),
          () -> assertEquals(0.5, (Double) reread.getOrDefault(reread.clipGradNorm())),
          () -> assertEquals(8, (Integer) reread.getOrDefault(reread.batchSize())),
          () -> assertEquals(estimator().explainParams().replaceAll("rnn_[0-9a-f]+", ""),
              reread.explainParams().replaceAll("rnn_[0-9a-f]+", "")),
          () -> assertEquals(true, Files.isDirectory(dir.resolve("model/metadata"))));
    }
  }

  @Nested class WhenTheParamsOrColumnsAreWrong {
    private final Dataset<Row> data = spark.createDataFrame(sequenceRows(4, 7), SEQUENCES);

    @Test void withoutANetworkFitSaysHowToSetOne() {
      RnnEstimator e = new RnnEstimator();
      assertEquals("RnnEstimator " + e.uid() + " has no network; setNetwork(spec) first, e.g."
              + " setNetwork(\"lstm(3, 32).dense(32, 1)\")",
          assertThrows(IllegalStateException.class, () -> e.fit(data)).getMessage());
    }

    @Test void aSpecThatDoesNotParseIsRefusedWhereItIsSet() {
      assertThrows(IllegalArgumentException.class, () -> new RnnEstimator().setNetwork("lstm(3"));
    }

    @Test void aTargetOfTheWrongTypeIsNamed() {
      assertAll(
          () -> assertEquals("target column 'id' expected array<array<double>> (values [T][O]) or"
                  + " an array of numbers (class ids [T]) but got int",
              assertThrows(IllegalArgumentException.class,
                  () -> estimator().setTargetCol("id").fit(data)).getMessage()),
          () -> assertEquals("target column 'sequence' of a network that ends in lastStep()"
                  + " expected array<double> (values [O]) or a number (a class id) but got"
                  + " array<array<double>>",
              assertThrows(IllegalArgumentException.class,
                  () -> estimator().setNetwork(LAST_STEP_SPEC).setTargetCol("sequence")
                      .fit(data)).getMessage()),
          () -> assertEquals("target column 'label' is not among the columns [id, sequence,"
                  + " length, target]",
              assertThrows(IllegalArgumentException.class,
                  () -> estimator().setTargetCol("label").fit(data)).getMessage()),
          () -> assertEquals("loss cross-entropy needs class ids but target column 'target'"
                  + " holds values (array<array<double>>)",
              assertThrows(IllegalArgumentException.class,
                  () -> estimator().setLoss("cross-entropy").fit(data)).getMessage()));
    }
  }
}
