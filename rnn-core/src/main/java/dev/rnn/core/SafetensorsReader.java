package dev.rnn.core;

import static dev.rnn.core.Safetensors.CHUNK_BYTES;
import static dev.rnn.core.Safetensors.MAX_ENTRIES;
import static dev.rnn.core.Safetensors.MAX_HEADER_BYTES;
import static dev.rnn.core.Safetensors.METADATA;
import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.common.base.Strings;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.Strictness;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The reading half of {@link Safetensors}: checks everything a malformed file can get wrong
 * (header length, UTF-8, strict JSON, names or metadata keys given twice, too many entries,
 * dtypes, shapes, byte ranges, overlaps) before allocating memory for its tensors, shows the
 * header to the caller's check, then reads their data in chunks straight into their arrays. The
 * header is parsed as a stream, entry by entry, so that its memory is bounded by its entries. Every refusal is a {@link SafetensorsException} naming the file, the tensor, what was
 * expected and what was found.
 */
final class SafetensorsReader {
  /** The most elements a {@link Shape} can hold. */
  private static final long MAX_ELEMENTS = Shape.MAX_ELEMENTS;

  private static final Pattern INTEGER = Pattern.compile("-?[0-9]+");
  private static final TypeAdapter<JsonElement> JSON = new Gson().getAdapter(JsonElement.class);
  private static final String SUPPORTED_DTYPES = supportedDtypes();

  private SafetensorsReader() {}

  /** {@link Safetensors#read(java.nio.file.Path, Consumer)}, from an open channel. */
  static SafetensorsFile read(FileChannel channel, String source,
      Consumer<SafetensorsFile.Header> check) throws IOException {
    return parse(new ChannelSource(channel, source), source, check);
  }

  /** {@link Safetensors#read(byte[], String, Consumer)}. */
  static SafetensorsFile read(byte[] bytes, String source,
      Consumer<SafetensorsFile.Header> check) {
    try {
      return parse(new ArraySource(bytes), source, check);
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

  /** The safetensors name of 64-bit integers, read as exact whole numbers into float64. */
  private static final String INT64 = "I64";

  /** The largest integer a double holds exactly, {@code 2^53}. */
  private static final long MAX_EXACT = 1L << 53;

  /**
   * A header entry that passed every check on its own; {@code int64} for an {@code I64} tensor,
   * whose {@code dtype} is then float64, what it is read into.
   */
  private record Entry(String name, DType dtype, boolean int64, Shape shape, long begin,
      long end) {
    String offsets() {
      return "[" + begin + ", " + end + "]";
    }
  }

  /** The metadata and the entries of a header, in file order. */
  private record Parsed(ImmutableMap<String, String> metadata, List<Entry> entries) {}

  private static SafetensorsFile parse(Source src, String source,
      Consumer<SafetensorsFile.Header> check) throws IOException {
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
    Parsed header = parseHeader(src.read(Long.BYTES, (int) n), dataSize, source);

    List<Entry> entries = header.entries();
    entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    checkNoOverlap(entries, source);
    ImmutableMap.Builder<String, SafetensorsFile.Declared> declared =
        ImmutableMap.builderWithExpectedSize(entries.size());
    for (Entry e : entries) {
      declared.put(e.name(), new SafetensorsFile.Declared(e.dtype(), e.shape()));
    }
    check.accept(new SafetensorsFile.Header(source, header.metadata(), declared.buildOrThrow()));

    long dataStart = Long.BYTES + n;
    ImmutableMap.Builder<String, Tensor> tensors = ImmutableMap.builderWithExpectedSize(
        entries.size());
    ImmutableSet.Builder<String> integers = ImmutableSet.builder();
    for (Entry e : entries) {
      if (e.int64()) {
        tensors.put(e.name(), readIntegers(src, dataStart + e.begin(), e.shape(), source,
            e.name()));
        integers.add(e.name());
      } else {
        tensors.put(e.name(), readTensor(src, dataStart + e.begin(), e.dtype(), e.shape()));
      }
    }
    return new SafetensorsFile(source, tensors.buildOrThrow(), header.metadata(), integers.build());
  }

  /**
   * The header's metadata and entries, each entry checked as it is read: the header is parsed as
   * a stream, one entry at a time, so that its memory is the entries' and not a tree of the whole
   * JSON (a header of a million empty entries is refused at entry {@value
   * Safetensors#MAX_ENTRIES}, in a few megabytes). What is wrong is reported in the order of a
   * whole-header check: JSON syntax first, then the metadata, then the first entry.
   */
  private static Parsed parseHeader(ByteBuffer bytes, long dataSize, String source) {
    checkUtf8(bytes.duplicate(), source);
    Reader text = new InputStreamReader(new ByteArrayInputStream(bytes.array(),
        bytes.arrayOffset() + bytes.position(), bytes.remaining()), UTF_8);
    Set<String> names = new HashSet<>();
    Metadata metadata = new Metadata(source);
    List<Entry> entries = new ArrayList<>();
    SafetensorsException entryError = null;
    int count = 0;
    try {
      JsonReader r = new JsonReader(text);
      r.setStrictness(Strictness.STRICT);
      if (r.peek() != JsonToken.BEGIN_OBJECT) {
        throw error("%s: header must be a JSON object but is %s", source,
            abbreviate(JSON.read(r)));
      }
      r.beginObject();
      while (r.hasNext()) {
        String name = r.nextName();
        check(names.add(name), "%s: header has two entries named '%s'", source, name);
        if (name.equals(METADATA)) {
          metadata.read(r);
          continue;
        }
        check(++count <= MAX_ENTRIES, "%s: header has more than %s tensors, the most a"
            + " safetensors file may hold here", source, MAX_ENTRIES);
        JsonElement json = JSON.read(r);
        if (entryError == null) {
          try {
            entries.add(entry(name, json, dataSize, source));
          } catch (SafetensorsException e) {
            entryError = e;
          }
        }
      }
      r.endObject();
      // Only whitespace may follow the object; in strict mode anything else throws here.
      check(r.peek() == JsonToken.END_DOCUMENT, "%s: header has data after its JSON object",
          source);
    } catch (IOException e) {
      throw error("%s: header is not valid JSON: %s", source, jsonError(e));
    }
    if (metadata.error != null) {
      throw metadata.error;
    }
    if (entryError != null) {
      throw entryError;
    }
    return new Parsed(ImmutableMap.copyOf(metadata.values), entries);
  }

  /** Refuses bytes that are not UTF-8, naming the offset of the first malformed one. */
  private static void checkUtf8(ByteBuffer bytes, String source) {
    CharsetDecoder decoder = UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    CharBuffer chars = CharBuffer.allocate(8192);
    for (boolean flushed = false; !flushed; chars.clear()) {
      CoderResult result = decoder.decode(bytes, chars, true);
      if (result.isUnderflow()) {
        result = decoder.flush(chars);
        flushed = result.isUnderflow();
      }
      if (result.isError()) {
        throw error("%s: header is not valid UTF-8 (malformed byte at header offset %s)",
            source, bytes.position());
      }
    }
  }

  /** Gson's message without its advice on lenient parsing or its link, which do not apply. */
  private static String jsonError(Exception e) {
    String m = Strings.nullToEmpty(e.getMessage()).lines().findFirst().orElse("");
    return m.replace(
        "Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON",
            "malformed JSON");
  }

  /**
   * The {@code __metadata__} object: strings, each key once. Read from the stream to its end even
   * when something is wrong, so that a JSON syntax error later in the header is reported first.
   */
  private static final class Metadata {
    private final String source;
    final Map<String, String> values = new LinkedHashMap<>();
    /** The first thing wrong, or null. */
    SafetensorsException error;

    Metadata(String source) {
      this.source = source;
    }

    void read(JsonReader r) throws IOException {
      if (r.peek() != JsonToken.BEGIN_OBJECT) {
        fail("%s: %s must be a JSON object of strings but is %s", source, METADATA,
            abbreviate(JSON.read(r)));
        return;
      }
      r.beginObject();
      while (r.hasNext()) {
        String key = r.nextName();
        check(values.size() < MAX_ENTRIES, "%s: %s has more than %s keys, the most a"
            + " safetensors file may hold here", source, METADATA, MAX_ENTRIES);
        if (r.peek() != JsonToken.STRING) {
          fail("%s: %s key '%s' has value %s but expected a string", source, METADATA, key,
              abbreviate(JSON.read(r)));
        } else if (values.containsKey(key)) {
          r.skipValue();
          fail("%s: %s has key '%s' twice; which value is meant is not clear", source, METADATA,
              key);
        } else {
          values.put(key, r.nextString());
        }
      }
      r.endObject();
    }

    private void fail(String template, Object... args) {
      if (error == null) {
        error = error(template, args);
      }
    }
  }

  private static Entry entry(String name, JsonElement json, long dataSize, String source) {
    String what = source + ": tensor '" + name + "'";
    if (!json.isJsonObject()) {
      throw error("%s must be a JSON object with dtype, shape and data_offsets but is %s",
          what, abbreviate(json));
    }
    JsonObject o = json.getAsJsonObject();
    JsonElement dt = member(o, "dtype", what);
    boolean int64 = isString(dt) && dt.getAsString().equals(INT64);
    DType dtype = int64 ? DType.FLOAT64 : dtype(dt, what);
    Shape shape = shape(member(o, "shape", what), what);
    BigInteger[] offsets = offsets(member(o, "data_offsets", what), what);
    BigInteger span = offsets[1].subtract(offsets[0]);
    long bytes = (long) shape.size() * dtype.byteSize();
    check(span.equals(BigInteger.valueOf(bytes)),
        "%s has shape %s (%s %s, %s bytes as %s) but data_offsets [%s, %s] span %s bytes",
        what, shape, shape.size(), shape.size() == 1 ? "element" : "elements", bytes,
        int64 ? INT64 : dtype.safetensorsName(), offsets[0], offsets[1], span);
    check(offsets[1].compareTo(BigInteger.valueOf(dataSize)) <= 0,
        "%s has data_offsets [%s, %s] past the end of the %s-byte data section",
        what, offsets[0], offsets[1], dataSize);
    return new Entry(name, dtype, int64, shape, offsets[0].longValueExact(),
        offsets[1].longValueExact());
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

  /**
   * Reads the little-endian 64-bit integers of an {@code I64} tensor into float64, each exactly:
   * one beyond {@code ±2^53} is refused.
   */
  private static Tensor readIntegers(Source src, long position, Shape shape, String source,
      String name) throws IOException {
    int n = shape.size();
    int step = CHUNK_BYTES / Long.BYTES;
    double[] a = new double[n];
    long[] chunk = new long[Math.min(step, n)];
    for (int i = 0; i < n; i += step) {
      int k = Math.min(step, n - i);
      src.read(position + (long) i * Long.BYTES, k * Long.BYTES).asLongBuffer().get(chunk, 0, k);
      for (int j = 0; j < k; j++) {
        long v = chunk[j];
        check(v >= -MAX_EXACT && v <= MAX_EXACT, "%s: tensor '%s' (I64) holds %s at %s, beyond"
            + " the 2^53 that a float64 tensor holds exactly", source, name, v, i + j);
        a[i + j] = v;
      }
    }
    return Tensor.adopt(Storage.wrap(a), shape);
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

  /** {@code F32, F64 or I64}, from {@link DType}, then the integers read into float64. */
  private static String supportedDtypes() {
    DType[] all = DType.values();
    StringBuilder sb = new StringBuilder();
    for (DType d : all) {
      sb.append(sb.length() == 0 ? "" : ", ").append(d.safetensorsName());
    }
    return sb.append(" or ").append(INT64).toString();
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
