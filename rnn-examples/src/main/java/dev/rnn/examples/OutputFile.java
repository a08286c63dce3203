package dev.rnn.examples;

import dev.rnn.core.AtomicFile;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a file atomically: into a temporary file beside it ({@code .NAME.RANDOM.tmp}), forced to
 * disk, then moved over it in one step, so a reader sees the old file or the whole new one and a
 * failure leaves no partial file behind. Every file the command line writes goes through here
 * (safetensors files through {@link dev.rnn.core.Safetensors#write}); both write with core's
 * {@link AtomicFile}, and this class adds the command line's conventions: {@value
 * #STANDARD_OUTPUT} for standard output, and a hint to use it.
 *
 * <p>Only a regular file is written or replaced. A path that exists as anything else (a
 * directory, a device such as {@code /dev/null}, a FIFO, a socket, a link to one of these or to
 * nothing, such as a link to {@code /proc/self/fd/1}) is refused before anything is written:
 * renaming over it would replace the device or pipe itself by a regular file. A link to a regular
 * file is followed (the file is replaced, the link kept). {@code -} is standard output where a
 * command offers it ({@link #write(Path, Content, OutputStream)}). Temporary files of this naming
 * left next to the target by killed runs (older than this JVM) are removed. Messages name the
 * path the user gave, never the temporary file.
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

  /** The name that means standard output where a command offers it. */
  public static final String STANDARD_OUTPUT = "-";

  private OutputFile() {}

  /**
   * Writes {@code content} to {@code file}, whose directory must exist.
   *
   * @param file the file written or replaced
   * @param content writes the bytes
   * @throws IOException naming {@code file} if its directory does not exist, it exists and is not
   *     a regular file, or writing or moving fails; the temporary file is removed and a previous
   *     file at {@code file} is left as it was
   */
  public static void write(Path file, Content content) throws IOException {
    checkTarget(file);
    AtomicFile.write(file, content::writeTo);
  }

  /**
   * Writes {@code content} to {@code file}, or straight to {@code standardOutput} (flushed, left
   * open) when {@code file} is {@value #STANDARD_OUTPUT}.
   *
   * @param file the file written or replaced, or {@value #STANDARD_OUTPUT}
   * @param content writes the bytes
   * @param standardOutput the command's standard output
   * @throws IOException as {@link #write(Path, Content)}
   */
  public static void write(Path file, Content content, OutputStream standardOutput)
      throws IOException {
    if (isStandardOutput(file)) {
      content.writeTo(standardOutput);
      standardOutput.flush();
    } else {
      write(file, content);
    }
  }

  /**
   * Whether {@code file} is {@value #STANDARD_OUTPUT}, standard output.
   *
   * @param file a path a command was given
   * @return whether it means standard output
   */
  public static boolean isStandardOutput(Path file) {
    return file.toString().equals(STANDARD_OUTPUT);
  }

  /**
   * Checks, before the work that produces it, that {@code file} can be written: it names a file
   * in a directory that exists, and is a regular file (or a link to one) if it exists.
   *
   * @param file the file to be written or replaced
   * @return the absolute path to write: {@code file}, or the regular file a link at {@code file}
   *     points to
   * @throws IOException naming {@code file} if it cannot be written
   */
  public static Path checkTarget(Path file) throws IOException {
    try {
      return AtomicFile.regularTarget(file);
    } catch (FileSystemException e) {
      String reason = e.getReason();
      if (reason != null && reason.contains("an open file of a process")) {
        throw new FileSystemException(file.toString(), null,
            reason + "; use - for standard output");
      }
      throw e;
    }
  }

  /**
   * Checks that {@code file} is a regular file to read, before opening it: opening a FIFO blocks
   * until a writer comes, and a device reads forever.
   *
   * @param file the file to read
   * @throws IOException naming {@code file} if it does not exist or is not a regular file
   */
  public static void checkReadable(Path file) throws IOException {
    AtomicFile.checkReadable(file);
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
