package dev.rnn.examples;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.util.List;

/** One run of the command line through {@link Main#run}: its exit code, stdout and stderr. */
record Invocation(int exitCode, String out, String err) {
  /** Runs {@code rnn-examples args...}; line ends in the output are {@code \n}. */
  static Invocation of(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Charset cs = Charset.defaultCharset();
    int code;
    try (PrintStream o = new PrintStream(out, true, cs);
        PrintStream e = new PrintStream(err, true, cs)) {
      code = Main.run(o, e, args);
    }
    return new Invocation(code, normalize(out.toString(cs)), normalize(err.toString(cs)));
  }

  /** The lines of stdout. */
  List<String> outLines() {
    return out.lines().toList();
  }

  private static String normalize(String s) {
    return s.replace(System.lineSeparator(), "\n");
  }
}
