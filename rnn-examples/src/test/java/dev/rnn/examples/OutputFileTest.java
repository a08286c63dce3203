package dev.rnn.examples;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Where the command line writes, and what it says when it cannot: regular files only, links
 * followed to them, {@code -} for standard output, messages naming the user's path; and the one
 * line printed when the JVM runs out of memory or stack.
 */
class OutputFileTest {
  @TempDir
  Path dir;

  @Nested
  class ARegularTarget {
    @Test
    void behindALinkIsReplacedAndTheLinkKept() throws IOException {
      Path real = Files.writeString(dir.resolve("real.dot"), "old");
      Path link = Files.createSymbolicLink(dir.resolve("link.dot"), real);
      Invocation r = Invocation.of("graph", "--net", "recurrent(2,2)", "--out", link.toString());
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertTrue(Files.isSymbolicLink(link)),
          () -> assertTrue(Files.readString(real).startsWith("// network().recurrent(2, 2)")));
    }

    @Test
    void whoseTemporaryFileVanishesIsNamedInTheMessageNotTheTemporaryFile() {
      Path target = dir.resolve("g.dot");
      FileSystemException e = assertThrows(FileSystemException.class,
          () -> OutputFile.write(target, out -> {
            out.write('x');
            try (Stream<Path> s = Files.list(dir)) {
              for (Path p : s.toList()) {
                Files.delete(p); // the temporary file, from under the writer
              }
            }
          }));
      assertAll(
          () -> assertEquals(target + ": could not be replaced by the file written (the"
              + " temporary file is gone)", e.getMessage()),
          () -> assertEquals(target + ": could not be replaced by the file written (the"
              + " temporary file is gone)", Main.message(e)),
          () -> assertFalse(Files.exists(target)));
    }
  }

  @Nested
  class StandardOutput {
    @Test
    void isWrittenStraightToWhenTheFileIsADash() throws IOException {
      ByteArrayOutputStream stdout = new ByteArrayOutputStream();
      OutputFile.write(Path.of("-"), out -> out.write("text".getBytes(StandardCharsets.UTF_8)),
          stdout);
      assertAll(
          () -> assertEquals("text", stdout.toString(StandardCharsets.UTF_8)),
          () -> assertFalse(Files.exists(Path.of("-"))));
    }

    @Test
    void isWhereGraphWritesForDash() {
      Invocation r = Invocation.of("graph", "--net", "recurrent(2,2)", "--format", "svg",
          "--out", "-");
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertTrue(r.out().startsWith("<svg") || r.out().startsWith("<?xml"), r.out()),
          () -> assertFalse(r.out().contains("\n-\n"), "no path printed"));
    }
  }

  @Nested
  class WhenTheWorkWouldBeLost {
    @Test
    void benchRefusesAJsonFifoBeforeBenchmarking() {
      Path fifo = SpecialFiles.fifo(dir.resolve("bench.json"));
      Invocation r = assertTimeoutPreemptively(Duration.ofSeconds(20),
          () -> Invocation.of("bench", "--configs", "seed", "--blas-core", "keep", "--json",
              fifo.toString()));
      assertAll(
          () -> assertEquals(1, r.exitCode()),
          () -> assertEquals("rnn-examples bench: " + fifo + ": is a FIFO, not a regular file:"
              + " not replaced\n", r.err()),
          () -> assertEquals("", r.out()));
    }

    @Test
    void seedRefusesAnInputOfMoreThanAMillionCharactersBeforeParsingIt() {
      Invocation r = Invocation.of("seed", "--input", " ".repeat(1_000_001));
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertTrue(r.err().startsWith("rnn-examples seed: Invalid value for option"
              + " '--input': expected a JSON list of steps, each a list of 2 numbers, e.g."
              + " [[1,1],[2,2],[3,3]], but it has 1000001 characters, more than the 1000000"
              + " read\n"), r.err()));
    }
  }

  @Nested
  class WhenTheJvmRunsOut {
    private String exhaustion(Error e, String... args) {
      StringWriter err = new StringWriter();
      CommandLine cl = Main.commandLine(new PrintWriter(new StringWriter()),
          new PrintWriter(err, true));
      cl.parseArgs(args);
      int code = Main.handleExhaustion(e, cl, args);
      assertEquals(1, code);
      return err.toString();
    }

    @Test
    void ofMemoryItSaysWhatWasBeingDoneWhatItNeedsAndHowToGiveMore() {
      Main.working("running the torch case big.safetensors", 12L << 30);
      String line = exhaustion(new OutOfMemoryError("Java heap space"), "torch-case",
          "big.safetensors", "out.safetensors");
      long max = Runtime.getRuntime().maxMemory();
      assertEquals("rnn-examples torch-case: out of memory while running the torch case"
          + " big.safetensors (it needs about 12.0 GB): the JVM may use at most "
          + Main.megabytes(max) + "; give it more with -Xmx, e.g. java -Xmx"
          + Math.max(18, (2 * max + (1L << 30) - 1) >> 30) + "g -jar rnn-examples.jar ...\n",
          line);
    }

    @Test
    void ofStackItSaysWhatWasBeingDoneAndHowToGiveMore() {
      Main.working("reading --input", 0);
      String line = exhaustion(new StackOverflowError(), "seed", "--input", "[[1,1]]");
      assertEquals("rnn-examples seed: out of stack while reading --input (is the input nested"
          + " too deeply?); give the JVM more with -Xss, e.g. java -Xss64m -jar rnn-examples.jar"
          + " ...\n", line);
    }

    @Test
    void withoutAWordOfTheCommandItNamesTheCommandLine() {
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      StringWriter text = new StringWriter();
      CommandLine cl = Main.commandLine(new PrintWriter(new StringWriter()),
          new PrintWriter(text, true));
      cl.parseArgs("describe", "--net", "recurrent(2,2)");
      // no working(...) on this thread: Main.run clears it
      Main.run(new PrintStream(new ByteArrayOutputStream()), new PrintStream(err), "--version");
      Main.handleExhaustion(new StackOverflowError(), cl, new String[] {"describe", "--net",
          "recurrent(2,2)"});
      assertEquals(List.of("rnn-examples describe: out of stack while running 'describe --net"
          + " recurrent(2,2)' (is the input nested too deeply?); give the JVM more with -Xss,"
          + " e.g. java -Xss64m -jar rnn-examples.jar ..."), text.toString().lines().toList());
    }
  }
}
