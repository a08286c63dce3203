package dev.rnn.autograd;

import static com.google.common.base.Preconditions.checkArgument;

import dev.rnn.core.Storage;
import java.util.Random;

/**
 * Inverted dropout: in training each element is kept with probability {@code 1 - p} and scaled by
 * {@code 1 / (1 - p)}, else zeroed; in inference it is the identity.
 *
 * <pre>
 *   y = x * m / (1 - p),  m ~ Bernoulli(1 - p)      dx += dy * m / (1 - p)
 * </pre>
 *
 * <p>Shapes: {@code x}, {@code m} and {@code y} have one shape, any shape.
 *
 * <p>Package-private: callers outside this package use {@link Ops#dropout}.
 */
final class Dropout {
  private Dropout() {}

  /**
   * Applies dropout with probability {@code p} and the mask drawn from {@code rnd}; the identity
   * when the graph does not record (inference) or {@code p == 0}.
   *
   * @param g the graph recording the op
   * @param p the probability that an element is zeroed
   * @param rnd the source of the mask
   * @param x the input, any shape
   * @return {@code y}, of the shape of {@code x} ({@code x} itself when dropout is the identity)
   * @throws IllegalArgumentException if {@code p} is not in {@code [0, 1)}
   */
  static Value apply(Graph g, double p, Random rnd, Value x) {
    checkArgument(p >= 0 && p < 1, "dropout(p) expected 0 <= p < 1 but got %s", p);
    if (!g.recording() || p == 0) {
      return x;
    }
    int n = x.shape().size();
    Storage mask = Storage.allocate(x.dtype(), n);
    double scale = 1 / (1 - p);
    for (int i = 0; i < n; i++) {
      mask.set(i, rnd.nextDouble() >= p ? scale : 0);
    }
    return masked(g, p, x, mask);
  }

  /**
   * Applies dropout with probability {@code p}, the mask of row {@code n} drawn from the graph's
   * {@code rowSeeds[n]}: {@code u = uniform(hash(rowSeeds[n], op, firstStep + t, f))} for an
   * element of step {@code t} ({@code -1} for {@code [N, F]}) and feature {@code f}, kept when
   * {@code u >= p}.
   *
   * @param x {@code [T, N, F]} or {@code [N, F]}
   */
  static Value applyPerRow(Graph g, double p, long op, int firstStep, Value x) {
    checkArgument(p >= 0 && p < 1, "dropout(p) expected 0 <= p < 1 but got %s", p);
    if (!g.recording() || p == 0) {
      return x;
    }
    long[] seeds = g.rowSeeds();
    checkArgument(seeds != null, "dropoutPerRow expected a graph with row seeds"
        + " (Graph.trainingPerRow) but got one without");
    int rank = x.shape().rank();
    checkArgument(rank == 2 || rank == 3, "dropoutPerRow expected x of shape [T, N, F] or [N, F]"
        + " but got %s", x.shape());
    int steps = rank == 3 ? x.dim(0) : 1;
    int rows = x.dim(rank - 2);
    int f = x.dim(rank - 1);
    checkArgument(rows == seeds.length, "dropoutPerRow expected %s rows (one per row seed) but x"
        + " is %s", seeds.length, x.shape());
    Storage mask = Storage.allocate(x.dtype(), x.shape().size());
    double scale = 1 / (1 - p);
    for (int t = 0; t < steps; t++) {
      long step = rank == 3 ? firstStep + t : -1;
      for (int r = 0; r < rows; r++) {
        long base = mix(mix(mix(seeds[r]) + op) + step);
        int at = (t * rows + r) * f;
        for (int j = 0; j < f; j++) {
          double u = (mix(base + j) >>> 11) * 0x1.0p-53;
          mask.set(at + j, u >= p ? scale : 0);
        }
      }
    }
    return masked(g, p, x, mask);
  }

  /** SplitMix64's step and finalizer: equal inputs give equal outputs, near ones unrelated. */
  private static long mix(long v) {
    long z = v + 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** {@code y = x * mask}, recorded with its backward {@code dx += dy * mask}. */
  private static Value masked(Graph g, double p, Value x, Storage mask) {
    int n = x.shape().size();
    Storage y = Storage.allocate(x.dtype(), n);
    for (int i = 0; i < n; i++) {
      y.set(i, x.data().get(i) * mask.get(i));
    }
    Value result = g.result(x.shape(), y, x);
    g.record(new Node(() -> "dropout(" + p + ")") {
      @Override void backward() {
        Storage dy = result.gradOrNull();
        if (dy == null || !x.requiresGrad()) {
          return;
        }
        Storage dx = x.grad();
        for (int i = 0; i < n; i++) {
          dx.set(i, dx.get(i) + dy.get(i) * mask.get(i));
        }
      }
    });
    return result;
  }
}
