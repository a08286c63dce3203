package dev.rnn.dsl.spark;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkState;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;

/**
 * A real Spark standalone cluster on this machine, for tests: a {@code Master} and {@code n}
 * one-core {@code Worker}s, each its own JVM on 127.0.0.1, run from the jars of the test's own
 * class path (Spark's Maven jars), on ports chosen when it starts.
 *
 * <p>As an installed Spark would have it, the processes see a {@code SPARK_HOME} (a temporary
 * folder) whose {@code jars/} links every third-party jar of the class path; the project's own
 * classes (the {@code target/classes} folders and {@code rnn-*.jar}s of the class path) are not
 * there but packed into an application jar that the driver ships with {@code spark.jars}
 * ({@link #driverConf}), as {@code spark-submit --jars} would.
 *
 * <p>Every process it starts it stops: {@link #close} (and, should the test JVM end first, a
 * shutdown hook) ends the executors the workers started, the workers and the master, forcibly
 * after a few seconds, and deletes the folder. Every wait is bounded.
 *
 * <pre>{@code
 * try (StandaloneCluster cluster = StandaloneCluster.start(2, Duration.ofSeconds(60))) {
 *   JavaSparkContext sc = new JavaSparkContext(cluster.driverConf("test"));
 *   ...
 * }
 * }</pre>
 */
final class StandaloneCluster implements AutoCloseable {
  private static final String MASTER = "org.apache.spark.deploy.master.Master";
  private static final String WORKER = "org.apache.spark.deploy.worker.Worker";
  private static final String EXECUTOR = "org.apache.spark.executor.CoarseGrainedExecutorBackend";
  private static final String HOST = "127.0.0.1";

  private final Path home;
  private final List<Path> appJars;
  private final Map<String, Process> processes = new LinkedHashMap<>();
  private final Thread hook = new Thread(this::stopAll, "StandaloneCluster shutdown");
  private String masterUrl;

  private StandaloneCluster(Path home, List<Path> appJars) {
    this.home = home;
    this.appJars = appJars;
  }

  /**
   * Starts a master and {@code workers} workers of one core and 1 GB each and waits until every
   * worker has registered.
   *
   * @param workers the number of workers, {@code >= 1}
   * @param timeout how long the master and each worker may take to come up
   * @return the running cluster; close it
   * @throws IOException if a process cannot be started or does not come up within {@code
   *     timeout} (the message holds the end of its log); whatever was started is stopped
   */
  static StandaloneCluster start(int workers, Duration timeout) throws IOException {
    checkArgument(workers >= 1, "StandaloneCluster expected workers >= 1 but got %s", workers);
    Path home = Files.createTempDirectory("rnn-spark-");
    StandaloneCluster c = new StandaloneCluster(home, layOut(home));
    Runtime.getRuntime().addShutdownHook(c.hook);
    try {
      int port = freePort();
      c.masterUrl = "spark://" + HOST + ":" + port;
      c.launch("master", List.of(MASTER, "--host", HOST, "--port", String.valueOf(port),
          "--webui-port", String.valueOf(freePort())));
      c.await("master", "Successfully started service 'sparkMaster'", timeout);
      for (int i = 1; i <= workers; i++) {
        Path work = Files.createDirectories(home.resolve("work-" + i));
        c.launch("worker-" + i, List.of(WORKER, c.masterUrl, "--cores", "1", "--memory", "1g",
            "--host", HOST, "--port", "0", "--webui-port", String.valueOf(freePort()),
            "--work-dir", work.toString()));
      }
      for (int i = 1; i <= workers; i++) {
        c.await("worker-" + i, "Successfully registered with master", timeout);
      }
      return c;
    } catch (IOException | RuntimeException | Error e) {
      c.close();
      throw e;
    }
  }

  /** {@return the master's URL, {@code spark://127.0.0.1:PORT}} */
  String masterUrl() {
    return masterUrl;
  }

  /**
   * The configuration of a driver on this cluster: the master, driver and block manager bound
   * to 127.0.0.1, no web UI, the application jar shipped with {@code spark.jars}, executors of
   * {@code 512m}.
   *
   * @param appName the application's name
   * @return a new configuration
   */
  SparkConf driverConf(String appName) {
    return new SparkConf().setMaster(masterUrl).setAppName(appName)
        .set("spark.driver.host", HOST).set("spark.driver.bindAddress", HOST)
        .set("spark.ui.enabled", "false")
        .set("spark.executor.memory", "512m")
        .set("spark.jars", String.join(",", appJars.stream().map(p -> p.toUri().toString())
            .toList()));
  }

  /**
   * The executor processes the workers run for application {@code appId}, by executor id: the
   * workers' descendants whose main class is {@code CoarseGrainedExecutorBackend} with {@code
   * --app-id appId}.
   *
   * @param appId the application's id, {@code SparkContext.applicationId()}
   * @return the live executor processes, by executor id
   */
  Map<String, ProcessHandle> executors(String appId) {
    Map<String, ProcessHandle> found = new LinkedHashMap<>();
    for (Map.Entry<String, Process> e : processes.entrySet()) {
      if (!e.getKey().startsWith("worker")) {
        continue;
      }
      e.getValue().descendants().filter(ProcessHandle::isAlive).forEach(p -> {
        List<String> args = arguments(p);
        if (args.contains(EXECUTOR) && appId.equals(after(args, "--app-id"))) {
          found.put(after(args, "--executor-id"), p);
        }
      });
    }
    return found;
  }

  /**
   * Kills executor {@code executorId} of {@code appId} with SIGKILL ({@code kill -9}) and waits
   * until it is gone.
   *
   * @return the killed process's id
   * @throws IllegalStateException if there is no such executor or it outlives 10 s
   */
  long killExecutor(String appId, String executorId) {
    ProcessHandle p = executors(appId).get(executorId);
    checkState(p != null, "no executor %s of %s among %s", executorId, appId,
        executors(appId).keySet());
    p.destroyForcibly();
    try {
      p.onExit().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("executor " + executorId + " (pid " + p.pid()
          + ") outlived kill -9 for 10 s", e);
    }
    return p.pid();
  }

  /** {@return the last lines of every process's log and of every executor's stderr} */
  String logs() {
    StringBuilder sb = new StringBuilder();
    try (Stream<Path> files = Files.walk(home)) {
      for (Path f : files.filter(f -> f.getFileName().toString().matches(".*\\.log|stderr"))
          .sorted().toList()) {
        sb.append("==> ").append(home.relativize(f)).append('\n').append(tail(f, 20));
      }
    } catch (IOException e) {
      sb.append("(cannot read the logs: ").append(e).append(")\n");
    }
    return sb.toString();
  }

  /**
   * Stops the executors, workers and master (SIGTERM, then SIGKILL after 10 s) and deletes the
   * cluster's folder.
   */
  @Override public void close() {
    stopAll();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or will run; stopAll is idempotent
    }
  }

  private synchronized void stopAll() {
    List<Process> all = new ArrayList<>(processes.values());
    java.util.Collections.reverse(all);                        // workers before the master
    for (Process p : all) {
      p.descendants().forEach(ProcessHandle::destroyForcibly); // executors: the app is done
      p.destroy();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    for (Process p : all) {
      try {
        p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    processes.clear();
    deleteQuietly(home);
  }

  // ---- starting -------------------------------------------------------------------------------

  /**
   * Fills {@code home/jars} with links to the class path's third-party jars and returns the
   * application jars: the project's jars and one jar packed from its class folders.
   */
  private static List<Path> layOut(Path home) throws IOException {
    Path jars = Files.createDirectories(home.resolve("jars"));
    List<Path> app = new ArrayList<>();
    List<Path> folders = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path p = Path.of(entry).toAbsolutePath();
      if (Files.isDirectory(p)) {
        folders.add(p);
      } else if (Files.isRegularFile(p) && p.toString().endsWith(".jar")) {
        if (isProjects(p)) {
          app.add(p);
        } else if (!Files.exists(jars.resolve(p.getFileName()))) {
          Files.createSymbolicLink(jars.resolve(p.getFileName()), p);
        }
      }
    }
    if (!folders.isEmpty()) {
      app.add(pack(folders, home.resolve("rnn-app.jar")));
    }
    return app;
  }

  /** Whether {@code jar} is one of the project's module jars, built into a {@code target}. */
  private static boolean isProjects(Path jar) {
    return jar.getFileName().toString().startsWith("rnn-") && jar.getParent() != null
        && jar.getParent().getFileName().toString().equals("target");
  }

  /** Packs the files under {@code folders} into the jar {@code out}; the first of a name wins. */
  private static Path pack(List<Path> folders, Path out) throws IOException {
    java.util.Set<String> seen = new java.util.HashSet<>();
    try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(out))) {
      for (Path folder : folders) {
        try (Stream<Path> files = Files.walk(folder)) {
          for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
            String name = folder.relativize(f).toString().replace(File.separatorChar, '/');
            if (seen.add(name)) {
              jar.putNextEntry(new JarEntry(name));
              Files.copy(f, jar);
              jar.closeEntry();
            }
          }
        }
      }
    }
    return out;
  }

  private void launch(String name, List<String> mainAndArgs) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-cp", home.resolve("jars") + File.separator + "*",
        "-Dspark.master.rest.enabled=false"));
    cmd.addAll(mainAndArgs);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(home.resolve(name + ".log").toFile());
    pb.environment().put("SPARK_HOME", home.toString());
    pb.environment().put("SPARK_SCALA_VERSION", "2.13");
    pb.environment().put("SPARK_LOCAL_IP", HOST);
    pb.environment().remove("SPARK_CONF_DIR");
    pb.environment().remove("JDK_JAVA_OPTIONS");
    processes.put(name, pb.start());
  }

  /** Waits until {@code name}'s log holds {@code line}; fails with the log if it dies first. */
  private void await(String name, String line, Duration timeout) throws IOException {
    Path log = home.resolve(name + ".log");
    Process p = processes.get(name);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.exists(log) && Files.readString(log, StandardCharsets.ISO_8859_1).contains(line)) {
        return;
      }
      if (!p.isAlive()) {
        throw new IOException(name + " exited with " + p.exitValue() + " before logging '" + line
            + "':\n" + tail(log, 30));
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for " + name, e);
      }
    }
    throw new IOException(name + " did not log '" + line + "' within " + timeout + ":\n"
        + tail(log, 30));
  }

  /** A port free on 127.0.0.1 now (a tiny race with other processes is accepted). */
  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
      return s.getLocalPort();
    }
  }

  // ---- helpers --------------------------------------------------------------------------------

  private static List<String> arguments(ProcessHandle p) {
    Optional<String[]> args = p.info().arguments();
    if (args.isPresent()) {
      return List.of(args.get());
    }
    try {   // Linux keeps the full command line here even when info() truncates it
      byte[] raw = Files.readAllBytes(Path.of("/proc", String.valueOf(p.pid()), "cmdline"));
      return List.of(new String(raw, StandardCharsets.UTF_8).split("\0"));
    } catch (IOException | UncheckedIOException e) {
      return List.of();
    }
  }

  private static String after(List<String> args, String flag) {
    int i = args.indexOf(flag);
    return i >= 0 && i + 1 < args.size() ? args.get(i + 1) : null;
  }

  private static String tail(Path f, int lines) {
    try {
      List<String> all = Files.readAllLines(f, StandardCharsets.ISO_8859_1);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size())) + "\n";
    } catch (IOException e) {
      return "(no log: " + e + ")\n";
    }
  }

  private static void deleteQuietly(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(f);
      }
    } catch (IOException | UncheckedIOException e) {
      // a temporary folder; the OS cleans up what is left
    }
  }
}
