package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.collect.ImmutableMap;
import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Safetensors;
import dev.rnn.core.SafetensorsException;
import dev.rnn.core.SafetensorsFile;
import dev.rnn.core.Storage;
import dev.rnn.core.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Saves a network to a safetensors file and rebuilds it from one: every parameter under its
 * torch-style name, and the architecture in the metadata.
 *
 * <p>The file's {@code __metadata__}:
 *
 * <table>
 *   <caption>checkpoint metadata</caption>
 *   <tr><td>{@code format}</td><td>{@value #FORMAT}</td></tr>
 *   <tr><td>{@code spec}</td><td>{@link Network#spec()}, which {@link Rnn#parse} reads back</td></tr>
 *   <tr><td>{@code stacking}</td><td>{@code states} or {@code outputs}</td></tr>
 *   <tr><td>{@code handOffStates}, {@code batchFirst}</td><td>{@code true} or {@code false}</td></tr>
 *   <tr><td>{@code dtype}</td><td>{@code float32} or {@code float64}, the dtype of every tensor</td></tr>
 * </table>
 *
 * <p>A checkpoint written during a fit ({@link Trainer#checkpoints}) also holds where the run is
 * (see {@link RunCheckpoint}): metadata keys starting with {@code trainer.} and tensors whose
 * names start with {@code trainer/}, which no parameter's name does; loading a network skips them.
 *
 * <p>A checkpoint never holds NaN or infinity, and is written atomically: a save that fails
 * leaves the file that was there before as it was. Loading checks that the file's tensors are
 * exactly the network's parameters with their shapes before it changes any value, and names the
 * first that differs.
 *
 * <pre>{@code
 * net.save(Path.of("net.safetensors"));
 * Network same = Rnn.load(Path.of("net.safetensors"));
 * }</pre>
 *
 * <p>Package-private: applications reach it through {@link Network#save} and {@link Rnn#load}
 * (and {@link Rnn#loadTorch} for a torch {@code state_dict}).
 */
final class Checkpoint {
  /** The value of metadata {@code format} of a network checkpoint. */
  static final String FORMAT = "rnn-network/1";

  private Checkpoint() {}

  /** How a checkpoint reaches the disk; tests inject failing writes. */
  @FunctionalInterface
  interface Writer {
    void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata)
        throws IOException;
  }

  // ---- saving ---------------------------------------------------------------------------------

  /**
   * Writes {@code net}'s parameters and architecture to {@code path}, atomically (a temporary
   * file in the same directory, then one rename over {@code path}).
   *
   * @param net the network saved
   * @param path the checkpoint file, written or replaced
   * @throws IllegalArgumentException if the network has a user-written {@code cell(...)} layer,
   *     which a checkpoint cannot rebuild, or a parameter holds NaN or infinity; nothing is
   *     written
   * @throws NoSuchFileException if the directory of {@code path} does not exist
   * @throws IOException if the file cannot be written; a file already at {@code path} is left as
   *     it was
   */
  static void save(Network net, Path path) throws IOException {
    save(net, path, Safetensors::write);
  }

  /** {@link #save(Network, Path)} through {@code writer}. */
  static void save(Network net, Path path, Writer writer) throws IOException {
    save(net, path, Map.of(), Map.of(), writer);
  }

  /**
   * {@link #save(Network, Path)} through {@code writer}, with {@code extraTensors} and {@code
   * extraMetadata} besides the network's: the state of a training run ({@link RunCheckpoint}),
   * whose tensor names start with {@value RunCheckpoint#TENSORS}, which {@link #load} skips.
   */
  static void save(Network net, Path path, Map<String, Tensor> extraTensors,
      Map<String, String> extraMetadata, Writer writer) throws IOException {
    checkNotNull(net, "net");
    checkNotNull(path, "path");
    checkRebuildable(net, path);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
      Storage data = e.getValue().data();
      if (!data.allFinite()) {
        throw new IllegalArgumentException(path + ": parameter " + e.getKey()
            + " holds NaN or infinity; not saving");
      }
      tensors.put(e.getKey(), Tensor.copyOf(data, e.getValue().shape()));
    }
    Path dir = path.toAbsolutePath().getParent();
    if (dir != null && !Files.isDirectory(dir)) {
      throw new NoSuchFileException(path.toString(), null,
          "cannot save, directory " + dir + " does not exist");
    }
    tensors.putAll(extraTensors);
    Map<String, String> metadata = new LinkedHashMap<>(metadata(net));
    metadata.putAll(extraMetadata);
    writer.write(path, tensors, metadata);
  }

  /** The checkpoint metadata of {@code net}. */
  static ImmutableMap<String, String> metadata(Network net) {
    return ImmutableMap.of(
        "format", FORMAT,
        "spec", net.spec(),
        "stacking", net.stacking().name().toLowerCase(Locale.ROOT),
        "handOffStates", String.valueOf(net.handsOffStates()),
        "batchFirst", String.valueOf(net.batchFirst()),
        "dtype", net.dtype().torchName());
  }

  private static void checkRebuildable(Network net, Path path) {
    for (Stage s : net.stages()) {
      if (!s.rebuildable()) {
        throw new IllegalArgumentException(path + ": layer " + s.layer() + ", " + s.written()
            + " is a user-written cell, which a checkpoint cannot rebuild; not saving (save"
            + " net.namedParameters() with Safetensors.write and rebuild the network in code)");
      }
    }
  }

  // ---- loading --------------------------------------------------------------------------------

  /**
   * The longest spec a checkpoint may hold: a million characters, some 70,000 layers. A longer
   * one is refused before it is parsed, so that a small file cannot make the loader build a
   * network of millions of layers.
   */
  static final int MAX_SPEC_LENGTH = 1 << 20;

  /**
   * The network saved at {@code path}: rebuilt from the metadata ({@code Rnn.parse(spec)} and the
   * options), with every parameter loaded.
   *
   * <p>Nothing the file's size does not pay for is allocated: the spec and options are read from
   * the header and the network they describe is checked against the header's table of tensors
   * (every parameter present with its shape and the file's dtype, nothing else) before any
   * tensor is read and before the network's weights exist; a spec of huge layers in a small file
   * is refused at the cost of its header. The weights are then read and refused if any is NaN or
   * infinite.
   *
   * @param path the checkpoint file
   * @return a new network
   * @throws NoSuchFileException if there is no file at {@code path}
   * @throws java.nio.file.FileSystemException if {@code path} is not a regular file
   * @throws IOException if the file cannot be read
   * @throws SafetensorsException if the file is malformed, not a {@value #FORMAT} checkpoint, its
   *     metadata does not describe a network, its tensors are not exactly that network's
   *     parameters with their shapes and dtype, or a value is NaN or infinite; the message names
   *     the file and the first difference
   */
  static Network load(Path path) throws IOException {
    Network[] net = new Network[1];
    SafetensorsFile f = read(path, header -> net[0] = describedBy(header));
    load(net[0], RunCheckpoint.withoutRunState(f.tensors()), f.source(), net[0].dtype());
    return net[0];
  }

  /** {@link #load(Path)} from the bytes of a file named {@code source}, for tests. */
  static Network load(byte[] bytes, String source) {
    Network[] net = new Network[1];
    SafetensorsFile f = Safetensors.read(bytes, source, header -> net[0] = describedBy(header));
    load(net[0], RunCheckpoint.withoutRunState(f.tensors()), f.source(), net[0].dtype());
    return net[0];
  }

  /**
   * The network the header's metadata describes, built (its weights not yet allocated) and
   * checked against the header's table of tensors.
   */
  private static Network describedBy(SafetensorsFile.Header h) {
    String src = h.source();
    Map<String, String> metadata = h.metadata();
    String format = metadata.get("format");
    if (!FORMAT.equals(format)) {
      throw new SafetensorsException(src + ": is not a network checkpoint: metadata 'format'"
          + " expected '" + FORMAT + "' but got " + (format == null ? "none" : "'" + format + "'"));
    }
    String spec = metadata(h, "spec");
    if (spec.length() > MAX_SPEC_LENGTH) {
      throw new SafetensorsException(src + ": metadata 'spec' has " + spec.length()
          + " characters, more than the " + MAX_SPEC_LENGTH + " a checkpoint's spec may have");
    }
    NetworkBuilder b;
    try {
      b = Rnn.parse(spec);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new SafetensorsException(src + ": metadata " + e.getMessage());
    }
    String stacking = metadata(h, "stacking");
    if (!stacking.equals("states") && !stacking.equals("outputs")) {
      throw new SafetensorsException(src + ": metadata 'stacking' expected states or outputs but"
          + " got '" + stacking + "'");
    }
    option(h, "stacking", stacking, () -> b.stacking(Stacking.valueOf(
        stacking.toUpperCase(Locale.ROOT))));
    if (bool(h, "handOffStates")) {
      option(h, "handOffStates", "true", b::handOffStates);
    }
    if (bool(h, "batchFirst")) {
      option(h, "batchFirst", "true", b::batchFirst);
    }
    DType dtype;
    try {
      dtype = DType.parse(metadata(h, "dtype"));
    } catch (SafetensorsException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw new SafetensorsException(src + ": metadata " + e.getMessage());
    }
    Network net;
    try {
      net = b.dtype(dtype).build();
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new SafetensorsException(src + ": metadata describes no valid network: "
          + e.getMessage());
    }
    checkTable(net, RunCheckpoint.withoutRunState(h.tensors()), src, dtype);
    return net;
  }

  /**
   * Sets an option the metadata gives on {@code b}, naming the file, the key and the spec when
   * the spec already set it otherwise ({@code stacking(states)} in a spec whose metadata says
   * {@code outputs}).
   */
  private static void option(SafetensorsFile.Header h, String key, String value, Runnable set) {
    try {
      set.run();
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new SafetensorsException(h.source() + ": metadata '" + key + "' is " + value
          + ", which does not go with metadata 'spec' " + abbreviate(h.metadata().get("spec"))
          + ": " + e.getMessage());
    }
  }

  /**
   * Loads the parameters saved at {@code path} into {@code net}, which must have exactly the
   * parameters of the file, with the same names and shapes (values are converted to the
   * network's dtype); the file's metadata is not read, so a torch {@code state_dict} saved as
   * safetensors loads too. The names and shapes are checked against the file's header before any
   * tensor is read. No value changes unless every parameter fits and every value is finite.
   *
   * @param net the network whose parameters are set
   * @param path the safetensors file
   * @throws NoSuchFileException if there is no file at {@code path}
   * @throws IOException if the file cannot be read
   * @throws SafetensorsException if the file is malformed, lacks a parameter of {@code net}, has
   *     one that {@code net} lacks, one of another shape, or a NaN or infinity; the message names
   *     the file, the first such parameter, what was expected and what was found
   */
  static void loadInto(Network net, Path path) throws IOException {
    checkNotNull(net, "net");
    loadInto(net, read(path, h -> checkTable(net, h.tensors(), h.source(), null)));
  }

  static void loadInto(Network net, SafetensorsFile f) {
    load(net, f.tensors(), f.source(), null);
  }

  /** Loads {@code tensors} (exactly the network's parameters) into {@code net}. */
  static void loadInto(Network net, Map<String, Tensor> tensors, String source) {
    load(net, tensors, source, null);
  }

  /**
   * Checks a table of tensors (names, dtypes and shapes, as a header declares them) against the
   * network's parameters, in the network's order and then the extra ones in the file's.
   *
   * @param dtype the dtype every tensor must have, or null to convert
   */
  private static void checkTable(Network net, Map<String, SafetensorsFile.Declared> table,
      String src, DType dtype) {
    ImmutableMap<String, Parameter> params = net.namedParameters();
    for (Map.Entry<String, Parameter> e : params.entrySet()) {
      String name = e.getKey();
      Parameter p = e.getValue();
      SafetensorsFile.Declared t = table.get(name);
      if (t == null) {
        throw new SafetensorsException(src + ": parameter " + name + " expected shape "
            + p.shape() + " but the file has none (network " + abbreviate(net.spec()) + ")");
      }
      if (!t.shape().equals(p.shape())) {
        throw new SafetensorsException(src + ": parameter " + name + " expected shape "
            + p.shape() + " but got " + t.shape());
      }
      if (dtype != null && t.dtype() != dtype) {
        throw new SafetensorsException(src + ": parameter " + name + " expected dtype "
            + dtype.torchName() + " but got " + t.dtype().torchName());
      }
    }
    for (Map.Entry<String, SafetensorsFile.Declared> e : table.entrySet()) {
      if (!params.containsKey(e.getKey())) {
        throw new SafetensorsException(src + ": parameter " + e.getKey() + " "
            + e.getValue().shape() + " is not a parameter of network " + abbreviate(net.spec())
            + ", which has " + names(params.keySet()));
      }
    }
  }

  /**
   * Checks {@code tensors} (exactly the network's parameters, every value finite) and only then
   * sets every value.
   *
   * @param dtype the dtype every tensor must have, or null to convert
   */
  private static void load(Network net, Map<String, Tensor> tensors, String src, DType dtype) {
    Map<String, SafetensorsFile.Declared> table = new LinkedHashMap<>();
    tensors.forEach((name, t) -> table.put(name, new SafetensorsFile.Declared(t.dtype(),
        t.shape())));
    checkTable(net, table, src, dtype);
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      checkFinite(src, e.getKey(), e.getValue());
    }
    for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
      e.getValue().set(tensors.get(e.getKey()));
    }
  }

  /**
   * Refuses a NaN or infinity, naming the parameter and the first such element's index: a
   * checkpoint never holds one ({@link #save} refuses to write it), and a network loaded with one
   * would answer NaN to every input.
   */
  private static void checkFinite(String src, String name, Tensor t) {
    for (int i = 0; i < t.size(); i++) {
      double v = t.at(i);
      if (!Double.isFinite(v)) {
        int[] index = new int[t.rank()];
        for (int d = t.rank() - 1, rest = i; d >= 0; d--) {
          index[d] = rest % t.dim(d);
          rest /= t.dim(d);
        }
        throw new SafetensorsException(src + ": parameter " + name + " holds " + v + " at "
            + Arrays.toString(index) + "; a checkpoint holds finite values only");
      }
    }
  }

  private static String names(Iterable<String> names) {
    List<String> all = new ArrayList<>();
    names.forEach(all::add);
    return abbreviate(String.join(", ", all));
  }

  /** {@code s}, cut to 200 characters for a message: a spec may be long. */
  private static String abbreviate(String s) {
    return s == null ? "none" : s.length() <= 200 ? s : s.substring(0, 197) + "...";
  }

  private static String metadata(SafetensorsFile.Header h, String key) {
    String v = h.metadata().get(key);
    if (v == null) {
      throw new SafetensorsException(String.format("%s has no metadata key '%s'; it has %s",
          h.source(), key, keys(h.metadata().keySet())));
    }
    return v;
  }

  /** {@code 'a', 'b' and 'c'}, as {@link SafetensorsFile#metadata(String)} lists them. */
  private static String keys(Set<String> keys) {
    if (keys.isEmpty()) {
      return "no metadata keys";
    }
    List<String> quoted = new ArrayList<>();
    for (String k : keys) {
      if (quoted.size() == 10) {
        return String.join(", ", quoted) + " and " + (keys.size() - 10) + " more";
      }
      quoted.add("'" + k + "'");
    }
    return quoted.size() == 1 ? quoted.get(0)
        : String.join(", ", quoted.subList(0, quoted.size() - 1)) + " and "
            + quoted.get(quoted.size() - 1);
  }

  private static boolean bool(SafetensorsFile.Header h, String key) {
    String v = metadata(h, key);
    if (!v.equals("true") && !v.equals("false")) {
      throw new SafetensorsException(h.source() + ": metadata '" + key
          + "' expected true or false but got '" + v + "'");
    }
    return v.equals("true");
  }

  /** Reads {@code path}, naming it when it does not exist. */
  static SafetensorsFile read(Path path) throws IOException {
    return read(path, header -> {});
  }

  /** Reads {@code path} with {@code check} on its header, naming it when it does not exist. */
  static SafetensorsFile read(Path path, Consumer<SafetensorsFile.Header> check)
      throws IOException {
    checkNotNull(path, "path");
    try {
      return Safetensors.read(path, check);
    } catch (NoSuchFileException e) {
      NoSuchFileException named = new NoSuchFileException(path.toString(), null,
          "no such file or directory");
      named.initCause(e);
      throw named;
    }
  }
}
