package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.collect.ImmutableMap;
import com.google.common.collect.Maps;
import java.util.EnumMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * How a new network's parameters are set: one {@link Init} per kind of parameter (input weights,
 * recurrent weights, biases, and optionally the LSTM forget-gate bias) and the seed of the
 * samples. Set for the whole network with {@link NetworkBuilder#initializer}; a layer's own
 * {@link NetworkBuilder#init} replaces some kinds for that layer.
 *
 * <pre>{@code
 * Initializer.torchDefault(42)                          // torch's default, every kind
 * Initializer.kerasDefaults(42)                         // Glorot input, orthogonal recurrent, 0 bias, forget bias 1
 * Initializer.torchDefault(42).with(Init.recurrent(Init.orthogonal()), Init.forgetBias(1))
 * Initializer.constant(1, 0)                            // every weight 1, every bias 0: hand-worked examples
 * }</pre>
 *
 * <p>Torch's default: every recurrent weight and bias uniform in {@code [-1/sqrt(H), 1/sqrt(H)]}
 * (H the layer's hidden size), every dense weight and bias uniform in {@code [-1/sqrt(in),
 * 1/sqrt(in)]}. The formulas of the other rules are in {@link Init}.
 *
 * <p>The parameters are filled in the network's name order (each recurrent layer's directions,
 * each with {@code weight_ih}, {@code weight_hh}, {@code bias_ih}, {@code bias_hh} and a cell's
 * extra parameters; then dense layers in order), drawing from one {@code new Random(seed)}, so
 * that equal initializers give equal networks, bit for bit. Extra parameters of a cell (peepholes,
 * a user cell's gains) follow the cell's own {@link dev.rnn.core.ParameterSpec} (or the weight of
 * {@link #constant}); learned initial states start at zero. The forget-gate bias applies to LSTM
 * layers with biases; other layers have none.
 *
 * <p>Immutable; {@link #with} makes a changed copy.
 */
public final class Initializer {
  private final long seed;
  private final ImmutableMap<Init.Kind, Init> inits;
  /** The extra parameters of cells: null for their own spec; {@link #constant}'s weight. */
  private final Init extras;
  private final String written;

  private Initializer(long seed, Map<Init.Kind, Init> inits, Init extras, String written) {
    this.seed = seed;
    this.inits = Maps.immutableEnumMap(inits);
    this.extras = extras;
    this.written = written;
  }

  /**
   * Torch's default initialisation, reproducible from {@code seed}.
   *
   * @param seed the seed
   * @return the initializer
   */
  public static Initializer torchDefault(long seed) {
    Map<Init.Kind, Init> m = new EnumMap<>(Init.Kind.class);
    m.put(Init.Kind.INPUT_WEIGHTS, Init.torchDefault());
    m.put(Init.Kind.RECURRENT_WEIGHTS, Init.torchDefault());
    m.put(Init.Kind.BIASES, Init.torchDefault());
    return new Initializer(seed, m, null, "torchDefault(" + seed + ")");
  }

  /**
   * Keras's defaults for recurrent layers, from {@code seed}: input weights {@link
   * Init#glorotUniform()}, recurrent weights {@link Init#orthogonal()}, biases {@link
   * Init#zeros()}, and LSTM forget-gate bias 1 ({@code unit_forget_bias}); dense layers get
   * Glorot-uniform weights and zero biases, as Keras's {@code Dense}.
   *
   * @param seed the seed
   * @return the initializer
   */
  public static Initializer kerasDefaults(long seed) {
    Map<Init.Kind, Init> m = new EnumMap<>(Init.Kind.class);
    m.put(Init.Kind.INPUT_WEIGHTS, Init.glorotUniform());
    m.put(Init.Kind.RECURRENT_WEIGHTS, Init.orthogonal());
    m.put(Init.Kind.BIASES, Init.zeros());
    m.put(Init.Kind.FORGET_GATE_BIAS, Init.constant(1));
    return new Initializer(seed, m, null, "kerasDefaults(" + seed + ")");
  }

  /**
   * Every weight {@code weight} and every bias {@code bias}; e.g. {@code constant(1, 0)} for the
   * seed network. Extra cell parameters (peepholes, gains) get {@code weight} too.
   *
   * @param weight the value of every weight
   * @param bias the value of every bias
   * @return the initializer
   * @throws IllegalArgumentException if a value is not finite
   */
  public static Initializer constant(double weight, double bias) {
    checkArgument(Double.isFinite(weight) && Double.isFinite(bias),
        "constant initializer expected finite values but got %s and %s", weight, bias);
    Map<Init.Kind, Init> m = new EnumMap<>(Init.Kind.class);
    m.put(Init.Kind.INPUT_WEIGHTS, Init.constant(weight));
    m.put(Init.Kind.RECURRENT_WEIGHTS, Init.constant(weight));
    m.put(Init.Kind.BIASES, Init.constant(bias));
    return new Initializer(0, m, Init.constant(weight), "constant(" + weight + ", " + bias + ")");
  }

  /**
   * This initializer with the kinds {@code assignments} name filled as they say, e.g. {@code
   * torchDefault(1).with(Init.recurrent(Init.orthogonal()))}; the other kinds and the seed are
   * kept.
   *
   * @param assignments one per kind replaced
   * @return the changed copy
   * @throws IllegalArgumentException if two assignments name the same kind
   */
  public Initializer with(Init.Assignment... assignments) {
    Map<Init.Kind, Init> m = new EnumMap<>(Init.Kind.class);
    m.putAll(inits);
    StringJoiner written = new StringJoiner(", ", this.written + ".with(", ")");
    Map<Init.Kind, Init.Assignment> seen = new EnumMap<>(Init.Kind.class);
    for (Init.Assignment a : assignments) {
      checkNotNull(a, "with expected assignments but got null");
      Init.Assignment before = seen.put(a.kind(), a);
      checkArgument(before == null, "with got the %s twice: %s and %s", a.kind().words(), before,
          a);
      m.put(a.kind(), a.init());
      written.add(a.toString());
    }
    return new Initializer(seed, m, extras, written.toString());
  }

  /** {@return the seed of the samples} */
  long seed() {
    return seed;
  }

  /** {@return how {@code kind} is filled, or null for a forget-gate bias left as the biases are} */
  Init init(Init.Kind kind) {
    return inits.get(kind);
  }

  /** {@return how the extra parameters of cells are filled; null for the cell's own spec} */
  Init extras() {
    return extras;
  }

  /** As written: {@code torchDefault(1)}, {@code constant(1.0, 0.0)}, {@code ....with(...)}. */
  @Override public String toString() {
    return written;
  }
}
