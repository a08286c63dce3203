package dev.rnn.dsl.spark;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.rnn.dsl.Network;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * A trained network as a Spark ML {@link Model}: {@code transform} adds a column with the
 * network's outputs for each row's sequence, computed on the executors ({@link
 * BroadcastNetwork}: the network broadcast once). Made by {@link RnnEstimator#fit}, or from any
 * network with {@link #RnnModel(Network)}.
 *
 * <p>Saved with {@code write().save(path)} as Spark ML saves a model: {@code path/metadata} (the
 * params, as {@code DefaultParamsWriter} writes them) and {@code path/data/network.safetensors},
 * the network's checkpoint ({@link Network#save}'s format: {@link dev.rnn.dsl.Rnn#load} reads it
 * too); {@link #load} reads both back, on any Hadoop file system.
 */
public final class RnnModel extends Model<RnnModel> implements MLWritable {
  private static final long serialVersionUID = 1L;
  /** The network's checkpoint inside a saved model's folder. */
  static final String NETWORK_FILE = "data/network.safetensors";

  /** The identifier Spark ML knows this stage by. */
  private final String uid;
  /** The network, on the driver (not serialised: a saved model holds its checkpoint). */
  private final transient Network network;
  /** The {@code sequenceCol} param. */
  private final Param<String> sequenceCol;
  /** The {@code lengthCol} param. */
  private final Param<String> lengthCol;
  /** The {@code predictionCol} param. */
  private final Param<String> predictionCol;
  /** The {@code batchSize} param. */
  private final IntParam batchSize;
  /** The network broadcast for transform, made at the first. */
  private transient BroadcastNetwork broadcast;

  /**
   * A model of {@code network} with a new uid and the default columns.
   *
   * @param network the network; it should not change while the model is used
   */
  public RnnModel(Network network) {
    this(org.apache.spark.ml.util.Identifiable.randomUID("rnn"), network);
  }

  RnnModel(String uid, Network network) {
    this.uid = uid;
    this.network = checkNotNull(network, "RnnModel expected a network but got null");
    sequenceCol = RnnParams.sequenceCol(this);
    lengthCol = RnnParams.lengthCol(this);
    predictionCol = RnnParams.predictionCol(this);
    batchSize = RnnParams.batchSize(this, "the sequences per forward pass on an executor");
    setDefault(sequenceCol, "sequence");
    setDefault(predictionCol, "prediction");
    setDefault(batchSize, 256);
  }

  @Override public String uid() {
    return uid;
  }

  /** {@return the network (the driver's)} */
  public Network network() {
    return network;
  }

  /** {@return the sequence column's param (default {@code sequence})} */
  public Param<String> sequenceCol() {
    return sequenceCol;
  }

  /** {@return the optional length column's param (no default: no lengths)} */
  public Param<String> lengthCol() {
    return lengthCol;
  }

  /** {@return the prediction column's param (default {@code prediction})} */
  public Param<String> predictionCol() {
    return predictionCol;
  }

  /** {@return the batch size's param: sequences per forward pass (default 256)} */
  public IntParam batchSize() {
    return batchSize;
  }

  /**
   * Sets {@link #sequenceCol()}.
   *
   * @param v the column
   * @return this
   */
  public RnnModel setSequenceCol(String v) {
    return (RnnModel) set(sequenceCol, v);
  }

  /**
   * Sets {@link #lengthCol()}.
   *
   * @param v the column
   * @return this
   */
  public RnnModel setLengthCol(String v) {
    return (RnnModel) set(lengthCol, v);
  }

  /**
   * Sets {@link #predictionCol()}.
   *
   * @param v the column
   * @return this
   */
  public RnnModel setPredictionCol(String v) {
    return (RnnModel) set(predictionCol, v);
  }

  /**
   * Sets {@link #batchSize()}.
   *
   * @param v the sequences per forward pass
   * @return this
   */
  public RnnModel setBatchSize(int v) {
    return (RnnModel) set(batchSize, v);
  }

  /**
   * {@code dataset} with the prediction column added, lazily; see {@link
   * BroadcastNetwork#predict(Dataset, String, String, String, int)}.
   *
   * @throws IllegalArgumentException if a column is missing or of the wrong type, naming it
   */
  @Override public Dataset<Row> transform(Dataset<?> dataset) {
    transformSchema(dataset.schema());
    return broadcast(dataset.sparkSession()).predict(dataset, getOrDefault(sequenceCol),
        isDefined(lengthCol) ? getOrDefault(lengthCol) : null, getOrDefault(predictionCol),
        (Integer) getOrDefault(batchSize));
  }

  /** The network broadcast to {@code spark}'s executors, once per model and context. */
  private synchronized BroadcastNetwork broadcast(SparkSession spark) {
    if (broadcast == null) {
      broadcast = BroadcastNetwork.of(JavaSparkContext.fromSparkContext(spark.sparkContext()),
          network);
    }
    return broadcast;
  }

  @Override public StructType transformSchema(StructType schema) {
    return BroadcastNetwork.outputSchema(schema, getOrDefault(sequenceCol),
        isDefined(lengthCol) ? getOrDefault(lengthCol) : null, getOrDefault(predictionCol),
        network.lastStepOnly());
  }

  @Override public RnnModel copy(ParamMap extra) {
    RnnModel m = copyValues(new RnnModel(uid, network), extra);
    return m.setParent(parent());
  }

  @Override public MLWriter write() {
    return new Writer(this);
  }

  /** {@return a reader of saved models} */
  public static MLReader<RnnModel> read() {
    return new Reader();
  }

  /**
   * The model saved at {@code path} with {@code write().save(path)}.
   *
   * @param path the Hadoop path
   * @return the model
   */
  public static RnnModel load(String path) {
    return read().load(path);
  }

  /** Writes the params as Spark ML's metadata and the network as its checkpoint. */
  private static final class Writer extends MLWriter {
    /** The {@code model} param. */
    private final RnnModel model;

    Writer(RnnModel model) {
      this.model = model;
    }

    @Override public void saveImpl(String path) {
      DefaultParamsWriter.saveMetadata(model, path, sparkSession());
      Path file = new Path(path, NETWORK_FILE);
      try {
        FileSystem fs = file.getFileSystem(sparkSession().sparkContext().hadoopConfiguration());
        try (OutputStream out = fs.create(file, true)) {
          out.write(NetworkBytes.of(model.network));
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + file, e);
      }
    }
  }

  /** Reads what {@link Writer} wrote. */
  private static final class Reader extends MLReader<RnnModel> {
    @Override public RnnModel load(String path) {
      DefaultParamsReader.Metadata metadata = DefaultParamsReader$.MODULE$.loadMetadata(path,
          sparkSession(), RnnModel.class.getName());
      Path file = new Path(path, NETWORK_FILE);
      byte[] bytes;
      try {
        FileSystem fs = file.getFileSystem(sparkSession().sparkContext().hadoopConfiguration());
        try (InputStream in = fs.open(file)) {
          ByteArrayOutputStream b = new ByteArrayOutputStream();
          in.transferTo(b);
          bytes = b.toByteArray();
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + file, e);
      }
      RnnModel m = new RnnModel(metadata.uid(), NetworkBytes.load(bytes));
      metadata.getAndSetParams(m, scala.Option.empty());
      return m;
    }
  }
}
