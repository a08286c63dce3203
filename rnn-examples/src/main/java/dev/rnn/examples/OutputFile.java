package dev.rnn.examples;

import static java.nio.file.StandardCopyOption.ATOMIC_MOVE;
import static java.nio.file.StandardCopyOption.REPLACE_EXISTING;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.WRITE;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file atomically: into a temporary file beside it ({@code .NAME.RANDOM.tmp}), forced to
 * disk, then moved over it in one step, so a reader sees the old file or the whole new one and a
 * failure leaves no partial file behind. Every file the command line writes goes through here
 * (safetensors files through {@link dev.rnn.core.Safetensors#write}, which does the same).
 */
public final class OutputFile {
  /** Writes the bytes of one file to the stream it is given. */
  @FunctionalInterface
  public interface Content {
    /**
     * Writes the file's bytes to {@code out}.
     *
     * @param out the stream, which the caller closes
     * @throws IOException if writing fails
     */
    void writeTo(OutputStream out) throws IOException;
  }

  private OutputFile() {}

  /**
   * Writes {@code content} to {@code file}, whose directory must exist.
   *
   * @param file the file written or replaced
   * @param content writes the bytes
   * @throws IOException naming {@code file} if its directory does not exist, it is a directory,
   *     or writing or moving fails; the temporary file is removed and a previous file at {@code
   *     file} is left as it was
   */
  public static void write(Path file, Content content) throws IOException {
    Path target = file.toAbsolutePath();
    Path dir = target.getParent();
    if (target.getFileName() == null || dir == null) {
      throw new FileSystemException(file.toString(), null, "is not a file path");
    }
    if (!Files.isDirectory(dir)) {
      throw new NoSuchFileException(file.toString(), null,
          "cannot write, directory " + dir + " does not exist");
    }
    if (Files.isDirectory(target)) {
      throw new FileSystemException(file.toString(), null, "is a directory, not a file");
    }
    Path temp = dir.resolve("." + target.getFileName() + "."
        + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
    try {
      try (FileChannel channel = FileChannel.open(temp, CREATE_NEW, WRITE)) {
        OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel));
        content.writeTo(out);
        out.flush();
        channel.force(true);
      }
      Files.move(temp, target, ATOMIC_MOVE, REPLACE_EXISTING);
    } catch (IOException | RuntimeException e) {
      try {
        Files.deleteIfExists(temp);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /**
   * Writes {@code file}, creating its directory first if it is missing.
   *
   * @param file the file written or replaced
   * @param content writes the bytes
   * @throws IOException if the directory cannot be created or the file written, as {@link #write}
   */
  public static void writeCreatingDirectory(Path file, Content content) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    write(file, content);
  }

  /**
   * Writes {@code text} as UTF-8 to {@code file}, whose directory must exist.
   *
   * @param file the file written or replaced
   * @param text the text
   * @throws IOException as {@link #write}
   */
  public static void writeText(Path file, String text) throws IOException {
    write(file, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
  }
}
