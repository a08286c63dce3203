package dev.rnn.core;

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
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * Writes a regular file atomically: into a temporary file beside it ({@code .NAME.RANDOM.tmp}),
 * forced to disk, then renamed over it in one step, so that a reader sees the old file or the
 * whole new one and a failure leaves no partial file behind.
 *
 * <p>Only a regular file is written or replaced: a path that exists as anything else (a
 * directory, a device such as {@code /dev/null}, a FIFO, a socket, a link to one of these or to
 * nothing) is refused before anything is written, since renaming over it would replace the device
 * or pipe itself by a regular file. A symbolic link to a regular file is followed: the file it
 * points to is replaced and the link kept. Temporary files of this naming left next to the target
 * by runs that were killed (older than this JVM) are removed. Every message names the path the
 * caller gave, never the temporary file.
 */
public final class AtomicFile {
  /** Writes the bytes of one file. */
  @FunctionalInterface
  public interface Content {
    /**
     * Writes the file's bytes.
     *
     * @param out the stream, buffered; closed by the caller
     * @throws IOException if writing fails
     */
    void writeTo(OutputStream out) throws IOException;
  }

  /** The random part of a temporary file's name: an unsigned long in base 36. */
  private static final Pattern RANDOM = Pattern.compile("[0-9a-z]{1,13}");

  private AtomicFile() {}

  /**
   * Writes {@code content} to {@code path}, whose directory must exist.
   *
   * @param path the file written or replaced
   * @param content writes the bytes
   * @throws FileSystemException naming {@code path} if it exists and is not a regular file, its
   *     directory does not exist, or the file cannot be written or moved into place; a previous
   *     file at {@code path} is then as it was
   * @throws IOException if {@code content} fails; nothing is replaced
   */
  public static void write(Path path, Content content) throws IOException {
    write(path, content, out -> out);
  }

  /**
   * Writes {@code content} to {@code path} through {@code decorate} (tests inject failures).
   *
   * @throws FileSystemException naming {@code path} if it exists and is not a regular file, its
   *     directory does not exist, or the file cannot be written or moved into place; a previous
   *     file at {@code path} is then as it was
   */
  static void write(Path path, Content content, UnaryOperator<OutputStream> decorate)
      throws IOException {
    Path target = regularTarget(path);
    Path dir = target.getParent();
    removeStaleTemporaryFiles(dir, target.getFileName().toString());
    Path temp = dir.resolve(temporaryName(target.getFileName().toString()));
    try {
      try (FileChannel channel = open(path, temp);
          OutputStream out = decorate.apply(
              new BufferedOutputStream(Channels.newOutputStream(channel)))) {
        content.writeTo(out);
        out.flush();
        channel.force(true);
      }
      try {
        Files.move(temp, target, ATOMIC_MOVE, REPLACE_EXISTING);
      } catch (IOException e) {
        throw named(path, "could not be replaced by the file written", e);
      }
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
   * The absolute path to write: {@code path} itself, or the regular file a link at {@code path}
   * points to. Checks, before any work that produces the file, that it can be written.
   *
   * @param path the file to be written or replaced
   * @return the path {@link #write} writes
   * @throws FileSystemException naming {@code path} if it is not a file path, exists and is not
   *     a regular file, or its directory does not exist
   * @throws IOException if a link cannot be followed
   */
  public static Path regularTarget(Path path) throws IOException {
    Path target = path.toAbsolutePath();
    if (target.getFileName() == null || target.getParent() == null) {
      throw new FileSystemException(path.toString(), null, "is not a file path");
    }
    if (Files.exists(target, NOFOLLOW_LINKS)) {
      if (!Files.isRegularFile(target)) {
        throw new FileSystemException(path.toString(), null,
            "is " + kind(target) + ", not a regular file: not replaced");
      }
      if (Files.isSymbolicLink(target)) {
        String descriptor = openDescriptor(target);
        if (descriptor != null) {
          throw new FileSystemException(path.toString(), null, "is a link to " + descriptor
              + ", an open file of a process, not a regular file: not replaced");
        }
        target = target.toRealPath();
      }
    }
    Path dir = target.getParent();
    if (!Files.isDirectory(dir)) {
      throw new NoSuchFileException(path.toString(), null,
          "cannot write, directory " + dir + " does not exist");
    }
    return target;
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

  /**
   * Checks that {@code path} is a regular file to read, before opening it: opening a FIFO blocks
   * until a writer comes, and a device reads forever.
   *
   * @param path the file to read
   * @throws NoSuchFileException if there is none
   * @throws FileSystemException naming {@code path} and what it is if it is not a regular file
   */
  public static void checkReadable(Path path) throws IOException {
    if (!Files.exists(path)) {
      throw new NoSuchFileException(path.toString());
    }
    if (!Files.isRegularFile(path)) {
      throw new FileSystemException(path.toString(), null,
          "is " + kind(path) + ", not a regular file");
    }
  }

  /**
   * What {@code p}, which exists, is, for messages: {@code a directory}, {@code a character
   * device}, {@code a FIFO}, ...; following links.
   */
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

  /** {@code .NAME.RANDOM.tmp}. */
  private static String temporaryName(String name) {
    return "." + name + "." + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36)
        + ".tmp";
  }

  /** Whether {@code file} is named as {@link #temporaryName} names temporary files of {@code name}. */
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

  private static FileChannel open(Path path, Path temp) throws IOException {
    try {
      return FileChannel.open(temp, CREATE_NEW, WRITE);
    } catch (IOException e) {
      throw named(path, "cannot be written", e);
    }
  }

  /** {@code e}, as a one-line exception naming {@code path} rather than the temporary file. */
  private static FileSystemException named(Path path, String what, IOException e) {
    String reason = e instanceof java.nio.file.AccessDeniedException ? "permission denied"
        : e instanceof NoSuchFileException ? "the temporary file is gone"
        : e instanceof FileSystemException f ? (f.getReason() != null ? f.getReason()
            : e.getClass().getSimpleName())
        : e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    FileSystemException named = new FileSystemException(path.toString(), null,
        what + " (" + reason + ")");
    named.initCause(e);
    return named;
  }
}
