package dev.rnn.core;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Random;

/**
 * A named, trainable array with its gradient: the one mutable value of a model, changed only by
 * loading, by optimizers and by backward passes (which add to {@link #grad()}).
 *
 * <p>Two views: an application reads snapshots, {@link #value()} and {@link #gradient()}, and
 * changes the value with {@link #set(Tensor)} or an optimizer; kernels (the graph's ops, the
 * scan, optimizers) work in place on the live storages, {@link #data()} and {@link #grad()}.
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

  /**
   * The live value, for kernels: the graph's ops and the scan read it in place, optimizers update
   * it in place. Public only because those kernels live in other packages; an application reads
   * {@link #value()} and changes the value through {@link #set(Tensor)} or an optimizer. Writes to
   * it are seen at once by every model sharing the parameter, without a check of shape, dtype or
   * finiteness.
   *
   * @return the storage of the value, shared
   */
  public Storage data() {
    return data;
  }

  /**
   * The live gradient, for kernels: backward passes add to it in place, optimizers and gradient
   * clipping read and scale it. Public only because those kernels live in other packages; an
   * application reads {@link #gradient()} and clears it with {@link #zeroGrad()} (or an
   * optimizer's {@code zeroGrad()}).
   *
   * @return the storage of the gradient, shared
   */
  public Storage grad() {
    return grad;
  }

  /** {@return a snapshot of the value: a tensor that later updates do not change} */
  public Tensor value() {
    return Tensor.copyOf(data, shape);
  }

  /** {@return a snapshot of the gradient: a tensor that later backward passes do not change} */
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
