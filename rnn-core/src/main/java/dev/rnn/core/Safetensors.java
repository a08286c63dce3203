package dev.rnn.core;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.nio.file.StandardCopyOption.ATOMIC_MOVE;
import static java.nio.file.StandardCopyOption.REPLACE_EXISTING;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;

import com.google.common.base.Strings;
import com.google.common.collect.ImmutableMap;
import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.Strictness;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

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
 * <p>Only the dtypes of {@link DType} are supported: {@code F32} and {@code F64}. The reader checks
 * everything a malformed file can get wrong, before allocating memory for it, and throws a {@link
 * SafetensorsException} naming the file, the tensor, what was expected and what was found. The
 * writer lays the data out contiguously in the iteration order of the tensor map and pads the
 * header with spaces to a multiple of 8 bytes, as the reference implementation does.
 */
public final class Safetensors {
  /** The largest header the reader accepts, as in the reference implementation. */
  static final long MAX_HEADER_BYTES = 100_000_000;

  /** The most elements a {@link Shape} can hold. */
  private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

  /** The most bytes a Java array can hold, for {@link #toBytes}. */
  private static final long MAX_ARRAY_BYTES = Integer.MAX_VALUE - 8;

  /** Bytes converted at once between tensor data and file bytes. */
  private static final int CHUNK_BYTES = 1 << 20;

  private static final String METADATA = "__metadata__";
  private static final Pattern INTEGER = Pattern.compile("-?[0-9]+");
  private static final TypeAdapter<JsonElement> JSON = new Gson().getAdapter(JsonElement.class);
  private static final String SUPPORTED_DTYPES = supportedDtypes();

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
   * @throws IOException if the file cannot be read
   */
  public static SafetensorsFile read(Path path) throws IOException {
    try (FileChannel channel = FileChannel.open(path, READ)) {
      return parse(new ChannelSource(channel, path.toString()), path.toString());
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
    checkNotNull(bytes, "bytes");
    checkNotNull(sourceName, "sourceName");
    try {
      return parse(new ArraySource(bytes), sourceName);
    } catch (IOException e) {
      throw new AssertionError("reading a byte array cannot fail", e);
    }
  }

  /** Random access to the bytes of a file or array. */
  private interface Source {
    long size() throws IOException;

    /** Bytes {@code [position, position + length)}, little-endian, from buffer position 0. */
    ByteBuffer read(long position, int length) throws IOException;
  }

  private record ArraySource(byte[] bytes) implements Source {
    @Override
    public long size() {
      return bytes.length;
    }

    @Override
    public ByteBuffer read(long position, int length) {
      return ByteBuffer.wrap(bytes, Math.toIntExact(position), length).slice()
          .order(ByteOrder.LITTLE_ENDIAN);
    }
  }

  private record ChannelSource(FileChannel channel, String source) implements Source {
    @Override
    public long size() throws IOException {
      return channel.size();
    }

    @Override
    public ByteBuffer read(long position, int length) throws IOException {
      ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
      while (b.hasRemaining()) {
        if (channel.read(b, position + b.position()) < 0) {
          throw new EOFException(String.format(
              "%s: file ended at byte %s while reading bytes [%s, %s); was it truncated?",
              source, position + b.position(), position, position + length));
        }
      }
      return b.flip();
    }
  }

  /** A header entry that passed every check on its own. */
  private record Entry(String name, DType dtype, Shape shape, long begin, long end) {
    String offsets() {
      return "[" + begin + ", " + end + "]";
    }
  }

  private static SafetensorsFile parse(Source src, String source) throws IOException {
    long fileSize = src.size();
    check(fileSize >= Long.BYTES,
        "%s: file has %s bytes but a safetensors file starts with an 8-byte header length",
        source, fileSize);
    long n = src.read(0, Long.BYTES).getLong();
    check(Long.compareUnsigned(n, MAX_HEADER_BYTES) <= 0,
        "%s: header length %s is over the limit of %s bytes",
        source, Long.toUnsignedString(n), MAX_HEADER_BYTES);
    long dataSize = fileSize - Long.BYTES - n;
    check(dataSize >= 0,
        "%s: header length %s runs past the end of the file, which has %s bytes after the 8-byte"
            + " header length", source, n, fileSize - Long.BYTES);
    Map<String, JsonElement> header = parseHeader(src.read(Long.BYTES, (int) n), source);

    ImmutableMap<String, String> metadata = metadata(header.remove(METADATA), source);
    List<Entry> entries = new ArrayList<>(header.size());
    for (Map.Entry<String, JsonElement> e : header.entrySet()) {
      entries.add(entry(e.getKey(), e.getValue(), dataSize, source));
    }
    entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    checkNoOverlap(entries, source);

    long dataStart = Long.BYTES + n;
    ImmutableMap.Builder<String, Tensor> tensors = ImmutableMap.builderWithExpectedSize(
        entries.size());
    for (Entry e : entries) {
      tensors.put(e.name(), readTensor(src, dataStart + e.begin(), e.dtype(), e.shape()));
    }
    return new SafetensorsFile(source, tensors.buildOrThrow(), metadata);
  }

  /** The top-level JSON object of the header, in file order, with no name twice. */
  private static Map<String, JsonElement> parseHeader(ByteBuffer bytes, String source) {
    String text;
    try {
      text = UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(bytes)
          .toString();
    } catch (CharacterCodingException e) {
      throw error("%s: header is not valid UTF-8 (malformed byte at header offset %s)",
          source, bytes.position());
    }
    Map<String, JsonElement> entries = new LinkedHashMap<>();
    try {
      JsonReader r = new JsonReader(new StringReader(text));
      r.setStrictness(Strictness.STRICT);
      if (r.peek() != JsonToken.BEGIN_OBJECT) {
        throw error("%s: header must be a JSON object but is %s", source,
            abbreviate(JSON.read(r)));
      }
      r.beginObject();
      while (r.hasNext()) {
        String name = r.nextName();
        check(!entries.containsKey(name), "%s: header has two entries named '%s'", source, name);
        entries.put(name, JSON.read(r));
      }
      r.endObject();
      // Only whitespace may follow the object; in strict mode anything else throws here.
      check(r.peek() == JsonToken.END_DOCUMENT, "%s: header has data after its JSON object",
          source);
    } catch (IOException e) {
      throw error("%s: header is not valid JSON: %s", source, jsonError(e));
    }
    return entries;
  }

  /** Gson's message without its advice on lenient parsing or its link, which do not apply. */
  private static String jsonError(Exception e) {
    String m = Strings.nullToEmpty(e.getMessage()).lines().findFirst().orElse("");
    return m.replace(
        "Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "malformed JSON");
  }

  private static ImmutableMap<String, String> metadata(JsonElement json, String source) {
    if (json == null) {
      return ImmutableMap.of();
    }
    if (!json.isJsonObject()) {
      throw error("%s: %s must be a JSON object of strings but is %s",
          source, METADATA, abbreviate(json));
    }
    ImmutableMap.Builder<String, String> metadata = ImmutableMap.builder();
    for (Map.Entry<String, JsonElement> e : json.getAsJsonObject().entrySet()) {
      if (!isString(e.getValue())) {
        throw error("%s: %s key '%s' has value %s but expected a string",
            source, METADATA, e.getKey(), abbreviate(e.getValue()));
      }
      metadata.put(e.getKey(), e.getValue().getAsString());
    }
    return metadata.buildOrThrow();
  }

  private static Entry entry(String name, JsonElement json, long dataSize, String source) {
    String what = source + ": tensor '" + name + "'";
    if (!json.isJsonObject()) {
      throw error("%s must be a JSON object with dtype, shape and data_offsets but is %s",
          what, abbreviate(json));
    }
    JsonObject o = json.getAsJsonObject();
    DType dtype = dtype(member(o, "dtype", what), what);
    Shape shape = shape(member(o, "shape", what), what);
    BigInteger[] offsets = offsets(member(o, "data_offsets", what), what);
    BigInteger span = offsets[1].subtract(offsets[0]);
    long bytes = (long) shape.size() * dtype.byteSize();
    check(span.equals(BigInteger.valueOf(bytes)),
        "%s has shape %s (%s %s, %s bytes as %s) but data_offsets [%s, %s] span %s bytes",
        what, shape, shape.size(), shape.size() == 1 ? "element" : "elements", bytes,
        dtype.safetensorsName(), offsets[0], offsets[1], span);
    check(offsets[1].compareTo(BigInteger.valueOf(dataSize)) <= 0,
        "%s has data_offsets [%s, %s] past the end of the %s-byte data section",
        what, offsets[0], offsets[1], dataSize);
    return new Entry(name, dtype, shape, offsets[0].longValueExact(), offsets[1].longValueExact());
  }

  private static JsonElement member(JsonObject o, String key, String what) {
    JsonElement e = o.get(key);
    check(e != null, "%s is missing \"%s\" (expected dtype, shape and data_offsets)", what, key);
    return e;
  }

  private static DType dtype(JsonElement json, String what) {
    if (!isString(json)) {
      throw error("%s has dtype %s but expected a string such as \"F32\"",
          what, abbreviate(json));
    }
    String name = json.getAsString();
    for (DType d : DType.values()) {
      if (d.safetensorsName().equals(name)) {
        return d;
      }
    }
    throw error("%s dtype '%s' is not supported (expected %s)", what, name, SUPPORTED_DTYPES);
  }

  private static Shape shape(JsonElement json, String what) {
    List<BigInteger> dims = integers(json);
    if (dims == null) {
      throw error("%s has shape %s but expected an array of integers", what, abbreviate(json));
    }
    BigInteger size = BigInteger.ONE;
    int[] d = new int[dims.size()];
    for (int i = 0; i < d.length; i++) {
      BigInteger dim = dims.get(i);
      check(dim.signum() >= 0, "%s has shape %s with negative dimension %s at index %s",
          what, dims, dim, i);
      check(dim.bitLength() < Integer.SIZE, "%s has shape %s with dimension %s at index %s,"
          + " more than the int maximum %s", what, dims, dim, i, Integer.MAX_VALUE);
      // The running product, as Shape checks it: a later 0 does not make [2^40, 2^40, 0] valid.
      size = size.multiply(dim);
      check(size.compareTo(BigInteger.valueOf(MAX_ELEMENTS)) <= 0,
          "%s has shape %s, more than the %s elements a Tensor can hold",
          what, dims, MAX_ELEMENTS);
      d[i] = dim.intValueExact();
    }
    return Shape.of(d);
  }

  private static BigInteger[] offsets(JsonElement json, String what) {
    List<BigInteger> offsets = integers(json);
    if (offsets == null || offsets.size() != 2
        || offsets.get(0).signum() < 0 || offsets.get(1).signum() < 0) {
      throw error("%s has data_offsets %s but expected two non-negative integers [begin, end]",
          what, abbreviate(json));
    }
    check(offsets.get(0).compareTo(offsets.get(1)) <= 0,
        "%s has data_offsets %s whose begin is after its end", what, offsets);
    return offsets.toArray(new BigInteger[0]);
  }

  /** The values of a JSON array of integer literals, or null if {@code json} is not one. */
  private static List<BigInteger> integers(JsonElement json) {
    if (!json.isJsonArray()) {
      return null;
    }
    JsonArray a = json.getAsJsonArray();
    List<BigInteger> values = new ArrayList<>(a.size());
    for (JsonElement e : a) {
      if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()
          || !INTEGER.matcher(e.getAsString()).matches()) {
        return null;
      }
      values.add(new BigInteger(e.getAsString()));
    }
    return values;
  }

  /** Checks that no two non-empty byte ranges share a byte; {@code entries} sorted by begin. */
  private static void checkNoOverlap(List<Entry> entries, String source) {
    Entry reach = null; // The non-empty entry reaching furthest so far.
    for (Entry e : entries) {
      if (e.begin() == e.end()) {
        continue;
      }
      if (reach != null) {
        check(e.begin() >= reach.end(),
            "%s: tensors '%s' (data_offsets %s) and '%s' (data_offsets %s) overlap",
            source, reach.name(), reach.offsets(), e.name(), e.offsets());
      }
      if (reach == null || e.end() > reach.end()) {
        reach = e;
      }
    }
  }

  /** Reads the little-endian data of a tensor at {@code position}, one chunk at a time. */
  private static Tensor readTensor(Source src, long position, DType dtype, Shape shape)
      throws IOException {
    int n = shape.size();
    int width = dtype.byteSize();
    int step = CHUNK_BYTES / width;
    if (dtype == DType.FLOAT32) {
      float[] a = new float[n];
      for (int i = 0; i < n; i += step) {
        int k = Math.min(step, n - i);
        src.read(position + (long) i * width, k * width).asFloatBuffer().get(a, i, k);
      }
      return Tensor.adopt(Storage.wrap(a), shape);
    } else {
      double[] a = new double[n];
      for (int i = 0; i < n; i += step) {
        int k = Math.min(step, n - i);
        src.read(position + (long) i * width, k * width).asDoubleBuffer().get(a, i, k);
      }
      return Tensor.adopt(Storage.wrap(a), shape);
    }
  }

  // ---- writing ------------------------------------------------------------------------------

  /**
   * Writes {@code tensors} and {@code metadata} as a safetensors file at {@code path},
   * atomically.
   *
   * <p>The file is written to a temporary file in the same directory, forced to disk, then moved
   * over {@code path} in one atomic step. If anything fails, the temporary file is deleted and a
   * file already at {@code path} is left as it was. Tensors are laid out in the iteration order
   * of {@code tensors}: pass a {@link LinkedHashMap} or {@link ImmutableMap} for a stable file.
   *
   * @param metadata the {@code __metadata__} strings; when empty the header has none
   * @param path the file written or replaced
   * @param tensors the tensors by name
   * @throws IllegalArgumentException if a tensor is named {@code __metadata__}
   * @throws NullPointerException if a name, tensor, key or value is null
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
    Path target = path.toAbsolutePath();
    checkArgument(target.getFileName() != null, "write expected a file path but got %s", path);
    Path temp = target.resolveSibling("." + target.getFileName() + "."
        + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
    FileChannel channel = FileChannel.open(temp, CREATE_NEW, WRITE);
    try {
      try (channel;
          OutputStream out = decorate.apply(
              new BufferedOutputStream(Channels.newOutputStream(channel)))) {
        writeTo(out, header, tensors);
        channel.force(true);
      }
      Files.move(temp, target, ATOMIC_MOVE, REPLACE_EXISTING);
    } catch (Throwable e) {
      try {
        Files.deleteIfExists(temp);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
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

  // ---- messages -----------------------------------------------------------------------------

  private static boolean isString(JsonElement json) {
    return json.isJsonPrimitive() && json.getAsJsonPrimitive().isString();
  }

  /** The JSON text of {@code json}, cut to 40 characters. */
  private static String abbreviate(JsonElement json) {
    String s = json.toString();
    return s.length() <= 40 ? s : s.substring(0, 37) + "...";
  }

  /** {@code F32 or F64}, from {@link DType}. */
  private static String supportedDtypes() {
    DType[] all = DType.values();
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < all.length; i++) {
      sb.append(i == 0 ? "" : i == all.length - 1 ? " or " : ", ")
          .append(all[i].safetensorsName());
    }
    return sb.toString();
  }

  private static void check(boolean ok, String template, Object... args) {
    if (!ok) {
      throw error(template, args);
    }
  }

  private static SafetensorsException error(String template, Object... args) {
    return new SafetensorsException(Strings.lenientFormat(template, args));
  }
}
