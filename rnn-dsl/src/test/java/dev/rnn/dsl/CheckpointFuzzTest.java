package dev.rnn.dsl;

import static dev.rnn.dsl.Rnn.network;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.stream.JsonWriter;
import dev.rnn.core.Activation;
import dev.rnn.core.DType;
import dev.rnn.core.SafetensorsException;
import dev.rnn.core.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Seeded mutation fuzzing of checkpoint loading ({@link Checkpoint#load(byte[], String)}, what
 * {@link Rnn#load} does with a file's bytes): every mutant of a set of saved networks either loads
 * (and then runs forward) or is refused with a {@link SafetensorsException} whose one line names
 * the file, never another exception, an {@link OutOfMemoryError} or a hang.
 *
 * <p>The spec string in the metadata and the tensor table are mutated together: numbers in the
 * spec made huge, zero, negative or other scripts' digits, with the table's shapes and offsets
 * following the new sizes or not; layers and modifiers added, removed, duplicated or chained into
 * networks of billions of parameters; the spec made a megabyte long; options contradicting the
 * spec; metadata keys given twice or removed; shapes, dtypes, names and offsets of the table
 * changed; and bytes flipped, inserted, cut and the header length changed. Mutant {@code i}
 * depends only on the seed and {@code i}.
 *
 * <p>The normal suite runs {@value #DEFAULT_ITERATIONS} mutants; the long run, with the heap held
 * to 256 MB (the JVM that surefire starts reads {@code JDK_JAVA_OPTIONS}):
 *
 * <pre>{@code
 * JDK_JAVA_OPTIONS=-Xmx256m mvn -B -o verify -pl rnn-dsl -am -Dtest=CheckpointFuzzTest \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Drnn.fuzz.iterations=1000000 -Drnn.fuzz.seed=1
 * }</pre>
 *
 * <p>The counts (loaded, refused by kind of message, the slowest mutant, the heap's peaks from
 * the collector's notifications) are printed on stdout. The documented long run, 1,000,000
 * mutants with seed 1 under {@code -Xmx256m} (232 s on two shared cores): 114,058 loaded and ran
 * forward; 885,942 refused, 522,326 by the safetensors reader and 363,616 by the checkpoint's own
 * checks (among them 47,365 by the size limits and 21,821 for a NaN or infinite weight); no other
 * exception, no {@link OutOfMemoryError}; at most 227 MB of heap in use, slowest mutant 120 ms.
 */
class CheckpointFuzzTest {
  static final int DEFAULT_ITERATIONS = 3000;
  static final int ITERATIONS = Integer.getInteger("rnn.fuzz.iterations", DEFAULT_ITERATIONS);
  static final long SEED = Long.getLong("rnn.fuzz.seed", 0xC4EC4901L);
  private static final int BATCH = 500;
  private static final Duration BATCH_TIMEOUT = Duration.ofSeconds(60);
  private static final int FAILURES_SHOWN = 10;

  /** A checkpoint taken apart: its metadata in order, its table and its data. */
  record Parts(List<String[]> metadata, List<Entry> entries, byte[] data) {
    Parts copy() {
      List<String[]> m = new ArrayList<>();
      metadata.forEach(kv -> m.add(kv.clone()));
      return new Parts(m, new ArrayList<>(entries), data);
    }

    String get(String key) {
      for (String[] kv : metadata) {
        if (kv[0].equals(key)) {
          return kv[1];
        }
      }
      return null;
    }

    void set(String key, String value) {
      for (String[] kv : metadata) {
        if (kv[0].equals(key)) {
          kv[1] = value;
        }
      }
    }
  }

  /** One row of the tensor table, as written: any dtype string, any shape, any offsets. */
  record Entry(String name, String dtype, long[] shape, long begin, long end) {
    long elements() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return n;
    }
  }

  private static final List<String> names = new ArrayList<>();
  private static final List<Parts> originals = new ArrayList<>();

  @BeforeAll
  static void saveNetworks() {
    Map<String, Supplier<NetworkBuilder>> nets = new LinkedHashMap<>();
    nets.put("seed-states", () -> network().recurrent(2, 2).relu().recurrent(2, 1)
        .stacking(Stacking.STATES));
    nets.put("lstm-bidirectional-dense", () -> network().lstm(3, 4).bidirectional().dense(8, 2));
    nets.put("gru-nobias-learned", () -> network().gru(2, 3).noBias().learnableInitialState());
    nets.put("peepholes-f64", () -> network().lstm(2, 3).peepholes().dtype(DType.FLOAT64));
    nets.put("elman-handoff-batchfirst", () -> network().elman(2, 3, Activation.TANH)
        .elman(3, 3, Activation.RELU).handOffStates().batchFirst());
    nets.put("dropout-last-step", () -> network().gru(3, 4).dropout(0.25).dense(4, 2)
        .lastStep());
    nets.put("dense-only", () -> network().dense(3, 2).tanh().dense(2, 2));
    for (Map.Entry<String, Supplier<NetworkBuilder>> e : nets.entrySet()) {
      Network net = e.getValue().get().seed(names.size() + 1).build();
      List<String[]> metadata = new ArrayList<>();
      Checkpoint.metadata(net).forEach((k, v) -> metadata.add(new String[] {k, v}));
      List<Entry> entries = new ArrayList<>();
      ByteBuffer data = ByteBuffer.allocate((int) (net.parameterCount() * 8))
          .order(ByteOrder.LITTLE_ENDIAN);
      for (Map.Entry<String, dev.rnn.core.Parameter> p : net.namedParameters().entrySet()) {
        Tensor t = p.getValue().value();
        long begin = data.position();
        for (int i = 0; i < t.size(); i++) {
          if (t.dtype() == DType.FLOAT32) {
            data.putFloat((float) t.at(i));
          } else {
            data.putDouble(t.at(i));
          }
        }
        entries.add(new Entry(p.getKey(), t.dtype().safetensorsName(),
            Arrays.stream(t.shape().dims()).asLongStream().toArray(), begin, data.position()));
      }
      names.add(e.getKey() + ".safetensors");
      originals.add(new Parts(metadata, entries, Arrays.copyOf(data.array(), data.position())));
    }
  }

  @Test
  void theOriginalsLoad() {
    for (int c = 0; c < originals.size(); c++) {
      Network net = Checkpoint.load(render(originals.get(c)), names.get(c));
      assertTrue(net.parameterCount() > 0, names.get(c));
    }
  }

  /** What the mutants came to. */
  private static final class Tally {
    int mutants;
    int loaded;
    final Map<String, Integer> rejected = new TreeMap<>();
    final Map<String, Integer> failed = new TreeMap<>();
    final List<String> failures = new ArrayList<>();
    int failureCount;
    long slowestNanos;
    String slowest = "none";
    /**
     * The most heap in use: before each collection (what the collector found), and after each
     * mutant.
     */
    final java.util.concurrent.atomic.AtomicLong peakHeap =
        new java.util.concurrent.atomic.AtomicLong();
    /** The most heap still in use after a collection: what the mutants held alive at most. */
    final java.util.concurrent.atomic.AtomicLong peakLive =
        new java.util.concurrent.atomic.AtomicLong();

    void fail(int i, String what, Throwable t) {
      failureCount++;
      failed.merge(t.getClass().getSimpleName() + ": " + kind(String.valueOf(t.getMessage())), 1,
          Integer::sum);
      if (failures.size() < FAILURES_SHOWN) {
        StringWriter trace = new StringWriter();
        t.printStackTrace(new PrintWriter(trace));
        failures.add("mutant " + i + " (" + what + "): " + trace.toString().lines().limit(10)
            .reduce((a, b) -> a + "\n  " + b).orElse(""));
      }
    }
  }

  @Test
  void everyMutantLoadsOrIsRefusedWithASafetensorsException() {
    Tally tally = new Tally();
    List<Runnable> stopListening = listenToCollections(tally);
    AtomicReference<String> current = new AtomicReference<>("none yet");
    long start = System.nanoTime();
    for (int from = 0; from < ITERATIONS; from += BATCH) {
      int to = Math.min(ITERATIONS, from + BATCH);
      int batchStart = from;
      assertTimeoutPreemptively(BATCH_TIMEOUT, () -> {
        for (int i = batchStart; i < to; i++) {
          run(i, tally, current);
        }
      }, () -> "mutants [" + batchStart + ", " + to + ") took over " + BATCH_TIMEOUT
          + "; the last one started: " + current.get());
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    stopListening.forEach(Runnable::run);
    System.out.println(report(tally, seconds));
    int rejections = tally.rejected.values().stream().mapToInt(Integer::intValue).sum();
    assertAll(
        () -> assertEquals(0, tally.failureCount, () -> tally.failureCount
            + " mutants threw something other than SafetensorsException (seed " + SEED + "):\n"
            + String.join("\n", tally.failures)),
        () -> assertEquals(ITERATIONS, tally.mutants),
        () -> assertEquals(tally.mutants, rejections + tally.loaded + tally.failureCount),
        () -> assertTrue(ITERATIONS < 200 || tally.loaded > 0, "no mutant loaded"),
        () -> assertTrue(ITERATIONS < 200 || rejections > 0, "no mutant was refused"));
  }

  /**
   * Records in {@code tally} the heap in use before every garbage collection: the heap's peaks.
   * Returns what removes the listeners.
   */
  private static List<Runnable> listenToCollections(Tally tally) {
    List<Runnable> removers = new ArrayList<>();
    for (java.lang.management.GarbageCollectorMXBean gc
        : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (!(gc instanceof javax.management.NotificationEmitter emitter)) {
        continue;
      }
      javax.management.NotificationListener listener = (n, handback) -> {
        if (n.getType().equals(com.sun.management.GarbageCollectionNotificationInfo
            .GARBAGE_COLLECTION_NOTIFICATION)) {
          com.sun.management.GarbageCollectionNotificationInfo info =
              com.sun.management.GarbageCollectionNotificationInfo.from(
                  (javax.management.openmbean.CompositeData) n.getUserData());
          long before = info.getGcInfo().getMemoryUsageBeforeGc().values().stream()
              .mapToLong(java.lang.management.MemoryUsage::getUsed).sum();
          tally.peakHeap.accumulateAndGet(before, Math::max);
          long after = info.getGcInfo().getMemoryUsageAfterGc().values().stream()
              .mapToLong(java.lang.management.MemoryUsage::getUsed).sum();
          tally.peakLive.accumulateAndGet(after, Math::max);
        }
      };
      emitter.addNotificationListener(listener, null, null);
      removers.add(() -> {
        try {
          emitter.removeNotificationListener(listener);
        } catch (javax.management.ListenerNotFoundException e) {
          throw new AssertionError(e);
        }
      });
    }
    return removers;
  }

  private static void run(int i, Tally tally, AtomicReference<String> current) {
    Random rnd = new Random(SEED * 0x9E3779B97F4A7C15L + i);
    int c = rnd.nextInt(originals.size());
    List<String> applied = new ArrayList<>();
    Parts parts = originals.get(c).copy();
    int n = 1 + rnd.nextInt(3);
    byte[] bytes = null;
    for (int k = 0; k < n; k++) {
      if (bytes == null && rnd.nextInt(100) < 80) {
        parts = mutateParts(parts, rnd, applied);
      } else {
        bytes = mutateBytes(bytes == null ? render(parts) : bytes, rnd, applied);
      }
    }
    if (bytes == null) {
      bytes = render(parts);
    }
    String name = names.get(c);
    String what = name + " with " + String.join(", then ", applied);
    current.set("mutant " + i + " (" + abbreviate(what) + ")");
    tally.mutants++;
    long t0 = System.nanoTime();
    try {
      Network net = Checkpoint.load(bytes, name);
      Tensor x = Tensor.zeros(net.dtype(), 2, 1, net.inputSize());
      net.forward(x);
      tally.loaded++;
    } catch (SafetensorsException e) {
      String m = e.getMessage();
      if (m.startsWith(name) && !LINE_BREAK.matcher(m).find()) {
        tally.rejected.merge(kind(m), 1, Integer::sum);
      } else {
        tally.fail(i, what, new AssertionError("message is not one line naming the file: " + m,
            e));
      }
    } catch (Throwable t) {
      tally.fail(i, abbreviate(what), t);
    } finally {
      long nanos = System.nanoTime() - t0;
      tally.peakHeap.accumulateAndGet(HEAP.getHeapMemoryUsage().getUsed(), Math::max);
      if (nanos > tally.slowestNanos) {
        tally.slowestNanos = nanos;
        tally.slowest = current.get();
      }
    }
  }

  private static final Pattern LINE_BREAK = Pattern.compile("\\R|\\p{Cntrl}");
  private static final MemoryMXBean HEAP = ManagementFactory.getMemoryMXBean();

  // ---- mutations of the parts: the spec and the table together ------------------------------

  private static final String[] SIZES = {"0", "-1", "1", "2", "3", "7", "8", "40000",
      "536870912", "1073741824", "2147483647", "2147483648", "99999999999", "\u0662",
      "\u0663", "\uff12", "1e3", "3.0", "+2", " 2 "};

  private static final String[] LAYERS = {"recurrent(2, 2)", "relu()", "tanh()", "sigmoid()",
      "lstm(2, 2)", "gru(2, 3)", "elman(2, 2, tanh)", "dense(2, 2)", "dropout(0.5)",
      "lastStep()", "bidirectional()", "noBias()", "peepholes()", "learnableInitialState()",
      "stacking(states)", "stacking(outputs)", "handOffStates()", "batchFirst()",
      "dropout(NaN)", "dropout(1e-400)", "recurrent(٢,٢)", "network()"};

  private static final String[] BOMBS = {"dense(2, 1000000000)", "recurrent(1, 40000)",
      "lstm(1, 1073741824)", "lstm(1, 536870912)", "gru(8000, 8000)",
      String.join(".", Collections.nCopies(41, "recurrent(8000, 8000)")),
      String.join(".", Collections.nCopies(16, "recurrent(8000, 8000)"))};

  private static final String[] METADATA_VALUES = {"", "true", "false", "True", "states",
      "outputs", "STATES", "float32", "float64", "float16", "rnn-network/1", "rnn-network/2",
      "rnn-torch-case/1", "yes", "1", "\u0000"};

  private static final Pattern INTEGER = Pattern.compile("[0-9]+");

  private static Parts mutateParts(Parts p, Random rnd, List<String> applied) {
    String spec = p.get("spec");
    switch (rnd.nextInt(12)) {
      case 0:
      case 1: {
        if (spec == null) {
          applied.add("no spec to resize");
          return p;
        }
        List<int[]> numbers = matches(INTEGER, spec);
        if (numbers.isEmpty()) {
          applied.add("no number in the spec");
          return p;
        }
        int[] at = numbers.get(rnd.nextInt(numbers.size()));
        String old = spec.substring(at[0], at[1]);
        String to = SIZES[rnd.nextInt(SIZES.length)];
        p.set("spec", spec.substring(0, at[0]) + to + spec.substring(at[1]));
        boolean follow = rnd.nextBoolean() && INTEGER.matcher(to.strip()).matches()
            && to.strip().length() < 12;
        applied.add("spec size " + old + " made " + to + (follow ? " in the table too" : ""));
        if (follow) {
          followInTable(p, Long.parseLong(old), Long.parseLong(to.strip()), rnd.nextBoolean());
        }
        return p;
      }
      case 2: {
        if (spec == null) {
          applied.add("no spec to add to");
          return p;
        }
        List<String> layers = new ArrayList<>(Arrays.asList(spec.split("\\.(?=[a-zA-Z])")));
        String layer = LAYERS[rnd.nextInt(LAYERS.length)];
        int at = rnd.nextInt(layers.size() + 1);
        layers.add(at, layer);
        applied.add("spec got " + layer + " at " + at);
        p.set("spec", String.join(".", layers));
        return p;
      }
      case 3: {
        if (spec == null) {
          applied.add("no spec to cut");
          return p;
        }
        List<String> layers = new ArrayList<>(Arrays.asList(spec.split("\\.(?=[a-zA-Z])")));
        int at = rnd.nextInt(layers.size());
        String gone = layers.remove(at);
        if (rnd.nextBoolean() && !layers.isEmpty()) {
          layers.add(rnd.nextInt(layers.size() + 1), gone);
          applied.add("spec layer " + gone + " moved");
        } else {
          applied.add("spec layer " + gone + " removed");
        }
        p.set("spec", String.join(".", layers));
        return p;
      }
      case 4: {
        String bomb = BOMBS[rnd.nextInt(BOMBS.length)];
        applied.add("spec made " + abbreviate(bomb));
        p.set("spec", bomb);
        if (rnd.nextBoolean()) {
          // The table follows the bomb's first names, with tiny shapes: the loader must not
          // build first and compare afterwards.
          List<Entry> entries = new ArrayList<>();
          for (Entry e : p.entries()) {
            entries.add(new Entry(e.name().replace("dense0.", "weight_ih_").replace("_l1", "_l0"),
                e.dtype(), e.shape(), e.begin(), e.end()));
          }
          p.entries().clear();
          p.entries().addAll(entries);
        }
        return p;
      }
      case 5: {
        // Over a megabyte one time in ten (refused before it is parsed, but slow to make).
        int k = rnd.nextInt(10) == 0 ? 160_000 : rnd.nextBoolean() ? 10 : 1000;
        applied.add("spec followed by relu() " + k + " times");
        p.set("spec", (spec == null ? "recurrent(2,2)" : spec) + ".relu()".repeat(k));
        return p;
      }
      case 6: {
        if (spec == null || spec.isEmpty()) {
          applied.add("no spec character to change");
          return p;
        }
        String chars = "().,0123456789 \u0662\u00a0\t\nab-e\"\\\u2028";
        int at = rnd.nextInt(spec.length());
        char to = chars.charAt(rnd.nextInt(chars.length()));
        applied.add("spec character " + at + " made U+" + Integer.toHexString(to));
        p.set("spec", spec.substring(0, at) + to + spec.substring(at + 1));
        return p;
      }
      case 7: {
        String[] keys = {"format", "spec", "stacking", "handOffStates", "batchFirst", "dtype"};
        String key = keys[rnd.nextInt(keys.length)];
        switch (rnd.nextInt(3)) {
          case 0 -> {
            String to = METADATA_VALUES[rnd.nextInt(METADATA_VALUES.length)];
            applied.add("metadata " + key + " made '" + to + "'");
            p.set(key, to);
          }
          case 1 -> {
            applied.add("metadata " + key + " removed");
            p.metadata().removeIf(kv -> kv[0].equals(key));
          }
          default -> {
            String to = METADATA_VALUES[rnd.nextInt(METADATA_VALUES.length)];
            applied.add("metadata " + key + " given twice, then '" + to + "'");
            p.metadata().add(new String[] {key, to});
          }
        }
        return p;
      }
      case 8: {
        if (p.entries().isEmpty()) {
          applied.add("no tensor to reshape");
          return p;
        }
        int k = rnd.nextInt(p.entries().size());
        Entry e = p.entries().get(k);
        long[] shape = e.shape().clone();
        if (shape.length > 0) {
          int d = rnd.nextInt(shape.length);
          long[] to = {0, 1, shape[d] + 1, shape[d] * 2, Math.max(0, shape[d] - 1), 40000,
              1L << 31, 1L << 40};
          shape[d] = to[rnd.nextInt(to.length)];
        }
        boolean offsets = rnd.nextBoolean();
        applied.add("tensor " + e.name() + " reshaped to " + Arrays.toString(shape)
            + (offsets ? ", offsets following" : ""));
        p.entries().set(k, new Entry(e.name(), e.dtype(), shape, e.begin(), e.end()));
        if (offsets) {
          recomputeOffsets(p);
        }
        return p;
      }
      case 9: {
        if (p.entries().isEmpty()) {
          applied.add("no tensor to change");
          return p;
        }
        int k = rnd.nextInt(p.entries().size());
        Entry e = p.entries().get(k);
        switch (rnd.nextInt(4)) {
          case 0 -> {
            String dtype = e.dtype().equals("F32") ? "F64" : "F32";
            applied.add("tensor " + e.name() + " made " + dtype);
            p.entries().set(k, new Entry(e.name(), dtype, e.shape(), e.begin(), e.end()));
            if (rnd.nextBoolean()) {
              recomputeOffsets(p);
            }
          }
          case 1 -> {
            String[] renames = {"_l0", "_l1", "_reverse", "weight", "bias", "ih", "hh", "h0",
                "dense0", "dense1"};
            String from = renames[rnd.nextInt(renames.length)];
            String to = renames[rnd.nextInt(renames.length)];
            applied.add("tensor " + e.name() + ": '" + from + "' made '" + to + "'");
            p.entries().set(k, new Entry(e.name().replace(from, to), e.dtype(), e.shape(),
                e.begin(), e.end()));
          }
          case 2 -> {
            applied.add("tensor " + e.name() + " removed");
            p.entries().remove(k);
          }
          default -> {
            applied.add("tensor " + e.name() + " duplicated as " + e.name() + "_copy");
            p.entries().add(new Entry(e.name() + "_copy", e.dtype(), e.shape(), e.begin(),
                e.end()));
          }
        }
        return p;
      }
      case 10: {
        // Values the network must not take: NaN, infinity, huge, in one tensor's data.
        byte[] data = p.data().clone();
        if (data.length >= 8) {
          int at = rnd.nextInt(data.length / 4) * 4;
          float[] bad = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 3e38f,
              1e-45f};
          ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).putFloat(at,
              bad[rnd.nextInt(bad.length)]);
        }
        applied.add("a value in the data made non-finite or extreme");
        return new Parts(p.metadata(), p.entries(), data);
      }
      default: {
        applied.add("tensors listed in another order");
        Collections.shuffle(p.entries(), rnd);
        return p;
      }
    }
  }

  /** Replaces {@code old} (and its gate multiples 3x, 4x) by {@code to} in every shape. */
  private static void followInTable(Parts p, long old, long to, boolean offsets) {
    for (int k = 0; k < p.entries().size(); k++) {
      Entry e = p.entries().get(k);
      long[] shape = e.shape().clone();
      for (int d = 0; d < shape.length; d++) {
        for (long g : new long[] {1, 3, 4}) {
          if (shape[d] == g * old) {
            shape[d] = g * to;
            break;
          }
        }
      }
      p.entries().set(k, new Entry(e.name(), e.dtype(), shape, e.begin(), e.end()));
    }
    if (offsets) {
      recomputeOffsets(p);
    }
  }

  /** Lays the table out contiguously from its shapes and dtypes, whatever the data holds. */
  private static void recomputeOffsets(Parts p) {
    long at = 0;
    for (int k = 0; k < p.entries().size(); k++) {
      Entry e = p.entries().get(k);
      long end = at + e.elements() * (e.dtype().equals("F64") ? 8 : 4);
      p.entries().set(k, new Entry(e.name(), e.dtype(), e.shape(), at, end));
      at = end;
    }
  }

  /** The file of {@code p}: its header (metadata keys as listed, twice if listed twice). */
  static byte[] render(Parts p) {
    StringWriter text = new StringWriter();
    try {
      JsonWriter w = new JsonWriter(text);
      w.beginObject();
      w.name("__metadata__").beginObject();
      for (String[] kv : p.metadata()) {
        w.name(kv[0]).value(kv[1]);
      }
      w.endObject();
      for (Entry e : p.entries()) {
        w.name(e.name()).beginObject().name("dtype").value(e.dtype()).name("shape").beginArray();
        for (long d : e.shape()) {
          w.value(d);
        }
        w.endArray().name("data_offsets").beginArray().value(e.begin()).value(e.end()).endArray();
        w.endObject();
      }
      w.endObject();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    byte[] h = text.toString().getBytes(UTF_8);
    return ByteBuffer.allocate(8 + h.length + p.data().length).order(ByteOrder.LITTLE_ENDIAN)
        .putLong(h.length).put(h).put(p.data()).array();
  }

  // ---- mutations of the bytes -----------------------------------------------------------------

  private static byte[] mutateBytes(byte[] b, Random rnd, List<String> applied) {
    if (b.length < 8) {
      applied.add("nothing left to mutate");
      return b;
    }
    switch (rnd.nextInt(4)) {
      case 0: {
        byte[] m = b.clone();
        int k = 1 + rnd.nextInt(4);
        for (int j = 0; j < k; j++) {
          m[rnd.nextInt(m.length)] ^= (byte) (1 << rnd.nextInt(8));
        }
        applied.add(k + " bit flips");
        return m;
      }
      case 1: {
        int len = rnd.nextInt(b.length);
        applied.add("truncated to " + len + " bytes");
        return Arrays.copyOf(b, len);
      }
      case 2: {
        int at = rnd.nextInt(b.length);
        byte[] ins = new byte[1 + rnd.nextInt(8)];
        rnd.nextBytes(ins);
        byte[] m = new byte[b.length + ins.length];
        System.arraycopy(b, 0, m, 0, at);
        System.arraycopy(ins, 0, m, at, ins.length);
        System.arraycopy(b, at, m, at + ins.length, b.length - at);
        applied.add(ins.length + " bytes inserted at " + at);
        return m;
      }
      default: {
        long n = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
        long[] choices = {0, 1, n - 1, n + 1, n + 8, b.length - 8, b.length, Long.MAX_VALUE, -1,
            100_000_001};
        long v = choices[rnd.nextInt(choices.length)];
        applied.add("header length " + Long.toUnsignedString(v));
        byte[] m = b.clone();
        ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
        return m;
      }
    }
  }

  // ---- the report -----------------------------------------------------------------------------

  private static List<int[]> matches(Pattern p, String s) {
    List<int[]> found = new ArrayList<>();
    Matcher m = p.matcher(s);
    while (m.find()) {
      found.add(new int[] {m.start(), m.end()});
    }
    return found;
  }

  private static String abbreviate(String s) {
    return s.length() <= 300 ? s : s.substring(0, 297) + "...";
  }

  /** The message with the file, names, numbers, specs and JSON positions taken out. */
  static String kind(String message) {
    String m = message;
    int at = m.indexOf(".safetensors");
    if (at >= 0) {
      m = m.substring(at + ".safetensors".length()).replaceFirst("^:? ", "");
    }
    m = m.replaceAll(" at line [0-9]+ column [0-9]+ path .*", "");
    m = m.replaceAll("spec '.*' at position [0-9]+", "spec '…' at position N");
    m = m.replaceAll("does not go with metadata 'spec' .*?: ", "does not go with metadata 'spec'"
        + " <spec>: ");
    m = m.replaceAll("\\(network .*\\)$", "(network …)");
    m = m.replaceAll("network .*, which has .*", "network …, which has …");
    m = m.replaceAll("it has '.*", "it has '…', ...");
    m = m.replaceAll("'[^']*'", "'…'");
    m = m.replaceAll("\"[^\"]*\"", "\"…\"");
    m = m.replaceAll("\\[[^\\[\\]]*\\]", "[…]");
    m = m.replaceAll("(recurrent|lstm|gru|elman|dense|dropout|cell)\\([^)]*\\)[.a-zA-Z()]*",
        "<layer>");
    m = m.replaceAll("(?<![A-Za-z0-9-])-?[0-9][0-9.E]*", "N");
    if (m.length() > 130) {
      m = m.substring(0, 127) + "...";
    }
    return m;
  }

  private static String report(Tally t, double seconds) {
    StringBuilder sb = new StringBuilder();
    int rejections = t.rejected.values().stream().mapToInt(Integer::intValue).sum();
    sb.append(String.format(Locale.ROOT, "CheckpointFuzzTest: seed %d, %d mutants in %.1f s"
            + " (%.0f per second): %d loaded and run forward, %d refused (%d kinds of message),"
            + " %d other exceptions; heap: at most %d MB in use (before a collection), at most %d"
            + " MB live (after one), of the %d MB the JVM may use%n", SEED, t.mutants, seconds,
        t.mutants / seconds, t.loaded, rejections, t.rejected.size(), t.failureCount,
        t.peakHeap.get() >> 20, t.peakLive.get() >> 20, Runtime.getRuntime().maxMemory() >> 20));
    sb.append(String.format(Locale.ROOT, "slowest: %s in %.1f ms%n", t.slowest,
        t.slowestNanos / 1e6));
    t.rejected.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
        .forEach(e -> sb.append(String.format(Locale.ROOT, "%8d  %s%n", e.getValue(),
            e.getKey())));
    t.failed.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
        .forEach(e -> sb.append(String.format(Locale.ROOT, "%8d  FAILED %s%n", e.getValue(),
            e.getKey())));
    return sb.toString();
  }
}
