package dev.rnn.autograd;

import com.google.common.collect.ImmutableList;
import dev.rnn.core.Activation;
import dev.rnn.core.Lengths;
import dev.rnn.core.Scan;
import dev.rnn.core.Stack;
import dev.rnn.core.Tensor;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;

/**
 * The differentiable ops of a {@link Graph}, in the spirit of {@code torch.nn.functional}: each
 * computes its forward and, when the graph records, a node whose backward adds the gradients of
 * its inputs. Each op's forward and backward sit side by side in one small package-private class
 * ({@code Linear}, {@code Activate}, {@code Concat}, {@code Elementwise}, {@code Dropout}, {@code
 * Broadcast}, {@code Steps}, {@code Embedding}, {@code ScanOp}, {@code StackOp}, {@code Loss}); this
 * class is their one public door.
 *
 * <p>Shapes (T steps, N batch, F features; {@code ...} any leading dimensions): sequences are
 * time-major, {@code [T, N, F]}; recurrent states are {@code [N, H]} each; losses are one element.
 */
public final class Ops {
  private Ops() {}

  // ---- dense, pointwise, joining ---------------------------------------------------------------

  /**
   * The dense (fully connected) op on the last dimension, {@code y = x W^T + b}; backward
   * {@code dx += dy W}, {@code dW += dy^T x}, {@code db += colsum(dy)}.
   *
   * @param g the graph recording the op
   * @param x the input, {@code [..., F_in]}
   * @param w the weight {@code W}, {@code [F_out, F_in]}
   * @param b the bias, {@code [F_out]}, or null for none
   * @return {@code y}, {@code [..., F_out]}
   * @throws IllegalArgumentException if {@code x}'s last dimension is not {@code F_in}
   */
  public static Value linear(Graph g, Value x, Value w, Value b) {
    return Linear.apply(g, x, w, b);
  }

  /**
   * A pointwise activation outside any recurrence, {@code y = f(x)}; backward {@code dx += dy
   * f'(x)}.
   *
   * @param g the graph recording the op
   * @param f the nonlinearity
   * @param x the input, any shape
   * @return {@code y}, of the shape of {@code x}
   */
  public static Value activate(Graph g, Activation f, Value x) {
    return Activate.apply(g, f, x);
  }

  /**
   * Concatenation along the last dimension, {@code y = [a, b, ...]}, as a bidirectional layer
   * joins its directions; backward hands each part its columns of {@code dy}.
   *
   * @param g the graph recording the op
   * @param parts the values joined, {@code [..., F_i]}, equal in every other dimension
   * @return {@code y}, {@code [..., sum_i F_i]}
   * @throws IllegalArgumentException if the parts differ in another dimension, or there is none
   */
  public static Value concat(Graph g, List<Value> parts) {
    return Concat.apply(g, parts);
  }

  /**
   * An embedding lookup, torch's {@code nn.Embedding(V, D, padding_idx)}: {@code y[...] =
   * W[id]}; backward {@code dW[id] += dy} for every id but the padding id, whose row gets no
   * gradient.
   *
   * @param g the graph recording the op
   * @param ids whole numbers in {@code [0, V)}, any shape ({@code [T, N]} with lengths)
   * @param weight {@code W}, {@code [V, D]}
   * @param paddingId the id whose row gets no gradient, or -1 for none
   * @param lengths the length of each sequence (the ids after it are not read and give zero
   *     rows), or null for all of them
   * @return {@code y}, {@code [..., D]}
   * @throws IllegalArgumentException if an id read is not a whole number in {@code [0, V)}, or a
   *     shape does not fit
   */
  public static Value embedding(Graph g, Tensor ids, Value weight, int paddingId,
      Lengths lengths) {
    return Embedding.apply(g, ids, weight, paddingId, lengths);
  }

  /**
   * Elementwise sum, {@code y = a + b}, as a bidirectional layer merged by sum joins its
   * directions; backward {@code da += dy}, {@code db += dy}.
   *
   * @param g the graph recording the op
   * @param a the first summand, any shape
   * @param b the second summand, of the shape of {@code a}
   * @return {@code y}, of the shape of {@code a}
   * @throws IllegalArgumentException if the shapes differ
   */
  public static Value add(Graph g, Value a, Value b) {
    return Elementwise.add(g, a, b);
  }

  /**
   * Elementwise product, {@code y = a * b}; backward {@code da += dy * b}, {@code db += dy * a}.
   *
   * @param g the graph recording the op
   * @param a the first factor, any shape
   * @param b the second factor, of the shape of {@code a}
   * @return {@code y}, of the shape of {@code a}
   * @throws IllegalArgumentException if the shapes differ
   */
  public static Value multiply(Graph g, Value a, Value b) {
    return Elementwise.multiply(g, a, b);
  }

  /**
   * A value times a number, {@code y = alpha * x}; backward {@code dx += alpha * dy}.
   *
   * @param g the graph recording the op
   * @param x the value, any shape
   * @param alpha the factor
   * @return {@code y}, of the shape of {@code x}
   */
  public static Value scale(Graph g, Value x, double alpha) {
    return Elementwise.scale(g, x, alpha);
  }

  /**
   * Inverted dropout, {@code y = x m / (1 - p)} with {@code m ~ Bernoulli(1 - p)} in training and
   * the identity in inference; backward {@code dx += dy m / (1 - p)}.
   *
   * @param g the graph recording the op; one that does not record makes this the identity
   * @param p the probability that an element is zeroed, in {@code [0, 1)}
   * @param rnd the source of the mask {@code m}
   * @param x the input, any shape
   * @return {@code y}, of the shape of {@code x} ({@code x} itself when dropout is the identity)
   * @throws IllegalArgumentException if {@code p} is not in {@code [0, 1)}
   */
  public static Value dropout(Graph g, double p, Random rnd, Value x) {
    return Dropout.apply(g, p, rnd, x);
  }

  /**
   * Inverted dropout as {@link #dropout(Graph, double, Random, Value)}, with the mask of each
   * batch row drawn from that row's seed ({@link Graph#rowSeeds()}): {@code m[t, n, f] = (u >= p)}
   * with {@code u} uniform in {@code [0, 1)} a hash of {@code (rowSeeds[n], op, firstStep + t,
   * f)}, so that a sequence's mask does not depend on the other rows of its batch.
   *
   * <p>Shapes: {@code x} is {@code [T, N, F]} (a sequence, time-major) or {@code [N, F]}.
   *
   * @param g a graph made by {@link Graph#trainingPerRow}; one that does not record makes this
   *     the identity
   * @param p the probability that an element is zeroed, in {@code [0, 1)}
   * @param op which dropout of the model this is, mixed into the hash
   * @param firstStep the step of the whole sequence that {@code x}'s first step is
   * @param x the input
   * @return {@code y}, of the shape of {@code x} ({@code x} itself when dropout is the identity)
   * @throws IllegalArgumentException if {@code p} is not in {@code [0, 1)}, the graph has no row
   *     seeds, or {@code x}'s rows are not its seeds' number
   */
  public static Value dropoutPerRow(Graph g, double p, long op, int firstStep, Value x) {
    return Dropout.applyPerRow(g, p, op, firstStep, x);
  }

  /**
   * A vector repeated as every row of a matrix, {@code y[n] = v}, as a learned initial state is
   * given to every sequence of a batch; backward {@code dv += sum_n dy[n]}.
   *
   * @param g the graph recording the op
   * @param v the row, {@code [F]}
   * @param rows {@code N}, at least 1
   * @return {@code y}, {@code [N, F]}
   * @throws IllegalArgumentException if {@code v} is not a vector or {@code rows < 1}
   */
  public static Value broadcastRows(Graph g, Value v, int rows) {
    return Broadcast.rows(g, v, rows);
  }

  // ---- the time axis ---------------------------------------------------------------------------

  /**
   * The final step of a sequence, {@code y = x[T-1]}; backward adds {@code dy} at step {@code
   * T-1}.
   *
   * @param g the graph recording the op
   * @param x the sequence, {@code [T, N, F]}
   * @return {@code y}, {@code [N, F]}
   * @throws IllegalArgumentException if {@code x} is not of rank 3
   */
  public static Value lastStep(Graph g, Value x) {
    return Steps.last(g, x);
  }

  /**
   * Each sequence's own last real step, {@code y[n] = x[length(n) - 1, n]}, as torch's {@code
   * output[lengths - 1, arange(N)]} after {@code pad_packed_sequence}; backward adds {@code dy[n]}
   * at that step.
   *
   * @param g the graph recording the op
   * @param x the sequence, {@code [T, N, F]}
   * @param lengths the length of each sequence, in {@code [1, T]}; null for {@code T} each (then
   *     this is {@link #lastStep(Graph, Value)})
   * @return {@code y}, {@code [N, F]}
   * @throws IllegalArgumentException if {@code x} is not of rank 3, or a length is not in {@code
   *     [1, T]}
   */
  public static Value lastStep(Graph g, Value x, Lengths lengths) {
    return lengths == null ? Steps.last(g, x) : Steps.lastOf(g, x, lengths);
  }

  /**
   * The real steps of a padded sequence packed into rows, as torch's {@code
   * pack_padded_sequence(x, lengths, enforce_sorted=False).data}: step by step, the sequences
   * still running, longest first ({@link Lengths#pack} packs a target the same way); backward
   * scatters {@code dy} back. A head and a loss on the packed rows do no work on the padding.
   *
   * @param g the graph recording the op
   * @param x the sequence, {@code [T, N, F]}
   * @param lengths the length of each sequence, at most {@code T}
   * @return the packed rows, {@code [R, F]}, {@code R} the sum of the lengths
   * @throws IllegalArgumentException if {@code x} is not of rank 3 or the lengths do not fit it
   */
  public static Value pack(Graph g, Value x, Lengths lengths) {
    return Steps.pack(g, x, lengths);
  }

  /**
   * Packed rows back into a padded sequence, as torch's {@code pad_packed_sequence(...,
   * total_length=T)}: zeros after each sequence's length; backward gathers {@code dy} at the real
   * steps.
   *
   * @param g the graph recording the op
   * @param packed the rows {@link #pack} gives, {@code [R, F]}
   * @param lengths the length of each sequence
   * @param seq {@code T}, at least the longest length
   * @return the padded sequence, {@code [T, N, F]}
   * @throws IllegalArgumentException if {@code packed} does not have one row per real step
   */
  public static Value unpack(Graph g, Value packed, Lengths lengths, int seq) {
    return Steps.unpack(g, packed, lengths, seq);
  }

  /**
   * The steps after each sequence's length set to zero, {@code y[t, n] = t < length(n) ? x[t, n]
   * : 0}, by selection (a NaN in the padding does not reach {@code y}); backward {@code dx[t, n]
   * += dy[t, n]} at the real steps only.
   *
   * @param g the graph recording the op
   * @param x the sequence, {@code [T, N, F]}
   * @param lengths the length of each sequence, at most {@code T}; null for {@code T} each (then
   *     {@code y} is {@code x})
   * @return {@code y}, {@code [T, N, F]}
   * @throws IllegalArgumentException if {@code x} is not of rank 3 or the lengths do not fit it
   */
  public static Value zeroPadding(Graph g, Value x, Lengths lengths) {
    return lengths == null ? x : Steps.zeroPadding(g, x, lengths);
  }

  /**
   * Steps {@code from <= t < to} of a sequence, {@code y = x[from:to]}; backward adds {@code dy}
   * into those steps.
   *
   * @param g the graph recording the op
   * @param x the sequence, {@code [T, N, F]}
   * @param from the first step kept
   * @param to the step after the last one kept
   * @return {@code y}, {@code [to - from, N, F]} ({@code x} itself for all of it)
   * @throws IllegalArgumentException if {@code x} is not of rank 3 or the range is empty or out
   *     of bounds
   */
  public static Value slice(Graph g, Value x, int from, int to) {
    return Steps.slice(g, x, from, to);
  }

  /**
   * Two sequences joined in time, {@code y = [a; b]}; backward hands each its steps of {@code
   * dy}.
   *
   * @param g the graph recording the op
   * @param a the earlier steps, {@code [T1, N, F]}
   * @param b the later steps, {@code [T2, N, F]}
   * @return {@code y}, {@code [T1 + T2, N, F]}
   * @throws IllegalArgumentException if either is not of rank 3, or their {@code N} or {@code F}
   *     differ
   */
  public static Value concatTime(Graph g, Value a, Value b) {
    return Steps.concat(g, a, b);
  }

  /**
   * The first two dimensions swapped, {@code y[j, i] = x[i, j]}, between batch-first and
   * time-major; backward swaps {@code dy} back.
   *
   * @param g the graph recording the op
   * @param x the sequence, {@code [A, B, F]}
   * @return {@code y}, {@code [B, A, F]}
   * @throws IllegalArgumentException if {@code x} is not of rank 3
   */
  public static Value swapBatchAndTime(Graph g, Value x) {
    return Steps.swapBatchAndTime(g, x);
  }

  // ---- recurrences -----------------------------------------------------------------------------

  /**
   * The output sequence and final states of a scan, or of a stack of scans.
   *
   * @param output every step's {@code h_t} (a stack's top layer's, directions joined), {@code
   *     [T, N, D * H]}
   * @param finalStates {@code h_T} (and {@code c_T}), {@code [N, H]} each; for a stack, slot by
   *     slot ({@code l * D + d}), each slot's in the cell's order
   */
  public record ScanResult(Value output, ImmutableList<Value> finalStates) {}

  /**
   * One direction of a recurrent layer over a sequence, {@code h_t = cell(x_t, h_{t-1})} for
   * every step (from the last for a reverse scan), recorded as one node per step; backward is
   * the same loop run in reverse, accumulating the weight gradients across steps.
   *
   * @param g the graph recording the op
   * @param scan the cell and its weights, which receive the gradients
   * @param label names the layer in graphs and in the gradient-flow report, e.g. {@code layer 0}
   * @param x the input, {@code [T, N, H_in]}
   * @param init the initial states, {@code [N, H]} each, or null (or null entries) for zeros
   * @param firstStep the index of {@code x}'s first step in the whole sequence: 0, or the start
   *     of a window of truncated BPTT; step labels and {@link GradientFlow} times count from it
   * @return the output {@code [T, N, H]} and the final states
   * @throws IllegalArgumentException if the shape of {@code x} or of an initial state does not fit
   */
  public static ScanResult scan(Graph g, Scan scan, String label, Value x, List<Value> init,
      int firstStep) {
    return ScanOp.apply(g, scan, label, x, init, firstStep, null);
  }

  /**
   * As {@link #scan(Graph, Scan, String, Value, List, int)}, each sequence over its own steps:
   * sequence {@code n} runs over {@code t < length(n)} (the reverse direction from its own last
   * step), its output after that is zero, its final state is the one after its last step, and the
   * input after its length is never read and gets no gradient (torch's packed sequences).
   *
   * @param g the graph recording the op
   * @param scan the cell and its weights, which receive the gradients
   * @param label names the layer in graphs and in the gradient-flow report
   * @param x the input, {@code [T, N, H_in]}
   * @param init the initial states, {@code [N, stateSize(k)]} each, or null (or null entries) for
   *     zeros
   * @param firstStep the index of {@code x}'s first step in the whole sequence
   * @param lengths the length of each sequence, at most {@code T} (0 for one that does not run
   *     in this window), or null for {@code T} each
   * @return the output {@code [T, N, P]} and the final states
   * @throws IllegalArgumentException if the shape of {@code x}, of an initial state or of the
   *     lengths does not fit
   */
  public static ScanResult scan(Graph g, Scan scan, String label, Value x, List<Value> init,
      int firstStep, Lengths lengths) {
    return ScanOp.apply(g, scan, label, x, init, firstStep, lengths);
  }

  /**
   * Torch's multi-layer (bidirectional) recurrence over a sequence, {@code y_{l+1} =
   * [scan_l(y_l), reverse scan_l(y_l)]} from {@code y_0 = x}; backward runs each scan's in reverse.
   *
   * @param g the graph recording the ops
   * @param stack the stack, whose parameters receive the gradients
   * @param x the input, {@code [T, N, H_in]}
   * @param init the initial states flat, slot by slot ({@code l * D + d}), each slot's {@code h}
   *     (then {@code c}), {@code [N, H]} each; null for zeros
   * @param firstStep the index of {@code x}'s first step in the whole sequence, as for {@link
   *     #scan}
   * @return the output {@code [T, N, D * H]} and the final states, in the order of {@code init}
   * @throws IllegalArgumentException if the shape of {@code x} or of an initial state does not fit
   */
  public static ScanResult stack(Graph g, Stack stack, Value x, List<Value> init, int firstStep) {
    return StackOp.apply(g, stack, x, init, firstStep, null);
  }

  /**
   * As {@link #stack(Graph, Stack, Value, List, int)}, each sequence over its own steps (see
   * {@link #scan(Graph, Scan, String, Value, List, int, Lengths)}).
   *
   * @param g the graph recording the ops
   * @param stack the stack, whose parameters receive the gradients
   * @param x the input, {@code [T, N, H_in]}
   * @param init the initial states flat, slot by slot; null for zeros
   * @param firstStep the index of {@code x}'s first step in the whole sequence
   * @param lengths the length of each sequence, or null for {@code T} each
   * @return the output {@code [T, N, D * P]} and the final states, in the order of {@code init}
   * @throws IllegalArgumentException if a shape does not fit
   */
  public static ScanResult stack(Graph g, Stack stack, Value x, List<Value> init, int firstStep,
      Lengths lengths) {
    return StackOp.apply(g, stack, x, init, firstStep, lengths);
  }

  /**
   * {@link #pack} of {@link #stack(Graph, Stack, Value, List, int, Lengths)}'s output, as torch's
   * {@code lstm(pack_padded_sequence(x, lengths, enforce_sorted=False)).data}: the packed rows of
   * the real steps, for a head or loss on them only. A one-direction stack's last layer gives its
   * packed rows itself, no padded output built, zeroed and gathered: unrecorded (inference) it
   * writes them straight into the packed output; recorded (training) it copies them from its
   * states and its backward reads each step's rows of the packed gradient (no zeroed padded
   * gradient). A bidirectional stack is {@code pack(stack(...))}. Same bits either way.
   *
   * @param g the graph recording the ops
   * @param stack the stack, whose parameters receive the gradients
   * @param x the input, {@code [T, N, H_in]}
   * @param init the initial states flat, slot by slot; null for zeros
   * @param firstStep the index of {@code x}'s first step in the whole sequence
   * @param lengths the length of each sequence, at most {@code T}
   * @return the packed output {@code [R, D * P]} ({@code R} the sum of the lengths, in {@link
   *     #pack}'s order) and the final states, in the order of {@code init}
   * @throws IllegalArgumentException if a shape does not fit
   */
  public static ScanResult packedStack(Graph g, Stack stack, Value x, List<Value> init,
      int firstStep, Lengths lengths) {
    return StackOp.applyPacked(g, stack, x, init, firstStep, lengths);
  }

  // ---- losses ----------------------------------------------------------------------------------

  /**
   * Mean squared error over the steps the mask counts, {@code L = sum m (y - target)^2 / (F sum
   * m)}; backward {@code dy = 2 m (y - target) / (F sum m)}.
   *
   * @param g the graph recording the op
   * @param y the prediction, {@code [T, N, F]} (or {@code [N, F]})
   * @param target the target, of the shape of {@code y}
   * @param mask {@code m}, {@code [T, N]} (or {@code [N]}) of 0 and 1, or null for all ones
   * @return {@code L}, one element
   * @throws IllegalArgumentException if shapes do not fit, or the mask selects nothing
   */
  public static Value mse(Graph g, Value y, Tensor target, Tensor mask) {
    return Loss.mse(g, y, target, mask);
  }

  /**
   * Cross-entropy from logits with class-index targets, {@code L = -sum m log softmax(z)[c] / sum
   * m}; backward {@code dz = m (softmax(z) - onehot(c)) / sum m}.
   *
   * @param g the graph recording the op
   * @param z the logits, {@code [T, N, C]} (or {@code [N, C]})
   * @param targets the class indices {@code c}, {@code [T, N]} (or {@code [N]}), in {@code [0, C)}
   * @param mask {@code m}, {@code [T, N]} (or {@code [N]}) of 0 and 1, or null for all ones
   * @return {@code L}, one element
   * @throws IllegalArgumentException if shapes do not fit, a target is not a class index, or the
   *     mask selects nothing
   */
  public static Value crossEntropy(Graph g, Value z, Tensor targets, Tensor mask) {
    return Loss.crossEntropy(g, z, targets, mask);
  }

  /**
   * Mean squared error weighted by row, {@code L = sum a (y - target)^2 / (F sum a)}; backward
   * {@code dy = 2 a (y - target) / (F sum a)}. With 0/1 weights it is {@link #mse} with that mask.
   *
   * @param g the graph recording the op
   * @param y the prediction, {@code [T, N, F]} (or {@code [N, F]})
   * @param target the target, of the shape of {@code y}
   * @param weights {@code a}, {@code [T, N]} (or {@code [N]}), {@code >= 0}, or null for all ones
   * @return {@code L}, one element
   * @throws IllegalArgumentException if shapes do not fit, a weight is negative or not finite, or
   *     every weight is 0
   */
  public static Value weightedMse(Graph g, Value y, Tensor target, Tensor weights) {
    return Loss.weightedMse(g, y, target, weights);
  }

  /**
   * Cross-entropy from logits weighted by row and by class, torch's {@code cross_entropy(z, c,
   * weight=w, ignore_index=i)} (mean reduction) with row weights: {@code L = sum a w[c] (
   * logsumexp(z) - z[c]) / sum a w[c]}, rows whose target is {@code ignoreIndex} left out;
   * backward {@code dz = a w[c] (softmax(z) - onehot(c)) / sum a w[c]}.
   *
   * @param g the graph recording the op
   * @param z the logits, {@code [T, N, C]} (or {@code [N, C]})
   * @param targets the class indices {@code c}, {@code [T, N]} (or {@code [N]}), in {@code [0,
   *     C)} or {@code ignoreIndex}
   * @param weights {@code a}, of the targets' shape, {@code >= 0}, or null for all ones
   * @param classWeights {@code w}, {@code [C]}, {@code >= 0}, or null for all ones
   * @param ignoreIndex the target whose rows count for nothing (torch's {@code ignore_index}), or
   *     empty for none
   * @return {@code L}, one element
   * @throws IllegalArgumentException if shapes do not fit, a target is neither a class index nor
   *     the ignored one, a weight is negative or not finite, or nothing is left to average
   */
  public static Value weightedCrossEntropy(Graph g, Value z, Tensor targets, Tensor weights,
      Tensor classWeights, OptionalInt ignoreIndex) {
    return Loss.weightedCrossEntropy(g, z, targets, weights, classWeights, ignoreIndex);
  }

  /**
   * Binary cross-entropy of logits, torch's {@code binary_cross_entropy_with_logits} (mean
   * reduction) with row weights: {@code l = max(z, 0) - z y + log(1 + exp(-|z|))} per element,
   * {@code L = sum a l / (F sum a)}; backward {@code dz = a (sigmoid(z) - y) / (F sum a)}.
   *
   * @param g the graph recording the op
   * @param z the logits, {@code [T, N, F]} (or {@code [N, F]}), one per independent binary
   *     output
   * @param targets {@code y}, of the shape of {@code z}, in {@code [0, 1]}
   * @param weights {@code a}, {@code [T, N]} (or {@code [N]}), {@code >= 0}, or null for all ones
   * @return {@code L}, one element
   * @throws IllegalArgumentException if shapes do not fit, a target is outside {@code [0, 1]}, a
   *     weight is negative or not finite, or every weight is 0
   */
  public static Value binaryCrossEntropyWithLogits(Graph g, Value z, Tensor targets,
      Tensor weights) {
    return Loss.binaryCrossEntropyWithLogits(g, z, targets, weights);
  }

  /**
   * A user's loss over rows (one step of one sequence each), averaged with row weights: {@code L
   * = sum a fn.value(y_r, t_r) / sum a}; backward {@code dy_r = a_r fn.gradient(y_r, t_r) / sum
   * a}.
   *
   * @param g the graph recording the op
   * @param y the prediction, {@code [T, N, F]} (or {@code [N, F]})
   * @param targets {@code [T, N, F_t]} (or {@code [N, F_t]}), or {@code [T, N]} (or {@code [N]})
   *     for one number per row
   * @param weights {@code a}, {@code [T, N]} (or {@code [N]}), {@code >= 0}, or null for all ones
   * @param fn the loss of one row and its gradient
   * @return {@code L}, one element
   * @throws IllegalArgumentException if shapes do not fit, a weight is negative or not finite,
   *     every weight is 0, or {@code fn}'s gradient has another length than the row
   */
  public static Value loss(Graph g, Value y, Tensor targets, Tensor weights, LossFunction fn) {
    return Loss.loss(g, y, targets, weights, fn);
  }

  /**
   * The sum of one-element losses, {@code L = sum_i L_i}, for objectives with several terms;
   * backward hands each term {@code dL}.
   *
   * @param g the graph recording the op
   * @param terms the losses {@code L_i}, one element each
   * @return {@code L}, one element
   * @throws IllegalArgumentException if a term has more than one element, or there is none
   */
  public static Value sum(Graph g, List<Value> terms) {
    return Loss.sum(g, terms);
  }
}
