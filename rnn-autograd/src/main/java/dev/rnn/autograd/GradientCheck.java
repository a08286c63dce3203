package dev.rnn.autograd;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableList;
import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleSupplier;

/**
 * Checks analytic gradients against central differences in float64:
 * {@code dL/dθ_i ≈ (L(θ + ε e_i) - L(θ - ε e_i)) / 2ε} for every element of every parameter.
 *
 * <p>Anything to be checked (weights, an input sequence, h0) is held in a {@link Parameter} and
 * entered into the graph with {@link Graph#parameter}, so that its gradient lands in the
 * parameter. Used by the tests for every op, every cell, multi-layer, bidirectional, with h0,
 * with masks and with truncated BPTT.
 */
public final class GradientCheck {
  private final double epsilon;
  private final double absoluteTolerance;
  private final double relativeTolerance;

  private GradientCheck(double epsilon, double absoluteTolerance, double relativeTolerance) {
    this.epsilon = epsilon;
    this.absoluteTolerance = absoluteTolerance;
    this.relativeTolerance = relativeTolerance;
  }

  /**
   * ε = 1e-6, passing when {@code |analytic - numeric| <= 1e-7 + 1e-6 |numeric|}.
   *
   * @return the default check
   */
  public static GradientCheck defaults() {
    return new GradientCheck(1e-6, 1e-7, 1e-6);
  }

  /**
   * The same check with other tolerances.
   *
   * @param absolute the absolute tolerance
   * @param relative the tolerance relative to {@code |numeric|}
   * @return a new check
   */
  public GradientCheck withTolerances(double absolute, double relative) {
    return new GradientCheck(epsilon, absolute, relative);
  }

  /**
   * One element whose gradients disagree.
   *
   * @param parameter the parameter's name
   * @param index the flat element index
   * @param analytic the gradient backward computed
   * @param numeric the central difference
   */
  public record Mismatch(String parameter, int index, double analytic, double numeric) {
    @Override public String toString() {
      return parameter + "[" + index + "]: analytic " + analytic + " but numeric " + numeric;
    }
  }

  /**
   * The outcome of a check.
   *
   * @param checked how many elements were compared
   * @param mismatches those outside tolerance
   */
  public record Report(int checked, ImmutableList<Mismatch> mismatches) {
    /** {@return whether every element agreed} */
    public boolean passed() {
      return mismatches.isEmpty() && checked > 0;
    }

    @Override public String toString() {
      return passed() ? checked + " gradients agree"
          : mismatches.size() + " of " + checked + " gradients disagree, first "
              + mismatches.get(0);
    }
  }

  /**
   * Zeroes the gradients, runs {@code backward} (which must add {@code dL/dθ} to the parameters'
   * gradients), then compares each element with the central difference of {@code loss}.
   *
   * @param parameters the float64 parameters checked
   * @param loss computes the loss from the parameters' current values
   * @param backward adds the analytic gradients to the parameters
   * @return the number of elements checked and the mismatches
   * @throws IllegalArgumentException if a parameter is not float64
   */
  public Report check(List<Parameter> parameters, DoubleSupplier loss, Runnable backward) {
    for (Parameter p : parameters) {
      checkArgument(p.dtype() == DType.FLOAT64,
          "gradient check expected float64 parameters but %s is %s", p.name(), p.dtype());
      p.zeroGrad();
    }
    backward.run();
    List<Mismatch> bad = new ArrayList<>();
    int n = 0;
    for (Parameter p : parameters) {
      for (int i = 0; i < p.size(); i++) {
        double v = p.data().get(i);
        p.data().set(i, v + epsilon);
        double up = loss.getAsDouble();
        p.data().set(i, v - epsilon);
        double down = loss.getAsDouble();
        p.data().set(i, v);
        double numeric = (up - down) / (2 * epsilon);
        double analytic = p.grad().get(i);
        n++;
        if (!(Math.abs(analytic - numeric)
            <= absoluteTolerance + relativeTolerance * Math.abs(numeric))) {
          bad.add(new Mismatch(p.name(), i, analytic, numeric));
        }
      }
    }
    return new Report(n, ImmutableList.copyOf(bad));
  }
}
