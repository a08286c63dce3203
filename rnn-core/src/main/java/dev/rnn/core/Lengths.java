package dev.rnn.core;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * The lengths of the sequences of a batch, sorted once: what a {@link Scan} reads to run each
 * sequence over its own steps only, as torch's {@code pack_padded_sequence(...,
 * enforce_sorted=False)} does.
 *
 * <p>Sequence {@code n} of a time-major batch {@code [T, N, F]} is real at steps {@code t <
 * length(n)}; the steps after it are padding, which a scan never reads. The sequences sorted by
 * length, longest first ({@link #order}, stable), make the sequences still running at step {@code
 * t} the first {@link #active(int) active(t)} of that order, so a step computes a block of
 * contiguous rows that shrinks as sequences end:
 *
 * <pre>
 *   order    = the sequence indices sorted by length, longest first (ties in index order)
 *   active(t) = #{n : length(n) &gt; t}       non-increasing in t; the running sequences at step t
 *                                          are order[0 .. active(t))
 * </pre>
 *
 * <p>A length may be 0 (a sequence with no step in this call: a window of truncated BPTT after
 * its end, or a finished sequence while streaming): its final state is its initial state. The
 * public entry points of the network ask for {@code 1 <= length <= T}, as torch does.
 *
 * <p>Immutable; one value serves every layer and direction of a forward pass.
 */
public final class Lengths {
  private final int[] lengths;
  private final int[] order;
  private final int[] active;

  private Lengths(int[] lengths, int[] order) {
    this.lengths = lengths;
    this.order = order;
    int max = lengths.length == 0 ? 0 : lengths[order[0]];
    this.active = new int[max];
    for (int j = 0, t = max; j <= lengths.length; j++) {
      int len = j < lengths.length ? lengths[order[j]] : 0;
      for (; t > len; t--) {
        active[t - 1] = j;
      }
    }
  }

  /**
   * The lengths of a batch's sequences, in batch order.
   *
   * @param lengths the steps of each sequence, {@code >= 0}
   * @return the lengths, sorted once
   * @throws IllegalArgumentException if there is no sequence or a length is negative
   */
  public static Lengths of(int... lengths) {
    checkNotNull(lengths, "lengths");
    checkArgument(lengths.length >= 1, "lengths expected at least one sequence but got none");
    for (int n = 0; n < lengths.length; n++) {
      checkArgument(lengths[n] >= 0, "lengths expected every length >= 0 but lengths[%s] is %s",
          n, lengths[n]);
    }
    int[] copy = lengths.clone();
    int[] order = IntStream.range(0, copy.length).boxed()
        .sorted(Comparator.comparingInt((Integer n) -> -copy[n]))
        .mapToInt(Integer::intValue).toArray();
    return new Lengths(copy, order);
  }

  /**
   * The lengths a whole number tensor holds, e.g. torch's {@code lengths} ({@code I64}).
   *
   * @param t a vector of whole numbers {@code >= 0}
   * @return the lengths
   * @throws IllegalArgumentException if {@code t} is not a non-empty vector of whole numbers
   *     {@code >= 0}
   */
  public static Lengths of(Tensor t) {
    checkArgument(t.rank() == 1 && t.size() >= 1, "lengths expected a vector [batch] but got %s",
        t.shape());
    int[] a = new int[t.size()];
    for (int n = 0; n < a.length; n++) {
      double v = t.at(n);
      checkArgument(v == Math.rint(v) && v >= 0 && v <= Integer.MAX_VALUE,
          "lengths expected whole numbers >= 0 but lengths[%s] is %s", n, (Object) v);
      a[n] = (int) v;
    }
    return of(a);
  }

  /**
   * The lengths of steps {@code [start, start + steps)} of these sequences, as a window of
   * truncated BPTT sees them: {@code min(max(length - start, 0), steps)} each. The order stays
   * valid (clamping keeps it sorted), so nothing is sorted again.
   *
   * @param start the window's first step
   * @param steps the window's steps
   * @return the lengths within the window
   * @throws IllegalArgumentException if {@code start < 0} or {@code steps < 1}
   */
  public Lengths window(int start, int steps) {
    checkArgument(start >= 0 && steps >= 1,
        "lengths window expected start >= 0 and steps >= 1 but got %s and %s", start, steps);
    int[] w = new int[lengths.length];
    for (int n = 0; n < w.length; n++) {
      w[n] = Math.min(Math.max(lengths[n] - start, 0), steps);
    }
    return new Lengths(w, order);
  }

  /**
   * {@code N}.
   *
   * @return the number of sequences
   */
  public int batch() {
    return lengths.length;
  }

  /**
   * The length of sequence {@code n}.
   *
   * @param n the sequence, in batch order
   * @return its steps
   */
  public int get(int n) {
    return lengths[n];
  }

  /** {@return the longest length} */
  public int max() {
    return active.length;
  }

  /** {@return the sum of the lengths: the real steps of the batch} */
  public long total() {
    long s = 0;
    for (int len : lengths) {
      s += len;
    }
    return s;
  }

  /**
   * The sequence at position {@code j} of the order, longest first.
   *
   * @param j the position, {@code 0 <= j < N}
   * @return the sequence's index in the batch
   */
  public int order(int j) {
    return order[j];
  }

  /**
   * How many sequences are still running at step {@code t}: those of {@code length > t}, the
   * first ones of {@link #order}.
   *
   * @param t the step, {@code >= 0}
   * @return {@code #{n : length(n) > t}}; 0 from {@link #max()} on
   */
  public int active(int t) {
    return t < active.length ? active[t] : 0;
  }

  /**
   * Whether every sequence has exactly {@code seq} steps: a dense batch, which needs no lengths.
   *
   * @param seq {@code T}
   * @return true if every length is {@code seq}
   */
  public boolean allEqual(int seq) {
    for (int len : lengths) {
      if (len != seq) {
        return false;
      }
    }
    return true;
  }

  /** {@return the lengths, in batch order, as a new array} */
  public int[] toArray() {
    return lengths.clone();
  }

  /**
   * The mask of the real steps, {@code m[t, n] = 1} if {@code t < length(n)} else 0, as a loss
   * takes it.
   *
   * @param dtype the dtype of the mask
   * @param seq {@code T}, at least the longest length
   * @param batchFirst whether the mask is {@code [N, T]} rather than {@code [T, N]}
   * @return the mask
   * @throws IllegalArgumentException if a length exceeds {@code seq}
   */
  public Tensor mask(DType dtype, int seq, boolean batchFirst) {
    checkArgument(max() <= seq, "lengths %s do not fit %s steps", this, seq);
    int n = lengths.length;
    Storage m = Storage.allocate(dtype, seq * n);
    for (int i = 0; i < n; i++) {
      for (int t = 0; t < lengths[i]; t++) {
        m.set(batchFirst ? i * seq + t : t * n + i, 1);
      }
    }
    return Tensor.adopt(m, batchFirst ? Shape.of(n, seq) : Shape.of(seq, n));
  }

  /**
   * The real steps of a time-major batch, packed as torch's {@code PackedSequence.data}: step by
   * step, the sequences running at that step, longest first ({@link #order}).
   *
   * <pre>
   *   packed[row] = x[t, order(j)]  for t = 0.., j &lt; active(t), row counting up from 0
   * </pre>
   *
   * @param x the batch, {@code [T, N, ...]} with {@code T >= max()}
   * @return the real rows, {@code [total(), ...]}
   * @throws IllegalArgumentException if {@code x} is not {@code [T, N, ...]} for these lengths
   */
  public Tensor pack(Tensor x) {
    checkArgument(x.rank() >= 2 && x.dim(1) == lengths.length && x.dim(0) >= max(),
        "pack expected [seq >= %s, batch = %s, ...] but got %s", max(), lengths.length, x.shape());
    int[] dims = x.shape().dims();
    int width = x.size() / (dims[0] * dims[1]);
    Storage src = x.copyStorage();
    Storage out = Storage.allocate(x.dtype(), (int) total() * width);
    int row = 0;
    for (int t = 0; t < max(); t++) {
      for (int j = 0; j < active(t); j++, row++) {
        out.copyFrom(src, (t * lengths.length + order[j]) * width, row * width, width);
      }
    }
    int[] packed = dims.clone();
    packed = Arrays.copyOfRange(packed, 1, packed.length);
    packed[0] = (int) total();
    return Tensor.adopt(out, Shape.of(packed));
  }

  @Override public boolean equals(Object o) {
    return o instanceof Lengths l && Arrays.equals(l.lengths, lengths);
  }

  @Override public int hashCode() {
    return Arrays.hashCode(lengths);
  }

  /** {@return the lengths in batch order, e.g. {@code [3, 1, 2]}} */
  @Override public String toString() {
    return Arrays.toString(lengths);
  }
}
