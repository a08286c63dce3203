package dev.rnn.examples;

import com.google.common.collect.ImmutableMap;
import com.google.gson.GsonBuilder;
import dev.rnn.autograd.Graph;
import dev.rnn.autograd.Ops;
import dev.rnn.autograd.SequenceModel;
import dev.rnn.autograd.Value;
import dev.rnn.autograd.optim.Optimizer;
import dev.rnn.autograd.optim.Sgd;
import dev.rnn.core.DType;
import dev.rnn.core.Lengths;
import dev.rnn.core.Stack;
import dev.rnn.core.Tensor;
import dev.rnn.core.TorchModule;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.ref.Reference;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.LongSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code bench} command: times training, inference and streaming of torch-shaped recurrent
 * stacks with the protocol of {@code shared/bench/torch_bench.py}, so that the two compare as a
 * ratio.
 *
 * <p>Per configuration (cell, input, hidden, layers, batch, seq), float32, batch-first input
 * {@code [batch, seq, input]}:
 *
 * <ul>
 *   <li>{@code train_step_ms}: zero the gradients, forward through the stack, a dense head
 *       (hidden to input) on every step, mean-squared error against fixed random targets, full
 *       backpropagation through time, SGD step (lr 0.01);
 *   <li>{@code inference_ms}: the same forward, recording nothing ({@link Graph#inference()});
 *   <li>{@code stream_step_us}: one time step of the stack alone, batch 1, carrying the state
 *       ({@link Stack#step}, no graph);
 *   <li>{@code peak_heap_mb}: the most Java heap live at once during a training step, in MB
 *       (10^6 bytes), above what was live before the configuration was built: the parameters and
 *       their gradients, the input and targets, the recorded graph and the scan's reused buffers,
 *       measured after full collections at the step's high points (forward done and the graph
 *       recorded; backward done, the gradients filled); {@link #liveHeap()};
 *   <li>{@code train_alloc_mb}: the heap a training step allocates, in MB, once warm (the least of
 *       five steps, by {@link com.sun.management.ThreadMXBean#getCurrentThreadAllocatedBytes()}).
 * </ul>
 *
 * <p>The two memory figures count the Java heap only, not native memory (OpenBLAS's own
 * buffers); {@code bench/torch_memory.py} measures torch's peak resident memory for the same
 * step.
 *
 * <p>{@code lstm-ragged} (run by name: {@code --configs lstm-ragged}) is a batch of 64 sequences
 * of lengths {@code 1 + (199 * i) / 63} (1 to 200) padded to 200 steps. Its {@code train_step_ms}
 * and {@code inference_ms} run the batch with its lengths (each sequence over its own steps: the
 * scan shrinks the batch as sequences end; the loss counts the real steps), as torch runs it
 * packed; {@code train_padded_ms} and {@code inference_padded_ms} run the same batch without
 * lengths over all 200 steps, the loss masked to the real steps.
 *
 * <p>Each figure is the median of at least 5 runs and at least 1 s of runs (at most 200), after
 * two warm-up calls; streaming takes 200 runs, as torch_bench.py does.
 *
 * <p>Threads: native OpenBLAS reads {@code OPENBLAS_NUM_THREADS} once, when it loads. When
 * {@code --threads} differs from that setting, the command runs itself again in a new JVM with
 * the variable set (and prints that it does). The same holds for {@code OPENBLAS_CORETYPE}:
 * OpenBLAS 0.3.21 does not recognise recent AVX-512 processors (AMD Zen 4 and 5) and falls back
 * to older kernels, or is told {@code Haswell} by the environment; with {@code --blas-core auto}
 * (the default) the command selects its AVX-512 kernels, {@code SkylakeX}, when the processor
 * has AVX-512, and says so. Give torch's OpenBLAS the same variable when comparing. At 2 or more
 * threads, {@code --blas-thread-timeout auto} (the default) sets {@code OPENBLAS_THREAD_TIMEOUT}
 * to {@value #AUTO_THREAD_TIMEOUT} when the environment does not set it: OpenBLAS's idle threads
 * then spin about 0.1 ms after a threaded call instead of about 0.1 s, so that they leave the
 * second core to the project's worker thread ({@code PackedWeight}) and to the JVM, as {@code
 * OMP_WAIT_POLICY=PASSIVE} does for torch.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    sortOptions = false,
    description = {
        "Times training, inference and streaming with the protocol of torch_bench.py.",
        "",
        "Per configuration: train_step_ms (zero grads, forward, dense head, MSE, full BPTT, SGD),"
            + " inference_ms (the same forward, nothing recorded) and stream_step_us (one step of"
            + " the stack, batch 1, state carried). Median of >= 5 runs and >= 1 s after two"
            + " warm-ups.",
        "",
        "Memory, in MB (10^6 bytes) of Java heap: peak_heap_mb (the most live at once during a"
            + " training step, above what was live before the configuration was built) and"
            + " train_alloc_mb (allocated by one warm training step).",
        "",
        "Configurations: seed, elman-s, lstm-m, gru-m, lstm-l (the default), and lstm-ragged"
            + " (by name: 64 sequences of 1 to 200 steps, with lengths and padded; also"
            + " train_padded_ms and inference_padded_ms). See shared/bench/README.md."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:every configuration ran",
        "1:a configuration failed, or FILE could not be written",
        "2:bad usage, e.g. an unknown configuration"})
final class BenchCommand implements Callable<Integer> {
  /** The configurations of the shared protocol, in its order. */
  static final ImmutableMap<String, Config> CONFIGS = ImmutableMap.of(
      "seed", new Config("seed", Stack.Mode.RNN_RELU, 2, 2, 2, 1, 3),
      "elman-s", new Config("elman-s", Stack.Mode.RNN_TANH, 32, 128, 2, 32, 64),
      "lstm-m", new Config("lstm-m", Stack.Mode.LSTM, 64, 256, 1, 64, 100),
      "gru-m", new Config("gru-m", Stack.Mode.GRU, 64, 256, 1, 64, 100),
      "lstm-l", new Config("lstm-l", Stack.Mode.LSTM, 256, 512, 2, 64, 50),
      "lstm-ragged", new Config("lstm-ragged", Stack.Mode.LSTM, 64, 256, 1, 64, 200));

  /** The configurations whose batch has sequences of different lengths. */
  static final List<String> RAGGED = List.of("lstm-ragged");

  /** Set in the environment of the JVM the command starts, so that it does not start another. */
  static final String CHILD_VARIABLE = "RNN_BENCH_CHILD";

  @Option(names = "--configs", split = ",", paramLabel = "NAME[,NAME...]",
      defaultValue = "seed,elman-s,lstm-m,gru-m,lstm-l",
      description = "Configurations to run, in this order (default: all).")
  List<String> configs;

  @Option(names = "--threads", paramLabel = "N",
      description = "OpenBLAS threads, 1 to 4 x the processor count (default:"
          + " OPENBLAS_NUM_THREADS, else the processor count). A value other than the current"
          + " setting runs the benchmark in a new JVM.")
  Integer threads;

  @Option(names = "--blas-core", paramLabel = "CORE", defaultValue = "auto",
      description = "OPENBLAS_CORETYPE for native OpenBLAS: auto (SkylakeX on an AVX-512"
          + " processor, unless OPENBLAS_CORETYPE already names an AVX-512 core), keep (leave it"
          + " as it is), or an OpenBLAS core name such as Haswell or SkylakeX.")
  String blasCore;

  @Option(names = "--blas-thread-timeout", paramLabel = "T", defaultValue = "auto",
      description = "OPENBLAS_THREAD_TIMEOUT for native OpenBLAS at 2 or more threads: how long"
          + " (2^T cycles, T 4 to 30) its idle threads spin before they sleep. auto (the"
          + " default): " + AUTO_THREAD_TIMEOUT + " unless the variable is set (OpenBLAS's own"
          + " default, 28, keeps a core busy for about 0.1 s after each threaded call, which"
          + " slows the project's worker thread and the JVM's own); keep: leave it as it is.")
  String blasThreadTimeout;

  @Option(names = "--json", paramLabel = "FILE",
      description = "Also write the results as a JSON list, as torch_bench.py --json does; - for"
          + " standard output.")
  Path json;

  @Option(names = "--cpu-clock", hidden = true,
      description = "Time with the thread's CPU clock instead of the wall clock: for comparing"
          + " changes on a loaded machine with one thread; not the shared protocol.")
  boolean cpuClock;

  @Spec
  CommandSpec spec;

  /**
   * The {@code OPENBLAS_THREAD_TIMEOUT} {@code --blas-thread-timeout auto} sets at 2 or more
   * threads: OpenBLAS's idle threads spin {@code 2^18} cycles (about 0.1 ms) before they sleep,
   * instead of {@code 2^28} (about 0.1 s), the counterpart of {@code OMP_WAIT_POLICY=PASSIVE},
   * which the protocol gives torch.
   */
  static final int AUTO_THREAD_TIMEOUT = 18;

  /**
   * One configuration of the protocol.
   *
   * @param name its name, e.g. {@code lstm-m}
   * @param mode the torch module
   */
  record Config(String name, Stack.Mode mode, int input, int hidden, int layers,
      int batch, int seq) {
    /** The cell name as torch_bench.py writes it: {@code rnn_relu}, {@code lstm}, ... */
    String cell() {
      return mode.torchName();
    }

    /**
     * The lengths of a ragged configuration's sequences, {@code 1 + (seq - 1) * i / (batch - 1)}
     * as torch_bench.py's {@code ragged_lengths}; null for the others.
     */
    int[] lengths() {
      if (!RAGGED.contains(name)) {
        return null;
      }
      int[] l = new int[batch];
      for (int i = 0; i < batch; i++) {
        l[i] = 1 + (seq - 1) * i / (batch - 1);
      }
      return l;
    }
  }

  /**
   * The figures of one configuration; the padded ones NaN but for a ragged configuration.
   */
  record Result(Config config, int threads, double trainStepMs, double inferenceMs,
      double streamStepUs, double trainPaddedMs, double inferencePaddedMs, Memory memory) {
    /** The JSON object, keys as torch_bench.py writes them. */
    Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("config", config.name());
      m.put("threads", threads);
      m.put("cell", config.cell());
      m.put("input", config.input());
      m.put("hidden", config.hidden());
      m.put("layers", config.layers());
      m.put("batch", config.batch());
      m.put("seq", config.seq());
      m.put("train_step_ms", trainStepMs);
      m.put("inference_ms", inferenceMs);
      m.put("stream_step_us", streamStepUs);
      m.put("peak_heap_mb", memory.peakHeapMb());
      m.put("train_alloc_mb", memory.trainAllocMb());
      if (config.lengths() != null) {
        m.put("train_padded_ms", trainPaddedMs);
        m.put("inference_padded_ms", inferencePaddedMs);
        m.put("lengths", config.lengths());
      }
      return m;
    }
  }

  /**
   * OpenBLAS core names {@code --blas-core} accepts besides {@code auto} and {@code keep}, in any
   * case: the x86-64 and ARM64 cores of OpenBLAS's {@code DYNAMIC_ARCH} builds.
   */
  static final List<String> BLAS_CORES = List.of("Prescott", "Core2", "Penryn", "Dunnington",
      "Nehalem", "Sandybridge", "Haswell", "SkylakeX", "CooperLake", "SapphireRapids", "Atom",
      "Athlon", "Opteron", "Opteron_SSE3", "Barcelona", "Bobcat", "Bulldozer", "Piledriver",
      "Steamroller", "Excavator", "Zen", "ARMV8", "CortexA53", "CortexA55", "CortexA57",
      "CortexA72", "CortexA73", "NeoverseN1", "NeoverseN2", "NeoverseV1", "ThunderX",
      "ThunderX2T99", "TSV110", "EMAG8180", "Falkor", "A64FX");

  @Override
  public Integer call() throws IOException, InterruptedException {
    List<Config> chosen = chosenConfigs();
    int current = configuredThreads();
    int wanted = threads == null ? current : threads;
    int most = 4 * Runtime.getRuntime().availableProcessors();
    if (wanted < 1 || wanted > most) {
      throw new ParameterException(spec.commandLine(), "--threads expected 1 to " + most + " (4 x"
          + " the " + most / 4 + " cores) but got " + wanted);
    }
    checkBlasCore();
    String timeout = wantedThreadTimeout(wanted);
    if (json != null && !OutputFile.isStandardOutput(json)) {
      OutputFile.checkTarget(json); // before minutes of benchmarking, not after
    }
    String core = wantedCore();
    boolean nativeBlas = Tensor.blasImplementation().equals("JNIBLAS");
    PrintWriter err = spec.commandLine().getErr();
    if (nativeBlas && System.getenv(CHILD_VARIABLE) == null
        && (wanted != current || !core.equals(envOr("OPENBLAS_CORETYPE", ""))
            || !timeout.equals(envOr("OPENBLAS_THREAD_TIMEOUT", "")))) {
      err.printf("bench: running in a new JVM with OPENBLAS_NUM_THREADS=%d%s%s (OpenBLAS reads"
              + " them when it loads)%n", wanted,
          core.isEmpty() ? "" : " OPENBLAS_CORETYPE=" + core,
          timeout.isEmpty() ? "" : " OPENBLAS_THREAD_TIMEOUT=" + timeout);
      return runInNewJvm(wanted, core, timeout);
    }
    if (!nativeBlas && threads != null) {
      err.printf("bench: warning: --threads %d has no effect on %s (pure Java BLAS, one thread)%n",
          threads, Tensor.blasImplementation());
    }
    PrintWriter out = spec.commandLine().getOut();
    out.printf("blas: %s, OPENBLAS_NUM_THREADS=%s, OPENBLAS_CORETYPE=%s,"
            + " OPENBLAS_THREAD_TIMEOUT=%s, java %s; kernels: %s%n",
        Tensor.blasImplementation(), envOr("OPENBLAS_NUM_THREADS", "(unset)"),
        envOr("OPENBLAS_CORETYPE", "(unset)"), envOr("OPENBLAS_THREAD_TIMEOUT", "(unset)"),
        System.getProperty("java.version"),
        Tensor.nativeKernels());
    out.printf("%-8s %7s %14s %13s %15s %13s %15s%n", "config", "threads", "train_step_ms",
        "inference_ms", "stream_step_us", "peak_heap_mb", "train_alloc_mb");
    // A pure-Java BLAS computes on the calling thread only.
    int used = nativeBlas ? wanted : 1;
    List<Result> results = new ArrayList<>();
    for (Config c : chosen) {
      Main.working("benchmarking " + c.name(), 0);
      Result r = run(c, used, cpuClock);
      results.add(r);
      out.printf(Locale.ROOT, "%-8s %7d %14.3f %13.3f %15.1f %13.3f %15.3f%n", c.name(),
          r.threads(), r.trainStepMs(), r.inferenceMs(), r.streamStepUs(),
          r.memory().peakHeapMb(), r.memory().trainAllocMb());
      if (c.lengths() != null) {
        out.printf(Locale.ROOT, "%-8s %7s %14.3f %13.3f   (padded to %d steps, loss masked:"
                + " train_padded_ms, inference_padded_ms; packed/padded %.2f, %.2f)%n", "", "",
            r.trainPaddedMs(), r.inferencePaddedMs(), c.seq(), r.trainStepMs() / r.trainPaddedMs(),
            r.inferenceMs() / r.inferencePaddedMs());
      }
      out.flush();
    }
    if (json != null) {
      List<Map<String, Object>> rows = new ArrayList<>();
      for (Result r : results) {
        rows.add(r.toJson());
      }
      String text = new GsonBuilder().setPrettyPrinting().create().toJson(rows) + "\n";
      OutputFile.write(json, o -> o.write(text.getBytes(StandardCharsets.UTF_8)),
          Main.standardOutput(spec));
    }
    return 0;
  }

  /** The configurations named by --configs, or a usage error naming the unknown one. */
  private List<Config> chosenConfigs() {
    List<Config> chosen = new ArrayList<>();
    for (String name : configs) {
      Config c = CONFIGS.get(name.strip());
      if (c == null) {
        throw new ParameterException(spec.commandLine(), "unknown config '" + name
            + "'; expected one of " + String.join(", ", CONFIGS.keySet()));
      }
      chosen.add(c);
    }
    return chosen;
  }

  /** Refuses a {@code --blas-core} that is neither auto, keep nor a core OpenBLAS knows. */
  private void checkBlasCore() {
    if (blasCore.equals("auto") || blasCore.equals("keep")) {
      return;
    }
    for (String c : BLAS_CORES) {
      if (c.equalsIgnoreCase(blasCore)) {
        blasCore = c;
        return;
      }
    }
    throw new ParameterException(spec.commandLine(), "unknown --blas-core '" + blasCore
        + "'; expected auto, keep or an OpenBLAS core: " + String.join(", ", BLAS_CORES));
  }

  /**
   * The OPENBLAS_THREAD_TIMEOUT to run {@code threads} OpenBLAS threads with: empty for none
   * (one thread has no idle threads to tell), or a usage error for a bad value.
   */
  private String wantedThreadTimeout(int threads) {
    String env = envOr("OPENBLAS_THREAD_TIMEOUT", "");
    switch (blasThreadTimeout) {
      case "keep":
        return env;
      case "auto":
        return threads < 2 || !env.isEmpty() ? env : Integer.toString(AUTO_THREAD_TIMEOUT);
      default:
        try {
          int t = Integer.parseInt(blasThreadTimeout.strip());
          if (t >= 4 && t <= 30) {
            return Integer.toString(t);
          }
        } catch (NumberFormatException e) {
          // the usage error below
        }
        throw new ParameterException(spec.commandLine(), "--blas-thread-timeout expected auto,"
            + " keep or 4 to 30 but got '" + blasThreadTimeout + "'");
    }
  }

  /** The OpenBLAS thread count the environment gives, as OpenBLAS reads it. */
  static int configuredThreads() {
    int cpus = Runtime.getRuntime().availableProcessors();
    for (String v : List.of("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")) {
      String s = System.getenv(v);
      if (s != null && !s.isBlank()) {
        try {
          int n = Integer.parseInt(s.strip());
          if (n > 0) {
            return Math.min(n, cpus);
          }
        } catch (NumberFormatException e) {
          // OpenBLAS ignores it too
        }
      }
    }
    return cpus;
  }

  /** The OPENBLAS_CORETYPE to run with: empty for none. */
  private String wantedCore() throws IOException {
    String env = envOr("OPENBLAS_CORETYPE", "");
    switch (blasCore) {
      case "keep":
        return env;
      case "auto":
        if (!hasAvx512() || AVX512_CORES.contains(env.toLowerCase(Locale.ROOT))) {
          return env;
        }
        if (!env.isEmpty()) {
          spec.commandLine().getErr().printf("bench: OPENBLAS_CORETYPE=%s replaced by SkylakeX:"
              + " this processor has AVX-512 (--blas-core keep keeps it)%n", env);
        }
        return "SkylakeX";
      default:
        return blasCore;
    }
  }

  /** OpenBLAS core names with AVX-512 kernels, lower case. */
  private static final List<String> AVX512_CORES =
      List.of("skylakex", "cooperlake", "sapphirerapids");

  /** Whether /proc/cpuinfo lists the AVX-512 subsets OpenBLAS's SkylakeX kernels use. */
  private static boolean hasAvx512() throws IOException {
    Path info = Path.of("/proc/cpuinfo");
    if (!Files.isReadable(info)) {
      return false;
    }
    for (String line : Files.readAllLines(info)) {
      if (line.startsWith("flags")) {
        List<String> flags = Arrays.asList(line.split("\\s+"));
        return flags.containsAll(List.of("avx512f", "avx512dq", "avx512bw", "avx512vl"));
      }
    }
    return false;
  }

  private static String envOr(String name, String fallback) {
    String v = System.getenv(name);
    return v == null ? fallback : v;
  }

  /**
   * Runs this command again in a new JVM, same JVM options and class path, with the OpenBLAS
   * variables set; its output goes to this command's output.
   */
  private int runInNewJvm(int n, String core, String timeout)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.add("bench");
    cmd.add("--configs");
    cmd.add(String.join(",", configs));
    cmd.add("--threads");
    cmd.add(Integer.toString(n));
    cmd.add("--blas-core");
    cmd.add("keep");
    cmd.add("--blas-thread-timeout");
    cmd.add("keep");
    if (cpuClock) {
      cmd.add("--cpu-clock");
    }
    if (json != null) {
      cmd.add("--json");
      cmd.add(OutputFile.isStandardOutput(json) ? OutputFile.STANDARD_OUTPUT
          : json.toAbsolutePath().toString());
    }
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("OPENBLAS_NUM_THREADS", Integer.toString(n));
    if (core.isEmpty()) {
      pb.environment().remove("OPENBLAS_CORETYPE");
    } else {
      pb.environment().put("OPENBLAS_CORETYPE", core);
    }
    if (timeout.isEmpty()) {
      pb.environment().remove("OPENBLAS_THREAD_TIMEOUT");
    } else {
      pb.environment().put("OPENBLAS_THREAD_TIMEOUT", timeout);
    }
    pb.environment().put(CHILD_VARIABLE, "1");
    Process p = pb.start();
    p.getOutputStream().close();
    Thread o = pump(p.getInputStream(), spec.commandLine().getOut());
    Thread e = pump(p.getErrorStream(), spec.commandLine().getErr());
    int code = p.waitFor();
    o.join();
    e.join();
    return code;
  }

  private static Thread pump(InputStream in, PrintWriter to) {
    Thread t = new Thread(() -> {
      try (Reader r = new InputStreamReader(in, Charset.defaultCharset())) {
        char[] buf = new char[8192];
        for (int n; (n = r.read(buf)) >= 0; ) {
          to.write(buf, 0, n);
          to.flush();
        }
      } catch (IOException ex) {
        throw new UncheckedIOException(ex);
      }
    }, "bench-output");
    t.start();
    return t;
  }

  /**
   * The memory figures of one configuration's training step.
   *
   * @param peakHeapBytes the most heap live at once during the step, above the heap live before
   *     the configuration was built
   * @param trainAllocBytes the heap one warm step allocates
   */
  record Memory(long peakHeapBytes, long trainAllocBytes) {
    /** {@return the peak in MB, 10^6 bytes} */
    double peakHeapMb() {
      return peakHeapBytes / 1e6;
    }

    /** {@return the allocation per step in MB, 10^6 bytes} */
    double trainAllocMb() {
      return trainAllocBytes / 1e6;
    }
  }

  /**
   * Times the figures of {@code c} and measures its training step's memory, on a new thread: the
   * scan's buffers are pooled per thread, so that a configuration neither reuses the idle buffers
   * of the ones before it (which its peak would then leave out) nor counts them.
   */
  static Result run(Config c, int threads, boolean cpuClock) {
    Result[] result = new Result[1];
    Throwable[] failure = new Throwable[1];
    Thread t = new Thread(() -> result[0] = runHere(c, threads, cpuClock), "bench-" + c.name());
    t.setUncaughtExceptionHandler((th, e) -> failure[0] = e);
    t.start();
    try {
      t.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("bench: interrupted while running " + c.name(), e);
    }
    if (failure[0] instanceof RuntimeException e) {
      throw e;
    } else if (failure[0] instanceof Error e) {
      throw e;
    } else if (failure[0] != null) {
      throw new IllegalStateException(failure[0]);
    }
    return result[0];
  }

  /** {@link #run} on this thread. */
  private static Result runHere(Config c, int threads, boolean cpuClock) {
    LongSupplier clock = cpuClock ? ManagementFactory.getThreadMXBean()::getCurrentThreadCpuTime
        : System::nanoTime;
    long before = liveHeap();
    Stack stack = new Stack(TorchModule.of(c.mode(), c.input(), c.hidden()).numLayers(c.layers()))
        .initialize(0);
    StackModel model = new StackModel(stack, c.input(), 1);
    Optimizer sgd = Sgd.builder().lr(0.01).build(model.parameters());
    Tensor x = Tensor.randn(DType.FLOAT32, 2, c.batch(), c.seq(), c.input());
    Tensor y = Tensor.randn(DType.FLOAT32, 3, c.batch(), c.seq(), c.input());
    double train;
    double infer;
    double trainPadded = Double.NaN;
    double inferPadded = Double.NaN;
    Memory memory;
    if (c.lengths() == null) {
      train = median(clock, () -> trainStep(model, sgd, x, y), 5, 1.0);
      infer = median(clock, () -> forward(model, Graph.inference(), x), 5, 1.0);
      memory = memory(sgd, g -> Ops.mse(g, forward(model, g, x), y, null), before);
    } else {
      // Packed, as torch_bench.py: the stack with lengths, head and MSE on the real rows only.
      Lengths lengths = Lengths.of(c.lengths());
      Tensor packedY = lengths.pack(y.transpose(0, 1));
      Function<Graph, Value> packedLoss =
          g -> Ops.mse(g, packedForward(model, g, x, lengths), packedY, null);
      train = median(clock, () -> {
        sgd.zeroGrad();
        Graph g = Graph.training();
        g.backward(packedLoss.apply(g));
        sgd.step();
      }, 5, 1.0);
      infer = median(clock, () -> packedForward(model, Graph.inference(), x, lengths), 5, 1.0);
      memory = memory(sgd, packedLoss, before);
      // Padded: the whole 200 steps, the loss masked to the real steps.
      Tensor mask = lengths.mask(DType.FLOAT32, c.seq(), true);
      trainPadded = median(clock, () -> trainStep(model, sgd, x, y, mask), 5, 1.0);
      inferPadded = median(clock, () -> forward(model, Graph.inference(), x), 5, 1.0);
    }
    Tensor x1 = Tensor.randn(DType.FLOAT32, 4, 1, c.input());
    Tensor[] state = new Tensor[2];
    double stream = median(clock, () -> {
      Stack.Result r = stack.step(x1, state[0], state[1]);
      state[0] = r.hN();
      state[1] = r.cN();
    }, 200, 0.5);
    return new Result(c, threads, train * 1e3, infer * 1e3, stream * 1e6, trainPadded * 1e3,
        inferPadded * 1e3, memory);
  }

  /**
   * The memory of the training step whose loss {@code lossOf} records (zero the gradients,
   * forward and loss, backward, the optimizer's step), warm: the least allocation of five steps,
   * then one step with full collections at its high points, forward recorded and backward done,
   * whose larger live heap above {@code before} is the peak.
   */
  static Memory memory(Optimizer opt, Function<Graph, Value> lossOf, long before) {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long alloc = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      long a0 = threads.getCurrentThreadAllocatedBytes();
      opt.zeroGrad();
      Graph g = Graph.training();
      g.backward(lossOf.apply(g));
      opt.step();
      alloc = Math.min(alloc, threads.getCurrentThreadAllocatedBytes() - a0);
    }
    opt.zeroGrad();
    Graph g = Graph.training();
    Value loss = lossOf.apply(g);
    long forwardDone = liveHeap();
    g.backward(loss);
    long backwardDone = liveHeap();
    opt.step();
    Reference.reachabilityFence(g);
    return new Memory(Math.max(0, Math.max(forwardDone, backwardDone) - before), alloc);
  }

  /**
   * The heap live now: used after full collections (two, so that objects freed by the first's
   * reference processing are gone too). Idle buffers of the scan's pool, softly reachable, are
   * kept by a collection while the heap has room, and so counted: the next call reuses them.
   */
  static long liveHeap() {
    MemoryMXBean heap = ManagementFactory.getMemoryMXBean();
    System.gc();
    System.gc();
    return heap.getHeapMemoryUsage().getUsed();
  }

  /** One training step of the protocol. */
  static void trainStep(SequenceModel model, Optimizer sgd, Tensor x, Tensor y) {
    trainStep(model, sgd, x, y, null);
  }

  /** One training step, the loss over the steps {@code mask} counts ({@code [N, T]}, or all). */
  static void trainStep(SequenceModel model, Optimizer sgd, Tensor x, Tensor y, Tensor mask) {
    sgd.zeroGrad();
    Graph g = Graph.training();
    Value loss = Ops.mse(g, forward(model, g, x), y, mask);
    g.backward(loss);
    sgd.step();
  }

  /** The protocol's forward: batch-first in, stack and head time-major, batch-first out. */
  static Value forward(SequenceModel model, Graph g, Tensor x) {
    Value in = g.constant(x, 0, 1);
    Value out = model.forward(g, in, null, 0).output();
    return Ops.swapBatchAndTime(g, out);
  }

  /**
   * The packed forward of a ragged configuration: batch-first in, the stack with lengths, the
   * head on the real rows ({@code [R, input]}, {@link Ops#pack}'s order).
   */
  static Value packedForward(StackModel model, Graph g, Tensor x, Lengths lengths) {
    return model.packedForward(g, g.constant(x, 0, 1), lengths);
  }

  /**
   * The median time of {@code fn} in seconds, as torch_bench.py's {@code timeit}: two warm-up
   * calls, then runs until at least {@code minRuns} and {@code minSeconds}, at most 200.
   */
  static double median(LongSupplier clock, Runnable fn, int minRuns, double minSeconds) {
    fn.run();
    fn.run();
    List<Double> times = new ArrayList<>();
    long start = clock.getAsLong();
    while (times.size() < minRuns || (clock.getAsLong() - start) * 1e-9 < minSeconds) {
      long t0 = clock.getAsLong();
      fn.run();
      times.add((clock.getAsLong() - t0) * 1e-9);
      if (times.size() >= 200) {
        break;
      }
    }
    double[] t = times.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int n = t.length;
    return n % 2 == 1 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
  }
}
