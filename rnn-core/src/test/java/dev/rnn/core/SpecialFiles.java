package dev.rnn.core;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Device nodes and FIFOs made in a test's temporary folder, never the system's own: a character
 * device with the numbers of {@code /dev/null} ({@code mknod X c 1 3}) or of {@code /dev/full}
 * ({@code c 1 7}), and a named pipe. A test that cannot make one (not root, no {@code mknod}) is
 * skipped, not failed.
 */
public final class SpecialFiles {
  private SpecialFiles() {}

  /** A character device {@code major, minor} at {@code path}; skips the test if it cannot. */
  public static Path characterDevice(Path path, int major, int minor) {
    run("mknod", path.toString(), "c", String.valueOf(major), String.valueOf(minor));
    assumeTrue(Files.exists(path) && !Files.isRegularFile(path),
        "cannot make a device node here (needs root): " + path);
    return path;
  }

  /** A FIFO at {@code path}; skips the test if it cannot. */
  public static Path fifo(Path path) {
    run("mkfifo", path.toString());
    assumeTrue(Files.exists(path) && !Files.isRegularFile(path),
        "cannot make a FIFO here: " + path);
    return path;
  }

  private static void run(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    } catch (IOException e) {
      assumeTrue(false, "cannot run " + command[0] + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      assumeTrue(false, "interrupted");
    }
  }
}
