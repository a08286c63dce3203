package dev.rnn.examples;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code rnn-examples} command line: one subcommand per tool, all with the same error handling
 * and exit codes.
 *
 * <p>Each subcommand is its own class in this package, registered in {@code subcommands} below.
 * Failures are handled here, once, for every subcommand:
 *
 * <ul>
 *   <li>bad usage (a missing or extra argument, an unknown option): the problem on one line of
 *       stderr, then {@code Try 'rnn-examples <command> --help' for more information.}; exit 2;
 *   <li>bad data ({@link IOException}, or {@link IllegalArgumentException} and so {@link
 *       dev.rnn.core.SafetensorsException} from the library): {@code rnn-examples <command>:
 *       <message>} on one line of stderr, the stack trace only with {@code --verbose}; exit 1;
 *   <li>the JVM running out of memory or stack: one line saying what was being done, what it
 *       needed where that is known, the memory the JVM may use, and how to give it more ({@code
 *       -Xmx}, {@code -Xss}); exit 1;
 *   <li>anything else is a bug: the same line prefixed {@code internal error}, then the stack
 *       trace; exit 1.
 * </ul>
 *
 * <p>Arguments are taken as they are: picocli's {@code @file} expansion is off, so that {@code
 * @/dev/zero} or {@code @/proc/self/environ} is an unknown argument, not a file read.
 *
 * <p>{@link #run} is the entry point for tests; {@link #main} calls it and exits with its result.
 */
@Command(
    name = "rnn-examples",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Recurrent neural networks in Java: the command line, walkthroughs and tools.",
    synopsisSubcommandLabel = "[COMMAND]",
    commandListHeading = "%nCommands:%n",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:success",
        "1:the command failed (the message says why)",
        "2:bad usage"},
    subcommands = {
        TorchCaseCommand.class,
        BenchCommand.class,
        WalkthroughCommand.class,
        SeedCommand.class,
        DescribeCommand.class,
        GraphCommand.class,
        TrainCommand.class,
        FitCommand.class,
        PredictCommand.class,
    })
public final class Main implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--out", paramLabel = "DIR", defaultValue = "rnn-out",
      description = "Where the showcase (no command) writes its files (default: ${DEFAULT-VALUE}).")
  Path out;

  @Mixin
  ProgressOption progress;

  /** The standard output as bytes, for a command that writes a file to {@code -}. */
  private PrintStream standardOutput = System.out;

  /** What the command on this thread is doing, for the message when memory runs out. */
  private static final ThreadLocal<Work> WORK = new ThreadLocal<>();

  /**
   * What a command is doing, said when the JVM runs out of memory or stack during it.
   *
   * @param what e.g. {@code running torch case x.safetensors}
   * @param bytes about how much memory it needs, or 0 if not known
   */
  record Work(String what, long bytes) {}

  /**
   * Records what the command on this thread is doing now, for the one-line message if the JVM
   * runs out of memory or stack.
   *
   * @param what e.g. {@code building the network recurrent(1, 40000)}
   * @param bytes about how much memory it needs, or 0 if not known
   */
  static void working(String what, long bytes) {
    WORK.set(new Work(what, bytes));
  }

  /**
   * Runs the command line and exits the JVM with its exit code.
   *
   * @param args the command line
   */
  public static void main(String... args) {
    System.exit(run(System.out, System.err, args));
  }

  /**
   * Runs the command line with {@code args}, printing to {@code out} and {@code err}, and returns
   * the exit code: 0 success, 1 failure, 2 bad usage.
   *
   * @param out where results go
   * @param err where errors and usage go
   * @param args the command line
   * @return the exit code
   */
  public static int run(PrintStream out, PrintStream err, String... args) {
    PrintWriter outWriter = new PrintWriter(out, true);
    PrintWriter errWriter = new PrintWriter(err, true);
    Main main = new Main();
    main.standardOutput = out;
    CommandLine cl = commandLine(main, outWriter, errWriter);
    WORK.remove();
    try {
      return cl.execute(args);
    } catch (OutOfMemoryError | StackOverflowError e) {
      return handleExhaustion(e, cl, args);
    } finally {
      WORK.remove();
      outWriter.flush();
      errWriter.flush();
    }
  }

  /** The command hierarchy, printing to {@code out} and {@code err}, with this class's handlers. */
  static CommandLine commandLine(PrintWriter out, PrintWriter err) {
    return commandLine(new Main(), out, err);
  }

  private static CommandLine commandLine(Main main, PrintWriter out, PrintWriter err) {
    return new CommandLine(main)
        .setOut(out)
        .setErr(err)
        .setExpandAtFiles(false)
        .setParameterExceptionHandler(Main::handleUsageError)
        .setExecutionExceptionHandler(Main::handleFailure);
  }

  /**
   * The standard output of the command line {@code spec} belongs to, as bytes: where a command
   * writes a file named {@code -}. Its character output is flushed first, so that the two keep
   * their order.
   */
  static PrintStream standardOutput(CommandSpec spec) {
    spec.commandLine().getOut().flush();
    Object root = spec.root().userObject();
    return root instanceof Main m ? m.standardOutput : System.out;
  }

  /** With no command: the showcase. */
  @Override
  public Integer call() {
    return runShowcase();
  }

  /** The showcase run when no command is given: see {@link Showcase}. */
  int runShowcase() {
    try {
      Showcase.run(spec.commandLine().getOut(), out, progress.progress());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return CommandLine.ExitCode.OK;
  }

  /** Bad usage: the problem and a hint on stderr, exit code 2. */
  static int handleUsageError(ParameterException e, String[] args) {
    CommandLine cl = e.getCommandLine();
    PrintWriter err = cl.getErr();
    String command = cl.getCommandSpec().qualifiedName();
    err.println(command + ": " + oneLine(e.getMessage()) + suggestions(e));
    err.println("Try '" + command + " --help' for more information.");
    return cl.getCommandSpec().exitCodeOnInvalidInput();
  }

  /** A command failed: one line on stderr, the stack trace with --verbose or for a bug; exit 1. */
  static int handleFailure(Exception e, CommandLine cl, ParseResult parsed) {
    PrintWriter err = cl.getErr();
    String command = cl.getCommandSpec().qualifiedName();
    if (isBadData(e)) {
      err.println(command + ": " + message(e));
      if (VerboseOption.isSet(parsed)) {
        e.printStackTrace(err);
      }
    } else {
      err.println(command + ": internal error: " + oneLine(e.toString()));
      e.printStackTrace(err);
    }
    return cl.getCommandSpec().exitCodeOnExecutionException();
  }

  /**
   * The JVM ran out of memory or stack: one line on stderr naming the command, what it was doing,
   * what that needed where known, what the JVM may use and how to give it more; exit 1. The
   * stack trace follows only with {@code --verbose}.
   */
  static int handleExhaustion(Error e, CommandLine top, String[] args) {
    CommandLine cl = top;
    ParseResult parsed = top.getParseResult();
    for (ParseResult p = parsed; p != null && p.subcommand() != null; p = p.subcommand()) {
      cl = p.subcommand().commandSpec().commandLine();
    }
    Work work = WORK.get();
    String what = work != null ? work.what() : "running '" + abbreviate(String.join(" ", args))
        + "'";
    PrintWriter err = cl.getErr();
    String command = cl.getCommandSpec().qualifiedName();
    if (e instanceof OutOfMemoryError) {
      long max = Runtime.getRuntime().maxMemory();
      long need = work == null ? 0 : work.bytes();
      long advice = Math.max(2 * max, need + need / 2);
      err.println(command + ": out of memory while " + what
          + (need > 0 ? " (it needs about " + megabytes(need) + ")" : "")
          + ": the JVM may use at most " + megabytes(max) + "; give it more with -Xmx, e.g. java"
          + " -Xmx" + Math.max(1, (advice + (1L << 30) - 1) >> 30) + "g -jar rnn-examples.jar ...");
    } else {
      err.println(command + ": out of stack while " + what + " (is the input nested too"
          + " deeply?); give the JVM more with -Xss, e.g. java -Xss64m -jar rnn-examples.jar ...");
    }
    if (parsed != null && VerboseOption.isSet(parsed)) {
      e.printStackTrace(err);
    }
    return cl.getCommandSpec().exitCodeOnExecutionException();
  }

  /** {@code n} bytes as {@code 256 MB} or {@code 12.8 GB}. */
  static String megabytes(long n) {
    return n >= 10L << 30 ? String.format(java.util.Locale.ROOT, "%.1f GB", n / (double) (1L << 30))
        : (n >> 20) + " MB";
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }

  /** Whether {@code e} says the input was bad, rather than that the program is. */
  static boolean isBadData(Exception e) {
    return e instanceof IOException
        || e instanceof UncheckedIOException
        || e instanceof IllegalArgumentException;
  }

  /** The one-line message for a failure, naming the file for file-system errors. */
  static String message(Exception e) {
    Exception cause = e instanceof UncheckedIOException u ? u.getCause() : e;
    if (cause instanceof NoSuchFileException f && f.getReason() == null) {
      return f.getFile() + ": no such file or directory";
    }
    if (cause instanceof AccessDeniedException f && f.getReason() == null) {
      return f.getFile() + ": permission denied";
    }
    if (cause instanceof FileAlreadyExistsException f && f.getReason() == null) {
      return f.getFile() + ": already exists";
    }
    if (cause instanceof FileSystemException f) {
      return oneLine(f.getMessage());
    }
    String m = cause.getMessage();
    return m == null || m.isBlank() ? cause.getClass().getSimpleName() : oneLine(m);
  }

  private static String suggestions(ParameterException e) {
    if (!(e instanceof UnmatchedArgumentException u)) {
      return "";
    }
    List<String> s = u.getSuggestions();
    return s.isEmpty() ? ""
        : s.stream().map(x -> "'" + x + "'")
            .collect(Collectors.joining(", ", " (did you mean ", "?)"));
  }

  private static String oneLine(String s) {
    return s.strip().replaceAll("\\s*\\R\\s*", " ");
  }

  /** The version from the build: {@code rnn-examples 0.1.0-SNAPSHOT}, then Java and picocli. */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
      Properties p = new Properties();
      try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
        if (in != null) {
          p.load(in);
        }
      }
      return new String[] {
          "rnn-examples " + p.getProperty("version", "(unknown version)"),
          "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor")
              + "), picocli " + CommandLine.VERSION};
    }
  }
}
