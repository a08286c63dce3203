package dev.rnn.core;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.nio.file.StandardOpenOption.READ;

import com.google.common.collect.ImmutableMap;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Reads and writes tensors in the safetensors format, the format of the torch cases and of saved
 * parameters.
 *
 * <p>A file is an 8-byte little-endian unsigned header length {@code N}, then {@code N} bytes of
 * UTF-8 JSON, then the raw little-endian data of every tensor. The header maps each tensor name to
 * its dtype, shape and the byte range of its data, counted from the first byte after the header,
 * plus an optional {@code __metadata__} map of strings:
 *
 * <pre>{@code
 * {"__metadata__": {"format": "rnn-torch-case/1", "dtype": "float32"},
 *  "input": {"dtype": "F32", "shape": [1, 8, 4], "data_offsets": [0, 128]},
 *  "h0":    {"dtype": "F32", "shape": [2, 1, 4], "data_offsets": [128, 160]}}
 * }</pre>
 *
 * <p>Only the dtypes of {@link DType} are supported: {@code F32} and {@code F64}; the reader also
 * takes {@code I64} (torch's integer tensors, e.g. a case's {@code lengths}), read exactly into
 * float64 ({@link SafetensorsFile#isInteger} says which). A header holds at most 100,000 tensors
 * and 100,000 metadata keys, each key once. The reader (the
 * package-private {@code SafetensorsReader}) checks everything a malformed file can get wrong,
 * before allocating memory for it (a caller can check the header too, before any tensor is read:
 * {@link #read(Path, Consumer)}), and throws a {@link SafetensorsException} naming the file, the
 * tensor, what was expected and what was found. The writer lays the data out contiguously in the
 * iteration order of the tensor map and pads the header with spaces to a multiple of 8 bytes, as
 * the reference implementation does.
 */
public final class Safetensors {
  /** The largest header the reader accepts, as in the reference implementation. */
  static final long MAX_HEADER_BYTES = 100_000_000;

  /**
   * The most tensors, and the most metadata keys, a header may hold: more than any model's
   * {@code state_dict} has (torch's largest have a few thousand), few enough that a header of
   * empty entries is refused in a few megabytes of memory.
   */
  static final int MAX_ENTRIES = 100_000;

  /** The most bytes a Java array can hold, for {@link #toBytes}. */
  private static final long MAX_ARRAY_BYTES = Integer.MAX_VALUE - 8;

  /** Bytes converted at once between tensor data and file bytes. */
  static final int CHUNK_BYTES = 1 << 20;

  /** The header key of the metadata strings. */
  static final String METADATA = "__metadata__";

  private Safetensors() {}

  // ---- reading ------------------------------------------------------------------------------

  /**
   * Reads every tensor and the metadata of the safetensors file at {@code path}.
   *
   * <p>Tensor data is read in chunks straight into the tensors' arrays, so reading takes little
   * memory beyond the tensors themselves.
   *
   * @param path the file
   * @return the tensors and metadata
   * @throws SafetensorsException if the file is malformed; the message names {@code path}
   * @throws java.nio.file.FileSystemException naming {@code path} if it is not a regular file (a
   *     directory, a device, a FIFO, ...), before opening it
   * @throws IOException if the file cannot be read
   */
  public static SafetensorsFile read(Path path) throws IOException {
    return read(path, header -> {});
  }

  /**
   * Reads the safetensors file at {@code path}, letting {@code check} see its header before any
   * tensor data is read or allocated: a caller that knows what the file must hold (a checkpoint
   * of a given architecture) refuses a file that holds something else, however large, at the cost
   * of its header alone.
   *
   * @param path the file
   * @param check sees the header once it passed every check of its own; throws to refuse the file
   * @return the tensors and metadata
   * @throws SafetensorsException if the file is malformed; the message names {@code path}
   * @throws java.nio.file.FileSystemException naming {@code path} if it is not a regular file
   * @throws IOException if the file cannot be read
   * @throws RuntimeException whatever {@code check} throws
   */
  public static SafetensorsFile read(Path path, Consumer<SafetensorsFile.Header> check)
      throws IOException {
    checkNotNull(path, "path");
    checkNotNull(check, "check");
    // Opening a FIFO for reading blocks until a writer comes; a device reads forever.
    if (Files.exists(path) && !Files.isRegularFile(path)) {
      throw new FileSystemException(path.toString(), null,
          "is " + AtomicFile.kind(path) + ", not a regular file");
    }
    try (FileChannel channel = FileChannel.open(path, READ)) {
      return SafetensorsReader.read(channel, path.toString(), check);
    }
  }

  /**
   * Reads every tensor and the metadata of a safetensors file held in {@code bytes}.
   *
   * @param sourceName where the bytes came from, e.g. a file or resource name, used in messages
   * @param bytes the whole file
   * @return the tensors and metadata
   * @throws SafetensorsException if the bytes are not a well-formed safetensors file
   */
  public static SafetensorsFile read(byte[] bytes, String sourceName) {
    return read(bytes, sourceName, header -> {});
  }

  /**
   * Reads a safetensors file held in {@code bytes}, letting {@code check} see its header before
   * any tensor is allocated; see {@link #read(Path, Consumer)}.
   *
   * @param bytes the whole file
   * @param sourceName where the bytes came from, used in messages
   * @param check sees the header once it passed every check of its own; throws to refuse it
   * @return the tensors and metadata
   * @throws SafetensorsException if the bytes are not a well-formed safetensors file
   * @throws RuntimeException whatever {@code check} throws
   */
  public static SafetensorsFile read(byte[] bytes, String sourceName,
      Consumer<SafetensorsFile.Header> check) {
    checkNotNull(bytes, "bytes");
    checkNotNull(sourceName, "sourceName");
    checkNotNull(check, "check");
    return SafetensorsReader.read(bytes, sourceName, check);
  }

  // ---- writing ------------------------------------------------------------------------------

  /**
   * Writes {@code tensors} and {@code metadata} as a safetensors file at {@code path},
   * atomically.
   *
   * <p>The file is written to a temporary file in the same directory ({@code .NAME.RANDOM.tmp}),
   * forced to disk, then moved over {@code path} in one atomic step. If anything fails, the
   * temporary file is deleted and a file already at {@code path} is left as it was. Only a regular
   * file is replaced: a {@code path} that is a directory, a device, a FIFO or a socket (or a link
   * to one) is refused before anything is written, and a link to a regular file is followed, so
   * the link stays. Temporary files of that naming left next to {@code path} by killed runs (older
   * than this JVM) are removed. Tensors are laid out in the iteration order of {@code tensors}:
   * pass a {@link LinkedHashMap} or {@link ImmutableMap} for a stable file.
   *
   * @param metadata the {@code __metadata__} strings; when empty the header has none
   * @param path the file written or replaced
   * @param tensors the tensors by name
   * @throws IllegalArgumentException if a tensor is named {@code __metadata__}
   * @throws NullPointerException if a name, tensor, key or value is null
   * @throws java.nio.file.FileSystemException naming {@code path} if it exists and is not a
   *     regular file
   * @throws java.nio.file.NoSuchFileException if the directory of {@code path} does not exist
   * @throws IOException if the file cannot be written or moved into place
   */
  public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata)
      throws IOException {
    write(path, tensors, metadata, UnaryOperator.identity());
  }

  /** {@link #write(Path, Map, Map)} writing through {@code decorate}: tests inject failures. */
  static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata,
      UnaryOperator<OutputStream> decorate) throws IOException {
    byte[] header = header(tensors, metadata);
    checkArgument(path.toAbsolutePath().getFileName() != null,
        "write expected a file path but got %s", path);
    AtomicFile.write(path, out -> writeTo(out, header, tensors), decorate);
  }

  /**
   * Writes {@code tensors} and {@code metadata} in safetensors format to {@code out}, then
   * flushes it; {@code out} is left open.
   *
   * <p>Tensors are laid out in the iteration order of {@code tensors}.
   *
   * @param out the stream written
   * @param tensors the tensors by name
   * @param metadata the {@code __metadata__} strings; when empty the header has none
   * @throws IllegalArgumentException if a tensor is named {@code __metadata__}
   * @throws NullPointerException if a name, tensor, key or value is null
   * @throws IOException if writing to {@code out} fails
   */
  public static void write(OutputStream out, Map<String, Tensor> tensors,
      Map<String, String> metadata) throws IOException {
    checkNotNull(out, "out");
    writeTo(out, header(tensors, metadata), tensors);
  }

  /**
   * The bytes of a safetensors file holding {@code tensors} and {@code metadata}.
   *
   * <p>Tensors are laid out in the iteration order of {@code tensors}.
   *
   * @param tensors the tensors by name
   * @param metadata the {@code __metadata__} strings; when empty the header has none
   * @return the file's bytes
   * @throws IllegalArgumentException if a tensor is named {@code __metadata__}, or the file would
   *     not fit in a byte array (write it to a file instead)
   * @throws NullPointerException if a name, tensor, key or value is null
   */
  public static byte[] toBytes(Map<String, Tensor> tensors, Map<String, String> metadata) {
    byte[] header = header(tensors, metadata);
    long size = Long.BYTES + header.length + dataBytes(tensors);
    checkArgument(size <= MAX_ARRAY_BYTES,
        "toBytes expected at most %s bytes but %s tensors need %s; write them to a file instead",
        MAX_ARRAY_BYTES, tensors.size(), size);
    ByteBuffer buf = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
    buf.putLong(header.length).put(header);
    for (Tensor t : tensors.values()) {
      put(t, 0, t.size(), buf);
    }
    return buf.array();
  }

  private static void writeTo(OutputStream out, byte[] header, Map<String, Tensor> tensors)
      throws IOException {
    long largest = Long.BYTES;
    for (Tensor t : tensors.values()) {
      largest = Math.max(largest, (long) t.size() * t.dtype().byteSize());
    }
    ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, largest))
        .order(ByteOrder.LITTLE_ENDIAN);
    chunk.putLong(header.length);
    out.write(chunk.array(), 0, Long.BYTES);
    out.write(header);
    for (Tensor t : tensors.values()) {
      int step = chunk.capacity() / t.dtype().byteSize();
      for (int i = 0; i < t.size(); i += step) {
        chunk.clear();
        put(t, i, Math.min(step, t.size() - i), chunk);
        out.write(chunk.array(), 0, chunk.position());
      }
    }
    out.flush();
  }

  /** Puts elements {@code [from, from + count)} of {@code t} into {@code dst}, advancing it. */
  private static void put(Tensor t, int from, int count, ByteBuffer dst) {
    Storage s = t.storage();
    if (s instanceof Float32Storage f) {
      dst.asFloatBuffer().put(f.a, from, count);
    } else {
      dst.asDoubleBuffer().put(((Float64Storage) s).a, from, count);
    }
    dst.position(dst.position() + count * t.dtype().byteSize());
  }

  private static long dataBytes(Map<String, Tensor> tensors) {
    long bytes = 0;
    for (Tensor t : tensors.values()) {
      bytes += (long) t.size() * t.dtype().byteSize();
    }
    return bytes;
  }

  /** The JSON header, space-padded to a multiple of 8 bytes; checks the arguments. */
  private static byte[] header(Map<String, Tensor> tensors, Map<String, String> metadata) {
    checkNotNull(tensors, "tensors");
    checkNotNull(metadata, "metadata");
    checkArgument(tensors.size() <= MAX_ENTRIES && metadata.size() <= MAX_ENTRIES,
        "%s tensors and %s metadata keys are over the limit of %s each that readers accept",
        tensors.size(), metadata.size(), MAX_ENTRIES);
    StringWriter text = new StringWriter();
    JsonWriter w = new JsonWriter(text);
    try {
      w.beginObject();
      if (!metadata.isEmpty()) {
        w.name(METADATA).beginObject();
        for (Map.Entry<String, String> e : metadata.entrySet()) {
          checkNotNull(e.getKey(), "metadata has a null key");
          checkNotNull(e.getValue(), "metadata key '%s' has a null value", e.getKey());
          checkEncodable(e.getKey(), "metadata key");
          checkEncodable(e.getValue(), "metadata value");
          w.name(e.getKey()).value(e.getValue());
        }
        w.endObject();
      }
      long offset = 0;
      for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
        String name = checkNotNull(e.getKey(), "tensors has a null name");
        Tensor t = checkNotNull(e.getValue(), "tensor '%s' is null", name);
        checkArgument(!name.equals(METADATA),
            "tensor name '%s' is reserved for the metadata; rename the tensor", METADATA);
        checkEncodable(name, "tensor name");
        long end = offset + (long) t.size() * t.dtype().byteSize();
        w.name(name).beginObject().name("dtype").value(t.dtype().safetensorsName());
        w.name("shape").beginArray();
        for (int d : t.shape().dims()) {
          w.value(d);
        }
        w.endArray();
        w.name("data_offsets").beginArray().value(offset).value(end).endArray();
        w.endObject();
        offset = end;
      }
      w.endObject();
    } catch (IOException e) {
      throw new AssertionError("writing to a StringWriter cannot fail", e);
    }
    byte[] json = text.toString().getBytes(UTF_8);
    byte[] header = Arrays.copyOf(json, (json.length + 7) / 8 * 8);
    Arrays.fill(header, json.length, header.length, (byte) ' ');
    checkArgument(header.length <= MAX_HEADER_BYTES,
        "header of %s bytes is over the limit of %s bytes that readers accept",
        header.length, MAX_HEADER_BYTES);
    return header;
  }

  /**
   * Refuses a string with a lone surrogate: UTF-8 cannot encode it, and {@code getBytes} would
   * silently write {@code ?} in its place, so the tensor or key would come back renamed.
   */
  private static void checkEncodable(String s, String what) {
    checkArgument(UTF_8.newEncoder().canEncode(s),
        "%s '%s' holds a lone UTF-16 surrogate, which UTF-8 cannot encode", what, s);
  }
}
