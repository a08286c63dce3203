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

  /** {@return the lower-case name, as written in descriptions: {@code tanh}, {@code relu}, ...} */
  public String label() {
    return label;
  }

  /**
   * {@code f(x)}.
   *
   * @param x the input
   * @return {@code f(x)}
   */
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

  /**
   * {@code f'(x)} from {@code y = f(x)}.
   *
   * @param y the output {@code f(x)}
   * @return {@code f'(x)}
   */
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

  /**
   * {@code y = f(x)} in place over {@code n} elements from {@code off}.
   *
   * <p>Float32 storages use {@link #tanh(float)} and {@link #sigmoidFast(float)}, which the JIT
   * turns into vector instructions; float64 storages use {@link Math#tanh} and {@link Math#exp}.
   *
   * @param s the storage, overwritten
   * @param off the first element
   * @param n the number of elements
   */
  public void applyInPlace(Storage s, int off, int n) {
    if (s instanceof Float32Storage) {
      applyInPlace(((Float32Storage) s).a, off, n);
    } else {
      applyInPlace(((Float64Storage) s).a, off, n);
    }
  }

  /** {@code y = f(x)} in place over {@code a[off, off + n)}; mirrors the float64 version. */
  void applyInPlace(float[] a, int off, int n) {
    switch (this) {
      case TANH:
        tanhInPlace(a, off, n);
        break;
      case RELU:
        reluInPlace(a, off, n);
        break;
      case SIGMOID:
        sigmoidInPlace(a, off, n);
        break;
      default:
        break;
    }
  }

  /** {@code y = f(x)} in place over {@code a[off, off + n)}; mirrors the float32 version. */
  void applyInPlace(double[] a, int off, int n) {
    switch (this) {
      case TANH:
        tanhInPlace(a, off, n);
        break;
      case RELU:
        reluInPlace(a, off, n);
        break;
      case SIGMOID:
        sigmoidInPlace(a, off, n);
        break;
      default:
        break;
    }
  }

  /**
   * {@code dx[i] += dy[i] * f'(x)} with {@code f'} from the output {@code y[i]}, for {@code i < n}:
   * the backward of {@link #applyInPlace} outside a recurrence. All three share one dtype.
   *
   * @param y the outputs {@code f(x)}
   * @param dy the gradients of the outputs
   * @param dx the gradients of the inputs, added to
   * @param n the number of elements, from index 0
   */
  public void addGradient(Storage y, Storage dy, Storage dx, int n) {
    if (dx instanceof Float32Storage) {
      float[] yv = ((Float32Storage) y).a;
      float[] g = ((Float32Storage) dy).a;
      float[] d = ((Float32Storage) dx).a;
      switch (this) {
        case TANH:
          for (int i = 0; i < n; i++) {
            d[i] += g[i] * (1 - yv[i] * yv[i]);
          }
          break;
        case RELU:
          for (int i = 0; i < n; i++) {
            d[i] += yv[i] > 0 ? g[i] : 0;
          }
          break;
        case SIGMOID:
          for (int i = 0; i < n; i++) {
            d[i] += g[i] * (yv[i] * (1 - yv[i]));
          }
          break;
        default:
          for (int i = 0; i < n; i++) {
            d[i] += g[i];
          }
      }
    } else {
      double[] yv = ((Float64Storage) y).a;
      double[] g = ((Float64Storage) dy).a;
      double[] d = ((Float64Storage) dx).a;
      switch (this) {
        case TANH:
          for (int i = 0; i < n; i++) {
            d[i] += g[i] * (1 - yv[i] * yv[i]);
          }
          break;
        case RELU:
          for (int i = 0; i < n; i++) {
            d[i] += yv[i] > 0 ? g[i] : 0;
          }
          break;
        case SIGMOID:
          for (int i = 0; i < n; i++) {
            d[i] += g[i] * (yv[i] * (1 - yv[i]));
          }
          break;
        default:
          for (int i = 0; i < n; i++) {
            d[i] += g[i];
          }
      }
    }
  }

  /**
   * {@code dx[dxOff + i] = dy[dyOff + i] * f'(y)} with {@code f'} from {@code y[yOff + i]}, for
   * {@code i < n}; {@code dx} may be {@code dy}. Mirrors the float64 version.
   */
  void backward(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, int n) {
    switch (this) {
      case TANH:
        for (int i = 0; i < n; i++) {
          float v = y[yOff + i];
          dx[dxOff + i] = dy[dyOff + i] * (1 - v * v);
        }
        break;
      case RELU:
        for (int i = 0; i < n; i++) {
          dx[dxOff + i] = y[yOff + i] > 0 ? dy[dyOff + i] : 0;
        }
        break;
      case SIGMOID:
        for (int i = 0; i < n; i++) {
          float v = y[yOff + i];
          dx[dxOff + i] = dy[dyOff + i] * (v * (1 - v));
        }
        break;
      default:
        System.arraycopy(dy, dyOff, dx, dxOff, n);
    }
  }

  /** As the float32 version, in float64. */
  void backward(double[] y, int yOff, double[] dy, int dyOff, double[] dx, int dxOff, int n) {
    switch (this) {
      case TANH:
        for (int i = 0; i < n; i++) {
          double v = y[yOff + i];
          dx[dxOff + i] = dy[dyOff + i] * (1 - v * v);
        }
        break;
      case RELU:
        for (int i = 0; i < n; i++) {
          dx[dxOff + i] = y[yOff + i] > 0 ? dy[dyOff + i] : 0;
        }
        break;
      case SIGMOID:
        for (int i = 0; i < n; i++) {
          double v = y[yOff + i];
          dx[dxOff + i] = dy[dyOff + i] * (v * (1 - v));
        }
        break;
      default:
        System.arraycopy(dy, dyOff, dx, dxOff, n);
    }
  }

  // ---- kernels: float32 fast and vectorizable, float64 exact -----------------------------------
  //
  // The JIT vectorizes a loop that reads and writes one array at one offset with a body of plain
  // arithmetic, min and max; a call to Math.tanh or Math.exp, or a second array at another offset
  // in a body this large, keeps it scalar (about ten times slower). So the float32 cell kernels
  // first gather their pre-activations into one buffer and then run these loops over it in place.

  /**
   * Whether {@link Math#fma(float, float, float)} is one instruction in this JVM (HotSpot's
   * {@code UseFMA}, true on x86 with FMA and on AArch64), so that the float32 kernels below use
   * fused multiply-adds: the operations of the native kernels, which run only on processors with
   * FMA. Where it is false, {@code Math.fma} runs in software through {@code BigDecimal}, about
   * 10^4 times slower (12 µs a tanh), so the kernels round each product and sum separately
   * instead: the same functions within their error bounds, other bits. {@code -Drnn.fma=false}
   * or {@code true} overrides it (tests).
   */
  static final boolean FUSED = fusedMultiplyAdd();

  private static boolean fusedMultiplyAdd() {
    String forced = System.getProperty("rnn.fma");
    if (forced != null) {
      return Boolean.parseBoolean(forced);
    }
    try {
      return Boolean.parseBoolean(java.lang.management.ManagementFactory
          .getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
          .getVMOption("UseFMA").getValue());
    } catch (RuntimeException | LinkageError e) {
      return true;  // not HotSpot, or no jdk.management: every current x86-64 and AArch64 has FMA
    }
  }

  /** {@code a b + c} rounded once if {@code fused} ({@link Math#fma}), else twice. */
  private static float madd(float a, float b, float c, boolean fused) {
    return fused ? Math.fma(a, b, c) : a * b + c;
  }

  /** {@code a b + c} rounded once if {@link #FUSED}, else twice; {@code c' = fma(f, c, i g)}. */
  static float madd(float a, float b, float c) {
    return madd(a, b, c, FUSED);
  }

  /**
   * The clamps of {@link #tanh(float)}: the smallest floats near Eigen's clamp (7.9053) at which
   * the rational function, evaluated with fused multiply-adds or without, is exactly 1 (below
   * them it is at most 1 - 3e-7, as tanh is); beyond them tanh rounds to +-1 within 3e-7.
   */
  private static final float TANH_CLAMP_FUSED = 7.93219709396362305f;
  private static final float TANH_CLAMP = 7.90531110763549805f;

  /**
   * {@code tanh(x)} in float32 as a rational function of degree 13/6 over {@code [-7.93, 7.93]}
   * (the approximation of Eigen's {@code generic_fast_tanh_float}): absolute error below 4e-7,
   * relative error below 2e-7 near 0, subnormals included; odd, exactly {@code +-0} at
   * {@code +-0}, exactly {@code +-1} beyond the clamp, NaN for NaN. Monotone only up to rounding:
   * between neighbouring floats it may step back by a few ulps (at most 5e-7).
   *
   * <p>Both polynomials are evaluated by Horner's rule with fused multiply-adds ({@link
   * Math#fma(float, float, float)}, one rounding per step) where {@link #FUSED}: the operations
   * the native kernel runs ({@code _mm512_fmadd_ps}), so that both give the same bits; the JIT
   * turns each into one instruction and vectorizes the loops below with it.
   *
   * <p>{@code x} multiplies the quotient, not the numerator: {@code x * p} would round a subnormal
   * {@code x} to a handful of bits (or to 0) before the division.
   */
  static float tanh(float x) {
    return tanh(x, FUSED);
  }

  /** {@link #tanh(float)} with fused multiply-adds or without. */
  static float tanh(float x, boolean fused) {
    float clamp = fused ? TANH_CLAMP_FUSED : TANH_CLAMP;
    x = Math.max(-clamp, Math.min(clamp, x));
    float x2 = x * x;
    float p = madd(x2, -2.76076847742355e-16f, 2.00018790482477e-13f, fused);
    p = madd(x2, p, -8.60467152213735e-11f, fused);
    p = madd(x2, p, 5.12229709037114e-08f, fused);
    p = madd(x2, p, 1.48572235717979e-05f, fused);
    p = madd(x2, p, 6.37261928875436e-04f, fused);
    p = madd(x2, p, 4.89352455891786e-03f, fused);
    float q = madd(x2, 1.19825839466702e-06f, 1.18534705686654e-04f, fused);
    q = madd(x2, q, 2.26843463243900e-03f, fused);
    q = madd(x2, q, 4.89352518554385e-03f, fused);
    return x * (p / q);
  }

  /**
   * {@code sigmoid(x) = (1 + tanh(x / 2)) / 2} with {@link #tanh(float)}, as {@code fma(0.5,
   * tanh(0.5 x), 0.5)} (the same bits as {@code 0.5 + 0.5 t}, since {@code 0.5 t} is exact):
   * absolute error below 2e-7, exactly 0 at {@code -Infinity} and 1 at {@code +Infinity}, NaN
   * for NaN. The error is absolute, not relative: for {@code x < -15.8}, where the exact value is
   * below 1.4e-7, the result is 0.
   */
  static float sigmoidFast(float x) {
    return sigmoidFast(x, FUSED);
  }

  /** {@link #sigmoidFast(float)} with fused multiply-adds or without. */
  static float sigmoidFast(float x, boolean fused) {
    return madd(0.5f, tanh(0.5f * x, fused), 0.5f, fused);
  }

  /** {@code a[i] = tanh(a[i])} for {@code off <= i < off + n}, with {@link #tanh(float)}. */
  static void tanhInPlace(float[] a, int off, int n) {
    for (int i = off; i < off + n; i++) {
      a[i] = tanh(a[i]);
    }
  }

  /** {@code a[i] = tanh(a[i])} for {@code off <= i < off + n}, with {@link Math#tanh}. */
  static void tanhInPlace(double[] a, int off, int n) {
    for (int i = off; i < off + n; i++) {
      a[i] = Math.tanh(a[i]);
    }
  }

  /** {@code a[i] = sigmoid(a[i])}, with {@link #sigmoidFast(float)}. */
  static void sigmoidInPlace(float[] a, int off, int n) {
    for (int i = off; i < off + n; i++) {
      a[i] = sigmoidFast(a[i]);
    }
  }

  /** {@code a[i] = sigmoid(a[i])}, with {@link #sigmoid(double)}. */
  static void sigmoidInPlace(double[] a, int off, int n) {
    for (int i = off; i < off + n; i++) {
      a[i] = sigmoid(a[i]);
    }
  }

  /** {@code a[i] = max(0, a[i])}. */
  static void reluInPlace(float[] a, int off, int n) {
    for (int i = off; i < off + n; i++) {
      a[i] = Math.max(a[i], 0f);
    }
  }

  /** {@code a[i] = max(0, a[i])}. */
  static void reluInPlace(double[] a, int off, int n) {
    for (int i = off; i < off + n; i++) {
      a[i] = Math.max(a[i], 0d);
    }
  }

  /** {@code sigmoid(x) = 1 / (1 + exp(-x))}, stable for large negative x. */
  static double sigmoid(double x) {
    return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
  }

  /** {@code sigmoid(x)} in float, through the exact double version. */
  static float sigmoid(float x) {
    return (float) sigmoid((double) x);
  }
}
