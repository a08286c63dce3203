package dev.rnn.autograd.optim;

import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Shape;
import dev.rnn.core.Storage;
import dev.rnn.core.Tensor;
import java.util.List;

/**
 * The problem of the torch goldens: a weight {@code [2, 3]} and a bias {@code [3]} descending on
 * {@code L = sum(c / 2 * (theta - target)^2)}, whose gradient is {@code c * (theta - target)}.
 *
 * <p>The constants are those of the torch scripts in {@link OptimizerGoldenTest}; values are
 * listed weight first (row-major), then bias.
 */
final class Quadratic {
  static final double[] W0 = {0.5, -1.25, 2.0, -0.75, 1.5, 0.25};
  static final double[] B0 = {0.1, -0.2, 0.3};
  static final double[] CW = {1.0, 2.0, 0.5, 3.0, 0.25, 1.5};
  static final double[] TW = {0.2, 0.4, -0.6, 0.8, -1.0, 1.2};
  static final double[] CB = {2.0, 1.0, 0.5};
  static final double[] TB = {0.0, 0.5, -0.5};

  /** The names of the nine values, for assertion messages. */
  static final List<String> ELEMENTS = List.of("weight[0, 0]", "weight[0, 1]", "weight[0, 2]",
      "weight[1, 0]", "weight[1, 1]", "weight[1, 2]", "bias[0]", "bias[1]", "bias[2]");

  private Quadratic() {}

  /** A fresh weight and bias of {@code dtype} at the starting point, with zero gradients. */
  static List<Parameter> parameters(DType dtype) {
    return parameters(dtype, dtype);
  }

  /** A fresh weight and bias of these dtypes at the starting point, with zero gradients. */
  static List<Parameter> parameters(DType weightDtype, DType biasDtype) {
    Parameter weight = new Parameter("weight", Shape.of(2, 3), weightDtype);
    weight.set(Tensor.of(W0, 2, 3));
    Parameter bias = new Parameter("bias", Shape.of(3), biasDtype);
    bias.set(Tensor.of(B0, 3));
    return List.of(weight, bias);
  }

  /** Adds {@code c * (theta - target)} to the gradients, as a backward pass would. */
  static void backward(List<Parameter> params) {
    accumulate(params.get(0), CW, TW);
    accumulate(params.get(1), CB, TB);
  }

  /**
   * Takes {@code steps} steps of zeroGrad, backward, step; before step {@code k}, sets the
   * learning rate to {@code lrs[k]} unless {@code lrs} is null.
   */
  static void descend(Optimizer optimizer, int steps, double[] lrs) {
    for (int k = 0; k < steps; k++) {
      if (lrs != null) {
        optimizer.setLearningRate(lrs[k]);
      }
      optimizer.zeroGrad();
      backward(optimizer.parameters());
      optimizer.step();
    }
  }

  /** The nine values, weight then bias, widened to double. */
  static double[] values(List<Parameter> params) {
    return concat(params.get(0).data(), params.get(1).data());
  }

  /** The nine gradient elements, weight then bias, widened to double. */
  static double[] gradients(List<Parameter> params) {
    return concat(params.get(0).grad(), params.get(1).grad());
  }

  private static void accumulate(Parameter p, double[] c, double[] target) {
    Storage theta = p.data();
    Storage grad = p.grad();
    for (int i = 0; i < p.size(); i++) {
      grad.set(i, grad.get(i) + c[i] * (theta.get(i) - target[i]));
    }
  }

  private static double[] concat(Storage weight, Storage bias) {
    double[] out = new double[weight.length() + bias.length()];
    for (int i = 0; i < weight.length(); i++) {
      out[i] = weight.get(i);
    }
    for (int i = 0; i < bias.length(); i++) {
      out[weight.length() + i] = bias.get(i);
    }
    return out;
  }
}
