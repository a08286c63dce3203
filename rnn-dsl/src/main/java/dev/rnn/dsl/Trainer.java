package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.collect.ImmutableList;
import com.google.errorprone.annotations.CanIgnoreReturnValue;
import dev.rnn.autograd.Bptt;
import dev.rnn.autograd.GradientFlow;
import dev.rnn.autograd.Graph;
import dev.rnn.autograd.Ops;
import dev.rnn.autograd.Value;
import dev.rnn.autograd.optim.Adam;
import dev.rnn.autograd.optim.GradientClipping;
import dev.rnn.autograd.optim.Optimizer;
import dev.rnn.autograd.optim.OptimizerState;
import dev.rnn.core.Parameter;
import dev.rnn.core.Storage;
import dev.rnn.core.Tensor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

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
 *         forward (dropout masks from the network's dropout seed, e, b, w); L = loss(w's steps)
 *         zero gradients; backward
 *         if a gradient is NaN or infinite: STOP (throw) or SKIP_BATCH (no update for the rest
 *                                           of this batch)
 *         norm = ||grad|| (global L2, before clipping); clip; optimizer.step()
 *         if a parameter is now NaN or infinite: put the values from before the step back, then
 *                                           STOP or SKIP_BATCH as above
 *         event
 * </pre>
 *
 * <p>Shapes (T steps, N batch, F_in input and F_out output features, C = F_out classes), all in
 * the network's layout ({@code [N, T, ...]} where the network is {@link Network#batchFirst()}):
 *
 * <pre>
 *   inputs                         [T, N, F_in]
 *   targets  MSE                   [T, N, F_out]     lastStep(): [N, F_out]
 *            CROSS_ENTROPY         [T, N]            lastStep(): [N]      class indices in [0, C)
 *   mask     (optional, 0 or 1)    [T, N]            lastStep(): [N]
 * </pre>
 *
 * <p>All sequences have length T; pad shorter ones and give a mask whose 0s mark the padded steps:
 * they add nothing to the loss or the gradients. A window of truncated BPTT whose steps are all
 * masked takes no update.
 *
 * <p>A trainer is a configuration: it keeps no optimizer and no count between calls, so two equal
 * fits from equal weights train equally, bit for bit, and one trainer may run several fits. Every
 * source of randomness is a function of a seed and where training is: the shuffle of an epoch of
 * (the shuffle seed, the epoch), the dropout masks of a window of (the network's dropout seed, the
 * epoch, the batch, the window). Continuing a run is explicit: a {@link Report} carries the
 * optimizer's state and the epochs done, and {@link #resume} starts from them, so fitting two
 * epochs equals fitting one and resuming for one. Besides the network's parameter values, which
 * it updates in place, a trainer changes nothing the user holds; it is used by one thread at a
 * time.
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
    CROSS_ENTROPY
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
   */
  public record Report(ImmutableList<Double> epochLosses, long steps, int skippedBatches,
      Duration wallTime, int epochsDone, long stepsDone, OptimizerState optimizerState) {
    /** {@return the mean loss of the last epoch} */
    public double finalLoss() {
      return epochLosses.get(epochLosses.size() - 1);
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
    checkUnset("loss", this.objective);
    this.objective = objective;
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
    return train("fit", null, inputs, targets, mask);
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
   *     the first difference
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
    return train("resume", from, inputs, targets, mask);
  }

  /** The loop of the class comment, from the start of a run or from where {@code from} ended. */
  private Report train(String who, Report from, Tensor inputs, Tensor targets, Tensor mask) {
    long start = System.nanoTime();
    checkObjective(who);
    TrainingData d = TrainingData.of(who, net, objective == Objective.MSE, inputs, targets,
        mask);
    Bptt bptt = this.bptt == null ? Bptt.full() : this.bptt;
    checkBpttFits(bptt, d.steps());
    Optimizer optimizer = newOptimizer();
    if (from != null) {
      optimizer.restore(from.optimizerState());
    }
    int epochsBefore = from == null ? 0 : from.epochsDone();
    int epochCount = epochs == null ? 1 : epochs;
    int size = batchSize == null ? 32 : batchSize;
    long stepsDone = from == null ? 0 : from.stepsDone();
    long steps = 0;
    int skippedBatches = 0;
    ImmutableList<Bptt.Window> windows = bptt.windows(d.steps());
    ImmutableList.Builder<Double> epochLosses = ImmutableList.builder();
    PreviousValues previous = new PreviousValues();
    for (int epoch = epochsBefore + 1; epoch <= epochsBefore + epochCount; epoch++) {
      List<Integer> order = order(d.batch(), epoch);
      double lossSum = 0;
      int lossCount = 0;
      for (int b = 1; (b - 1) * size < d.batch(); b++) {
        List<Integer> rows = order.subList((b - 1) * size, Math.min(d.batch(), b * size));
        TrainingData batch = d.rows(rows);
        checkMaskCounts(who, batch, epoch, b, rows);
        List<Tensor> carried = null;
        for (Bptt.Window w : windows) {
          Graph g = Graph.training(seed(net.dropoutSeed(), epoch, b, w.index()));
          Bptt.WindowForward f = bptt.forward(g, net.model(), batch.x(), w, carried);
          carried = f.carried();
          Tensor m = batch.mask(w);
          if (m != null && m.sum() == 0) {
            continue; // padding only: nothing to learn from this window
          }
          Value loss = loss(g, f.output(), batch.targets(w), m);
          optimizer.zeroGrad();
          g.backward(loss);
          if (!gradientsFinite(optimizer.parameters(), epoch, b, w)) {
            skippedBatches++;
            break;
          }
          double norm = clip(optimizer.parameters());
          previous.keep(optimizer.parameters());
          optimizer.step();
          if (!previous.updateFinite(optimizer, epoch, b, w)) {
            skippedBatches++;
            break;
          }
          steps++;
          stepsDone++;
          lossSum += loss.item();
          lossCount++;
          Event event = new Event(epoch, b, w.index() + 1, stepsDone, loss.item(), norm,
              g.gradientFlow());
          for (Listener l : listeners) {
            l.onStep(event);
          }
        }
      }
      epochLosses.add(lossCount == 0 ? Double.NaN : lossSum / lossCount);
    }
    return new Report(epochLosses.build(), steps, skippedBatches,
        Duration.ofNanos(System.nanoTime() - start), epochsBefore + epochCount, stepsDone,
        optimizer.state());
  }

  /** Refuses a truncation that would train another function than the network computes. */
  private void checkBpttFits(Bptt bptt, int steps) {
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
    Optimizer optimizer = optimizerFactory == null ? Adam.builder().build(net.parameters())
        : optimizerFactory.apply(net.parameters());
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
    java.util.Set<Parameter> own = java.util.Collections.newSetFromMap(
        new java.util.IdentityHashMap<>());
    own.addAll(net.parameters());
    for (Parameter p : optimizer.parameters()) {
      if (!own.contains(p)) {
        throw new IllegalStateException("the optimizer factory built an optimizer that updates "
            + p.name() + " " + p.shape() + ", which is not a parameter of this network ("
            + net.spec() + "); build it over the parameters the factory is given");
      }
    }
  }

  /** The order of the sequences in epoch {@code epoch}: shuffled from (seed, epoch) alone. */
  private List<Integer> order(int sequences, int epoch) {
    List<Integer> order = new ArrayList<>(sequences);
    for (int n = 0; n < sequences; n++) {
      order.add(n);
    }
    if (shuffleSeed != null) {
      Collections.shuffle(order, new Random(seed(shuffleSeed, epoch)));
    }
    return order;
  }

  /**
   * Whether every gradient is finite; if not, under {@link NonFinite#STOP} throws naming the
   * parameter, epoch, batch and counted steps.
   */
  private boolean gradientsFinite(List<Parameter> params, int epoch, int batch, Bptt.Window w) {
    for (Parameter p : params) {
      Storage grad = p.grad();
      if (!grad.allFinite()) {
        if (onNonFinite == NonFinite.SKIP_BATCH) {
          return false;
        }
        throw new IllegalStateException(String.format("the gradient of %s is not finite (%s)"
            + " at epoch %s, batch %s, steps [%s, %s): stopped before the update, the"
            + " parameters keep their values; look for NaN or infinity in that batch's inputs"
            + " and targets, lower the learning rate, or clip the gradients", p.name(),
            firstNonFinite(grad), epoch, batch, w.lossFrom(), w.end()));
      }
    }
    return true;
  }

  /**
   * The parameter values from before an optimizer step, so that a step whose result is not finite
   * (an overflow: a learning rate of 1e300, a gradient near the float range) is undone before
   * anything sees it. Its copies are allocated at the first step and reused.
   */
  private final class PreviousValues {
    private Storage[] values;

    /** Copies the current values of {@code params}. */
    void keep(List<Parameter> params) {
      if (values == null) {
        values = new Storage[params.size()];
        for (int k = 0; k < values.length; k++) {
          values[k] = Storage.allocate(params.get(k).dtype(), params.get(k).size());
        }
      }
      for (int k = 0; k < values.length; k++) {
        Parameter p = params.get(k);
        values[k].copyFrom(p.data(), 0, 0, p.size());
      }
    }

    /**
     * Whether every value after the step is finite; if not, puts back the values from before it
     * and, under {@link NonFinite#STOP}, throws naming the parameter, epoch, batch and steps.
     */
    boolean updateFinite(Optimizer optimizer, int epoch, int batch, Bptt.Window w) {
      List<Parameter> params = optimizer.parameters();
      for (Parameter p : params) {
        if (!p.data().allFinite()) {
          double bad = firstNonFinite(p.data());
          for (int k = 0; k < values.length; k++) {
            params.get(k).data().copyFrom(values[k], 0, 0, params.get(k).size());
          }
          if (onNonFinite == NonFinite.SKIP_BATCH) {
            return false;
          }
          throw new IllegalStateException(String.format("the update of %s is not finite (%s) at"
              + " epoch %s, batch %s, steps [%s, %s): stopped, the parameters keep their values"
              + " from before that update; lower the learning rate (%s) or clip the gradients",
              p.name(), bad, epoch, batch, w.lossFrom(), w.end(), optimizer.learningRate()));
        }
      }
      return true;
    }
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
   * Refuses a batch whose mask counts no step: there is nothing to learn from it, and its loss is
   * not defined. Names the epoch, the batch and its sequences.
   */
  private static void checkMaskCounts(String who, TrainingData batch, int epoch, int b,
      List<Integer> rows) {
    if (batch.mask() != null && batch.mask().sum() == 0) {
      throw new IllegalArgumentException(String.format("%s: the mask counts no step of batch %s"
          + " of epoch %s (sequences %s): every step of it is masked out; give each sequence at"
          + " least one counted step, or leave out those that have none", who, b, epoch,
          rows.size() <= 10 ? rows : rows.subList(0, 10) + " and " + (rows.size() - 10)
              + " more"));
    }
  }

  /** Clips as set and returns the global L2 norm of the gradients before clipping. */
  private double clip(List<Parameter> params) {
    if (clipNorm != null) {
      return GradientClipping.clipByGlobalNorm(params, clipNorm);
    }
    double sumOfSquares = 0;
    for (Parameter p : params) {
      sumOfSquares += p.grad().sumOfSquares();
    }
    if (clipValue != null) {
      GradientClipping.clipByValue(params, clipValue);
    }
    return Math.sqrt(sumOfSquares);
  }

  private static double firstNonFinite(Storage s) {
    for (int i = 0; i < s.length(); i++) {
      if (!Double.isFinite(s.get(i))) {
        return s.get(i);
      }
    }
    return Double.NaN;
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
    checkObjective("evaluate");
    checkFinite("evaluate", inputs, targets);
    TrainingData d = TrainingData.of("evaluate", net, objective == Objective.MSE, inputs,
        targets, mask);
    if (d.mask() != null && d.mask().sum() == 0) {
      throw new IllegalArgumentException("evaluate expected a mask that counts at least one step"
          + " but it is all 0: the loss over no step is not defined");
    }
    Graph g = Graph.inference();
    Value out = net.model().forward(g, g.constant(d.x()), null, 0).output();
    return loss(g, out, d.y(), d.mask()).item();
  }

  private void checkObjective(String who) {
    if (objective == null) {
      throw new IllegalStateException(who + " needs an objective: call"
          + " loss(Trainer.Objective.MSE) or loss(Trainer.Objective.CROSS_ENTROPY) first");
    }
  }

  private Value loss(Graph g, Value out, Tensor y, Tensor mask) {
    return objective == Objective.MSE ? Ops.mse(g, out, y, mask)
        : Ops.crossEntropy(g, out, y, mask);
  }

  @Override public String toString() {
    return "Trainer(" + net.spec() + ", loss=" + objective + ", "
        + (bptt == null ? Bptt.full() : bptt) + ", epochs=" + (epochs == null ? 1 : epochs)
        + ", batchSize=" + (batchSize == null ? 32 : batchSize) + ")";
  }
}
