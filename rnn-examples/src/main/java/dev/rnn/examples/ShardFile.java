package dev.rnn.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.nio.file.StandardOpenOption.READ;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.stream.JsonWriter;
import dev.rnn.core.Tensor;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One safetensors file of a data directory, read with the integer dtypes that class ids and
 * lengths come in ({@code I64}, {@code I32}, {@code I16}, {@code I8}, {@code U8}) besides {@code
 * F32} and {@code F64}, which are all that {@link dev.rnn.core.Safetensors} (the library's reader
 * of parameters) takes.
 *
 * <p>Every problem is an {@link IOException} whose message is one line naming the file, the tensor,
 * what was expected and what was found.
 */
final class ShardFile {
  /** The largest header read, as the reference implementation's. */
  private static final long MAX_HEADER = 100_000_000;

  /** The most bytes one tensor of a shard may take (one Java array). */
  private static final long MAX_TENSOR_BYTES = Integer.MAX_VALUE - 8;

  /** The dtypes a shard may hold, with their widths in bytes. */
  private static final Map<String, Integer> WIDTHS = Map.of("F64", 8, "F32", 4, "I64", 8,
      "I32", 4, "I16", 2, "I8", 1, "U8", 1);

  /** The dtypes as a message lists them. */
  static final String DTYPES = "F32 or F64, or for integers I64, I32, I16, I8 or U8";

  /**
   * One tensor of a shard: floats as a {@link Tensor} of their dtype, integers as {@code long}s.
   *
   * @param dtype the safetensors dtype, e.g. {@code I64}
   * @param shape the dimensions
   * @param floats the values of an {@code F32} or {@code F64} tensor, else null
   * @param integers the values of an integer tensor, row-major, else null
   */
  record Entry(String dtype, int[] shape, Tensor floats, long[] integers) {
    boolean isInteger() {
      return integers != null;
    }

    int rank() {
      return shape.length;
    }

    /** The number of elements. */
    int shapeSize() {
      int n = 1;
      for (int d : shape) {
        n *= d;
      }
      return n;
    }

    /** The shape as a message writes it, {@code I64 [4, 7]}. */
    String describe() {
      return dtype + " " + Arrays.toString(shape);
    }
  }

  private ShardFile() {}

  /**
   * Every tensor of the file at {@code path}, in the file's order.
   *
   * @throws IOException naming the file and the problem, if it cannot be read or is malformed
   */
  static Map<String, Entry> read(Path path) throws IOException {
    try (FileChannel ch = FileChannel.open(path, READ)) {
      long size = ch.size();
      check(size >= 8, path, "has %s bytes but a safetensors file starts with an 8-byte header"
          + " length", size);
      long n = readFully(ch, 0, 8).getLong();
      check(n >= 0 && n <= MAX_HEADER, path, "header length %s is over the limit of %s bytes",
          Long.toUnsignedString(n), MAX_HEADER);
      check(8 + n <= size, path, "header length %s runs past the end of the file (%s bytes)", n,
          size);
      JsonObject header = header(path, readFully(ch, 8, (int) n));
      long dataStart = 8 + n;
      long dataSize = size - dataStart;
      Map<String, Entry> entries = new LinkedHashMap<>();
      for (Map.Entry<String, JsonElement> e : header.entrySet()) {
        if (!e.getKey().equals("__metadata__")) {
          entries.put(e.getKey(), entry(ch, path, e.getKey(), e.getValue(), dataStart, dataSize));
        }
      }
      return entries;
    }
  }

  private static JsonObject header(Path path, ByteBuffer bytes) throws IOException {
    String text;
    try {
      text = UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes).toString();
    } catch (CharacterCodingException e) {
      throw error(path, "header is not valid UTF-8");
    }
    try {
      JsonElement json = JsonParser.parseString(text);
      check(json.isJsonObject(), path, "header is not a JSON object");
      return json.getAsJsonObject();
    } catch (JsonParseException e) {
      throw error(path, "header is not valid JSON (%s)", firstLine(e.getMessage()));
    }
  }

  private static Entry entry(FileChannel ch, Path path, String name, JsonElement json,
      long dataStart, long dataSize) throws IOException {
    String what = "tensor '" + name + "'";
    check(json.isJsonObject(), path, "%s is not an object with dtype, shape and data_offsets",
        what);
    JsonObject o = json.getAsJsonObject();
    String dtype = string(path, o, what);
    Integer width = WIDTHS.get(dtype);
    check(width != null, path, "%s has dtype %s, but a data shard holds %s", what, dtype, DTYPES);
    int[] shape = shape(path, o, what);
    long count = 1;
    for (int d : shape) {
      count *= d;
      check(count * width <= MAX_TENSOR_BYTES, path, "%s %s is too large for one shard; split"
          + " the data into more shards", what, Arrays.toString(shape));
    }
    long[] offsets = offsets(path, o, what);
    check(offsets[0] >= 0 && offsets[0] <= offsets[1] && offsets[1] <= dataSize, path,
        "%s data_offsets %s lie outside the %s bytes of data", what, Arrays.toString(offsets),
        dataSize);
    check(offsets[1] - offsets[0] == count * width, path, "%s of dtype %s and shape %s takes %s"
        + " bytes but data_offsets %s give %s", what, dtype, Arrays.toString(shape),
        count * width, Arrays.toString(offsets), offsets[1] - offsets[0]);
    ByteBuffer b = readFully(ch, dataStart + offsets[0], (int) (count * width));
    int k = (int) count;
    switch (dtype) {
      case "F32": {
        float[] a = new float[k];
        b.asFloatBuffer().get(a);
        return new Entry(dtype, shape, Tensor.of(a, shape), null);
      }
      case "F64": {
        double[] a = new double[k];
        b.asDoubleBuffer().get(a);
        return new Entry(dtype, shape, Tensor.of(a, shape), null);
      }
      default: {
        long[] a = new long[k];
        for (int i = 0; i < k; i++) {
          a[i] = switch (dtype) {
            case "I64" -> b.getLong();
            case "I32" -> b.getInt();
            case "I16" -> b.getShort();
            case "I8" -> b.get();
            default -> b.get() & 0xFF;
          };
        }
        return new Entry(dtype, shape, null, a);
      }
    }
  }

  private static String string(Path path, JsonObject o, String what) throws IOException {
    JsonElement d = o.get("dtype");
    check(d != null && d.isJsonPrimitive() && d.getAsJsonPrimitive().isString(), path,
        "%s has no dtype string", what);
    return d.getAsString();
  }

  private static int[] shape(Path path, JsonObject o, String what) throws IOException {
    JsonElement s = o.get("shape");
    check(s != null && s.isJsonArray(), path, "%s has no shape array", what);
    JsonArray a = s.getAsJsonArray();
    int[] shape = new int[a.size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = (int) integer(path, a.get(i), what + " shape", Integer.MAX_VALUE);
    }
    return shape;
  }

  private static long[] offsets(Path path, JsonObject o, String what) throws IOException {
    JsonElement s = o.get("data_offsets");
    check(s != null && s.isJsonArray() && s.getAsJsonArray().size() == 2, path,
        "%s has no data_offsets [begin, end]", what);
    JsonArray a = s.getAsJsonArray();
    return new long[] {integer(path, a.get(0), what + " data_offsets", Long.MAX_VALUE),
        integer(path, a.get(1), what + " data_offsets", Long.MAX_VALUE)};
  }

  private static long integer(Path path, JsonElement e, String what, long max)
      throws IOException {
    try {
      long v = e.getAsJsonPrimitive().getAsBigInteger().longValueExact();
      check(v >= 0 && v <= max, path, "%s holds %s, not an integer in [0, %s]", what, v, max);
      return v;
    } catch (RuntimeException x) {
      throw error(path, "%s holds %s, not a non-negative integer", what, e);
    }
  }

  private static ByteBuffer readFully(FileChannel ch, long position, int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    while (b.hasRemaining()) {
      if (ch.read(b, position + b.position()) < 0) {
        throw new IOException("unexpected end of file at byte " + (position + b.position()));
      }
    }
    return b.flip();
  }

  // ---- writing ----------------------------------------------------------------------------------

  /**
   * Writes a shard atomically: float tensors in their dtype, integer ones ({@code long[]}) as
   * {@code I64}; for tests and for applications that make data files in Java.
   *
   * @param path the file written or replaced
   * @param tensors by name, in file order (see {@link #floats} and {@link #integers})
   * @throws IOException if the file cannot be written
   */
  static void write(Path path, Map<String, Entry> tensors) throws IOException {
    StringWriter json = new StringWriter();
    JsonWriter w = new JsonWriter(json);
    w.beginObject();
    long offset = 0;
    for (Map.Entry<String, Entry> e : tensors.entrySet()) {
      Entry t = e.getValue();
      long bytes = (long) t.shapeSize() * WIDTHS.get(t.dtype());
      w.name(e.getKey()).beginObject().name("dtype").value(t.dtype()).name("shape").beginArray();
      for (int d : t.shape()) {
        w.value(d);
      }
      w.endArray().name("data_offsets").beginArray().value(offset).value(offset + bytes)
          .endArray().endObject();
      offset += bytes;
    }
    w.endObject().flush();
    byte[] header = json.toString().getBytes(UTF_8);
    int padded = (header.length + 7) / 8 * 8;
    OutputFile.write(path, out -> {
      ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      out.write(b.putLong(padded).array());
      out.write(header);
      out.write(" ".repeat(padded - header.length).getBytes(UTF_8));
      for (Entry t : tensors.values()) {
        int width = WIDTHS.get(t.dtype());
        ByteBuffer d = ByteBuffer.allocate(t.shapeSize() * width).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < t.shapeSize(); i++) {
          switch (t.dtype()) {
            case "F32" -> d.putFloat((float) t.floats().at(i));
            case "F64" -> d.putDouble(t.floats().at(i));
            case "I64" -> d.putLong(t.integers()[i]);
            case "I32" -> d.putInt((int) t.integers()[i]);
            case "I16" -> d.putShort((short) t.integers()[i]);
            default -> d.put((byte) t.integers()[i]);
          }
        }
        out.write(d.array());
      }
    });
  }

  /** A float tensor as an entry. */
  static Entry floats(Tensor t) {
    return new Entry(t.dtype().safetensorsName(), t.shape().dims(), t, null);
  }

  /** Integers of {@code dtype} ({@code I64}, ...) as an entry. */
  static Entry integers(String dtype, long[] values, int... shape) {
    return new Entry(dtype.toUpperCase(Locale.ROOT), shape, null, values);
  }

  // ---- errors -----------------------------------------------------------------------------------

  private static void check(boolean ok, Path path, String template, Object... args)
      throws IOException {
    if (!ok) {
      throw error(path, template, args);
    }
  }

  private static IOException error(Path path, String template, Object... args) {
    return new IOException(path + ": " + String.format(Locale.ROOT, template, args));
  }

  private static String firstLine(String s) {
    return s == null ? "" : s.lines().findFirst().orElse("");
  }
}
