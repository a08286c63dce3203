package dev.rnn.core;

import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import java.util.Optional;
import java.util.Set;

/**
 * The tensors and metadata of one safetensors file, as {@link Safetensors#read} returns them.
 *
 * <p>Immutable: the maps cannot be changed and the tensors never change. Tensors are in the order
 * of their data in the file (by {@code data_offsets}), which for files this library writes is the
 * order they were written in.
 */
public final class SafetensorsFile {
  private static final int NAMES_SHOWN = 10;

  /**
   * What the header of a safetensors file declares, once it passed the reader's checks and before
   * any tensor data is read: what {@link Safetensors#read(java.nio.file.Path,
   * java.util.function.Consumer)} shows its check.
   *
   * @param source the file name (or other source name), as used in messages
   * @param metadata the {@code __metadata__} strings; empty if the file has none
   * @param tensors each tensor's dtype and shape by name, in the order of their data in the file
   */
  public record Header(String source, ImmutableMap<String, String> metadata,
      ImmutableMap<String, Declared> tensors) {
    /**
     * Checks nothing: the reader made it.
     *
     * @param source the file name, as used in messages
     * @param metadata the metadata strings
     * @param tensors each tensor's dtype and shape by name
     */
    public Header {
      checkNotNull(source, "source");
      checkNotNull(metadata, "metadata");
      checkNotNull(tensors, "tensors");
    }
  }

  /**
   * The dtype and shape a header declares for one tensor.
   *
   * @param dtype the tensor's dtype
   * @param shape the tensor's shape
   */
  public record Declared(DType dtype, Shape shape) {
    /**
     * Checks nothing but presence.
     *
     * @param dtype the tensor's dtype
     * @param shape the tensor's shape
     */
    public Declared {
      checkNotNull(dtype, "dtype");
      checkNotNull(shape, "shape");
    }

    /** {@return the bytes of its data: its element count times its dtype's width} */
    public long bytes() {
      return (long) shape.size() * dtype.byteSize();
    }
  }

  private final String source;
  private final ImmutableMap<String, Tensor> tensors;
  private final ImmutableMap<String, String> metadata;
  private final ImmutableSet<String> integers;

  SafetensorsFile(
      String source, ImmutableMap<String, Tensor> tensors, ImmutableMap<String, String> metadata) {
    this(source, tensors, metadata, ImmutableSet.of());
  }

  SafetensorsFile(String source, ImmutableMap<String, Tensor> tensors,
      ImmutableMap<String, String> metadata, ImmutableSet<String> integers) {
    this.source = source;
    this.tensors = tensors;
    this.metadata = metadata;
    this.integers = integers;
  }

  /**
   * Whether the tensor {@code name} was stored as 64-bit integers ({@code I64}, e.g. torch's
   * {@code lengths}): its {@link #tensor} is float64, holding the integers exactly.
   *
   * @param name the tensor's name
   * @return true for an {@code I64} tensor of the file
   */
  public boolean isInteger(String name) {
    return integers.contains(name);
  }

  /**
   * {@return the file name (or other source name) the tensors were read from, as used in messages}
   */
  public String source() {
    return source;
  }

  /** {@return every tensor by name, in the order of their data in the file} */
  public ImmutableMap<String, Tensor> tensors() {
    return tensors;
  }

  /** {@return the {@code __metadata__} string map; empty if the file has none} */
  public ImmutableMap<String, String> metadata() {
    return metadata;
  }

  /**
   * The tensor named {@code name}.
   *
   * @param name the tensor's name
   * @return the tensor
   * @throws SafetensorsException if the file has no tensor of that name; the message names the
   *     file and lists the tensors it has
   */
  public Tensor tensor(String name) {
    checkNotNull(name, "name");
    Tensor t = tensors.get(name);
    if (t == null) {
      throw new SafetensorsException(String.format("%s has no tensor '%s'; it has %s",
          source, name, describe(tensors.keySet(), "tensors")));
    }
    return t;
  }

  /**
   * The tensor named {@code name}, or empty if the file has none of that name.
   *
   * @param name the tensor's name
   * @return the tensor, if the file has it
   */
  public Optional<Tensor> find(String name) {
    checkNotNull(name, "name");
    return Optional.ofNullable(tensors.get(name));
  }

  /**
   * The metadata value of {@code key}.
   *
   * @param key the metadata key
   * @return the value
   * @throws SafetensorsException if the metadata has no such key; the message names the file and
   *     lists the keys it has
   */
  public String metadata(String key) {
    checkNotNull(key, "key");
    String value = metadata.get(key);
    if (value == null) {
      throw new SafetensorsException(String.format("%s has no metadata key '%s'; it has %s",
          source, key, describe(metadata.keySet(), "metadata keys")));
    }
    return value;
  }

  /** The source and tensor names, e.g. {@code SafetensorsFile(x.safetensors: input, h0)}. */
  @Override
  public String toString() {
    return "SafetensorsFile(" + source + ": " + describe(tensors.keySet(), "tensors") + ")";
  }

  /** {@code a, b and c}, or the first names and {@code and 7 more}, or {@code no tensors}. */
  static String describe(Set<String> names, String what) {
    if (names.isEmpty()) {
      return "no " + what;
    }
    StringBuilder sb = new StringBuilder();
    int i = 0;
    for (String n : names) {
      if (i == NAMES_SHOWN) {
        return sb.append(" and ").append(names.size() - i).append(" more").toString();
      }
      boolean last = i == names.size() - 1;
      sb.append(i == 0 ? "" : last ? " and " : ", ").append('\'').append(n).append('\'');
      i++;
    }
    return sb.toString();
  }
}
