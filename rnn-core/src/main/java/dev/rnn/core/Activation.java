package dev.rnn.core;

/**
 * A pointwise nonlinearity with its derivative written in terms of its output, so that backward
 * needs only what forward produced.
 *
 * <p>{@code y = f(x)} and {@code dx = dy * f'(x)} where {@code f'(x) = g(y)}.
 */
public enum Activation {
  /** {@code y = tanh(x)}, {@code f' = 1 - y^2}. */
  TANH("tanh"),
  /** {@code y = max(0, x)}, {@code f' = [y > 0]}. */
  RELU("relu"),
  /** {@code y = 1 / (1 + exp(-x))}, {@code f' = y (1 - y)}. */
  SIGMOID("sigmoid"),
  /** {@code y = x}, {@code f' = 1}. */
  IDENTITY("identity");

  private final String label;

  Activation(String label) {
    this.label = label;
  }

  /** The lower-case name, as written in descriptions: {@code tanh}, {@code relu}, ... */
  public String label() {
    return label;
  }

  /** {@code f(x)}. */
  public double apply(double x) {
    switch (this) {
      case TANH:
        return Math.tanh(x);
      case RELU:
        return x > 0 ? x : 0;
      case SIGMOID:
        return sigmoid(x);
      default:
        return x;
    }
  }

  /** {@code f'(x)} from {@code y = f(x)}. */
  public double derivativeFromOutput(double y) {
    switch (this) {
      case TANH:
        return 1 - y * y;
      case RELU:
        return y > 0 ? 1 : 0;
      case SIGMOID:
        return y * (1 - y);
      default:
        return 1;
    }
  }

  /** {@code y = f(x)} in place over {@code n} elements from {@code off}. */
  public void applyInPlace(Storage s, int off, int n) {
    if (this == IDENTITY) {
      return;
    }
    if (s instanceof Storage.F32) {
      float[] a = ((Storage.F32) s).a;
      for (int i = off; i < off + n; i++) {
        a[i] = (float) apply(a[i]);
      }
    } else {
      double[] a = ((Storage.F64) s).a;
      for (int i = off; i < off + n; i++) {
        a[i] = apply(a[i]);
      }
    }
  }

  /** {@code sigmoid(x) = 1 / (1 + exp(-x))}, stable for large negative x. */
  static double sigmoid(double x) {
    return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
  }

  /** {@code sigmoid(x)} in float. */
  static float sigmoid(float x) {
    return (float) sigmoid((double) x);
  }
}
