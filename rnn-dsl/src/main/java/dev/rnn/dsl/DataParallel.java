package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.rnn.autograd.Bptt;
import dev.rnn.autograd.Graph;
import dev.rnn.autograd.LossFunction;
import dev.rnn.autograd.Value;
import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Safetensors;
import dev.rnn.core.Storage;
import dev.rnn.core.Tensor;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The seam for synchronous data-parallel training, where one global batch is split across
 * machines (the Spark trainer of {@code dev.rnn.dsl.spark} is built on it): the driver's run of a
 * {@link Trainer} with each window's gradient from a {@link Cluster}, and a {@link Part} of the
 * data on a worker that computes its share of the gradient with the same BPTT.
 *
 * <p>Why the sum of the parts equals the whole: the loss of a window is {@code L = S / C}, with
 * {@code S} the sum of the counted rows' (weighted) losses and {@code C} their (weighted) count.
 * Part {@code p} holding some of the batch's sequences returns {@code C_p dL_p/dw = dS_p/dw},
 * {@code C_p L_p = S_p} and {@code C_p}; the driver adds them and divides by {@code C = sum_p
 * C_p}, which gives {@code dL/dw} of the whole batch up to the order of the additions. Each
 * sequence's dropout masks come from (dropout seed, epoch, its index in the data, window), as in
 * {@link Trainer#fit}, so they do not depend on the split either.
 *
 * <p>The gradient and the weights move as one flat vector, the network's parameters in {@link
 * Network#parameters()} order, each in row-major order ({@link #weights}).
 */
public final class DataParallel {
  private DataParallel() {}

  /**
   * A part of a window's gradient, or the sum of several: what moves from workers to the driver.
   * Mutable only through {@link #add}, for a tree aggregation.
   *
   * <p>Its serial form is compact: the gradient as one array of bytes (no per-number Java
   * serialisation), in float32 for a float32 network: the numbers {@code g_i / C_p} as floats,
   * which a part's own sum gives back exactly ({@code C_p dL_p/dw} divided by {@code C_p} is the
   * float32 gradient), {@code P} 4-byte numbers instead of 8; float64 networks send 8 bytes a
   * number, unchanged.
   */
  public static final class Sum implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The summed gradient {@code sum_p C_p dL_p/dw}, flat, in parameter order. */
    private final double[] gradient;
    /** The summed weighted loss {@code sum_p C_p L_p}. */
    private double loss;
    /** The summed weighted count {@code sum_p C_p}. */
    private double count;
    /** The metrics' sums and counts, two numbers per metric. */
    private final double[] tallies;
    /** Whether the network is float32 (the gradient then travels as 4-byte numbers). */
    private final boolean float32;

    /**
     * A sum without metrics.
     *
     * @param gradient {@code sum_p C_p dL_p/dw}, flat; kept, not copied
     * @param loss {@code sum_p C_p L_p}
     * @param count {@code sum_p C_p}
     */
    public Sum(double[] gradient, double loss, double count) {
      this(gradient, loss, count, new double[0]);
    }

    /**
     * A sum with the tallies of the trainer's metrics.
     *
     * @param gradient {@code sum_p C_p dL_p/dw}, flat; kept, not copied
     * @param loss {@code sum_p C_p L_p}
     * @param count {@code sum_p C_p}
     * @param tallies each metric's sum and count, in the trainer's order: {@code [s_0, c_0, s_1,
     *     c_1, ...]}; kept, not copied
     */
    public Sum(double[] gradient, double loss, double count, double[] tallies) {
      this(gradient, loss, count, tallies, false);
    }

    private Sum(double[] gradient, double loss, double count, double[] tallies,
        boolean float32) {
      this.gradient = checkNotNull(gradient, "gradient");
      this.loss = loss;
      this.count = count;
      this.tallies = checkNotNull(tallies, "tallies");
      this.float32 = float32;
    }

    /**
     * The serial form.
     *
     * @return a {@link Packed} of this sum: the gradient as bytes in the network's width
     */
    private Object writeReplace() {
      return new Packed(this);
    }

    /**
     * Adds {@code other} into this.
     *
     * @param other a sum over the same parameters
     * @return this
     * @throws IllegalArgumentException if the gradients differ in length
     */
    public Sum add(Sum other) {
      checkArgument(other.gradient.length == gradient.length,
          "Sum.add expected a gradient of %s numbers but got %s", gradient.length,
          other.gradient.length);
      for (int i = 0; i < gradient.length; i++) {
        gradient[i] += other.gradient[i];
      }
      for (int i = 0; i < tallies.length; i++) {
        tallies[i] += other.tallies[i];
      }
      loss += other.loss;
      count += other.count;
      return this;
    }

    /** {@return the summed gradient, flat (the array itself)} */
    public double[] gradient() {
      return gradient;
    }

    /** {@return the summed {@code C_p L_p}} */
    public double loss() {
      return loss;
    }

    /** {@return the summed count of the rows counted, {@code C}; 0 if no row counts} */
    public double count() {
      return count;
    }

    /** {@return the metrics' summed tallies, {@code [s_0, c_0, s_1, c_1, ...]} (the array)} */
    public double[] tallies() {
      return tallies;
    }
  }

  /**
   * The serial form of a {@link Sum}: its gradient as little-endian bytes, float32 ({@code g_i /
   * C}) or float64 ({@code g_i}), read back into a {@code Sum} of doubles.
   */
  private static final class Packed implements Serializable {
    private static final long serialVersionUID = 1L;

    private final byte[] gradient;
    private final boolean float32;
    private final double loss;
    private final double count;
    private final double[] tallies;

    Packed(Sum s) {
      this.float32 = s.float32;
      this.loss = s.loss;
      this.count = s.count;
      this.tallies = s.tallies;
      double[] g = s.gradient;
      ByteBuffer b = ByteBuffer.allocate(g.length * (float32 ? 4 : 8))
          .order(ByteOrder.LITTLE_ENDIAN);
      if (float32) {
        double scale = s.count == 0 ? 1 : s.count;
        FloatBuffer f = b.asFloatBuffer();
        for (double v : g) {
          f.put((float) (v / scale));
        }
      } else {
        b.asDoubleBuffer().put(g);
      }
      this.gradient = b.array();
    }

    private Object readResolve() {
      ByteBuffer b = ByteBuffer.wrap(gradient).order(ByteOrder.LITTLE_ENDIAN);
      double[] g = new double[gradient.length / (float32 ? 4 : 8)];
      if (float32) {
        double scale = count == 0 ? 1 : count;
        FloatBuffer f = b.asFloatBuffer();
        for (int i = 0; i < g.length; i++) {
          g[i] = f.get(i) * scale;
        }
      } else {
        b.asDoubleBuffer().get(g);
      }
      return new Sum(g, loss, count, tallies, float32);
    }
  }

  /** The driver's view of the workers: the summed gradient of each window. */
  public interface Cluster {
    /** {@return {@code N}, the sequences of the data} */
    int sequences();

    /** {@return {@code T}, the steps of every sequence} */
    int steps();

    /**
     * The sum over the workers of their part of window {@code w} of batch {@code batch}, at the
     * network's current weights ({@link #weights}). Windows come in the BPTT plan's order, the
     * first of each batch with {@code w.index() == 0}.
     *
     * @param epoch the epoch, from 1
     * @param batch the batch of the epoch, from 1
     * @param rows the indices in the data of the batch's sequences, in the batch's order
     * @param w the window
     * @return the sum; a count of 0 where the window counts no step (no update is made)
     */
    Sum window(int epoch, int batch, int[] rows, Bptt.Window w);
  }

  /**
   * Runs {@code trainer}'s fit on the driver with each window's gradient from {@code cluster}:
   * the same epochs, batches, order, clipping, schedule and optimizer steps as {@link
   * Trainer#fit}, updating the trainer's network in place.
   *
   * @param trainer the configuration
   * @param cluster the workers
   * @param checkpointEvery write {@code directory/last.safetensors} at the end of the batch that
   *     reaches each multiple of this many steps, and at the end of each epoch; 0 for none
   * @param directory where, or null when {@code checkpointEvery} is 0
   * @return the report, as {@link Trainer#fit}'s (events carry no gradient flow)
   * @throws IllegalStateException as {@link Trainer#fit}
   * @throws IllegalArgumentException for a validation split, which needs the data on the driver
   *     (give validation data instead)
   */
  public static Trainer.Report fit(Trainer trainer, Cluster cluster, int checkpointEvery,
      Path directory) {
    return run(trainer, cluster, checkpointEvery, directory, null);
  }

  /**
   * Finishes the run that wrote {@code checkpoint} (see {@link #fit}), as {@link
   * Trainer#fitFrom} does, from the batch after it: the weights at the end are those of the
   * unbroken run.
   *
   * @param trainer the configuration of the run
   * @param checkpoint its {@code last.safetensors}
   * @param cluster the workers
   * @param checkpointEvery as {@link #fit}
   * @param directory as {@link #fit}
   * @return the report of the steps after the checkpoint, with the run's totals
   * @throws IOException if the checkpoint cannot be read
   */
  public static Trainer.Report fitFrom(Trainer trainer, Path checkpoint, Cluster cluster,
      int checkpointEvery, Path directory) throws IOException {
    checkNotNull(checkpoint, "fitFrom expected a checkpoint but got null");
    return run(trainer, cluster, checkpointEvery, directory,
        RunCheckpoint.read(trainer.config().net(), checkpoint));
  }

  private static Trainer.Report run(Trainer trainer, Cluster cluster, int checkpointEvery,
      Path directory, RunCheckpoint saved) {
    long start = System.nanoTime();
    checkNotNull(trainer, "trainer");
    checkNotNull(cluster, "cluster");
    checkArgument(checkpointEvery >= 0 && (checkpointEvery == 0) == (directory == null),
        "checkpointEvery expected steps >= 1 with a directory, or 0 without, but got %s and %s",
        checkpointEvery, directory);
    String who = saved == null ? "fit" : "fitFrom";
    trainer.checkObjective(who);
    TrainerConfig config = trainer.config();
    Network net = config.net();
    List<Parameter> params = net.parameters();
    GradientSource source = new GradientSource() {
      @Override public int sequences() {
        return cluster.sequences();
      }

      @Override public int steps() {
        return cluster.steps();
      }

      @Override public Batch batch(int epoch, int b, List<Integer> rows) {
        int[] r = rows.stream().mapToInt(Integer::intValue).toArray();
        return w -> {
          Sum s = cluster.window(epoch, b, r, w);
          if (s.count() == 0) {
            return null;
          }
          double[] g = s.gradient();
          int at = 0;
          for (Parameter p : params) {
            Storage d = p.grad();
            for (int i = 0; i < p.size(); i++) {
              d.set(i, g[at++] / s.count());
            }
          }
          List<Metric.Tally> tallies = new ArrayList<>();
          for (int i = 0; i < config.metrics().size(); i++) {
            tallies.add(new Metric.Tally(s.tallies()[2 * i], s.tallies()[2 * i + 1]));
          }
          return new Window(s.loss() / s.count(), null, null, null, null, tallies);
        };
      }
    };
    Trainer.Report from = saved == null ? null : saved.report();
    int epochs = trainer.epochCount();
    if (saved != null) {
      checkArgument(from.epochsDone() < epochs,
          "fitFrom: the checkpoint is at epoch %s, the end of a fit of %s epochs: nothing is left"
              + " to train", from.epochsDone(), epochs);
    }
    return new TrainingRun(config, who, null, source, from,
        saved == null ? epochs : epochs - from.epochsDone(), saved, start, checkpointEvery,
        directory).run();
  }

  /**
   * The order of the sequences in epoch {@code epoch} of {@code trainer}'s fit: shuffled from
   * (its shuffle seed, epoch) alone, as {@link Trainer#fit} orders them; batch {@code b} is
   * {@code order[(b - 1) B, b B)} with {@code B} the batch size.
   *
   * @param trainer the configuration
   * @param sequences {@code N}
   * @param epoch the epoch, from 1
   * @return the indices of the sequences, in the epoch's order
   */
  public static int[] order(Trainer trainer, int sequences, int epoch) {
    return TrainingRun.order(trainer.config().shuffleSeed(), sequences, epoch).stream()
        .mapToInt(Integer::intValue).toArray();
  }

  /**
   * Whether {@code trainer} shuffles the sequences each epoch (else every epoch has the order of
   * the data).
   *
   * @param trainer the configuration
   * @return whether it has a shuffle seed
   */
  public static boolean shuffles(Trainer trainer) {
    return trainer.config().shuffleSeed().isPresent();
  }

  /**
   * The network {@code trainer} trains.
   *
   * @param trainer the configuration
   * @return its network
   */
  public static Network network(Trainer trainer) {
    return trainer.config().net();
  }

  /**
   * The batch size of {@code trainer}, with its default.
   *
   * @param trainer the configuration
   * @return {@code B}
   */
  public static int batchSize(Trainer trainer) {
    return trainer.config().batchSize();
  }

  /**
   * The BPTT windows of {@code trainer} over sequences of {@code steps} steps.
   *
   * @param trainer the configuration
   * @param steps {@code T}
   * @return the windows, in order
   */
  public static List<Bptt.Window> windows(Trainer trainer, int steps) {
    return trainer.config().bptt().windows(steps);
  }

  /**
   * The values of {@code net}'s parameters as one flat vector.
   *
   * @param net the network
   * @return {@code w}, {@link Network#parameters()} in order, each row-major
   */
  public static double[] weights(Network net) {
    List<Parameter> params = net.parameters();
    int n = 0;
    for (Parameter p : params) {
      n += p.size();
    }
    double[] w = new double[n];
    int at = 0;
    for (Parameter p : params) {
      Storage d = p.data();
      for (int i = 0; i < p.size(); i++) {
        w[at++] = d.get(i);
      }
    }
    return w;
  }

  /**
   * Sets {@code net}'s parameters from a flat vector of {@link #weights}.
   *
   * @param net the network
   * @param w the values, as {@link #weights} gives them
   * @throws IllegalArgumentException if {@code w} has another length than the parameters
   */
  public static void setWeights(Network net, double[] w) {
    List<Parameter> params = net.parameters();
    int at = 0;
    for (Parameter p : params) {
      at += p.size();
    }
    checkArgument(w.length == at, "setWeights expected %s numbers (the parameters of %s) but got"
        + " %s", at, net.spec(), w.length);
    at = 0;
    for (Parameter p : params) {
      Storage d = p.data();
      for (int i = 0; i < p.size(); i++) {
        d.set(i, w[at++]);
      }
    }
  }

  /**
   * What a worker needs to compute its part of the gradients, serialisable: the network (as the
   * bytes of a checkpoint), the loss and its options, the BPTT plan and the dropout seed.
   */
  public static final class Worker implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The network, as the bytes of its checkpoint. */
    private final byte[] network;
    /** The seed of the dropout masks. */
    private final long dropoutSeed;
    /** The trainer's objective. */
    private final Trainer.Objective objective;
    /** A user loss, or {@code null} for the objective's. */
    private final LossFunction lossFunction;
    /** Class weights, or {@code null}. */
    private final double[] classWeights;
    /** The ignored class id, or {@code null}. */
    private final Integer ignoreIndex;
    /** Truncated BPTT's k1 (steps between updates; 0 for full BPTT). */
    private final int k1;
    /** Truncated BPTT's k2 (steps backpropagated). */
    private final int k2;
    /** The number of parameters P. */
    private final int parameters;
    /** Which metrics are accuracy (tallied from the outputs). */
    private final boolean[] accuracy;
    /** The trainer's metrics. */
    private final Metric[] metrics;

    private Worker(Trainer trainer) {
      TrainerConfig c = trainer.config();
      this.accuracy = new boolean[c.metrics().size()];
      this.metrics = new Metric[c.metrics().size()];
      for (int i = 0; i < metrics.length; i++) {
        Metric m = c.metrics().get(i);
        accuracy[i] = m == Metric.accuracy();
        if (!accuracy[i] && !(m instanceof Serializable)) {
          throw new IllegalStateException("training on many machines sends each metric to the"
              + " workers; metric " + m.name() + " (" + m.getClass().getName() + ") is not"
              + " Serializable");
        }
        metrics[i] = accuracy[i] ? null : m;
      }
      this.parameters = weights(c.net()).length;
      this.network = bytes(c.net());
      this.dropoutSeed = c.net().dropoutSeed();
      this.objective = c.objective();
      if (c.lossFunction() != null && !(c.lossFunction() instanceof Serializable)) {
        throw new IllegalStateException("training on many machines sends the loss function to"
            + " each; " + c.lossFunction().getClass().getName() + " is not Serializable");
      }
      this.lossFunction = c.lossFunction();
      this.classWeights = c.classWeights() == null ? null : c.classWeights().toDoubleArray();
      this.ignoreIndex = c.ignoreIndex();
      this.k1 = c.bptt().isFull() ? 0 : c.bptt().k1();
      this.k2 = c.bptt().isFull() ? 0 : c.bptt().k2();
    }

    /**
     * The worker of {@code trainer}'s configuration, its network's current weights included.
     *
     * @param trainer the configuration
     * @return the worker
     * @throws IllegalStateException if its loss function is not serialisable
     */
    public static Worker of(Trainer trainer) {
      checkNotNull(trainer, "Worker expected a trainer but got null");
      trainer.checkObjective("fit");
      return new Worker(trainer);
    }

    private static byte[] bytes(Network net) {
      byte[][] out = new byte[1][];
      try {
        Checkpoint.save(net, Path.of("worker.safetensors"), Map.of(), Map.of(),
            (path, tensors, metadata) -> out[0] = Safetensors.toBytes(tensors, metadata));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return out[0];
    }

    /**
     * A part of the data on this worker, with a network of its own.
     *
     * @param inputs {@code [N_p, T, F_in]}, example-major whatever the network's layout
     * @param lengths the length of each sequence, or null for {@code T} each
     * @param targets {@code [N_p, ...]}, example-major: per step {@code [N_p, T, F_out]} or
     *     {@code [N_p, T]}, for {@code lastStep()} {@code [N_p, F_out]} or {@code [N_p]}
     * @param indices the index in the data of each sequence
     * @return the part
     * @throws IllegalArgumentException if the data do not fit the network, naming what differs
     */
    public Part part(Tensor inputs, int[] lengths, Tensor targets, int[] indices) {
      return new Part(this, inputs, lengths, targets, indices);
    }

    /** {@return the number of the network's parameters, the length of a flat gradient} */
    public int parameterCount() {
      return parameters;
    }

    /**
     * The BPTT windows over sequences of {@code steps} steps.
     *
     * @param steps {@code T}
     * @return the windows, in order
     */
    public List<Bptt.Window> windows(int steps) {
      return (k1 == 0 ? Bptt.full() : Bptt.truncated(k1, k2)).windows(steps);
    }

    Trainer trainer(Network net) {
      Trainer t = net.trainer();
      if (lossFunction != null) {
        t.lossFunction(lossFunction);
      } else {
        t.loss(objective);
      }
      if (classWeights != null) {
        t.classWeights(classWeights);
      }
      if (ignoreIndex != null) {
        t.ignoreIndex(ignoreIndex);
      }
      t.bptt(k1 == 0 ? Bptt.full() : Bptt.truncated(k1, k2));
      if (metrics.length > 0) {
        Metric[] ms = new Metric[metrics.length];
        for (int i = 0; i < ms.length; i++) {
          ms[i] = accuracy[i] ? Metric.accuracy() : metrics[i];
        }
        t.metrics(ms);
      }
      return t;
    }
  }

  /**
   * A worker's part of the data and its own copy of the network: the gradient of its share of
   * each window, carrying the state of truncated BPTT from a window of a batch to the next.
   * Used by one thread.
   */
  public static final class Part {
    private final Worker worker;
    private final Network net;
    private final TrainerConfig config;
    private final TrainingData data;
    private final int[] indices;
    private final int parameterCount;
    private String carriedFor;
    private List<Tensor> carried;
    private String batchOf;
    private TrainingData batch;

    private Part(Worker worker, Tensor inputs, int[] lengths, Tensor targets, int[] indices) {
      this.worker = worker;
      this.net = Checkpoint.load(worker.network, "the driver's network");
      this.config = worker.trainer(net).config();
      boolean perStep = !net.lastStepOnly();
      Tensor x = net.batchFirst() ? inputs : inputs.transpose(0, 1);
      Tensor y = perStep && !net.batchFirst() ? targets.transpose(0, 1) : targets;
      checkArgument(indices.length == inputs.dim(0), "part expected %s indices (one per"
          + " sequence) but got %s", inputs.dim(0), indices.length);
      this.data = config.data("fit", x, y, null, null, lengths);
      this.indices = indices.clone();
      this.parameterCount = DataParallel.weights(net).length;
    }

    /** {@return the sequences of this part, {@code N_p}} */
    public int sequences() {
      return indices.length;
    }

    /**
     * Sets the weights of this part's network.
     *
     * @param w the driver's weights, as {@link DataParallel#weights} gives them
     */
    public void setWeights(double[] w) {
      DataParallel.setWeights(net, w);
    }

    /**
     * Whether this part holds the state that window {@code w} of the batch starts from: true for
     * a batch's first window, and for a later one right after the window before it ran here.
     *
     * @param epoch the epoch
     * @param batch the batch
     * @param w the window
     * @return whether {@link #window} can run {@code w} now
     */
    public boolean canRun(int epoch, int batch, Bptt.Window w) {
      return w.index() == 0 || (epoch + "/" + batch + "/" + (w.index() - 1)).equals(carriedFor);
    }

    /**
     * The part's share of window {@code w} of a batch: its forward and BPTT over the sequences
     * {@code rows} of this part (positions in it, in the batch's order), from the state the
     * window before left (see {@link #canRun}).
     *
     * @param epoch the epoch, from 1
     * @param batch the batch, from 1
     * @param rows the positions in this part of the batch's sequences here, in the batch's order
     * @param w the window
     * @return {@code C_p dL_p/dw}, {@code C_p L_p} and {@code C_p}; zeros where no row counts
     * @throws IllegalStateException if the state that {@code w} starts from is not here
     */
    public Sum window(int epoch, int batch, int[] rows, Bptt.Window w) {
      if (!canRun(epoch, batch, w)) {
        throw new IllegalStateException("part: window " + w.index() + " of batch " + batch
            + " of epoch " + epoch + " needs the state of the window before, which is not here;"
            + " run the batch's windows from the first");
      }
      double[] gradient = new double[parameterCount];
      String key = epoch + "/" + batch;
      double[] none = new double[2 * config.metrics().size()];
      if (rows.length == 0) {
        carried = null;
        carriedFor = key + "/" + w.index();
        return new Sum(gradient, 0, 0, none);
      }
      List<Integer> local = new ArrayList<>(rows.length);
      List<Integer> global = new ArrayList<>(rows.length);
      for (int r : rows) {
        local.add(r);
        global.add(indices[r]);
      }
      if (!key.equals(batchOf)) {
        this.batch = data.rows(local);
        batchOf = key;
      }
      TrainingData b = this.batch;
      Graph g = Graph.trainingPerRow(
          TrainingRun.rowSeeds(worker.dropoutSeed, epoch, global, w));
      Bptt.WindowForward f = config.bptt().forward(g, net.model(), b.x(), w,
          w.index() == 0 ? null : carried, b.lengths());
      carried = f.carried();
      carriedFor = key + "/" + w.index();
      Tensor m = b.mask(w);
      double count = m != null ? m.sum()
          : b.perStep() ? (double) (w.end() - w.lossFrom()) * rows.length : rows.length;
      if (count == 0) {
        return new Sum(gradient, 0, 0, none);
      }
      for (Parameter p : net.parameters()) {
        p.zeroGrad();
      }
      Value loss = config.loss(g, f.output(), b.targets(w), m);
      g.backward(loss);
      double[] tallies = new double[2 * config.metrics().size()];
      for (int i = 0; i < config.metrics().size(); i++) {
        Metric.Tally tally = config.metrics().get(i).tally(f.output().tensor(), b.targets(w), m);
        tallies[2 * i] = tally.sum();
        tallies[2 * i + 1] = tally.count();
      }
      int at = 0;
      for (Parameter p : net.parameters()) {
        Storage d = p.grad();
        for (int i = 0; i < p.size(); i++) {
          gradient[at++] = d.get(i) * count;
        }
      }
      return new Sum(gradient, loss.item() * count, count, tallies,
          net.dtype() == DType.FLOAT32);
    }

    @Override public String toString() {
      return "Part(" + indices.length + " sequences " + Arrays.toString(
          Arrays.copyOf(indices, Math.min(5, indices.length))) + "...)";
    }
  }
}
