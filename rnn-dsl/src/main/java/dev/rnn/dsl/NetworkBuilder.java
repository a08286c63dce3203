package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.errorprone.annotations.CanIgnoreReturnValue;
import dev.rnn.core.Activation;
import dev.rnn.core.Cell;
import dev.rnn.core.DType;
import dev.rnn.core.ParameterSpec;
import dev.rnn.core.Shape;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The fluent builder of a {@link Network}: layers in order, then the stacking mode and options,
 * then {@link #build()}.
 *
 * <pre>{@code
 * Network net = network().recurrent(2, 2).relu().recurrent(2, 1)
 *     .stacking(Stacking.STATES).initializer(Initializer.constant(1, 0)).build();
 * }</pre>
 *
 * <p>The only mutable object of the DSL; one builder builds any number of networks.
 *
 * <p>Every call checks its own argument and fails at once, so the message points at the call
 * that is wrong: a bad argument (a size below 1, a dropout probability outside [0, 1), a layer
 * whose input size is not the previous layer's output size, a layer that needs a sequence after
 * {@code lastStep()}, a layer that would take the network over {@link #MAX_PARAMETERS}
 * parameters) throws {@link IllegalArgumentException}; a call that does not fit what was
 * built so far (an option set twice, a modifier that follows no recurrent layer, {@code
 * handOffStates()} with {@link Stacking#STATES}) throws {@link IllegalStateException}. {@link
 * #build()} reports only what the whole network shows: no layer, no layer that sets the input
 * size, hand-off between layers of different directions.
 */
public final class NetworkBuilder {
  /**
   * The most parameters (numbers) a network may hold, in all its tensors together: {@link
   * Shape#MAX_ELEMENTS}, {@code 2^31 - 9}, the largest array a JVM allocates (8 GB of float32). A
   * layer that would take a network over it is refused when it is added, before anything is
   * allocated; sizes are counted in {@code long}, so no product of sizes can overflow.
   */
  public static final long MAX_PARAMETERS = Shape.MAX_ELEMENTS;

  private final List<Layer> layers = new ArrayList<>();
  private Stacking stacking;
  private boolean handOffStates;
  private boolean batchFirst;
  private DType dtype;
  private Initializer initializer;
  /** The {@code init(...)} assignments of layers, by layer index. */
  private final Map<Integer, Map<Init.Kind, Init.Assignment>> layerInits = new HashMap<>();
  private Long dropoutSeed;
  /** The feature size after the layers so far, or -1 before the first sized layer. */
  private int size = -1;
  /** The index of the layer that set {@link #size}. */
  private int sizeFrom = -1;
  /** Whether {@code lastStep()} was added: what follows sees one step, not a sequence. */
  private boolean afterLastStep;
  /** The index of the last recurrent layer, or -1. */
  private int lastRecurrent = -1;
  /** The parameters of the layers so far, counted by {@link #checkParameterCount}. */
  private long parameterCount;

  NetworkBuilder() {}

  // ---- recurrent layers ----------------------------------------------------------------------

  /**
   * The plain linear recurrent layer {@code s_t = W_xh x_t + W_hh s_{t-1} + b} ({@code W_xh}: out
   * x in, {@code W_hh}: out x out); its nonlinearity is whatever follows, placed by the stacking.
   *
   * @param in the input features
   * @param out the state and output features
   * @return this builder
   * @throws IllegalArgumentException if a size is below 1, {@code in} is not the output size
   *     of the layers so far, or the layer follows {@code lastStep()}
   */
  @CanIgnoreReturnValue
  public NetworkBuilder recurrent(int in, int out) {
    return recurrentLayer(RecurrentKind.LINEAR, "recurrent", in, out, null, null);
  }

  /**
   * A torch-style Elman layer with its activation inside the recurrence, {@code h_t = act(W_ih
   * x_t + b_ih + W_hh h_{t-1} + b_hh)}, as {@code torch.nn.RNN}.
   *
   * @param in the input features
   * @param out the hidden features
   * @param activation {@code act}
   * @return this builder
   * @throws IllegalArgumentException if a size is below 1, {@code in} is not the output size
   *     of the layers so far, or the layer follows {@code lastStep()}
   */
  @CanIgnoreReturnValue
  public NetworkBuilder elman(int in, int out, Activation activation) {
    checkNotNull(activation, "activation");
    return recurrentLayer(RecurrentKind.ELMAN, "elman", in, out, activation, null);
  }

  /**
   * An LSTM layer, as {@code torch.nn.LSTM} (gates i, f, g, o).
   *
   * @param in the input features
   * @param out the hidden features
   * @return this builder
   * @throws IllegalArgumentException if a size is below 1, {@code in} is not the output size
   *     of the layers so far, or the layer follows {@code lastStep()}
   */
  @CanIgnoreReturnValue
  public NetworkBuilder lstm(int in, int out) {
    return recurrentLayer(RecurrentKind.LSTM, "lstm", in, out, null, null);
  }

  /**
   * A GRU layer, as {@code torch.nn.GRU} (gates r, z, n).
   *
   * @param in the input features
   * @param out the hidden features
   * @return this builder
   * @throws IllegalArgumentException if a size is below 1, {@code in} is not the output size
   *     of the layers so far, or the layer follows {@code lastStep()}
   */
  @CanIgnoreReturnValue
  public NetworkBuilder gru(int in, int out) {
    return recurrentLayer(RecurrentKind.GRU, "gru", in, out, null, null);
  }

  /**
   * A recurrent layer with a cell of the user's own: it is scanned, backpropagated and trained as
   * the built-in ones. The cell must be stateless (one instance serves both directions and every
   * thread).
   *
   * @param cell the cell, scanned over the sequence
   * @return this builder
   * @throws IllegalArgumentException if the cell's input size is not the output size of the
   *     layers so far, or the layer follows {@code lastStep()}
   */
  @CanIgnoreReturnValue
  public NetworkBuilder cell(Cell cell) {
    checkNotNull(cell, "cell");
    return recurrentLayer(RecurrentKind.CUSTOM, "cell", cell.inputSize(), cell.hiddenSize(), null,
        cell);
  }

  private NetworkBuilder recurrentLayer(RecurrentKind kind, String name, int in, int out,
      Activation act, Cell custom) {
    checkArgument(in >= 1 && out >= 1, "%s(%s, %s) expected sizes >= 1", name, in, out);
    return add(new Layer.Recurrent(kind, in, out, act, custom));
  }

  /**
   * Appends {@code l} after checking that it fits the layers so far: its input size is the
   * current output size, it needs no sequence after {@code lastStep()}, and with hand-off its
   * state size is the previous recurrent layer's.
   */
  private NetworkBuilder add(Layer l) {
    int number = layers.size() + 1;
    if ((l instanceof Layer.Recurrent || l instanceof Layer.Last) && afterLastStep) {
      throw new IllegalArgumentException(l.describe() + " (layer " + number
          + ") needs a sequence but follows lastStep(), which keeps only the final step");
    }
    if (l.inputSize() > 0 && size > 0 && l.inputSize() != size) {
      throw new IllegalArgumentException(l.describe() + " expects input size " + size
          + " (the output of layer " + (sizeFrom + 1) + ", " + layers.get(sizeFrom).describe()
          + ") but got " + l.inputSize());
    }
    if (l instanceof Layer.Recurrent r) {
      if (handOffStates && lastRecurrent >= 0) {
        checkHandOffSizes(lastRecurrent, r, layers.size());
      }
      lastRecurrent = layers.size();
    }
    checkParameterCount(l, null, number);
    layers.add(l);
    if (l.inputSize() > 0) {
      size = l.outputSize(l.inputSize());
      sizeFrom = layers.size() - 1;
    }
    afterLastStep |= l instanceof Layer.Last;
    return this;
  }

  /** Replaces the last layer, a recurrent one, by its modified form {@code r}. */
  private NetworkBuilder replaceLast(Layer.Recurrent r) {
    checkParameterCount(r, layers.get(layers.size() - 1), layers.size());
    layers.set(layers.size() - 1, r);
    size = r.outputSize(r.inputSize());
    return this;
  }

  // ---- modifiers of the last recurrent layer -------------------------------------------------

  /**
   * Makes the last layer bidirectional: a reverse direction too, outputs concatenated {@code
   * [forward, reverse]}, so the layer's output size doubles.
   *
   * @return this builder
   * @throws IllegalStateException if the last layer is not recurrent
   */
  @CanIgnoreReturnValue
  public NetworkBuilder bidirectional() {
    return bidirectional(Merge.CONCAT);
  }

  /**
   * Makes the last layer bidirectional, its two directions' outputs joined by {@code merge}, as
   * Keras's {@code merge_mode}: {@link Merge#CONCAT} (as {@link #bidirectional()}, output size
   * {@code 2P}), {@link Merge#SUM}, {@link Merge#MUL} or {@link Merge#AVERAGE} (output size {@code
   * P}), with {@code P} the size of one direction's output.
   *
   * <pre>
   *   h→_t = cell(x_t, h→_{t-1}),  h←_t = cell'(x_t, h←_{t+1}),  y_t = merge(h→_t, h←_t)
   * </pre>
   *
   * @param merge how the directions' outputs are joined
   * @return this builder
   * @throws IllegalStateException if the last layer is not recurrent, or is bidirectional already
   */
  @CanIgnoreReturnValue
  public NetworkBuilder bidirectional(Merge merge) {
    checkNotNull(merge, "merge");
    Layer.Recurrent r = lastRecurrent("bidirectional()");
    if (r.bidirectional()) {
      throw new IllegalStateException("bidirectional() was already called on " + r.describe());
    }
    return replaceLast(r.withBidirectional(merge));
  }

  /**
   * Adds peephole connections to the last layer, an LSTM: the gates see the cell state (Graves
   * 2013, eq. 3-7).
   *
   * @return this builder
   * @throws IllegalStateException if the last layer is not {@code lstm(in, out)}
   */
  @CanIgnoreReturnValue
  public NetworkBuilder peepholes() {
    Layer.Recurrent r = lastRecurrent("peepholes()");
    if (!r.kind().takesPeepholes()) {
      throw new IllegalStateException("peepholes() must follow lstm(in, out) but follows "
          + r.describe());
    }
    if (r.peepholes()) {
      throw new IllegalStateException("peepholes() was already called on " + r.describe());
    }
    return replaceLast(r.with(Layer.Modifier.PEEPHOLES));
  }

  /**
   * Projects the output of the last layer, an LSTM, to {@code p} features, as torch's {@code
   * proj_size} (Sak et al. 2014, arXiv:1402.1128):
   *
   * <pre>
   *   m_t = o_t * tanh(c_t)              [N, H]     the LSTM's output before the projection
   *   h_t = m_t W_hr^T                   [N, p]     what the layer outputs and feeds back
   *   gates_t = x_t W_ih^T + h_{t-1} W_hh^T + b     W_hh: [4H, p]
   * </pre>
   *
   * <p>Parameters {@code weight_hr_l{k}} {@code [p, H]} (and {@code _reverse}), torch's names;
   * state {@code h_l{k}} {@code [N, p]}, {@code c_l{k}} {@code [N, H]}; the layer's output size
   * is {@code p} ({@code 2p} bidirectional). With {@code peepholes()} too this is Sak et al.'s
   * LSTMP, which torch's {@code nn.LSTM} has no equivalent of: such a network cannot be imported
   * from or exported to torch, while {@code lstm(in, H).projection(p)} without peepholes can, by
   * name.
   *
   * @param p the projection's size, in {@code [1, H)}
   * @return this builder
   * @throws IllegalStateException if the last layer is not {@code lstm(in, out)}, or already has
   *     a projection
   * @throws IllegalArgumentException if {@code p} is not in {@code [1, H)}, or the new state size
   *     does not fit a hand-off of states
   */
  @CanIgnoreReturnValue
  public NetworkBuilder projection(int p) {
    Layer.Recurrent r = lastRecurrent("projection(" + p + ")");
    if (!r.kind().takesProjection()) {
      throw new IllegalStateException("projection(" + p + ") must follow lstm(in, out) but"
          + " follows " + r.describe());
    }
    if (r.projection() > 0) {
      throw new IllegalStateException("projection() was already called on " + r.describe());
    }
    checkArgument(p >= 1 && p < r.out(), "projection(%s) of %s expected a size in [1, %s)"
        + " (smaller than the hidden size, as torch's proj_size) but got %s", p, r.describe(),
        r.out(), p);
    Layer.Recurrent projected = r.withProjection(p);
    int at = layers.size() - 1;
    if (handOffStates) {
      for (int i = at - 1; i >= 0; i--) {
        if (layers.get(i) instanceof Layer.Recurrent) {
          checkHandOffSizes(i, projected, at);
          break;
        }
      }
    }
    return replaceLast(projected);
  }

  /**
   * Removes the biases of the last recurrent layer, as torch's {@code bias=False}.
   *
   * @return this builder
   * @throws IllegalStateException if the last layer is not recurrent
   */
  @CanIgnoreReturnValue
  public NetworkBuilder noBias() {
    Layer.Recurrent r = lastRecurrent("noBias()");
    if (!r.bias()) {
      throw new IllegalStateException("noBias() was already called on " + r.describe());
    }
    Map<Init.Kind, Init.Assignment> inits = layerInits.get(layers.size() - 1);
    for (Init.Kind k : List.of(Init.Kind.BIASES, Init.Kind.FORGET_GATE_BIAS)) {
      if (inits != null && inits.containsKey(k)) {
        throw new IllegalStateException("noBias() removes the biases that " + inits.get(k)
            + " set on " + r.describe());
      }
    }
    return replaceLast(r.with(Layer.Modifier.NO_BIAS));
  }

  /**
   * Gives the last layer a learnable initial state ({@code h0} and {@code c0} vectors, shared by
   * every sequence of a batch, trained like the weights) instead of zeros.
   *
   * @return this builder
   * @throws IllegalStateException if the last layer is not recurrent
   */
  @CanIgnoreReturnValue
  public NetworkBuilder learnableInitialState() {
    Layer.Recurrent r = lastRecurrent("learnableInitialState()");
    if (r.learnableInit()) {
      throw new IllegalStateException("learnableInitialState() was already called on "
          + r.describe());
    }
    return replaceLast(r.with(Layer.Modifier.LEARNABLE_INITIAL_STATE));
  }

  /**
   * Sets how the last layer's parameters are initialised, per kind, in place of the network's
   * {@link #initializer}: e.g. an IRNN's {@code elman(2, 100, RELU).init(Init.recurrent(
   * Init.identity(1)), Init.input(Init.normal(0.001)), Init.bias(Init.zeros()))}. The kinds not
   * named here follow the network's initializer; the samples come from the network's seed. A
   * dense layer has input weights (its weight) and biases.
   *
   * @param assignments what to set, one per kind, made by {@link Init#input}, {@link
   *     Init#recurrent}, {@link Init#bias} and {@link Init#forgetBias}
   * @return this builder
   * @throws IllegalStateException if the last layer is not recurrent or dense, does not have a
   *     kind named (a dense layer's recurrent weights or forget gate, a layer's biases after
   *     {@code noBias()}, the forget gate of a layer that is not an LSTM), or a kind was already
   *     set on it
   */
  @CanIgnoreReturnValue
  public NetworkBuilder init(Init.Assignment... assignments) {
    StringBuilder call = new StringBuilder("init(");
    for (int i = 0; i < assignments.length; i++) {
      checkNotNull(assignments[i], "init expected assignments but got null");
      call.append(i > 0 ? ", " : "").append(assignments[i]);
    }
    call.append(')');
    Layer last = layers.isEmpty() ? null : layers.get(layers.size() - 1);
    if (!(last instanceof Layer.Recurrent || last instanceof Layer.Dense)) {
      throw new IllegalStateException(call + " must follow a recurrent or dense layer but"
          + " follows " + (last == null ? "nothing" : last.describe()));
    }
    Map<Init.Kind, Init.Assignment> inits =
        layerInits.computeIfAbsent(layers.size() - 1, i -> new EnumMap<>(Init.Kind.class));
    Map<Init.Kind, Init.Assignment> now = new EnumMap<>(Init.Kind.class);
    for (Init.Assignment a : assignments) {
      String missing = missingKind(last, a.kind());
      if (missing != null) {
        throw new IllegalStateException(call + ": " + last.describe() + " has no " + missing);
      }
      Init.Assignment before = inits.containsKey(a.kind()) ? inits.get(a.kind())
          : now.get(a.kind());
      if (before != null) {
        throw new IllegalStateException("the " + a.kind().words() + " of layer " + layers.size()
            + ", " + last.describe() + " were already set by " + before);
      }
      now.put(a.kind(), a);
    }
    inits.putAll(now);
    return this;
  }

  /** What {@code layer} lacks of {@code kind}, in words, or null if it has it. */
  private static String missingKind(Layer layer, Init.Kind kind) {
    boolean forget = kind == Init.Kind.FORGET_GATE_BIAS;
    if (layer instanceof Layer.Recurrent r) {
      if ((kind == Init.Kind.BIASES || forget) && !r.bias()) {
        return "biases";
      }
      return forget && r.kind().forgetGate() < 0 ? "forget gate (only lstm has one)" : null;
    }
    return kind == Init.Kind.RECURRENT_WEIGHTS ? "recurrent weights"
        : forget ? "forget gate (only lstm has one)" : null;
  }

  private Layer.Recurrent lastRecurrent(String what) {
    if (layers.isEmpty() || !(layers.get(layers.size() - 1) instanceof Layer.Recurrent)) {
      throw new IllegalStateException(what + " must follow a recurrent layer but follows "
          + (layers.isEmpty() ? "nothing" : layers.get(layers.size() - 1).describe()));
    }
    return (Layer.Recurrent) layers.get(layers.size() - 1);
  }

  // ---- other layers --------------------------------------------------------------------------

  /**
   * {@code max(0, x)}: inside the preceding {@code recurrent} layer under STATES, else outside.
   *
   * @return this builder
   */
  @CanIgnoreReturnValue
  public NetworkBuilder relu() {
    return add(new Layer.Act(Activation.RELU));
  }

  /**
   * {@code tanh(x)}, placed like {@link #relu()}.
   *
   * @return this builder
   */
  @CanIgnoreReturnValue
  public NetworkBuilder tanh() {
    return add(new Layer.Act(Activation.TANH));
  }

  /**
   * {@code 1 / (1 + exp(-x))}, placed like {@link #relu()}.
   *
   * @return this builder
   */
  @CanIgnoreReturnValue
  public NetworkBuilder sigmoid() {
    return add(new Layer.Act(Activation.SIGMOID));
  }

  /**
   * A dense layer on every time step, {@code y_t = W x_t + b} (W: out x in).
   *
   * @param in the input features
   * @param out the output features
   * @return this builder
   * @throws IllegalArgumentException if a size is below 1 or {@code in} is not the output size
   *     of the layers so far
   */
  @CanIgnoreReturnValue
  public NetworkBuilder dense(int in, int out) {
    checkArgument(in >= 1 && out >= 1, "dense(%s, %s) expected sizes >= 1", in, out);
    return add(new Layer.Dense(in, out));
  }

  /**
   * An embedding of token ids as the first layer, torch's {@code nn.Embedding(vocab, dim)}: the
   * network then reads whole-number ids, one per step, instead of feature vectors.
   *
   * <pre>
   *   e_t = E[id_t]           E = embedding.weight [vocab, dim], initialised N(0, 1)
   *   dE[id_t] += de_t        the rows used collect their gradients (dense, as torch's default)
   * </pre>
   *
   * <p>Input {@code [T, N]} ids ({@code [N, T]} batch-first, {@code [T]} unbatched; {@code [N]}
   * for a streaming step), each a whole number in {@code [0, vocab)}; output {@code [T, N,
   * dim]}.
   *
   * @param vocab the number of ids
   * @param dim the features of each id's row
   * @return this builder
   * @throws IllegalArgumentException if a size is below 1, or the layer is not the first
   */
  @CanIgnoreReturnValue
  public NetworkBuilder embedding(int vocab, int dim) {
    return embeddingLayer(vocab, dim, -1);
  }

  /**
   * As {@link #embedding(int, int)} with a padding id, torch's {@code padding_idx}: its row is
   * zero and gets no gradient, so it stays zero (e.g. the id that fills short sentences).
   *
   * @param vocab the number of ids
   * @param dim the features of each id's row
   * @param paddingId the padding id, in {@code [0, vocab)}
   * @return this builder
   * @throws IllegalArgumentException if a size is below 1, the padding id is not an id, or the
   *     layer is not the first
   */
  @CanIgnoreReturnValue
  public NetworkBuilder embedding(int vocab, int dim, int paddingId) {
    checkArgument(paddingId >= 0 && paddingId < vocab,
        "embedding(%s, %s, %s) expected a padding id in [0, %s) but got %s", vocab, dim,
        paddingId, vocab, paddingId);
    return embeddingLayer(vocab, dim, paddingId);
  }

  private NetworkBuilder embeddingLayer(int vocab, int dim, int paddingId) {
    checkArgument(vocab >= 1 && dim >= 1, "embedding(%s, %s) expected sizes >= 1", vocab, dim);
    Layer.Embedding e = new Layer.Embedding(vocab, dim, paddingId);
    checkArgument(layers.isEmpty(), "%s must be the first layer (it reads token ids) but follows"
        + " %s", e.describe(), layers.isEmpty() ? "" : layers.get(layers.size() - 1).describe());
    layers.add(e);
    size = dim;
    sizeFrom = 0;
    return this;
  }

  /**
   * Inverted dropout with probability {@code p} in training, the identity in inference.
   *
   * @param p the probability that an element is zeroed
   * @return this builder
   * @throws IllegalArgumentException unless {@code 0 <= p < 1}
   */
  @CanIgnoreReturnValue
  public NetworkBuilder dropout(double p) {
    checkArgument(p >= 0 && p < 1, "dropout(p) expected 0 <= p < 1 but got %s", p);
    return add(new Layer.Drop(p));
  }

  /**
   * Keeps only the final time step's output: {@code [T, N, F] -> [N, F]}.
   *
   * @return this builder
   * @throws IllegalArgumentException if it follows {@code lastStep()}
   */
  @CanIgnoreReturnValue
  public NetworkBuilder lastStep() {
    return add(new Layer.Last());
  }

  // ---- options -------------------------------------------------------------------------------

  /**
   * Where activations after {@code recurrent(in, out)} go (default {@link Stacking#OUTPUTS}).
   *
   * @param mode the stacking
   * @return this builder
   * @throws IllegalStateException if the stacking was already set
   */
  @CanIgnoreReturnValue
  public NetworkBuilder stacking(Stacking mode) {
    checkNotNull(mode, "stacking");
    if (stacking != null) {
      throw new IllegalStateException("stacking was already set to " + stacking);
    }
    if (handOffStates && mode == Stacking.STATES) {
      throw new IllegalStateException("stacking(STATES) does not go with handOffStates(): under"
          + " Stacking.STATES the hidden sequence, not the final state, feeds the next layer");
    }
    stacking = mode;
    return this;
  }

  /**
   * Under {@link Stacking#OUTPUTS}: each recurrent layer's final state initialises the next
   * recurrent layer's state (Keras {@code return_state} -> {@code initial_state}); sizes and
   * directions must match.
   *
   * @return this builder
   * @throws IllegalStateException if it was already called or the stacking is {@link
   *     Stacking#STATES}
   * @throws IllegalArgumentException if two recurrent layers added so far have different state
   *     sizes
   */
  @CanIgnoreReturnValue
  public NetworkBuilder handOffStates() {
    if (handOffStates) {
      throw new IllegalStateException("handOffStates() was already called");
    }
    if (stacking == Stacking.STATES) {
      throw new IllegalStateException("handOffStates() needs Stacking.OUTPUTS: under"
          + " Stacking.STATES the hidden sequence, not the final state, feeds the next layer");
    }
    int previous = -1;
    for (int i = 0; i < layers.size(); i++) {
      if (layers.get(i) instanceof Layer.Recurrent r) {
        if (previous >= 0) {
          checkHandOffSizes(previous, r, i);
        }
        previous = i;
      }
    }
    handOffStates = true;
    return this;
  }

  /**
   * Inputs and outputs are {@code [batch, seq, features]} (default {@code [seq, batch, ...]}).
   *
   * @return this builder
   * @throws IllegalStateException if it was already called
   */
  @CanIgnoreReturnValue
  public NetworkBuilder batchFirst() {
    if (batchFirst) {
      throw new IllegalStateException("batchFirst() was already called");
    }
    batchFirst = true;
    return this;
  }

  /**
   * The dtype of parameters, inputs and outputs (default float32).
   *
   * @param dtype the dtype
   * @return this builder
   * @throws IllegalStateException if the dtype was already set
   */
  @CanIgnoreReturnValue
  public NetworkBuilder dtype(DType dtype) {
    checkNotNull(dtype, "dtype");
    if (this.dtype != null) {
      throw new IllegalStateException("dtype was already set to " + this.dtype);
    }
    this.dtype = dtype;
    return this;
  }

  /**
   * How the parameters of every layer are set (default {@code Initializer.torchDefault(0)}), for
   * example {@code Initializer.kerasDefaults(42)}; a layer's own {@link #init} replaces some
   * kinds for that layer.
   *
   * @param initializer the initializer
   * @return this builder
   * @throws IllegalStateException if the initializer (or the seed) was already set
   */
  @CanIgnoreReturnValue
  public NetworkBuilder initializer(Initializer initializer) {
    checkNotNull(initializer, "initializer");
    checkInitializerUnset();
    this.initializer = initializer;
    return this;
  }

  private void checkInitializerUnset() {
    if (initializer != null) {
      throw new IllegalStateException("the initializer was already set to " + initializer);
    }
  }

  /**
   * Torch's default initialisation from {@code seed}: short for {@code
   * initializer(torchDefault(seed))}.
   *
   * @param seed the seed
   * @return this builder
   * @throws IllegalStateException if the initializer (or the seed) was already set
   */
  @CanIgnoreReturnValue
  public NetworkBuilder seed(long seed) {
    checkInitializerUnset();
    this.initializer = Initializer.torchDefault(seed);
    return this;
  }

  /**
   * The seed of dropout masks in training (default 0): the {@link Trainer} mixes it with the
   * epoch, batch and BPTT window into the seed of each pass's graph, so that equal seeds give
   * equal training. The network itself keeps no random state.
   *
   * @param seed the seed
   * @return this builder
   * @throws IllegalStateException if the dropout seed was already set
   */
  @CanIgnoreReturnValue
  public NetworkBuilder dropoutSeed(long seed) {
    if (dropoutSeed != null) {
      throw new IllegalStateException("the dropout seed was already set to " + dropoutSeed);
    }
    this.dropoutSeed = seed;
    return this;
  }

  /**
   * Builds the network; what each call checked is not checked again, only what the whole
   * network shows.
   *
   * @return a new network
   * @throws IllegalStateException if there are no layers, or none with a size (only activations,
   *     dropout, lastStep)
   * @throws IllegalArgumentException if {@code handOffStates()} hands a state between a
   *     bidirectional layer and one that is not
   */
  public Network build() {
    if (layers.isEmpty()) {
      throw new IllegalStateException(
          "network() has no layers: add one, e.g. network().recurrent(2, 2)");
    }
    if (size < 0) {
      throw new IllegalStateException(this + " has no layer that sets the input size: add a"
          + " recurrent or dense layer, e.g. " + this + ".dense(2, 2)");
    }
    if (handOffStates) {
      int previous = -1;
      for (int i = 0; i < layers.size(); i++) {
        if (layers.get(i) instanceof Layer.Recurrent r) {
          if (previous >= 0) {
            Layer.Recurrent a = (Layer.Recurrent) layers.get(previous);
            if (a.bidirectional() != r.bidirectional()) {
              throw new IllegalArgumentException("handOffStates: " + handOff(previous, i)
                  + ", but one is bidirectional and the other is not");
            }
          }
          previous = i;
        }
      }
    }
    Initializer init = initializer == null ? Initializer.torchDefault(0) : initializer;
    List<Initializer> inits = new ArrayList<>();
    for (int i = 0; i < layers.size(); i++) {
      Map<Init.Kind, Init.Assignment> own = layerInits.get(i);
      inits.add(own == null ? init : init.with(own.values().toArray(new Init.Assignment[0])));
    }
    return new Network(List.copyOf(layers), stacking == null ? Stacking.OUTPUTS : stacking,
        handOffStates, batchFirst, dtype == null ? DType.FLOAT32 : dtype, init,
        List.copyOf(inits), dropoutSeed == null ? 0 : dropoutSeed);
  }

  /**
   * Refuses layer {@code l} (number {@code number}, replacing {@code replaced} or added) if it, or
   * the network with it, would hold more than {@link #MAX_PARAMETERS} numbers: counted in {@code
   * long} from the sizes alone, before any cell, scan or parameter exists.
   */
  private void checkParameterCount(Layer l, Layer replaced, int number) {
    long n = parameterCount(l);
    long total = plus(parameterCount - parameterCount(replaced), n);
    if (n > MAX_PARAMETERS || total > MAX_PARAMETERS) {
      throw new IllegalArgumentException(l.describe() + " (layer " + number + ") would "
          + (n > MAX_PARAMETERS ? "have " : "bring the network to ")
          + (total == Long.MAX_VALUE ? "more than " + Long.MAX_VALUE : n > MAX_PARAMETERS ? n
              : total) + " parameters, more than the " + MAX_PARAMETERS + " a network may hold");
    }
    parameterCount = total;
  }

  /**
   * The numbers in the parameters of {@code l} (0 for null), saturated at {@code Long.MAX_VALUE}:
   * a recurrent layer's {@code W_ih [G, in]}, {@code W_hh [G, S]}, {@code W_hr [P, H]} with a
   * projection, biases, its cell's extra parameters and learned initial states (counted as {@code
   * H} each, an upper bound), per direction; a dense layer's {@code W}, {@code b}; an embedding's
   * table.
   */
  private static long parameterCount(Layer l) {
    if (l instanceof Layer.Dense d) {
      return (long) d.in() * d.out() + d.out();
    }
    if (l instanceof Layer.Embedding e) {
      return (long) e.vocab() * e.dim();
    }
    if (!(l instanceof Layer.Recurrent r)) {
      return 0;
    }
    Cell cell = r.kind().cell(r, Activation.IDENTITY);
    // A built-in cell's gate size is a multiple of its hidden size, which may overflow an int for
    // absurd sizes: take the multiple from a cell of one unit and count in long.
    long g = r.custom() != null ? cell.gateSize()
        : times(r.kind().cell(new Layer.Recurrent(r.kind(), 1, 1, r.activation(), null,
            r.modifiers(), 0, r.merge()), Activation.IDENTITY).gateSize(), r.out());
    long h = cell.hiddenSize();
    // W_ih [G, in], W_hh [G, S] with S the state fed back (the projection's size, if any)
    long n = plus(times(g, cell.inputSize()), times(g, r.stateSize()));
    if (r.projection() > 0) {
      n = plus(n, times(r.projection(), h)); // W_hr [P, H]
    }
    n = plus(n, times(!r.bias() ? 0 : r.kind().linear() ? 1 : 2, g));
    for (ParameterSpec spec : cell.extraParameters()) {
      n = plus(n, spec.shape().size());
    }
    n = plus(n, r.learnableInit() ? times(cell.stateCount(), h) : 0);
    return times(n, r.bidirectional() ? 2 : 1);
  }

  /** {@code a * b} for {@code a, b >= 0}, saturated at {@code Long.MAX_VALUE}. */
  private static long times(long a, long b) {
    return b != 0 && a > Long.MAX_VALUE / b ? Long.MAX_VALUE : a * b;
  }

  /** {@code a + b} for {@code a, b >= 0}, saturated at {@code Long.MAX_VALUE}. */
  private static long plus(long a, long b) {
    return a > Long.MAX_VALUE - b ? Long.MAX_VALUE : a + b;
  }

  /** Refuses hand-off from layer {@code i} to {@code b} (layer {@code j}) of another size. */
  private void checkHandOffSizes(int i, Layer.Recurrent b, int j) {
    Layer.Recurrent a = (Layer.Recurrent) layers.get(i);
    if (a.stateSize() != b.stateSize()) {
      throw new IllegalArgumentException("handOffStates: " + handOff(i, j, b)
          + ", but their state sizes differ: " + a.stateSize() + " and " + b.stateSize());
    }
    if (a.kind().takesProjection() && b.kind().takesProjection() && a.out() != b.out()) {
      throw new IllegalArgumentException("handOffStates: " + handOff(i, j, b)
          + ", but their cell state sizes differ: " + a.out() + " and " + b.out());
    }
  }

  private String handOff(int i, int j) {
    return handOff(i, j, layers.get(j));
  }

  private String handOff(int i, int j, Layer b) {
    return "layer " + (i + 1) + ", " + layers.get(i).describe() + " hands its final state to layer "
        + (j + 1) + ", " + b.describe();
  }

  @Override public String toString() {
    StringBuilder sb = new StringBuilder("network()");
    for (Layer l : layers) {
      sb.append('.').append(l.describe());
    }
    return sb.toString();
  }
}
