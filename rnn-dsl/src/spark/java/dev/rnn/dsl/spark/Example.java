package dev.rnn.dsl.spark;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.rnn.core.Tensor;
import java.io.Serializable;
import java.util.Arrays;

/**
 * One training sequence and its targets, as the partitions of a {@link SparkTrainer} hold them:
 * an immutable, serialisable value of primitive arrays.
 *
 * <p>Shapes (T steps, F_in input and F_out output features), example-major whatever the
 * network's layout, as in a data directory's shards:
 *
 * <pre>
 *   inputs    [T, F_in]
 *   targets   [T, F_out] values (MSE, BCE), [T] class ids (cross-entropy);
 *             for a network that ends in lastStep(): [F_out] or [] (one class id)
 *   length    the real steps, in [1, T]; the rest is padding (T without lengths)
 * </pre>
 *
 * <p>Every example of one training has the same {@code T}, {@code F_in} and target shape, and
 * either every example has a length or none does.
 */
public final class Example implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The inputs' shape, {@code [T, F_in]}. */
  private final int[] inputShape;
  /** The inputs, row-major. */
  private final double[] inputs;
  /** The targets' shape. */
  private final int[] targetShape;
  /** The targets, row-major. */
  private final double[] targets;
  /** The real steps, or 0 when the example has no length. */
  private final int length;

  private Example(int[] inputShape, double[] inputs, int[] targetShape, double[] targets,
      int length) {
    this.inputShape = inputShape;
    this.inputs = inputs;
    this.targetShape = targetShape;
    this.targets = targets;
    this.length = length;
  }

  /**
   * A sequence of all its {@code T} steps.
   *
   * @param inputs {@code [T, F_in]}
   * @param targets as the class comment's table
   * @return the example
   * @throws IllegalArgumentException if {@code inputs} is not {@code [T, F_in]}
   */
  public static Example of(Tensor inputs, Tensor targets) {
    return of(inputs, 0, targets);
  }

  /**
   * A sequence whose first {@code length} steps are real, the rest padding.
   *
   * @param inputs {@code [T, F_in]}, padded
   * @param length the real steps, in {@code [1, T]}, or 0 for all {@code T}
   * @param targets as the class comment's table
   * @return the example
   * @throws IllegalArgumentException if {@code inputs} is not {@code [T, F_in]} or the length is
   *     not in {@code [1, T]}
   */
  public static Example of(Tensor inputs, int length, Tensor targets) {
    checkNotNull(inputs, "Example expected inputs but got null");
    checkNotNull(targets, "Example expected targets but got null");
    checkArgument(inputs.rank() == 2, "Example expected inputs of shape [T, F_in] but got %s",
        inputs.shape());
    checkArgument(length == 0 || (length >= 1 && length <= inputs.dim(0)),
        "Example expected a length in [1, %s] (the steps of its inputs %s) but got %s",
        inputs.dim(0), inputs.shape(), length);
    return new Example(dims(inputs), values(inputs), dims(targets), values(targets), length);
  }

  private static int[] dims(Tensor t) {
    int[] d = new int[t.rank()];
    for (int i = 0; i < d.length; i++) {
      d[i] = t.dim(i);
    }
    return d;
  }

  private static double[] values(Tensor t) {
    double[] v = new double[t.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = t.at(i);
    }
    return v;
  }

  /** {@return the inputs, {@code [T, F_in]}, float64} */
  public Tensor inputs() {
    return Tensor.of(inputs.clone(), inputShape.clone());
  }

  /** {@return the targets, as given, float64} */
  public Tensor targets() {
    return Tensor.of(targets.clone(), targetShape.clone());
  }

  /** {@return the real steps, or 0 where the example has no length (all {@code T} are real)} */
  public int length() {
    return length;
  }

  /** {@return {@code T}, the steps of the inputs} */
  public int steps() {
    return inputShape[0];
  }

  /** {@return {@code F_in}} */
  public int features() {
    return inputShape[1];
  }

  /** What must agree across the examples of one training: shapes and whether there is a length. */
  String kind() {
    return "inputs " + Arrays.toString(inputShape) + ", targets " + Arrays.toString(targetShape)
        + (length == 0 ? ", no length" : ", with a length");
  }

  double[] inputValues() {
    return inputs;
  }

  double[] targetValues() {
    return targets;
  }

  int[] targetShape() {
    return targetShape;
  }

  @Override public boolean equals(Object o) {
    return o instanceof Example e && length == e.length && Arrays.equals(inputShape, e.inputShape)
        && Arrays.equals(inputs, e.inputs) && Arrays.equals(targetShape, e.targetShape)
        && Arrays.equals(targets, e.targets);
  }

  @Override public int hashCode() {
    return Arrays.hashCode(inputs) * 31 + Arrays.hashCode(targets) + length;
  }

  @Override public String toString() {
    return "Example(inputs " + Arrays.toString(inputShape) + ", targets "
        + Arrays.toString(targetShape) + (length == 0 ? "" : ", length " + length) + ")";
  }
}
