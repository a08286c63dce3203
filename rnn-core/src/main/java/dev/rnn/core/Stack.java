package dev.rnn.core;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.base.Strings;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Torch's multi-layer, optionally bidirectional {@code torch.nn.RNN}, {@code LSTM} and {@code
 * GRU} module: layers of {@link Scan}s, with torch's parameters, names, gate order and shapes.
 *
 * <p>Layer {@code l} scans its cell over the output sequence of layer {@code l-1} (the input for
 * {@code l = 0}); a bidirectional layer runs a second, reverse direction and concatenates the two
 * outputs {@code [forward, reverse]} along the features.
 *
 * <pre>
 *   x_0 = input
 *   for l in 0..num_layers-1, d in 0..D-1:   (d = 1 scans from the last step to the first)
 *     (y_{l,d}, h_n[l*D + d], c_n[l*D + d]) = scan(cell_{l,d}, x_l, h0[l*D + d], c0[l*D + d])
 *     x_{l+1} = [y_{l,0}, y_{l,1}]            (y_{l,0} alone unless bidirectional)
 *   output = x_{num_layers}
 * </pre>
 *
 * <p>Shapes (N batch, L sequence length, D = 2 if bidirectional else 1, H hidden, P = {@code
 * proj_size} or H without a projection, H_in input):
 *
 * <table>
 *   <caption>tensors of {@link #forward}</caption>
 *   <tr><td>input</td><td>{@code [L, N, H_in]}, or {@code [N, L, H_in]} when batch-first</td></tr>
 *   <tr><td>h0, h_n</td><td>{@code [num_layers * D, N, P]}; h0 optional (zeros)</td></tr>
 *   <tr><td>c0, c_n</td><td>{@code [num_layers * D, N, H]}; c0 optional (zeros)</td></tr>
 *   <tr><td>output</td><td>{@code [L, N, D * P]}, or {@code [N, L, D * P]} when batch-first</td></tr>
 *   <tr><td>lengths</td><td>{@code N} lengths in {@code [1, L]}, optional (all L)</td></tr>
 * </table>
 *
 * <p>Immutable apart from parameter values; safe for concurrent {@link #forward} calls.
 */
public final class Stack {
  /** Which torch module: the cell and its nonlinearity. */
  public enum Mode {
    /** {@code torch.nn.RNN(nonlinearity='tanh')}. */
    RNN_TANH,
    /** {@code torch.nn.RNN(nonlinearity='relu')}. */
    RNN_RELU,
    /** {@code torch.nn.LSTM}. */
    LSTM,
    /** {@code torch.nn.GRU}. */
    GRU;

    /**
     * {@return the torch mode name: {@code rnn_tanh}, {@code rnn_relu}, {@code lstm}, {@code gru}}
     */
    public String torchName() {
      return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a torch mode name.
     *
     * @param name {@code rnn_tanh}, {@code rnn_relu}, {@code lstm} or {@code gru}
     * @return the mode
     * @throws IllegalArgumentException naming the accepted ones
     */
    public static Mode parse(String name) {
      for (Mode m : values()) {
        if (m.torchName().equals(name)) {
          return m;
        }
      }
      throw new IllegalArgumentException(
          "mode expected one of rnn_tanh, rnn_relu, lstm, gru but got '" + name + "'");
    }

    /**
     * A new cell of this mode: the one place that maps a torch mode to its cell.
     *
     * @param inputSize {@code H_in}
     * @param hiddenSize {@code H}
     * @return a new cell
     */
    public Cell cell(int inputSize, int hiddenSize) {
      switch (this) {
        case RNN_TANH:
          return new ElmanCell(inputSize, hiddenSize, Activation.TANH);
        case RNN_RELU:
          return new ElmanCell(inputSize, hiddenSize, Activation.RELU);
        case LSTM:
          return new LstmCell(inputSize, hiddenSize);
        default:
          return new GruCell(inputSize, hiddenSize);
      }
    }
  }

  /**
   * What a forward pass returns.
   *
   * @param output the output sequence
   * @param hN the final hidden states
   * @param cN the final cell states (LSTM), or null
   */
  public record Result(Tensor output, Tensor hN, Tensor cN) {}

  private final TorchModule module;
  private final Mode mode;
  private final int inputSize;
  private final int hiddenSize;
  private final int outputSize;
  private final int numLayers;
  private final boolean bias;
  private final boolean bidirectional;
  private final DType dtype;
  private final ImmutableList<ImmutableList<Scan>> layers;
  private final ImmutableMap<String, Parameter> parameters;
  /** {@link #describe()}, made once: checks name the stack on every call and streaming step. */
  private final String description;
  /** {@link #layerLabel}, made once: a graph labels every layer's scans on every call. */
  private final ImmutableList<String> layerLabels;

  /**
   * A stack with zero parameters, as torch builds {@code module}; call {@link #initialize(long)}
   * or load them. The module's {@code batch_first} is not the stack's: {@link #forward} takes the
   * layout of each call.
   *
   * @param module the torch module mirrored: mode, sizes, layers, bias, directions, dtype
   */
  public Stack(TorchModule module) {
    this.module = checkNotNull(module, "module").batchFirst(false);
    this.mode = module.mode();
    this.inputSize = module.inputSize();
    this.hiddenSize = module.hiddenSize();
    this.outputSize = module.outputSize();
    this.numLayers = module.numLayers();
    this.bias = module.bias();
    this.bidirectional = module.bidirectional();
    this.dtype = module.dtype();
    ImmutableList.Builder<ImmutableList<Scan>> ls = ImmutableList.builder();
    ImmutableMap.Builder<String, Parameter> ps = ImmutableMap.builder();
    int d = bidirectional ? 2 : 1;
    for (int l = 0; l < numLayers; l++) {
      int in = l == 0 ? inputSize : d * outputSize;
      List<Scan> dirs = new ArrayList<>();
      for (int r = 0; r < d; r++) {
        Scan scan = new Scan(mode.cell(in, hiddenSize), Scan.Direction.of(r == 1),
            Scan.suffix(l, r == 1), dtype, bias ? Scan.Biases.BOTH : Scan.Biases.NONE,
            module.projSize());
        dirs.add(scan);
        for (Parameter p : scan.parameters()) {
          ps.put(p.name(), p);
        }
      }
      ls.add(ImmutableList.copyOf(dirs));
    }
    this.layers = ls.build();
    this.parameters = ps.buildOrThrow();
    ImmutableList.Builder<String> labels = ImmutableList.builder();
    for (int l = 0; l < numLayers; l++) {
      labels.add("layer " + l + " " + layers.get(l).get(0).cell().describe());
    }
    this.layerLabels = labels.build();
    this.description = mode.torchName() + "(input_size=" + inputSize + ", hidden_size="
        + hiddenSize + ", num_layers=" + numLayers + (bias ? "" : ", bias=false")
        + (bidirectional ? ", bidirectional" : "")
        + (outputSize != hiddenSize ? ", proj_size=" + outputSize : "") + ")";
  }

  /**
   * Torch's initialisation, uniform in {@code [-1/sqrt(H), 1/sqrt(H)]}, from a seed.
   *
   * @param seed the seed of the {@link java.util.Random}
   * @return this stack
   */
  public Stack initialize(long seed) {
    Random rnd = new Random(seed);
    for (List<Scan> dirs : layers) {
      for (Scan scan : dirs) {
        scan.initialize(rnd);
      }
    }
    return this;
  }

  /** {@return the parameters by torch name, in torch's {@code named_parameters()} order} */
  public ImmutableMap<String, Parameter> parameters() {
    return parameters;
  }

  /**
   * The scans of layer {@code l}: one, or two (forward, reverse).
   *
   * @param l the layer, from 0
   * @return the scans, forward first
   */
  public ImmutableList<Scan> layer(int l) {
    return layers.get(l);
  }

  /**
   * The name of layer {@code l} in graphs and in the gradient-flow report, e.g. {@code layer 1
   * elman(2, 2, relu)}: the layer and its cell's description.
   *
   * @param l the layer, from 0
   * @return the label, made once
   */
  public String layerLabel(int l) {
    return layerLabels.get(l);
  }

  /** {@return the torch module this stack mirrors, time-major} */
  public TorchModule module() {
    return module;
  }

  /** {@return the torch module's mode} */
  public Mode mode() {
    return mode;
  }

  /**
   * {@code H_in}.
   *
   * @return {@code H_in}
   */
  public int inputSize() {
    return inputSize;
  }

  /**
   * {@code H}.
   *
   * @return {@code H}
   */
  public int hiddenSize() {
    return hiddenSize;
  }

  /**
   * {@code P}: the features of {@code h} and of each direction's output, torch's {@code
   * proj_size}, or {@code H} without a projection.
   *
   * @return {@code P}
   */
  public int outputSize() {
    return outputSize;
  }

  /**
   * The features of state {@code k}: {@link #outputSize()} for {@code h}, {@link #hiddenSize()}
   * for {@code c}.
   *
   * @param k 0 for {@code h}, 1 for {@code c}
   * @return its features
   */
  public int stateSize(int k) {
    return k == 0 ? outputSize : hiddenSize;
  }

  /** {@return the number of layers} */
  public int numLayers() {
    return numLayers;
  }

  /** {@return whether the layers have biases} */
  public boolean bias() {
    return bias;
  }

  /** {@return whether each layer runs a reverse direction too} */
  public boolean bidirectional() {
    return bidirectional;
  }

  /**
   * {@code D}: 2 if bidirectional, else 1.
   *
   * @return {@code D}
   */
  public int directions() {
    return bidirectional ? 2 : 1;
  }

  /** {@return the dtype of parameters, inputs and outputs} */
  public DType dtype() {
    return dtype;
  }

  /**
   * How many state tensors: 2 for LSTM, else 1.
   *
   * @return 2 for LSTM, else 1
   */
  public int stateCount() {
    return mode == Mode.LSTM ? 2 : 1;
  }

  /**
   * E.g. {@code lstm(input_size=3, hidden_size=5, num_layers=2, bidirectional)}.
   *
   * @return the description, as used in error messages
   */
  public String describe() {
    return description;
  }

  /**
   * The forward pass from zero initial states.
   *
   * @param input the sequence, {@code [L, N, H_in]}, or {@code [N, L, H_in]} when batch-first
   * @param batchFirst whether {@code input} and the output are batch-first
   * @return the output and the final states
   * @throws IllegalArgumentException if the shape or dtype of {@code input} does not fit
   */
  public Result forward(Tensor input, boolean batchFirst) {
    return forward(input, batchFirst, null, null);
  }

  /**
   * The forward pass, as {@code torch.nn.RNN/LSTM/GRU.forward(input, h0 or (h0, c0))}.
   *
   * @param h0 initial hidden states, or null for zeros
   * @param c0 initial cell states (LSTM only), or null for zeros
   * @param input the sequence, {@code [L, N, H_in]}, or {@code [N, L, H_in]} when batch-first
   * @param batchFirst whether {@code input} and the output are batch-first
   * @return the output and the final states
   * @throws IllegalArgumentException if a shape or dtype does not fit, naming expected and actual
   */
  public Result forward(Tensor input, boolean batchFirst, Tensor h0, Tensor c0) {
    return forward(input, batchFirst, h0, c0, null);
  }

  /**
   * The forward pass of a batch of sequences of different lengths, as torch's module on {@code
   * pack_padded_sequence(input, lengths, batch_first, enforce_sorted=False)} followed by {@code
   * pad_packed_sequence(output, total_length=L)}: sequence {@code n} runs over its first {@code
   * lengths.get(n)} steps only (the reverse direction from its own last step); the input after
   * them is never read, the output there is zero, and {@code h_n}, {@code c_n} are each
   * sequence's state after its own last step.
   *
   * @param input the sequence, {@code [L, N, H_in]}, or {@code [N, L, H_in]} when batch-first
   * @param batchFirst whether {@code input} and the output are batch-first
   * @param h0 initial hidden states, or null for zeros
   * @param c0 initial cell states (LSTM only), or null for zeros
   * @param lengths the length of each sequence, in {@code [1, L]}, or null for {@code L} each
   * @return the output and the final states
   * @throws IllegalArgumentException if a shape or dtype does not fit, or the lengths do not fit
   *     the batch, naming expected and actual
   */
  public Result forward(Tensor input, boolean batchFirst, Tensor h0, Tensor c0,
      Lengths lengths) {
    Tensor x = timeMajor(input, batchFirst);
    int seq = x.dim(0);
    int batch = x.dim(1);
    checkLengths(lengths, seq, batch);
    Storage[][] init = initialStates(batch, h0, c0);
    int d = directions();
    int width = d * outputSize;
    Storage layerIn = x.storage();
    Storage hn = Storage.allocate(dtype, numLayers * d * batch * outputSize);
    Storage cn = stateCount() == 2
        ? Storage.allocate(dtype, numLayers * d * batch * hiddenSize) : null;
    for (int l = 0; l < numLayers; l++) {
      Storage out = Storage.allocate(dtype, seq * batch * width);
      for (int r = 0; r < d; r++) {
        int slot = l * d + r;
        Scan.Run run = layers.get(l).get(r).forward(layerIn, seq, batch, init[slot], false, 0,
            lengths, d == 1 ? out : null);                     // one direction: written in place
        if (d > 1) {
          run.copyOutput(out, r * outputSize, width);
        }
        run.copyFinalState(0, hn, slot * batch * outputSize);
        if (cn != null) {
          run.copyFinalState(1, cn, slot * batch * hiddenSize);
        }
        run.release();
      }
      layerIn = out;
    }
    Tensor output = Tensor.adopt(layerIn, Shape.of(seq, batch, width));
    return new Result(batchFirst ? output.transpose(0, 1) : output,
        Tensor.adopt(hn, Shape.of(numLayers * d, batch, outputSize)),
        cn == null ? null : Tensor.adopt(cn, Shape.of(numLayers * d, batch, hiddenSize)));
  }

  /**
   * Checks that {@code lengths} (if given) has one length in {@code [1, seq]} per sequence, as
   * torch's {@code pack_padded_sequence} asks.
   *
   * @param lengths the lengths, or null
   * @param seq {@code L}
   * @param batch {@code N}
   * @throws IllegalArgumentException naming the first length that does not fit
   */
  public void checkLengths(Lengths lengths, int seq, int batch) {
    if (lengths == null) {
      return;
    }
    checkArgument(lengths.batch() == batch, "%s expected %s lengths (one per sequence) but got"
        + " %s", describe(), batch, lengths.batch());
    for (int n = 0; n < batch; n++) {
      checkArgument(lengths.get(n) >= 1 && lengths.get(n) <= seq,
          "%s expected lengths in [1, %s] (the input's steps) but lengths[%s] is %s", describe(),
          seq, n, lengths.get(n));
    }
  }

  /**
   * One time step of the whole stack, for streaming: {@code x_t} and the states so far give the
   * output {@code y_t} and the next states, exactly as {@link #forward} over a sequence of length 1
   * would, but with nothing allocated beyond the results. Layer {@code l} reads the new {@code h}
   * of layer {@code l - 1}:
   *
   * <pre>{@code
   * x = input
   * for l in 0..num_layers-1:
   *   (h_n[l], c_n[l]) = scan_l.step(x, (h0[l], c0[l]));  x = h_n[l]    the step of the scan's loop
   * output = x
   * }</pre>
   *
   * <p>Shapes: input {@code [N, H_in]}; h0, c0, h_n, c_n {@code [num_layers, N, H]} (null h0 or
   * c0 for zeros); output {@code [N, H]}. Safe for concurrent calls: the scratch buffers are per
   * thread.
   *
   * @param input {@code x_t}, {@code [N, H_in]}
   * @param h0 the hidden states so far, or null for zeros
   * @param c0 the cell states so far (LSTM only), or null for zeros
   * @return {@code y_t} and the next states
   * @throws IllegalArgumentException if the stack is bidirectional (a reverse direction needs the
   *     whole sequence), or a shape or dtype does not fit, naming expected and actual
   */
  public Result step(Tensor input, Tensor h0, Tensor c0) {
    checkArgument(!bidirectional,
        "%s cannot run one step at a time: its reverse direction reads the sequence from the end;"
            + " use forward over the whole sequence", describe());
    checkArgument(input.rank() == 2 && input.dim(1) == inputSize && input.dim(0) >= 1,
        "%s step expected input of shape [batch, %s] but got %s", describe(), inputSize,
        input.shape());
    checkArgument(input.dtype() == dtype, "%s expected input of dtype %s but got %s", describe(),
        dtype.torchName(), input.dtype().torchName());
    int batch = input.dim(0);
    checkArgument(c0 == null || stateCount() == 2, "%s takes no c0 (only lstm has a cell state)",
        describe());
    Tensor[] given = {h0, c0};
    String[] names = {"h0", "c0"};
    for (int k = 0; k < 2; k++) {
      Tensor st = given[k];
      if (st != null) {
        // Formatted only on failure: a streaming step runs this on every call.
        if (st.rank() != 3 || st.dim(0) != numLayers || st.dim(1) != batch
            || st.dim(2) != stateSize(k)) {
          throw new IllegalArgumentException(Strings.lenientFormat(
              "%s expected %s of shape [%s, %s, %s] but got %s", describe(), names[k], numLayers,
              batch, stateSize(k), st.shape()));
        }
        if (st.dtype() != dtype) {
          throw new IllegalArgumentException(Strings.lenientFormat(
              "%s expected %s of dtype %s but got %s", describe(), names[k], dtype.torchName(),
              st.dtype().torchName()));
        }
      }
    }
    int[] n = {batch * outputSize, batch * hiddenSize};
    Storage hn = Storage.allocate(dtype, numLayers * n[0]);
    Storage cn = stateCount() == 2 ? Storage.allocate(dtype, numLayers * n[1]) : null;
    Storage[] next = {hn, cn};
    StreamBuffers buf = streamBuffers(batch);
    Storage in = input.storage();
    int inOff = 0;
    for (int l = 0; l < numLayers; l++) {
      Step s = buf.steps[l];
      Scan scan = layers.get(l).get(0);
      for (int k = 0; k < stateCount(); k++) {
        scan.aimStream(s, k, given[k] == null ? buf.zeros : given[k].storage(),
            given[k] == null ? 0 : l * n[k], next[k], l * n[k]);
      }
      scan.stream(s, in, inOff);
      in = hn;
      inOff = l * n[0];
    }
    Storage out = Storage.allocate(dtype, n[0]);
    out.copyFrom(hn, (numLayers - 1) * n[0], 0, n[0]);
    return new Result(Tensor.adopt(out, Shape.of(batch, outputSize)),
        Tensor.adopt(hn, Shape.of(numLayers, batch, outputSize)),
        cn == null ? null : Tensor.adopt(cn, Shape.of(numLayers, batch, hiddenSize)));
  }

  /** The scratch buffers of {@link #step} for one batch size, one set per thread. */
  private static final class StreamBuffers {
    final int batch;
    final Step[] steps;
    final Storage zeros;

    StreamBuffers(Stack stack, int batch) {
      this.batch = batch;
      this.steps = new Step[stack.numLayers];
      for (int l = 0; l < stack.numLayers; l++) {
        steps[l] = stack.layers.get(l).get(0).streamStep(batch);
      }
      this.zeros = Storage.allocate(stack.dtype, batch * stack.hiddenSize);  // >= the h size
    }
  }

  private final ThreadLocal<StreamBuffers> streamBuffers = new ThreadLocal<>();

  private StreamBuffers streamBuffers(int batch) {
    StreamBuffers b = streamBuffers.get();
    if (b == null || b.batch != batch) {
      b = new StreamBuffers(this, batch);
      streamBuffers.set(b);
    }
    return b;
  }

  /**
   * The input as time-major {@code [L, N, H_in]}, after checking its rank, feature size and dtype.
   *
   * @param input the sequence, {@code [L, N, H_in]}, or {@code [N, L, H_in]} when batch-first
   * @param batchFirst whether {@code input} is batch-first
   * @return {@code input}, transposed if it is batch-first
   * @throws IllegalArgumentException if the rank, feature size or dtype does not fit
   */
  public Tensor timeMajor(Tensor input, boolean batchFirst) {
    String expected = batchFirst ? "[batch, seq, " + inputSize + "]"
        : "[seq, batch, " + inputSize + "]";
    checkArgument(input.rank() == 3 && input.dim(2) == inputSize,
        "%s expected input of shape %s but got %s", describe(), expected, input.shape());
    checkArgument(input.dim(0) >= 1 && input.dim(1) >= 1,
        "%s expected a non-empty input of shape %s but got %s", describe(), expected,
        input.shape());
    checkArgument(input.dtype() == dtype, "%s expected input of dtype %s but got %s", describe(),
        dtype.torchName(), input.dtype().torchName());
    return batchFirst ? input.transpose(0, 1) : input;
  }

  /**
   * The initial states per (layer, direction) slot, each {@code [N, H]}, after checking shapes.
   *
   * @param batch {@code N}
   * @param h0 the initial hidden states, {@code [num_layers * D, N, P]}, or null for zeros
   * @param c0 the initial cell states (LSTM only), or null for zeros
   * @return the states by slot {@code l * D + d}, then by state; null entries for zeros
   * @throws IllegalArgumentException if a shape or dtype does not fit, or {@code c0} is given to a
   *     stack without cell state
   */
  public Storage[][] initialStates(int batch, Tensor h0, Tensor c0) {
    checkArgument(c0 == null || stateCount() == 2, "%s takes no c0 (only lstm has a cell state)",
        describe());
    int slots = numLayers * directions();
    Storage[][] init = new Storage[slots][stateCount()];
    Tensor[] given = {h0, c0};
    String[] names = {"h0", "c0"};
    for (int k = 0; k < stateCount(); k++) {
      Tensor s = given[k];
      if (s == null) {
        continue;
      }
      checkArgument(s.rank() == 3 && s.dim(0) == slots && s.dim(1) == batch
              && s.dim(2) == stateSize(k), "%s expected %s of shape [%s, %s, %s] but got %s",
          describe(), names[k], slots, batch, stateSize(k), s.shape());
      checkArgument(s.dtype() == dtype, "%s expected %s of dtype %s but got %s", describe(),
          names[k], dtype.torchName(), s.dtype().torchName());
      int n = batch * stateSize(k);
      for (int slot = 0; slot < slots; slot++) {
        Storage st = Storage.allocate(dtype, n);
        st.copyFrom(s.storage(), slot * n, 0, n);
        init[slot][k] = st;
      }
    }
    return init;
  }
}
