package dev.rnn.core;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.Objects;

/**
 * The arguments of a {@code torch.nn.RNN}, {@code LSTM} or {@code GRU} module, by name: what a
 * {@link Stack} mirrors, and what the DSL's {@code Rnn.fromTorch(TorchModule)} and {@code
 * Rnn.loadTorch(Path, TorchModule)} build the equivalent network from.
 *
 * <p>An immutable value; each option returns a new one, so a module reads as torch's call does:
 *
 * <pre>{@code
 * // torch.nn.LSTM(3, 5, num_layers=2, bias=False, batch_first=True, bidirectional=True)
 * TorchModule m = TorchModule.lstm(3, 5).numLayers(2).bias(false).batchFirst(true)
 *     .bidirectional(true);
 * }</pre>
 *
 * <p>Defaults are torch's: one layer, with biases, time-major ({@code batch_first=False}), one
 * direction, float32. Sizes are checked where they are given ({@link IllegalArgumentException}
 * naming torch's argument, e.g. {@code num_layers must be >= 1 but got 0}).
 */
public final class TorchModule {
  private final Stack.Mode mode;
  private final int inputSize;
  private final int hiddenSize;
  private final int numLayers;
  private final boolean bias;
  private final boolean batchFirst;
  private final boolean bidirectional;
  private final DType dtype;
  private final int projSize;

  private TorchModule(Stack.Mode mode, int inputSize, int hiddenSize, int numLayers,
      boolean bias, boolean batchFirst, boolean bidirectional, DType dtype) {
    this(mode, inputSize, hiddenSize, numLayers, bias, batchFirst, bidirectional, dtype, 0);
  }

  private TorchModule(Stack.Mode mode, int inputSize, int hiddenSize, int numLayers,
      boolean bias, boolean batchFirst, boolean bidirectional, DType dtype, int projSize) {
    this.projSize = projSize;
    this.mode = mode;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.numLayers = numLayers;
    this.bias = bias;
    this.batchFirst = batchFirst;
    this.bidirectional = bidirectional;
    this.dtype = dtype;
  }

  /**
   * A one-layer module of {@code mode} with torch's defaults.
   *
   * @param mode the torch module: {@code RNN} with tanh or relu, {@code LSTM} or {@code GRU}
   * @param inputSize torch's {@code input_size}, at least 1
   * @param hiddenSize torch's {@code hidden_size}, at least 1
   * @return the module
   * @throws IllegalArgumentException if a size is below 1
   */
  public static TorchModule of(Stack.Mode mode, int inputSize, int hiddenSize) {
    checkNotNull(mode, "mode");
    checkArgument(inputSize >= 1, "input_size must be >= 1 but got %s", inputSize);
    checkArgument(hiddenSize >= 1, "hidden_size must be >= 1 but got %s", hiddenSize);
    return new TorchModule(mode, inputSize, hiddenSize, 1, true, false, false, DType.FLOAT32);
  }

  /**
   * {@code torch.nn.RNN(input_size, hidden_size)}, whose nonlinearity is tanh.
   *
   * @param inputSize torch's {@code input_size}
   * @param hiddenSize torch's {@code hidden_size}
   * @return the module
   */
  public static TorchModule rnn(int inputSize, int hiddenSize) {
    return of(Stack.Mode.RNN_TANH, inputSize, hiddenSize);
  }

  /**
   * {@code torch.nn.RNN(input_size, hidden_size, nonlinearity='relu')}.
   *
   * @param inputSize torch's {@code input_size}
   * @param hiddenSize torch's {@code hidden_size}
   * @return the module
   */
  public static TorchModule rnnRelu(int inputSize, int hiddenSize) {
    return of(Stack.Mode.RNN_RELU, inputSize, hiddenSize);
  }

  /**
   * {@code torch.nn.LSTM(input_size, hidden_size)}.
   *
   * @param inputSize torch's {@code input_size}
   * @param hiddenSize torch's {@code hidden_size}
   * @return the module
   */
  public static TorchModule lstm(int inputSize, int hiddenSize) {
    return of(Stack.Mode.LSTM, inputSize, hiddenSize);
  }

  /**
   * {@code torch.nn.GRU(input_size, hidden_size)}.
   *
   * @param inputSize torch's {@code input_size}
   * @param hiddenSize torch's {@code hidden_size}
   * @return the module
   */
  public static TorchModule gru(int inputSize, int hiddenSize) {
    return of(Stack.Mode.GRU, inputSize, hiddenSize);
  }

  /**
   * The module a torch reference case was made with: its mode, sizes, layers, bias, layout,
   * directions and dtype.
   *
   * @param c the case
   * @return the module
   */
  public static TorchModule of(TorchCase c) {
    return c.stack().module().batchFirst(c.batchFirst());
  }

  /**
   * torch's {@code num_layers}.
   *
   * @param numLayers the number of stacked layers, at least 1
   * @return a module like this one with {@code numLayers} layers
   * @throws IllegalArgumentException if {@code numLayers < 1}
   */
  public TorchModule numLayers(int numLayers) {
    checkArgument(numLayers >= 1, "num_layers must be >= 1 but got %s", numLayers);
    return new TorchModule(mode, inputSize, hiddenSize, numLayers, bias, batchFirst,
        bidirectional, dtype, projSize);
  }

  /**
   * torch's {@code bias}: whether every layer has {@code bias_ih} and {@code bias_hh}.
   *
   * @param bias torch's {@code bias}
   * @return a module like this one with {@code bias}
   */
  public TorchModule bias(boolean bias) {
    return new TorchModule(mode, inputSize, hiddenSize, numLayers, bias, batchFirst,
        bidirectional, dtype, projSize);
  }

  /**
   * torch's {@code batch_first}: inputs and outputs {@code [N, L, H]} instead of {@code [L, N,
   * H]}.
   *
   * @param batchFirst torch's {@code batch_first}
   * @return a module like this one with {@code batchFirst}
   */
  public TorchModule batchFirst(boolean batchFirst) {
    return new TorchModule(mode, inputSize, hiddenSize, numLayers, bias, batchFirst,
        bidirectional, dtype, projSize);
  }

  /**
   * torch's {@code bidirectional}: every layer runs a reverse direction too.
   *
   * @param bidirectional torch's {@code bidirectional}
   * @return a module like this one with {@code bidirectional}
   */
  public TorchModule bidirectional(boolean bidirectional) {
    return new TorchModule(mode, inputSize, hiddenSize, numLayers, bias, batchFirst,
        bidirectional, dtype, projSize);
  }

  /**
   * The module's dtype, as after {@code module.to(dtype)}.
   *
   * @param dtype the dtype of parameters, inputs and outputs
   * @return a module like this one in {@code dtype}
   */
  public TorchModule dtype(DType dtype) {
    return new TorchModule(mode, inputSize, hiddenSize, numLayers, bias, batchFirst,
        bidirectional, checkNotNull(dtype, "dtype"), projSize);
  }

  /**
   * torch's {@code proj_size} (LSTM only): every layer projects its output {@code h} to {@code
   * projSize} features, {@code h_t = W_hr (o_t * tanh(c_t))} (Sak et al. 2014), with parameters
   * {@code weight_hr_l{k}} {@code [proj_size, hidden_size]}; {@code c} keeps {@code hidden_size}.
   *
   * @param projSize the projection's size, in {@code [1, hidden_size)}, or 0 for none
   * @return a module like this one with {@code projSize}
   * @throws IllegalArgumentException if the module is not an LSTM, or the size is not 0 or in
   *     {@code [1, hidden_size)}
   */
  public TorchModule projSize(int projSize) {
    checkArgument(projSize == 0 || mode == Stack.Mode.LSTM,
        "proj_size is for LSTM only but the module is %s", mode.torchName());
    checkArgument(projSize == 0 || projSize >= 1 && projSize < hiddenSize,
        "proj_size must be 0 or in [1, hidden_size = %s) but got %s", hiddenSize, projSize);
    return new TorchModule(mode, inputSize, hiddenSize, numLayers, bias, batchFirst,
        bidirectional, dtype, projSize);
  }

  /** {@return torch's {@code proj_size}: the projection's size, or 0 for none} */
  public int projSize() {
    return projSize;
  }

  /**
   * The features of {@code h} and of each direction's output: {@code proj_size}, or {@code
   * hidden_size} without a projection.
   *
   * @return the output size of one direction
   */
  public int outputSize() {
    return projSize > 0 ? projSize : hiddenSize;
  }

  /** {@return the torch module} */
  public Stack.Mode mode() {
    return mode;
  }

  /** {@return torch's {@code input_size}} */
  public int inputSize() {
    return inputSize;
  }

  /** {@return torch's {@code hidden_size}} */
  public int hiddenSize() {
    return hiddenSize;
  }

  /** {@return torch's {@code num_layers}} */
  public int numLayers() {
    return numLayers;
  }

  /** {@return torch's {@code bias}} */
  public boolean bias() {
    return bias;
  }

  /** {@return torch's {@code batch_first}} */
  public boolean batchFirst() {
    return batchFirst;
  }

  /** {@return torch's {@code bidirectional}} */
  public boolean bidirectional() {
    return bidirectional;
  }

  /** {@return the dtype} */
  public DType dtype() {
    return dtype;
  }

  @Override public boolean equals(Object o) {
    return o instanceof TorchModule m && m.mode == mode && m.inputSize == inputSize
        && m.hiddenSize == hiddenSize && m.numLayers == numLayers && m.bias == bias
        && m.batchFirst == batchFirst && m.bidirectional == bidirectional && m.dtype == dtype
        && m.projSize == projSize;
  }

  @Override public int hashCode() {
    return Objects.hash(mode, inputSize, hiddenSize, numLayers, bias, batchFirst, bidirectional,
        dtype, projSize);
  }

  /** {@return the module as torch's call, e.g. {@code torch.nn.LSTM(3, 5, num_layers=2)}} */
  @Override public String toString() {
    String name = switch (mode) {
      case RNN_TANH, RNN_RELU -> "RNN";
      case LSTM -> "LSTM";
      case GRU -> "GRU";
    };
    StringBuilder sb = new StringBuilder("torch.nn.").append(name).append('(').append(inputSize)
        .append(", ").append(hiddenSize);
    if (mode == Stack.Mode.RNN_RELU) {
      sb.append(", nonlinearity='relu'");
    }
    if (numLayers != 1) {
      sb.append(", num_layers=").append(numLayers);
    }
    if (!bias) {
      sb.append(", bias=False");
    }
    if (batchFirst) {
      sb.append(", batch_first=True");
    }
    if (bidirectional) {
      sb.append(", bidirectional=True");
    }
    if (projSize > 0) {
      sb.append(", proj_size=").append(projSize);
    }
    sb.append(')');
    if (dtype != DType.FLOAT32) {
      sb.append(".to(torch.").append(dtype.torchName()).append(')');
    }
    return sb.toString();
  }
}
