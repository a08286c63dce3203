package dev.rnn.autograd;

import static com.google.common.base.Preconditions.checkArgument;

import dev.rnn.core.Shape;
import dev.rnn.core.Storage;
import dev.rnn.core.Tensor;
import java.util.List;

/**
 * Losses over sequences, each with an optional mask of the time steps that count (for padded
 * variable-length sequences), reduced by the mean over what counts.
 *
 * <p>Shapes: predictions {@code [T, N, F]} (or {@code [N, F]} for one step per sequence); mask
 * {@code [T, N]} of 0/1 (or {@code [N]}), null for all ones.
 *
 * <p>Package-private: callers outside this package use {@link Ops#mse}, {@link
 * Ops#crossEntropy} and {@link Ops#sum}.
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
    int f = y.dim(-1);
    int rows = y.shape().size() / f;
    Storage m = maskOf(y, mask, rows);
    double count = m == null ? rows : m.sum(0, rows);
    checkArgument(count > 0, "mse: the mask selects no time step");
    double denom = count * f;
    Storage t = target.to(y.dtype()).copyStorage();
    Storage yd = y.data();
    double[] w = weights(m, rows);
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
    Storage m = maskOf(z, mask, rows);
    double count = m == null ? rows : m.sum(0, rows);
    checkArgument(count > 0, "crossEntropy: the mask selects no time step");
    int[] cls = new int[rows];
    for (int r = 0; r < rows; r++) {
      double v = targets.at(r);
      checkArgument(v == Math.rint(v) && v >= 0 && v < c,
          "crossEntropy expected class indices in [0, %s) but target %s is %s", c, r, v);
      cls[r] = (int) v;
    }
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
      double w = m == null ? 1 : m.get(r);
      s += w * (logSum - zd.get(r * c + cls[r]));
    }
    Storage out = Storage.allocate(z.dtype(), 1);
    out.set(0, s / count);
    Value loss = g.result(Shape.of(), out, z);
    g.record(new Node("crossEntropy") {
      @Override void backward() {
        Storage dl = loss.gradOrNull();
        if (dl == null || !z.requiresGrad()) {
          return;
        }
        double scale = dl.get(0) / count;
        Storage dz = z.grad();
        for (int r = 0; r < rows; r++) {
          double w = m == null ? 1 : m.get(r);
          if (w == 0) {
            continue;
          }
          for (int j = 0; j < c; j++) {
            int i = r * c + j;
            double d = p.get(i) - (j == cls[r] ? 1 : 0);
            dz.set(i, dz.get(i) + scale * w * d);
          }
        }
      }
    });
    return loss;
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

  private static String leading(Shape s) {
    int[] d = s.dims();
    return Shape.of(java.util.Arrays.copyOf(d, d.length - 1)).toString();
  }
}
