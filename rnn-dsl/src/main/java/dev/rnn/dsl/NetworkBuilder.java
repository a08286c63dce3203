package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.errorprone.annotations.CanIgnoreReturnValue;
import dev.rnn.core.Activation;
import dev.rnn.core.Cell;
import dev.rnn.core.DType;
import java.util.ArrayList;
import java.util.List;

/**
 * The fluent builder of a {@link Network}: layers in order, then the stacking mode and options,
 * then {@link #build()}, which checks that the layers fit together.
 *
 * <pre>{@code
 * Network net = network().recurrent(2, 2).relu().recurrent(2, 1)
 *     .stacking(Stacking.STATES).initializer(Initializer.constant(1, 0)).build();
 * }</pre>
 *
 * <p>The only mutable object of the DSL; one builder builds any number of networks.
 */
public final class NetworkBuilder {
  private final List<Layer> layers = new ArrayList<>();
  private Stacking stacking;
  private boolean handOffStates;
  private boolean batchFirst;
  private DType dtype = DType.FLOAT32;
  private Initializer initializer;
  private Long dropoutSeed;

  NetworkBuilder() {}

  // ---- recurrent layers ----------------------------------------------------------------------

  /**
   * The plain linear recurrent layer {@code s_t = W_xh x_t + W_hh s_{t-1} + b} ({@code W_xh}: out
   * x in, {@code W_hh}: out x out); its nonlinearity is whatever follows, placed by the stacking.
   *
   * @param in the input features
   * @param out the state and output features
   * @return this builder
   */
  @CanIgnoreReturnValue
  public NetworkBuilder recurrent(int in, int out) {
    return recurrentLayer(Layer.Kind.LINEAR, "recurrent", in, out, null, null);
  }

  /**
   * A torch-style Elman layer with its activation inside the recurrence, {@code h_t = act(W_ih
   * x_t + b_ih + W_hh h_{t-1} + b_hh)}, as {@code torch.nn.RNN}.
   *
   * @param in the input features
   * @param out the hidden features
   * @param activation {@code act}
   * @return this builder
   */
  @CanIgnoreReturnValue
  public NetworkBuilder elman(int in, int out, Activation activation) {
    checkNotNull(activation, "activation");
    return recurrentLayer(Layer.Kind.ELMAN, "elman", in, out, activation, null);
  }

  /**
   * An LSTM layer, as {@code torch.nn.LSTM} (gates i, f, g, o).
   *
   * @param in the input features
   * @param out the hidden features
   * @return this builder
   */
  @CanIgnoreReturnValue
  public NetworkBuilder lstm(int in, int out) {
    return recurrentLayer(Layer.Kind.LSTM, "lstm", in, out, null, null);
  }

  /**
   * A GRU layer, as {@code torch.nn.GRU} (gates r, z, n).
   *
   * @param in the input features
   * @param out the hidden features
   * @return this builder
   */
  @CanIgnoreReturnValue
  public NetworkBuilder gru(int in, int out) {
    return recurrentLayer(Layer.Kind.GRU, "gru", in, out, null, null);
  }

  /**
   * A recurrent layer with a cell of the user's own: it is scanned, backpropagated and trained as
   * the built-in ones. The cell must be stateless (one instance serves both directions and every
   * thread).
   *
   * @param cell the cell, scanned over the sequence
   * @return this builder
   */
  @CanIgnoreReturnValue
  public NetworkBuilder cell(Cell cell) {
    checkNotNull(cell, "cell");
    return recurrentLayer(Layer.Kind.CUSTOM, "cell", cell.inputSize(), cell.hiddenSize(), null,
        cell);
  }

  private NetworkBuilder recurrentLayer(Layer.Kind kind, String name, int in, int out,
      Activation act, Cell custom) {
    checkArgument(in >= 1 && out >= 1, "%s(%s, %s) expected sizes >= 1", name, in, out);
    layers.add(new Layer.Recurrent(kind, in, out, act, false, false, false, true, custom));
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
    Layer.Recurrent r = lastRecurrent("bidirectional()");
    layers.set(layers.size() - 1, r.withBidirectional());
    return this;
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
    if (r.kind() != Layer.Kind.LSTM) {
      throw new IllegalStateException("peepholes() must follow lstm(in, out) but follows "
          + r.describe());
    }
    layers.set(layers.size() - 1, r.withPeepholes());
    return this;
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
    layers.set(layers.size() - 1, r.withoutBias());
    return this;
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
    layers.set(layers.size() - 1, r.withLearnableInit());
    return this;
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
    layers.add(new Layer.Act(Activation.RELU));
    return this;
  }

  /**
   * {@code tanh(x)}, placed like {@link #relu()}.
   *
   * @return this builder
   */
  @CanIgnoreReturnValue
  public NetworkBuilder tanh() {
    layers.add(new Layer.Act(Activation.TANH));
    return this;
  }

  /**
   * {@code 1 / (1 + exp(-x))}, placed like {@link #relu()}.
   *
   * @return this builder
   */
  @CanIgnoreReturnValue
  public NetworkBuilder sigmoid() {
    layers.add(new Layer.Act(Activation.SIGMOID));
    return this;
  }

  /**
   * A dense layer on every time step, {@code y_t = W x_t + b} (W: out x in).
   *
   * @param in the input features
   * @param out the output features
   * @return this builder
   */
  @CanIgnoreReturnValue
  public NetworkBuilder dense(int in, int out) {
    checkArgument(in >= 1 && out >= 1, "dense(%s, %s) expected sizes >= 1", in, out);
    layers.add(new Layer.Dense(in, out));
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
    layers.add(new Layer.Drop(p));
    return this;
  }

  /**
   * Keeps only the final time step's output: {@code [T, N, F] -> [N, F]}.
   *
   * @return this builder
   */
  @CanIgnoreReturnValue
  public NetworkBuilder lastStep() {
    layers.add(new Layer.Last());
    return this;
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
    stacking = mode;
    return this;
  }

  /**
   * Under {@link Stacking#OUTPUTS}: each recurrent layer's final state initialises the next
   * recurrent layer's state (Keras {@code return_state} -> {@code initial_state}); sizes and
   * directions must match.
   *
   * @return this builder
   */
  @CanIgnoreReturnValue
  public NetworkBuilder handOffStates() {
    handOffStates = true;
    return this;
  }

  /**
   * Inputs and outputs are {@code [batch, seq, features]} (default {@code [seq, batch, ...]}).
   *
   * @return this builder
   */
  @CanIgnoreReturnValue
  public NetworkBuilder batchFirst() {
    batchFirst = true;
    return this;
  }

  /**
   * The dtype of parameters, inputs and outputs (default float32).
   *
   * @param dtype the dtype
   * @return this builder
   */
  @CanIgnoreReturnValue
  public NetworkBuilder dtype(DType dtype) {
    this.dtype = checkNotNull(dtype, "dtype");
    return this;
  }

  /**
   * How parameters are set (default {@code Initializer.torchDefault(0)}).
   *
   * @param initializer the initializer
   * @return this builder
   */
  @CanIgnoreReturnValue
  public NetworkBuilder initializer(Initializer initializer) {
    this.initializer = checkNotNull(initializer, "initializer");
    return this;
  }

  /**
   * Torch's default initialisation from {@code seed}: short for {@code
   * initializer(torchDefault(seed))}.
   *
   * @param seed the seed
   * @return this builder
   */
  @CanIgnoreReturnValue
  public NetworkBuilder seed(long seed) {
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
   */
  @CanIgnoreReturnValue
  public NetworkBuilder dropoutSeed(long seed) {
    this.dropoutSeed = seed;
    return this;
  }

  /**
   * Checks the layers and builds the network.
   *
   * @return a new network
   * @throws IllegalStateException if there are no layers, or none with a size (only activations,
   *     dropout, lastStep), or {@code handOffStates()} is used with {@link Stacking#STATES}
   * @throws IllegalArgumentException if a layer's input size differs from the output size of the
   *     layer before it, naming both; if a recurrent layer or another {@code lastStep()} follows
   *     {@code lastStep()}; or if a state hand-off does not fit
   */
  public Network build() {
    if (layers.isEmpty()) {
      throw new IllegalStateException(
          "network() has no layers: add one, e.g. network().recurrent(2, 2)");
    }
    Stacking mode = stacking == null ? Stacking.OUTPUTS : stacking;
    if (handOffStates && mode == Stacking.STATES) {
      throw new IllegalStateException("handOffStates() needs Stacking.OUTPUTS: under"
          + " Stacking.STATES the hidden sequence, not the final state, feeds the next layer");
    }
    int size = -1;
    int from = -1;
    boolean sequence = true;
    for (int i = 0; i < layers.size(); i++) {
      Layer l = layers.get(i);
      if ((l instanceof Layer.Recurrent || l instanceof Layer.Last) && !sequence) {
        throw new IllegalArgumentException(l.describe() + " (layer " + (i + 1)
            + ") needs a sequence but follows lastStep(), which keeps only the final step");
      }
      if (l instanceof Layer.Act && i == 0) {
        // an activation first acts on the input: fine, the size is the input's
      }
      if (l.inputSize() > 0) {
        if (size > 0 && l.inputSize() != size) {
          throw new IllegalArgumentException(l.describe() + " expects input size " + size
              + " (the output of layer " + (from + 1) + ", " + layers.get(from).describe()
              + ") but got " + l.inputSize());
        }
        size = l.outputSize(l.inputSize());
        from = i;
      }
      if (l instanceof Layer.Last) {
        sequence = false;
      }
    }
    if (size < 0) {
      throw new IllegalStateException(this + " has no layer that sets the input size: add a"
          + " recurrent or dense layer, e.g. " + this + ".dense(2, 2)");
    }
    if (handOffStates) {
      Layer.Recurrent prev = null;
      int prevAt = -1;
      for (int i = 0; i < layers.size(); i++) {
        if (layers.get(i) instanceof Layer.Recurrent r) {
          if (prev != null) {
            checkHandOff(prev, prevAt, r, i);
          }
          prev = r;
          prevAt = i;
        }
      }
    }
    return new Network(List.copyOf(layers), mode, handOffStates, batchFirst, dtype,
        initializer == null ? Initializer.torchDefault(0) : initializer,
        dropoutSeed == null ? 0 : dropoutSeed);
  }

  private static void checkHandOff(Layer.Recurrent a, int i, Layer.Recurrent b, int j) {
    String both = "layer " + (i + 1) + ", " + a.describe() + " hands its final state to layer "
        + (j + 1) + ", " + b.describe();
    if (a.out() != b.out()) {
      throw new IllegalArgumentException("handOffStates: " + both + ", but their state sizes"
          + " differ: " + a.out() + " and " + b.out());
    }
    if (a.bidirectional() != b.bidirectional()) {
      throw new IllegalArgumentException("handOffStates: " + both + ", but one is bidirectional"
          + " and the other is not");
    }
  }

  /** The layers so far, as the spec language writes them. */
  @Override public String toString() {
    StringBuilder sb = new StringBuilder("network()");
    for (Layer l : layers) {
      sb.append('.').append(l.describe());
    }
    return sb.toString();
  }
}
