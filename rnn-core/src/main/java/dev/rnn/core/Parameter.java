package dev.rnn.core;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Random;

/**
 * A named, trainable array with its gradient: the one mutable value of a model, changed only by
 * loading, by optimizers and by backward passes (which add to {@link #grad()}).
 *
 * <p>Names are torch's ({@code weight_ih_l0}, {@code bias_hh_l1_reverse}, ...), so that weights
 * move between this library and torch by name.
 */
public final class Parameter {
  private final String name;
  private final Shape shape;
  private final Storage data;
  private final Storage grad;

  /**
   * A zero-filled parameter.
   *
   * @param name the torch name, e.g. {@code weight_ih_l0}
   * @param shape the shape
   * @param dtype the dtype of value and gradient
   */
  public Parameter(String name, Shape shape, DType dtype) {
    this.name = name;
    this.shape = shape;
    this.data = Storage.allocate(dtype, shape.size());
    this.grad = Storage.allocate(dtype, shape.size());
  }

  /** {@return the parameter's name, e.g. {@code weight_ih_l0}} */
  public String name() {
    return name;
  }

  /** {@return the parameter's shape} */
  public Shape shape() {
    return shape;
  }

  /** {@return the dtype of value and gradient} */
  public DType dtype() {
    return data.dtype();
  }

  /** {@return the element count} */
  public int size() {
    return shape.size();
  }

  /** {@return the live value, for kernels and optimizers} */
  public Storage data() {
    return data;
  }

  /** {@return the live gradient, which backward passes add to} */
  public Storage grad() {
    return grad;
  }

  /** {@return a snapshot of the value} */
  public Tensor value() {
    return Tensor.copyOf(data, shape);
  }

  /** {@return a snapshot of the gradient} */
  public Tensor gradient() {
    return Tensor.copyOf(grad, shape);
  }

  /**
   * Replaces the value with {@code t}, converted to this parameter's dtype.
   *
   * @param t the new value, of this parameter's shape
   * @throws IllegalArgumentException if the shapes differ
   */
  public void set(Tensor t) {
    checkArgument(t.shape().equals(shape), "parameter %s expected shape %s but got %s", name,
        shape, t.shape());
    t.to(dtype()).copyInto(data, 0);
  }

  /**
   * Fills the value with samples uniform in {@code [-bound, bound)}, drawn in element order as
   * {@code (2 * rnd.nextDouble() - 1) * bound}: torch's default initialisation of recurrent and
   * linear layers, with {@code bound = 1/sqrt(H)} or {@code 1/sqrt(fan_in)}.
   *
   * @param rnd the source of the samples, one {@code nextDouble()} per element
   * @param bound the half-width of the interval, {@code > 0}
   * @throws IllegalArgumentException if {@code bound} is not positive and finite
   */
  public void fillUniform(Random rnd, double bound) {
    checkArgument(bound > 0 && Double.isFinite(bound),
        "parameter %s expected a positive finite bound but got %s", name, bound);
    for (int i = 0; i < data.length(); i++) {
      data.set(i, (2 * rnd.nextDouble() - 1) * bound);
    }
  }

  /** Sets the gradient to zero. */
  public void zeroGrad() {
    grad.fill(0, grad.length(), 0);
  }

  @Override public String toString() {
    return name + " " + shape;
  }
}
