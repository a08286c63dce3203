package dev.rnn.dsl;

import dev.rnn.core.DType;
import dev.rnn.core.Stack;
import dev.rnn.core.TorchCase;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The entry point of the DSL: {@code import static dev.rnn.dsl.Rnn.network;} and then {@code
 * network().recurrent(2, 2).relu().recurrent(2, 1).build()}.
 */
public final class Rnn {
  private Rnn() {}

  /** {@return a new, empty network builder} */
  public static NetworkBuilder network() {
    return new NetworkBuilder();
  }

  /**
   * A builder holding the layers and options of a spec such as {@code
   * "recurrent(2, 2).relu().recurrent(2, 1).stacking(states)"}, as {@link Network#spec()} writes
   * it; more options can be set before {@code build()}.
   *
   * @param spec the spec
   * @return a new builder
   * @throws IllegalArgumentException naming the position and what was expected
   */
  public static NetworkBuilder parse(String spec) {
    return SpecParser.parse(spec);
  }

  /**
   * The network saved by {@link Network#save} at {@code path}, rebuilt from its spec and options,
   * with its parameters; see {@link Checkpoint#load}.
   *
   * @param path the checkpoint file
   * @return a new network
   * @throws IOException if the file cannot be read
   * @throws dev.rnn.core.SafetensorsException if it is not a checkpoint of a network, naming the
   *     file and the first thing that differs
   */
  public static Network load(Path path) throws IOException {
    return Checkpoint.load(path);
  }

  /**
   * A builder of the network equivalent to {@code torch.nn.RNN/LSTM/GRU(input_size, hidden_size,
   * num_layers, bias, batch_first, bidirectional)} in torch's dtype {@code dtype}, with torch's
   * parameter names; see {@link TorchImport#builder}.
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
   */
  public static NetworkBuilder fromTorch(Stack.Mode mode, int inputSize, int hiddenSize,
      int numLayers, boolean bias, boolean bidirectional, boolean batchFirst, DType dtype) {
    return TorchImport.builder(mode, inputSize, hiddenSize, numLayers, bias, bidirectional,
        batchFirst, dtype);
  }

  /**
   * The network equivalent to a torch module (see {@link #fromTorch}) with the parameters of its
   * {@code state_dict} saved as safetensors at {@code safetensors}; see {@link TorchImport#load}.
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
   * @throws dev.rnn.core.SafetensorsException if its tensors are not exactly the module's
   *     parameters, naming the first that differs
   */
  public static Network loadTorch(Path safetensors, Stack.Mode mode, int inputSize,
      int hiddenSize, int numLayers, boolean bias, boolean bidirectional, boolean batchFirst,
      DType dtype) throws IOException {
    return TorchImport.load(safetensors, mode, inputSize, hiddenSize, numLayers, bias,
        bidirectional, batchFirst, dtype);
  }

  /**
   * The network of a torch reference case, with the case's parameters.
   *
   * @param c the case
   * @return a new network
   */
  public static Network fromTorchCase(TorchCase c) {
    return TorchImport.fromCase(c);
  }
}
