package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.rnn.core.Parameter;
import dev.rnn.core.Storage;
import java.util.Random;

/**
 * How one parameter tensor is filled when a network is built: torch's default, Glorot/Xavier, He,
 * orthogonal, identity, constant, uniform or normal; and, through {@link #input}, {@link
 * #recurrent}, {@link #bias} and {@link #forgetBias}, which kind of parameter it fills.
 *
 * <pre>{@code
 * // an IRNN (Le, Jaitly & Hinton 2015): identity recurrence, zero bias, small random input weights
 * network().elman(2, 100, Activation.RELU)
 *     .init(Init.recurrent(Init.identity(1)), Init.input(Init.normal(0.001)), Init.bias(Init.zeros()))
 *     .dense(100, 1).build();
 * }</pre>
 *
 * <p>A weight is a matrix {@code W [rows, cols]} in torch's layout: {@code weight_ih_l{k} [G H,
 * F_in]}, {@code weight_hh_l{k} [G H, H]} (G gates: 1 for {@code recurrent} and {@code elman}, 4
 * for LSTM, 3 for GRU), {@code dense{i}.weight [out, in]}. As torch's {@code nn.init} and Keras
 * compute them, {@code fan_in = cols} and {@code fan_out = rows} (all gates together: an LSTM's
 * {@code weight_ih} has {@code fan_out = 4 H}). With {@code U(-a, a)} uniform and {@code N(0,
 * s^2)} normal samples:
 *
 * <pre>
 *   torchDefault()   U(-k, k), k = 1/sqrt(H) in a recurrent layer, 1/sqrt(fan_in) in a dense one
 *   glorotUniform()  U(-a, a), a = sqrt(6 / (fan_in + fan_out))        (Glorot &amp; Bengio 2010)
 *   glorotNormal()   N(0, s^2), s = sqrt(2 / (fan_in + fan_out))
 *   heUniform()      U(-a, a), a = sqrt(6 / fan_in)                     (He et al. 2015)
 *   heNormal()       N(0, s^2), s = sqrt(2 / fan_in)
 *   orthogonal(g)    g Q: Q^T Q = I if rows &gt;= cols, else Q Q^T = I     (Saxe et al. 2014)
 *   identity(g)      g I in each gate's block [H, cols] (torch's eye_ per gate)
 *   uniform(a)       U(-a, a)
 *   normal(s)        N(0, s^2)
 *   constant(v)      v everywhere; zeros() is constant(0)
 * </pre>
 *
 * <p>{@code orthogonal} draws a {@code [max(rows, cols), min(rows, cols)]} matrix of {@code N(0,
 * 1)} samples, orthonormalises its columns (Gram-Schmidt, twice, which is QR with a positive
 * diagonal of R, so that Q is uniformly distributed as with torch's {@code orthogonal_} and Keras's
 * {@code Orthogonal}) and transposes it if {@code rows < cols}. The normal rules are torch's
 * ({@code xavier_normal_}, {@code kaiming_normal_}: plain normal samples), not Keras's truncated
 * ones. Samples are drawn in element order from the network's seeded {@link Random}: uniform as
 * {@code (2 nextDouble() - 1) a}, normal as {@code nextGaussian() s}.
 *
 * <p>Biases are vectors: only {@code torchDefault}, {@code constant}, {@code zeros}, {@code
 * uniform} and {@code normal} fill them. A rule for the biases fills every bias tensor a layer
 * has; torch's recurrent layers have two, {@code b_ih} and {@code b_hh}, which are added, so
 * {@code bias(constant(v))} gives them an effective bias {@code 2 v} ({@code recurrent(in, out)}
 * has one bias). {@link #forgetBias} is exact instead: it sets the forget gate's block of {@code
 * b_ih} to the value and that of {@code b_hh} to 0, so that their sum, what the gate sees, is the
 * value, as Keras's {@code unit_forget_bias} sets the forget block of its one bias.
 *
 * <p>Immutable; equal rules are equal.
 */
public final class Init {
  /** The kinds of parameter an initializer is assigned to. */
  public enum Kind {
    /** {@code weight_ih_l{k}}, and {@code dense{i}.weight}: what multiplies the layer's input. */
    INPUT_WEIGHTS("input weights", "input"),
    /** {@code weight_hh_l{k}}: what multiplies the previous state. */
    RECURRENT_WEIGHTS("recurrent weights", "recurrent"),
    /** {@code bias_ih_l{k}}, {@code bias_hh_l{k}}, {@code dense{i}.bias}. */
    BIASES("biases", "bias"),
    /**
     * The forget gate's block of an LSTM's biases, {@code [H, 2H)}: {@code b_ih} gets the value,
     * {@code b_hh} 0.
     */
    FORGET_GATE_BIAS("forget-gate bias", "forgetBias");

    private final String words;
    private final String method;

    Kind(String words, String method) {
      this.words = words;
      this.method = method;
    }

    /** {@return the kind in words, for messages: {@code recurrent weights}} */
    String words() {
      return words;
    }
  }

  /**
   * An initializer assigned to one kind of parameter: what {@link NetworkBuilder#init} and {@link
   * Initializer#with} take, made by {@link #input}, {@link #recurrent}, {@link #bias} and {@link
   * #forgetBias}.
   *
   * @param kind the kind of parameter
   * @param init how it is filled
   */
  public record Assignment(Kind kind, Init init) {
    /**
     * Checks that {@code init} can fill {@code kind}.
     *
     * @param kind the kind of parameter
     * @param init how it is filled
     * @throws IllegalArgumentException if {@code init} fills matrices only and {@code kind} is a
     *     bias
     */
    public Assignment {
      checkNotNull(kind, "kind");
      checkNotNull(init, "init");
      checkArgument(!(kind == Kind.BIASES || kind == Kind.FORGET_GATE_BIAS) || init.fillsVectors(),
          "Init.%s expected a rule for a vector (torchDefault, constant, zeros, uniform, normal)"
              + " but got %s, which needs a matrix", kind.method, init);
    }

    @Override public String toString() {
      return kind == Kind.FORGET_GATE_BIAS ? "Init.forgetBias(" + init.value + ")"
          : "Init." + kind.method + "(" + init + ")";
    }
  }

  /** The rules, each with its formula in the class comment. */
  private enum Rule {
    TORCH_DEFAULT("torchDefault"),
    GLOROT_UNIFORM("glorotUniform"),
    GLOROT_NORMAL("glorotNormal"),
    HE_UNIFORM("heUniform"),
    HE_NORMAL("heNormal"),
    ORTHOGONAL("orthogonal"),
    IDENTITY("identity"),
    UNIFORM("uniform"),
    NORMAL("normal"),
    CONSTANT("constant");

    final String written;

    Rule(String written) {
      this.written = written;
    }
  }

  private final Rule rule;
  /** The gain of orthogonal and identity, the bound of uniform, the deviation of normal, the constant. */
  private final double value;

  private Init(Rule rule, double value) {
    this.rule = rule;
    this.value = value;
  }

  // ---- the rules ------------------------------------------------------------------------------

  /**
   * Torch's default: {@code U(-1/sqrt(H), 1/sqrt(H))} in a recurrent layer ({@code H} its hidden
   * size), {@code U(-1/sqrt(fan_in), 1/sqrt(fan_in))} in a dense one.
   *
   * @return the rule
   */
  public static Init torchDefault() {
    return new Init(Rule.TORCH_DEFAULT, 0);
  }

  /**
   * Glorot (Xavier) uniform: {@code U(-a, a)}, {@code a = sqrt(6 / (fan_in + fan_out))}, as
   * torch's {@code xavier_uniform_} and Keras's {@code glorot_uniform}.
   *
   * @return the rule
   */
  public static Init glorotUniform() {
    return new Init(Rule.GLOROT_UNIFORM, 0);
  }

  /**
   * Glorot (Xavier) normal: {@code N(0, 2 / (fan_in + fan_out))}, as torch's {@code
   * xavier_normal_}.
   *
   * @return the rule
   */
  public static Init glorotNormal() {
    return new Init(Rule.GLOROT_NORMAL, 0);
  }

  /**
   * He (Kaiming) uniform for ReLU: {@code U(-a, a)}, {@code a = sqrt(6 / fan_in)}, as torch's
   * {@code kaiming_uniform_(nonlinearity='relu')} and Keras's {@code he_uniform}.
   *
   * @return the rule
   */
  public static Init heUniform() {
    return new Init(Rule.HE_UNIFORM, 0);
  }

  /**
   * He (Kaiming) normal for ReLU: {@code N(0, 2 / fan_in)}, as torch's {@code
   * kaiming_normal_(nonlinearity='relu')}.
   *
   * @return the rule
   */
  public static Init heNormal() {
    return new Init(Rule.HE_NORMAL, 0);
  }

  /**
   * A (semi-)orthogonal matrix, {@code orthogonal(1)}: Keras's default for recurrent weights.
   *
   * @return the rule
   */
  public static Init orthogonal() {
    return orthogonal(1);
  }

  /**
   * {@code gain Q} with {@code Q} uniformly random (semi-)orthogonal: {@code Q^T Q = I} if {@code
   * rows >= cols}, else {@code Q Q^T = I}; as torch's {@code orthogonal_(gain)}.
   *
   * @param gain the factor
   * @return the rule
   * @throws IllegalArgumentException if {@code gain} is not finite
   */
  public static Init orthogonal(double gain) {
    checkArgument(Double.isFinite(gain), "orthogonal expected a finite gain but got %s", gain);
    return new Init(Rule.ORTHOGONAL, gain);
  }

  /**
   * {@code gain I} in each gate's block {@code [H, cols]} of a weight (ones on the block's
   * diagonal, as torch's {@code eye_}, times {@code gain}): the identity recurrence of an IRNN
   * (Le, Jaitly &amp; Hinton 2015) with {@code recurrent(identity(1))}.
   *
   * @param gain the value on the diagonal
   * @return the rule
   * @throws IllegalArgumentException if {@code gain} is not finite
   */
  public static Init identity(double gain) {
    checkArgument(Double.isFinite(gain), "identity expected a finite gain but got %s", gain);
    return new Init(Rule.IDENTITY, gain);
  }

  /**
   * {@code U(-bound, bound)}.
   *
   * @param bound the half-width, {@code > 0}
   * @return the rule
   * @throws IllegalArgumentException if {@code bound} is not positive and finite
   */
  public static Init uniform(double bound) {
    checkArgument(bound > 0 && Double.isFinite(bound),
        "uniform expected a positive finite bound but got %s", bound);
    return new Init(Rule.UNIFORM, bound);
  }

  /**
   * {@code N(0, std^2)}, e.g. {@code normal(0.001)} for an IRNN's input weights.
   *
   * @param std the standard deviation, {@code > 0}
   * @return the rule
   * @throws IllegalArgumentException if {@code std} is not positive and finite
   */
  public static Init normal(double std) {
    checkArgument(std > 0 && Double.isFinite(std),
        "normal expected a positive finite standard deviation but got %s", std);
    return new Init(Rule.NORMAL, std);
  }

  /**
   * {@code value} everywhere.
   *
   * @param value the value
   * @return the rule
   * @throws IllegalArgumentException if {@code value} is not finite
   */
  public static Init constant(double value) {
    checkArgument(Double.isFinite(value), "constant expected a finite value but got %s", value);
    return new Init(Rule.CONSTANT, value);
  }

  /**
   * Zeros: {@code constant(0)}.
   *
   * @return the rule
   */
  public static Init zeros() {
    return constant(0);
  }

  // ---- what it is assigned to -----------------------------------------------------------------

  /**
   * {@code init} for the input weights {@code weight_ih_l{k}} (and dense weights).
   *
   * @param init the rule
   * @return the assignment
   */
  public static Assignment input(Init init) {
    return new Assignment(Kind.INPUT_WEIGHTS, init);
  }

  /**
   * {@code init} for the recurrent weights {@code weight_hh_l{k}}.
   *
   * @param init the rule
   * @return the assignment
   */
  public static Assignment recurrent(Init init) {
    return new Assignment(Kind.RECURRENT_WEIGHTS, init);
  }

  /**
   * {@code init} for every bias ({@code bias_ih_l{k}}, {@code bias_hh_l{k}}, dense biases).
   *
   * @param init the rule, one for vectors
   * @return the assignment
   * @throws IllegalArgumentException if {@code init} needs a matrix (Glorot, He, orthogonal,
   *     identity)
   */
  public static Assignment bias(Init init) {
    return new Assignment(Kind.BIASES, init);
  }

  /**
   * The forget-gate bias of LSTM layers (Gers et al. 2000; Jozefowicz et al. 2015 recommend 1):
   * after the biases are filled, the forget gate's block {@code [H, 2H)} of {@code b_ih} is set to
   * {@code value} and that of {@code b_hh} to 0, so that the gate's bias, their sum, is {@code
   * value}, as Keras's {@code unit_forget_bias}.
   *
   * @param value the forget gate's bias
   * @return the assignment
   * @throws IllegalArgumentException if {@code value} is not finite
   */
  public static Assignment forgetBias(double value) {
    checkArgument(Double.isFinite(value), "forgetBias expected a finite value but got %s", value);
    return new Assignment(Kind.FORGET_GATE_BIAS, constant(value));
  }

  // ---- filling --------------------------------------------------------------------------------

  /** Whether the rule can fill a vector: it needs no fans and no matrix. */
  boolean fillsVectors() {
    return switch (rule) {
      case TORCH_DEFAULT, UNIFORM, NORMAL, CONSTANT -> true;
      default -> false;
    };
  }

  /** {@return whether this is {@link #torchDefault()}, whose meaning depends on the layer} */
  boolean isTorchDefault() {
    return rule == Rule.TORCH_DEFAULT;
  }

  /** The constant of {@link #constant}; for the forget-gate bias. */
  double value() {
    return value;
  }

  /**
   * Fills {@code p}, seen as {@code [rows, size / rows]} ({@code rows} its first dimension, 1 for
   * a vector seen as a column), drawing from {@code rnd}.
   *
   * @param p the parameter
   * @param torchBound the half-width of {@link #torchDefault()} here
   * @param blockRows the rows of one gate's block, for {@link #identity}
   */
  void fill(Parameter p, double torchBound, int blockRows, Random rnd) {
    int rows = p.shape().dim(0);
    int cols = p.shape().rank() == 1 ? 1 : p.size() / rows;
    Storage d = p.data();
    switch (rule) {
      case TORCH_DEFAULT -> p.fillUniform(rnd, torchBound);
      case UNIFORM -> p.fillUniform(rnd, value);
      case GLOROT_UNIFORM -> p.fillUniform(rnd, Math.sqrt(6.0 / (cols + rows)));
      case HE_UNIFORM -> p.fillUniform(rnd, Math.sqrt(6.0 / cols));
      case GLOROT_NORMAL -> fillNormal(d, Math.sqrt(2.0 / (cols + rows)), rnd);
      case HE_NORMAL -> fillNormal(d, Math.sqrt(2.0 / cols), rnd);
      case NORMAL -> fillNormal(d, value, rnd);
      case CONSTANT -> d.fill(0, p.size(), value);
      case IDENTITY -> {
        d.fill(0, p.size(), 0);
        for (int r = 0; r < rows; r++) {
          if (r % blockRows < cols) {
            d.set(r * cols + r % blockRows, value);
          }
        }
      }
      case ORTHOGONAL -> {
        double[] q = orthonormalColumns(Math.max(rows, cols), Math.min(rows, cols), rnd);
        int m = Math.min(rows, cols);
        for (int r = 0; r < rows; r++) {
          for (int c = 0; c < cols; c++) {
            // q is [max, min]: W = q if rows >= cols, else W = q^T
            d.set(r * cols + c, value * (rows >= cols ? q[r * m + c] : q[c * m + r]));
          }
        }
      }
      default -> throw new AssertionError(rule);
    }
  }

  private static void fillNormal(Storage d, double std, Random rnd) {
    for (int i = 0; i < d.length(); i++) {
      d.set(i, rnd.nextGaussian() * std);
    }
  }

  /**
   * An {@code [n, m]} matrix ({@code n >= m}, row-major) with orthonormal columns: {@code N(0, 1)}
   * samples drawn in row-major order, then modified Gram-Schmidt run twice over the columns, so
   * that the result is Q of the QR decomposition with a positive diagonal of R.
   */
  static double[] orthonormalColumns(int n, int m, Random rnd) {
    double[] a = new double[n * m];
    for (int i = 0; i < a.length; i++) {
      a[i] = rnd.nextGaussian();
    }
    for (int pass = 0; pass < 2; pass++) {
      for (int j = 0; j < m; j++) {
        for (int k = 0; k < j; k++) {
          double dot = 0;
          for (int i = 0; i < n; i++) {
            dot += a[i * m + k] * a[i * m + j];
          }
          for (int i = 0; i < n; i++) {
            a[i * m + j] -= dot * a[i * m + k];
          }
        }
        double norm = 0;
        for (int i = 0; i < n; i++) {
          norm += a[i * m + j] * a[i * m + j];
        }
        norm = Math.sqrt(norm);
        for (int i = 0; i < n; i++) {
          a[i * m + j] /= norm;
        }
      }
    }
    return a;
  }

  // ---- value ----------------------------------------------------------------------------------

  @Override public boolean equals(Object o) {
    return o instanceof Init i && i.rule == rule
        && Double.doubleToLongBits(i.value) == Double.doubleToLongBits(value);
  }

  @Override public int hashCode() {
    return rule.hashCode() * 31 + Double.hashCode(value);
  }

  /** As written, e.g. {@code orthogonal(1.0)}, {@code glorotUniform()}, {@code constant(0.0)}. */
  @Override public String toString() {
    return switch (rule) {
      case ORTHOGONAL, IDENTITY, UNIFORM, NORMAL, CONSTANT -> rule.written + "(" + value + ")";
      default -> rule.written + "()";
    };
  }
}
