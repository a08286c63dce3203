package dev.rnn.core;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.collect.ImmutableMap;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Safetensors files meet hostile paths and hostile headers: the writer replaces regular files
 * only and cleans up after killed runs; the reader refuses what is not a regular file without
 * blocking, keys given twice, and headers of too many entries, and shows the header to a check
 * before any tensor is read.
 */
class SafetensorsFilesTest {
  private static final Map<String, Tensor> ONE = ImmutableMap.of("w", Tensor.of(new float[] {1,
      2}, 2));
  private static final Duration QUICK = Duration.ofSeconds(10);

  @TempDir
  Path dir;

  @Nested
  class WhenWritingOverSomethingThatIsNotARegularFile {
    @Test
    void aCharacterDeviceIsRefusedAndKept() {
      Path dev = SpecialFiles.characterDevice(dir.resolve("null"), 1, 3);
      FileSystemException e = assertThrows(FileSystemException.class,
          () -> Safetensors.write(dev, ONE, Map.of()));
      assertAll(
          () -> assertEquals(dev + ": is a character device, not a regular file: not replaced",
              e.getMessage()),
          () -> assertFalse(Files.isRegularFile(dev)),
          () -> assertEquals(List.of(dev), list()));
    }

    @Test
    void aFifoIsRefusedWithoutBlockingAndKept() {
      Path fifo = SpecialFiles.fifo(dir.resolve("pipe"));
      FileSystemException e = assertTimeoutPreemptively(QUICK,
          () -> assertThrows(FileSystemException.class,
              () -> Safetensors.write(fifo, ONE, Map.of())));
      assertAll(
          () -> assertEquals(fifo + ": is a FIFO, not a regular file: not replaced",
              e.getMessage()),
          () -> assertFalse(Files.isRegularFile(fifo)));
    }

    @Test
    void aLinkToADeviceIsRefusedAndKept() throws IOException {
      Path dev = SpecialFiles.characterDevice(dir.resolve("full"), 1, 7);
      Path link = Files.createSymbolicLink(dir.resolve("out.safetensors"), dev);
      FileSystemException e = assertThrows(FileSystemException.class,
          () -> Safetensors.write(link, ONE, Map.of()));
      assertAll(
          () -> assertEquals(link + ": is a character device, not a regular file: not replaced",
              e.getMessage()),
          () -> assertTrue(Files.isSymbolicLink(link)));
    }

    @Test
    void aLinkToNothingIsRefused() throws IOException {
      Path link = Files.createSymbolicLink(dir.resolve("out.safetensors"),
          dir.resolve("nowhere"));
      FileSystemException e = assertThrows(FileSystemException.class,
          () -> Safetensors.write(link, ONE, Map.of()));
      assertEquals(link + ": is a symbolic link to nothing, not a regular file: not replaced",
          e.getMessage());
    }

    @Test
    void aDirectoryIsRefused() throws IOException {
      Path sub = Files.createDirectory(dir.resolve("sub"));
      FileSystemException e = assertThrows(FileSystemException.class,
          () -> Safetensors.write(sub, ONE, Map.of()));
      assertEquals(sub + ": is a directory, not a regular file: not replaced", e.getMessage());
    }
  }

  @Nested
  class WhenWritingThroughALink {
    @Test
    void theRegularFileItPointsToIsReplacedAndTheLinkKept() throws IOException {
      Path real = Files.writeString(dir.resolve("real.safetensors"), "old");
      Path link = Files.createSymbolicLink(dir.resolve("link.safetensors"), real);
      Safetensors.write(link, ONE, Map.of());
      assertAll(
          () -> assertTrue(Files.isSymbolicLink(link)),
          () -> assertArrayEquals(Safetensors.toBytes(ONE, Map.of()), Files.readAllBytes(real)));
    }
  }

  @Nested
  class StaleTemporaryFiles {
    @Test
    void leftByAKilledRunBeforeThisJvmAreRemovedAndOthersKept() throws IOException {
      FileTime longAgo = FileTime.from(Instant.parse("2020-01-01T00:00:00Z"));
      Path stale = Files.writeString(dir.resolve(".net.safetensors.k3x9q2.tmp"), "half");
      Files.setLastModifiedTime(stale, longAgo);
      Path fresh = Files.writeString(dir.resolve(".net.safetensors.abc.tmp"), "writing now");
      Path otherFile = Files.writeString(dir.resolve(".other.safetensors.k3x9q2.tmp"), "x");
      Files.setLastModifiedTime(otherFile, longAgo);
      Path notOurs = Files.writeString(dir.resolve(".net.safetensors.NOT-OURS.tmp"), "x");
      Files.setLastModifiedTime(notOurs, longAgo);

      Safetensors.write(dir.resolve("net.safetensors"), ONE, Map.of());

      assertAll(
          () -> assertFalse(Files.exists(stale), "stale temporary file of the target"),
          () -> assertTrue(Files.exists(fresh), "newer than this JVM: another writer's"),
          () -> assertTrue(Files.exists(otherFile), "another target's"),
          () -> assertTrue(Files.exists(notOurs), "not this project's naming"));
    }

    @Test
    void areRecognisedByThisProjectsNamingOnly() {
      assertAll(
          () -> assertTrue(AtomicFile.isTemporaryOf(".a.st.0.tmp", "a.st")),
          () -> assertTrue(AtomicFile.isTemporaryOf(".a.st.3w5e11264sgsf.tmp", "a.st")),
          () -> assertFalse(AtomicFile.isTemporaryOf(".a.st..tmp", "a.st")),
          () -> assertFalse(AtomicFile.isTemporaryOf(".a.st.3w5e11264sgsfx.tmp", "a.st")),
          () -> assertFalse(AtomicFile.isTemporaryOf(".a.st.X.tmp", "a.st")),
          () -> assertFalse(AtomicFile.isTemporaryOf("a.st.1.tmp", "a.st")),
          () -> assertFalse(AtomicFile.isTemporaryOf(".a.st.1.tmp", "a")));
    }
  }

  @Nested
  class WhenReadingSomethingThatIsNotARegularFile {
    @Test
    void aFifoIsRefusedBeforeItIsOpened() {
      Path fifo = SpecialFiles.fifo(dir.resolve("in.safetensors"));
      FileSystemException e = assertTimeoutPreemptively(QUICK,
          () -> assertThrows(FileSystemException.class, () -> Safetensors.read(fifo)));
      assertEquals(fifo + ": is a FIFO, not a regular file", e.getMessage());
    }

    @Test
    void aDeviceIsRefused() {
      Path dev = SpecialFiles.characterDevice(dir.resolve("zero"), 1, 5);
      FileSystemException e = assertTimeoutPreemptively(QUICK,
          () -> assertThrows(FileSystemException.class, () -> Safetensors.read(dev)));
      assertEquals(dev + ": is a character device, not a regular file", e.getMessage());
    }

    @Test
    void aDirectoryIsRefused() {
      FileSystemException e = assertThrows(FileSystemException.class,
          () -> Safetensors.read(dir));
      assertEquals(dir + ": is a directory, not a regular file", e.getMessage());
    }
  }

  @Nested
  class WhenTheHeaderIsHostile {
    @Test
    void aMetadataKeyGivenTwiceIsRefused() {
      SafetensorsException e = assertThrows(SafetensorsException.class, () -> Safetensors.read(
          file("{\"__metadata__\":{\"stacking\":\"states\",\"stacking\":\"outputs\"}}"), "x"));
      assertEquals("x: __metadata__ has key 'stacking' twice; which value is meant is not clear",
          e.getMessage());
    }

    @Test
    void moreTensorsThanTheLimitAreRefusedAtTheFirstOneOver() {
      StringBuilder json = new StringBuilder("{");
      for (int i = 0; i <= Safetensors.MAX_ENTRIES; i++) {
        json.append(i == 0 ? "" : ",").append("\"t").append(i)
            .append("\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}");
      }
      byte[] bytes = file(json.append('}').toString());
      SafetensorsException e = assertThrows(SafetensorsException.class,
          () -> Safetensors.read(bytes, "x"));
      assertEquals("x: header has more than 100000 tensors, the most a safetensors file may hold"
          + " here", e.getMessage());
    }

    @Test
    void aHeaderOfAMillionEmptyTensorsIsRefusedInLittleMemory() {
      // The probe's file: 71 MB of header, 1.2 million empty tensors; it took 2.1 GB to refuse.
      StringBuilder json = new StringBuilder(72_000_000).append('{');
      for (int i = 0; i < 1_200_000; i++) {
        json.append(i == 0 ? "" : ",").append("\"tensor_").append(i)
            .append("\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}");
      }
      byte[] bytes = file(json.append('}').toString());
      json.setLength(0);
      json.trimToSize();
      com.sun.management.ThreadMXBean threads =
          (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
      long before = threads.getCurrentThreadAllocatedBytes();
      SafetensorsException e = assertThrows(SafetensorsException.class,
          () -> Safetensors.read(bytes, "x"));
      long allocated = threads.getCurrentThreadAllocatedBytes() - before;
      assertAll(
          () -> assertTrue(bytes.length > 70_000_000, bytes.length + " bytes"),
          () -> assertEquals("x: header has more than 100000 tensors, the most a safetensors file"
              + " may hold here", e.getMessage()),
          // Reading every entry as a JSON tree took 2.1 GB of live memory; stopping at the limit,
          // about 250 MB are allocated in all (short-lived parse objects), a few MB kept.
          () -> assertTrue(allocated < 512L << 20,
              "refusing it allocated " + (allocated >> 20) + " MB"));
    }

    @Test
    void aWriterRefusesToWriteWhatReadersWouldRefuse() {
      Map<String, Tensor> many = new java.util.LinkedHashMap<>();
      Tensor empty = Tensor.zeros(DType.FLOAT32, 0);
      for (int i = 0; i <= Safetensors.MAX_ENTRIES; i++) {
        many.put("t" + i, empty);
      }
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Safetensors.toBytes(many, Map.of()));
      assertEquals("100001 tensors and 0 metadata keys are over the limit of 100000 each that"
          + " readers accept", e.getMessage());
    }
  }

  @Nested
  class ACheckOfTheHeader {
    private final byte[] bytes = Safetensors.toBytes(ImmutableMap.of(
        "a", Tensor.zeros(DType.FLOAT64, 2, 3), "b", Tensor.zeros(DType.FLOAT32, 4)),
        ImmutableMap.of("format", "test"));

    @Test
    void seesTheMetadataDtypesAndShapesInFileOrder() {
      List<SafetensorsFile.Header> seen = new ArrayList<>();
      Safetensors.read(bytes, "x", seen::add);
      SafetensorsFile.Header h = seen.get(0);
      assertAll(
          () -> assertEquals("x", h.source()),
          () -> assertEquals(Map.of("format", "test"), h.metadata()),
          () -> assertEquals(List.of("a", "b"), List.copyOf(h.tensors().keySet())),
          () -> assertEquals(new SafetensorsFile.Declared(DType.FLOAT64, Shape.of(2, 3)),
              h.tensors().get("a")),
          () -> assertEquals(48, h.tensors().get("a").bytes()));
    }

    @Test
    void refusesTheFileBeforeAnyTensorIsRead(@TempDir Path d) throws IOException {
      Path path = Files.write(d.resolve("x.safetensors"), bytes);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> Safetensors.read(path, h -> {
            throw new IllegalStateException("not what I expected");
          }));
      assertEquals("not what I expected", e.getMessage());
    }
  }

  @Nested
  class TensorSizes {
    @Test
    void aConcatenationOverTheIntRangeIsRefusedByItsSize() {
      Tensor t = Tensor.zeros(DType.FLOAT32, 0, Integer.MAX_VALUE / 2 + 1);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Tensor.concat(1, List.of(t, t)));
      assertEquals("concat along 1 of 2 tensors gives dimension 2147483648, more than the int"
          + " maximum 2147483647", e.getMessage());
    }

    @Test
    void aScanWhoseBuffersWouldOverflowAnArrayIsRefusedBeforeAllocating() {
      // W_hh [65536, 16384] exists only as a shape: the check comes before any allocation.
      Scan scan = new Scan(new LstmCell(1, 16384), Scan.Direction.FORWARD, "_l0", DType.FLOAT32,
          Scan.Biases.BOTH);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> scan.forward(Storage.allocate(DType.FLOAT32, 1024 * 64), 1024, 64, null, false));
      // (the widest buffer per step and sequence: the saved gates and cell state, 5 x 16384)
      assertEquals("lstm(1, 16384) over 1024 steps of 64 sequences needs buffers of 1025 x 64 x"
          + " 81920 numbers, more than the 2147483639 an array holds; split the sequences"
          + " (truncated BPTT) or the batch", e.getMessage());
    }

    @Test
    void aShapeCountsItsElementsInLong() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Shape.of(65536, 65536));
      assertEquals("shape [65536, 65536] has more than 2^31 - 9 elements", e.getMessage());
    }
  }

  private List<Path> list() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    }
  }

  /** A safetensors file with header {@code json} and no data. */
  private static byte[] file(String json) {
    byte[] h = json.getBytes(UTF_8);
    return ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length)
        .put(h).array();
  }
}
