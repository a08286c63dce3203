package dev.rnn.autograd;

import static com.google.common.base.Preconditions.checkArgument;

import dev.rnn.core.Lengths;
import dev.rnn.core.Shape;
import dev.rnn.core.Storage;
import dev.rnn.core.Tensor;

/**
 * An embedding lookup, torch's {@code nn.Embedding}: each integer id selects a row of the weight.
 *
 * <pre>
 *   y[..., :] = W[id, :]                          forward, one row per id
 *   dW[id, :] += dy[..., :]   for id != padding    backward: the rows used collect their gradients
 * </pre>
 *
 * <p>A padding id (torch's {@code padding_idx}) gets no gradient, so its row stays as it was
 * (zero, as initialised). With {@link Lengths}, the ids after a sequence's end are not read: their
 * rows of {@code y} are zero.
 *
 * <p>Shapes (V vocabulary, D dimension): ids {@code [...]} of whole numbers in {@code [0, V)}
 * ({@code [T, N]} with lengths); weight {@code [V, D]}; {@code y [..., D]}.
 *
 * <p>Package-private: callers outside this package use {@link Ops#embedding}.
 */
final class Embedding {
  private Embedding() {}

  static Value apply(Graph g, Tensor ids, Value weight, int paddingId, Lengths lengths) {
    checkArgument(weight.shape().rank() == 2, "embedding expected a weight [vocabulary, dim] but"
        + " got %s", weight.shape());
    int vocab = weight.dim(0);
    int dim = weight.dim(1);
    checkArgument(lengths == null || ids.rank() == 2 && ids.dim(1) == lengths.batch()
            && lengths.max() <= ids.dim(0),
        "embedding expected ids [seq, batch = %s] for the lengths %s but got %s",
        lengths == null ? 0 : lengths.batch(), lengths, ids.shape());
    int n = ids.size();
    int[] rows = new int[n];
    for (int i = 0; i < n; i++) {
      if (lengths != null && i / ids.dim(1) >= lengths.get(i % ids.dim(1))) {
        rows[i] = -1;  // padding after the sequence's end: not read
        continue;
      }
      double v = ids.at(i);
      if (!(v == Math.rint(v) && v >= 0 && v < vocab)) {
        int[] index = new int[ids.rank()];
        for (int d = ids.rank() - 1, rest = i; d >= 0; d--) {
          index[d] = rest % ids.dim(d);
          rest /= ids.dim(d);
        }
        throw new IllegalArgumentException("embedding expected ids in [0, " + vocab + ") but ids"
            + java.util.Arrays.toString(index) + " is " + v);
      }
      rows[i] = (int) v;
    }
    Storage y = Storage.allocate(weight.dtype(), n * dim);
    Storage w = weight.data();
    for (int i = 0; i < n; i++) {
      if (rows[i] >= 0) {
        y.copyFrom(w, rows[i] * dim, i * dim, dim);
      }
    }
    int[] dims = new int[ids.rank() + 1];
    System.arraycopy(ids.shape().dims(), 0, dims, 0, ids.rank());
    dims[ids.rank()] = dim;
    Value result = g.result(Shape.of(dims), y, weight);
    g.record(new Node("embedding") {
      @Override void backward() {
        Storage dy = result.gradOrNull();
        if (dy == null || !weight.requiresGrad()) {
          return;
        }
        Storage dw = weight.grad();
        for (int i = 0; i < n; i++) {
          if (rows[i] >= 0 && rows[i] != paddingId) {
            dw.axpy(dim, 1, dy, i * dim, rows[i] * dim);
          }
        }
      }
    });
    return result;
  }
}
