package dev.rnn.autograd.optim;

import static com.google.common.base.Preconditions.checkState;

import com.google.errorprone.annotations.CanIgnoreReturnValue;
import dev.rnn.core.Parameter;
import dev.rnn.core.Storage;
import java.util.List;

/**
 * Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight
 * decay, as {@code torch.optim.SGD}.
 *
 * <p>One step updates every parameter {@code theta} from its gradient {@code grad} by
 *
 * <pre>
 *   g     = grad + weightDecay * theta
 *   if momentum != 0:
 *     buf = g                                       on the first step
 *     buf = momentum * buf + (1 - dampening) * g    on later steps
 *     g   = nesterov ? g + momentum * buf : buf
 *   theta = theta - lr * g
 * </pre>
 *
 * <p>The momentum buffer {@code buf} has the shape and dtype of its parameter and is allocated
 * once, when the optimizer is built. Defaults are torch's: {@code lr = 1e-3} (torch 2.2 and later;
 * earlier versions require it), no momentum, no dampening, no Nesterov, no weight decay.
 *
 * <pre>{@code
 * Optimizer sgd = Sgd.builder().lr(0.1).momentum(0.9).nesterov(true).build(params);
 * }</pre>
 */
public final class Sgd extends AbstractOptimizer {
  private final double momentum;
  private final double dampening;
  private final boolean nesterov;
  private final double weightDecay;
  /** One momentum buffer per parameter; null without momentum. */
  private final Storage[] buf;
  /** The steps taken; the first step sets the momentum buffer to the gradient, as torch. */
  private long steps;
  /** A scratch block of {@code g}, per dtype. */
  private final Storage[] gBlock = scratchBlocks();

  private Sgd(Builder b, List<Parameter> parameters) {
    super("Sgd", parameters, b.lr);
    this.momentum = b.momentum;
    this.dampening = b.dampening;
    this.nesterov = b.nesterov;
    this.weightDecay = b.weightDecay;
    this.buf = momentum != 0 ? zerosLike() : null;
    registerState(new StepCount(() -> steps, n -> steps = n),
        "momentum_buffer", buf);
  }

  /**
   * A builder with torch's defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  @Override public void step() {
    double lr = learningRate();
    for (int k = 0; k < params.length; k++) {
      Parameter p = params[k];
      Storage theta = p.data();
      Storage grad = p.grad();
      Storage gScratch = gBlock[p.dtype().ordinal()];
      for (int off = 0; off < p.size(); off += BLOCK) {
        int n = Math.min(BLOCK, p.size() - off);
        // g = grad + weightDecay * theta
        Storage g = penalizedGradient(grad, theta, weightDecay, gScratch, off, n);
        int gOff = g == grad ? off : 0;
        if (buf != null) {
          Storage b = buf[k];
          if (steps == 0) {
            // buf = g
            b.copyFrom(g, gOff, off, n);
          } else {
            // buf = momentum * buf + (1 - dampening) * g
            b.axpby(n, 1 - dampening, g, gOff, momentum, off);
          }
          if (nesterov) {
            // g = g + momentum * buf, in the scratch block: grad itself is left unchanged
            if (g == grad) {
              gScratch.copyFrom(grad, off, 0, n);
              g = gScratch;
              gOff = 0;
            }
            g.axpy(n, momentum, b, off, gOff);
          } else {
            // g = buf
            g = b;
            gOff = off;
          }
        }
        // theta = theta - lr * g
        theta.axpy(n, -lr, g, gOff, off);
      }
    }
    steps++;
  }

  @Override public String toString() {
    return String.format("Sgd(lr=%s, momentum=%s, dampening=%s, nesterov=%s, weightDecay=%s)",
        learningRate(), momentum, dampening, nesterov, weightDecay);
  }

  /** Options of {@link Sgd}, torch's defaults unless set; each setter checks its range. */
  public static final class Builder {
    private double lr = 1e-3;
    private double momentum;
    private double dampening;
    private boolean nesterov;
    private double weightDecay;
    private boolean built;

    private Builder() {}

    /**
     * The learning rate {@code lr}; default {@code 1e-3}.
     *
     * @param lr the learning rate
     * @return this builder
     * @throws IllegalArgumentException if {@code lr < 0}, NaN or infinite
     */
    @CanIgnoreReturnValue public Builder lr(double lr) {
      this.lr = checkAtLeastZero("lr", lr);
      return this;
    }

    /**
     * The momentum factor; default {@code 0}, no momentum buffer.
     *
     * @param momentum the momentum factor
     * @return this builder
     * @throws IllegalArgumentException if {@code momentum < 0}, NaN or infinite
     */
    @CanIgnoreReturnValue public Builder momentum(double momentum) {
      this.momentum = checkAtLeastZero("momentum", momentum);
      return this;
    }

    /**
     * The dampening of the gradient added to the momentum buffer; default {@code 0}.
     *
     * @param dampening the dampening
     * @return this builder
     * @throws IllegalArgumentException unless {@code 0 <= dampening <= 1}
     */
    @CanIgnoreReturnValue public Builder dampening(double dampening) {
      this.dampening = checkUpToOne("dampening", dampening);
      return this;
    }

    /**
     * Whether to use Nesterov momentum; default {@code false}. Requires {@code momentum > 0} and
     * {@code dampening = 0}, checked by {@link #build}.
     *
     * @param nesterov whether to use Nesterov momentum
     * @return this builder
     */
    @CanIgnoreReturnValue public Builder nesterov(boolean nesterov) {
      this.nesterov = nesterov;
      return this;
    }

    /**
     * The L2 penalty {@code weightDecay}, added to the gradient as {@code weightDecay * theta};
     * default {@code 0}.
     *
     * @param weightDecay the L2 penalty
     * @return this builder
     * @throws IllegalArgumentException if {@code weightDecay < 0}, NaN or infinite
     */
    @CanIgnoreReturnValue public Builder weightDecay(double weightDecay) {
      this.weightDecay = checkAtLeastZero("weightDecay", weightDecay);
      return this;
    }

    /**
     * An optimizer over {@code parameters} with these options.
     *
     * @param parameters the parameters updated, in order
     * @return a new optimizer
     * @throws IllegalStateException if this builder already built an optimizer, or if Nesterov
     *     momentum is asked for without {@code momentum > 0} and {@code dampening = 0}
     * @throws IllegalArgumentException if {@code parameters} is empty or holds a parameter twice
     */
    public Sgd build(List<Parameter> parameters) {
      checkState(!built,
          "this Sgd.Builder already built an optimizer; call Sgd.builder() for each optimizer");
      checkState(!nesterov || (momentum > 0 && dampening == 0),
          "nesterov requires momentum > 0 and dampening = 0 but got momentum %s and dampening %s",
          momentum, dampening);
      Sgd sgd = new Sgd(this, parameters);
      built = true;
      return sgd;
    }
  }
}
