package dev.rnn.core;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static com.google.common.base.Preconditions.checkState;

import com.google.common.collect.ImmutableList;
import java.util.List;
import java.util.Random;

/**
 * A named, trainable array with its gradient: the one mutable value of a model, changed only by
 * loading, by optimizers and by backward passes (which add to {@link #grad()}).
 *
 * <p>Two views: an application reads snapshots, {@link #value()} and {@link #gradient()}, and
 * changes the value with {@link #set(Tensor)} or an optimizer; kernels (the graph's ops, the
 * scan, optimizers) work in place on the live storages, {@link #data()} and {@link #grad()}.
 *
 * <p>Memory is taken when it is first needed, not when the parameter is made: the value when it
 * is first read or written (so a network that is only described or drawn holds no weights), the
 * gradient when a backward pass or an optimizer first asks for it (so a network that only infers,
 * or a loaded checkpoint, holds its weights once, not twice). A group of parameters can have its
 * first values written on first use too ({@link #initializeOnFirstUse}), which is how a network
 * is built without allocating its weights. Either way the parameter behaves as if the memory had
 * been there from the start: a value never written reads as zeros, a gradient never accumulated
 * reads as zeros.
 *
 * <p>Names are torch's ({@code weight_ih_l0}, {@code bias_hh_l1_reverse}, ...), so that weights
 * move between this library and torch by name.
 */
public final class Parameter {
  private final String name;
  private final Shape shape;
  private final DType dtype;
  /** The value; null until first used, and published only once its first values are written. */
  private volatile Storage data;
  /** The gradient; null until a backward pass or an optimizer first asks for it. */
  private volatile Storage grad;
  /** The deferred writing of the first values of this parameter's group; null for none. */
  private volatile Initialization initialization;
  /**
   * The value while its group's initialization writes it, before it is published to {@link
   * #data}; touched only under the lock of that {@link Initialization}.
   */
  private Storage staged;

  /**
   * A zero-filled parameter; its storage is allocated when it is first used.
   *
   * @param name the torch name, e.g. {@code weight_ih_l0}
   * @param shape the shape
   * @param dtype the dtype of value and gradient
   */
  public Parameter(String name, Shape shape, DType dtype) {
    this.name = name;
    this.shape = shape;
    this.dtype = checkNotNull(dtype, "dtype");
  }

  /**
   * Defers {@code initialize}, which writes the first values of {@code parameters} through their
   * {@link #data()}, until one of them is first used: the first call of {@link #data()} (or of
   * anything that reads or writes a value) on any of them runs it once, on that thread, while
   * other threads using the group wait; until then the parameters hold no memory. A value it does
   * not write starts at zero. If it throws, the exception reaches the caller that triggered it and
   * the next use runs it again.
   *
   * <p>This is how a network is built without allocating its weights: describing it or drawing
   * its graph reads names and shapes only, and the weights appear, initialised exactly as an eager
   * initialisation would have made them, at the first forward pass, training or save.
   *
   * @param parameters the group, none used yet
   * @param initialize writes the first values, e.g. draws them from a seeded generator in order
   * @throws IllegalStateException if a parameter was already used or already has a deferred
   *     initialization
   */
  public static void initializeOnFirstUse(List<Parameter> parameters, Runnable initialize) {
    checkNotNull(initialize, "initialize");
    Initialization init = new Initialization(ImmutableList.copyOf(parameters), initialize);
    for (Parameter p : init.group) {
      checkState(p.data == null && p.initialization == null,
          "parameter %s was already used or initialised; defer its initialisation before", p.name);
    }
    for (Parameter p : init.group) {
      p.initialization = init;
    }
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
    return dtype;
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
   * finiteness. The first call allocates it (and runs a deferred initialization).
   *
   * @return the storage of the value, shared
   */
  public Storage data() {
    Storage d = data;
    return d != null ? d : firstData();
  }

  /** The value on first use: through the group's initialization, or zeros. */
  private Storage firstData() {
    Initialization init = initialization;
    if (init != null) {
      return init.dataOf(this);
    }
    synchronized (this) {
      if (data == null) {
        data = Storage.allocate(dtype, shape.size());
      }
      return data;
    }
  }

  /**
   * The live gradient, for kernels: backward passes add to it in place, optimizers and gradient
   * clipping read and scale it. Public only because those kernels live in other packages; an
   * application reads {@link #gradient()} and clears it with {@link #zeroGrad()} (or an
   * optimizer's {@code zeroGrad()}). The first call allocates it, zero-filled.
   *
   * @return the storage of the gradient, shared
   */
  public Storage grad() {
    Storage g = grad;
    if (g == null) {
      synchronized (this) {
        g = grad;
        if (g == null) {
          g = Storage.allocate(dtype, shape.size());
          grad = g;
        }
      }
    }
    return g;
  }

  /** Whether the value's storage exists yet; for tests of when memory is taken. */
  boolean holdsValue() {
    return data != null;
  }

  /** Whether the gradient's storage exists yet; for tests of when memory is taken. */
  boolean holdsGradient() {
    return grad != null;
  }

  /** {@return a snapshot of the value: a tensor that later updates do not change} */
  public Tensor value() {
    return Tensor.copyOf(data(), shape);
  }

  /**
   * {@return a snapshot of the gradient: a tensor that later backward passes do not change; zeros
   * if no backward pass has added to it}
   */
  public Tensor gradient() {
    Storage g = grad;
    return g == null ? Tensor.zeros(dtype, shape.dims()) : Tensor.copyOf(g, shape);
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
    t.to(dtype()).copyInto(data(), 0);
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
    Storage d = data();
    for (int i = 0; i < d.length(); i++) {
      d.set(i, (2 * rnd.nextDouble() - 1) * bound);
    }
  }

  /** Sets the gradient to zero (a gradient not yet allocated is zero already). */
  public void zeroGrad() {
    Storage g = grad;
    if (g != null) {
      g.fill(0, g.length(), 0);
    }
  }

  @Override public String toString() {
    return name + " " + shape;
  }

  /**
   * The deferred writing of the first values of a group of parameters: run once, by the first
   * thread that uses one of them, under this object's lock, so that other threads using the group
   * wait for it and then see every value written. While it runs, the group's values are staged
   * (visible to the running thread only, through re-entrant calls of {@link #dataOf}) and
   * published together when it is done.
   */
  private static final class Initialization {
    private final ImmutableList<Parameter> group;
    /** The writing of the first values; null once done. */
    private Runnable initialize;
    private boolean running;

    Initialization(ImmutableList<Parameter> group, Runnable initialize) {
      this.group = group;
      this.initialize = initialize;
    }

    synchronized Storage dataOf(Parameter p) {
      if (running) {
        // The initializing thread itself, writing the first values (others wait on the lock).
        if (p.staged == null) {
          p.staged = Storage.allocate(p.dtype, p.shape.size());
        }
        return p.staged;
      }
      if (initialize != null) {
        running = true;
        try {
          initialize.run();
        } catch (RuntimeException | Error e) {
          for (Parameter q : group) {
            q.staged = null;
          }
          throw e;
        } finally {
          running = false;
        }
        for (Parameter q : group) {
          q.publish();
        }
        initialize = null;
      }
      return p.data;
    }
  }

  /** Publishes the staged value (zeros if the initialization wrote none); under the group lock. */
  private void publish() {
    if (data == null) {
      data = staged != null ? staged : Storage.allocate(dtype, shape.size());
    }
    staged = null;
  }
}
