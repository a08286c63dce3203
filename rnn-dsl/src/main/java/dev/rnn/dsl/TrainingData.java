package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.rnn.autograd.Bptt;
import dev.rnn.core.DType;
import dev.rnn.core.Lengths;
import dev.rnn.core.Shape;
import dev.rnn.core.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Training inputs, targets and mask, checked against the network and put time-major: {@code x [T,
 * N, F_in]}; {@code y} and {@code mask} with time first where the output is per step ({@code
 * perStep}), else batch first.
 *
 * <p>Every message about a shape names the layout the network reads (time-major, or batch-first
 * as built with {@code batchFirst()}) and how to change it, since data in the other layout often
 * fits until one size happens to differ.
 *
 * @param x the inputs, {@code [T, N, F_in]}
 * @param y the targets, {@code [T, N, F_out]} (MSE) or {@code [T, N]} class indices; batch first
 *     for a last-step output
 * @param mask the weight of each step in the loss: 0 and 1 for the counted steps, times the
 *     sample weights and the weight of the step's class where there are some, 0 where a class
 *     target is the ignored index, and 0 after each sequence's end where lengths are given; null
 *     for all ones
 * @param perStep whether the network outputs every step (not only the last)
 * @param steps {@code T}
 * @param batch {@code N}
 * @param lengths the length of each sequence, or null for {@code T} each
 * @param weighted whether sample weights, class weights or an ignored class are folded into the
 *     mask: a batch they weigh all 0 is then meant and takes no update, where a 0/1 mask that
 *     counts no step of a batch is a mistake
 */
record TrainingData(Tensor x, Tensor y, Tensor mask, boolean perStep, int steps, int batch,
    Lengths lengths, boolean weighted) {

  /** The targets of the steps {@code w} counts (all of them for a last-step output). */
  Tensor targets(Bptt.Window w) {
    return perStep ? y.slice(0, w.lossFrom(), w.end()) : y;
  }

  /** The mask of the steps {@code w} counts, or null. */
  Tensor mask(Bptt.Window w) {
    return mask == null ? null : perStep ? mask.slice(0, w.lossFrom(), w.end()) : mask;
  }

  /** The sequences {@code rows}, in that order. */
  TrainingData rows(List<Integer> rows) {
    Lengths l = null;
    if (lengths != null) {
      int[] a = new int[rows.size()];
      for (int i = 0; i < a.length; i++) {
        a[i] = lengths.get(rows.get(i));
      }
      l = Lengths.of(a);
    }
    return new TrainingData(gather(x, 1, rows), gather(y, perStep ? 1 : 0, rows),
        mask == null ? null : gather(mask, perStep ? 1 : 0, rows), perStep, steps,
        rows.size(), l, weighted);
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

  /** What the targets are, as the loss reads them. */
  enum Targets {
    /** MSE: real numbers, one per output feature. */
    FEATURES("MSE"),
    /** Cross-entropy: class indices, one per step (or sequence). */
    CLASSES("class indices for CROSS_ENTROPY"),
    /** Binary cross-entropy: numbers in [0, 1], one per output feature. */
    PROBABILITIES("numbers in [0, 1] for BINARY_CROSS_ENTROPY"),
    /** A user's loss: any number of target features per step, or one number per step. */
    ANY("targets for the loss function");

    final String words;

    Targets(String words) {
      this.words = words;
    }
  }

  /**
   * Checks {@code inputs}, {@code targets} and {@code mask} against {@code net} and the objective
   * and puts them time-major.
   *
   * @throws IllegalArgumentException naming {@code who}, the argument, expected and actual
   */
  static TrainingData of(String who, Network net, boolean mse, Tensor inputs, Tensor targets,
      Tensor mask) {
    return of(who, net, mse, inputs, targets, mask, null);
  }

  /**
   * As {@link #of(String, Network, boolean, Tensor, Tensor, Tensor)}, for sequences of different
   * lengths: one length per sequence, in {@code [1, T]}; the steps after each are padding, which
   * the forward never reads and the loss does not count (the mask is 0 there).
   *
   * @throws IllegalArgumentException as the other, or if the lengths do not fit the inputs
   */
  static TrainingData of(String who, Network net, boolean mse, Tensor inputs, Tensor targets,
      Tensor mask, int[] lengths) {
    return of(who, net, mse ? Targets.FEATURES : Targets.CLASSES, null, null, inputs, targets,
        mask, null, lengths);
  }

  /**
   * Checks {@code inputs}, {@code targets} (as {@code kind} says), {@code mask} and {@code
   * sampleWeights} against {@code net} and puts them time-major, with the mask, the sample
   * weights, the class weights ({@code classWeights}, {@code [C]}, or null) and the ignored class
   * targets ({@code ignoreIndex}, or null) folded into one weight per step.
   *
   * @param sampleWeights {@code >= 0}: one per sequence {@code [N]}, or one per step in the
   *     mask's shape; or null
   * @param lengths the length of each sequence, in {@code [1, T]}, or null for {@code T} each
   * @throws IllegalArgumentException naming {@code who}, the argument, expected and actual
   */
  static TrainingData of(String who, Network net, Targets kind, Integer ignoreIndex,
      Tensor classWeights, Tensor inputs, Tensor targets, Tensor mask, Tensor sampleWeights,
      int[] lengths) {
    checkNotNull(inputs, "inputs");
    checkNotNull(targets, "targets");
    inputs = net.idsAsFeatures(inputs, false);
    boolean mse = kind != Targets.CLASSES;
    boolean bf = net.batchFirst();
    String seqBatch = bf ? "[batch, seq" : "[seq, batch";
    String layout = net.layoutNote();
    int fIn = net.inputSize();
    int fOut = net.outputSize();
    checkArgument(inputs.rank() == 3 && inputs.dim(2) == fIn,
        "%s expected inputs of shape %s, %s] but got %s%s", who, seqBatch, fIn, inputs.shape(),
        layout);
    checkArgument(inputs.size() > 0,
        "%s expected inputs of at least one step and one sequence but got %s", who,
        inputs.shape());
    int n = inputs.dim(bf ? 0 : 1);
    int t = inputs.dim(bf ? 1 : 0);
    boolean perStep = !net.lastStepOnly();
    String where = perStep ? "on every step" : "on the last step";
    int rank = (perStep ? 2 : 1) + (mse ? 1 : 0);
    boolean anyRank = kind == Targets.ANY && targets.rank() == rank - 1 && targets.rank() >= 1;
    String expected = (perStep ? seqBatch : "[batch")
        + (kind == Targets.ANY ? ", F_t" : mse ? ", " + fOut : "") + "]";
    String perStepLayout = perStep ? layout : "";
    checkArgument(targets.rank() == rank || anyRank,
        "%s expected targets of shape %s (%s %s) but got %s%s", who, expected, kind.words, where,
        targets.shape(), perStepLayout);
    int tn = targets.dim(perStep && !bf ? 1 : 0);
    checkArgument(tn == n,
        "%s expected targets for %s sequences, as many as the inputs %s, but got %s (targets"
            + " %s)%s", who, n, inputs.shape(), tn, targets.shape(), perStepLayout.isEmpty()
            ? layout : perStepLayout);
    if (perStep) {
      int tt = targets.dim(bf ? 1 : 0);
      checkArgument(tt == t,
          "%s expected targets for %s steps, as many as the inputs %s, but got %s (targets"
              + " %s)%s", who, t, inputs.shape(), tt, targets.shape(), layout);
    }
    if (kind == Targets.FEATURES || kind == Targets.PROBABILITIES) {
      checkArgument(targets.dim(-1) == fOut,
          "%s expected targets of %s features, the output size of %s, but got %s (targets %s)",
          who, fOut, net.spec(), targets.dim(-1), targets.shape());
    }
    if (kind == Targets.CLASSES) {
      checkClassIndices(who, net, targets, fOut, ignoreIndex);
    } else if (kind == Targets.PROBABILITIES) {
      for (int i = 0; i < targets.size(); i++) {
        double v = targets.at(i);
        checkArgument(v >= 0 && v <= 1,
            "%s expected targets in [0, 1] for BINARY_CROSS_ENTROPY but targets%s is %s", who,
            index(targets, i), v);
      }
    }
    Shape want = perStep ? (bf ? Shape.of(n, t) : Shape.of(t, n)) : Shape.of(n);
    if (mask != null) {
      checkArgument(mask.shape().equals(want), "%s expected a mask of shape %s (%s]) but got %s%s",
          who, want, perStep ? seqBatch : "[batch", mask.shape(), perStepLayout);
      for (int i = 0; i < mask.size(); i++) {
        double v = mask.at(i);
        checkArgument(v == 0 || v == 1, "%s expected a mask of 0 and 1 but mask%s is %s", who,
            index(mask, i), v);
      }
    }
    Lengths l = lengths == null ? null : checkLengths(who, lengths, n, t, inputs.shape());
    Tensor x = inputs.to(net.dtype());
    Tensor y = targets;
    Tensor m = weights(who, mask, sampleWeights, want, n, perStep, bf, seqBatch, perStepLayout);
    if (kind == Targets.CLASSES && (ignoreIndex != null || classWeights != null)) {
      m = classWeighted(m, targets, ignoreIndex, classWeights);
    }
    if (bf) {
      x = x.transpose(0, 1);
      if (perStep) {
        y = y.transpose(0, 1);
        m = m == null ? null : m.transpose(0, 1);
      }
    }
    if (l != null && perStep) {
      Tensor real = l.mask(DType.FLOAT64, t, false);
      m = m == null ? real : m.to(DType.FLOAT64).mul(real);
    }
    boolean weighted = sampleWeights != null
        || kind == Targets.CLASSES && (ignoreIndex != null || classWeights != null);
    return new TrainingData(x, y, m, perStep, t, n, l, weighted);
  }

  /**
   * Sequences of different lengths given as lists: {@code inputs} {@code [T_n, F_in]} each,
   * {@code targets} {@code [T_n, F_out]} (MSE) or {@code [T_n]} (class indices) each, or for a
   * last-step output {@code [F_out]} or {@code []}/{@code [1]} each; padded into one batch with
   * their lengths, and read as {@code kind} says (with {@code ignoreIndex} and {@code classWeights}
   * as {@link #of(String, Network, Targets, Integer, Tensor, Tensor, Tensor, Tensor, Tensor,
   * int[])}).
   *
   * @throws IllegalArgumentException naming the first sequence or target that does not fit
   */
  static TrainingData of(String who, Network net, Targets kind, Integer ignoreIndex,
      Tensor classWeights, List<Tensor> inputs, List<Tensor> targets) {
    Padded p = Padded.of(who, net.idsAsFeatures(inputs), net.inputSize(), net.spec(), "inputs");
    checkNotNull(targets, "%s expected targets but got null", who);
    checkArgument(targets.size() == inputs.size(),
        "%s expected one target per sequence (%s) but got %s", who, inputs.size(),
        targets.size());
    int n = inputs.size();
    Tensor y;
    if (net.lastStepOnly()) {
      List<Tensor> rows = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        Tensor t = checkNotNull(targets.get(i), "%s: targets[%s] is null", who, i);
        rows.add(t.reshape(1, t.size()));
      }
      y = Tensor.concat(0, rows);
      if (kind == Targets.CLASSES) {
        y = y.reshape(n);
      }
    } else {
      for (int i = 0; i < n; i++) {
        Tensor t = checkNotNull(targets.get(i), "%s: targets[%s] is null", who, i);
        checkArgument(t.rank() >= 1 && t.dim(0) == p.lengths()[i],
            "%s expected targets[%s] for the %s steps of inputs[%s] but got shape %s", who, i,
            p.lengths()[i], i, t.shape());
      }
      y = Padded.pad(targets, p.timeMajor().dim(0));
      if (net.batchFirst()) {
        y = y.transpose(0, 1);
      }
    }
    return of(who, net, kind, ignoreIndex, classWeights, net.featuresAsIds(p.in(net.batchFirst())),
        y, null, null, p.lengths());
  }

  private static Lengths checkLengths(String who, int[] lengths, int n, int t, Shape inputs) {
    checkArgument(lengths.length == n,
        "%s expected %s lengths (one per sequence of the inputs %s) but got %s", who, n, inputs,
        lengths.length);
    for (int i = 0; i < n; i++) {
      checkArgument(lengths[i] >= 1 && lengths[i] <= t,
          "%s expected lengths in [1, %s] (the steps of the inputs %s) but lengths[%s] is %s",
          who, t, inputs, i, lengths[i]);
    }
    return Lengths.of(lengths);
  }

  /**
   * The mask times the sample weights, in the mask's shape {@code want} (sample weights of one
   * per sequence spread over the steps); the mask alone without sample weights.
   */
  private static Tensor weights(String who, Tensor mask, Tensor sampleWeights, Shape want, int n,
      boolean perStep, boolean bf, String seqBatch, String layout) {
    if (sampleWeights == null) {
      return mask;
    }
    boolean perSequence = sampleWeights.shape().equals(Shape.of(n));
    checkArgument(perSequence || sampleWeights.shape().equals(want),
        "%s expected sample weights of shape [%s] (one per sequence)%s but got %s%s", who, n,
        perStep ? " or " + want + " (" + seqBatch + "], one per step)" : "",
        sampleWeights.shape(), perStep ? layout : "");
    double[] w = new double[want.size()];
    for (int i = 0; i < w.length; i++) {
      // the sequence of element i of [T, N] is i % N, of [N, T] i / T
      int seq = !perStep ? i : bf ? i / want.dim(1) : i % n;
      double s = sampleWeights.at(perSequence ? seq : i);
      checkArgument(s >= 0 && Double.isFinite(s),
          "%s expected sample weights >= 0 but sampleWeights%s is %s", who,
          index(sampleWeights, perSequence ? seq : i), s);
      w[i] = (mask == null ? 1 : mask.at(i)) * s;
    }
    return Tensor.of(w, want.dims());
  }

  /**
   * {@code m} (null for all ones) times the weight of each step's class ({@code classWeights},
   * or 1), and 0 where the class target is {@code ignore} (or null for none).
   */
  private static Tensor classWeighted(Tensor m, Tensor targets, Integer ignore,
      Tensor classWeights) {
    double[] w = new double[targets.size()];
    for (int i = 0; i < w.length; i++) {
      double c = targets.at(i);
      boolean ignored = ignore != null && c == ignore;
      w[i] = ignored ? 0 : (m == null ? 1 : m.at(i))
          * (classWeights == null ? 1 : classWeights.at((int) c));
    }
    return Tensor.of(w, targets.shape().dims());
  }

  private static void checkClassIndices(String who, Network net, Tensor targets,
      int classes, Integer ignore) {
    for (int i = 0; i < targets.size(); i++) {
      double v = targets.at(i);
      if (!(v == Math.rint(v) && v >= 0 && v < classes) && !(ignore != null && v == ignore)) {
        throw new IllegalArgumentException(String.format(
            "%s expected class indices in [0, %s)%s (the output size of %s) but targets%s is %s",
            who, classes, ignore == null ? "" : " or the ignored " + ignore, net.spec(),
            index(targets, i), v));
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
}
