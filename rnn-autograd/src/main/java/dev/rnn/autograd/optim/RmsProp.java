package dev.rnn.autograd.optim;

import static com.google.common.base.Preconditions.checkState;

import com.google.errorprone.annotations.CanIgnoreReturnValue;
import dev.rnn.core.Parameter;
import dev.rnn.core.Storage;
import java.util.List;

/**
 * RMSprop, with optional L2 weight decay, momentum and centering, as {@code torch.optim.RMSprop}.
 *
 * <p>One step updates every parameter {@code theta} from its gradient {@code grad} by
 *
 * <pre>
 *   g     = grad + weightDecay * theta
 *   s     = alpha * s + (1 - alpha) * g * g
 *   a     = alpha * a + (1 - alpha) * g                       (centered only)
 *   avg   = centered ? sqrt(s - a * a) + eps : sqrt(s) + eps
 *   buf   = momentum * buf + g / avg                          (momentum > 0 only)
 *   theta = momentum > 0 ? theta - lr * buf : theta - lr * g / avg
 * </pre>
 *
 * <p>The square average {@code s}, the gradient average {@code a} and the momentum buffer {@code
 * buf} start at zero, have the shape and dtype of their parameter and are allocated once, when the
 * optimizer is built (the last two only when used). Defaults are torch's: {@code lr = 0.01},
 * {@code alpha = 0.99}, {@code eps = 1e-8}, no weight decay, no momentum, not centered.
 *
 * <pre>{@code
 * Optimizer rmsProp = RmsProp.builder().lr(0.01).alpha(0.9).centered(true).build(params);
 * }</pre>
 */
public final class RmsProp extends AbstractOptimizer {
  private final double alpha;
  private final double eps;
  private final double weightDecay;
  private final double momentum;
  private final boolean centered;
  private final Storage[] s;
  /** The gradient average; null unless centered. */
  private final Storage[] a;
  /** The momentum buffer; null without momentum. */
  private final Storage[] buf;
  /** The steps taken, for {@link #state()}. */
  private long steps;
  /** Scratch blocks of {@code g} and of {@code avg}, per dtype. */
  private final Storage[] gBlock = scratchBlocks();
  private final Storage[] avgBlock = scratchBlocks();

  private RmsProp(Builder b, List<Parameter> parameters) {
    super("RmsProp", parameters, b.lr);
    this.alpha = b.alpha;
    this.eps = b.eps;
    this.weightDecay = b.weightDecay;
    this.momentum = b.momentum;
    this.centered = b.centered;
    this.s = zerosLike();
    this.a = centered ? zerosLike() : null;
    this.buf = momentum > 0 ? zerosLike() : null;
    registerState(new StepCount(() -> steps, n -> steps = n), "square_avg", s,
        "momentum_buffer", buf, "grad_avg", a);
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
      Storage sk = s[k];
      Storage gScratch = gBlock[p.dtype().ordinal()];
      Storage avg = avgBlock[p.dtype().ordinal()];
      for (int off = 0; off < p.size(); off += BLOCK) {
        int n = Math.min(BLOCK, p.size() - off);
        // g = grad + weightDecay * theta
        Storage g = penalizedGradient(grad, theta, weightDecay, gScratch, off, n);
        int gOff = g == grad ? off : 0;
        // s = alpha * s + (1 - alpha) * g * g
        sk.addcmul(off, n, alpha, 1 - alpha, g, gOff, g, gOff);
        if (a != null) {
          Storage ak = a[k];
          // a = alpha * a + (1 - alpha) * g
          ak.axpby(n, 1 - alpha, g, gOff, alpha, off);
          // avg = sqrt(s - a * a) + eps
          avg.copyFrom(sk, off, 0, n);
          avg.addcmul(0, n, 1, -1, ak, off, ak, off);
          avg.sqrt(0, n, avg, 0, 1, eps);
        } else {
          // avg = sqrt(s) + eps
          avg.sqrt(0, n, sk, off, 1, eps);
        }
        if (buf != null) {
          Storage b = buf[k];
          // buf = momentum * buf + g / avg
          b.addcdiv(off, n, momentum, 1, g, gOff, avg, 0);
          // theta = theta - lr * buf
          theta.axpy(n, -lr, b, off, off);
        } else {
          // theta = theta - lr * g / avg
          theta.addcdiv(off, n, 1, -lr, g, gOff, avg, 0);
        }
      }
    }
    steps++;
  }

  @Override public String toString() {
    return String.format(
        "RmsProp(lr=%s, alpha=%s, eps=%s, weightDecay=%s, momentum=%s, centered=%s)",
        learningRate(), alpha, eps, weightDecay, momentum, centered);
  }

  /** Options of {@link RmsProp}, torch's defaults unless set; each setter checks its range. */
  public static final class Builder {
    private double lr = 1e-2;
    private double alpha = 0.99;
    private double eps = 1e-8;
    private double weightDecay;
    private double momentum;
    private boolean centered;
    private boolean built;

    private Builder() {}

    /**
     * The learning rate {@code lr}; default {@code 0.01}.
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
     * The smoothing constant of the averages; default {@code 0.99}.
     *
     * @param alpha the smoothing constant {@code alpha}
     * @return this builder
     * @throws IllegalArgumentException unless {@code 0 <= alpha <= 1}
     */
    @CanIgnoreReturnValue public Builder alpha(double alpha) {
      this.alpha = checkUpToOne("alpha", alpha);
      return this;
    }

    /**
     * The term added to the denominator for numerical stability; default {@code 1e-8}.
     *
     * @param eps the term {@code eps}
     * @return this builder
     * @throws IllegalArgumentException if {@code eps < 0}, NaN or infinite
     */
    @CanIgnoreReturnValue public Builder eps(double eps) {
      this.eps = checkAtLeastZero("eps", eps);
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
     * Whether to normalize by the estimated variance of the gradient, {@code s - a * a}, rather
     * than by its uncentered second moment {@code s}; default {@code false}.
     *
     * @param centered whether to center the second moment
     * @return this builder
     */
    @CanIgnoreReturnValue public Builder centered(boolean centered) {
      this.centered = centered;
      return this;
    }

    /**
     * An optimizer over {@code parameters} with these options.
     *
     * @param parameters the parameters updated, in order
     * @return a new optimizer
     * @throws IllegalStateException if this builder already built an optimizer
     * @throws IllegalArgumentException if {@code parameters} is empty or holds a parameter twice
     */
    public RmsProp build(List<Parameter> parameters) {
      checkState(!built, "this RmsProp.Builder already built an optimizer; "
          + "call RmsProp.builder() for each optimizer");
      RmsProp rmsProp = new RmsProp(this, parameters);
      built = true;
      return rmsProp;
    }
  }
}
