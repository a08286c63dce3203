package dev.rnn.autograd;

import dev.rnn.core.Activation;
import dev.rnn.core.Storage;

/**
 * A pointwise activation outside any recurrence: {@code y = f(x)}, {@code dx += dy * f'(x)} with
 * {@code f'} computed from {@code y} (see {@link Activation}).
 *
 * <p>Shapes: {@code x} and {@code y} have one shape, any shape.
 *
 * <p>Package-private: callers outside this package use {@link Ops#activate}.
 */
final class Activate {
  private Activate() {}

  /**
   * {@code f(x)} elementwise.
   *
   * @param g the graph recording the op
   * @param f the nonlinearity
   * @param x the input, any shape
   * @return {@code y = f(x)}, of the shape of {@code x}
   */
  static Value apply(Graph g, Activation f, Value x) {
    int n = x.shape().size();
    Storage y = x.data().copy();
    f.applyInPlace(y, 0, n);
    Value result = g.result(x.shape(), y, x);
    g.record(new Node(f.label()) {
      @Override void backward() {
        Storage dy = result.gradOrNull();
        if (dy == null || !x.requiresGrad()) {
          return;
        }
        f.addGradient(y, dy, x.grad(), n);
      }
    });
    return result;
  }
}
