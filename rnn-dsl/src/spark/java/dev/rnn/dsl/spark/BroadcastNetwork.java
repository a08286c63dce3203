package dev.rnn.dsl.spark;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.rnn.core.Tensor;
import dev.rnn.dsl.Network;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * A trained network broadcast once to Spark's executors, which run its forward pass over a
 * distributed dataset of sequences: Keras's {@code predict} on a cluster.
 *
 * <p>The network travels as its checkpoint (safetensors, the spec and options in the metadata),
 * once per executor; every task there shares the network rebuilt from it. Each partition runs
 * {@code batchSize} sequences per forward pass, padded to the longest with their lengths, so a
 * sequence's output is what {@link Network#forward(List)} gives it whatever it is batched with
 * (up to the order of floating-point additions in the matrix products).
 *
 * <pre>{@code
 * try (BroadcastNetwork b = BroadcastNetwork.of(sc, net)) {
 *   JavaRDD<double[][]> outputs = b.predict(sequences, 256);       // [T_n][F] -> [T_n][O]
 *   Dataset<Row> scored = b.predict(df, "sequence", "length", "prediction", 256);
 * }
 * }</pre>
 *
 * <p>Shapes: a sequence is {@code double[T_n][F]} (one row per step, whatever the network's
 * layout; for a network that reads token ids, {@code F = 1} holding the ids), its output {@code
 * double[T_n][O]}, or {@code double[1][O]} for a network that ends in {@code lastStep()}.
 */
public final class BroadcastNetwork implements AutoCloseable {
  private final Network network;
  private final Broadcast<byte[]> checkpoint;

  private BroadcastNetwork(Network network, Broadcast<byte[]> checkpoint) {
    this.network = network;
    this.checkpoint = checkpoint;
  }

  /**
   * Broadcasts {@code net}'s checkpoint to {@code sc}'s executors. Later changes to {@code net}
   * are not seen by them.
   *
   * @param sc the Spark context
   * @param net a network that {@link Network#save} can write (no user-written cell)
   * @return the broadcast network; {@link #close} it to free the executors' copies
   * @throws IllegalArgumentException if the network cannot be saved (a user-written cell, or
   *     NaN or infinity in a parameter)
   */
  public static BroadcastNetwork of(JavaSparkContext sc, Network net) {
    checkNotNull(sc, "BroadcastNetwork.of expected a Spark context but got null");
    checkNotNull(net, "BroadcastNetwork.of expected a network but got null");
    return new BroadcastNetwork(net, sc.broadcast(NetworkBytes.of(net)));
  }

  /** {@return the network broadcast, as it was when broadcast (the driver's copy)} */
  public Network network() {
    return network;
  }

  /**
   * The outputs of the network for each sequence, computed on the executors: sequence {@code n},
   * {@code [T_n][F]}, gives {@code [T_n][O]} (one row for {@code lastStep()}), in the order of
   * {@code sequences}.
   *
   * @param sequences the sequences, {@code double[T_n][F]} each, {@code T_n >= 1}
   * @param batchSize the sequences per forward pass on an executor, {@code >= 1}
   * @return the outputs, lazily (an RDD with the partitions of {@code sequences})
   * @throws IllegalArgumentException if {@code batchSize < 1}; a sequence of the wrong feature
   *     size fails its task with the network's message
   */
  public JavaRDD<double[][]> predict(JavaRDD<double[][]> sequences, int batchSize) {
    checkNotNull(sequences, "predict expected sequences but got null");
    checkArgument(batchSize >= 1, "predict expected batchSize >= 1 but got %s", batchSize);
    return sequences.mapPartitions(new OnSequences(checkpoint, batchSize));
  }

  /**
   * {@code data} with a column {@code predictionCol} added: the network's output for the
   * sequence in {@code sequenceCol} ({@code array<array<double>>}, {@code [T][F]}), over its
   * first {@code length} steps if {@code lengthCol} is given (an integer column; the steps after
   * are padding, never read). The prediction is {@code array<array<double>>}, {@code
   * [length][O]}, or {@code array<double>}, {@code [O]}, for a network that ends in {@code
   * lastStep()}.
   *
   * @param data the rows
   * @param sequenceCol the sequence column's name
   * @param lengthCol the length column's name, or null if each sequence is its whole array
   * @param predictionCol the name of the column added
   * @param batchSize the sequences per forward pass on an executor, {@code >= 1}
   * @return the rows with the prediction, lazily
   * @throws IllegalArgumentException if a column is missing or of the wrong type, or {@code
   *     predictionCol} exists already, naming the column
   */
  public Dataset<Row> predict(Dataset<?> data, String sequenceCol, String lengthCol,
      String predictionCol, int batchSize) {
    checkNotNull(data, "predict expected a dataset but got null");
    checkArgument(batchSize >= 1, "predict expected batchSize >= 1 but got %s", batchSize);
    StructType schema = outputSchema(data.schema(), sequenceCol, lengthCol, predictionCol,
        network.lastStepOnly());
    Dataset<Row> rows = data.toDF();
    int seq = rows.schema().fieldIndex(sequenceCol);
    int len = lengthCol == null ? -1 : rows.schema().fieldIndex(lengthCol);
    return rows.mapPartitions(new OnRows(checkpoint, batchSize, seq, len), Encoders.row(schema));
  }

  /**
   * The schema of {@link #predict(Dataset, String, String, String, int)}'s result, checking the
   * input columns' types.
   */
  static StructType outputSchema(StructType in, String sequenceCol, String lengthCol,
      String predictionCol, boolean lastStepOnly) {
    checkColumn(in, sequenceCol, "sequence", SEQUENCE);
    if (lengthCol != null) {
      checkArgument(Arrays.asList(in.fieldNames()).contains(lengthCol),
          "length column '%s' is not among the columns %s", lengthCol,
          Arrays.toString(in.fieldNames()));
      DataType t = in.apply(lengthCol).dataType();
      checkArgument(t.equals(DataTypes.IntegerType) || t.equals(DataTypes.LongType)
              || t.equals(DataTypes.ShortType) || t.equals(DataTypes.ByteType),
          "length column '%s' expected an integer type but got %s", lengthCol, t.simpleString());
    }
    checkNotNull(predictionCol, "the prediction column's name is null");
    checkArgument(!Arrays.asList(in.fieldNames()).contains(predictionCol),
        "prediction column '%s' already exists among %s", predictionCol,
        Arrays.toString(in.fieldNames()));
    return in.add(new StructField(predictionCol, lastStepOnly ? VECTOR : SEQUENCE, false,
        org.apache.spark.sql.types.Metadata.empty()));
  }

  /** {@code array<array<double>>}: a sequence, one array per step. */
  static final ArrayType SEQUENCE = DataTypes.createArrayType(
      DataTypes.createArrayType(DataTypes.DoubleType, false), false);
  /** {@code array<double>}: one vector. */
  static final ArrayType VECTOR = DataTypes.createArrayType(DataTypes.DoubleType, false);

  static void checkColumn(StructType in, String name, String role, ArrayType expected) {
    checkNotNull(name, "the %s column's name is null", role);
    checkArgument(Arrays.asList(in.fieldNames()).contains(name),
        "%s column '%s' is not among the columns %s", role, name, Arrays.toString(in.fieldNames()));
    DataType t = in.apply(name).dataType();
    boolean ok = t instanceof ArrayType a && expected.elementType() instanceof ArrayType
        ? a.elementType() instanceof ArrayType b && b.elementType().equals(DataTypes.DoubleType)
        : t instanceof ArrayType a2 && a2.elementType().equals(DataTypes.DoubleType);
    checkArgument(ok, "%s column '%s' expected %s but got %s", role, name,
        expected.simpleString(), t.simpleString());
  }

  /** Frees the executors' copies of the network; the driver's stays usable. */
  @Override public void close() {
    checkpoint.destroy();
  }

  // ---- on the executors -----------------------------------------------------------------------

  /**
   * The outputs of {@code net} for {@code sequences} (each {@code [T_n][F]}, run over its first
   * {@code lengths[n]} steps), in one forward pass: each {@code [lengths[n]][O]}, or {@code
   * [1][O]} for {@code lastStep()}.
   */
  static List<double[][]> forward(Network net, List<double[][]> sequences, int[] lengths) {
    List<Tensor> in = new ArrayList<>(sequences.size());
    for (int n = 0; n < sequences.size(); n++) {
      double[][] s = sequences.get(n);
      checkArgument(lengths[n] >= 1 && lengths[n] <= s.length,
          "sequence %s of %s steps cannot have length %s", n, s.length, lengths[n]);
      Tensor t = Tensor.of(lengths[n] == s.length ? s : Arrays.copyOf(s, lengths[n]));
      in.add(net.takesIds() ? t.reshape(t.dim(0)) : t);
    }
    Tensor out = net.forward(in).output();
    int o = out.dim(-1);
    double[] flat = out.toDoubleArray();
    List<double[][]> result = new ArrayList<>(sequences.size());
    if (net.lastStepOnly()) {                                  // [N, O]
      for (int n = 0; n < in.size(); n++) {
        result.add(new double[][] {Arrays.copyOfRange(flat, n * o, (n + 1) * o)});
      }
      return result;
    }
    int steps = out.dim(net.batchFirst() ? 1 : 0);
    int batch = in.size();
    for (int n = 0; n < batch; n++) {                          // [T, N, O] or [N, T, O]
      double[][] y = new double[lengths[n]][];
      for (int t = 0; t < lengths[n]; t++) {
        int row = net.batchFirst() ? n * steps + t : t * batch + n;
        y[t] = Arrays.copyOfRange(flat, row * o, (row + 1) * o);
      }
      result.add(y);
    }
    return result;
  }

  /** The partition function of {@link #predict(JavaRDD, int)}. */
  private static final class OnSequences implements FlatMapFunction<Iterator<double[][]>,
      double[][]> {
    private static final long serialVersionUID = 1L;
    private final Broadcast<byte[]> checkpoint;
    private final int batchSize;

    OnSequences(Broadcast<byte[]> checkpoint, int batchSize) {
      this.checkpoint = checkpoint;
      this.batchSize = batchSize;
    }

    @Override public Iterator<double[][]> call(Iterator<double[][]> it) {
      Network net = NetworkBytes.of(checkpoint);
      return SparkRows.batched(it, batchSize,
          batch -> forward(net, batch, batch.stream().mapToInt(s -> s.length).toArray()));
    }
  }

  /** The partition function of {@link #predict(Dataset, String, String, String, int)}. */
  private static final class OnRows implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final Broadcast<byte[]> checkpoint;
    private final int batchSize;
    private final int sequenceField;
    private final int lengthField;

    OnRows(Broadcast<byte[]> checkpoint, int batchSize, int sequenceField, int lengthField) {
      this.checkpoint = checkpoint;
      this.batchSize = batchSize;
      this.sequenceField = sequenceField;
      this.lengthField = lengthField;
    }

    @Override public Iterator<Row> call(Iterator<Row> it) {
      Network net = NetworkBytes.of(checkpoint);
      return SparkRows.batched(it, batchSize, rows -> {
        List<double[][]> seqs = new ArrayList<>(rows.size());
        int[] lengths = new int[rows.size()];
        for (int n = 0; n < rows.size(); n++) {
          double[][] s = SparkRows.sequence(rows.get(n), sequenceField);
          seqs.add(s);
          lengths[n] = lengthField < 0 ? s.length : SparkRows.length(rows.get(n), lengthField);
        }
        List<double[][]> ys = forward(net, seqs, lengths);
        List<Row> out = new ArrayList<>(rows.size());
        for (int n = 0; n < rows.size(); n++) {
          out.add(SparkRows.append(rows.get(n), net.lastStepOnly() ? ys.get(n)[0] : ys.get(n)));
        }
        return out;
      });
    }
  }
}
