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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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
   * The network saved at {@code path}: rebuilt from the metadata ({@code Rnn.parse(spec)} and the
   * options), with every parameter loaded.
   *
   * @param path the checkpoint file
   * @return a new network
   * @throws NoSuchFileException if there is no file at {@code path}
   * @throws IOException if the file cannot be read
   * @throws SafetensorsException if the file is malformed, not a {@value #FORMAT} checkpoint, its
   *     metadata does not describe a network, or its tensors are not exactly that network's
   *     parameters with their shapes and dtype; the message names the file and the first
   *     difference
   */
  static Network load(Path path) throws IOException {
    SafetensorsFile f = read(path);
    String src = f.source();
    String format = f.metadata().get("format");
    if (!FORMAT.equals(format)) {
      throw new SafetensorsException(src + ": is not a network checkpoint: metadata 'format'"
          + " expected '" + FORMAT + "' but got " + (format == null ? "none" : "'" + format + "'"));
    }
    NetworkBuilder b;
    try {
      b = Rnn.parse(f.metadata("spec"));
    } catch (SafetensorsException e) {
      throw e;
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new SafetensorsException(src + ": metadata " + e.getMessage());
    }
    String stacking = f.metadata("stacking");
    if (!stacking.equals("states") && !stacking.equals("outputs")) {
      throw new SafetensorsException(src + ": metadata 'stacking' expected states or outputs but"
          + " got '" + stacking + "'");
    }
    b.stacking(Stacking.valueOf(stacking.toUpperCase(Locale.ROOT)));
    if (bool(f, "handOffStates")) {
      b.handOffStates();
    }
    if (bool(f, "batchFirst")) {
      b.batchFirst();
    }
    DType dtype;
    try {
      dtype = DType.parse(f.metadata("dtype"));
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
    load(net, RunCheckpoint.withoutRunState(f.tensors()), src, dtype);
    return net;
  }

  /**
   * Loads the parameters saved at {@code path} into {@code net}, which must have exactly the
   * parameters of the file, with the same names and shapes (values are converted to the
   * network's dtype); the file's metadata is not read, so a torch {@code state_dict} saved as
   * safetensors loads too. No value changes unless every parameter fits.
   *
   * @param net the network whose parameters are set
   * @param path the safetensors file
   * @throws NoSuchFileException if there is no file at {@code path}
   * @throws IOException if the file cannot be read
   * @throws SafetensorsException if the file is malformed, lacks a parameter of {@code net}, has
   *     one that {@code net} lacks, or one of another shape; the message names the file, the
   *     first such parameter, what was expected and what was found
   */
  static void loadInto(Network net, Path path) throws IOException {
    checkNotNull(net, "net");
    loadInto(net, read(path));
  }

  static void loadInto(Network net, SafetensorsFile f) {
    load(net, f.tensors(), f.source(), null);
  }

  /** Loads {@code tensors} (exactly the network's parameters) into {@code net}. */
  static void loadInto(Network net, Map<String, Tensor> tensors, String source) {
    load(net, tensors, source, null);
  }

  /**
   * Checks {@code tensors} against the network's parameters, in the network's order and then the
   * extra ones in the file's, and only then sets every value.
   *
   * @param dtype the dtype every tensor must have, or null to convert
   */
  private static void load(Network net, Map<String, Tensor> tensors, String src, DType dtype) {
    ImmutableMap<String, Parameter> params = net.namedParameters();
    for (Map.Entry<String, Parameter> e : params.entrySet()) {
      String name = e.getKey();
      Parameter p = e.getValue();
      Tensor t = tensors.get(name);
      if (t == null) {
        throw new SafetensorsException(src + ": parameter " + name + " expected shape "
            + p.shape() + " but the file has none (network " + net.spec() + ")");
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
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      if (!params.containsKey(e.getKey())) {
        throw new SafetensorsException(src + ": parameter " + e.getKey() + " "
            + e.getValue().shape() + " is not a parameter of network " + net.spec()
            + ", which has " + names(params.keySet()));
      }
    }
    for (Map.Entry<String, Parameter> e : params.entrySet()) {
      e.getValue().set(tensors.get(e.getKey()));
    }
  }

  private static String names(Iterable<String> names) {
    List<String> all = new ArrayList<>();
    names.forEach(all::add);
    return String.join(", ", all);
  }

  private static boolean bool(SafetensorsFile f, String key) {
    String v = f.metadata(key);
    if (!v.equals("true") && !v.equals("false")) {
      throw new SafetensorsException(f.source() + ": metadata '" + key
          + "' expected true or false but got '" + v + "'");
    }
    return v.equals("true");
  }

  /** Reads {@code path}, naming it when it does not exist. */
  static SafetensorsFile read(Path path) throws IOException {
    checkNotNull(path, "path");
    try {
      return Safetensors.read(path);
    } catch (NoSuchFileException e) {
      NoSuchFileException named = new NoSuchFileException(path.toString(), null,
          "no such file or directory");
      named.initCause(e);
      throw named;
    }
  }
}
