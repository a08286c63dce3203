package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.rnn.core.Activation;
import dev.rnn.core.Parameter;
import dev.rnn.core.Tensor;
import dev.rnn.core.TorchCase;
import dev.rnn.core.TorchModule;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Builds the network equivalent to a torch recurrent module ({@link TorchModule}) and loads its
 * {@code state_dict}: each torch layer becomes one {@code elman}, {@code lstm} or {@code gru}
 * layer of the DSL with torch's parameter names, so that weights move between the two by name.
 *
 * <pre>
 *   torch.nn.RNN(tanh|relu)  -> elman(in, H, TANH|RELU)      per layer l: in = H_in (l = 0) or D*H
 *   torch.nn.LSTM            -> lstm(in, H)                  bidirectional -> .bidirectional()
 *   torch.nn.GRU             -> gru(in, H)                   bias=False    -> .noBias()
 *                                                           proj_size=P   -> .projection(P)
 * </pre>
 *
 * <p>With {@code proj_size} a layer's output and {@code h} have {@code P} features, so the layers
 * above the first take {@code D * P} inputs; the projection's weight is {@code weight_hr_l{k}}.
 */
final class TorchImport {
  private TorchImport() {}

  /** A builder of the network equivalent to {@code m}; more layers may follow. */
  static NetworkBuilder builder(TorchModule m) {
    checkNotNull(m, "torch module");
    NetworkBuilder b = Rnn.network();
    int d = m.bidirectional() ? 2 : 1;
    for (int l = 0; l < m.numLayers(); l++) {
      int in = l == 0 ? m.inputSize() : d * m.outputSize();
      switch (m.mode()) {
        case RNN_TANH -> b.elman(in, m.hiddenSize(), Activation.TANH);
        case RNN_RELU -> b.elman(in, m.hiddenSize(), Activation.RELU);
        case LSTM -> b.lstm(in, m.hiddenSize());
        case GRU -> b.gru(in, m.hiddenSize());
      }
      if (m.projSize() > 0) {
        b.projection(m.projSize());
      }
      if (m.bidirectional()) {
        b.bidirectional();
      }
      if (!m.bias()) {
        b.noBias();
      }
    }
    if (m.batchFirst()) {
      b.batchFirst();
    }
    return b.dtype(m.dtype());
  }

  /** The network equivalent to {@code m} with the {@code state_dict} saved at {@code path}. */
  static Network load(Path safetensors, TorchModule m) throws IOException {
    Network net = builder(m).build();
    Checkpoint.loadInto(net, Checkpoint.read(safetensors));
    return net;
  }

  /** The network of a torch reference case, with the case's parameters. */
  static Network fromCase(TorchCase c) {
    Network net = builder(TorchModule.of(c)).build();
    Map<String, Tensor> values = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : c.stack().parameters().entrySet()) {
      values.put(e.getKey(), e.getValue().value());
    }
    Checkpoint.loadInto(net, values, c.file().source());
    return net;
  }
}
