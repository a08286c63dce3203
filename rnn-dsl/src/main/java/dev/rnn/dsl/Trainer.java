package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.errorprone.annotations.CanIgnoreReturnValue;
import dev.rnn.autograd.Bptt;
import dev.rnn.autograd.GradientFlow;
import dev.rnn.autograd.Graph;
import dev.rnn.autograd.LossFunction;
import dev.rnn.autograd.Value;
import dev.rnn.autograd.optim.Optimizer;
import dev.rnn.autograd.optim.OptimizerState;
import dev.rnn.core.Parameter;
import dev.rnn.core.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Trains a {@link Network} in place by mini-batch gradient descent with backpropagation through
 * time: a configuration of the objective, the optimizer, epochs, batches, BPTT and clipping, set
 * fluently, then {@link #fit}.
 *
 * <pre>{@code
 * Trainer trainer = net.trainer()
 *     .loss(Trainer.Objective.MSE)
 *     .optimizer(params -> Adam.builder().lr(1e-2).build(params))
 *     .epochs(20).batchSize(16).shuffle(7)
 *     .bptt(Bptt.truncated(10, 20))
 *     .clipGradNorm(1.0);
 * Trainer.Report report = trainer.fit(inputs, targets);
 * Trainer.Report more = trainer.resume(report, inputs, targets);   // 20 epochs more, 21 to 40
 * }</pre>
 *
 * <p>A fit builds a new optimizer from the factory and runs
 *
 * <pre>
 *   for each epoch e: the N sequences in order, or shuffled from (shuffle seed, e)
 *     for each batch b of batchSize sequences (along the batch dimension; the last may be smaller)
 *       for each window w of the BPTT plan (one for full BPTT), from the state the last carried:
 *         forward (each sequence's dropout masks from the network's dropout seed, e, the
 *           sequence's index in the data, w); L = loss(w's steps)
 *         zero gradients; backward
 *         if a gradient is NaN or infinite: STOP (throw) or SKIP_BATCH (no update for the rest
 *                                           of this batch)
 *         norm = ||grad|| (global L2, before clipping); clip;
 *         lr = schedule(base, e, step) (with a schedule); optimizer.step()
 *         if a parameter is now NaN or infinite: put the values from before the step back, then
 *                                           STOP or SKIP_BATCH as above
 *         event
 *     end of epoch e: its metrics (loss and metrics tallied over its updates, val_loss and
 *       val_... on the validation data); the schedule and the best value of the monitored
 *       metric move on; checkpoints (last, and best when it improved); epoch listeners; early
 *       stopping (which puts back the best weights)
 * </pre>
 *
 * <p>Around that loop, each a small value of its own:
 *
 * <pre>{@code
 * Trainer trainer = net.trainer().loss(Trainer.Objective.CROSS_ENTROPY)
 *     .optimizer(ps -> Sgd.builder().lr(0.1).momentum(0.9).build(ps))
 *     .epochs(100).shuffle(7)
 *     .validationSplit(0.2)                      // or validation(inputs, targets)
 *     .metrics(Metric.accuracy())                // accuracy and val_accuracy besides the losses
 *     .monitor("val_loss")                       // the default with validation data
 *     .schedule(Schedule.reduceOnPlateau(0.5, 3))
 *     .earlyStopping(EarlyStopping.patience(8))  // and put back the best weights
 *     .checkpoints(Path.of("run"))               // run/last.safetensors, run/best.safetensors
 *     .epochListener(e -> System.out.println(e));
 * Trainer.Report report = trainer.fit(inputs, targets);
 * // interrupted? In a new process, the same network and trainer finish the run from where the
 * // checkpoint left it, with the weights an unbroken run would have had, bit for bit:
 * Trainer.Report rest = trainer.fitFrom(Path.of("run/last.safetensors"), inputs, targets);
 * }</pre>
 *
 * <p>Shapes (T steps, N batch, F_in input and F_out output features, C = F_out classes), all in
 * the network's layout ({@code [N, T, ...]} where the network is {@link Network#batchFirst()}):
 *
 * <pre>
 *   inputs                         [T, N, F_in]
 *   targets  MSE                   [T, N, F_out]     lastStep(): [N, F_out]
 *            CROSS_ENTROPY         [T, N]            lastStep(): [N]      class indices in [0, C)
 *            BINARY_CROSS_ENTROPY  [T, N, F_out]     lastStep(): [N, F_out]  each in [0, 1]
 *            lossFunction(fn)      [T, N, F_t] or [T, N]   lastStep(): [N, F_t] or [N]
 *   mask     (optional, 0 or 1)    [T, N]            lastStep(): [N]
 *   sample weights (optional)      [N] or [T, N]     lastStep(): [N]      each &gt;= 0
 * </pre>
 *
 * <p>The loss of a window is the mean over its counted steps, weighted where weights are given:
 * {@code L = sum_r a_r w_r l_r / sum_r a_r w_r} over the rows r (one step of one sequence), with
 * {@code a_r} the mask times the sample weight and {@code w_r} the class weight of the row's
 * target ({@link #classWeights}; 1 without), and rows whose target is the {@link #ignoreIndex}
 * left out, as torch's {@code cross_entropy(weight=, ignore_index=)}. Without weights this is the
 * plain mean over the counted steps.
 *
 * <p>Sequences of different lengths come as a padded block plus the length of each ({@link
 * #fit(Tensor, int[], Tensor)}) or as lists of sequences ({@link #fit(List, List)}): each sequence
 * runs over its own steps only (the padding is never read; see {@link Network#forward(Tensor,
 * int[], State)}), truncated BPTT carries each sequence's own state, {@code lastStep()} takes each
 * sequence's last real step, and the loss averages over the real steps only. A mask whose 0s mark
 * steps not to count may be given too. A window of truncated BPTT whose steps are all masked (or
 * past every sequence's end) takes no update.
 *
 * <p>A trainer is a configuration: it keeps no optimizer and no count between calls, so two equal
 * fits from equal weights train equally, bit for bit, and one trainer may run several fits. Every
 * source of randomness is a function of a seed and where training is: the shuffle of an epoch of
 * (the shuffle seed, the epoch), the dropout masks of a sequence in a window of (the network's
 * dropout seed, the epoch, the sequence's index in the data, the window), so that they do not
 * depend on the batch it is in (nor on how a batch is split across machines, see {@link
 * DataParallel}). Continuing a run is explicit: a {@link Report} carries the
 * optimizer's state, the epochs and steps done, and the run's {@link RunState} (the schedule's
 * position, the best value of the monitored metric, the shuffle seed), and {@link #resume} starts
 * from them, so fitting two epochs equals fitting one and resuming for one. A checkpoint written
 * during a fit ({@link #checkpoints}) holds the same, with the weights, and {@link #fitFrom}
 * finishes the fit from it. Besides the network's parameter values, which it updates in place,
 * and the checkpoint files, a trainer changes nothing the user holds; it is used by one thread at
 * a time.
 *
 * <p>Mistakes fail at the call that makes them: a bad argument of an option or of {@code fit}
 * throws {@link IllegalArgumentException} (a null one {@link NullPointerException}) naming it;
 * setting an option a second time, and fitting without an objective or with a BPTT the network
 * cannot train with, throw {@link IllegalStateException}.
 */
public final class Trainer {
  /** What is minimised. */
  public enum Objective {
    /** Mean squared error over every counted step and feature; targets have the output's shape. */
    MSE,
    /**
     * Softmax cross-entropy of the output as logits over {@code F_out} classes, mean over every
     * counted step; targets are class indices, one per step and sequence.
     */
    CROSS_ENTROPY,
    /**
     * Binary cross-entropy of each output feature as a logit, torch's {@code
     * BCEWithLogitsLoss}: {@code l = max(z, 0) - z y + log(1 + exp(-|z|))}, mean over every
     * counted step and feature; targets have the output's shape, each in {@code [0, 1]}.
     */
    BINARY_CROSS_ENTROPY
  }

  /** What happens when a gradient holds NaN or infinity after a backward pass. */
  public enum NonFinite {
    /** Throw before the update, naming the epoch, batch and parameter; the default. */
    STOP,
    /** Make no update for the rest of this batch, count it in the report and go on. */
    SKIP_BATCH
  }

  /**
   * One optimizer step, as the listeners see it (after the update).
   *
   * @param epoch the epoch of the run, from 1 (continuing from the report a fit resumes)
   * @param batch the batch within the epoch, from 1
   * @param window the BPTT window within the batch, from 1 (always 1 for full BPTT)
   * @param step the optimizer step of the run, from 1 (continuing from the report a fit resumes)
   * @param loss the window's loss before the update
   * @param gradientNorm the global L2 norm of the gradients, before clipping
   * @param flow how the gradient flowed back through time in this window
   */
  public record Event(int epoch, int batch, int window, long step, double loss,
      double gradientNorm, GradientFlow flow) {}

  /** Receives an {@link Event} for every optimizer step. */
  @FunctionalInterface
  public interface Listener {
    /**
     * Called after each optimizer step.
     *
     * @param event the step
     */
    void onStep(Event event);
  }

  /**
   * The end of an epoch, as the epoch listeners see it (after the checkpoints are written).
   *
   * @param epoch the epoch of the run, from 1
   * @param stepsDone the optimizer steps of the run so far
   * @param learningRate the learning rate of the epoch's last step
   * @param metrics by name, in order: {@code loss} (the mean of the losses of the epoch's
   *     updates), each metric tallied over those updates, then with validation data {@code
   *     val_loss} and {@code val_} each metric, measured after the epoch without dropout
   * @param improved whether the monitored metric ({@link #monitor}) improved on its best
   */
  public record Epoch(int epoch, long stepsDone, double learningRate,
      ImmutableMap<String, Double> metrics, boolean improved) {
    /**
     * The value of a metric.
     *
     * @param name {@code loss}, {@code val_loss}, a metric's name or {@code val_} and its name
     * @return its value this epoch
     * @throws IllegalArgumentException naming the metrics there are
     */
    public double metric(String name) {
      Double v = metrics.get(name);
      checkArgument(v != null, "epoch %s has no metric '%s'; it has %s", epoch, name,
          metrics.keySet());
      return v;
    }
  }

  /** Receives an {@link Epoch} at the end of every epoch. */
  @FunctionalInterface
  public interface EpochListener {
    /**
     * Called after each epoch, on the training thread.
     *
     * @param epoch the epoch's metrics
     */
    void onEpoch(Epoch epoch);
  }

  /**
   * Where a run is, besides its epochs, steps and optimizer state: what a {@link #resume} or
   * {@link #fitFrom} needs to go on as an unbroken run would.
   *
   * @param schedule the schedule's position (see {@link Schedule#afterEpoch})
   * @param monitor the metric whose best value is kept ({@link #monitor})
   * @param best its best value so far (by {@link EarlyStopping}'s {@code minDelta}), NaN before
   *     the first epoch
   * @param bestEpoch the epoch of {@code best}, 0 before the first
   * @param epochsSinceBest the epochs since {@code bestEpoch}
   * @param bestWeights the parameters at {@code bestEpoch} by name, kept for early stopping that
   *     restores them; empty otherwise
   * @param shuffleSeed the shuffle seed of the run, empty if it does not shuffle
   * @param stoppedEarly whether early stopping ended the run
   */
  public record RunState(Schedule.State schedule, String monitor, double best, int bestEpoch,
      int epochsSinceBest, ImmutableMap<String, Tensor> bestWeights, OptionalLong shuffleSeed,
      boolean stoppedEarly) {
    /**
     * Checks that nothing is null.
     *
     * @param schedule the schedule's position
     * @param monitor the monitored metric
     * @param best its best value so far
     * @param bestEpoch the epoch of {@code best}
     * @param epochsSinceBest the epochs since {@code bestEpoch}
     * @param bestWeights the parameters at {@code bestEpoch}, or empty
     * @param shuffleSeed the shuffle seed, or empty
     * @param stoppedEarly whether early stopping ended the run
     */
    public RunState {
      checkNotNull(schedule, "schedule");
      checkNotNull(monitor, "monitor");
      checkNotNull(bestWeights, "bestWeights");
      checkNotNull(shuffleSeed, "shuffleSeed");
    }
  }

  /**
   * What a {@link #fit} or {@link #resume} did, and where the run is: what a later {@link
   * #resume} continues from.
   *
   * @param epochLosses per epoch of this fit, the mean of the losses of the windows that updated
   *     the network (NaN for an epoch without an update)
   * @param steps the number of optimizer steps this fit took
   * @param skippedBatches the batches left without (some of) their updates by {@link
   *     NonFinite#SKIP_BATCH}
   * @param wallTime how long the fit took
   * @param epochsDone the epochs of the run so far: this fit's and those of the reports it resumed
   * @param stepsDone the optimizer steps of the run so far, counted as {@code epochsDone}
   * @param optimizerState the optimizer's state at the end of this fit
   * @param history the end of each epoch of this fit, with its metrics
   * @param run the rest of where the run is
   */
  public record Report(ImmutableList<Double> epochLosses, long steps, int skippedBatches,
      Duration wallTime, int epochsDone, long stepsDone, OptimizerState optimizerState,
      ImmutableList<Epoch> history, RunState run) {
    /** {@return the mean loss of the last epoch, NaN if this fit ran none} */
    public double finalLoss() {
      return epochLosses.isEmpty() ? Double.NaN : epochLosses.get(epochLosses.size() - 1);
    }

    /** {@return whether early stopping ended the run} */
    public boolean stoppedEarly() {
      return run.stoppedEarly();
    }
  }

  private final Network net;
  private Objective objective;
  private Function<? super List<Parameter>, ? extends Optimizer> optimizerFactory;
  private Integer epochs;
  private Integer batchSize;
  private Long shuffleSeed;
  private Bptt bptt;
  private Double clipNorm;
  private Double clipValue;
  private NonFinite onNonFinite;
  private final List<Listener> listeners = new ArrayList<>();
  private LossFunction lossFunction;
  private Tensor classWeights;
  private Integer ignoreIndex;
  private TrainerConfig.Validation validation;
  private ImmutableList<Metric> metrics;
  private String monitor;
  private Schedule schedule;
  private EarlyStopping earlyStopping;
  private Path checkpointDirectory;
  private final List<EpochListener> epochListeners = new ArrayList<>();

  Trainer(Network net) {
    this.net = checkNotNull(net, "network");
  }

  // ---- options -------------------------------------------------------------------------------

  /**
   * The objective; must be set before {@link #fit} or {@link #evaluate}.
   *
   * @param objective what is minimised
   * @return this trainer
   * @throws NullPointerException if {@code objective} is null
   * @throws IllegalStateException if the objective was already set
   */
  @CanIgnoreReturnValue
  public Trainer loss(Objective objective) {
    checkNotNull(objective, "loss expected an objective but got null");
    checkLossUnset();
    this.objective = objective;
    return this;
  }

  /**
   * A loss of one's own, in place of an {@link Objective}: {@code fn} gives the loss of one row
   * (one step of one sequence) and its gradient, and the trainer averages it over the counted
   * rows, weighted as the built-in losses are. Targets are {@code [T, N, F_t]} for any {@code
   * F_t}, or {@code [T, N]} (one number per step, such as a class index); {@code [N, F_t]} or
   * {@code [N]} after {@code lastStep()}.
   *
   * @param fn the loss of a row and its gradient
   * @return this trainer
   * @throws NullPointerException if {@code fn} is null
   * @throws IllegalStateException if the loss was already set
   */
  @CanIgnoreReturnValue
  public Trainer lossFunction(LossFunction fn) {
    checkNotNull(fn, "lossFunction expected a loss function but got null");
    checkLossUnset();
    this.lossFunction = fn;
    return this;
  }

  /** The loss is set once, by {@code loss(objective)} or {@code lossFunction(fn)}. */
  private void checkLossUnset() {
    checkUnset("loss", objective != null ? objective
        : lossFunction != null ? "a LossFunction (lossFunction(...))" : null);
  }

  /**
   * Weights of the classes for {@link Objective#CROSS_ENTROPY}, as torch's {@code weight=}: a
   * row whose target is class {@code c} counts {@code weights[c]} times in the weighted mean (the
   * class comment), so rare classes can count more.
   *
   * @param weights one per class, {@code F_out} of them, each {@code >= 0} and finite
   * @return this trainer
   * @throws IllegalArgumentException if there is not one weight per class or a weight is negative
   *     or not finite
   * @throws IllegalStateException if the class weights were already set
   */
  @CanIgnoreReturnValue
  public Trainer classWeights(double... weights) {
    checkNotNull(weights, "classWeights expected weights but got null");
    int classes = net.outputSize();
    checkArgument(weights.length == classes,
        "classWeights expected %s weights, one per class (the output size of %s), but got %s",
        classes, net.spec(), weights.length);
    for (int c = 0; c < weights.length; c++) {
      checkArgument(weights[c] >= 0 && Double.isFinite(weights[c]),
          "classWeights expected weights >= 0 but class %s has %s", c, (Object) weights[c]);
    }
    checkUnset("classWeights",
        classWeights == null ? null : java.util.Arrays.toString(classWeights.toDoubleArray()));
    this.classWeights = Tensor.of(weights.clone(), weights.length);
    return this;
  }

  /**
   * A target value of {@link Objective#CROSS_ENTROPY} whose steps count for nothing, as torch's
   * {@code ignore_index} (whose default is -100): a padded step can be marked in the targets
   * instead of with a mask. Other targets must still be class indices.
   *
   * @param index the ignored target, e.g. -100
   * @return this trainer
   * @throws IllegalStateException if the ignored index was already set
   */
  @CanIgnoreReturnValue
  public Trainer ignoreIndex(int index) {
    checkUnset("ignoreIndex", ignoreIndex);
    this.ignoreIndex = index;
    return this;
  }

  /**
   * How to build the optimizer over the network's parameters (default {@code Adam} with {@code
   * lr = 1e-3}), e.g. {@code params -> Sgd.builder().lr(0.1).build(params)}; every fit builds a
   * new one.
   *
   * @param factory builds the optimizer from the parameters
   * @return this trainer
   * @throws NullPointerException if {@code factory} is null
   * @throws IllegalStateException if the optimizer was already set
   */
  @CanIgnoreReturnValue
  public Trainer optimizer(Function<? super List<Parameter>, ? extends Optimizer> factory) {
    checkNotNull(factory, "optimizer expected a factory but got null");
    if (optimizerFactory != null) {
      throw new IllegalStateException("optimizer was already set");
    }
    this.optimizerFactory = factory;
    return this;
  }

  /**
   * The number of passes over the data a fit makes (default 1).
   *
   * @param epochs the number of epochs
   * @return this trainer
   * @throws IllegalArgumentException if {@code epochs < 1}
   * @throws IllegalStateException if the epochs were already set
   */
  @CanIgnoreReturnValue
  public Trainer epochs(int epochs) {
    checkArgument(epochs >= 1, "epochs must be >= 1 but got %s", epochs);
    checkUnset("epochs", this.epochs);
    this.epochs = epochs;
    return this;
  }

  /**
   * The number of sequences per batch (default 32); the last batch of an epoch may be smaller.
   *
   * @param batchSize the sequences per batch
   * @return this trainer
   * @throws IllegalArgumentException if {@code batchSize < 1}
   * @throws IllegalStateException if the batch size was already set
   */
  @CanIgnoreReturnValue
  public Trainer batchSize(int batchSize) {
    checkArgument(batchSize >= 1, "batchSize must be >= 1 but got %s", batchSize);
    checkUnset("batchSize", this.batchSize);
    this.batchSize = batchSize;
    return this;
  }

  /**
   * Shuffles the sequences into new batches every epoch: epoch {@code e} in an order drawn from
   * {@code seed} and {@code e} alone, so that a resumed run shuffles as an unbroken one.
   *
   * @param seed the seed of the shuffles
   * @return this trainer
   * @throws IllegalStateException if shuffling was already set
   */
  @CanIgnoreReturnValue
  public Trainer shuffle(long seed) {
    checkUnset("shuffle", shuffleSeed);
    this.shuffleSeed = seed;
    return this;
  }

  /**
   * Full or truncated BPTT (default {@link Bptt#full()}).
   *
   * @param bptt the BPTT mode
   * @return this trainer
   * @throws NullPointerException if {@code bptt} is null
   * @throws IllegalStateException if BPTT was already set
   */
  @CanIgnoreReturnValue
  public Trainer bptt(Bptt bptt) {
    checkNotNull(bptt, "bptt expected Bptt.full() or Bptt.truncated(k1, k2) but got null");
    checkUnset("bptt", this.bptt);
    this.bptt = bptt;
    return this;
  }

  /**
   * Scales the gradients so that their global L2 norm is at most {@code maxNorm} before each
   * update, as {@code torch.nn.utils.clip_grad_norm_}.
   *
   * @param maxNorm the largest global norm kept
   * @return this trainer
   * @throws IllegalArgumentException if {@code maxNorm < 0} or NaN
   * @throws IllegalStateException if clipping was already set
   */
  @CanIgnoreReturnValue
  public Trainer clipGradNorm(double maxNorm) {
    checkArgument(maxNorm >= 0, "clipGradNorm expected maxNorm >= 0 but got %s", maxNorm);
    checkClippingUnset();
    this.clipNorm = maxNorm;
    return this;
  }

  /**
   * Clamps every gradient element to {@code [-clip, clip]} before each update, as {@code
   * torch.nn.utils.clip_grad_value_}.
   *
   * @param clip the largest absolute value kept
   * @return this trainer
   * @throws IllegalArgumentException if {@code clip < 0} or NaN
   * @throws IllegalStateException if clipping was already set
   */
  @CanIgnoreReturnValue
  public Trainer clipGradValue(double clip) {
    checkArgument(clip >= 0, "clipGradValue expected clip >= 0 but got %s", clip);
    checkClippingUnset();
    this.clipValue = clip;
    return this;
  }

  private void checkClippingUnset() {
    if (clipNorm != null || clipValue != null) {
      throw new IllegalStateException("gradient clipping was already set to "
          + (clipNorm != null ? "clipGradNorm(" + clipNorm + ")" : "clipGradValue(" + clipValue
          + ")"));
    }
  }

  /**
   * What to do when a gradient is NaN or infinite (default {@link NonFinite#STOP}).
   *
   * @param policy the policy
   * @return this trainer
   * @throws NullPointerException if {@code policy} is null
   * @throws IllegalStateException if the policy was already set
   */
  @CanIgnoreReturnValue
  public Trainer onNonFinite(NonFinite policy) {
    checkNotNull(policy, "onNonFinite expected a policy but got null");
    checkUnset("onNonFinite", onNonFinite);
    this.onNonFinite = policy;
    return this;
  }

  /**
   * Adds a listener of every optimizer step; there may be several, called in the order added.
   *
   * @param listener called after each step, on the training thread
   * @return this trainer
   * @throws NullPointerException if {@code listener} is null
   */
  @CanIgnoreReturnValue
  public Trainer listener(Listener listener) {
    listeners.add(checkNotNull(listener, "listener expected a listener but got null"));
    return this;
  }

  /**
   * Validation data, measured after every epoch ({@code val_loss} and {@code val_} each metric)
   * without dropout and without changing anything.
   *
   * @param inputs {@code [T, N, F_in]}, in the network's layout (any T and N)
   * @param targets as for {@link #fit}
   * @return this trainer
   * @throws NullPointerException if an argument is null
   * @throws IllegalStateException if validation data or a validation split was already set
   */
  @CanIgnoreReturnValue
  public Trainer validation(Tensor inputs, Tensor targets) {
    return validation(inputs, targets, null);
  }

  /**
   * As {@link #validation(Tensor, Tensor)}, counting only the steps where {@code mask} is 1.
   *
   * @param inputs {@code [T, N, F_in]}, in the network's layout
   * @param targets as for {@link #fit}
   * @param mask {@code [T, N]} of 0 and 1, or null
   * @return this trainer
   */
  @CanIgnoreReturnValue
  public Trainer validation(Tensor inputs, Tensor targets, Tensor mask) {
    checkNotNull(inputs, "validation expected inputs but got null");
    checkNotNull(targets, "validation expected targets but got null");
    checkUnset("validation", validation);
    this.validation = new TrainerConfig.Validation(inputs, targets, mask, null, 0);
    return this;
  }

  /**
   * As {@link #validation(Tensor, Tensor)} for sequences of different lengths in a padded block,
   * measured as {@link #evaluate(Tensor, int[], Tensor)} measures them: sequence {@code n} is its
   * first {@code lengths[n]} steps, the padding is never read and the loss and metrics count the
   * real steps only. The lengths are checked against the inputs when the fit starts.
   *
   * @param inputs {@code [T, N, F_in]}, in the network's layout
   * @param lengths the length of each sequence, in {@code [1, T]}
   * @param targets as for {@link #fit(Tensor, int[], Tensor)}
   * @return this trainer
   * @throws NullPointerException if an argument is null
   * @throws IllegalStateException if validation data or a validation split was already set
   */
  @CanIgnoreReturnValue
  public Trainer validation(Tensor inputs, int[] lengths, Tensor targets) {
    checkNotNull(inputs, "validation expected inputs but got null");
    checkNotNull(lengths, "validation expected lengths but got null");
    checkNotNull(targets, "validation expected targets but got null");
    checkUnset("validation", validation);
    this.validation = new TrainerConfig.Validation(inputs, targets, null, lengths.clone(), 0);
    return this;
  }

  /**
   * Holds out the last {@code fraction} of the sequences given to {@link #fit} (before any
   * shuffling, as Keras's {@code validation_split}): the fit trains on the first {@code
   * floor(N (1 - fraction))} and validates on the rest.
   *
   * @param fraction in {@code (0, 1)}
   * @return this trainer
   * @throws IllegalArgumentException if {@code fraction} is not in {@code (0, 1)}
   * @throws IllegalStateException if validation data or a validation split was already set
   */
  @CanIgnoreReturnValue
  public Trainer validationSplit(double fraction) {
    checkArgument(fraction > 0 && fraction < 1,
        "validationSplit expected a fraction in (0, 1) but got %s", fraction);
    checkUnset("validation", validation);
    this.validation = new TrainerConfig.Validation(null, null, null, null, fraction);
    return this;
  }

  /**
   * Metrics reported per epoch besides the loss, on the training data and on the validation data.
   *
   * @param metrics e.g. {@link Metric#accuracy()}
   * @return this trainer
   * @throws NullPointerException if a metric is null
   * @throws IllegalArgumentException if a name is {@code loss}, starts with {@code val_}, or is
   *     given twice
   * @throws IllegalStateException if the metrics were already set
   */
  @CanIgnoreReturnValue
  public Trainer metrics(Metric... metrics) {
    checkNotNull(metrics, "metrics expected metrics but got null");
    List<String> names = new ArrayList<>();
    for (Metric m : metrics) {
      checkNotNull(m, "metrics expected metrics but got null");
      String name = checkNotNull(m.name(), "metrics: a metric named null");
      checkArgument(!name.isEmpty() && !name.equals("loss") && !name.startsWith("val_"),
          "metrics expected a name other than loss, not starting with val_, but got '%s'", name);
      checkArgument(!names.contains(name), "metrics got two metrics named '%s'", name);
      names.add(name);
    }
    checkUnset("metrics", this.metrics);
    this.metrics = ImmutableList.copyOf(metrics);
    return this;
  }

  /**
   * The metric whose best value early stopping, reduce-on-plateau and the best checkpoint watch:
   * {@code loss}, {@code val_loss}, a metric's name or {@code val_} and its name; lower is better
   * for the losses, and for a metric unless {@link Metric#higherIsBetter()}. Default {@code
   * val_loss} with validation data, else {@code loss}.
   *
   * @param metric the name
   * @return this trainer
   * @throws NullPointerException if {@code metric} is null
   * @throws IllegalStateException if the monitored metric was already set; {@link #fit} throws it
   *     if no metric of the epoch has that name
   */
  @CanIgnoreReturnValue
  public Trainer monitor(String metric) {
    checkNotNull(metric, "monitor expected a metric's name but got null");
    checkUnset("monitor", monitor);
    this.monitor = metric;
    return this;
  }

  /**
   * A learning-rate schedule: before every step the optimizer's learning rate is set to the
   * schedule's, from the learning rate the optimizer was built with (default: none, the rate
   * stays the optimizer's).
   *
   * @param schedule the schedule
   * @return this trainer
   * @throws NullPointerException if {@code schedule} is null
   * @throws IllegalStateException if the schedule was already set
   */
  @CanIgnoreReturnValue
  public Trainer schedule(Schedule schedule) {
    checkNotNull(schedule, "schedule expected a schedule but got null");
    checkUnset("schedule", this.schedule);
    this.schedule = schedule;
    return this;
  }

  /**
   * Stops the fit when the monitored metric has not improved for a while (default: never).
   *
   * @param earlyStopping the patience, the smallest improvement and whether to put back the best
   *     weights
   * @return this trainer
   * @throws NullPointerException if {@code earlyStopping} is null
   * @throws IllegalStateException if early stopping was already set
   */
  @CanIgnoreReturnValue
  public Trainer earlyStopping(EarlyStopping earlyStopping) {
    checkNotNull(earlyStopping, "earlyStopping expected an EarlyStopping but got null");
    checkUnset("earlyStopping", this.earlyStopping);
    this.earlyStopping = earlyStopping;
    return this;
  }

  /**
   * Writes checkpoints into {@code directory} (created if missing) during a fit: {@code
   * last.safetensors} after every epoch and {@code best.safetensors} after every epoch whose
   * monitored metric improved. Each is written atomically and holds the network (which {@link
   * Rnn#load} reads) and where the run is, so that {@link #fitFrom} can finish it.
   *
   * @param directory the directory of the two files
   * @return this trainer
   * @throws NullPointerException if {@code directory} is null
   * @throws IllegalStateException if checkpoints were already set
   */
  @CanIgnoreReturnValue
  public Trainer checkpoints(Path directory) {
    checkNotNull(directory, "checkpoints expected a directory but got null");
    checkUnset("checkpoints", checkpointDirectory);
    this.checkpointDirectory = directory;
    return this;
  }

  /**
   * Adds a listener of the end of every epoch; there may be several, called in the order added.
   *
   * @param listener called after each epoch, on the training thread
   * @return this trainer
   * @throws NullPointerException if {@code listener} is null
   */
  @CanIgnoreReturnValue
  public Trainer epochListener(EpochListener listener) {
    epochListeners.add(checkNotNull(listener, "epochListener expected a listener but got null"));
    return this;
  }

  /** An option is set once: a second call is a mistake (the first value would vanish). */
  private static void checkUnset(String option, Object value) {
    if (value != null) {
      throw new IllegalStateException(option + " was already set to " + value);
    }
  }

  // ---- training ------------------------------------------------------------------------------

  /**
   * Trains on {@code inputs} and {@code targets} (shapes in the class comment) for {@code epochs}
   * epochs from a new optimizer, updating the network's parameters in place.
   *
   * @param inputs {@code [T, N, F_in]}, in the network's layout
   * @param targets {@code [T, N, F_out]} for MSE, {@code [T, N]} class indices for cross-entropy
   * @return the losses per epoch, the step count, the batches skipped, the wall time, and where
   *     the run is, for {@link #resume}
   * @throws IllegalStateException if no objective was set, or truncated BPTT would split the
   *     sequence of a {@code lastStep()}, {@code handOffStates()} or bidirectional network; or,
   *     under {@link NonFinite#STOP}, when a gradient is NaN or infinite or an update makes a
   *     parameter NaN or infinite (the parameters keep their values from before that step); or
   *     if the optimizer factory builds an optimizer over parameters this network does not have
   * @throws IllegalArgumentException if a shape does not fit, naming it, a class index is not
   *     one, or the mask counts no step of a batch (naming the batch and its sequences)
   */
  public Report fit(Tensor inputs, Tensor targets) {
    return fit(inputs, targets, null);
  }

  /**
   * As {@link #fit(Tensor, Tensor)}, counting only the steps where {@code mask} (0 or 1) is 1.
   *
   * @param inputs {@code [T, N, F_in]}, in the network's layout
   * @param targets {@code [T, N, F_out]} for MSE, {@code [T, N]} class indices for cross-entropy
   * @param mask {@code [T, N]} of 0 and 1
   * @return the losses per epoch, the step count, the batches skipped, the wall time, and where
   *     the run is, for {@link #resume}
   */
  public Report fit(Tensor inputs, Tensor targets, Tensor mask) {
    return train("fit", null, inputs, targets, mask, null, null);
  }

  /**
   * As {@link #fit(Tensor, Tensor, Tensor)}, with the loss of each sequence (or step) weighted by
   * {@code sampleWeights}, as the class comment says.
   *
   * @param inputs {@code [T, N, F_in]}, in the network's layout
   * @param targets as the loss reads them (the class comment)
   * @param mask {@code [T, N]} of 0 and 1, or null
   * @param sampleWeights {@code [N]}, one per sequence, or {@code [T, N]} (the mask's shape), one
   *     per step; each {@code >= 0}
   * @return the losses per epoch, the step count, the batches skipped, the wall time, and where
   *     the run is, for {@link #resume}
   * @throws IllegalArgumentException as {@link #fit(Tensor, Tensor)}, or if a sample weight is
   *     negative or not finite or their shape does not fit
   * @throws IllegalStateException as {@link #fit(Tensor, Tensor)}
   */
  public Report fit(Tensor inputs, Tensor targets, Tensor mask, Tensor sampleWeights) {
    return train("fit", null, inputs, targets, mask, sampleWeights, null);
  }

  /**
   * As {@link #fit(Tensor, Tensor)} for sequences of different lengths in a padded block:
   * sequence {@code n} is its first {@code lengths[n]} steps, the rest is padding (never read, not
   * counted by the loss).
   *
   * @param inputs {@code [T, N, F_in]}, in the network's layout, padded
   * @param lengths the length of each sequence, in {@code [1, T]}
   * @param targets {@code [T, N, F_out]} for MSE, {@code [T, N]} class indices for cross-entropy
   *     (anything finite, or class 0, at the padding); {@code [N, ...]} for {@code lastStep()}
   * @return the report, as {@link #fit(Tensor, Tensor)}
   * @throws IllegalArgumentException as {@link #fit(Tensor, Tensor)}, or if the lengths are not
   *     one per sequence in {@code [1, T]}
   * @throws IllegalStateException as {@link #fit(Tensor, Tensor)}
   */
  public Report fit(Tensor inputs, int[] lengths, Tensor targets) {
    checkNotNull(lengths, "fit expected lengths but got null");
    return train("fit", null, () -> data("fit", inputs, targets, null, null, lengths),
        epochCount(), null);
  }

  /**
   * As {@link #fit(Tensor, Tensor)} for a list of sequences of different lengths, padded into
   * batches and run with their lengths.
   *
   * @param inputs the sequences, {@code [T_n, F_in]} each
   * @param targets one per sequence: {@code [T_n, F_out]} (MSE) or {@code [T_n]} (class indices);
   *     for {@code lastStep()} {@code [F_out]} or one class index
   * @return the report, as {@link #fit(Tensor, Tensor)}
   * @throws IllegalArgumentException naming the first sequence or target that does not fit
   * @throws IllegalStateException as {@link #fit(Tensor, Tensor)}
   */
  public Report fit(List<Tensor> inputs, List<Tensor> targets) {
    return train("fit", null, () -> data("fit", inputs, targets), epochCount(), null);
  }

  /**
   * Continues the run that {@code from} ended: {@code epochs} more epochs, numbered on from
   * {@code from.epochsDone()}, with an optimizer from the factory that starts from {@code
   * from.optimizerState()}. From the weights {@code from} left, this trains exactly as an
   * unbroken fit would have gone on.
   *
   * @param from the report of the fit (or resume) continued
   * @param inputs {@code [T, N, F_in]}, in the network's layout
   * @param targets {@code [T, N, F_out]} for MSE, {@code [T, N]} class indices for cross-entropy
   * @return the report of these epochs, with the run's totals
   * @throws IllegalArgumentException as {@link #fit}, or if the optimizer state does not fit the
   *     optimizer built now (another kind or options, or another network's parameters), naming
   *     the first difference, or if the run stopped early, shuffled otherwise than this trainer
   *     does or monitored another metric
   * @throws IllegalStateException as {@link #fit}
   */
  public Report resume(Report from, Tensor inputs, Tensor targets) {
    return resume(from, inputs, targets, null);
  }

  /**
   * As {@link #resume(Report, Tensor, Tensor)}, counting only the steps where {@code mask} (0 or
   * 1) is 1.
   *
   * @param from the report of the fit (or resume) continued
   * @param inputs {@code [T, N, F_in]}, in the network's layout
   * @param targets {@code [T, N, F_out]} for MSE, {@code [T, N]} class indices for cross-entropy
   * @param mask {@code [T, N]} of 0 and 1
   * @return the report of these epochs, with the run's totals
   */
  public Report resume(Report from, Tensor inputs, Tensor targets, Tensor mask) {
    checkNotNull(from, "resume expected the report of a fit but got null");
    return train("resume", from, inputs, targets, mask, null, null);
  }

  /**
   * As {@link #resume(Report, Tensor, Tensor, Tensor)}, with sample weights as {@link
   * #fit(Tensor, Tensor, Tensor, Tensor)}.
   *
   * @param from the report of the fit (or resume) continued
   * @param inputs {@code [T, N, F_in]}, in the network's layout
   * @param targets as the loss reads them (the class comment)
   * @param mask {@code [T, N]} of 0 and 1, or null
   * @param sampleWeights {@code [N]} or {@code [T, N]}, each {@code >= 0}, or null
   * @return the report of these epochs, with the run's totals
   */
  public Report resume(Report from, Tensor inputs, Tensor targets, Tensor mask,
      Tensor sampleWeights) {
    checkNotNull(from, "resume expected the report of a fit but got null");
    return train("resume", from, inputs, targets, mask, sampleWeights, null);
  }

  /**
   * As {@link #resume(Report, Tensor, Tensor)} for sequences of different lengths in a padded
   * block (see {@link #fit(Tensor, int[], Tensor)}).
   *
   * @param from the report of the fit (or resume) continued
   * @param inputs {@code [T, N, F_in]}, in the network's layout, padded
   * @param lengths the length of each sequence, in {@code [1, T]}
   * @param targets as {@link #fit(Tensor, int[], Tensor)}
   * @return the report of these epochs, with the run's totals
   */
  public Report resume(Report from, Tensor inputs, int[] lengths, Tensor targets) {
    checkNotNull(from, "resume expected the report of a fit but got null");
    checkNotNull(lengths, "resume expected lengths but got null");
    return train("resume", from, () -> data("resume", inputs, targets, null, null, lengths),
        epochCount(), null);
  }

  /**
   * As {@link #resume(Report, Tensor, Tensor)} for a list of sequences (see {@link #fit(List,
   * List)}).
   *
   * @param from the report of the fit (or resume) continued
   * @param inputs the sequences, {@code [T_n, F_in]} each
   * @param targets one per sequence, as {@link #fit(List, List)}
   * @return the report of these epochs, with the run's totals
   */
  public Report resume(Report from, List<Tensor> inputs, List<Tensor> targets) {
    checkNotNull(from, "resume expected the report of a fit but got null");
    return train("resume", from, () -> data("resume", inputs, targets), epochCount(), null);
  }

  /**
   * Finishes the fit that wrote {@code checkpoint} (see {@link #checkpoints}): its weights go
   * into the network, the optimizer starts from its state, and the run goes on from its epoch,
   * schedule position and best value to {@code epochs} epochs in all, as the fit would have gone
   * on had it not been interrupted: with this trainer (the one that wrote it, or one configured
   * alike) and the same data, the weights at the end are those of the unbroken fit, bit for bit.
   *
   * @param checkpoint {@code last.safetensors} (or {@code best.safetensors}) of a fit
   * @param inputs {@code [T, N, F_in]}, in the network's layout
   * @param targets {@code [T, N, F_out]} for MSE, {@code [T, N]} class indices for cross-entropy
   * @return the report of the epochs after the checkpoint's, with the run's totals
   * @throws IOException if the file cannot be read
   * @throws dev.rnn.core.SafetensorsException if the file is not a checkpoint of a fit of this
   *     network, naming the file and the first difference
   * @throws IllegalArgumentException as {@link #resume}, or if the checkpoint's run has done
   *     {@code epochs} epochs already; nothing is changed
   * @throws IllegalStateException as {@link #fit}
   */
  public Report fitFrom(Path checkpoint, Tensor inputs, Tensor targets) throws IOException {
    return fitFrom(checkpoint, inputs, targets, null);
  }

  /**
   * As {@link #fitFrom(Path, Tensor, Tensor)}, counting only the steps where {@code mask} (0 or
   * 1) is 1.
   *
   * @param checkpoint {@code last.safetensors} (or {@code best.safetensors}) of a fit
   * @param inputs {@code [T, N, F_in]}, in the network's layout
   * @param targets {@code [T, N, F_out]} for MSE, {@code [T, N]} class indices for cross-entropy
   * @param mask {@code [T, N]} of 0 and 1
   * @return the report of the epochs after the checkpoint's, with the run's totals
   * @throws IOException if the file cannot be read
   */
  public Report fitFrom(Path checkpoint, Tensor inputs, Tensor targets, Tensor mask)
      throws IOException {
    checkNotNull(checkpoint, "fitFrom expected a checkpoint but got null");
    RunCheckpoint saved = RunCheckpoint.read(net, checkpoint);
    Report from = saved.report();
    checkArgument(from.epochsDone() < epochCount(),
        "fitFrom: %s is at epoch %s, the end of a fit of %s epochs: nothing is left to train",
        checkpoint, from.epochsDone(), epochCount());
    return train("fitFrom", from, () -> data("fitFrom", inputs, targets, mask, null, null),
        epochCount() - from.epochsDone(), saved);
  }

  int epochCount() {
    return epochs == null ? 1 : epochs;
  }

  private Report train(String who, Report from, Tensor inputs, Tensor targets, Tensor mask,
      Tensor sampleWeights, RunCheckpoint saved) {
    return train(who, from, () -> data(who, inputs, targets, mask, sampleWeights, null),
        epochCount(), saved);
  }

  /**
   * The run of the class comment (a {@link TrainingRun}) over the data {@code data} gives once
   * the objective is known to be set, from the start of a run or from where {@code from} ended,
   * for {@code epochCount} epochs; the weights of {@code saved} (if not null) are loaded once
   * every check has passed.
   */
  private Report train(String who, Report from, Supplier<TrainingData> data, int epochCount,
      RunCheckpoint saved) {
    long start = System.nanoTime();
    checkObjective(who);
    return new TrainingRun(config(), who, data.get(), from, epochCount, saved, start).run();
  }

  /**
   * Refuses a NaN or infinity in the inputs or (MSE) targets, naming the first: the loss would be
   * NaN. (Training meets them as a gradient that is not finite, where {@link NonFinite} decides.)
   */
  private void checkFinite(String who, Tensor inputs, Tensor targets) {
    checkNotNull(inputs, "inputs");
    checkNotNull(targets, "targets");
    for (Tensor t : objective == Objective.MSE ? List.of(inputs, targets) : List.of(inputs)) {
      String what = t == inputs ? "inputs" : "targets";
      for (int i = 0; i < t.size(); i++) {
        double v = t.at(i);
        if (!Double.isFinite(v)) {
          int[] at = new int[t.rank()];
          for (int k = at.length - 1, r = i; k >= 0; k--) {
            at[k] = r % t.dim(k);
            r /= t.dim(k);
          }
          throw new IllegalArgumentException(String.format("%s expected finite %s but %s%s is %s",
              who, what, what, java.util.Arrays.toString(at), v));
        }
      }
    }
  }

  /**
   * The loss of the network on {@code inputs} and {@code targets}, over all sequences at once,
   * without dropout and without changing anything.
   *
   * @param inputs {@code [T, N, F_in]}, in the network's layout
   * @param targets {@code [T, N, F_out]} for MSE, {@code [T, N]} class indices for cross-entropy
   * @return the loss
   * @throws IllegalStateException if no objective was set
   * @throws IllegalArgumentException as {@link #fit}, or if an input or (MSE) target is NaN or
   *     infinite (naming the first), or the mask counts no step
   */
  public double evaluate(Tensor inputs, Tensor targets) {
    return evaluate(inputs, targets, null);
  }

  /**
   * As {@link #evaluate(Tensor, Tensor)}, counting only the steps where {@code mask} is 1.
   *
   * @param inputs {@code [T, N, F_in]}, in the network's layout
   * @param targets {@code [T, N, F_out]} for MSE, {@code [T, N]} class indices for cross-entropy
   * @param mask {@code [T, N]} of 0 and 1
   * @return the loss
   */
  public double evaluate(Tensor inputs, Tensor targets, Tensor mask) {
    return evaluate(inputs, targets, mask, null);
  }

  /**
   * As {@link #evaluate(Tensor, Tensor, Tensor)}, with sample weights as {@link #fit(Tensor,
   * Tensor, Tensor, Tensor)}.
   *
   * @param inputs {@code [T, N, F_in]}, in the network's layout
   * @param targets as the loss reads them (the class comment)
   * @param mask {@code [T, N]} of 0 and 1, or null
   * @param sampleWeights {@code [N]} or {@code [T, N]}, each {@code >= 0}, or null
   * @return the loss
   */
  public double evaluate(Tensor inputs, Tensor targets, Tensor mask, Tensor sampleWeights) {
    checkObjective("evaluate");
    checkFinite("evaluate", inputs, targets);
    return evaluate(data("evaluate", inputs, targets, mask, sampleWeights, null));
  }

  /**
   * As {@link #evaluate(Tensor, Tensor)} for sequences of different lengths in a padded block:
   * the loss over the real steps only.
   *
   * @param inputs {@code [T, N, F_in]}, in the network's layout, padded
   * @param lengths the length of each sequence, in {@code [1, T]}
   * @param targets as {@link #fit(Tensor, int[], Tensor)}
   * @return the loss
   */
  public double evaluate(Tensor inputs, int[] lengths, Tensor targets) {
    checkObjective("evaluate");
    checkNotNull(lengths, "evaluate expected lengths but got null");
    return evaluate(data("evaluate", inputs, targets, null, null, lengths));
  }

  /**
   * As {@link #evaluate(Tensor, Tensor)} for a list of sequences (see {@link #fit(List, List)}).
   *
   * @param inputs the sequences, {@code [T_n, F_in]} each
   * @param targets one per sequence, as {@link #fit(List, List)}
   * @return the loss over the real steps
   */
  public double evaluate(List<Tensor> inputs, List<Tensor> targets) {
    checkObjective("evaluate");
    return evaluate(data("evaluate", inputs, targets));
  }

  private double evaluate(TrainingData d) {
    if (d.mask() != null && d.mask().sum() == 0) {
      throw new IllegalArgumentException("evaluate expected a mask that counts at least one step"
          + " but it is all 0: the loss over no step is not defined");
    }
    Graph g = Graph.inference();
    Value out = net.model().forward(g, g.constant(d.x()), null, 0, d.lengths()).output();
    return config().loss(g, out, d.y(), d.mask()).item();
  }

  void checkObjective(String who) {
    if (objective == null && lossFunction == null) {
      throw new IllegalStateException(who + " needs an objective: call"
          + " loss(Trainer.Objective.MSE) or loss(Trainer.Objective.CROSS_ENTROPY) first");
    }
    String cross = objective == Objective.CROSS_ENTROPY ? null
        : classWeights != null ? "classWeights(...)" : ignoreIndex != null
        ? "ignoreIndex(" + ignoreIndex + ")" : null;
    if (cross != null) {
      throw new IllegalStateException(who + ": " + cross + " applies to"
          + " loss(Trainer.Objective.CROSS_ENTROPY), but the loss is "
          + (objective != null ? objective : "a LossFunction"));
    }
  }

  /** The data checked as the loss reads its targets, with the weights folded into one mask. */
  private TrainingData data(String who, Tensor inputs, Tensor targets, Tensor mask,
      Tensor sampleWeights, int[] lengths) {
    return config().data(who, inputs, targets, mask, sampleWeights, lengths);
  }

  /** The sequences of {@code inputs} and {@code targets} padded into one batch with lengths. */
  private TrainingData data(String who, List<Tensor> inputs, List<Tensor> targets) {
    return config().data(who, inputs, targets);
  }

  /** A snapshot of the options, with their defaults, for a run or an evaluation. */
  TrainerConfig config() {
    return new TrainerConfig(net, objective, lossFunction, classWeights, ignoreIndex,
        optimizerFactory, batchSize == null ? 32 : batchSize,
        shuffleSeed == null ? OptionalLong.empty() : OptionalLong.of(shuffleSeed),
        bptt == null ? Bptt.full() : bptt, clipNorm, clipValue, onNonFinite,
        ImmutableList.copyOf(listeners), validation,
        metrics == null ? ImmutableList.of() : metrics, monitor, schedule, earlyStopping,
        checkpointDirectory, ImmutableList.copyOf(epochListeners));
  }

  @Override public String toString() {
    return "Trainer(" + net.spec() + ", loss="
        + (objective != null || lossFunction == null ? objective : "a LossFunction") + ", "
        + (bptt == null ? Bptt.full() : bptt) + ", epochs=" + (epochs == null ? 1 : epochs)
        + ", batchSize=" + (batchSize == null ? 32 : batchSize) + ")";
  }
}
