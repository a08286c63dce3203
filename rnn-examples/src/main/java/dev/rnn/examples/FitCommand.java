package dev.rnn.examples;

import com.google.gson.stream.JsonWriter;
import dev.rnn.autograd.optim.Optimizer;
import dev.rnn.autograd.optim.OptimizerKind;
import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Safetensors;
import dev.rnn.core.SafetensorsFile;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Metric;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.NetworkBuilder;
import dev.rnn.dsl.Rnn;
import dev.rnn.dsl.Trainer;
import dev.rnn.examples.train.Progress;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * The {@code fit} command: trains a network written in the spec language on a data directory
 * ({@link DataDirectory}) with the library's {@link Trainer}, prints the metrics of every epoch
 * and writes the trained network as a checkpoint ({@code --out}, which {@link Rnn#load} and
 * {@code predict} read) and a JSON report ({@code --json}).
 *
 * <p>Everything that can be checked before training is: the spec, the options, the data against
 * the network and the loss, {@code --init} against the network, the directories of the outputs.
 * Without {@code --init} the weights are torch's default initialisation from {@code --seed}; the
 * shuffle and dropout are seeded from it too, so a run is reproducible bit for bit, and with
 * {@code --init} and {@code --no-shuffle} it depends on nothing but the files.
 *
 * <p>A data directory with {@code lengths} trains on sequences of different lengths, as {@link
 * Trainer#fit(Tensor, int[], Tensor)}: the padding is never read and the loss counts real steps
 * only. A {@code --val} directory may have lengths too, with or without those of {@code --data}
 * ({@link Trainer#validation(Tensor, int[], Tensor)}): its loss and metrics count real steps only.
 */
@Command(
    name = "fit",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    sortOptions = false,
    description = {
        "Trains a network on a data directory and writes it as a checkpoint.",
        "",
        "A data directory holds safetensors shards, read in file-name order:",
        "  inputs   [N, T, F]  F32 or F64",
        "  targets  [N, T, O]  values (F32, F64), or [N, T] class ids (I64, I32, ...);",
        "           [N, O] or [N] for a network that ends in lastStep()",
        "  lengths  [N]        optional (I64, I32, ...): example n is its first lengths[n]",
        "           steps, in [1, T]; the rest is padding, not read, not counted",
        "The loss is cross-entropy for class ids and mse for values unless --loss says.",
        "",
        "Example:",
        "  rnn-examples fit --net 'lstm(2, 32).lastStep().dense(32, 1)' --data train",
        "      --val val --epochs 20 --lr 3e-3 --clip 1 --out model.safetensors",
        ""},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:success",
        "1:the data, --init or an output is wrong (the message says why)",
        "2:bad usage, e.g. a spec that does not build or an unknown optimizer"})
final class FitCommand implements Callable<Integer> {
  @Option(names = "--net", required = true, paramLabel = "SPEC",
      description = "The network in the spec language, e.g. 'gru(3, 16).dense(16, 4)'.")
  String net;

  @Option(names = "--data", required = true, paramLabel = "DIR",
      description = "The training data directory.")
  Path data;

  @Option(names = "--epochs", paramLabel = "N", defaultValue = "10",
      description = "The number of epochs (default ${DEFAULT-VALUE}).")
  int epochs;

  @Option(names = "--batch", paramLabel = "B", defaultValue = "32",
      description = "Examples per batch; the last batch may be smaller (default ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--optimizer", paramLabel = "NAME", defaultValue = "adam",
      converter = OptimizerConverter.class,
      description = "sgd, adam, adamw or rmsprop, as torch.optim's (default ${DEFAULT-VALUE}).")
  OptimizerKind optimizer;

  @Option(names = "--lr", paramLabel = "X",
      description = "The learning rate (default: the optimizer's, torch's: 1e-3, rmsprop 1e-2).")
  Double lr;

  @Option(names = "--momentum", paramLabel = "M",
      description = "The momentum of sgd or rmsprop (default 0).")
  Double momentum;

  @Option(names = "--weight-decay", paramLabel = "W",
      description = "The weight decay (default: the optimizer's, torch's: 0, adamw 1e-2).")
  Double weightDecay;

  @Option(names = "--clip", paramLabel = "X",
      description = "Clip the global L2 norm of the gradients to X (default: no clipping).")
  Double clip;

  @Option(names = "--loss", paramLabel = "LOSS", converter = LossConverter.class,
      description = "mse or cross-entropy, torch's mean reductions (default: cross-entropy for"
          + " integer targets, mse otherwise).")
  Trainer.Objective loss;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
      description = "The seed of the initial weights, the shuffle and dropout"
          + " (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--no-shuffle",
      description = "Take the examples in file order every epoch.")
  boolean noShuffle;

  @Option(names = "--dtype", paramLabel = "DTYPE", defaultValue = "float32",
      converter = DTypeConverter.class,
      description = "float32 or float64 (default ${DEFAULT-VALUE}).")
  DType dtype;

  @Option(names = "--init", paramLabel = "FILE",
      description = "Start from these weights: a checkpoint of this project, or a safetensors"
          + " file of parameters under the network's names (torch's for recurrent layers, so a"
          + " torch state_dict saved with safetensors works).")
  Path init;

  @Option(names = "--val", paramLabel = "DIR",
      description = "Validation data, in the format of --data, measured after every epoch.")
  Path val;

  @Option(names = "--out", paramLabel = "FILE",
      description = "Write the trained network here, a checkpoint that predict reads.")
  Path out;

  @Option(names = "--json", paramLabel = "REPORT",
      description = "Write the run's report here: the options and every epoch's metrics.")
  Path json;

  @Mixin
  ProgressOption progress;

  @Option(names = "--master", paramLabel = "URL",
      description = "Train on Spark (local[2], spark://host:7077) by data-parallel BPTT, with the"
          + " weights of a run on one machine; needs a build with -Pspark.")
  String master;

  @Mixin
  VerboseOption verbose;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    CommandLine cl = spec.commandLine();
    checkPositive("--epochs", epochs);
    checkPositive("--batch", batch);
    DistributedFit distributed = master == null ? null : DistributedFit.load(cl);
    Network network = network(cl);
    Function<List<Parameter>, Optimizer> factory = optimizerFactory(cl, network);
    checkOutput(out);
    checkOutput(json);
    DataDirectory train = DataDirectory.read(data, dtype, true);
    DataDirectory held = val == null ? null : DataDirectory.read(val, dtype, true);
    train.checkFits(network, "--data " + data);
    Trainer.Objective objective = objective(train);
    if (held != null) {
      held.checkFits(network, "--val " + val);
      if (held.classIds() != train.classIds()) {
        throw new IllegalArgumentException("--val " + val + ": targets are "
            + (held.classIds() ? "class ids" : "values") + " but those of --data " + data
            + " are " + (train.classIds() ? "class ids" : "values"));
      }
    }
    if (init != null) {
      loadInit(network, init);
    }

    Trainer trainer = network.trainer().loss(objective).optimizer(factory::apply)
        .epochs(epochs).batchSize(batch);
    if (!noShuffle) {
      trainer.shuffle(seed);
    }
    if (clip != null) {
      trainer.clipGradNorm(clip);
    }
    if (train.classIds()) {
      trainer.metrics(Metric.accuracy());
    }
    if (held != null) {
      if (held.lengths() == null) {
        trainer.validation(held.inputsFor(network), held.targetsFor(network));
      } else {
        trainer.validation(held.inputsFor(network), held.lengths(), held.targetsFor(network));
      }
    }
    PrintWriter o = cl.getOut();
    o.printf(Locale.ROOT, "fit %s on %s: %d examples of %s%s; %s, %s, %d epochs, batch %d,"
            + " seed %d%s%n", network.spec(), data, train.examples(), steps(train),
        held == null ? "" : ", validation " + val + ": " + held.examples() + " examples",
        lossName(objective), factory.apply(network.parameters()), epochs, batch, seed,
        noShuffle ? ", no shuffle" : "");
    o.flush();
    long batches = (train.examples() + batch - 1) / batch;
    Trainer.Report report;
    try (Progress.Bar bar = progress.progress().start("fit", epochs * batches)) {
      trainer.listener(e -> bar.step(String.format(Locale.ROOT, "epoch %d/%d loss %.4f",
          e.epoch(), epochs, e.loss())));
      if (distributed != null) {
        report = distributed.fit(trainer, data, master);
      } else {
        report = train.lengths() == null
            ? trainer.fit(train.inputsFor(network), train.targetsFor(network))
            : trainer.fit(train.inputsFor(network), train.lengths(), train.targetsFor(network));
      }
    }
    for (Trainer.Epoch e : report.history()) {
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "epoch %3d/%d",
          e.epoch(), epochs));
      e.metrics().forEach((name, v) -> line.append(String.format(Locale.ROOT, "  %s %.6f",
          name, v)));
      o.println(line);
    }
    o.printf(Locale.ROOT, "%d steps in %.1f s%n", report.steps(),
        report.wallTime().toNanos() / 1e9);
    if (out != null) {
      network.save(out);
      o.println("wrote " + out);
    }
    if (json != null) {
      OutputFile.writeText(json, json(network, train, held, objective, factory, report));
      o.println("wrote " + json);
    }
    o.flush();
    return ExitCode.OK;
  }

  /** {@code 10 steps}, or with lengths {@code 3 to 10 steps (padded to 12)}. */
  private static String steps(DataDirectory d) {
    if (d.lengths() == null) {
      return d.steps() + " steps";
    }
    int min = Arrays.stream(d.lengths()).min().orElseThrow();
    int max = Arrays.stream(d.lengths()).max().orElseThrow();
    return min + " to " + max + " steps (padded to " + d.steps() + ")";
  }

  private void checkPositive(String option, int value) {
    if (value < 1) {
      throw new ParameterException(spec.commandLine(),
          option + " expected a number >= 1 but got " + value);
    }
  }

  /** The network of {@code --net}, of {@code --dtype}, seeded from {@code --seed}. */
  private Network network(CommandLine cl) {
    NetworkBuilder b;
    try {
      b = Rnn.parse(net);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cl, "Invalid value for option '--net': " + e.getMessage(), e);
    }
    try {
      return b.dtype(dtype).seed(seed).dropoutSeed(seed).build();
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new ParameterException(cl, "Invalid value for option '--net': spec '" + net
          + "' does not build: " + e.getMessage(), e);
    }
  }

  /** The optimizer of the options, built once here so that a bad value is a usage error. */
  private Function<List<Parameter>, Optimizer> optimizerFactory(CommandLine cl, Network network) {
    if (momentum != null && !optimizer.takesMomentum()) {
      throw new ParameterException(cl, "--momentum applies to sgd and rmsprop, not "
          + optimizer.id());
    }
    Function<List<Parameter>, Optimizer> factory = ps -> optimizer.build(ps, lr, momentum,
        weightDecay);
    try {
      factory.apply(network.parameters());
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new ParameterException(cl, optimizer.id() + ": " + e.getMessage(), e);
    }
    return factory;
  }

  /** The loss of {@code --loss}, or the one the targets call for; refuses a mismatch. */
  private Trainer.Objective objective(DataDirectory d) {
    Trainer.Objective o = loss != null ? loss
        : d.classIds() ? Trainer.Objective.CROSS_ENTROPY : Trainer.Objective.MSE;
    if (o == Trainer.Objective.CROSS_ENTROPY && !d.classIds()) {
      throw new IllegalArgumentException("--loss cross-entropy needs class ids (integer"
          + " targets) but the targets of --data " + data + " are values "
          + d.targets().shape() + "; use --loss mse");
    }
    if (o == Trainer.Objective.BINARY_CROSS_ENTROPY && d.classIds()) {
      throw new IllegalArgumentException("--loss bce needs values in [0, 1] (float targets) but"
          + " the targets of --data " + data + " are class ids; use --loss cross-entropy");
    }
    if (o == Trainer.Objective.MSE && d.classIds()) {
      throw new IllegalArgumentException("--loss mse needs values (float targets) but the"
          + " targets of --data " + data + " are class ids; use --loss cross-entropy");
    }
    return o;
  }

  /**
   * {@code mse}, {@code cross-entropy}, {@code bce}: the objective's name in lower case, with
   * hyphens; binary cross-entropy by its usual short name.
   */
  static String lossName(Trainer.Objective o) {
    return o == Trainer.Objective.BINARY_CROSS_ENTROPY ? "bce"
        : o.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** Fails before training if {@code file}'s directory does not exist or it is a directory. */
  private static void checkOutput(Path file) throws IOException {
    if (file == null) {
      return;
    }
    Path dir = file.toAbsolutePath().getParent();
    if (dir != null && !Files.isDirectory(dir)) {
      throw new NoSuchFileException(file.toString(), null,
          "cannot write, directory " + dir + " does not exist");
    }
    if (Files.isDirectory(file)) {
      throw new FileSystemException(file.toString(), null, "is a directory, not a file");
    }
  }

  /**
   * Sets {@code network}'s parameters from {@code file}: exactly its parameters by name, with
   * their shapes (a checkpoint's run state, {@code trainer/...}, is skipped); nothing is set
   * unless all fit.
   *
   * @throws IllegalArgumentException naming the file and the first parameter that differs
   */
  static void loadInit(Network network, Path file) throws IOException {
    SafetensorsFile f = Safetensors.read(file);
    Map<String, Tensor> given = new TreeMap<>();
    f.tensors().forEach((name, t) -> {
      if (!name.startsWith("trainer/")) {
        given.put(name, t);
      }
    });
    Map<String, Parameter> params = network.namedParameters();
    for (Map.Entry<String, Parameter> e : params.entrySet()) {
      Tensor t = given.get(e.getKey());
      if (t == null) {
        throw new IllegalArgumentException("--init " + file + ": has no parameter " + e.getKey()
            + " " + e.getValue().shape() + " of the network " + network.spec() + "; it has "
            + String.join(", ", given.keySet()));
      }
      if (!t.shape().equals(e.getValue().shape())) {
        throw new IllegalArgumentException("--init " + file + ": parameter " + e.getKey()
            + " expected shape " + e.getValue().shape() + " but got " + t.shape());
      }
    }
    for (Map.Entry<String, Tensor> e : given.entrySet()) {
      if (!params.containsKey(e.getKey())) {
        throw new IllegalArgumentException("--init " + file + ": " + e.getKey() + " "
            + e.getValue().shape() + " is not a parameter of the network " + network.spec()
            + ", which has " + String.join(", ", params.keySet()));
      }
    }
    params.forEach((name, p) -> p.set(given.get(name)));
  }

  private String json(Network network, DataDirectory train, DataDirectory held,
      Trainer.Objective objective, Function<List<Parameter>, Optimizer> factory,
      Trainer.Report report) throws IOException {
    StringWriter s = new StringWriter();
    JsonWriter w = new JsonWriter(s);
    w.setIndent("  ");
    w.beginObject();
    w.name("net").value(network.spec());
    w.name("data").value(data.toString());
    w.name("examples").value(train.examples());
    w.name("steps").value(train.steps());
    w.name("lengths").value(train.lengths() != null);
    w.name("val").value(val == null ? null : val.toString());
    w.name("valExamples").value(held == null ? null : (Integer) held.examples());
    w.name("loss").value(lossName(objective));
    w.name("optimizer").value(factory.apply(network.parameters()).toString());
    w.name("epochs").value(epochs);
    w.name("batch").value(batch);
    w.name("clip").value(clip);
    w.name("seed").value(seed);
    w.name("shuffle").value(!noShuffle);
    w.name("dtype").value(dtype.torchName());
    w.name("init").value(init == null ? null : init.toString());
    w.name("out").value(out == null ? null : out.toString());
    w.name("history").beginArray();
    for (Trainer.Epoch e : report.history()) {
      w.beginObject();
      w.name("epoch").value(e.epoch());
      w.name("stepsDone").value(e.stepsDone());
      number(w.name("learningRate"), e.learningRate());
      for (Map.Entry<String, Double> m : e.metrics().entrySet()) {
        number(w.name(m.getKey()), m.getValue());
      }
      w.endObject();
    }
    w.endArray();
    w.name("optimizerSteps").value(report.steps());
    number(w.name("finalLoss"), report.finalLoss());
    number(w.name("wallTimeSeconds"), report.wallTime().toNanos() / 1e9);
    w.endObject();
    w.flush();
    return s + "\n";
  }

  /** A number, or null for NaN and infinities, which JSON has not. */
  private static void number(JsonWriter w, double v) throws IOException {
    if (Double.isFinite(v)) {
      w.value(v);
    } else {
      w.nullValue();
    }
  }

  /** {@code sgd}, {@code adam}, {@code adamw} or {@code rmsprop}, in any case. */
  static final class OptimizerConverter implements ITypeConverter<OptimizerKind> {
    @Override
    public OptimizerKind convert(String value) {
      try {
        return OptimizerKind.named(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** {@code mse}, {@code cross-entropy} or {@code bce}. */
  static final class LossConverter implements ITypeConverter<Trainer.Objective> {
    @Override
    public Trainer.Objective convert(String value) {
      String v = value.strip().toLowerCase(Locale.ROOT);
      List<String> known = new ArrayList<>();
      for (Trainer.Objective o : Trainer.Objective.values()) {
        known.add(lossName(o));
        if (lossName(o).equals(v)) {
          return o;
        }
      }
      throw new TypeConversionException("expected " + String.join(" or ", known) + " but got '"
          + value + "'");
    }
  }

  /** {@code float32} or {@code float64}. */
  static final class DTypeConverter implements ITypeConverter<DType> {
    @Override
    public DType convert(String value) {
      String v = value.strip();
      if (v.equals("float32") || v.equals("float64")) {
        return DType.parse(v);
      }
      throw new TypeConversionException("expected float32 or float64 but got '" + value + "'");
    }
  }
}
