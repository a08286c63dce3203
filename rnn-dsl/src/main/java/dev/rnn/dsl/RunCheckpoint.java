package dev.rnn.dsl;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.rnn.autograd.optim.OptimizerState;
import dev.rnn.core.Parameter;
import dev.rnn.core.Safetensors;
import dev.rnn.core.SafetensorsException;
import dev.rnn.core.SafetensorsFile;
import dev.rnn.core.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * A checkpoint written during a fit ({@link Trainer#checkpoints}): a network checkpoint, which
 * {@link Rnn#load} reads as any other, with where the run is besides, so that {@link
 * Trainer#fitFrom} can finish the run exactly.
 *
 * <p>Besides the network's parameters and metadata ({@link Checkpoint}):
 *
 * <pre>
 *   metadata  trainer.format              {@value #FORMAT}
 *             trainer.epochsDone           the epochs done, from 1
 *             trainer.stepsDone            the optimizer steps done
 *             trainer.optimizer            Sgd, Adam, AdamW or RmsProp
 *             trainer.optimizerSteps       the optimizer's own step count
 *             trainer.optimizerParameters  the names of its parameters, in its order, comma-separated
 *             trainer.schedule             the schedule's position: learning rate, best, bad
 *                                          epochs, cooldown, comma-separated
 *             trainer.monitor              the monitored metric
 *             trainer.best, trainer.bestEpoch, trainer.epochsSinceBest
 *             trainer.shuffleSeed          the shuffle seed, or none
 *             trainer.stoppedEarly         true or false
 *   tensors   trainer/optimizer/NAME/STATE  the optimizer's state tensors by torch's names
 *                                           (exp_avg, momentum_buffer, ...), per parameter
 *             trainer/best/NAME            the parameters of the best epoch (early stopping that
 *                                          restores them only)
 * </pre>
 *
 * <p>Numbers are written as Java writes a double or long and read back to the same bits, so a
 * run resumed from the file goes on exactly as it would have unbroken.
 */
final class RunCheckpoint {
  /** The file written after every epoch. */
  static final String LAST = "last.safetensors";

  /** The file written after every epoch that improved the monitored metric. */
  static final String BEST = "best.safetensors";

  /** The value of metadata {@code trainer.format}. */
  static final String FORMAT = "rnn-run/1";

  /** The prefix of the names of the run's tensors. */
  static final String TENSORS = "trainer/";

  private static final String KEY = "trainer.";
  private static final String OPTIMIZER = TENSORS + "optimizer/";
  private static final String BEST_WEIGHTS = TENSORS + "best/";

  private final SafetensorsFile file;
  private final Trainer.Report report;

  /** {@return the batches done of the epoch after the checkpoint's epochs, 0 at an epoch's end} */
  int batchesDone() {
    String b = file.metadata().get(KEY + "batchesDone");
    return b == null ? 0 : Integer.parseInt(b);
  }

  /** {@return the sum of the losses of the updates of the epoch in progress} */
  double epochLossSum() {
    String l = file.metadata().get(KEY + "epochLoss");
    return l == null ? 0 : Double.parseDouble(l.split(",")[0]);
  }

  /** {@return the number of the updates of the epoch in progress} */
  int epochLossCount() {
    String l = file.metadata().get(KEY + "epochLoss");
    return l == null ? 0 : Integer.parseInt(l.split(",")[1]);
  }

  private RunCheckpoint(SafetensorsFile file, Trainer.Report report) {
    this.file = file;
    this.report = report;
  }

  /** {@code tensors} without the run's: the network's parameters. */
  static <T> Map<String, T> withoutRunState(Map<String, T> tensors) {
    Map<String, T> params = new LinkedHashMap<>();
    tensors.forEach((name, t) -> {
      if (!name.startsWith(TENSORS)) {
        params.put(name, t);
      }
    });
    return params;
  }

  /**
   * Refuses, before a fit starts, a network that a checkpoint cannot rebuild.
   *
   * @throws IllegalArgumentException for a user-written cell
   */
  static void checkSavable(Network net, Path dir) {
    for (Stage s : net.stages()) {
      if (!s.rebuildable()) {
        throw new IllegalArgumentException("checkpoints(" + dir + "): layer " + s.layer() + ", "
            + s.written() + " is a user-written cell, which a checkpoint cannot rebuild");
      }
    }
  }

  // ---- writing --------------------------------------------------------------------------------

  /** Writes {@code net} and the run's state to {@code path}, atomically. */
  static void write(Network net, Path path, int epochsDone, long stepsDone,
      OptimizerState optimizer, Trainer.RunState run) throws IOException {
    write(net, path, epochsDone, stepsDone, optimizer, run, 0, 0, 0);
  }

  /**
   * As {@link #write(Network, Path, int, long, OptimizerState, Trainer.RunState)} in the middle
   * of epoch {@code epochsDone + 1}, after its batch {@code batchesDone} (0: at an epoch's end),
   * with the sum and number of the losses of that epoch's updates so far.
   */
  static void write(Network net, Path path, int epochsDone, long stepsDone,
      OptimizerState optimizer, Trainer.RunState run, int batchesDone, double epochLossSum,
      int epochLossCount) throws IOException {
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put(KEY + "format", FORMAT);
    meta.put(KEY + "epochsDone", String.valueOf(epochsDone));
    meta.put(KEY + "stepsDone", String.valueOf(stepsDone));
    if (batchesDone > 0) {
      meta.put(KEY + "batchesDone", String.valueOf(batchesDone));
      meta.put(KEY + "epochLoss", epochLossSum + "," + epochLossCount);
    }
    meta.put(KEY + "optimizer", optimizer.optimizer());
    meta.put(KEY + "optimizerSteps", String.valueOf(optimizer.steps()));
    List<String> names = new ArrayList<>();
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (OptimizerState.ParameterState p : optimizer.parameters()) {
      names.add(p.name());
      p.tensors().forEach((state, t) -> tensors.put(OPTIMIZER + p.name() + "/" + state, t));
    }
    meta.put(KEY + "optimizerParameters", String.join(",", names));
    Schedule.State s = run.schedule();
    meta.put(KEY + "schedule", s.learningRate() + "," + s.best() + "," + s.badEpochs() + ","
        + s.cooldown());
    meta.put(KEY + "monitor", run.monitor());
    meta.put(KEY + "best", String.valueOf(run.best()));
    meta.put(KEY + "bestEpoch", String.valueOf(run.bestEpoch()));
    meta.put(KEY + "epochsSinceBest", String.valueOf(run.epochsSinceBest()));
    meta.put(KEY + "shuffleSeed", run.shuffleSeed().isPresent()
        ? String.valueOf(run.shuffleSeed().getAsLong()) : "none");
    meta.put(KEY + "stoppedEarly", String.valueOf(run.stoppedEarly()));
    run.bestWeights().forEach((name, t) -> tensors.put(BEST_WEIGHTS + name, t));
    Checkpoint.save(net, path, tensors, meta, Safetensors::write);
  }

  // ---- reading --------------------------------------------------------------------------------

  /**
   * The checkpoint at {@code path}, checked to be one of a fit of {@code net}; nothing is set yet.
   *
   * @throws SafetensorsException naming the file and the first thing that differs
   */
  static RunCheckpoint read(Network net, Path path) throws IOException {
    SafetensorsFile f = Checkpoint.read(path);
    String src = f.source();
    String format = f.metadata().get("format");
    if (!Checkpoint.FORMAT.equals(format)) {
      throw new SafetensorsException(src + ": is not a network checkpoint: metadata 'format'"
          + " expected '" + Checkpoint.FORMAT + "' but got "
          + (format == null ? "none" : "'" + format + "'"));
    }
    String runFormat = f.metadata().get(KEY + "format");
    if (!FORMAT.equals(runFormat)) {
      throw new SafetensorsException(src + ": holds a network but no training run (metadata '"
          + KEY + "format' expected '" + FORMAT + "' but got "
          + (runFormat == null ? "none" : "'" + runFormat + "'")
          + "); a fit with checkpoints(dir) writes dir/" + LAST + " and dir/" + BEST);
    }
    Checkpoint.metadata(net).forEach((key, want) -> {
      String got = f.metadata().get(key);
      if (!want.equals(got)) {
        throw new SafetensorsException(src + ": is a checkpoint of another network: metadata '"
            + key + "' expected '" + want + "' (this network's) but got "
            + (got == null ? "none" : "'" + got + "'"));
      }
    });
    Reader r = new Reader(f);
    OptimizerState optimizer = r.optimizerState(net);
    String[] s = r.string("schedule").split(",", -1);
    if (s.length != 4) {
      throw new SafetensorsException(src + ": metadata '" + KEY + "schedule' expected four"
          + " numbers (learning rate, best, bad epochs, cooldown) but got '"
          + r.string("schedule") + "'");
    }
    Schedule.State schedule = new Schedule.State(r.parseDouble("schedule", s[0]),
        r.parseDouble("schedule", s[1]), (int) r.parseLong("schedule", s[2]),
        (int) r.parseLong("schedule", s[3]));
    String seed = r.string("shuffleSeed");
    OptionalLong shuffleSeed = seed.equals("none") ? OptionalLong.empty()
        : OptionalLong.of(r.parseLong("shuffleSeed", seed));
    Map<String, Tensor> bestWeights = new LinkedHashMap<>();
    f.tensors().forEach((name, t) -> {
      if (name.startsWith(BEST_WEIGHTS)) {
        bestWeights.put(name.substring(BEST_WEIGHTS.length()), t);
      }
    });
    Trainer.RunState run = new Trainer.RunState(schedule, r.string("monitor"),
        r.parseDouble("best", r.string("best")), (int) r.integer("bestEpoch"),
        (int) r.integer("epochsSinceBest"), ImmutableMap.copyOf(bestWeights), shuffleSeed,
        r.bool("stoppedEarly"));
    Trainer.Report report = new Trainer.Report(ImmutableList.of(), 0, 0, Duration.ZERO,
        (int) r.integer("epochsDone"), r.integer("stepsDone"), optimizer, ImmutableList.of(),
        run);
    return new RunCheckpoint(f, report);
  }

  /** {@return where the run was, as a report of no epochs} */
  Trainer.Report report() {
    return report;
  }

  /**
   * Sets {@code net}'s parameters to the checkpoint's, all or none.
   *
   * @throws SafetensorsException if a parameter is missing or of another shape
   */
  void loadWeights(Network net) {
    Checkpoint.loadInto(net, withoutRunState(file.tensors()), file.source());
  }

  /** Reads the run's metadata of one file, naming it and the key in every error. */
  private record Reader(SafetensorsFile f) {
    String string(String key) {
      String v = f.metadata().get(KEY + key);
      if (v == null) {
        throw new SafetensorsException(f.source() + ": metadata '" + KEY + key + "' is missing");
      }
      return v;
    }

    long integer(String key) {
      return parseLong(key, string(key));
    }

    long parseLong(String key, String v) {
      try {
        return Long.parseLong(v);
      } catch (NumberFormatException e) {
        throw new SafetensorsException(f.source() + ": metadata '" + KEY + key
            + "' expected an integer but got '" + v + "'");
      }
    }

    double parseDouble(String key, String v) {
      try {
        return Double.parseDouble(v);
      } catch (NumberFormatException e) {
        throw new SafetensorsException(f.source() + ": metadata '" + KEY + key
            + "' expected a number but got '" + v + "'");
      }
    }

    boolean bool(String key) {
      String v = string(key);
      if (!v.equals("true") && !v.equals("false")) {
        throw new SafetensorsException(f.source() + ": metadata '" + KEY + key
            + "' expected true or false but got '" + v + "'");
      }
      return v.equals("true");
    }

    /** The optimizer's state: per parameter in its order, the tensors under its name. */
    OptimizerState optimizerState(Network net) {
      String names = string("optimizerParameters");
      ImmutableList.Builder<OptimizerState.ParameterState> states = ImmutableList.builder();
      for (String name : names.isEmpty() ? new String[0] : names.split(",", -1)) {
        Parameter p = net.namedParameters().get(name);
        if (p == null) {
          throw new SafetensorsException(f.source() + ": metadata '" + KEY
              + "optimizerParameters' names " + name + ", which is not a parameter of "
              + net.spec());
        }
        String prefix = OPTIMIZER + name + "/";
        ImmutableMap.Builder<String, Tensor> tensors = ImmutableMap.builder();
        f.tensors().forEach((key, t) -> {
          if (key.startsWith(prefix)) {
            tensors.put(key.substring(prefix.length()), t);
          }
        });
        try {
          states.add(new OptimizerState.ParameterState(name, p.shape(), p.dtype(),
              tensors.build()));
        } catch (IllegalArgumentException e) {
          throw new SafetensorsException(f.source() + ": " + e.getMessage());
        }
      }
      try {
        return new OptimizerState(string("optimizer"), integer("optimizerSteps"),
            states.build());
      } catch (IllegalArgumentException e) {
        throw new SafetensorsException(f.source() + ": " + e.getMessage());
      }
    }
  }
}
