package dev.rnn.autograd;

import com.google.common.base.Strings;
import dev.rnn.core.Shape;
import dev.rnn.core.Storage;

/**
 * The dense (fully connected) op on the last dimension: {@code y = x W^T + b}.
 *
 * <pre>
 *   forward:  Y = X W^T + b          X [R, in] (all leading dimensions flattened), W [out, in]
 *   backward: dX += dY W,  dW += dY^T X,  db += colsum(dY)      one gemm each
 * </pre>
 *
 * <p>{@code X W^T} and {@code dY W} multiply many rows by one weight: {@link Storage#gemmRows}
 * runs them on the native kernels, with {@code W} packed once per call, where they run.
 *
 * <p>Shapes: {@code x [..., in]}, {@code W [out, in]}, {@code b [out]}, {@code y [..., out]}.
 *
 * <p>Package-private: callers outside this package use {@link Ops#linear}.
 */
final class Linear {
  private Linear() {}

  /**
   * {@code x W^T + b} over the last dimension of {@code x}; {@code b} may be null.
   *
   * @param g the graph recording the op
   * @param x the input, {@code [..., F_in]}
   * @param w the weight {@code W}, {@code [F_out, F_in]}
   * @param b the bias, {@code [F_out]}, or null
   * @return {@code y}, {@code [..., F_out]}
   * @throws IllegalArgumentException if {@code x}'s last dimension differs from {@code W}'s
   *     columns, naming both shapes
   */
  static Value apply(Graph g, Value x, Value w, Value b) {
    int in = w.dim(1);
    int out = w.dim(0);
    if (x.dim(-1) != in) {
      throw new IllegalArgumentException(Strings.lenientFormat(
          "dense(%s, %s) expected input with last dimension %s but got %s", in, out, in,
          x.shape()));
    }
    int rows = x.shape().size() / in;
    int[] dims = x.shape().dims();
    dims[dims.length - 1] = out;
    Storage y = Storage.allocate(x.dtype(), rows * out);
    if (b != null) {
      y.setRows(0, rows, out, b.data(), 0);
    }
    y.gemmRows(true, rows, out, in, x.data(), 0, w.data(), b == null ? 0 : 1, 0);
    Value result = g.result(Shape.of(dims), y, x, w, b);
    // The label is made when shown: building it on every call costs a tiny model's step more
    // than its arithmetic while the JVM still interprets.
    g.record(new Node(() -> "dense(" + in + ", " + out + ")") {
      @Override void backward() {
        Storage dy = result.gradOrNull();
        if (dy == null) {
          return;
        }
        if (x.requiresGrad()) {
          x.grad().gemmRows(false, rows, in, out, dy, 0, w.data(), 1, 0);
        }
        if (w.requiresGrad()) {
          w.grad().gemm(true, false, out, in, rows, 1, dy, 0, out, x.data(), 0, in, 1, 0, in);
        }
        if (b != null && b.requiresGrad()) {
          b.grad().addColumnSums(dy, 0, rows, out, 0);
        }
      }
    });
    return result;
  }
}
