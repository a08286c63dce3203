package dev.rnn.autograd;

/**
 * A loss of one's own: its value on one row and its gradient, which {@link Ops#loss} (and the
 * DSL's trainer) averages over the rows that count, weighted as the built-in losses are.
 *
 * <p>A row is one step of one sequence: the network's {@code F} outputs {@code y} and that step's
 * targets {@code t} (the targets' last dimension, or one number such as a class index). The
 * arrays are copies, the implementation's to read; the gradient is a new array. For example, the
 * Huber loss with {@code delta = 1}:
 *
 * <pre>{@code
 * LossFunction huber = new LossFunction() {
 *   public double value(double[] y, double[] t) {
 *     double s = 0;
 *     for (int j = 0; j < y.length; j++) {
 *       double d = Math.abs(y[j] - t[j]);
 *       s += d < 1 ? d * d / 2 : d - 0.5;
 *     }
 *     return s / y.length;
 *   }
 *   public double[] gradient(double[] y, double[] t) {
 *     double[] g = new double[y.length];
 *     for (int j = 0; j < y.length; j++) {
 *       g[j] = Math.max(-1, Math.min(1, y[j] - t[j])) / y.length;
 *     }
 *     return g;
 *   }
 * };
 * }</pre>
 *
 * <p>The gradient is the implementation's responsibility: check it with {@link GradientCheck},
 * as this project's tests do. It must be stateless or thread-confined; the trainer calls it on
 * the training thread.
 */
public interface LossFunction {
  /**
   * The loss of one row, {@code l(y, t)}.
   *
   * @param prediction {@code y}, the {@code F} outputs of one step of one sequence
   * @param target {@code t}, that step's targets
   * @return {@code l(y, t)}
   */
  double value(double[] prediction, double[] target);

  /**
   * The gradient of {@link #value} with respect to the prediction, {@code dl/dy}.
   *
   * @param prediction {@code y}, the {@code F} outputs of one step of one sequence
   * @param target {@code t}, that step's targets
   * @return {@code dl/dy}, {@code F} elements
   */
  double[] gradient(double[] prediction, double[] target);
}
