package dev.rnn.dsl.spark;

import static com.google.common.base.Preconditions.checkArgument;

import dev.rnn.autograd.optim.Optimizer;
import dev.rnn.autograd.optim.OptimizerKind;
import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.NetworkBuilder;
import dev.rnn.dsl.Rnn;
import dev.rnn.dsl.Trainer;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructType;

/**
 * A network and its training as a Spark ML {@link Estimator}: {@code fit} trains the network
 * written in {@link #network()} on a {@code Dataset<Row>} with {@link SparkTrainer} (synchronous
 * data-parallel BPTT, the weights of {@link Trainer#fit} on the same data) and returns an {@link
 * RnnModel}, whose {@code transform} adds the network's outputs as a column. Usable in a {@link
 * org.apache.spark.ml.Pipeline}, saved and loaded with Spark ML's writer and reader.
 *
 * <pre>{@code
 * RnnEstimator rnn = new RnnEstimator().setNetwork("lstm(3, 32).lastStep().dense(32, 4)")
 *     .setTargetCol("label").setLengthCol("length")
 *     .setOptimizer("adam").setLearningRate(3e-3).setEpochs(20).setBatchSize(256).setSeed(7);
 * PipelineModel m = new Pipeline().setStages(new PipelineStage[] {rnn}).fit(train);
 * Dataset<Row> scored = m.transform(test);          // adds "prediction"
 * m.write().overwrite().save("hdfs:///models/rnn");
 * }</pre>
 *
 * <p>Columns (T steps, F input and O output features; one row per sequence):
 *
 * <table>
 *   <caption>columns</caption>
 *   <tr><th>column</th><th>type</th><th>meaning</th></tr>
 *   <tr><td>{@link #sequenceCol()}</td><td>{@code array<array<double>>}</td><td>the inputs,
 *       {@code [T][F]}; sequences may differ in length</td></tr>
 *   <tr><td>{@link #lengthCol()} (optional)</td><td>integer</td><td>the real steps of the
 *       sequence, in {@code [1, T]}; the rest is padding, never read</td></tr>
 *   <tr><td rowspan="2">{@link #targetCol()}, a sequence network</td><td>{@code
 *       array<array<double>>}</td><td>values, {@code [T][O]} (loss {@code mse})</td></tr>
 *   <tr><td>{@code array<int | long | double>}</td><td>class ids, {@code [T]} (loss {@code
 *       cross-entropy})</td></tr>
 *   <tr><td rowspan="2">{@link #targetCol()}, a network ending in {@code lastStep()}</td><td>{@code
 *       array<double>}</td><td>values, {@code [O]} (loss {@code mse})</td></tr>
 *   <tr><td>{@code int | long | double}</td><td>a class id (loss {@code cross-entropy})</td></tr>
 *   <tr><td>{@link #predictionCol()} (added)</td><td>{@code array<array<double>>}, or {@code
 *       array<double>} after {@code lastStep()}</td><td>the outputs, {@code [length][O]} or {@code
 *       [O]}</td></tr>
 * </table>
 *
 * <p>Sequences of different lengths without a length column are padded to the longest, each
 * with its own length. The rows' order is the order of {@code Trainer.fit}'s batch dimension.
 */
public final class RnnEstimator extends Estimator<RnnModel> implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;

  /** The identifier Spark ML knows this stage by. */
  private final String uid;
  /** The {@code sequenceCol} param. */
  private final Param<String> sequenceCol;
  /** The {@code targetCol} param. */
  private final Param<String> targetCol;
  /** The {@code lengthCol} param. */
  private final Param<String> lengthCol;
  /** The {@code predictionCol} param. */
  private final Param<String> predictionCol;
  /** The network, on the driver (not serialised: a saved model holds its checkpoint). */
  private final Param<String> network;
  /** The {@code dtype} param. */
  private final Param<String> dtype;
  /** The {@code loss} param. */
  private final Param<String> loss;
  /** The {@code optimizer} param. */
  private final Param<String> optimizer;
  /** The {@code learningRate} param. */
  private final DoubleParam learningRate;
  /** The {@code momentum} param. */
  private final DoubleParam momentum;
  /** The {@code weightDecay} param. */
  private final DoubleParam weightDecay;
  /** The {@code clipGradNorm} param. */
  private final DoubleParam clipGradNorm;
  /** The {@code epochs} param. */
  private final IntParam epochs;
  /** The {@code batchSize} param. */
  private final IntParam batchSize;
  /** The {@code seed} param. */
  private final LongParam seed;
  /** The {@code shuffle} param. */
  private final BooleanParam shuffle;
  /** The {@code partitions} param. */
  private final IntParam partitions;

  /** An estimator with a new uid and the default params; {@link #setNetwork} is required. */
  public RnnEstimator() {
    this(Identifiable.randomUID("rnn"));
  }

  /**
   * An estimator with this uid and the default params (what Spark ML's reader calls).
   *
   * @param uid the uid
   */
  public RnnEstimator(String uid) {
    this.uid = uid;
    sequenceCol = RnnParams.sequenceCol(this);
    lengthCol = RnnParams.lengthCol(this);
    predictionCol = RnnParams.predictionCol(this);
    targetCol = new Param<>(this, "targetCol", "the target column: array<array<double>> values"
        + " [T][O] or array of class ids [T]; after lastStep() array<double> values [O] or one"
        + " class id");
    network = new Param<>(this, "network", "the network in the DSL's spec language, as"
        + " Network.spec() writes it and Rnn.parse reads it, e.g. 'lstm(3, 32).dense(32, 1)'");
    dtype = new Param<>(this, "dtype", "the network's dtype: float32 or float64",
        ParamValidators.inArray(new String[] {"float32", "float64"}));
    loss = new Param<>(this, "loss", "mse, cross-entropy or bce (default: cross-entropy for"
        + " class ids, mse for values)",
        ParamValidators.inArray(new String[] {"mse", "cross-entropy", "bce"}));
    optimizer = new Param<>(this, "optimizer", "sgd, adam, adamw or rmsprop, as torch.optim's",
        ParamValidators.inArray(new String[] {"sgd", "adam", "adamw", "rmsprop"}));
    learningRate = new DoubleParam(this, "learningRate", "the learning rate (default: the"
        + " optimizer's, torch's)", ParamValidators.gt(0));
    momentum = new DoubleParam(this, "momentum", "the momentum of sgd or rmsprop (default 0)",
        ParamValidators.gtEq(0));
    weightDecay = new DoubleParam(this, "weightDecay", "the weight decay (default: the"
        + " optimizer's, torch's)", ParamValidators.gtEq(0));
    clipGradNorm = new DoubleParam(this, "clipGradNorm", "clip the global L2 norm of the"
        + " gradients to this (default: no clipping)", ParamValidators.gt(0));
    epochs = new IntParam(this, "epochs", "the passes over the data", ParamValidators.gtEq(1));
    batchSize = RnnParams.batchSize(this, "the sequences per optimizer step (the global batch)");
    seed = new LongParam(this, "seed", "the seed of the initial weights, the shuffle and dropout");
    shuffle = new BooleanParam(this, "shuffle", "whether each epoch takes the rows in an order"
        + " shuffled from (seed, epoch), as Trainer.shuffle(seed)");
    partitions = new IntParam(this, "partitions", "the partitions each global batch is spread"
        + " over (default: the context's default parallelism)", ParamValidators.gtEq(1));
    setDefault(sequenceCol, "sequence");
    setDefault(predictionCol, "prediction");
    setDefault(batchSize, 32);
    setDefault(targetCol, "target");
    setDefault(dtype, "float32");
    setDefault(optimizer, "adam");
    setDefault(epochs, 10);
    setDefault(seed, 1L);
    setDefault(shuffle, true);
  }

  @Override public String uid() {
    return uid;
  }

  // ---- params ---------------------------------------------------------------------------------

  /** {@return the sequence column's param (default {@code sequence})} */
  public Param<String> sequenceCol() {
    return sequenceCol;
  }

  /** {@return the target column's param (default {@code target})} */
  public Param<String> targetCol() {
    return targetCol;
  }

  /** {@return the optional length column's param (no default: no lengths)} */
  public Param<String> lengthCol() {
    return lengthCol;
  }

  /** {@return the prediction column's param (default {@code prediction})} */
  public Param<String> predictionCol() {
    return predictionCol;
  }

  /** {@return the network spec's param (required)} */
  public Param<String> network() {
    return network;
  }

  /** {@return the dtype's param (default {@code float32})} */
  public Param<String> dtype() {
    return dtype;
  }

  /** {@return the loss's param (default: from the target column's type)} */
  public Param<String> loss() {
    return loss;
  }

  /** {@return the optimizer's param (default {@code adam})} */
  public Param<String> optimizer() {
    return optimizer;
  }

  /** {@return the learning rate's param (default: the optimizer's)} */
  public DoubleParam learningRate() {
    return learningRate;
  }

  /** {@return the momentum's param (sgd and rmsprop; default 0)} */
  public DoubleParam momentum() {
    return momentum;
  }

  /** {@return the weight decay's param (default: the optimizer's)} */
  public DoubleParam weightDecay() {
    return weightDecay;
  }

  /** {@return the gradient clipping's param (default: none)} */
  public DoubleParam clipGradNorm() {
    return clipGradNorm;
  }

  /** {@return the epochs' param (default 10)} */
  public IntParam epochs() {
    return epochs;
  }

  /** {@return the batch size's param (default 32)} */
  public IntParam batchSize() {
    return batchSize;
  }

  /** {@return the seed's param (default 1)} */
  public LongParam seed() {
    return seed;
  }

  /** {@return the shuffle's param (default true)} */
  public BooleanParam shuffle() {
    return shuffle;
  }

  /** {@return the partitions' param (default: the context's default parallelism)} */
  public IntParam partitions() {
    return partitions;
  }

  /**
   * Sets {@link #sequenceCol()}.
   *
   * @param v the column
   * @return this
   */
  public RnnEstimator setSequenceCol(String v) {
    return (RnnEstimator) set(sequenceCol, v);
  }

  /**
   * Sets {@link #targetCol()}.
   *
   * @param v the column
   * @return this
   */
  public RnnEstimator setTargetCol(String v) {
    return (RnnEstimator) set(targetCol, v);
  }

  /**
   * Sets {@link #lengthCol()}.
   *
   * @param v the column
   * @return this
   */
  public RnnEstimator setLengthCol(String v) {
    return (RnnEstimator) set(lengthCol, v);
  }

  /**
   * Sets {@link #predictionCol()}.
   *
   * @param v the column
   * @return this
   */
  public RnnEstimator setPredictionCol(String v) {
    return (RnnEstimator) set(predictionCol, v);
  }

  /**
   * Sets the network, checking that the spec parses.
   *
   * @param spec the network in the spec language
   * @return this
   * @throws IllegalArgumentException with the parser's message
   */
  public RnnEstimator setNetwork(String spec) {
    Rnn.parse(spec);
    return (RnnEstimator) set(network, spec);
  }

  /**
   * Sets {@link #dtype()}.
   *
   * @param v {@code float32} or {@code float64}
   * @return this
   */
  public RnnEstimator setDtype(String v) {
    return (RnnEstimator) set(dtype, v);
  }

  /**
   * Sets {@link #loss()}.
   *
   * @param v {@code mse}, {@code cross-entropy} or {@code bce}
   * @return this
   */
  public RnnEstimator setLoss(String v) {
    return (RnnEstimator) set(loss, v);
  }

  /**
   * Sets {@link #optimizer()}.
   *
   * @param v {@code sgd}, {@code adam}, {@code adamw} or {@code rmsprop}
   * @return this
   */
  public RnnEstimator setOptimizer(String v) {
    return (RnnEstimator) set(optimizer, v);
  }

  /**
   * Sets {@link #learningRate()}.
   *
   * @param v the learning rate
   * @return this
   */
  public RnnEstimator setLearningRate(double v) {
    return (RnnEstimator) set(learningRate, v);
  }

  /**
   * Sets {@link #momentum()}.
   *
   * @param v the momentum
   * @return this
   */
  public RnnEstimator setMomentum(double v) {
    return (RnnEstimator) set(momentum, v);
  }

  /**
   * Sets {@link #weightDecay()}.
   *
   * @param v the weight decay
   * @return this
   */
  public RnnEstimator setWeightDecay(double v) {
    return (RnnEstimator) set(weightDecay, v);
  }

  /**
   * Sets {@link #clipGradNorm()}.
   *
   * @param v the largest global gradient norm
   * @return this
   */
  public RnnEstimator setClipGradNorm(double v) {
    return (RnnEstimator) set(clipGradNorm, v);
  }

  /**
   * Sets {@link #epochs()}.
   *
   * @param v the epochs
   * @return this
   */
  public RnnEstimator setEpochs(int v) {
    return (RnnEstimator) set(epochs, v);
  }

  /**
   * Sets {@link #batchSize()}.
   *
   * @param v the global batch size
   * @return this
   */
  public RnnEstimator setBatchSize(int v) {
    return (RnnEstimator) set(batchSize, v);
  }

  /**
   * Sets {@link #seed()}.
   *
   * @param v the seed
   * @return this
   */
  public RnnEstimator setSeed(long v) {
    return (RnnEstimator) set(seed, v);
  }

  /**
   * Sets {@link #shuffle()}.
   *
   * @param v whether to shuffle
   * @return this
   */
  public RnnEstimator setShuffle(boolean v) {
    return (RnnEstimator) set(shuffle, v);
  }

  /**
   * Sets {@link #partitions()}.
   *
   * @param v the partitions
   * @return this
   */
  public RnnEstimator setPartitions(int v) {
    return (RnnEstimator) set(partitions, v);
  }

  // ---- what fit does --------------------------------------------------------------------------

  /**
   * The network of the params, built (its weights are allocated at first use): {@code
   * Rnn.parse(network).dtype(dtype).seed(seed).dropoutSeed(seed)}, as the {@code fit} command
   * builds it.
   *
   * @return a new network
   * @throws IllegalStateException if no network is set
   * @throws IllegalArgumentException if the spec does not build
   */
  public Network buildNetwork() {
    if (!isDefined(network)) {
      throw new IllegalStateException("RnnEstimator " + uid + " has no network; setNetwork(spec)"
          + " first, e.g. setNetwork(\"lstm(3, 32).dense(32, 1)\")");
    }
    long s = (Long) getOrDefault(seed);
    NetworkBuilder b = Rnn.parse(getOrDefault(network));
    return b.dtype(DType.parse(getOrDefault(dtype))).seed(s).dropoutSeed(s).build();
  }

  /**
   * The trainer of the params over {@code net}, for {@code objective}: loss, optimizer, epochs,
   * batch size, shuffle and clipping.
   *
   * @param net the network trained
   * @param objective the loss
   * @return a new trainer
   */
  public Trainer trainer(Network net, Trainer.Objective objective) {
    String kind = getOrDefault(optimizer);
    Double lr = isDefined(learningRate) ? (Double) getOrDefault(learningRate) : null;
    Double m = isDefined(momentum) ? (Double) getOrDefault(momentum) : null;
    Double wd = isDefined(weightDecay) ? (Double) getOrDefault(weightDecay) : null;
    checkArgument(m == null || kind.equals("sgd") || kind.equals("rmsprop"),
        "momentum applies to sgd and rmsprop, not %s", kind);
    Trainer t = net.trainer().loss(objective).optimizer(ps -> optimizer(kind, ps, lr, m, wd))
        .epochs((Integer) getOrDefault(epochs)).batchSize((Integer) getOrDefault(batchSize));
    if ((Boolean) getOrDefault(shuffle)) {
      t.shuffle((Long) getOrDefault(seed));
    }
    if (isDefined(clipGradNorm)) {
      t.clipGradNorm((Double) getOrDefault(clipGradNorm));
    }
    return t;
  }

  /** The optimizer {@code kind} over {@code ps}, with torch's defaults where not given. */
  static Optimizer optimizer(String kind, List<Parameter> ps, Double lr, Double momentum,
      Double weightDecay) {
    OptimizerKind k;
    try {
      k = OptimizerKind.named(kind);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("optimizer " + e.getMessage(), e);
    }
    return k.build(ps, lr, momentum, weightDecay);
  }

  /**
   * Trains the network of the params on {@code dataset} with {@link SparkTrainer} and returns
   * the model holding it.
   *
   * @param dataset the rows: sequences, targets and optionally lengths
   * @return the trained model, with this estimator's column params
   * @throws IllegalArgumentException if a column is missing or of the wrong type, or the loss
   *     does not fit the targets, naming the column
   * @throws IllegalStateException if no network is set
   */
  @Override public RnnModel fit(Dataset<?> dataset) {
    StructType schema = dataset.schema();
    Network net = buildNetwork();
    transformSchema(schema, net);
    Trainer.Objective objective = objective(schema, net);
    String seqCol = getOrDefault(sequenceCol);
    String lenCol = isDefined(lengthCol) ? getOrDefault(lengthCol) : null;
    Dataset<Row> rows = lenCol == null
        ? dataset.toDF().select(seqCol, getOrDefault(targetCol))
        : dataset.toDF().select(seqCol, getOrDefault(targetCol), lenCol);
    Row range = rows.agg(functions.min(functions.size(functions.col(seqCol))),
        functions.max(functions.size(functions.col(seqCol)))).first();
    checkArgument(!range.isNullAt(0), "RnnEstimator.fit expected rows but the dataset is empty");
    checkArgument(range.getInt(0) >= 1, "sequence column '%s' holds a sequence of %s steps;"
        + " every sequence needs at least one", seqCol, range.getInt(0));
    int steps = range.getInt(1);
    boolean withLengths = lenCol != null || range.getInt(0) != steps;
    RnnParams.Target target = RnnParams.Target.of(schema, getOrDefault(targetCol),
        net.lastStepOnly());
    JavaRDD<Example> examples = rows.javaRDD().map(new ToExample(steps, withLengths, target,
        net.outputSize()));
    SparkTrainer st = SparkTrainer.of(trainer(net, objective));
    if (isDefined(partitions)) {
      st.partitions((Integer) getOrDefault(partitions));
    }
    st.fit(examples);
    RnnModel model = new RnnModel(uid, net);
    model.setParent(this);
    model.setSequenceCol(seqCol).setPredictionCol(getOrDefault(predictionCol))
        .setBatchSize((Integer) getOrDefault(batchSize));
    if (lenCol != null) {
      model.setLengthCol(lenCol);
    }
    return model;
  }

  /** The loss of the params, or the one the target column's type calls for. */
  Trainer.Objective objective(StructType schema, Network net) {
    String col = getOrDefault(targetCol);
    boolean classIds = !RnnParams.Target.of(schema, col, net.lastStepOnly()).values;
    if (!isDefined(loss)) {
      return classIds ? Trainer.Objective.CROSS_ENTROPY : Trainer.Objective.MSE;
    }
    String l = getOrDefault(loss);
    checkArgument(l.equals("cross-entropy") == classIds, "loss %s needs %s but target column"
        + " '%s' holds %s (%s)", l, classIds ? "values" : "class ids", col,
        classIds ? "class ids" : "values", schema.apply(col).dataType().simpleString());
    return switch (l) {
      case "mse" -> Trainer.Objective.MSE;
      case "bce" -> Trainer.Objective.BINARY_CROSS_ENTROPY;
      default -> Trainer.Objective.CROSS_ENTROPY;
    };
  }

  @Override public StructType transformSchema(StructType schema) {
    return transformSchema(schema, buildNetwork());
  }

  private StructType transformSchema(StructType schema, Network net) {
    RnnParams.Target.of(schema, getOrDefault(targetCol), net.lastStepOnly());
    return BroadcastNetwork.outputSchema(schema, getOrDefault(sequenceCol),
        isDefined(lengthCol) ? getOrDefault(lengthCol) : null, getOrDefault(predictionCol),
        net.lastStepOnly());
  }

  @Override public RnnEstimator copy(ParamMap extra) {
    return (RnnEstimator) defaultCopy(extra);
  }

  /** {@return a reader of saved estimators} */
  public static MLReader<RnnEstimator> read() {
    return new DefaultParamsReader<>();
  }

  /**
   * The estimator saved at {@code path} with {@code write().save(path)}.
   *
   * @param path the Hadoop path
   * @return the estimator
   */
  public static RnnEstimator load(String path) {
    return read().load(path);
  }

  /** A row {@code (sequence, target[, length])} as an {@link Example} padded to {@code steps}. */
  private static final class ToExample implements Function<Row, Example> {
    private static final long serialVersionUID = 1L;
    /** The {@code steps} param. */
    private final int steps;
    /** The {@code withLengths} param. */
    private final boolean withLengths;
    private final RnnParams.Target target;
    /** The {@code outputs} param. */
    private final int outputs;

    ToExample(int steps, boolean withLengths, RnnParams.Target target, int outputs) {
      this.steps = steps;
      this.withLengths = withLengths;
      this.target = target;
      this.outputs = outputs;
    }

    @Override public Example call(Row row) {
      double[][] x = SparkRows.sequence(row, 0);
      int length = row.size() > 2 ? SparkRows.length(row, 2) : x.length;
      checkArgument(length <= x.length, "length %s is more than the %s steps of the sequence",
          length, x.length);
      int f = x[0].length;
      double[] in = new double[steps * f];
      for (int t = 0; t < length; t++) {
        checkArgument(x[t].length == f, "sequence has %s features at step 0 but %s at step %s",
            f, x[t].length, t);
        System.arraycopy(x[t], 0, in, t * f, f);
      }
      Tensor inputs = Tensor.of(in, steps, f);
      Tensor targets = targets(row, length);
      return withLengths ? Example.of(inputs, length, targets) : Example.of(inputs, targets);
    }

    /** The targets of {@code row} (field 1), padded with zeros after {@code length} steps. */
    private Tensor targets(Row row, int length) {
      switch (target) {
        case ID:
          return Tensor.of(new double[] {((Number) row.get(1)).doubleValue()});
        case VECTOR:
          return Tensor.of(SparkRows.vector(row, 1), outputs);
        case IDS: {
          double[] ids = SparkRows.vector(row, 1);
          return Tensor.of(Arrays.copyOf(ids, steps), steps);
        }
        default: {
          double[][] v = SparkRows.sequence(row, 1);
          double[] out = new double[steps * outputs];
          for (int t = 0; t < Math.min(length, v.length); t++) {
            checkArgument(v[t].length == outputs, "target has %s values at step %s but the"
                + " network has %s outputs", v[t].length, t, outputs);
            System.arraycopy(v[t], 0, out, t * outputs, outputs);
          }
          return Tensor.of(out, steps, outputs);
        }
      }
    }
  }
}
