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
    Storage y = Storage.allocate(x.dtype(), n);
    for (int i = 0; i < n; i++) {
      y.set(i, x.data().get(i) * mask.get(i));
    }
    Value result = g.result(x.shape(), y, x);
    g.record(new Node("dropout(" + p + ")") {
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
