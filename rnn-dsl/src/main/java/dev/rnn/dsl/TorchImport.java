package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.rnn.core.Activation;
import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Stack;
import dev.rnn.core.Tensor;
import dev.rnn.core.TorchCase;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Networks equivalent to {@code torch.nn.RNN}, {@code LSTM} and {@code GRU}: the same layers,
 * parameter names, gate order and shapes, so that a torch {@code state_dict} loads by name.
 *
 * <p>{@code torch.nn.LSTM(3, 8, num_layers=2, bidirectional=True)} is {@code
 * network().lstm(3, 8).bidirectional().lstm(16, 8).bidirectional()}: layer {@code l > 0} takes
 * {@code D * H} features (D = 2 if bidirectional, else 1), and its parameters are {@code
 * weight_ih_l{l}}, {@code weight_hh_l{l}}, {@code bias_ih_l{l}}, {@code bias_hh_l{l}} (suffix
 * {@code _reverse} for the backward direction), as in torch.
 */
public final class TorchImport {
  private TorchImport() {}

  /**
   * A builder of the network equivalent to the torch module with these constructor arguments:
   * {@code elman(.., tanh)} or {@code elman(.., relu)} ({@code RNN}), {@code lstm} or {@code gru}
   * per layer, each {@code bidirectional()} and {@code noBias()} as asked, then {@code
   * batchFirst()} and {@code dtype(dtype)}.
   *
   * @param mode the torch module
   * @param inputSize torch's {@code input_size}
   * @param hiddenSize torch's {@code hidden_size}
   * @param numLayers torch's {@code num_layers}
   * @param bias torch's {@code bias}
   * @param bidirectional torch's {@code bidirectional}
   * @param batchFirst torch's {@code batch_first}
   * @param dtype the module's dtype
   * @return a new builder
   * @throws IllegalArgumentException if a size or the layer count is below 1
   */
  public static NetworkBuilder builder(Stack.Mode mode, int inputSize, int hiddenSize,
      int numLayers, boolean bias, boolean bidirectional, boolean batchFirst, DType dtype) {
    checkNotNull(mode, "mode");
    checkNotNull(dtype, "dtype");
    checkArgument(inputSize >= 1, "input_size must be >= 1 but got %s", inputSize);
    checkArgument(hiddenSize >= 1, "hidden_size must be >= 1 but got %s", hiddenSize);
    checkArgument(numLayers >= 1, "num_layers must be >= 1 but got %s", numLayers);
    NetworkBuilder b = Rnn.network();
    int d = bidirectional ? 2 : 1;
    for (int l = 0; l < numLayers; l++) {
      int in = l == 0 ? inputSize : d * hiddenSize;
      switch (mode) {
        case RNN_TANH:
          b.elman(in, hiddenSize, Activation.TANH);
          break;
        case RNN_RELU:
          b.elman(in, hiddenSize, Activation.RELU);
          break;
        case LSTM:
          b.lstm(in, hiddenSize);
          break;
        default:
          b.gru(in, hiddenSize);
      }
      if (bidirectional) {
        b.bidirectional();
      }
      if (!bias) {
        b.noBias();
      }
    }
    if (batchFirst) {
      b.batchFirst();
    }
    return b.dtype(dtype);
  }

  /**
   * The network equivalent to the torch module with these arguments, with the parameters of a
   * torch {@code state_dict} saved as safetensors (e.g. {@code
   * safetensors.torch.save_file(rnn.state_dict(), path)}).
   *
   * @param safetensors the file
   * @param mode the torch module
   * @param inputSize torch's {@code input_size}
   * @param hiddenSize torch's {@code hidden_size}
   * @param numLayers torch's {@code num_layers}
   * @param bias torch's {@code bias}
   * @param bidirectional torch's {@code bidirectional}
   * @param batchFirst torch's {@code batch_first}
   * @param dtype the module's dtype
   * @return a new network
   * @throws IOException if the file cannot be read
   * @throws dev.rnn.core.SafetensorsException if the file is malformed, or its tensors are not
   *     exactly the module's parameters with their shapes; the message names the file and the
   *     first parameter that differs
   */
  public static Network load(Path safetensors, Stack.Mode mode, int inputSize,
      int hiddenSize, int numLayers, boolean bias, boolean bidirectional, boolean batchFirst,
      DType dtype) throws IOException {
    Network net = builder(mode, inputSize, hiddenSize, numLayers, bias, bidirectional,
        batchFirst, dtype).build();
    Checkpoint.loadInto(net, Checkpoint.read(safetensors));
    return net;
  }

  /**
   * The network of a torch reference case (its {@code mode}, sizes and options) with the case's
   * parameters.
   *
   * @param c the case
   * @return a new network
   */
  public static Network fromCase(TorchCase c) {
    Stack s = c.stack();
    Network net = builder(s.mode(), s.inputSize(), s.hiddenSize(), s.numLayers(), s.bias(),
        s.bidirectional(), c.batchFirst(), s.dtype()).build();
    Map<String, Tensor> values = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : s.parameters().entrySet()) {
      values.put(e.getKey(), e.getValue().value());
    }
    Checkpoint.loadInto(net, values, c.file().source());
    return net;
  }
}
