package dev.rnn.autograd.optim;

import static com.google.common.base.Preconditions.checkArgument;

import dev.rnn.core.Parameter;
import java.util.List;

/**
 * Gradient clipping, as {@code torch.nn.utils.clip_grad_norm_} and {@code clip_grad_value_}: the
 * usual guard against exploding gradients in backpropagation through time.
 *
 * <p>Both change the live gradients of the parameters in place, between the backward pass and
 * {@link Optimizer#step()}.
 */
public final class GradientClipping {
  /** Added to the norm before dividing, as torch does, so that a zero norm divides safely. */
  private static final double NORM_EPS = 1e-6;

  private GradientClipping() {}

  /**
   * Scales all gradients together so that their global L2 norm is at most {@code maxNorm}, and
   * returns the norm before clipping.
   *
   * <pre>
   *   total = sqrt(sum over parameters p, elements i of grad_p[i]^2)
   *   scale = maxNorm / (total + 1e-6)
   *   grad  = grad * scale                for every parameter, only if scale is below 1
   * </pre>
   *
   * <p>The direction of the joint gradient is kept. An empty list has norm 0.
   *
   * @param params the parameters whose gradients are scaled
   * @param maxNorm the largest global norm kept
   * @return {@code total}, the global norm of the gradients before clipping
   * @throws IllegalArgumentException if {@code maxNorm < 0} or NaN
   * @throws IllegalStateException if {@code total} is not finite, because a gradient holds NaN or
   *     infinity or the sum of squares overflows; the gradients are then left unchanged
   */
  public static double clipByGlobalNorm(List<Parameter> params, double maxNorm) {
    checkArgument(maxNorm >= 0, "maxNorm must be >= 0 but got %s", maxNorm);
    double sumOfSquares = 0;
    for (Parameter p : params) {
      sumOfSquares += p.grad().sumOfSquares();
    }
    double total = Math.sqrt(sumOfSquares);
    if (!Double.isFinite(total)) {
      throw new IllegalStateException(notFinite(params, total));
    }
    double scale = maxNorm / (total + NORM_EPS);
    if (scale < 1) {
      for (Parameter p : params) {
        p.grad().scale(0, p.size(), scale);
      }
    }
    return total;
  }

  /**
   * Clamps every gradient element to {@code [-clip, clip]}.
   *
   * <pre>
   *   grad[i] = min(max(grad[i], -clip), clip)
   * </pre>
   *
   * <p>Unlike {@link #clipByGlobalNorm}, this changes the gradient's direction. NaN stays NaN.
   *
   * @param params the parameters whose gradients are clamped
   * @param clip the largest absolute value kept
   * @throws IllegalArgumentException if {@code clip < 0} or NaN
   */
  public static void clipByValue(List<Parameter> params, double clip) {
    checkArgument(clip >= 0, "clip must be >= 0 but got %s", clip);
    for (Parameter p : params) {
      p.grad().clamp(0, p.size(), -clip, clip);
    }
  }

  /** The message for a non-finite norm, naming the first parameter whose gradient is to blame. */
  private static String notFinite(List<Parameter> params, double total) {
    for (Parameter p : params) {
      if (!p.grad().allFinite()) {
        return String.format("the gradient norm is not finite (%s): the gradient of %s holds NaN "
            + "or infinity; look for a diverging loss, or lower the learning rate", total,
            p.name());
      }
    }
    return String.format("the gradient norm is not finite (%s): the sum of squares of the "
        + "gradients overflows; scale the loss down, or clip by value first", total);
  }
}
