package dev.rnn.autograd;

import static com.google.common.base.Preconditions.checkArgument;

import dev.rnn.core.Shape;
import dev.rnn.core.Storage;
import java.util.List;

/**
 * Concatenation along the last dimension, as a bidirectional layer joins its two directions:
 * {@code y = [a, b]}; backward hands each part its columns of {@code dy}.
 *
 * <p>Shapes: parts {@code [..., F_i]}, equal in every other dimension; {@code y [..., sum_i F_i]}.
 *
 * <p>Package-private: callers outside this package use {@link Ops#concat}.
 */
final class Concat {
  private Concat() {}

  /**
   * {@code [parts...]} along the last dimension; all other dimensions must agree.
   *
   * @param g the graph recording the op
   * @param parts the values joined, in order
   * @return the joined value, whose last dimension is the sum of theirs
   * @throws IllegalArgumentException if they do not, naming the shapes
   */
  static Value apply(Graph g, List<Value> parts) {
    checkArgument(!parts.isEmpty(), "concat expected at least one value");
    Value first = parts.get(0);
    int rows = first.shape().size() / first.dim(-1);
    int width = 0;
    for (Value v : parts) {
      checkArgument(v.shape().size() / v.dim(-1) == rows && v.shape().rank() == first.shape().rank(),
          "concat expected shapes that differ only in the last dimension but got %s and %s",
          first.shape(), v.shape());
      width += v.dim(-1);
    }
    int[] dims = first.shape().dims();
    dims[dims.length - 1] = width;
    Storage y = Storage.allocate(first.dtype(), rows * width);
    int at = 0;
    for (Value v : parts) {
      y.copyBlock(v.data(), 0, v.dim(-1), at, width, rows, v.dim(-1));
      at += v.dim(-1);
    }
    final int w = width;
    Value result = g.result(Shape.of(dims), y, parts.toArray(new Value[0]));
    g.record(new Node("concat") {
      @Override void backward() {
        Storage dy = result.gradOrNull();
        if (dy == null) {
          return;
        }
        int col = 0;
        for (Value v : parts) {
          int c = v.dim(-1);
          if (v.requiresGrad()) {
            Storage dv = v.grad();
            for (int r = 0; r < rows; r++) {
              dv.axpy(c, 1, dy, r * w + col, r * c);
            }
          }
          col += c;
        }
      }
    });
    return result;
  }
}
