package dev.rnn.core;

import com.google.common.collect.ImmutableMap;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * A reference case from {@code torch.nn} in the {@code rnn-torch-case/1} format: a recurrent stack
 * (its architecture in the metadata, its parameters under torch's names), its inputs, upstream
 * gradients and torch's results.
 *
 * <p>Tensors: {@code input}, optional {@code h0} and {@code c0}, {@code grad_output}, {@code
 * grad_h_n}, {@code grad_c_n}, and torch's results under {@code expected.} ({@code output}, {@code
 * h_n}, {@code c_n}, {@code grad.<parameter>}, {@code grad.input}, {@code grad.h0}, {@code
 * grad.c0}). Tolerances: float64 absolute 1e-10 plus relative 1e-8; float32 absolute 1e-5 plus
 * relative 1e-4.
 */
public final class TorchCase {
  /** The value of metadata {@code format} this reader understands. */
  public static final String FORMAT = "rnn-torch-case/1";

  private static final int MAX_SIZE = 1 << 20;
  private static final int MAX_LAYERS = 1024;

  private final SafetensorsFile file;
  private final RecurrentStack stack;
  private final boolean batchFirst;

  private TorchCase(SafetensorsFile file) {
    this.file = file;
    String format = file.metadata("format");
    if (!FORMAT.equals(format)) {
      throw fail("metadata 'format' expected '" + FORMAT + "' but got '" + format + "'");
    }
    RecurrentStack.Mode mode;
    try {
      mode = RecurrentStack.Mode.parse(file.metadata("mode"));
    } catch (SafetensorsException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw fail("metadata " + e.getMessage());
    }
    String dt = file.metadata("dtype");
    if (!dt.equals("float32") && !dt.equals("float64")) {
      throw fail("metadata 'dtype' expected float32 or float64 but got '" + dt + "'");
    }
    DType dtype = DType.parse(dt);
    int inputSize = intMeta("input_size", MAX_SIZE);
    int hiddenSize = intMeta("hidden_size", MAX_SIZE);
    int numLayers = intMeta("num_layers", MAX_LAYERS);
    boolean bias = boolMeta("bias");
    this.batchFirst = boolMeta("batch_first");
    boolean bidirectional = boolMeta("bidirectional");
    this.stack = new RecurrentStack(mode, inputSize, hiddenSize, numLayers, bias, bidirectional,
        dtype);
    for (Map.Entry<String, Parameter> e : stack.parameters().entrySet()) {
      Tensor t = file.find(e.getKey()).orElseThrow(
          () -> fail("has no parameter '" + e.getKey() + "' required by " + stack.describe()));
      if (!t.shape().equals(e.getValue().shape()) || t.dtype() != dtype) {
        throw fail("parameter '" + e.getKey() + "' expected " + dtype.torchName() + " "
            + e.getValue().shape() + " for " + stack.describe() + " but got "
            + t.dtype().torchName() + " " + t.shape());
      }
      e.getValue().set(t);
    }
  }

  /**
   * Reads and checks a case file.
   *
   * @throws IOException if the file cannot be read
   * @throws SafetensorsException if it is not a valid case; the message names the file, the
   *     tensor or key, what was expected and what was found
   */
  public static TorchCase read(Path path) throws IOException {
    return new TorchCase(Safetensors.read(path));
  }

  /** A case from an already read file. */
  public static TorchCase of(SafetensorsFile file) {
    return new TorchCase(file);
  }

  /** The file the case came from. */
  public SafetensorsFile file() {
    return file;
  }

  /** The stack with torch's parameters loaded. */
  public RecurrentStack stack() {
    return stack;
  }

  /** Whether {@code input} and {@code output} are {@code [batch, seq, features]}. */
  public boolean batchFirst() {
    return batchFirst;
  }

  /** The dtype of every tensor of the case. */
  public DType dtype() {
    return stack.dtype();
  }

  /** The input sequence. */
  public Tensor input() {
    return file.tensor("input");
  }

  /** A tensor of the case that may be absent ({@code h0}, {@code c0}, {@code grad_c_n}, ...). */
  public Optional<Tensor> find(String name) {
    return file.find(name);
  }

  /** A tensor the case must have. */
  public Tensor tensor(String name) {
    return file.tensor(name);
  }

  /** Torch's results, by name without the {@code expected.} prefix, in file order. */
  public ImmutableMap<String, Tensor> expected() {
    ImmutableMap.Builder<String, Tensor> b = ImmutableMap.builder();
    for (Map.Entry<String, Tensor> e : file.tensors().entrySet()) {
      if (e.getKey().startsWith("expected.")) {
        b.put(e.getKey().substring("expected.".length()), e.getValue());
      }
    }
    return b.buildOrThrow();
  }

  /** The absolute tolerance: 1e-10 for float64, 1e-5 for float32. */
  public double absoluteTolerance() {
    return dtype() == DType.FLOAT64 ? 1e-10 : 1e-5;
  }

  /** The relative tolerance: 1e-8 for float64, 1e-4 for float32. */
  public double relativeTolerance() {
    return dtype() == DType.FLOAT64 ? 1e-8 : 1e-4;
  }

  /** Whether {@code actual} is within the case's tolerances of {@code expected}. */
  public boolean close(Tensor actual, Tensor expected) {
    return actual.allClose(expected, absoluteTolerance(), relativeTolerance());
  }

  /** The forward pass of the case: the stack on {@code input} from {@code h0}/{@code c0}. */
  public RecurrentStack.Result forward() {
    return stack.forward(input(), batchFirst, find("h0").orElse(null), find("c0").orElse(null));
  }

  private int intMeta(String key, int max) {
    String v = file.metadata(key);
    long n;
    try {
      n = Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw fail("metadata '" + key + "' expected an integer but got '" + v + "'");
    }
    if (n < 1 || n > max) {
      throw fail("metadata '" + key + "' expected an integer in [1, " + max + "] but got " + v);
    }
    return (int) n;
  }

  private boolean boolMeta(String key) {
    String v = file.metadata(key);
    if (!v.equals("true") && !v.equals("false")) {
      throw fail("metadata '" + key + "' expected true or false but got '" + v + "'");
    }
    return v.equals("true");
  }

  private SafetensorsException fail(String what) {
    return new SafetensorsException(file.source() + ": " + what);
  }
}
