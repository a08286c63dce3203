package dev.rnn.autograd;

import static com.google.common.base.Preconditions.checkArgument;

import dev.rnn.core.Storage;

/**
 * Elementwise ops on two values of one shape, or one value and a number, as a bidirectional
 * layer merges its directions by sum, product or average; each method gives its forward, its
 * backward and its shapes.
 *
 * <pre>
 *   add:      y = a + b         da += dy,      db += dy
 *   multiply: y = a * b         da += dy * b,  db += dy * a
 *   scale:    y = alpha * x     dx += alpha * dy
 * </pre>
 *
 * <p>Shapes: {@code a}, {@code b}, {@code x} and {@code y} have one shape, any shape.
 *
 * <p>Package-private: callers outside this package use {@link Ops#add}, {@link Ops#multiply} and
 * {@link Ops#scale}.
 */
final class Elementwise {
  private Elementwise() {}

  /** {@code y = a + b}. */
  static Value add(Graph g, Value a, Value b) {
    checkSameShape("add", a, b);
    int n = a.shape().size();
    Storage y = a.data().copy();
    y.axpy(n, 1, b.data(), 0, 0);
    Value result = g.result(a.shape(), y, a, b);
    g.record(new Node("add") {
      @Override void backward() {
        Storage dy = result.gradOrNull();
        if (dy == null) {
          return;
        }
        if (a.requiresGrad()) {
          a.grad().axpy(n, 1, dy, 0, 0);
        }
        if (b.requiresGrad()) {
          b.grad().axpy(n, 1, dy, 0, 0);
        }
      }
    });
    return result;
  }

  /** {@code y = a * b}, elementwise. */
  static Value multiply(Graph g, Value a, Value b) {
    checkSameShape("multiply", a, b);
    int n = a.shape().size();
    Storage y = Storage.allocate(a.dtype(), n);
    y.addcmul(0, n, 0, 1, a.data(), 0, b.data(), 0);
    Value result = g.result(a.shape(), y, a, b);
    g.record(new Node("multiply") {
      @Override void backward() {
        Storage dy = result.gradOrNull();
        if (dy == null) {
          return;
        }
        if (a.requiresGrad()) {
          a.grad().addcmul(0, n, 1, 1, dy, 0, b.data(), 0);
        }
        if (b.requiresGrad()) {
          b.grad().addcmul(0, n, 1, 1, dy, 0, a.data(), 0);
        }
      }
    });
    return result;
  }

  /** {@code y = alpha * x}. */
  static Value scale(Graph g, Value x, double alpha) {
    int n = x.shape().size();
    Storage y = x.data().copy();
    y.scale(0, n, alpha);
    Value result = g.result(x.shape(), y, x);
    g.record(new Node(() -> "scale(" + alpha + ")") {
      @Override void backward() {
        Storage dy = result.gradOrNull();
        if (dy != null && x.requiresGrad()) {
          x.grad().axpy(n, alpha, dy, 0, 0);
        }
      }
    });
    return result;
  }

  private static void checkSameShape(String op, Value a, Value b) {
    checkArgument(a.shape().equals(b.shape()), "%s expected two values of one shape but got %s"
        + " and %s", op, a.shape(), b.shape());
  }
}
