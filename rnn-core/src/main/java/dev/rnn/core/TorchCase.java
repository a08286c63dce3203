package dev.rnn.core;

import com.google.common.collect.ImmutableMap;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A reference case from {@code torch.nn} in the {@code rnn-torch-case/1} or {@code /2} format: a
 * recurrent stack (its architecture in the metadata, its parameters under torch's names), its
 * inputs, upstream gradients and torch's results.
 *
 * <p>Format 2 adds two optional things: a {@code lengths} tensor ({@code I64}, {@code [N]}, each in
 * {@code [1, L]}): torch ran the batch packed ({@code pack_padded_sequence(...,
 * enforce_sorted=False)}), so {@link #forward} runs each sequence over its own steps; and {@code
 * proj_size} (LSTM, metadata, in {@code [0, hidden_size)}, 0 or absent for none) with parameters
 * {@code weight_hr_l<l>} {@code [P, H]}, {@code weight_hh_l<l>} {@code [4H, P]}, layers above the
 * first taking {@code D * P} inputs, {@code h0}/{@code h_n} and the output {@code P} features per
 * direction while {@code c0}/{@code c_n} keep {@code H}.
 *
 * <p>Tensors: {@code input}, optional {@code h0} and {@code c0}, {@code grad_output}, {@code
 * grad_h_n}, {@code grad_c_n}, and torch's results under {@code expected.} ({@code output}, {@code
 * h_n}, {@code c_n}, {@code grad.<parameter>}, {@code grad.input}, {@code grad.h0}, {@code
 * grad.c0}). Tolerances: float64 absolute 1e-10 plus relative 1e-8; float32 absolute 1e-5 plus
 * relative 1e-4.
 *
 * <p>Metadata (all strings): {@code format} = {@value #FORMAT}, {@code mode} ({@code rnn_tanh},
 * {@code rnn_relu}, {@code lstm}, {@code gru}), {@code dtype} ({@code float32}, {@code float64}),
 * {@code input_size} and {@code hidden_size} in {@code [1, 2^20]}, {@code num_layers} in {@code
 * [1, 1024]}, {@code bias}, {@code batch_first} and {@code bidirectional} ({@code true} or {@code
 * false}).
 *
 * <p>A case is checked when it is made, so that running it cannot fail: the metadata, then every
 * parameter of the declared architecture (present, its dtype and shape; no parameter of another
 * architecture), before any memory is allocated for the stack, then {@code input} ({@code [L, N,
 * H_in]}, or {@code [N, L, H_in]} when batch-first, non-empty), and where present {@code h0},
 * {@code c0}, {@code grad_h_n}, {@code grad_c_n} ({@code [num_layers * D, N, H]}, the cell states
 * only for lstm) and {@code grad_output} (the output's shape). Each failure is a {@link
 * SafetensorsException} naming the file, the key or tensor, what was expected and what was found,
 * e.g. {@code cases/x.safetensors: metadata 'num_layers' expected an integer in [1, 1024] but got
 * '99999999999'}.
 */
public final class TorchCase {
  /** The value of metadata {@code format} of the first format, which this reader understands. */
  public static final String FORMAT = "rnn-torch-case/1";

  /** The value of metadata {@code format} of the second format: lengths and projections. */
  public static final String FORMAT_2 = "rnn-torch-case/2";

  private static final String FORMATS = "'" + FORMAT + "' or '" + FORMAT_2 + "'";

  private static final int MAX_SIZE = 1 << 20;
  private static final int MAX_LAYERS = 1024;
  private static final Pattern SMALL_NATURAL = Pattern.compile("[0-9]{1,9}");
  private static final Pattern PARAMETER =
      Pattern.compile("((weight|bias)_(ih|hh)|weight_hr)_l[0-9]+(_reverse)?");
  private static final String KEYS = "format, mode, dtype, input_size, hidden_size, num_layers,"
      + " bias, batch_first and bidirectional";

  private final SafetensorsFile file;
  private final Stack stack;
  private final boolean batchFirst;
  private final Lengths lengths;

  /**
   * Checks the metadata, then every parameter against the declared architecture before the stack
   * is built (so an absurd architecture is refused before it is allocated), then the inputs.
   */
  private TorchCase(SafetensorsFile file) {
    this.file = file;
    if (file.metadata().isEmpty()) {
      throw fail("is not a torch case: it has no __metadata__ (expected " + FORMAT + " metadata "
          + KEYS + ")");
    }
    String format = meta("format", FORMATS);
    if (!FORMAT.equals(format) && !FORMAT_2.equals(format)) {
      throw fail("metadata 'format' expected " + FORMATS + " but got " + quote(format));
    }
    Stack.Mode mode = mode();
    String dt = meta("dtype", "float32 or float64");
    if (!dt.equals("float32") && !dt.equals("float64")) {
      throw fail("metadata 'dtype' expected float32 or float64 but got " + quote(dt));
    }
    DType dtype = DType.parse(dt);
    int inputSize = intMeta("input_size", MAX_SIZE);
    int hiddenSize = intMeta("hidden_size", MAX_SIZE);
    int numLayers = intMeta("num_layers", MAX_LAYERS);
    boolean bias = boolMeta("bias");
    this.batchFirst = boolMeta("batch_first");
    boolean bidirectional = boolMeta("bidirectional");
    int projSize = projSize(format, mode, hiddenSize);
    String arch = mode.torchName() + "(input_size=" + inputSize + ", hidden_size=" + hiddenSize
        + ", num_layers=" + numLayers + (bias ? "" : ", bias=false")
        + (bidirectional ? ", bidirectional" : "")
        + (projSize > 0 ? ", proj_size=" + projSize : "") + ")";
    checkParameters(mode, inputSize, hiddenSize, projSize, numLayers, bias, bidirectional, dtype,
        arch);
    this.stack = new Stack(TorchModule.of(mode, inputSize, hiddenSize).numLayers(numLayers)
        .bias(bias).bidirectional(bidirectional).dtype(dtype).projSize(projSize));
    for (Map.Entry<String, Parameter> e : stack.parameters().entrySet()) {
      e.getValue().set(file.tensor(e.getKey())); // Checked above, dtype and shape.
    }
    this.lengths = checkInputs(arch, format);
  }

  /**
   * Torch's {@code proj_size}: 0 when absent; in format 2 and for lstm only, an integer in {@code
   * [0, hidden_size)}.
   */
  private int projSize(String format, Stack.Mode mode, int hiddenSize) {
    String v = file.metadata().get("proj_size");
    if (v == null) {
      return 0;
    }
    if (!FORMAT_2.equals(format)) {
      throw fail("metadata 'proj_size' needs format '" + FORMAT_2 + "' but the case is '"
          + format + "'");
    }
    String expected = "an integer in [0, " + hiddenSize + ") (below hidden_size)";
    if (!SMALL_NATURAL.matcher(v).matches() || Integer.parseInt(v) >= hiddenSize) {
      throw fail("metadata 'proj_size' expected " + expected + " but got " + quote(v));
    }
    int p = Integer.parseInt(v);
    if (p > 0 && mode != Stack.Mode.LSTM) {
      throw fail("metadata 'proj_size' is for lstm only but the mode is " + mode.torchName());
    }
    return p;
  }

  /**
   * Checks that the file holds torch's parameters of this architecture with their shapes, in
   * torch's {@code named_parameters()} order: per layer {@code l} and direction, {@code
   * weight_ih_l<l>} {@code [G, H_in or D * H]}, {@code weight_hh_l<l>} {@code [G, H]}, and with
   * bias {@code bias_ih_l<l>}, {@code bias_hh_l<l>} {@code [G]}, where {@code G} is the cell's gate
   * size. Only then can the stack be allocated: its parameters are no larger than the file.
   */
  private void checkParameters(Stack.Mode mode, int inputSize, int hiddenSize, int projSize,
      int numLayers, boolean bias, boolean bidirectional, DType dtype, String arch) {
    int d = bidirectional ? 2 : 1;
    int g = mode.cell(inputSize, hiddenSize).gateSize();
    int out = projSize > 0 ? projSize : hiddenSize;
    Set<String> names = new HashSet<>();
    for (int l = 0; l < numLayers; l++) {
      int in = l == 0 ? inputSize : d * out;
      for (int r = 0; r < d; r++) {
        String suffix = Scan.suffix(l, r == 1);
        names.add(checkParameter("weight_ih" + suffix, dtype, arch, g, in));
        names.add(checkParameter("weight_hh" + suffix, dtype, arch, g, out));
        if (bias) {
          names.add(checkParameter("bias_ih" + suffix, dtype, arch, g));
          names.add(checkParameter("bias_hh" + suffix, dtype, arch, g));
        }
        if (projSize > 0) {
          names.add(checkParameter("weight_hr" + suffix, dtype, arch, projSize, hiddenSize));
        }
      }
    }
    for (String name : file.tensors().keySet()) {
      if (PARAMETER.matcher(name).matches() && !names.contains(name)) {
        throw fail("parameter '" + name + "' is not one of " + arch + "; is the metadata that of"
            + " another architecture?");
      }
    }
  }

  /** Checks the parameter {@code name}; returns the name. */
  private String checkParameter(String name, DType dtype, String arch, int... dims) {
    String expected = dtype.torchName() + " " + Arrays.toString(dims);
    Tensor t = file.find(name).orElseThrow(() ->
        fail("parameter '" + name + "' is missing (expected " + expected + " for " + arch + ")"));
    if (!Arrays.equals(t.shape().dims(), dims) || t.dtype() != dtype) {
      throw fail("parameter '" + name + "' expected " + expected + " for " + arch + " but got "
          + t.dtype().torchName() + " " + t.shape());
    }
    return name;
  }

  /**
   * Checks {@code input}, and {@code h0}, {@code c0}, {@code grad_output}, {@code grad_h_n},
   * {@code grad_c_n} and {@code lengths} where present, against the stack, so that running the
   * case cannot fail; returns the lengths, or null.
   */
  private Lengths checkInputs(String arch, String format) {
    DType dtype = stack.dtype();
    int in = stack.inputSize();
    String layout = batchFirst ? "[batch, seq, " : "[seq, batch, ";
    Tensor x = file.find("input").orElseThrow(() -> fail("tensor 'input' is missing (expected "
        + dtype.torchName() + " " + layout + in + "] for " + arch + ")"));
    if (x.rank() != 3 || x.dim(2) != in || x.dim(0) < 1 || x.dim(1) < 1 || x.dtype() != dtype) {
      throw fail("tensor 'input' expected " + dtype.torchName() + " " + layout + in
          + "] with seq, batch >= 1 for " + arch + " but got " + x.dtype().torchName() + " "
          + x.shape());
    }
    int seq = x.dim(batchFirst ? 1 : 0);
    int batch = x.dim(batchFirst ? 0 : 1);
    int slots = stack.numLayers() * stack.directions();
    int width = stack.directions() * stack.outputSize();
    checkOptional("h0", arch, slots, batch, stack.outputSize());
    checkOptional("grad_h_n", arch, slots, batch, stack.outputSize());
    if (stack.stateCount() == 2) {
      checkOptional("c0", arch, slots, batch, stack.hiddenSize());
      checkOptional("grad_c_n", arch, slots, batch, stack.hiddenSize());
    } else {
      for (String name : new String[] {"c0", "grad_c_n"}) {
        if (file.find(name).isPresent()) {
          throw fail("tensor '" + name + "' is not used by " + arch + ": only lstm has a cell"
              + " state");
        }
      }
    }
    if (batchFirst) {
      checkOptional("grad_output", arch, batch, seq, width);
    } else {
      checkOptional("grad_output", arch, seq, batch, width);
    }
    return checkLengths(format, batch, seq);
  }

  /** The {@code lengths} of format 2: I64 {@code [N]}, each in {@code [1, L]}; or null. */
  private Lengths checkLengths(String format, int batch, int seq) {
    Optional<Tensor> t = file.find("lengths");
    if (t.isEmpty()) {
      return null;
    }
    if (!FORMAT_2.equals(format)) {
      throw fail("tensor 'lengths' needs format '" + FORMAT_2 + "' but the case is '" + format
          + "'");
    }
    Tensor l = t.get();
    if (!file.isInteger("lengths") || l.rank() != 1 || l.dim(0) != batch) {
      throw fail("tensor 'lengths' expected I64 [" + batch + "] (one length per sequence) but got "
          + (file.isInteger("lengths") ? "I64" : l.dtype().safetensorsName()) + " " + l.shape());
    }
    for (int n = 0; n < batch; n++) {
      if (l.at(n) < 1 || l.at(n) > seq) {
        throw fail("tensor 'lengths' expected lengths in [1, " + seq + "] (the input's steps) but"
            + " lengths[" + n + "] is " + (long) l.at(n));
      }
    }
    return Lengths.of(l);
  }

  private void checkOptional(String name, String arch, int... dims) {
    Optional<Tensor> t = file.find(name);
    if (t.isPresent()
        && (!Arrays.equals(t.get().shape().dims(), dims) || t.get().dtype() != stack.dtype())) {
      throw fail("tensor '" + name + "' expected " + stack.dtype().torchName() + " "
          + Arrays.toString(dims) + " for " + arch + " and its input but got "
          + t.get().dtype().torchName() + " " + t.get().shape());
    }
  }

  /**
   * Reads and checks a case file.
   *
   * @param path the case file, a safetensors file written by the torch generator
   * @return the case
   * @throws IOException if the file cannot be read
   * @throws SafetensorsException if it is not a valid case; the message names the file, the
   *     tensor or key, what was expected and what was found
   */
  public static TorchCase read(Path path) throws IOException {
    return new TorchCase(Safetensors.read(path));
  }

  /**
   * A case from an already read file.
   *
   * @param file the case file, read
   * @return the case
   * @throws SafetensorsException if it is not a valid case; the message names the file, the
   *     tensor or key, what was expected and what was found
   */
  public static TorchCase of(SafetensorsFile file) {
    return new TorchCase(file);
  }

  /** {@return the file the case came from} */
  public SafetensorsFile file() {
    return file;
  }

  /** {@return the stack with torch's parameters loaded} */
  public Stack stack() {
    return stack;
  }

  /** {@return whether {@code input} and {@code output} are {@code [batch, seq, features]}} */
  public boolean batchFirst() {
    return batchFirst;
  }

  /** {@return the dtype of every tensor of the case} */
  public DType dtype() {
    return stack.dtype();
  }

  /** {@return the length of each sequence, if the case ran them packed (format 2)} */
  public Optional<Lengths> lengths() {
    return Optional.ofNullable(lengths);
  }

  /** {@return the input sequence} */
  public Tensor input() {
    return file.tensor("input");
  }

  /**
   * A tensor of the case that may be absent ({@code h0}, {@code c0}, {@code grad_c_n}, ...).
   *
   * @param name the tensor's name in the file
   * @return the tensor, if the case has it
   */
  public Optional<Tensor> find(String name) {
    return file.find(name);
  }

  /**
   * A tensor the case must have.
   *
   * @param name the tensor's name in the file
   * @return the tensor
   * @throws SafetensorsException if the case has no such tensor
   */
  public Tensor tensor(String name) {
    return file.tensor(name);
  }

  /** {@return torch's results, by name without the {@code expected.} prefix, in file order} */
  public ImmutableMap<String, Tensor> expected() {
    ImmutableMap.Builder<String, Tensor> b = ImmutableMap.builder();
    for (Map.Entry<String, Tensor> e : file.tensors().entrySet()) {
      if (e.getKey().startsWith("expected.")) {
        b.put(e.getKey().substring("expected.".length()), e.getValue());
      }
    }
    return b.buildOrThrow();
  }

  /** {@return the absolute tolerance: 1e-10 for float64, 1e-5 for float32} */
  public double absoluteTolerance() {
    return dtype() == DType.FLOAT64 ? 1e-10 : 1e-5;
  }

  /** {@return the relative tolerance: 1e-8 for float64, 1e-4 for float32} */
  public double relativeTolerance() {
    return dtype() == DType.FLOAT64 ? 1e-8 : 1e-4;
  }

  /**
   * Whether {@code actual} is within the case's tolerances of {@code expected}.
   *
   * @param actual the result computed here
   * @param expected torch's result
   * @return true if every element is close, as {@link Tensor#allClose}
   */
  public boolean close(Tensor actual, Tensor expected) {
    return actual.allClose(expected, absoluteTolerance(), relativeTolerance());
  }

  /**
   * The forward pass of the case: the stack on {@code input} from {@code h0}/{@code c0}.
   *
   * @return the output and final states
   */
  public Stack.Result forward() {
    return stack.forward(input(), batchFirst, find("h0").orElse(null), find("c0").orElse(null),
        lengths);
  }

  /** The metadata value of {@code key}; {@code expected} says what it should be if missing. */
  private String meta(String key, String expected) {
    String v = file.metadata().get(key);
    if (v == null) {
      throw fail("metadata '" + key + "' is missing (expected " + expected + "); it has "
          + SafetensorsFile.describe(file.metadata().keySet(), "metadata keys"));
    }
    return v;
  }

  private Stack.Mode mode() {
    String expected = "one of rnn_tanh, rnn_relu, lstm, gru";
    String v = meta("mode", expected);
    for (Stack.Mode m : Stack.Mode.values()) {
      if (m.torchName().equals(v)) {
        return m;
      }
    }
    throw fail("metadata 'mode' expected " + expected + " but got " + quote(v));
  }

  private int intMeta(String key, int max) {
    String expected = "an integer in [1, " + max + "]";
    String v = meta(key, expected);
    if (!SMALL_NATURAL.matcher(v).matches() || Integer.parseInt(v) < 1
        || Integer.parseInt(v) > max) {
      throw fail("metadata '" + key + "' expected " + expected + " but got " + quote(v));
    }
    return Integer.parseInt(v);
  }

  private boolean boolMeta(String key) {
    String v = meta(key, "true or false");
    if (!v.equals("true") && !v.equals("false")) {
      throw fail("metadata '" + key + "' expected true or false but got " + quote(v));
    }
    return v.equals("true");
  }

  /** {@code 'v'}, cut to 40 characters. */
  private static String quote(String v) {
    return "'" + (v.length() <= 40 ? v : v.substring(0, 37) + "...") + "'";
  }

  private SafetensorsException fail(String what) {
    return new SafetensorsException(file.source() + ": " + what);
  }
}
