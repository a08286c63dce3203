package dev.rnn.dsl;

import dev.rnn.core.TorchCase;
import dev.rnn.core.TorchModule;
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
   * A builder of the network equivalent to a torch module, e.g. {@code
   * fromTorch(TorchModule.lstm(3, 5).numLayers(2))} for {@code torch.nn.LSTM(3, 5, num_layers=2)}:
   * one DSL layer per torch layer with torch's parameter names and gate order, so that a {@code
   * state_dict} loads by name; more layers (a dense head) may follow before {@code build()}.
   *
   * @param module the torch module's arguments
   * @return a new builder
   */
  public static NetworkBuilder fromTorch(TorchModule module) {
    return TorchImport.builder(module);
  }

  /**
   * The network equivalent to a torch module (see {@link #fromTorch}) with the parameters of its
   * {@code state_dict} saved as safetensors at {@code safetensors}.
   *
   * @param safetensors the file
   * @param module the torch module's arguments
   * @return a new network
   * @throws IOException if the file cannot be read
   * @throws dev.rnn.core.SafetensorsException if its tensors are not exactly the module's
   *     parameters, naming the first that differs
   */
  public static Network loadTorch(Path safetensors, TorchModule module) throws IOException {
    return TorchImport.load(safetensors, module);
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
