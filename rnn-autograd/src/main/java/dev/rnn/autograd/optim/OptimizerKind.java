package dev.rnn.autograd.optim;

import dev.rnn.core.Parameter;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleConsumer;

/**
 * The optimizers by name, {@code sgd}, {@code adam}, {@code adamw} and {@code rmsprop}, built
 * from the options a command line or a configuration gives, with torch's defaults for the rest.
 *
 * <pre>{@code
 * Optimizer o = OptimizerKind.named("adam").build(params, 3e-3, null, null);  // lr 3e-3
 * }</pre>
 *
 * <p>An option left {@code null} keeps the builder's default (torch's): learning rate 1e-3
 * (rmsprop 1e-2), momentum 0, weight decay 0 (adamw 1e-2). Momentum applies to sgd and rmsprop
 * only ({@link #takesMomentum()}); {@link #build} refuses it for the others.
 */
public enum OptimizerKind {
  /** {@link Sgd}. */
  SGD("sgd"),
  /** {@link Adam}. */
  ADAM("adam"),
  /** {@link AdamW}. */
  ADAMW("adamw"),
  /** {@link RmsProp}. */
  RMSPROP("rmsprop");

  private final String id;

  OptimizerKind(String id) {
    this.id = id;
  }

  /** {@return the name, as {@link #named} reads it: {@code sgd}, {@code adam}, ...} */
  public String id() {
    return id;
  }

  /** {@return whether the optimizer has a momentum option (sgd and rmsprop)} */
  public boolean takesMomentum() {
    return this == SGD || this == RMSPROP;
  }

  /**
   * The optimizer called {@code name}, in any case.
   *
   * @param name {@code sgd}, {@code adam}, {@code adamw} or {@code rmsprop}
   * @return its kind
   * @throws IllegalArgumentException naming the names known, for any other name
   */
  public static OptimizerKind named(String name) {
    String n = name.strip().toLowerCase(Locale.ROOT);
    for (OptimizerKind k : values()) {
      if (k.id.equals(n)) {
        return k;
      }
    }
    throw new IllegalArgumentException("expected sgd, adam, adamw or rmsprop but got '" + name
        + "'");
  }

  /**
   * Builds this optimizer over {@code ps}.
   *
   * @param ps the parameters it updates
   * @param lr the learning rate, or {@code null} for the default
   * @param momentum the momentum (sgd, rmsprop), or {@code null} for the default
   * @param weightDecay the weight decay, or {@code null} for the default
   * @return the optimizer
   * @throws IllegalArgumentException for a value the optimizer's builder refuses, or a momentum
   *     given to an optimizer without one
   */
  public Optimizer build(List<Parameter> ps, Double lr, Double momentum, Double weightDecay) {
    if (momentum != null && !takesMomentum()) {
      throw new IllegalArgumentException("momentum applies to sgd and rmsprop, not " + id);
    }
    return switch (this) {
      case SGD -> {
        Sgd.Builder b = Sgd.builder();
        ifSet(lr, b::lr);
        ifSet(momentum, b::momentum);
        ifSet(weightDecay, b::weightDecay);
        yield b.build(ps);
      }
      case ADAM -> {
        Adam.Builder b = Adam.builder();
        ifSet(lr, b::lr);
        ifSet(weightDecay, b::weightDecay);
        yield b.build(ps);
      }
      case ADAMW -> {
        AdamW.Builder b = AdamW.builder();
        ifSet(lr, b::lr);
        ifSet(weightDecay, b::weightDecay);
        yield b.build(ps);
      }
      case RMSPROP -> {
        RmsProp.Builder b = RmsProp.builder();
        ifSet(lr, b::lr);
        ifSet(momentum, b::momentum);
        ifSet(weightDecay, b::weightDecay);
        yield b.build(ps);
      }
    };
  }

  /** Sets an option that was given; leaves the builder's default otherwise. */
  private static void ifSet(Double value, DoubleConsumer set) {
    if (value != null) {
      set.accept(value);
    }
  }
}
