package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.rnn.autograd.Bptt;
import dev.rnn.autograd.Graph;
import dev.rnn.autograd.Value;
import dev.rnn.autograd.optim.Adam;
import dev.rnn.autograd.optim.Optimizer;
import dev.rnn.autograd.optim.OptimizerState;
import dev.rnn.core.Parameter;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Trainer.RunState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;

/**
 * One fit (or resume, or fitFrom) of a {@link Trainer}: the checks and the start of the run at
 * construction, then {@link #run()}, the loop of the trainer's class comment:
 *
 * <pre>
 *   for each epoch e: the N sequences in order, or shuffled from (shuffle seed, e)
 *     for each batch b of batchSize sequences:
 *       for each window w of the BPTT plan, from the state the last carried:
 *         forward; L = loss(w's steps); zero gradients; backward
 *         guarded update ({@link UpdateSafety}): finite gradients, clip, lr = schedule, step,
 *           finite values (else STOP or SKIP_BATCH)
 *         tally; step listeners
 *     end of epoch e: metrics (and val_ metrics), schedule and best value, checkpoints, epoch
 *       listeners, early stopping
 * </pre>
 *
 * <p>Its options are an immutable {@link TrainerConfig}; what it changes is the network's
 * parameter values, its own optimizer and counts, and the checkpoint files. One per call, used
 * once, on the training thread.
 */
final class TrainingRun {
  private final TrainerConfig config;
  private final Network net;
  private final String who;
  private final long start;
  private final TrainingData data;
  private final TrainingData validation;
  private final Watch watch;
  private final GradientSource gradients;
  private final int sequences;
  private final int steps0;
  private final int checkpointEvery;
  private final Path stepDirectory;
  private final int batchesBefore;
  private final Bptt bptt;
  private final ImmutableList<Bptt.Window> windows;
  private final Optimizer optimizer;
  private final double baseLr;
  private final Path dir;
  private final int epochsBefore;
  private final int epochCount;
  private final UpdateSafety safety;

  private RunState state;
  private long stepsDone;
  private long steps;
  private int skippedBatches;
  private int epochsDone;
  private final ImmutableList.Builder<Double> epochLosses = ImmutableList.builder();
  private final ImmutableList.Builder<Trainer.Epoch> history = ImmutableList.builder();
  private boolean ran;
  private double epochLossSum;
  private int epochLossCount;

  /**
   * Checks the data, the options and (for a run that goes on) {@code from}, and starts the run:
   * a new optimizer from the factory, restored from {@code from}; the weights of {@code saved}
   * loaded once every check has passed; the checkpoint directory created.
   *
   * @param config the trainer's options, its objective checked
   * @param who the call, for messages: fit, resume or fitFrom
   * @param all the data given, before a validation split
   * @param from the report of the run continued, or null for a new run
   * @param epochCount the epochs to run
   * @param saved the checkpoint whose weights to load, or null
   * @param start when the call started ({@link System#nanoTime}), for the report's wall time
   */
  TrainingRun(TrainerConfig config, String who, TrainingData all, Trainer.Report from,
      int epochCount, RunCheckpoint saved, long start) {
    this(config, who, all, null, from, epochCount, saved, start, 0, null);
  }

  /**
   * As the other constructor, with the gradients of each window from {@code source} (another
   * machine's, or many) where it is not null, and {@code all} null; and a checkpoint every
   * {@code checkpointEvery} optimizer steps (at the end of the batch that reaches a multiple),
   * {@code stepDirectory/last.safetensors}, where it is not 0.
   */
  TrainingRun(TrainerConfig config, String who, TrainingData all, GradientSource source,
      Trainer.Report from, int epochCount, RunCheckpoint saved, long start, int checkpointEvery,
      Path stepDirectory) {
    this.config = config;
    this.net = config.net();
    this.who = who;
    this.start = start;
    if (source != null) {
      checkArgument(config.validation() == null || config.validation().inputs() != null,
          "%s: %s needs the data on this machine; give validation(inputs, targets)", who,
          config.validation());
      this.validation = config.validation() == null ? null : config.validation().data(config);
      this.data = null;
      this.gradients = source;
    } else {
      this.validation = validationPart(all);
      this.data = trainingPart(all);
      this.gradients = new LocalGradients();
    }
    this.sequences = source != null ? source.sequences() : data.batch();
    this.steps0 = source != null ? source.steps() : data.steps();
    this.checkpointEvery = checkpointEvery;
    this.stepDirectory = stepDirectory;
    this.batchesBefore = saved == null ? 0 : saved.batchesDone();
    this.watch = watch(validation != null);
    this.bptt = config.bptt();
    checkBpttFits(steps0);
    this.optimizer = newOptimizer();
    this.baseLr = optimizer.learningRate();
    this.state = from == null ? startOfRun() : continued(from);
    if (saved != null) {
      saved.loadWeights(net);
    }
    this.dir = checkpointDirectory();
    this.epochsBefore = from == null ? 0 : from.epochsDone();
    this.epochCount = epochCount;
    this.stepsDone = from == null ? 0 : from.stepsDone();
    this.epochsDone = epochsBefore + epochCount;
    this.windows = bptt.windows(steps0);
    if (stepDirectory != null) {
      RunCheckpoint.checkSavable(net, stepDirectory);
      try {
        Files.createDirectories(stepDirectory);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    if (saved != null) {
      epochLossSum = saved.epochLossSum();
      epochLossCount = saved.epochLossCount();
    }
    this.safety = new UpdateSafety(config.onNonFinite(), config.clipNorm(), config.clipValue());
  }

  /**
   * Runs the loop of the class comment, once.
   *
   * @return what the run did and where it is, for a later resume
   */
  Trainer.Report run() {
    if (ran) {
      throw new IllegalStateException("a TrainingRun runs once");
    }
    ran = true;
    int size = config.batchSize();
    for (int epoch = epochsBefore + 1; epoch <= epochsBefore + epochCount; epoch++) {
      List<Integer> order = order(config.shuffleSeed(), sequences, epoch);
      EpochTally tally = new EpochTally(config.metrics());
      if (epoch == epochsBefore + 1 && batchesBefore > 0) {
        tally.addLosses(epochLossSum, epochLossCount);
      }
      for (int b = epoch == epochsBefore + 1 ? batchesBefore + 1 : 1; (b - 1) * size < sequences;
          b++) {
        long before = stepsDone;
        trainBatch(epoch, b, order.subList((b - 1) * size, Math.min(sequences, b * size)),
            tally);
        if (checkpointEvery > 0 && stepsDone / checkpointEvery > before / checkpointEvery
            && b * size < sequences) {
          writeStepCheckpoint(epoch, b, tally);
        }
      }
      if (endOfEpoch(epoch, tally)) {
        epochsDone = epoch;
        break;
      }
    }
    return new Trainer.Report(epochLosses.build(), steps, skippedBatches,
        Duration.ofNanos(System.nanoTime() - start), epochsDone, stepsDone, optimizer.state(),
        history.build(), state);
  }

  // ---- a batch -------------------------------------------------------------------------------

  /**
   * The windows of batch {@code b}, the sequences {@code rows}: an update each, until an update
   * that is not finite ends the batch under {@link Trainer.NonFinite#SKIP_BATCH}.
   */
  private void trainBatch(int epoch, int b, List<Integer> rows, EpochTally tally) {
    GradientSource.Batch batch = gradients.batch(epoch, b, rows);
    for (Bptt.Window w : windows) {
      optimizer.zeroGrad();
      GradientSource.Window r = batch.window(w);
      if (r == null) {
        continue; // padding only: nothing to learn from this window
      }
      List<Parameter> params = optimizer.parameters();
      if (!safety.gradientsFinite(params, epoch, b, w)) {
        skippedBatches++;
        return;
      }
      double norm = safety.clip(params);
      if (config.schedule() != null) {
        optimizer.setLearningRate(config.schedule().learningRate(baseLr, state.schedule(), epoch,
            stepsDone));
      }
      safety.keep(params);
      optimizer.step();
      if (!safety.updateFinite(optimizer, epoch, b, w)) {
        skippedBatches++;
        return;
      }
      steps++;
      stepsDone++;
      if (r.tallies() != null) {
        tally.add(r.loss(), r.tallies());
      } else {
        tally.add(r.loss(), r.output(), r.targets(), r.mask());
      }
      Trainer.Event event = new Trainer.Event(epoch, b, w.index() + 1, stepsDone, r.loss(),
          norm, r.flow());
      for (Trainer.Listener l : config.listeners()) {
        l.onStep(event);
      }
    }
  }

  /**
   * The gradients of this machine: each window's forward and BPTT over the batch's sequences of
   * {@code data}, into the parameters' gradients, with each sequence's dropout masks from
   * (dropout seed, epoch, sequence, window).
   */
  private final class LocalGradients implements GradientSource {
    @Override public int sequences() {
      return data.batch();
    }

    @Override public int steps() {
      return data.steps();
    }

    @Override public Batch batch(int epoch, int b, List<Integer> rows) {
      TrainingData batch = data.rows(rows);
      checkMaskCounts(batch, epoch, b, rows);
      Carry carried = new Carry();
      return w -> {
        Graph g = Graph.trainingPerRow(rowSeeds(net.dropoutSeed(), epoch, rows, w));
        Bptt.WindowForward f = bptt.forward(g, net.model(), batch.x(), w, carried.state,
            batch.lengths());
        carried.state = f.carried();
        Tensor m = batch.mask(w);
        if (m != null && m.sum() == 0) {
          return null;
        }
        Value loss = config.loss(g, f.output(), batch.targets(w), m);
        g.backward(loss);
        return new Window(loss.item(), f.output().tensor(), batch.targets(w), m,
            g.gradientFlow(), null);
      };
    }
  }

  /** The state truncated BPTT carries from one window of a batch to the next. */
  private static final class Carry {
    List<Tensor> state;
  }

  /**
   * The dropout seed of each sequence of a batch in window {@code w}: a function of (dropout
   * seed, epoch, the sequence's index in the data, window) alone, so that its masks do not
   * depend on the batch it is in, nor on how a batch is split across machines.
   */
  static long[] rowSeeds(long dropoutSeed, int epoch, List<Integer> rows, Bptt.Window w) {
    long[] seeds = new long[rows.size()];
    for (int n = 0; n < seeds.length; n++) {
      seeds[n] = seed(dropoutSeed, epoch, rows.get(n), w.index());
    }
    return seeds;
  }

  /**
   * Refuses a batch whose 0/1 mask counts no step: there is nothing to learn from it, and its loss
   * is not defined. Names the epoch, the batch and its sequences. (A batch that sample or class
   * weights weigh all 0 is meant: it takes no update, as the trainer's class comment says.)
   */
  private void checkMaskCounts(TrainingData batch, int epoch, int b, List<Integer> rows) {
    if (batch.mask() != null && !batch.weighted() && batch.mask().sum() == 0) {
      throw new IllegalArgumentException(String.format("%s: the mask counts no step of batch %s"
          + " of epoch %s (sequences %s): every step of it is masked out; give each sequence at"
          + " least one counted step, or leave out those that have none", who, b, epoch,
          rows.size() <= 10 ? rows : rows.subList(0, 10) + " and " + (rows.size() - 10)
              + " more"));
    }
  }

  /** The order of the sequences in epoch {@code epoch}: shuffled from (seed, epoch) alone. */
  static List<Integer> order(OptionalLong shuffleSeed, int sequences, int epoch) {
    List<Integer> order = range(0, sequences);
    if (shuffleSeed.isPresent()) {
      Collections.shuffle(order, new Random(seed(shuffleSeed.getAsLong(), epoch)));
    }
    return order;
  }

  /** A seed mixed from {@code parts} (SplitMix64's finalizer after each), for equal parts equal. */
  private static long seed(long... parts) {
    long z = 0;
    for (long p : parts) {
      z += 0x9E3779B97F4A7C15L + p;
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      z ^= z >>> 31;
    }
    return z;
  }

  // ---- the end of an epoch -------------------------------------------------------------------

  /**
   * The end of epoch {@code epoch}: its metrics, the schedule and the best value, checkpoints,
   * epoch listeners and early stopping (which puts back the best weights).
   *
   * @return whether early stopping ends the run
   */
  private boolean endOfEpoch(int epoch, EpochTally tally) {
    ImmutableMap<String, Double> values =
        tally.values(validation == null ? null : validate(validation));
    double watched = values.get(watch.name());
    EarlyStopping stopping = config.earlyStopping();
    boolean improved = EarlyStopping.improves(watched, state.best(), watch.higherIsBetter(),
        stopping == null ? 0 : stopping.minDelta());
    state = afterEpoch(state, epoch, watched, improved);
    Trainer.Epoch end =
        new Trainer.Epoch(epoch, stepsDone, optimizer.learningRate(), values, improved);
    epochLosses.add(values.get("loss"));
    history.add(end);
    if (dir != null) {
      writeCheckpoints(improved, epoch);
    }
    if (stepDirectory != null) {
      try {
        RunCheckpoint.write(net, stepDirectory.resolve(RunCheckpoint.LAST), epoch, stepsDone,
            optimizer.state(), state);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    for (Trainer.EpochListener l : config.epochListeners()) {
      l.onEpoch(end);
    }
    if (state.stoppedEarly()) {
      state.bestWeights().forEach((name, t) -> net.namedParameters().get(name).set(t));
      return true;
    }
    return false;
  }

  /** {@code val_loss} and each {@code val_} metric on {@code v}, without dropout. */
  private ImmutableMap<String, Double> validate(TrainingData v) {
    Graph g = Graph.inference();
    Value out = net.model().forward(g, g.constant(v.x()), null, 0, v.lengths()).output();
    Map<String, Double> values = new LinkedHashMap<>();
    values.put("val_loss", config.loss(g, out, v.y(), v.mask()).item());
    for (Metric metric : config.metrics()) {
      values.put("val_" + metric.name(), metric.tally(out.tensor(), v.y(), v.mask()).value());
    }
    return ImmutableMap.copyOf(values);
  }

  /**
   * The run's state after epoch {@code epoch}, whose monitored metric was {@code value}: the
   * schedule's position, the best value (with the weights, for early stopping that restores
   * them), and whether early stopping ends the run.
   */
  private RunState afterEpoch(RunState run, int epoch, double value, boolean improved) {
    Schedule schedule = config.schedule();
    EarlyStopping stopping = config.earlyStopping();
    Schedule.State s = schedule == null ? run.schedule()
        : schedule.afterEpoch(run.schedule(), value, watch.higherIsBetter());
    if (improved) {
      boolean keep = stopping != null && stopping.restoreBest();
      return new RunState(s, run.monitor(), value, epoch, 0,
          keep ? weights() : ImmutableMap.of(), run.shuffleSeed(), false);
    }
    int since = run.epochsSinceBest() + 1;
    boolean stop = stopping != null && since >= stopping.patience();
    return new RunState(s, run.monitor(), run.best(), run.bestEpoch(), since, run.bestWeights(),
        run.shuffleSeed(), stop);
  }

  /** The network's parameter values by name. */
  private ImmutableMap<String, Tensor> weights() {
    ImmutableMap.Builder<String, Tensor> weights = ImmutableMap.builder();
    net.namedParameters().forEach((name, p) -> weights.put(name, p.value()));
    return weights.build();
  }

  /** Writes {@code last.safetensors}, and {@code best.safetensors} if the epoch improved. */
  private void writeCheckpoints(boolean improved, int epoch) {
    OptimizerState s = optimizer.state();
    try {
      if (improved) {
        RunCheckpoint.write(net, dir.resolve(RunCheckpoint.BEST), epoch, stepsDone, s, state);
      }
      RunCheckpoint.write(net, dir.resolve(RunCheckpoint.LAST), epoch, stepsDone, s, state);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Writes {@code stepDirectory/last.safetensors} in the middle of epoch {@code epoch}, after
   * its batch {@code b}: a run restarted from it goes on with batch {@code b + 1}.
   */
  private void writeStepCheckpoint(int epoch, int b, EpochTally tally) {
    try {
      RunCheckpoint.write(net, stepDirectory.resolve(RunCheckpoint.LAST), epoch - 1, stepsDone,
          optimizer.state(), state, b, tally.lossSum(), tally.lossCount());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- the start of the run: its data, options and state -------------------------------------

  /** The sequences a fit trains on: all, or those before a validation split. */
  private TrainingData trainingPart(TrainingData all) {
    TrainerConfig.Validation v = config.validation();
    if (v == null || v.inputs() != null) {
      return all;
    }
    return all.rows(range(0, splitAt(all.batch())));
  }

  /**
   * The validation data, checked and time-major, or null without.
   *
   * @throws IllegalArgumentException if a split leaves no sequence on one side
   */
  private TrainingData validationPart(TrainingData all) {
    TrainerConfig.Validation v = config.validation();
    if (v == null) {
      return null;
    }
    if (v.inputs() == null) {
      int n = all.batch();
      int kept = splitAt(n);
      checkArgument(kept >= 1 && kept < n, "%s: validationSplit(%s) of %s sequences leaves %s"
          + " for training and %s for validation, but each needs at least one", who,
          v.split(), n, kept, n - kept);
      return all.rows(range(kept, n));
    }
    return v.data(config);
  }

  /** The sequences before a validation split, {@code floor(n (1 - fraction))}. */
  private int splitAt(int n) {
    return (int) Math.floor(n * (1 - config.validation().split()));
  }

  private static List<Integer> range(int from, int to) {
    List<Integer> r = new ArrayList<>(to - from);
    for (int i = from; i < to; i++) {
      r.add(i);
    }
    return r;
  }

  /** The monitored metric and its direction. */
  private record Watch(String name, boolean higherIsBetter) {}

  /**
   * The monitored metric, checked against the metrics an epoch reports, and the metrics against
   * the objective.
   */
  private Watch watch(boolean validated) {
    for (Metric m : config.metrics()) {
      if (m == Metric.accuracy() && config.objective() == Trainer.Objective.MSE) {
        throw new IllegalStateException(who + ": metric accuracy needs class indices as targets"
            + " (CROSS_ENTROPY) but the objective is MSE");
      }
    }
    String monitor = config.monitor();
    String name = monitor != null ? monitor : validated ? "val_loss" : "loss";
    List<String> names = new ArrayList<>();
    for (String prefix : validated ? List.of("", "val_") : List.of("")) {
      names.add(prefix + "loss");
      for (Metric m : config.metrics()) {
        names.add(prefix + m.name());
        if (name.equals(prefix + m.name())) {
          return new Watch(name, m.higherIsBetter());
        }
      }
    }
    if (!names.contains(name)) {
      throw new IllegalStateException(who + " monitors '" + name + "' but the metrics of an"
          + " epoch are " + names + (name.startsWith("val_") && !validated
          ? "; set validation(...) or validationSplit(...)" : ""));
    }
    return new Watch(name, false);
  }

  /** Refuses a truncation that would train another function than the network computes. */
  private void checkBpttFits(int steps) {
    if (bptt.isFull() || bptt.k1() >= steps) {
      return;
    }
    if (net.lastStepOnly()) {
      throw new IllegalStateException(bptt + " splits the " + steps + " steps into chunks, but "
          + net.spec() + " outputs only the last step; use Bptt.full()");
    }
    if (net.handsOffStates()) {
      // A window would hand off the final states of its own end (or of wherever BPTT splits it),
      // not of the sequence's: training would fit another function than forward computes.
      throw new IllegalStateException(bptt + " splits the " + steps + " steps into chunks, but "
          + net.spec() + " hands each recurrent layer's final state, at the end of the whole"
          + " sequence, to the next layer (handOffStates()); use Bptt.full()");
    }
    if (net.firstNotStreaming() != null) {
      // The reverse direction of a window would start from the reverse state carried from the
      // window before, which holds the past, not from the end of the sequence as in forward.
      throw new IllegalStateException(bptt + " splits the " + steps + " steps into chunks, but "
          + net.spec() + " has a bidirectional layer, whose reverse direction runs back from the"
          + " end of the whole sequence; use Bptt.full()");
    }
  }

  private Optimizer newOptimizer() {
    Optimizer optimizer = config.optimizerFactory() == null
        ? Adam.builder().build(net.parameters())
        : config.optimizerFactory().apply(net.parameters());
    if (optimizer == null) {
      throw new IllegalStateException("the optimizer factory returned null");
    }
    checkOwnParameters(optimizer);
    return optimizer;
  }

  /**
   * Refuses an optimizer that updates a parameter this network does not have (another network's,
   * say): training would change nothing here, without a word.
   */
  private void checkOwnParameters(Optimizer optimizer) {
    Set<Parameter> own = Collections.newSetFromMap(new IdentityHashMap<>());
    own.addAll(net.parameters());
    for (Parameter p : optimizer.parameters()) {
      if (!own.contains(p)) {
        throw new IllegalStateException("the optimizer factory built an optimizer that updates "
            + p.name() + " " + p.shape() + ", which is not a parameter of this network ("
            + net.spec() + "); build it over the parameters the factory is given");
      }
    }
  }

  /** Where a new run starts. */
  private RunState startOfRun() {
    Schedule schedule = config.schedule();
    Schedule.State s = schedule == null ? new Schedule.State(baseLr, Double.NaN, 0, 0)
        : schedule.start(baseLr);
    return new RunState(s, watch.name(), Double.NaN, 0, 0, ImmutableMap.of(),
        config.shuffleSeed(), false);
  }

  /**
   * The state of the run {@code from} ended, after restoring the optimizer from it; refuses a run
   * that cannot go on as it would have unbroken.
   */
  private RunState continued(Trainer.Report from) {
    optimizer.restore(from.optimizerState());
    RunState run = from.run();
    checkArgument(!run.stoppedEarly(), "%s: the run stopped early at epoch %s (%s had not"
        + " improved since epoch %s); fit again to train on", who, from.epochsDone(),
        run.monitor(), run.bestEpoch());
    checkArgument(run.shuffleSeed().equals(config.shuffleSeed()),
        "%s expected a trainer that shuffles as the run it continues, %s, but this one has %s",
        who, shuffling(run.shuffleSeed()), shuffling(config.shuffleSeed()));
    checkArgument(run.monitor().equals(watch.name()),
        "%s expected a trainer that monitors %s as the run it continues but this one monitors %s",
        who, run.monitor(), watch.name());
    return run;
  }

  private static String shuffling(OptionalLong seed) {
    return seed.isPresent() ? "shuffle(" + seed.getAsLong() + ")" : "no shuffle";
  }

  /** The checkpoint directory, created if missing, or null without checkpoints. */
  private Path checkpointDirectory() {
    Path directory = config.checkpointDirectory();
    if (directory == null) {
      return null;
    }
    RunCheckpoint.checkSavable(net, directory);
    try {
      return Files.createDirectories(directory);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
