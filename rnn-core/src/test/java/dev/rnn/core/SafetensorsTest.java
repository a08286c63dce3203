package dev.rnn.core;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.google.common.collect.ImmutableMap;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SafetensorsTest {
  private static final String SOURCE = "cases/x.safetensors";
  private static final Path TORCH_CASES = Path.of("src/test/resources/torch-cases");

  /** A file of this header text (unpadded) followed by {@code dataBytes} zero bytes. */
  private static byte[] file(String header, int dataBytes) {
    byte[] json = header.getBytes(UTF_8);
    return ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN)
        .putLong(json.length).put(json).array();
  }

  /** A file whose 8-byte length prefix is {@code length}, followed by {@code rest} zero bytes. */
  private static byte[] prefix(long length, int rest) {
    return ByteBuffer.allocate(8 + rest).order(ByteOrder.LITTLE_ENDIAN).putLong(length).array();
  }

  private static String readError(byte[] bytes) {
    return assertThrows(SafetensorsException.class, () -> Safetensors.read(bytes, SOURCE))
        .getMessage();
  }

  private static List<Path> list(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().toList();
    }
  }

  static Stream<Path> torchCases() throws IOException {
    List<Path> cases = list(TORCH_CASES);
    assertFalse(cases.isEmpty(), "no torch cases in " + TORCH_CASES.toAbsolutePath());
    return cases.stream();
  }

  @Nested
  class WhenRoundTripping {
    private Map<String, Tensor> tensors(DType dtype) {
      Map<String, Tensor> m = new LinkedHashMap<>();
      m.put("weight_ih_l0", Tensor.randn(dtype, 7, 3, 5));
      m.put("empty", Tensor.zeros(dtype, 0, 3));
      m.put("scalar", Tensor.full(dtype, -2.5, new int[0]));
      m.put("bias_hh_l0", Tensor.randn(dtype, 11, 3));
      m.put("input", Tensor.randn(dtype, 13, 2, 7, 1));
      return m;
    }

    private final Map<String, String> metadata = ImmutableMap.of(
        "format", "rnn-torch-case/1", "note", "ünïcode \"quoted\"\n", "empty", "");

    private void assertSame(Map<String, Tensor> expected, SafetensorsFile actual) {
      assertAll(
          () -> assertEquals(List.copyOf(expected.keySet()), List.copyOf(actual.tensors().keySet())),
          () -> assertEquals(metadata, actual.metadata()),
          () -> assertAll(expected.entrySet().stream().map(e -> () -> {
            Tensor t = actual.tensor(e.getKey());
            assertEquals(e.getValue().dtype(), t.dtype(), e.getKey());
            assertEquals(e.getValue().shape(), t.shape(), e.getKey());
            assertArrayEquals(e.getValue().toDoubleArray(), t.toDoubleArray(), e.getKey());
          })));
    }

    @Test
    void float32TensorsAndMetadataComeBackEqual() {
      Map<String, Tensor> t = tensors(DType.FLOAT32);
      assertSame(t, Safetensors.read(Safetensors.toBytes(t, metadata), SOURCE));
    }

    @Test
    void float64TensorsAndMetadataComeBackEqual() {
      Map<String, Tensor> t = tensors(DType.FLOAT64);
      assertSame(t, Safetensors.read(Safetensors.toBytes(t, metadata), SOURCE));
    }

    @Test
    void mixedDtypesComeBackEqualThroughAFile(@TempDir Path dir) throws IOException {
      Map<String, Tensor> t = new LinkedHashMap<>(tensors(DType.FLOAT64));
      t.put("f32", Tensor.randn(DType.FLOAT32, 17, 4, 2));
      Path path = dir.resolve("mixed.safetensors");
      Safetensors.write(path, t, metadata);
      SafetensorsFile read = Safetensors.read(path);
      assertAll(
          () -> assertSame(t, read),
          () -> assertEquals(path.toString(), read.source()),
          () -> assertEquals(List.of(path), list(dir)));
    }

    @Test
    void aLargeTensorIsReadAndWrittenInChunks(@TempDir Path dir) throws IOException {
      // 300,000 doubles span three 1 MiB chunks, the last one partial.
      Map<String, Tensor> t = ImmutableMap.of(
          "big", Tensor.randn(DType.FLOAT64, 3, 300_000),
          "after", Tensor.randn(DType.FLOAT32, 5, 270_000));
      Path path = dir.resolve("big.safetensors");
      Safetensors.write(path, t, Map.of());
      SafetensorsFile read = Safetensors.read(path);
      assertAll(
          () -> assertArrayEquals(Safetensors.toBytes(t, Map.of()), Files.readAllBytes(path)),
          () -> assertArrayEquals(t.get("big").toDoubleArray(),
              read.tensor("big").toDoubleArray()),
          () -> assertArrayEquals(t.get("after").toFloatArray(),
              read.tensor("after").toFloatArray()));
    }

    @Test
    void writingToAStreamGivesTheSameBytesAsToBytes() throws IOException {
      Map<String, Tensor> t = tensors(DType.FLOAT32);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      Safetensors.write(out, t, metadata);
      assertArrayEquals(Safetensors.toBytes(t, metadata), out.toByteArray());
    }

    @Test
    void noTensorsAndNoMetadataIsAnEmptyObjectPadded() {
      byte[] bytes = Safetensors.toBytes(Map.of(), Map.of());
      SafetensorsFile read = Safetensors.read(bytes, SOURCE);
      assertAll(
          () -> assertArrayEquals(file("{}      ", 0), bytes),
          () -> assertTrue(read.tensors().isEmpty()),
          () -> assertTrue(read.metadata().isEmpty()));
    }
  }

  @Nested
  class TheByteLayout {
    /** {"__metadata__":{"k":"v"}, "a": F32 [1, -2], "b": F64 scalar 0.5}, written out by hand. */
    private final byte[] expected = concat(
        new byte[] {(byte) 0x88, 0, 0, 0, 0, 0, 0, 0}, // header length 136, little-endian u64
        ("{\"__metadata__\":{\"k\":\"v\"},"
            + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"b\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[8,16]}}"
            + "    ").getBytes(UTF_8), // 132 bytes of JSON, 4 spaces to a multiple of 8
        new byte[] {0, 0, (byte) 0x80, 0x3f}, // 1.0f
        new byte[] {0, 0, 0, (byte) 0xc0}, // -2.0f
        new byte[] {0, 0, 0, 0, 0, 0, (byte) 0xe0, 0x3f}); // 0.5

    private byte[] concat(byte[]... parts) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (byte[] p : parts) {
        out.writeBytes(p);
      }
      return out.toByteArray();
    }

    @Test
    void isWrittenExactly() {
      Map<String, Tensor> t = ImmutableMap.of(
          "a", Tensor.of(new float[] {1, -2}, 2),
          "b", Tensor.of(new double[] {0.5}));
      assertArrayEquals(expected, Safetensors.toBytes(t, ImmutableMap.of("k", "v")));
    }

    @Test
    void isReadBack() {
      SafetensorsFile f = Safetensors.read(expected, SOURCE);
      assertAll(
          () -> assertEquals(Map.of("k", "v"), f.metadata()),
          () -> assertEquals(List.of("a", "b"), List.copyOf(f.tensors().keySet())),
          () -> assertEquals(DType.FLOAT32, f.tensor("a").dtype()),
          () -> assertArrayEquals(new float[] {1, -2}, f.tensor("a").toFloatArray()),
          () -> assertEquals(DType.FLOAT64, f.tensor("b").dtype()),
          () -> assertEquals(Shape.of(), f.tensor("b").shape()),
          () -> assertEquals(0.5, f.tensor("b").at(0)));
    }

    @Test
    void tensorsAreOrderedByOffsetNotByHeaderOrder() {
      byte[] bytes = file("{\"second\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
          + "\"first\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8);
      assertEquals(List.of("first", "second"),
          List.copyOf(Safetensors.read(bytes, SOURCE).tensors().keySet()));
    }

    @ParameterizedTest(name = "name of {0} characters")
    @MethodSource("dev.rnn.core.SafetensorsTest#nameLengths")
    void theHeaderIsPaddedToAMultipleOf8(int nameLength) {
      byte[] bytes = Safetensors.toBytes(
          Map.of("x".repeat(nameLength), Tensor.of(new double[] {1})), Map.of());
      long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
      assertAll(
          () -> assertEquals(0, headerLength % 8),
          () -> assertEquals(8 + headerLength + 8, bytes.length));
    }
  }

  static Stream<Integer> nameLengths() {
    return Stream.of(1, 2, 3, 4, 5, 6, 7, 8);
  }

  @Nested
  class TheTorchCases {
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.core.SafetensorsTest#torchCases")
    void readWithFormatAndInputDtype(Path path) throws IOException {
      SafetensorsFile f = Safetensors.read(path);
      assertAll(
          () -> assertEquals("rnn-torch-case/1", f.metadata("format")),
          () -> assertEquals(DType.parse(f.metadata("dtype")), f.tensor("input").dtype()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.core.SafetensorsTest#torchCases")
    void areRewrittenByteForByte(Path path) throws IOException {
      SafetensorsFile f = Safetensors.read(path);
      assertArrayEquals(Files.readAllBytes(path), Safetensors.toBytes(f.tensors(), f.metadata()));
    }
  }

  @Nested
  class WhenTheFileIsMalformed {
    @Test
    void shorterThan8BytesIsRejected() {
      assertEquals("cases/x.safetensors: file has 5 bytes but a safetensors file starts with"
          + " an 8-byte header length", readError(new byte[5]));
    }

    @Test
    void aHeaderLengthOverTheLimitIsRejectedBeforeAllocating() {
      assertEquals("cases/x.safetensors: header length 100000001 is over the limit of 100000000"
          + " bytes", readError(prefix(100_000_001, 16)));
    }

    @Test
    void aHeaderLengthWithTheTopBitSetIsReadAsUnsigned() {
      assertEquals("cases/x.safetensors: header length 18446744073709551615 is over the limit of"
          + " 100000000 bytes", readError(prefix(-1, 16)));
    }

    @Test
    void aHeaderLengthPastTheEndOfTheFileIsRejected() {
      assertEquals("cases/x.safetensors: header length 64 runs past the end of the file, which"
          + " has 11 bytes after the 8-byte header length", readError(prefix(64, 11)));
    }

    @Test
    void aHeaderLengthPastTheEndOfARealFileIsRejected(@TempDir Path dir) throws IOException {
      Path path = dir.resolve("short.safetensors");
      Files.write(path, prefix(64, 11));
      SafetensorsException e =
          assertThrows(SafetensorsException.class, () -> Safetensors.read(path));
      assertEquals(path + ": header length 64 runs past the end of the file, which has 11 bytes"
          + " after the 8-byte header length", e.getMessage());
    }

    @Test
    void aHeaderThatIsNotUtf8IsRejected() {
      byte[] bytes = file("{\"ab\":{}}", 0);
      bytes[8 + 3] = (byte) 0xff;
      assertEquals("cases/x.safetensors: header is not valid UTF-8 (malformed byte at header"
          + " offset 3)", readError(bytes));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.core.SafetensorsTest#malformedHeaders")
    void aMalformedHeaderIsRejected(String what, String header, int dataBytes, String message) {
      assertEquals(message, readError(file(header, dataBytes)));
    }
  }

  private static String f32(String shape, String offsets) {
    return "{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
  }

  static Stream<Arguments> malformedHeaders() {
    String x = "cases/x.safetensors: ";
    return Stream.of(
        arguments("a trailing comma", "{\"a\":1,}", 0,
            x + "header is not valid JSON: Expected name at line 1 column 9 path $.a"),
        arguments("single quotes", "{'a':1}", 0,
            x + "header is not valid JSON: malformed JSON at line 1 column 3 path $."),
        arguments("a cut-off header", "{\"a\":", 0,
            x + "header is not valid JSON: End of input at line 1 column 6 path $.a"),
        arguments("an empty header", "", 0,
            x + "header is not valid JSON: End of input at line 1 column 1 path $"),
        arguments("a second value after the object", "{} {}", 0,
            x + "header is not valid JSON: malformed JSON at line 1 column 5 path $"),
        arguments("an array, not an object", "[1,2]", 0,
            x + "header must be a JSON object but is [1,2]"),
        arguments("a name twice", "{\"a\":" + f32("[1]", "[0,4]") + ",\"a\":"
            + f32("[1]", "[4,8]") + "}", 8,
            x + "header has two entries named 'a'"),
        arguments("an entry that is not an object", "{\"a\":5}", 0,
            x + "tensor 'a' must be a JSON object with dtype, shape and data_offsets but is 5"),
        arguments("no dtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
            x + "tensor 'a' is missing \"dtype\" (expected dtype, shape and data_offsets)"),
        arguments("no shape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4,
            x + "tensor 'a' is missing \"shape\" (expected dtype, shape and data_offsets)"),
        arguments("no data_offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4,
            x + "tensor 'a' is missing \"data_offsets\" (expected dtype, shape and"
                + " data_offsets)"),
        arguments("a dtype that is a number",
            "{\"a\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
            x + "tensor 'a' has dtype 32 but expected a string such as \"F32\""),
        arguments("an unsupported dtype",
            "{\"a\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,2]}}", 2,
            x + "tensor 'a' dtype 'BF16' is not supported (expected F32, F64 or I64)"),
        arguments("a shape that is a string", "{\"a\":" + f32("\"2x3\"", "[0,24]") + "}", 24,
            x + "tensor 'a' has shape \"2x3\" but expected an array of integers"),
        arguments("a fractional dimension", "{\"a\":" + f32("[2,3.5]", "[0,28]") + "}", 28,
            x + "tensor 'a' has shape [2,3.5] but expected an array of integers"),
        arguments("a negative dimension", "{\"a\":" + f32("[2,-3]", "[0,0]") + "}", 0,
            x + "tensor 'a' has shape [2, -3] with negative dimension -3 at index 1"),
        arguments("a dimension over the int range",
            "{\"a\":" + f32("[0,3000000000]", "[0,0]") + "}", 0,
            x + "tensor 'a' has shape [0, 3000000000] with dimension 3000000000 at index 1, more"
                + " than the int maximum 2147483647"),
        arguments("an element count that overflows",
            "{\"a\":" + f32("[65536,65536,0]", "[0,0]") + "}", 0,
            x + "tensor 'a' has shape [65536, 65536, 0], more than the 2147483639 elements a"
                + " Tensor can hold"),
        arguments("one data offset", "{\"a\":" + f32("[1]", "[4]") + "}", 4,
            x + "tensor 'a' has data_offsets [4] but expected two non-negative integers"
                + " [begin, end]"),
        arguments("data offsets that are a string", "{\"a\":" + f32("[1]", "\"0,4\"") + "}", 4,
            x + "tensor 'a' has data_offsets \"0,4\" but expected two non-negative integers"
                + " [begin, end]"),
        arguments("a negative data offset", "{\"a\":" + f32("[1]", "[-4,0]") + "}", 4,
            x + "tensor 'a' has data_offsets [-4,0] but expected two non-negative integers"
                + " [begin, end]"),
        arguments("begin after end", "{\"a\":" + f32("[1]", "[8,4]") + "}", 8,
            x + "tensor 'a' has data_offsets [8, 4] whose begin is after its end"),
        arguments("a span that does not fit the shape",
            "{\"input\":" + f32("[2,3]", "[0,20]") + "}", 24,
            x + "tensor 'input' has shape [2, 3] (6 elements, 24 bytes as F32) but data_offsets"
                + " [0, 20] span 20 bytes"),
        arguments("a span that does not fit a scalar",
            "{\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,4]}}", 8,
            x + "tensor 's' has shape [] (1 element, 8 bytes as F64) but data_offsets [0, 4]"
                + " span 4 bytes"),
        arguments("offsets past the end of the data", "{\"a\":" + f32("[2,3]", "[4,28]") + "}",
            20, x + "tensor 'a' has data_offsets [4, 28] past the end of the 20-byte data"
                + " section"),
        arguments("offsets past any file", "{\"a\":" + f32("[0]",
            "[100000000000000000000,100000000000000000000]") + "}", 0,
            x + "tensor 'a' has data_offsets [100000000000000000000, 100000000000000000000] past"
                + " the end of the 0-byte data section"),
        arguments("overlapping tensors", "{\"a\":" + f32("[6]", "[0,24]") + ",\"b\":"
            + f32("[1]", "[8,12]") + ",\"c\":" + f32("[2]", "[20,28]") + "}", 28,
            x + "tensors 'a' (data_offsets [0, 24]) and 'b' (data_offsets [8, 12]) overlap"),
        arguments("metadata that is an array", "{\"__metadata__\":[\"a\",\"b\"]}", 0,
            x + "__metadata__ must be a JSON object of strings but is [\"a\",\"b\"]"),
        arguments("a metadata value that is a number", "{\"__metadata__\":{\"hidden\":\"4\","
            + "\"layers\":2}}", 0,
            x + "__metadata__ key 'layers' has value 2 but expected a string"),
        arguments("a long value, cut in the message", "{\"a\":{\"dtype\":\"F32\",\"shape\":"
            + "{\"rows\":2,\"columns\":3,\"comment\":\"not an array\"},\"data_offsets\":[0,24]}}",
            24, x + "tensor 'a' has shape {\"rows\":2,\"columns\":3,\"comment\":\"not ... but"
                + " expected an array of integers"));
  }

  @Nested
  class WhenTensorsAreEmptyOrAdjacent {
    @Test
    void aZeroLengthTensorInsideAnotherDoesNotOverlapIt() {
      byte[] bytes = file("{\"a\":" + f32("[2]", "[0,8]") + ",\"e\":" + f32("[0]", "[4,4]")
          + "}", 8);
      assertEquals(List.of("a", "e"),
          List.copyOf(Safetensors.read(bytes, SOURCE).tensors().keySet()));
    }

    @Test
    void gapsBetweenTensorsAreAllowed() {
      byte[] bytes = file("{\"a\":" + f32("[1]", "[0,4]") + ",\"b\":" + f32("[1]", "[8,12]")
          + "}", 16);
      assertEquals(2, Safetensors.read(bytes, SOURCE).tensors().size());
    }
  }

  @Nested
  class ASafetensorsFile {
    private final SafetensorsFile f = Safetensors.read(Safetensors.toBytes(
        ImmutableMap.of("input", Tensor.of(new float[] {1, 2}, 2), "h0", Tensor.zeros(
            DType.FLOAT32, 1)),
        ImmutableMap.of("format", "rnn-torch-case/1")), SOURCE);

    @Test
    void findsATensorByName() {
      assertAll(
          () -> assertEquals(Optional.of(f.tensor("h0")), f.find("h0")),
          () -> assertEquals(Optional.empty(), f.find("h1")));
    }

    @Test
    void namesTheFileAndItsTensorsWhenATensorIsMissing() {
      SafetensorsException e = assertThrows(SafetensorsException.class, () -> f.tensor("inptu"));
      assertEquals("cases/x.safetensors has no tensor 'inptu'; it has 'input' and 'h0'",
          e.getMessage());
    }

    @Test
    void namesTheFileAndItsKeysWhenAMetadataKeyIsMissing() {
      SafetensorsException e = assertThrows(SafetensorsException.class, () -> f.metadata("dtype"));
      assertEquals("cases/x.safetensors has no metadata key 'dtype'; it has 'format'",
          e.getMessage());
    }

    @Test
    void listsAtMostTenNamesInMessages() {
      Map<String, Tensor> many = new LinkedHashMap<>();
      for (int i = 0; i < 13; i++) {
        many.put("t" + i, Tensor.zeros(DType.FLOAT32, 1));
      }
      SafetensorsFile m = Safetensors.read(Safetensors.toBytes(many, Map.of()), SOURCE);
      assertAll(
          () -> assertEquals("cases/x.safetensors has no tensor 'x'; it has 't0', 't1', 't2',"
                  + " 't3', 't4', 't5', 't6', 't7', 't8', 't9' and 3 more",
              assertThrows(SafetensorsException.class, () -> m.tensor("x")).getMessage()),
          () -> assertEquals("cases/x.safetensors has no metadata key 'k'; it has no metadata"
                  + " keys",
              assertThrows(SafetensorsException.class, () -> m.metadata("k")).getMessage()));
    }

    @Test
    void cannotBeChanged() {
      Map<String, Tensor> tensors = f.tensors();
      Map<String, String> metadata = f.metadata();
      assertAll(
          () -> assertThrows(UnsupportedOperationException.class,
              () -> tensors.put("x", Tensor.zeros(DType.FLOAT32, 1))),
          () -> assertThrows(UnsupportedOperationException.class,
              () -> metadata.put("x", "y")));
    }
  }

  @Nested
  class WhenWriteArgumentsAreBad {
    @Test
    void aTensorNamedLikeTheMetadataIsRejected() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Safetensors.toBytes(Map.of("__metadata__", Tensor.zeros(DType.FLOAT32, 1)),
              Map.of()));
      assertEquals("tensor name '__metadata__' is reserved for the metadata; rename the tensor",
          e.getMessage());
    }

    @Test
    void aNullTensorIsRejected() {
      Map<String, Tensor> m = new LinkedHashMap<>();
      m.put("h0", null);
      NullPointerException e =
          assertThrows(NullPointerException.class, () -> Safetensors.toBytes(m, Map.of()));
      assertEquals("tensor 'h0' is null", e.getMessage());
    }

    @Test
    void aNullMetadataValueIsRejected() {
      Map<String, String> m = new LinkedHashMap<>();
      m.put("format", null);
      NullPointerException e =
          assertThrows(NullPointerException.class, () -> Safetensors.toBytes(Map.of(), m));
      assertEquals("metadata key 'format' has a null value", e.getMessage());
    }
  }

  @Nested
  class WhenWritingAFile {
    private final Map<String, Tensor> big = ImmutableMap.of(
        "a", Tensor.randn(DType.FLOAT64, 1, 1000),
        "b", Tensor.randn(DType.FLOAT64, 2, 1000));

    /** Passes the first {@code limit} bytes through, then fails as a full disk would. */
    private static final class FailingAfter extends FilterOutputStream {
      private long left;

      FailingAfter(OutputStream out, long limit) {
        super(out);
        this.left = limit;
      }

      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (len > left) {
          out.write(b, off, (int) left);
          out.flush();
          throw new IOException("no space left on device (simulated)");
        }
        left -= len;
        out.write(b, off, len);
      }
    }

    @Test
    void replacesAnExistingFile(@TempDir Path dir) throws IOException {
      Path path = dir.resolve("params.safetensors");
      Safetensors.write(path, Map.of("old", Tensor.zeros(DType.FLOAT32, 1)), Map.of());
      Safetensors.write(path, big, Map.of("v", "2"));
      assertAll(
          () -> assertArrayEquals(Safetensors.toBytes(big, Map.of("v", "2")),
              Files.readAllBytes(path)),
          () -> assertEquals(List.of(path), list(dir)));
    }

    @Test
    void failingHalfWayKeepsTheOldFileAndLeavesNoTempFile(@TempDir Path dir)
        throws IOException {
      Path path = dir.resolve("params.safetensors");
      Safetensors.write(path, Map.of("old", Tensor.zeros(DType.FLOAT32, 1)), Map.of());
      byte[] old = Files.readAllBytes(path);
      List<Path> duringWrite = new ArrayList<>();

      IOException e = assertThrows(IOException.class,
          () -> Safetensors.write(path, big, Map.of(), out -> {
            duringWrite.addAll(uncheckedList(dir));
            return new FailingAfter(out, 12_000);
          }));

      assertAll(
          () -> assertEquals("no space left on device (simulated)", e.getMessage()),
          () -> assertEquals(2, duringWrite.size(), "files while writing: " + duringWrite),
          () -> assertTrue(duringWrite.stream().anyMatch(p -> p.getFileName().toString()
              .matches("\\.params\\.safetensors\\.[0-9a-z]+\\.tmp")), duringWrite.toString()),
          () -> assertArrayEquals(old, Files.readAllBytes(path)),
          () -> assertEquals(List.of(path), list(dir)));
    }

    @Test
    void failingInANewDirectoryCreatesNothing(@TempDir Path dir) {
      Path path = dir.resolve("missing").resolve("params.safetensors");
      assertThrows(NoSuchFileException.class, () -> Safetensors.write(path, big, Map.of()));
      assertFalse(Files.exists(path.getParent()));
    }

    private List<Path> uncheckedList(Path dir) {
      try {
        return list(dir);
      } catch (IOException e) {
        throw new AssertionError(e);
      }
    }
  }
}
