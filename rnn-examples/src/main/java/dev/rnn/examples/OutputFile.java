package dev.rnn.examples;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static java.nio.file.StandardCopyOption.ATOMIC_MOVE;
import static java.nio.file.StandardCopyOption.REPLACE_EXISTING;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.WRITE;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * Writes a file atomically: into a temporary file beside it ({@code .NAME.RANDOM.tmp}), forced to
 * disk, then moved over it in one step, so a reader sees the old file or the whole new one and a
 * failure leaves no partial file behind. Every file the command line writes goes through here
 * (safetensors files through {@link dev.rnn.core.Safetensors#write}, which does the same).
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

  /** The random part of a temporary file's name: an unsigned long in base 36. */
  private static final Pattern RANDOM = Pattern.compile("[0-9a-z]{1,13}");

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
    Path target = checkTarget(file);
    Path dir = target.getParent();
    String name = target.getFileName().toString();
    removeStaleTemporaryFiles(dir, name);
    Path temp = dir.resolve("." + name + "."
        + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
    try {
      try (FileChannel channel = open(file, temp)) {
        OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel));
        content.writeTo(out);
        out.flush();
        channel.force(true);
      }
      try {
        Files.move(temp, target, ATOMIC_MOVE, REPLACE_EXISTING);
      } catch (IOException e) {
        throw named(file, "could not be replaced by the file written", e);
      }
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
    Path target = file.toAbsolutePath();
    if (target.getFileName() == null || target.getParent() == null) {
      throw new FileSystemException(file.toString(), null, "is not a file path");
    }
    if (Files.exists(target, NOFOLLOW_LINKS)) {
      if (!Files.isRegularFile(target)) {
        throw new FileSystemException(file.toString(), null,
            "is " + kind(target) + ", not a regular file: not replaced");
      }
      if (Files.isSymbolicLink(target)) {
        String descriptor = openDescriptor(target);
        if (descriptor != null) {
          throw new FileSystemException(file.toString(), null, "is a link to " + descriptor
              + ", an open file of a process, not a regular file: not replaced; use - for standard output");
        }
        target = target.toRealPath();
      }
    }
    Path dir = target.getParent();
    if (!Files.isDirectory(dir)) {
      throw new NoSuchFileException(file.toString(), null,
          "cannot write, directory " + dir + " does not exist");
    }
    return target;
  }

  /**
   * Checks that {@code file} is a regular file to read, before opening it: opening a FIFO blocks
   * until a writer comes, and a device reads forever.
   *
   * @param file the file to read
   * @throws IOException naming {@code file} if it does not exist or is not a regular file
   */
  public static void checkReadable(Path file) throws IOException {
    if (!Files.exists(file)) {
      throw new NoSuchFileException(file.toString());
    }
    if (!Files.isRegularFile(file)) {
      throw new FileSystemException(file.toString(), null,
          "is " + kind(file) + ", not a regular file");
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

  /**
   * The first link on the way from {@code link} to its file that is a process's open file
   * ({@code /proc/self/fd/1}, {@code /dev/fd/1}, as {@code /dev/stdout} is), or null. Such a link
   * resolves to whatever the descriptor is open on, a shell's redirection for one: replacing that
   * file would take it from under the process writing it.
   */
  static String openDescriptor(Path link) throws IOException {
    Path p = link.toAbsolutePath();
    for (int hops = 0; hops < 40 && Files.isSymbolicLink(p); hops++) {
      p = p.resolveSibling(Files.readSymbolicLink(p)).normalize();
      if (p.startsWith("/proc") || p.startsWith("/dev/fd")) {
        return p.toString();
      }
    }
    return null;
  }

  /** What {@code p}, which exists, is: {@code a directory}, {@code a FIFO}, ...; for messages. */
  static String kind(Path p) {
    if (Files.isSymbolicLink(p) && !Files.exists(p)) {
      return "a symbolic link to nothing";
    }
    if (Files.isDirectory(p)) {
      return "a directory";
    }
    try {
      int mode = (Integer) Files.getAttribute(p, "unix:mode");
      switch (mode & 0170000) {
        case 0020000:
          return "a character device";
        case 0060000:
          return "a block device";
        case 0010000:
          return "a FIFO";
        case 0140000:
          return "a socket";
        default:
          break;
      }
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      // no unix view here: say what is known
    }
    return "not a regular file but something else";
  }

  /** Whether {@code file} is named as this class names the temporary files of {@code name}. */
  static boolean isTemporaryOf(String file, String name) {
    String prefix = "." + name + ".";
    return file.length() > prefix.length() + ".tmp".length() && file.startsWith(prefix)
        && file.endsWith(".tmp")
        && RANDOM.matcher(file.substring(prefix.length(), file.length() - ".tmp".length()))
            .matches();
  }

  /**
   * Removes the regular files in {@code dir} named as temporary files of {@code name} and last
   * changed before this JVM started: left by runs that were killed while writing. Failures are
   * ignored; the write goes on.
   */
  static void removeStaleTemporaryFiles(Path dir, String name) {
    FileTime started = FileTime.fromMillis(ManagementFactory.getRuntimeMXBean().getStartTime());
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir,
        f -> f.getFileName() != null && isTemporaryOf(f.getFileName().toString(), name))) {
      for (Path f : files) {
        try {
          BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class,
              NOFOLLOW_LINKS);
          if (a.isRegularFile() && a.lastModifiedTime().compareTo(started) < 0) {
            Files.deleteIfExists(f);
          }
        } catch (IOException | SecurityException e) {
          // another process's, or gone already
        }
      }
    } catch (IOException | SecurityException e) {
      // an unreadable directory: the write itself will say what is wrong
    }
  }

  private static FileChannel open(Path file, Path temp) throws IOException {
    try {
      return FileChannel.open(temp, CREATE_NEW, WRITE);
    } catch (IOException e) {
      throw named(file, "cannot be written", e);
    }
  }

  /** {@code e} as one line naming {@code file}, the user's path, not the temporary file. */
  static FileSystemException named(Path file, String what, IOException e) {
    String reason = e instanceof AccessDeniedException ? "permission denied"
        : e instanceof NoSuchFileException ? "the temporary file is gone"
        : e instanceof FileSystemException f ? (f.getReason() != null ? f.getReason()
            : e.getClass().getSimpleName())
        : e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    FileSystemException named = new FileSystemException(file.toString(), null,
        what + " (" + reason + ")");
    named.initCause(e);
    return named;
  }
}
