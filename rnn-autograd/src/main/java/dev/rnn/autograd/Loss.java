package dev.rnn.autograd;

import static com.google.common.base.Preconditions.checkArgument;

import dev.rnn.core.Shape;
import dev.rnn.core.Storage;
import dev.rnn.core.Tensor;
import java.util.List;
import java.util.OptionalInt;

/**
 * Losses over sequences, each with an optional mask of the time steps that count (for padded
 * variable-length sequences), reduced by the mean over what counts; the weighted forms take real
 * row weights instead of the mask and reduce by the weighted mean.
 *
 * <p>Shapes: predictions {@code [T, N, F]} (or {@code [N, F]} for one step per sequence); a row is
 * one step of one sequence; mask {@code [T, N]} of 0/1 (or {@code [N]}), null for all ones; row
 * weights {@code a} of the mask's shape, {@code >= 0}, null for all ones. With 0/1 weights the
 * weighted mean is the mean over the counted rows, computed the same way, so a mask and its
 * weights give the same numbers, bit for bit.
 *
 * <p>Package-private: callers outside this package use {@link Ops#mse}, {@link
 * Ops#crossEntropy}, {@link Ops#weightedMse}, {@link Ops#weightedCrossEntropy}, {@link
 * Ops#binaryCrossEntropyWithLogits}, {@link Ops#loss} and {@link Ops#sum}.
 */
final class Loss {
  private Loss() {}

  /**
   * Mean squared error, {@code L = sum_{t,n,f} m_{t,n} (y - target)^2 / (F * sum m)}.
   *
   * <pre>  dy = 2 m (y - target) / (F * sum m)</pre>
   *
   * @param g the graph recording the op
   * @param y the prediction, {@code [T, N, F]} (or {@code [N, F]})
   * @param target the target, of the shape of {@code y}
   * @param mask {@code m}, {@code [T, N]} (or {@code [N]}) of 0 and 1, or null for all ones
   * @return {@code L}, one element
   * @throws IllegalArgumentException if shapes do not fit, or the mask selects nothing
   */
  static Value mse(Graph g, Value y, Tensor target, Tensor mask) {
    checkArgument(target.shape().equals(y.shape()),
        "mse expected a target of shape %s but got %s", y.shape(), target.shape());
    int rows = y.shape().size() / y.dim(-1);
    return mse(g, y, target, weights(maskOf(y, mask, rows), rows), "mse: the mask selects no"
        + " time step");
  }

  /**
   * Mean squared error weighted by row, {@code L = sum_{r,f} a_r (y - target)^2 / (F * sum a)};
   * {@code dy = 2 a (y - target) / (F * sum a)}.
   *
   * @param weights {@code a}, of the mask's shape, {@code >= 0}, or null for all ones
   * @throws IllegalArgumentException if shapes do not fit, a weight is negative or not finite,
   *     or every weight is 0
   */
  static Value weightedMse(Graph g, Value y, Tensor target, Tensor weights) {
    checkArgument(target.shape().equals(y.shape()),
        "weightedMse expected a target of shape %s but got %s", y.shape(), target.shape());
    int rows = y.shape().size() / y.dim(-1);
    return mse(g, y, target, rowWeights("weightedMse", y, weights, rows),
        "weightedMse: every row weight is 0");
  }

  /** The (weighted) mean squared error; {@code w} null for all ones. */
  private static Value mse(Graph g, Value y, Tensor target, double[] w, String nothing) {
    int f = y.dim(-1);
    int rows = y.shape().size() / f;
    double count = sum(w, rows);
    checkArgument(count > 0, nothing);
    double denom = count * f;
    Storage t = target.to(y.dtype()).copyStorage();
    Storage yd = y.data();
    Storage out = Storage.allocate(y.dtype(), 1);
    out.set(0, squaredError(yd, t, w, rows, f) / denom);
    Value loss = g.result(Shape.of(), out, y);
    g.record(new Node("mse") {
      @Override void backward() {
        Storage dl = loss.gradOrNull();
        if (dl == null || !y.requiresGrad()) {
          return;
        }
        addSquaredErrorGradient(yd, t, w, rows, f, 2 * dl.get(0) / denom, y.grad());
      }
    });
    return loss;
  }

  /** {@code sum_r w_r}, or {@code rows} for all ones, accumulated in double. */
  private static double sum(double[] w, int rows) {
    if (w == null) {
      return rows;
    }
    double s = 0;
    for (double v : w) {
      s += v;
    }
    return s;
  }

  /**
   * Row weights from {@code weights} ({@code [T, N]} or {@code [N]}, the leading shape of {@code
   * y}), each {@code >= 0} and finite; null for null.
   */
  private static double[] rowWeights(String who, Value y, Tensor weights, int rows) {
    if (weights == null) {
      return null;
    }
    checkArgument(weights.shape().equals(leadingShape(y.shape())),
        "%s expected row weights of shape %s but got %s", who, leading(y.shape()),
        weights.shape());
    double[] w = new double[rows];
    for (int r = 0; r < rows; r++) {
      w[r] = weights.at(r);
      checkArgument(w[r] >= 0 && Double.isFinite(w[r]),
          "%s expected row weights >= 0 but element %s is %s", who, r, w[r]);
    }
    return w;
  }

  /** The mask as row weights, or null for all ones. */
  private static double[] weights(Storage m, int rows) {
    if (m == null) {
      return null;
    }
    double[] w = new double[rows];
    for (int r = 0; r < rows; r++) {
      w[r] = m.get(r);
    }
    return w;
  }

  /** {@code sum_{r,j} w_r (y - t)^2} over {@code rows x f}, accumulated in double. */
  private static double squaredError(Storage y, Storage t, double[] w, int rows, int f) {
    double s = 0;
    for (int r = 0; r < rows; r++) {
      double wr = w == null ? 1 : w[r];
      if (wr != 0) {
        s += wr * y.sumOfSquaredDifferences(r * f, f, t, r * f);
      }
    }
    return s;
  }

  /**
   * {@code dy += scale w_r (y - t)} over {@code rows x f}; rows of weight 0 are skipped, so that
   * NaN in masked-out predictions does not reach the gradient.
   */
  private static void addSquaredErrorGradient(Storage y, Storage t, double[] w, int rows, int f,
      double scale, Storage dy) {
    if (w == null) {
      if (scale != 0) {
        dy.addDifference(0, rows * f, scale, y, 0, t, 0);
      }
      return;
    }
    for (int r = 0; r < rows; r++) {
      double c = scale * w[r];
      if (c != 0) {
        dy.addDifference(r * f, f, c, y, r * f, t, r * f);
      }
    }
  }

  /**
   * Cross-entropy from logits with class-index targets, per time step:
   * {@code L = -sum_{t,n} m_{t,n} log softmax(z_{t,n})[c_{t,n}] / sum m}.
   *
   * <pre>  dz = m (softmax(z) - onehot(c)) / sum m</pre>
   *
   * @param targets class indices {@code [T, N]} (or {@code [N]}), whole numbers in {@code [0, C)}
   * @param g the graph recording the op
   * @param z the logits, {@code [T, N, C]} (or {@code [N, C]})
   * @param mask {@code m}, {@code [T, N]} (or {@code [N]}) of 0 and 1, or null for all ones
   * @return {@code L}, one element
   * @throws IllegalArgumentException if shapes do not fit, a target is not a class index, or the
   *     mask selects nothing
   */
  static Value crossEntropy(Graph g, Value z, Tensor targets, Tensor mask) {
    int c = z.dim(-1);
    int rows = z.shape().size() / c;
    checkArgument(targets.size() == rows && targets.rank() == z.shape().rank() - 1,
        "crossEntropy expected targets of shape %s but got %s", leading(z.shape()),
        targets.shape());
    double[] w = weights(maskOf(z, mask, rows), rows);
    return crossEntropy(g, z, "crossEntropy", classes("crossEntropy", targets, rows, c, null), w,
        "crossEntropy: the mask selects no time step");
  }

  /**
   * Cross-entropy from logits weighted by row and by class, as torch's {@code
   * cross_entropy(weight=, ignore_index=)} with a mean reduction: with {@code a_r} the row weight
   * (0 where the target is {@code ignoreIndex}) and {@code w_c} the class weight,
   * {@code L = sum_r a_r w_{c_r} (logsumexp(z_r) - z_r[c_r]) / sum_r a_r w_{c_r}};
   * {@code dz_r = a_r w_{c_r} (softmax(z_r) - onehot(c_r)) / sum_r a_r w_{c_r}}.
   *
   * @param weights {@code a}, of the targets' shape, {@code >= 0}, or null for all ones
   * @param classWeights {@code w}, {@code [C]}, {@code >= 0}, or null for all ones
   * @param ignoreIndex a target value whose rows count for nothing, or empty
   * @throws IllegalArgumentException if shapes do not fit, a target is neither a class index nor
   *     the ignored one, a weight is negative or not finite, or nothing is left to average
   */
  static Value weightedCrossEntropy(Graph g, Value z, Tensor targets, Tensor weights,
      Tensor classWeights, OptionalInt ignoreIndex) {
    int c = z.dim(-1);
    int rows = z.shape().size() / c;
    String who = "weightedCrossEntropy";
    checkArgument(targets.size() == rows && targets.rank() == z.shape().rank() - 1,
        "%s expected targets of shape %s but got %s", who, leading(z.shape()), targets.shape());
    double[] a = rowWeights(who, z, weights, rows);
    int[] cls = classes(who, targets, rows, c, ignoreIndex);
    double[] cw = null;
    if (classWeights != null) {
      checkArgument(classWeights.shape().equals(Shape.of(c)),
          "%s expected class weights of shape [%s] but got %s", who, c, classWeights.shape());
      cw = new double[c];
      for (int j = 0; j < c; j++) {
        cw[j] = classWeights.at(j);
        checkArgument(cw[j] >= 0 && Double.isFinite(cw[j]),
            "%s expected class weights >= 0 but class %s has %s", who, j, cw[j]);
      }
    }
    double[] w = new double[rows];
    for (int r = 0; r < rows; r++) {
      w[r] = cls[r] < 0 ? 0 : (a == null ? 1 : a[r]) * (cw == null ? 1 : cw[cls[r]]);
    }
    return crossEntropy(g, z, who, cls, w, who + ": the row weights, class weights and ignored"
        + " targets leave nothing to average (every weight of a counted row is 0)");
  }

  /**
   * The class of each row of {@code targets}; -1 where it is {@code ignore}; refuses anything
   * else that is not a class index.
   */
  private static int[] classes(String who, Tensor targets, int rows, int c, OptionalInt ignore) {
    int[] cls = new int[rows];
    for (int r = 0; r < rows; r++) {
      double v = targets.at(r);
      if (ignore != null && ignore.isPresent() && v == ignore.getAsInt()) {
        cls[r] = -1;
        continue;
      }
      checkArgument(v == Math.rint(v) && v >= 0 && v < c,
          "%s expected class indices in [0, %s)%s but target %s is %s", who, c,
          ignore != null && ignore.isPresent() ? " or the ignored " + ignore.getAsInt() : "", r,
          v);
      cls[r] = (int) v;
    }
    return cls;
  }

  /** The (weighted) cross-entropy of rows of class {@code cls} with row weights {@code w}. */
  private static Value crossEntropy(Graph g, Value z, String who, int[] cls, double[] w,
      String nothing) {
    int c = z.dim(-1);
    int rows = z.shape().size() / c;
    double count = sum(w, rows);
    checkArgument(count > 0, nothing);
    Storage zd = z.data();
    Storage p = Storage.allocate(z.dtype(), rows * c);
    double s = 0;
    for (int r = 0; r < rows; r++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < c; j++) {
        max = Math.max(max, zd.get(r * c + j));
      }
      double sum = 0;
      for (int j = 0; j < c; j++) {
        sum += Math.exp(zd.get(r * c + j) - max);
      }
      double logSum = max + Math.log(sum);
      for (int j = 0; j < c; j++) {
        p.set(r * c + j, Math.exp(zd.get(r * c + j) - logSum));
      }
      double wr = w == null ? 1 : w[r];
      if (wr != 0) {
        s += wr * (logSum - zd.get(r * c + cls[r]));
      }
    }
    Storage out = Storage.allocate(z.dtype(), 1);
    out.set(0, s / count);
    Value loss = g.result(Shape.of(), out, z);
    g.record(new Node(who) {
      @Override void backward() {
        Storage dl = loss.gradOrNull();
        if (dl == null || !z.requiresGrad()) {
          return;
        }
        double scale = dl.get(0) / count;
        Storage dz = z.grad();
        for (int r = 0; r < rows; r++) {
          double wr = w == null ? 1 : w[r];
          if (wr == 0) {
            continue;
          }
          for (int j = 0; j < c; j++) {
            int i = r * c + j;
            double d = p.get(i) - (j == cls[r] ? 1 : 0);
            dz.set(i, dz.get(i) + scale * wr * d);
          }
        }
      }
    });
    return loss;
  }

  /**
   * Binary cross-entropy of logits, torch's {@code binary_cross_entropy_with_logits} with a mean
   * reduction, weighted by row: per element {@code l = max(z, 0) - z y + log(1 + exp(-|z|))}
   * (which is {@code -y log sigmoid(z) - (1 - y) log(1 - sigmoid(z))}, computed without
   * overflow), {@code L = sum_{r,f} a_r l_{r,f} / (F * sum a)}.
   *
   * <pre>  dz = a (sigmoid(z) - y) / (F * sum a)</pre>
   *
   * @param g the graph recording the op
   * @param z the logits, {@code [T, N, F]} (or {@code [N, F]})
   * @param targets {@code y}, of the shape of {@code z}, each in {@code [0, 1]}
   * @param weights {@code a}, {@code [T, N]} (or {@code [N]}), {@code >= 0}, or null for all ones
   * @return {@code L}, one element
   * @throws IllegalArgumentException if shapes do not fit, a target is outside {@code [0, 1]}, a
   *     weight is negative or not finite, or every weight is 0
   */
  static Value binaryCrossEntropyWithLogits(Graph g, Value z, Tensor targets, Tensor weights) {
    String who = "binaryCrossEntropyWithLogits";
    checkArgument(targets.shape().equals(z.shape()), "%s expected targets of shape %s but got %s",
        who, z.shape(), targets.shape());
    int f = z.dim(-1);
    int rows = z.shape().size() / f;
    double[] a = rowWeights(who, z, weights, rows);
    double count = sum(a, rows);
    checkArgument(count > 0, "%s: every row weight is 0", who);
    double[] y = targets.toDoubleArray();
    for (int i = 0; i < y.length; i++) {
      checkArgument(y[i] >= 0 && y[i] <= 1, "%s expected targets in [0, 1] but element %s is %s",
          who, i, y[i]);
    }
    double denom = count * f;
    Storage zd = z.data();
    double s = 0;
    for (int r = 0; r < rows; r++) {
      double ar = a == null ? 1 : a[r];
      if (ar == 0) {
        continue;
      }
      double row = 0;
      for (int j = r * f; j < (r + 1) * f; j++) {
        double x = zd.get(j);
        row += Math.max(x, 0) - x * y[j] + Math.log1p(Math.exp(-Math.abs(x)));
      }
      s += ar * row;
    }
    Storage out = Storage.allocate(z.dtype(), 1);
    out.set(0, s / denom);
    Value loss = g.result(Shape.of(), out, z);
    g.record(new Node(who) {
      @Override void backward() {
        Storage dl = loss.gradOrNull();
        if (dl == null || !z.requiresGrad()) {
          return;
        }
        double scale = dl.get(0) / denom;
        Storage dz = z.grad();
        for (int r = 0; r < rows; r++) {
          double ar = a == null ? 1 : a[r];
          if (ar == 0) {
            continue;
          }
          for (int j = r * f; j < (r + 1) * f; j++) {
            double sig = 1 / (1 + Math.exp(-zd.get(j)));
            dz.set(j, dz.get(j) + scale * ar * (sig - y[j]));
          }
        }
      }
    });
    return loss;
  }

  /**
   * A loss of the user's, {@code fn}, over rows, reduced by the weighted mean: {@code L = sum_r
   * a_r fn.value(y_r, t_r) / sum a}; {@code dy_r = a_r fn.gradient(y_r, t_r) / sum a}. A row is
   * one step of one sequence: {@code y_r} its {@code F} outputs, {@code t_r} its targets, the
   * last dimension of {@code targets} (or one number, for targets of rank one less than {@code
   * y}, such as class indices).
   *
   * @param g the graph recording the op
   * @param y the prediction, {@code [T, N, F]} (or {@code [N, F]})
   * @param targets {@code [T, N, F_t]} (or {@code [N, F_t]}), or of rank one less: {@code [T, N]}
   * @param weights {@code a}, {@code [T, N]} (or {@code [N]}), {@code >= 0}, or null for all ones
   * @param fn the loss of one row and its gradient
   * @return {@code L}, one element
   * @throws IllegalArgumentException if shapes do not fit, a weight is negative or not finite,
   *     every weight is 0, or {@code fn} gives a gradient of another length than the row's
   */
  static Value loss(Graph g, Value y, Tensor targets, Tensor weights, LossFunction fn) {
    int f = y.dim(-1);
    int rows = y.shape().size() / f;
    String who = "loss";
    Shape lead = leadingShape(y.shape());
    boolean perFeature = targets.rank() == y.shape().rank()
        && leadingShape(targets.shape()).equals(lead);
    checkArgument(perFeature || targets.shape().equals(lead),
        "%s expected targets of shape %s or %s but got %s", who,
        lead.toString().replace("]", ", F_t]"), lead, targets.shape());
    int ft = perFeature ? targets.dim(-1) : 1;
    double[] a = rowWeights(who, y, weights, rows);
    double count = sum(a, rows);
    checkArgument(count > 0, "%s: every row weight is 0", who);
    double[] t = targets.toDoubleArray();
    Storage yd = y.data();
    double s = 0;
    for (int r = 0; r < rows; r++) {
      double ar = a == null ? 1 : a[r];
      if (ar != 0) {
        s += ar * fn.value(row(yd, r, f), java.util.Arrays.copyOfRange(t, r * ft, (r + 1) * ft));
      }
    }
    Storage out = Storage.allocate(y.dtype(), 1);
    out.set(0, s / count);
    Value loss = g.result(Shape.of(), out, y);
    g.record(new Node(who) {
      @Override void backward() {
        Storage dl = loss.gradOrNull();
        if (dl == null || !y.requiresGrad()) {
          return;
        }
        double scale = dl.get(0) / count;
        Storage dy = y.grad();
        for (int r = 0; r < rows; r++) {
          double ar = a == null ? 1 : a[r];
          if (ar == 0) {
            continue;
          }
          double[] d = fn.gradient(row(yd, r, f),
              java.util.Arrays.copyOfRange(t, r * ft, (r + 1) * ft));
          checkArgument(d != null && d.length == f,
              "%s expected a gradient of %s elements, one per output, but got %s", who, f,
              d == null ? null : d.length);
          for (int j = 0; j < f; j++) {
            dy.set(r * f + j, dy.get(r * f + j) + scale * ar * d[j]);
          }
        }
      }
    });
    return loss;
  }

  /** A copy of row {@code r} of {@code f} elements. */
  private static double[] row(Storage s, int r, int f) {
    double[] d = new double[f];
    for (int j = 0; j < f; j++) {
      d[j] = s.get(r * f + j);
    }
    return d;
  }

  /**
   * The sum of one-element losses, {@code L = sum_i L_i}, for objectives with several terms;
   * backward hands each term the gradient of the sum.
   *
   * @param g the graph recording the op
   * @param terms the one-element losses {@code L_i}
   * @return {@code L}, one element
   * @throws IllegalArgumentException if a term has more than one element, or there is none
   */
  static Value sum(Graph g, List<Value> terms) {
    checkArgument(!terms.isEmpty(), "sum expected at least one loss term");
    double s = 0;
    for (Value v : terms) {
      checkArgument(v.shape().size() == 1, "sum expected one-element loss terms but got %s",
          v.shape());
      s += v.data().get(0);
    }
    Storage out = Storage.allocate(terms.get(0).dtype(), 1);
    out.set(0, s);
    Value loss = g.result(Shape.of(), out, terms.toArray(new Value[0]));
    g.record(new Node("sum") {
      @Override void backward() {
        Storage dl = loss.gradOrNull();
        if (dl == null) {
          return;
        }
        for (Value v : terms) {
          if (v.requiresGrad()) {
            v.grad().set(0, v.grad().get(0) + dl.get(0));
          }
        }
      }
    });
    return loss;
  }

  private static Storage maskOf(Value y, Tensor mask, int rows) {
    if (mask == null) {
      return null;
    }
    checkArgument(mask.size() == rows && mask.rank() == y.shape().rank() - 1,
        "loss expected a mask of shape %s but got %s", leading(y.shape()), mask.shape());
    Storage m = Storage.allocate(dev.rnn.core.DType.FLOAT64, rows);
    for (int r = 0; r < rows; r++) {
      double v = mask.at(r);
      checkArgument(v == 0 || v == 1, "loss expected a mask of 0 and 1 but element %s is %s", r, (Object) v);
      m.set(r, v);
    }
    return m;
  }

  private static Shape leadingShape(Shape s) {
    return Shape.of(java.util.Arrays.copyOf(s.dims(), s.rank() - 1));
  }

  private static String leading(Shape s) {
    int[] d = s.dims();
    return Shape.of(java.util.Arrays.copyOf(d, d.length - 1)).toString();
  }
}
