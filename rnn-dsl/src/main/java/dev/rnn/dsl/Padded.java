package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.rnn.core.Shape;
import dev.rnn.core.Storage;
import dev.rnn.core.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Sequences of different lengths padded into one time-major batch, and their lengths: how a list
 * of sequences enters {@link Network#forward(List, State)} and the {@link Trainer}.
 *
 * <pre>
 *   sequences [T_n, ...]  -&gt;  batch [T, N, ...] with T = max T_n, zeros after each T_n;  lengths T_n
 * </pre>
 *
 * @param timeMajor the padded batch, {@code [T, N, ...]}
 * @param lengths {@code T_n}, one per sequence
 */
record Padded(Tensor timeMajor, int[] lengths) {

  /** {@return the batch in a network's layout: {@code [N, T, ...]} if batch-first} */
  Tensor in(boolean batchFirst) {
    return batchFirst ? timeMajor.transpose(0, 1) : timeMajor;
  }

  /**
   * Pads {@code sequences}, each {@code [T_n, features]} with {@code T_n >= 1}.
   *
   * @param who the caller, for messages, e.g. {@code forward}
   * @param sequences the sequences, at least one
   * @param features the features of each step
   * @param layer the layer that reads them, for messages
   * @param what the argument's name, e.g. {@code sequences}
   * @throws IllegalArgumentException naming the first sequence that is not {@code [T_n,
   *     features]}
   */
  static Padded of(String who, List<Tensor> sequences, int features, String layer, String what) {
    checkNotNull(sequences, "%s expected %s but got null", who, what);
    checkArgument(!sequences.isEmpty(), "%s expected at least one sequence in %s but got none",
        who, what);
    int[] lengths = new int[sequences.size()];
    for (int n = 0; n < lengths.length; n++) {
      Tensor s = checkNotNull(sequences.get(n), "%s: %s[%s] is null", who, what, n);
      checkArgument(s.rank() == 2 && s.dim(1) == features && s.dim(0) >= 1,
          "%s expected %s of shape [seq, %s] with seq >= 1 (the input of %s) but %s[%s] has"
              + " shape %s", who, what, features, layer, what, n, s.shape());
      lengths[n] = s.dim(0);
    }
    return new Padded(pad(sequences, Arrays.stream(lengths).max().orElseThrow()), lengths);
  }

  /**
   * The parts, each {@code [T_n, rest...]}, as one time-major {@code [seq, N, rest...]} with zeros
   * after each part's steps; in the dtype of the first part.
   *
   * @throws IllegalArgumentException if the parts differ in a dimension after the first
   */
  static Tensor pad(List<Tensor> parts, int seq) {
    Tensor first = parts.get(0);
    int[] rest = Arrays.copyOfRange(first.shape().dims(), 1, first.rank());
    int width = 1;
    for (int d : rest) {
      width *= d;
    }
    int batch = parts.size();
    Storage out = Storage.allocate(first.dtype(), seq * batch * width);
    for (int n = 0; n < batch; n++) {
      Tensor p = parts.get(n).to(first.dtype());
      checkArgument(Arrays.equals(Arrays.copyOfRange(p.shape().dims(), 1, p.rank()), rest),
          "sequence %s has shape %s but sequence 0 has %s: every step must have one shape", n,
          p.shape(), first.shape());
      Storage data = p.copyStorage();
      for (int t = 0; t < p.dim(0); t++) {
        out.copyFrom(data, t * width, (t * batch + n) * width, width);
      }
    }
    int[] dims = new int[rest.length + 2];
    dims[0] = seq;
    dims[1] = batch;
    System.arraycopy(rest, 0, dims, 2, rest.length);
    return Tensor.copyOf(out, Shape.of(dims));
  }
}
