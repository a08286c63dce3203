package dev.rnn.dsl.spark;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.Rnn;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import org.apache.spark.broadcast.Broadcast;

/**
 * A network as the bytes of its checkpoint ({@link Network#save}: safetensors, the spec and
 * options in the metadata), which is how a network travels to Spark's executors and into a saved
 * Spark ML model; and, on an executor, the network a broadcast holds, rebuilt once per JVM.
 *
 * <p>The bytes pass through a temporary file because the library reads and writes checkpoints
 * as files ({@link Network#save}, {@link Rnn#load}); a network is rebuilt once per executor and
 * broadcast, so the file costs one write and one read of the weights.
 */
final class NetworkBytes {
  /** Networks rebuilt on this JVM, by broadcast id; a few, since a job uses one or two. */
  private static final Cache<Long, Network> REBUILT = CacheBuilder.newBuilder().maximumSize(4)
      .build();

  private NetworkBytes() {}

  /**
   * The checkpoint of {@code net}, as bytes.
   *
   * @throws IllegalArgumentException if the network has a user-written cell or a parameter that
   *     is NaN or infinite (what {@link Network#save} refuses)
   */
  static byte[] of(Network net) {
    Path f = null;
    try {
      f = Files.createTempFile("rnn-network-", ".safetensors");
      net.save(f);
      return Files.readAllBytes(f);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + net + " as checkpoint bytes", e);
    } finally {
      deleteQuietly(f);
    }
  }

  /**
   * The network whose checkpoint is {@code bytes}.
   *
   * @throws dev.rnn.core.SafetensorsException if the bytes are not a network checkpoint
   */
  static Network load(byte[] bytes) {
    Path f = null;
    try {
      f = Files.createTempFile("rnn-network-", ".safetensors");
      Files.write(f, bytes);
      return Rnn.load(f);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read a network from " + bytes.length + " bytes", e);
    } finally {
      deleteQuietly(f);
    }
  }

  /**
   * The network of {@code broadcast}, rebuilt on the first call in this JVM and shared by every
   * task after it (a network is safe for concurrent inference).
   */
  static Network of(Broadcast<byte[]> broadcast) {
    try {
      return REBUILT.get(broadcast.id(), () -> load(broadcast.value()));
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot rebuild the network of broadcast " + broadcast.id(),
          e.getCause());
    }
  }

  private static void deleteQuietly(Path f) {
    if (f != null) {
      try {
        Files.deleteIfExists(f);
      } catch (IOException ignored) {
        // a temporary file
      }
    }
  }
}
