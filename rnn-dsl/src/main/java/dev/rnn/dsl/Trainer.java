package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.collect.ImmutableList;
import com.google.errorprone.annotations.CanIgnoreReturnValue;
import dev.rnn.autograd.Bptt;
import dev.rnn.autograd.GradientFlow;
import dev.rnn.autograd.Graph;
import dev.rnn.autograd.Loss;
import dev.rnn.autograd.Value;
import dev.rnn.autograd.optim.Adam;
import dev.rnn.autograd.optim.GradientClipping;
import dev.rnn.autograd.optim.Optimizer;
import dev.rnn.core.Parameter;
import dev.rnn.core.Shape;
import dev.rnn.core.Storage;
import dev.rnn.core.Tensor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * Trains a {@link Network} in place by mini-batch gradient descent with backpropagation through
 * time: the objective, the optimizer, epochs, batches, BPTT and clipping set fluently, then {@link
 * #fit}.
 *
 * <pre>{@code
 * Trainer.Report report = net.trainer()
 *     .loss(Trainer.Objective.MSE)
 *     .optimizer(params -> Adam.builder().lr(1e-2).build(params))
 *     .epochs(20).batchSize(16).shuffle(7)
 *     .bptt(Bptt.truncated(10, 20))
 *     .clipGradNorm(1.0)
 *     .fit(inputs, targets);
 * }</pre>
 *
 * <p>One epoch splits the N sequences into batches of {@code batchSize} along the batch dimension
 * (in order, or shuffled from the seed), and for each batch runs {@link Bptt#train}: for every
 * chunk (one for full BPTT)
 *
 * <pre>
 *   zero gradients; forward; L = loss(chunk); backward
 *   if a gradient is NaN or infinite: STOP (throw) or SKIP_BATCH (no update for this batch)
 *   norm = ||grad|| (global L2, before clipping); clip; optimizer.step()
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
 * they add nothing to the loss or the gradients. A chunk of truncated BPTT whose steps are all
 * masked takes no update.
 *
 * <p>A trainer is a mutable builder of training runs, used by one thread; besides the network's
 * parameter values, which it updates in place, it changes nothing the user holds. Its optimizer
 * is built at the first {@code fit} and kept by later ones, so two fits continue one training.
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
   * @param epoch the epoch, from 1
   * @param batch the batch within the epoch, from 1
   * @param chunk the BPTT chunk within the batch, from 1 (always 1 for full BPTT)
   * @param step the optimizer step since the trainer's first fit, from 1
   * @param loss the chunk's loss before the update
   * @param gradientNorm the global L2 norm of the gradients, before clipping
   * @param flow how the gradient flowed back through time in this chunk
   */
  public record Event(int epoch, int batch, int chunk, long step, double loss,
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
   * What a {@link #fit} did.
   *
   * @param epochLosses per epoch, the mean of the losses of the chunks that updated the network
   *     (NaN for an epoch without an update)
   * @param steps the number of optimizer steps taken
   * @param skippedBatches the batches left without (some of) their updates by {@link
   *     NonFinite#SKIP_BATCH}
   * @param wallTime how long the fit took
   */
  public record Report(ImmutableList<Double> epochLosses, long steps, int skippedBatches,
      Duration wallTime) {
    /** {@return the mean loss of the last epoch} */
    public double finalLoss() {
      return epochLosses.get(epochLosses.size() - 1);
    }
  }

  private final Network net;
  private Objective objective;
  private Function<? super List<Parameter>, ? extends Optimizer> optimizerFactory =
      params -> Adam.builder().build(params);
  private Optimizer optimizer;
  private int epochs = 1;
  private int batchSize = 32;
  private Long shuffleSeed;
  private Bptt bptt = Bptt.full();
  private Double clipNorm;
  private Double clipValue;
  private NonFinite onNonFinite = NonFinite.STOP;
  private final List<Listener> listeners = new ArrayList<>();
  private long totalSteps;
  /** How many times {@link #fit} ran: a second fit draws other dropout masks than the first. */
  private long fits;

  Trainer(Network net) {
    this.net = checkNotNull(net, "network");
  }

  // ---- options -------------------------------------------------------------------------------

  /**
   * The objective; must be set before {@link #fit} or {@link #evaluate}.
   *
   * @param objective what is minimised
   * @return this trainer
   */
  @CanIgnoreReturnValue
  public Trainer loss(Objective objective) {
    this.objective = checkNotNull(objective, "objective");
    return this;
  }

  /**
   * How to build the optimizer over the network's parameters (default {@code Adam} with {@code
   * lr = 1e-3}), e.g. {@code params -> Sgd.builder().lr(0.1).build(params)}; a fit after this
   * builds a new one.
   *
   * @param factory builds the optimizer from the parameters
   * @return this trainer
   */
  @CanIgnoreReturnValue
  public Trainer optimizer(Function<? super List<Parameter>, ? extends Optimizer> factory) {
    this.optimizerFactory = checkNotNull(factory, "optimizer factory");
    this.optimizer = null;
    return this;
  }

  /**
   * The number of passes over the data (default 1).
   *
   * @param epochs the number of epochs
   * @return this trainer
   * @throws IllegalStateException if {@code epochs < 1}
   */
  @CanIgnoreReturnValue
  public Trainer epochs(int epochs) {
    if (epochs < 1) {
      throw new IllegalStateException("epochs must be >= 1 but got " + epochs);
    }
    this.epochs = epochs;
    return this;
  }

  /**
   * The number of sequences per batch (default 32); the last batch of an epoch may be smaller.
   *
   * @param batchSize the sequences per batch
   * @return this trainer
   * @throws IllegalStateException if {@code batchSize < 1}
   */
  @CanIgnoreReturnValue
  public Trainer batchSize(int batchSize) {
    if (batchSize < 1) {
      throw new IllegalStateException("batchSize must be >= 1 but got " + batchSize);
    }
    this.batchSize = batchSize;
    return this;
  }

  /**
   * Shuffles the sequences into new batches every epoch, from {@code new Random(seed)}.
   *
   * @param seed the seed of the shuffles
   * @return this trainer
   */
  @CanIgnoreReturnValue
  public Trainer shuffle(long seed) {
    this.shuffleSeed = seed;
    return this;
  }

  /**
   * Full or truncated BPTT (default {@link Bptt#full()}).
   *
   * @param bptt the BPTT mode
   * @return this trainer
   */
  @CanIgnoreReturnValue
  public Trainer bptt(Bptt bptt) {
    this.bptt = checkNotNull(bptt, "bptt");
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
    checkClippingUnset();
    checkArgument(maxNorm >= 0, "clipGradNorm expected maxNorm >= 0 but got %s", maxNorm);
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
    checkClippingUnset();
    checkArgument(clip >= 0, "clipGradValue expected clip >= 0 but got %s", clip);
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
   */
  @CanIgnoreReturnValue
  public Trainer onNonFinite(NonFinite policy) {
    this.onNonFinite = checkNotNull(policy, "policy");
    return this;
  }

  /**
   * Adds a listener of every optimizer step.
   *
   * @param listener called after each step, on the training thread
   * @return this trainer
   */
  @CanIgnoreReturnValue
  public Trainer listener(Listener listener) {
    listeners.add(checkNotNull(listener, "listener"));
    return this;
  }

  // ---- training ------------------------------------------------------------------------------

  /**
   * Trains on {@code inputs} and {@code targets} (shapes in the class comment), updating the
   * network's parameters in place.
   *
   * @param inputs {@code [T, N, F_in]}, in the network's layout
   * @param targets {@code [T, N, F_out]} for MSE, {@code [T, N]} class indices for cross-entropy
   * @return the losses per epoch, the step count, the batches skipped and the wall time
   * @throws IllegalStateException if no objective was set, or truncated BPTT would split the
   *     sequence of a {@code lastStep()}, {@code handOffStates()} or bidirectional network; or,
   *     under {@link NonFinite#STOP}, when a gradient is NaN or infinite (the parameters keep
   *     their values from before that step)
   * @throws IllegalArgumentException if a shape does not fit, naming it, or a class index is not
   *     one
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
   * @return the losses per epoch, the step count, the batches skipped and the wall time
   */
  public Report fit(Tensor inputs, Tensor targets, Tensor mask) {
    long start = System.nanoTime();
    checkObjective("fit");
    Data d = data("fit", inputs, targets, mask);
    if (net.lastStepOnly() && !bptt.isFull() && bptt.k1() < d.steps) {
      throw new IllegalStateException(bptt + " splits the " + d.steps + " steps into chunks, but "
          + net.spec() + " outputs only the last step; use Bptt.full()");
    }
    if (net.handsOffStates() && !bptt.isFull() && bptt.k1() < d.steps) {
      // A chunk would hand off the final states of its own end (or of wherever BPTT splits it),
      // not of the sequence's: training would fit another function than forward computes.
      throw new IllegalStateException(bptt + " splits the " + d.steps + " steps into chunks, but "
          + net.spec() + " hands each recurrent layer's final state, at the end of the whole"
          + " sequence, to the next layer (handOffStates()); use Bptt.full()");
    }
    if (!bptt.isFull() && bptt.k1() < d.steps && net.firstNotStreaming() != null) {
      // The reverse direction of a chunk would start from the reverse state carried from the
      // chunk before, which holds the past, not from the end of the sequence as in forward.
      throw new IllegalStateException(bptt + " splits the " + d.steps + " steps into chunks, but "
          + net.spec() + " has a bidirectional layer, whose reverse direction runs back from the"
          + " end of the whole sequence; use Bptt.full()");
    }
    if (optimizer == null) {
      optimizer = optimizerFactory.apply(net.parameters());
      if (optimizer == null) {
        throw new IllegalStateException("the optimizer factory returned null");
      }
    }
    Run run = new Run();
    fits++;
    List<Integer> order = new ArrayList<>();
    for (int n = 0; n < d.batch; n++) {
      order.add(n);
    }
    Random rnd = shuffleSeed == null ? null : new Random(shuffleSeed);
    ImmutableList.Builder<Double> epochLosses = ImmutableList.builder();
    for (int epoch = 1; epoch <= epochs; epoch++) {
      if (rnd != null) {
        Collections.shuffle(order, rnd);
      }
      run.lossSum = 0;
      run.lossCount = 0;
      for (int b = 0; b * batchSize < d.batch; b++) {
        List<Integer> rows = order.subList(b * batchSize, Math.min(d.batch, (b + 1) * batchSize));
        run.start(epoch, b + 1);
        Data batch = d.rows(rows);
        // Dropout masks: one seed per (fit, epoch, batch), from the network's dropout seed, so
        // that equal seeds give equal training and the masks differ from batch to batch.
        long seed = ((net.dropoutSeed() * 31 + fits) * 1_000_003L + epoch) * 1_000_003L + b;
        bptt.train(net, batch.x, null, (g, out, from, to) -> run.chunkLoss(g, out, batch, from, to),
            optimizer, run::beforeUpdate, seed);
        run.flush();
        if (run.skipping) {
          run.skippedBatches++;
        }
      }
      epochLosses.add(run.lossCount == 0 ? Double.NaN : run.lossSum / run.lossCount);
    }
    return new Report(epochLosses.build(), run.steps, run.skippedBatches,
        Duration.ofNanos(System.nanoTime() - start));
  }

  /**
   * The loss of the network on {@code inputs} and {@code targets}, over all sequences at once,
   * without dropout and without changing anything.
   *
   * @param inputs {@code [T, N, F_in]}, in the network's layout
   * @param targets {@code [T, N, F_out]} for MSE, {@code [T, N]} class indices for cross-entropy
   * @return the loss
   * @throws IllegalStateException if no objective was set
   * @throws IllegalArgumentException as {@link #fit}
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
    Data d = data("evaluate", inputs, targets, mask);
    Graph g = Graph.inference();
    Value out = net.forward(g, g.constant(d.x), null).output();
    return loss(g, out, d.y, d.mask).item();
  }

  private void checkObjective(String who) {
    if (objective == null) {
      throw new IllegalStateException(who + " needs an objective: call"
          + " loss(Trainer.Objective.MSE) or loss(Trainer.Objective.CROSS_ENTROPY) first");
    }
  }

  private Value loss(Graph g, Value out, Tensor y, Tensor mask) {
    return objective == Objective.MSE ? Loss.mse(g, out, y, mask)
        : Loss.crossEntropy(g, out, y, mask);
  }

  /** The bookkeeping of one fit: where it is, the losses, and the events not yet delivered. */
  private final class Run {
    int epoch;
    int batch;
    int chunk;
    long steps;
    int skippedBatches;
    double lossSum;
    int lossCount;
    boolean skipping;
    boolean emptyChunk;
    Event pending;

    void start(int epoch, int batch) {
      this.epoch = epoch;
      this.batch = batch;
      this.chunk = 0;
      this.skipping = false;
    }

    /** The chunk's loss; a chunk whose steps are all masked gets a zero loss and no update. */
    Value chunkLoss(Graph g, Value out, Data d, int from, int to) {
      Tensor y = d.perStep ? d.y.slice(0, from, to) : d.y;
      Tensor m = d.mask == null ? null : d.perStep ? d.mask.slice(0, from, to) : d.mask;
      emptyChunk = m != null && m.sum() == 0;
      if (emptyChunk) {
        return Loss.mse(g, out, out.tensor(), null);
      }
      return loss(g, out, y, m);
    }

    /** After backward, before the update: the non-finite check, the norm and clipping. */
    boolean beforeUpdate(Bptt.Chunk c) {
      flush();
      chunk++;
      if (skipping || emptyChunk) {
        return false;
      }
      List<Parameter> params = optimizer.parameters();
      for (Parameter p : params) {
        Storage grad = p.grad();
        if (!grad.allFinite()) {
          if (onNonFinite == NonFinite.SKIP_BATCH) {
            skipping = true;
            return false;
          }
          throw new IllegalStateException(String.format("the gradient of %s is not finite (%s)"
              + " at epoch %s, batch %s, steps [%s, %s): stopped before the update, the"
              + " parameters keep their values; look for NaN or infinity in that batch's inputs"
              + " and targets, lower the learning rate, or clip the gradients", p.name(),
              firstNonFinite(grad), epoch, batch, c.from(), c.to()));
        }
      }
      double norm;
      if (clipNorm != null) {
        norm = GradientClipping.clipByGlobalNorm(params, clipNorm);
      } else {
        double sumOfSquares = 0;
        for (Parameter p : params) {
          sumOfSquares += p.grad().sumOfSquares();
        }
        norm = Math.sqrt(sumOfSquares);
        if (clipValue != null) {
          GradientClipping.clipByValue(params, clipValue);
        }
      }
      steps++;
      totalSteps++;
      lossSum += c.loss();
      lossCount++;
      pending = new Event(epoch, batch, chunk, totalSteps, c.loss(), norm, c.flow());
      return true;
    }

    /** Delivers the event of the last step, which has been taken by now. */
    void flush() {
      if (pending != null) {
        Event e = pending;
        pending = null;
        for (Listener l : listeners) {
          l.onStep(e);
        }
      }
    }
  }

  private static double firstNonFinite(Storage s) {
    for (int i = 0; i < s.length(); i++) {
      if (!Double.isFinite(s.get(i))) {
        return s.get(i);
      }
    }
    return Double.NaN;
  }

  // ---- data ----------------------------------------------------------------------------------

  /**
   * Inputs, targets and mask, time-major: {@code x [T, N, F_in]}; {@code y} and {@code mask}
   * with time first where the output is per step ({@code perStep}), else batch first.
   */
  private record Data(Tensor x, Tensor y, Tensor mask, boolean perStep, int steps, int batch) {
    /** The sequences {@code rows}, in that order. */
    Data rows(List<Integer> rows) {
      return new Data(gather(x, 1, rows), gather(y, perStep ? 1 : 0, rows),
          mask == null ? null : gather(mask, perStep ? 1 : 0, rows), perStep, steps,
          rows.size());
    }

    private static Tensor gather(Tensor t, int dim, List<Integer> rows) {
      int first = rows.get(0);
      boolean contiguous = true;
      for (int i = 0; i < rows.size(); i++) {
        contiguous &= rows.get(i) == first + i;
      }
      if (contiguous) {
        return first == 0 && rows.size() == t.dim(dim) ? t
            : t.slice(dim, first, first + rows.size());
      }
      List<Tensor> parts = new ArrayList<>(rows.size());
      for (int r : rows) {
        parts.add(t.slice(dim, r, r + 1));
      }
      return Tensor.concat(dim, parts);
    }
  }

  private Data data(String who, Tensor inputs, Tensor targets, Tensor mask) {
    checkNotNull(inputs, "inputs");
    checkNotNull(targets, "targets");
    boolean bf = net.batchFirst();
    String seqBatch = bf ? "[batch, seq" : "[seq, batch";
    int fIn = net.inputSize();
    int fOut = net.outputSize();
    checkArgument(inputs.rank() == 3 && inputs.dim(2) == fIn,
        "%s expected inputs of shape %s, %s] but got %s", who, seqBatch, fIn, inputs.shape());
    checkArgument(inputs.size() > 0,
        "%s expected inputs of at least one step and one sequence but got %s", who,
        inputs.shape());
    int n = inputs.dim(bf ? 0 : 1);
    int t = inputs.dim(bf ? 1 : 0);
    boolean perStep = !net.lastStepOnly();
    boolean mse = objective == Objective.MSE;
    String where = perStep ? "on every step" : "on the last step";
    int rank = (perStep ? 2 : 1) + (mse ? 1 : 0);
    String expected = (perStep ? seqBatch : "[batch") + (mse ? ", " + fOut : "") + "]";
    checkArgument(targets.rank() == rank, "%s expected targets of shape %s (%s %s) but got %s",
        who, expected, mse ? "MSE" : "class indices for CROSS_ENTROPY", where, targets.shape());
    int tn = targets.dim(perStep && !bf ? 1 : 0);
    checkArgument(tn == n,
        "%s expected targets for %s sequences, as many as the inputs %s, but got %s (targets %s)",
        who, n, inputs.shape(), tn, targets.shape());
    if (perStep) {
      int tt = targets.dim(bf ? 1 : 0);
      checkArgument(tt == t,
          "%s expected targets for %s steps, as many as the inputs %s, but got %s (targets %s)",
          who, t, inputs.shape(), tt, targets.shape());
    }
    if (mse) {
      checkArgument(targets.dim(-1) == fOut,
          "%s expected targets of %s features, the output size of %s, but got %s (targets %s)",
          who, fOut, net.spec(), targets.dim(-1), targets.shape());
    } else {
      checkClassIndices(who, targets, fOut);
    }
    if (mask != null) {
      Shape want = perStep ? (bf ? Shape.of(n, t) : Shape.of(t, n)) : Shape.of(n);
      checkArgument(mask.shape().equals(want), "%s expected a mask of shape %s (%s]) but got %s",
          who, want, perStep ? seqBatch : "[batch", mask.shape());
      for (int i = 0; i < mask.size(); i++) {
        double v = mask.at(i);
        checkArgument(v == 0 || v == 1, "%s expected a mask of 0 and 1 but mask%s is %s", who,
            index(mask, i), v);
      }
    }
    Tensor x = inputs.to(net.dtype());
    Tensor y = targets;
    Tensor m = mask;
    if (bf) {
      x = x.transpose(0, 1);
      if (perStep) {
        y = y.transpose(0, 1);
        m = m == null ? null : m.transpose(0, 1);
      }
    }
    return new Data(x, y, m, perStep, t, n);
  }

  private void checkClassIndices(String who, Tensor targets, int classes) {
    for (int i = 0; i < targets.size(); i++) {
      double v = targets.at(i);
      if (!(v == Math.rint(v) && v >= 0 && v < classes)) {
        throw new IllegalArgumentException(String.format(
            "%s expected class indices in [0, %s) (the output size of %s) but targets%s is %s",
            who, classes, net.spec(), index(targets, i), v));
      }
    }
  }

  /** The index of element {@code i} of {@code t}, as {@code [2, 3]}. */
  private static String index(Tensor t, int i) {
    int[] at = new int[t.rank()];
    for (int k = at.length - 1, r = i; k >= 0; k--) {
      at[k] = r % t.dim(k);
      r /= t.dim(k);
    }
    return Arrays.toString(at);
  }

  @Override public String toString() {
    return "Trainer(" + net.spec() + ", loss=" + objective + ", " + bptt + ", epochs=" + epochs
        + ", batchSize=" + batchSize + ")";
  }
}
