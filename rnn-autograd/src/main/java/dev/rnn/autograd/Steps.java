package dev.rnn.autograd;

import static com.google.common.base.Preconditions.checkArgument;

import dev.rnn.core.Lengths;
import dev.rnn.core.Shape;
import dev.rnn.core.Storage;

/**
 * Ops on the time axis of time-major sequences {@code [T, N, F]}: the last step, a slice of steps,
 * two sequences joined in time, and the batch-first/time-first swap; each method gives its
 * forward, its backward and its shapes.
 *
 * <p>Package-private: callers outside this package use {@link Ops#lastStep}, {@link Ops#slice},
 * {@link Ops#concatTime} and {@link Ops#swapBatchAndTime}.
 */
final class Steps {
  private Steps() {}

  /**
   * The output of the final time step, {@code [T, N, F] -> [N, F]}; backward puts {@code dy} at
   * step {@code T-1} and zeros elsewhere.
   *
   * @param g the graph recording the op
   * @param x the sequence, {@code [T, N, F]}
   * @return step {@code T-1}, {@code [N, F]}
   */
  static Value last(Graph g, Value x) {
    checkArgument(x.shape().rank() == 3, "lastStep expected [seq, batch, features] but got %s",
        x.shape());
    int t = x.dim(0);
    int n = x.dim(1) * x.dim(2);
    Storage y = Storage.allocate(x.dtype(), n);
    y.copyFrom(x.data(), (t - 1) * n, 0, n);
    Value result = g.result(Shape.of(x.dim(1), x.dim(2)), y, x);
    g.record(new Node("lastStep") {
      @Override void backward() {
        Storage dy = result.gradOrNull();
        if (dy != null && x.requiresGrad()) {
          x.grad().axpy(n, 1, dy, 0, (t - 1) * n);
        }
      }
    });
    return result;
  }

  /**
   * Each sequence's own last step, {@code [T, N, F] -> [N, F]}: {@code y[n] = x[length(n) - 1,
   * n]}; backward adds {@code dy[n]} at that step.
   *
   * @param g the graph recording the op
   * @param x the sequence, {@code [T, N, F]}
   * @param lengths the length of each sequence, in {@code [0, T]}: a sequence with no step (a
   *     finished one while streaming) gives a zero row
   * @return the last real steps, {@code [N, F]}
   */
  static Value lastOf(Graph g, Value x, Lengths lengths) {
    checkArgument(x.shape().rank() == 3, "lastStep expected [seq, batch, features] but got %s",
        x.shape());
    int seq = x.dim(0);
    int batch = x.dim(1);
    int f = x.dim(2);
    checkArgument(lengths.batch() == batch, "lastStep expected %s lengths (one per sequence) but"
        + " got %s", batch, lengths.batch());
    int[] at = new int[batch];
    for (int n = 0; n < batch; n++) {
      int len = lengths.get(n);
      checkArgument(len >= 0 && len <= seq, "lastStep expected lengths in [1, %s] but"
          + " lengths[%s] is %s", seq, n, len);
      at[n] = len == 0 ? -1 : ((len - 1) * batch + n) * f;
    }
    Storage y = Storage.allocate(x.dtype(), batch * f);
    for (int n = 0; n < batch; n++) {
      if (at[n] >= 0) {
        y.copyFrom(x.data(), at[n], n * f, f);
      }
    }
    Value result = g.result(Shape.of(batch, f), y, x);
    g.record(new Node("lastStep (each sequence's own)") {
      @Override void backward() {
        Storage dy = result.gradOrNull();
        if (dy != null && x.requiresGrad()) {
          for (int n = 0; n < batch; n++) {
            if (at[n] >= 0) {
              x.grad().axpy(f, 1, dy, n * f, at[n]);
            }
          }
        }
      }
    });
    return result;
  }

  /**
   * The padding set to zero by selection, {@code y[t, n] = t < length(n) ? x[t, n] : 0} (so a
   * NaN there does not reach {@code y}); backward adds {@code dy} at the real steps only.
   *
   * @param g the graph recording the op
   * @param x the sequence, {@code [T, N, F]}
   * @param lengths the length of each sequence, at most {@code T}
   * @return the sequence with zero padding, {@code [T, N, F]}
   */
  static Value zeroPadding(Graph g, Value x, Lengths lengths) {
    checkArgument(x.shape().rank() == 3 && lengths.batch() == x.dim(1)
            && lengths.max() <= x.dim(0),
        "zeroPadding expected [seq, batch, features] with batch = %s and seq >= %s but got %s",
        lengths.batch(), lengths.max(), x.shape());
    int seq = x.dim(0);
    int batch = x.dim(1);
    int f = x.dim(2);
    Storage y = Storage.allocate(x.dtype(), seq * batch * f);
    for (int t = 0; t < seq; t++) {
      for (int n = 0; n < batch; n++) {
        if (t < lengths.get(n)) {
          y.copyFrom(x.data(), (t * batch + n) * f, (t * batch + n) * f, f);
        }
      }
    }
    Value result = g.result(x.shape(), y, x);
    g.record(new Node("zero padding") {
      @Override void backward() {
        Storage dy = result.gradOrNull();
        if (dy != null && x.requiresGrad()) {
          for (int t = 0; t < seq; t++) {
            for (int n = 0; n < batch; n++) {
              if (t < lengths.get(n)) {
                x.grad().axpy(f, 1, dy, (t * batch + n) * f, (t * batch + n) * f);
              }
            }
          }
        }
      }
    });
    return result;
  }

  /**
   * The real steps packed, {@code [T, N, F] -> [R, F]} with {@code R = sum of the lengths}, in
   * torch's {@code PackedSequence.data} order (step by step, the running sequences longest first,
   * as {@link Lengths#pack}); backward scatters {@code dy} back to those steps.
   *
   * @param g the graph recording the op
   * @param x the sequence, {@code [T, N, F]}
   * @param lengths the length of each sequence, at most {@code T}
   * @return the packed rows, {@code [R, F]}
   */
  static Value pack(Graph g, Value x, Lengths lengths) {
    checkArgument(x.shape().rank() == 3 && lengths.batch() == x.dim(1)
            && lengths.max() <= x.dim(0),
        "pack expected [seq, batch, features] with batch = %s and seq >= %s but got %s",
        lengths.batch(), lengths.max(), x.shape());
    int batch = x.dim(1);
    int f = x.dim(2);
    int rows = (int) lengths.total();
    int[] at = new int[rows];
    for (int t = 0, r = 0; t < lengths.max(); t++) {
      for (int j = 0; j < lengths.active(t); j++, r++) {
        at[r] = (t * batch + lengths.order(j)) * f;
      }
    }
    Storage y = Storage.allocate(x.dtype(), rows * f);
    for (int r = 0; r < rows; r++) {
      y.copyFrom(x.data(), at[r], r * f, f);
    }
    Value result = g.result(Shape.of(rows, f), y, x);
    g.record(new Node("pack") {
      @Override void backward() {
        Storage dy = result.gradOrNull();
        if (dy != null && x.requiresGrad()) {
          for (int r = 0; r < rows; r++) {
            x.grad().axpy(f, 1, dy, r * f, at[r]);
          }
        }
      }
    });
    return result;
  }

  /**
   * Packed rows back into a padded sequence, {@code [R, F] -> [T, N, F]} with zeros after each
   * sequence's length (torch's {@code pad_packed_sequence(..., total_length=T)}); backward gathers
   * {@code dy} at the real steps.
   *
   * @param g the graph recording the op
   * @param packed the packed rows, {@code [R, F]} in {@link #pack}'s order
   * @param lengths the length of each sequence
   * @param seq {@code T}, at least the longest length
   * @return the padded sequence, {@code [T, N, F]}
   */
  static Value unpack(Graph g, Value packed, Lengths lengths, int seq) {
    int rows = (int) lengths.total();
    checkArgument(packed.shape().rank() == 2 && packed.dim(0) == rows && seq >= lengths.max(),
        "unpack expected [%s, features] packed rows and seq >= %s but got %s and seq %s", rows,
        lengths.max(), packed.shape(), seq);
    int batch = lengths.batch();
    int f = packed.dim(1);
    int[] at = new int[rows];
    for (int t = 0, r = 0; t < lengths.max(); t++) {
      for (int j = 0; j < lengths.active(t); j++, r++) {
        at[r] = (t * batch + lengths.order(j)) * f;
      }
    }
    Storage y = Storage.allocate(packed.dtype(), seq * batch * f);
    for (int r = 0; r < rows; r++) {
      y.copyFrom(packed.data(), r * f, at[r], f);
    }
    Value result = g.result(Shape.of(seq, batch, f), y, packed);
    g.record(new Node("unpack") {
      @Override void backward() {
        Storage dy = result.gradOrNull();
        if (dy != null && packed.requiresGrad()) {
          for (int r = 0; r < rows; r++) {
            packed.grad().axpy(f, 1, dy, at[r], r * f);
          }
        }
      }
    });
    return result;
  }

  /**
   * Swaps the first two dimensions, {@code [A, B, F] -> [B, A, F]}, and back in backward.
   *
   * @param g the graph recording the op
   * @param x the sequence, {@code [A, B, F]}
   * @return the sequence, {@code [B, A, F]}
   */
  static Value swapBatchAndTime(Graph g, Value x) {
    checkArgument(x.shape().rank() == 3, "expected a sequence of rank 3 but got %s", x.shape());
    int a = x.dim(0);
    int b = x.dim(1);
    int f = x.dim(2);
    Storage y = Storage.allocate(x.dtype(), a * b * f);
    swap(x.data(), y, a, b, f);
    Value result = g.result(Shape.of(b, a, f), y, x);
    if (!result.requiresGrad()) {
      return result; // nothing flows back: no node keeps x (a constant input) alive
    }
    g.record(new Node("transpose(0, 1)") {
      @Override void backward() {
        Storage dy = result.gradOrNull();
        if (dy != null && x.requiresGrad()) {
          Storage dx = x.grad();
          for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
              dx.axpy(f, 1, dy, (j * a + i) * f, (i * b + j) * f);
            }
          }
        }
      }
    });
    return result;
  }

  private static void swap(Storage src, Storage dst, int a, int b, int f) {
    for (int i = 0; i < a; i++) {
      for (int j = 0; j < b; j++) {
        dst.copyFrom(src, (i * b + j) * f, (j * a + i) * f, f);
      }
    }
  }

  /**
   * Steps {@code from <= t < to} of a time-major sequence, {@code [T, N, F] -> [to - from, N,
   * F]}; backward adds {@code dy} into those steps.
   *
   * @param g the graph recording the op
   * @param x the sequence, {@code [T, N, F]}
   * @param from the first step kept
   * @param to the step after the last one kept
   * @return the steps, {@code [to - from, N, F]}
   */
  static Value slice(Graph g, Value x, int from, int to) {
    checkArgument(x.shape().rank() == 3, "slice expected [seq, batch, features] but got %s",
        x.shape());
    checkArgument(0 <= from && from < to && to <= x.dim(0),
        "slice [%s, %s) out of bounds for %s steps", from, to, x.dim(0));
    if (from == 0 && to == x.dim(0)) {
      return x;
    }
    int n = x.dim(1) * x.dim(2);
    Storage y = Storage.allocate(x.dtype(), (to - from) * n);
    y.copyFrom(x.data(), from * n, 0, (to - from) * n);
    Value result = g.result(Shape.of(to - from, x.dim(1), x.dim(2)), y, x);
    g.record(new Node(() -> "steps [" + from + ", " + to + ")") {
      @Override void backward() {
        Storage dy = result.gradOrNull();
        if (dy != null && x.requiresGrad()) {
          x.grad().axpy((to - from) * n, 1, dy, 0, from * n);
        }
      }
    });
    return result;
  }

  /**
   * Joins time-major sequences along time, {@code [T1, N, F] + [T2, N, F] -> [T1 + T2, N, F]};
   * backward hands each its steps of {@code dy}.
   *
   * @param g the graph recording the op
   * @param a the earlier steps, {@code [T1, N, F]}
   * @param b the later steps, {@code [T2, N, F]}
   * @return the joined sequence, {@code [T1 + T2, N, F]}
   * @throws IllegalArgumentException if either is not of rank 3, or their batch or feature sizes
   *     differ
   */
  static Value concat(Graph g, Value a, Value b) {
    checkArgument(a.shape().rank() == 3 && b.shape().rank() == 3 && a.dim(1) == b.dim(1)
            && a.dim(2) == b.dim(2),
        "concat along time expected [seq, batch, features] with equal batch and features but got"
            + " %s and %s", a.shape(), b.shape());
    int na = a.shape().size();
    int nb = b.shape().size();
    Storage y = Storage.allocate(a.dtype(), na + nb);
    y.copyFrom(a.data(), 0, 0, na);
    y.copyFrom(b.data(), 0, na, nb);
    Value result = g.result(Shape.of(a.dim(0) + b.dim(0), a.dim(1), a.dim(2)), y, a, b);
    g.record(new Node("concat time") {
      @Override void backward() {
        Storage dy = result.gradOrNull();
        if (dy == null) {
          return;
        }
        if (a.requiresGrad()) {
          a.grad().axpy(na, 1, dy, 0, 0);
        }
        if (b.requiresGrad()) {
          b.grad().axpy(nb, 1, dy, na, 0);
        }
      }
    });
    return result;
  }
}
