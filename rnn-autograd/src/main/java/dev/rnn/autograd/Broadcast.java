package dev.rnn.autograd;

import static com.google.common.base.Preconditions.checkArgument;

import dev.rnn.core.Shape;
import dev.rnn.core.Storage;

/**
 * Repeats a vector as every row of a matrix, as a learnable initial state is given to every
 * sequence of a batch: {@code y[n] = v} for {@code n < N}; backward sums the rows,
 * {@code dv += sum_n dy[n]}.
 *
 * <p>Shapes (N rows, F features): {@code v [F]}, {@code y [N, F]}.
 *
 * <p>Package-private: callers outside this package use {@link Ops#broadcastRows}.
 */
final class Broadcast {
  private Broadcast() {}

  /**
   * {@code [F] -> [N, F]}.
   *
   * @param g the graph recording the op
   * @param v the row, {@code [F]}
   * @param n {@code N}, the number of rows
   * @return {@code v} repeated, {@code [N, F]}; backward sums the rows' gradients
   */
  static Value rows(Graph g, Value v, int n) {
    checkArgument(v.shape().rank() == 1, "broadcast expected a vector but got %s", v.shape());
    checkArgument(n >= 1, "broadcast expected at least one row but got %s", n);
    int f = v.dim(0);
    Storage y = Storage.allocate(v.dtype(), n * f);
    y.setRows(0, n, f, v.data(), 0);
    Value result = g.result(Shape.of(n, f), y, v);
    g.record(new Node("broadcast") {
      @Override void backward() {
        Storage dy = result.gradOrNull();
        if (dy != null && v.requiresGrad()) {
          v.grad().addColumnSums(dy, 0, n, f, 0);
        }
      }
    });
    return result;
  }
}
