package dev.rnn.core;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Seeded mutation fuzzing of the safetensors reader and of {@link TorchCase}: every mutant of the
 * 32 torch cases is either read or rejected with a {@link SafetensorsException}, never another
 * exception, an {@link OutOfMemoryError} or a hang.
 *
 * <p>Each mutant starts from one case file and applies one to three mutations: bit flips, bytes
 * overwritten with telling values, truncation, insertion and deletion of bytes, a changed header
 * length, and mutations of the header's JSON (numbers in shapes, offsets and metadata made huge,
 * negative or fractional; entries duplicated, removed or renamed; dtypes swapped; values replaced
 * by other JSON; deep nesting). A mutant the reader accepts must then give a {@link TorchCase} or a
 * {@link SafetensorsException}, and a case it gives must run forward.
 *
 * <p>Mutant {@code i} depends only on the seed and {@code i}, so a failure names what to rerun.
 * The normal suite runs {@value #DEFAULT_ITERATIONS} mutants; a longer run:
 *
 * <pre>{@code
 * mvn -B -o -pl rnn-core test -Dtest=SafetensorsFuzzTest -Drnn.fuzz.iterations=200000 \
 *     -Drnn.fuzz.seed=1
 * }</pre>
 *
 * <p>The counts (mutants, reads, cases, rejections by kind of message, the slowest mutant, time)
 * are printed on stdout. The documented longer run, 1,000,000 mutants with seed 1 (51 s, one
 * core): 131,540 read, of which 59,623 were valid cases and ran forward; 868,460 rejected by the
 * reader (78 kinds of message) and 71,917 by {@link TorchCase} (31 kinds); no other exception,
 * no {@link OutOfMemoryError}, slowest mutant 83 ms. Before {@link TorchCase} checked the
 * parameters against the declared architecture before building its stack, and its inputs, 200,000
 * mutants with seed 1 found 762 other exceptions (IllegalArgumentException from the stack's
 * shape checks and {@code Shape}), and 20,000 with {@code hidden_size} 20000 among the values
 * found three {@link OutOfMemoryError}s and a mutant that took 6.5 s.
 */
class SafetensorsFuzzTest {
  static final int DEFAULT_ITERATIONS = 5000;
  static final int ITERATIONS = Integer.getInteger("rnn.fuzz.iterations", DEFAULT_ITERATIONS);
  static final long SEED = Long.getLong("rnn.fuzz.seed", 0x5AFE7E45L);
  private static final int BATCH = 500;
  private static final Duration BATCH_TIMEOUT = Duration.ofSeconds(30);
  private static final int FAILURES_SHOWN = 10;
  private static final Path CASES = Path.of("src/test/resources/torch-cases");

  private static final List<String> names = new ArrayList<>();
  private static final List<byte[]> originals = new ArrayList<>();

  @BeforeAll
  static void loadCases() throws IOException {
    try (Stream<Path> s = Files.list(CASES)) {
      for (Path p : s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList()) {
        names.add(p.getFileName().toString());
        originals.add(Files.readAllBytes(p));
      }
    }
    assertEquals(32, originals.size(), "torch cases in " + CASES.toAbsolutePath());
  }

  /** What the mutants came to. */
  private static final class Tally {
    int mutants;
    int reads;
    int cases;
    final Map<String, Integer> rejected = new TreeMap<>();
    final Map<String, Integer> failed = new TreeMap<>();
    final List<String> failures = new ArrayList<>();
    int failureCount;
    long slowestNanos;
    String slowest = "none";

    void reject(String stage, SafetensorsException e) {
      rejected.merge(stage + ": " + kind(e.getMessage()), 1, Integer::sum);
    }

    void fail(int i, String what, Throwable t) {
      failureCount++;
      failed.merge(t.getClass().getSimpleName() + ": " + kind(String.valueOf(t.getMessage())), 1,
          Integer::sum);
      if (failures.size() < FAILURES_SHOWN) {
        StringWriter trace = new StringWriter();
        t.printStackTrace(new PrintWriter(trace));
        failures.add("mutant " + i + " (" + what + "): " + trace.toString().lines().limit(8)
            .reduce((a, b) -> a + "\n  " + b).orElse(""));
      }
    }
  }

  @Test
  void everyMutantIsReadOrRejectedWithASafetensorsException() {
    Tally tally = new Tally();
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
    System.out.println(report(tally, seconds));
    int rejections = tally.rejected.values().stream().mapToInt(Integer::intValue).sum();
    assertAll(
        () -> assertEquals(0, tally.failureCount, () -> tally.failureCount
            + " mutants threw something other than SafetensorsException (seed " + SEED + "):\n"
            + String.join("\n", tally.failures)),
        () -> assertEquals(ITERATIONS, tally.mutants),
        () -> assertEquals(tally.mutants, rejections + tally.cases + tally.failureCount,
            "every mutant is rejected, a valid case, or a failure"),
        // Both outcomes occur, so the mutations neither break everything nor nothing.
        () -> assertTrue(ITERATIONS < 200 || tally.cases > 0, "no mutant was a valid case"),
        () -> assertTrue(ITERATIONS < 200 || countStage(tally, "read") > 0,
            "the reader rejected no mutant"),
        () -> assertTrue(ITERATIONS < 200 || countStage(tally, "case") > 0,
            "TorchCase rejected no mutant"));
  }

  private static int countStage(Tally t, String stage) {
    return t.rejected.entrySet().stream().filter(e -> e.getKey().startsWith(stage + ": "))
        .mapToInt(Map.Entry::getValue).sum();
  }

  /** Mutant {@code i}: made, read, made a case of and run forward, with the outcome tallied. */
  private static void run(int i, Tally tally, AtomicReference<String> current) {
    Random rnd = new Random(SEED * 0x9E3779B97F4A7C15L + i);
    int c = rnd.nextInt(originals.size());
    List<String> applied = new ArrayList<>();
    byte[] bytes = originals.get(c);
    int n = 1 + rnd.nextInt(3);
    for (int k = 0; k < n; k++) {
      bytes = mutate(bytes, rnd, applied);
    }
    String what = names.get(c) + " with " + String.join(", then ", applied);
    current.set("mutant " + i + " (" + what + ")");
    tally.mutants++;
    long start = System.nanoTime();
    try {
      readAndRun(i, what, names.get(c), bytes, tally);
    } finally {
      long nanos = System.nanoTime() - start;
      if (nanos > tally.slowestNanos) {
        tally.slowestNanos = nanos;
        tally.slowest = current.get();
      }
    }
  }

  private static void readAndRun(int i, String what, String name, byte[] bytes, Tally tally) {
    SafetensorsFile f;
    try {
      f = Safetensors.read(bytes, name);
    } catch (SafetensorsException e) {
      if (isOneLineNaming(name, e, i, what, tally)) {
        tally.reject("read", e);
      }
      return;
    } catch (Throwable t) {
      tally.fail(i, what, t);
      return;
    }
    tally.reads++;
    try {
      TorchCase tc = TorchCase.of(f);
      tc.forward();
      tally.cases++;
    } catch (SafetensorsException e) {
      if (isOneLineNaming(name, e, i, what, tally)) {
        tally.reject("case", e);
      }
    } catch (Throwable t) {
      tally.fail(i, what, t);
    }
  }

  /** A message is one line and names the file; one that is not counts as a failure. */
  private static boolean isOneLineNaming(String name, SafetensorsException e, int i,
      String what, Tally tally) {
    String m = e.getMessage();
    if (m.startsWith(name) && !LINE_BREAK.matcher(m).find()) {
      return true;
    }
    tally.fail(i, what, new AssertionError("message is not one line naming the file: " + m, e));
    return false;
  }

  private static final Pattern LINE_BREAK = Pattern.compile("\\R|\\p{Cntrl}");

  // ---- mutations ------------------------------------------------------------------------------

  private static final byte[] INTERESTING_BYTES = {
      0, (byte) 0xFF, 0x7F, (byte) 0x80, '{', '}', '[', ']', '"', ',', ':', '-', '.', ' ', '\\',
      '0', '1', '2', '7', '9', 'e', 'E', 'n'};

  private static final String[] INTERESTING_NUMBERS = {
      "0", "-0", "1", "-1", "2", "7", "00", "3.0", "1.5", "1e3", "1E400", "-2147483648",
      "2147483647", "2147483648", "4294967296", "20000", "46341", "65536", "1048576", "1048577",
      "99999999999", "9223372036854775807", "9223372036854775808", "18446744073709551616",
      "100000000000000000000000000000000000000000"};

  private static final String[] INTERESTING_STRINGS = {
      "", "F32", "F64", "F16", "BF16", "I64", "U8", "BOOL", "f32", "F32 ", "float32", "float64",
      "float16", "lstm", "gru", "rnn_tanh", "rnn_relu", "LSTM", "rnn", "true", "false", "True",
      "1", "yes", "rnn-torch-case/1", "rnn-torch-case/2", "__metadata__", "input", "h0", "c0",
      "weight_ih_l0", "bias_hh_l0", "weight_hh_l1_reverse", "ünï\u0000"};

  private static final String[] INTERESTING_VALUES = {
      "null", "true", "{}", "[]", "[[]]", "\"\"", "0", "-1", "[0]", "[-1,0]", "[0,0]",
      "[1,2,3]", "{\"dtype\":\"F32\"}", "\"x\"", "1e999", "[1e999]"};

  private static final Pattern NUMBER = Pattern.compile("-?[0-9]+(\\.[0-9]+)?");
  private static final Pattern STRING = Pattern.compile("\"([^\"\\\\]*)\"");
  private static final Pattern TENSOR_ENTRY = Pattern.compile("\"[^\"]*\":\\{[^{}]*\\}");
  private static final Pattern METADATA_PAIR = Pattern.compile("\"[^\"]*\":\"[^\"]*\"");
  private static final Pattern SHAPE = Pattern.compile("\\[[-0-9,]*\\]");
  private static final Pattern METADATA_STRING = Pattern.compile(":\"[^\"]*\"");
  private static final Pattern TENSOR_SHAPE = Pattern.compile("\"shape\":\\[[0-9,]*\\]");
  private static final Pattern TENSOR_DTYPE_SHAPE = Pattern.compile(
      "\"dtype\":\"F(32|64)\",\"shape\":\\[[0-9,]*\\]");
  private static final Pattern VALUE = Pattern.compile(
      "(?<=:)(\"[^\"]*\"|\\[[^\\[\\]]*\\]|\\{[^{}]*\\}|-?[0-9]+)");

  /** One mutation of {@code b}, described in {@code applied}. */
  private static byte[] mutate(byte[] b, Random rnd, List<String> applied) {
    int headerEnd = headerEnd(b);
    if (headerEnd > 0 && rnd.nextInt(100) < 55) {
      String json = new String(b, 8, headerEnd - 8, UTF_8);
      String mutated = mutateJson(json, rnd, applied);
      byte[] h = mutated.getBytes(UTF_8);
      byte[] data = Arrays.copyOfRange(b, headerEnd, b.length);
      return ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
          .putLong(h.length).put(h).put(data).array();
    }
    switch (rnd.nextInt(6)) {
      case 0: {
        byte[] m = b.clone();
        int k = 1 + rnd.nextInt(4);
        for (int j = 0; j < k && m.length > 0; j++) {
          m[position(m, headerEnd, rnd)] ^= (byte) (1 << rnd.nextInt(8));
        }
        applied.add(k + " bit flips");
        return m;
      }
      case 1: {
        byte[] m = b.clone();
        int k = 1 + rnd.nextInt(3);
        for (int j = 0; j < k && m.length > 0; j++) {
          m[position(m, headerEnd, rnd)] = INTERESTING_BYTES[rnd.nextInt(INTERESTING_BYTES.length)];
        }
        applied.add(k + " bytes overwritten");
        return m;
      }
      case 2: {
        int len = b.length == 0 ? 0 : rnd.nextInt(b.length);
        applied.add("truncated to " + len + " bytes");
        return Arrays.copyOf(b, len);
      }
      case 3: {
        int at = b.length == 0 ? 0 : position(b, headerEnd, rnd);
        byte[] ins = new byte[1 + rnd.nextInt(16)];
        for (int j = 0; j < ins.length; j++) {
          ins[j] = rnd.nextBoolean() ? (byte) rnd.nextInt()
              : INTERESTING_BYTES[rnd.nextInt(INTERESTING_BYTES.length)];
        }
        applied.add(ins.length + " bytes inserted at " + at);
        return splice(b, at, 0, ins);
      }
      case 4: {
        if (b.length == 0) {
          applied.add("nothing to delete");
          return b;
        }
        int at = position(b, headerEnd, rnd);
        int len = Math.min(b.length - at, 1 + rnd.nextInt(16));
        applied.add(len + " bytes deleted at " + at);
        return splice(b, at, len, new byte[0]);
      }
      default: {
        if (b.length < 8) {
          applied.add("no header length to change");
          return b;
        }
        long n = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
        long[] choices = {0, 1, 7, n - 1, n + 1, n + 8, n - 8, b.length - 8, b.length - 7,
            Integer.MAX_VALUE, 1L << 31, 1L << 32, Safetensors.MAX_HEADER_BYTES,
            Safetensors.MAX_HEADER_BYTES + 1, Long.MAX_VALUE, -1, Long.MIN_VALUE, rnd.nextLong(),
            rnd.nextInt(b.length + 1)};
        long v = choices[rnd.nextInt(choices.length)];
        applied.add("header length " + Long.toUnsignedString(v));
        byte[] m = b.clone();
        ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
        return m;
      }
    }
  }

  private static String mutateJson(String json, Random rnd, List<String> applied) {
    switch (rnd.nextInt(14)) {
      case 10: {
        String to = rnd.nextBoolean()
            ? INTERESTING_NUMBERS[rnd.nextInt(INTERESTING_NUMBERS.length)]
            : INTERESTING_STRINGS[rnd.nextInt(INTERESTING_STRINGS.length)];
        applied.add("a metadata value made \"" + to + "\"");
        int from = json.indexOf("\"__metadata__\":{");
        int end = from < 0 ? -1 : json.indexOf('}', from);
        if (end < 0) {
          return json;
        }
        String metadata = json.substring(from, end);
        return json.substring(0, from)
            + replaceOne(metadata, METADATA_STRING, rnd, m -> ":\"" + to + "\"")
            + json.substring(end);
      }
      case 11: {
        applied.add("a shape changed, keeping its element count");
        return replaceOne(json, TENSOR_SHAPE, rnd, m -> reshape(m, rnd));
      }
      case 12: {
        applied.add("a dtype changed, keeping its byte count");
        return replaceOne(json, TENSOR_DTYPE_SHAPE, rnd, m -> redtype(m));
      }
      case 13: {
        String[] renames = {"_l0", "_l1", "_l2", "_reverse", "weight", "bias", "ih", "hh"};
        String from = renames[rnd.nextInt(renames.length)];
        String to = renames[rnd.nextInt(renames.length)];
        applied.add("a name's '" + from + "' made '" + to + "'");
        return replaceOne(json, Pattern.compile("\"[^\"]*" + from + "[^\"]*\":\\{"), rnd,
            m -> m.replaceFirst(from, to));
      }
      case 0:
      case 1: {
        String to = INTERESTING_NUMBERS[rnd.nextInt(INTERESTING_NUMBERS.length)];
        applied.add("a number made " + to);
        return replaceOne(json, NUMBER, rnd, m -> to);
      }
      case 2: {
        String to = INTERESTING_STRINGS[rnd.nextInt(INTERESTING_STRINGS.length)];
        applied.add("a string made \"" + to + "\"");
        return replaceOne(json, STRING, rnd, m -> "\"" + to + "\"");
      }
      case 3: {
        applied.add("a tensor entry duplicated");
        return replaceOne(json, TENSOR_ENTRY, rnd, m -> m + "," + m);
      }
      case 4: {
        applied.add("an entry removed");
        Pattern p = rnd.nextBoolean() ? TENSOR_ENTRY : METADATA_PAIR;
        String s = replaceOne(json, p, rnd, m -> "");
        return s.replace(",,", ",").replace("{,", "{").replace(",}", "}");
      }
      case 5: {
        applied.add("two shapes or offsets swapped");
        return swapTwo(json, SHAPE, rnd);
      }
      case 6: {
        String to = INTERESTING_VALUES[rnd.nextInt(INTERESTING_VALUES.length)];
        applied.add("a value made " + to);
        return replaceOne(json, VALUE, rnd, m -> to);
      }
      case 7: {
        applied.add("two values swapped");
        return swapTwo(json, VALUE, rnd);
      }
      case 8: {
        int depth = rnd.nextBoolean() ? 300 : 20_000;
        applied.add("a value nested " + depth + " deep");
        return replaceOne(json, VALUE, rnd, m -> "[".repeat(depth) + "]".repeat(depth));
      }
      default: {
        String[] structure = {"{", "}", "[", "]", ",", ":", "\""};
        String from = structure[rnd.nextInt(structure.length)];
        String to = structure[rnd.nextInt(structure.length)];
        applied.add("a '" + from + "' made '" + to + "'");
        return replaceOne(json, Pattern.compile(Pattern.quote(from)), rnd, m -> to);
      }
    }
  }

  /** {@code "shape":[a,b,c]} as another shape of the same element count. */
  private static String reshape(String shapeMember, Random rnd) {
    Matcher m = NUMBER.matcher(shapeMember);
    List<Long> dims = new ArrayList<>();
    while (m.find()) {
      if (m.group().length() > 9) {
        return shapeMember; // Already made huge by another mutation.
      }
      dims.add(Long.parseLong(m.group()));
    }
    long n = dims.stream().reduce(1L, (a, b) -> a * b);
    List<Long> out = new ArrayList<>(dims);
    switch (rnd.nextInt(5)) {
      case 0:
        out = List.of(n);
        break;
      case 1:
        Collections.shuffle(out, rnd);
        break;
      case 2:
        out.add(rnd.nextInt(out.size() + 1), 1L);
        break;
      case 3:
        out.remove(1L);
        break;
      default:
        out = n % 2 == 0 ? new ArrayList<>(List.of(2L, n / 2)) : new ArrayList<>(List.of(n, 1L));
        break;
    }
    StringBuilder sb = new StringBuilder("\"shape\":[");
    for (int i = 0; i < out.size(); i++) {
      sb.append(i == 0 ? "" : ",").append(out.get(i));
    }
    return sb.append(']').toString();
  }

  /** {@code "dtype":"F64","shape":[..., k]} as F32 with {@code 2k}, or back when k is even. */
  private static String redtype(String member) {
    Matcher m = Pattern.compile("\"(F32|F64)\",\"shape\":\\[([0-9,]*?)([0-9]+)\\]")
        .matcher(member);
    if (!m.find() || m.group(3).length() > 9) {
      return member;
    }
    long last = Long.parseLong(m.group(3));
    if (m.group(1).equals("F64")) {
      return "\"dtype\":\"F32\",\"shape\":[" + m.group(2) + last * 2 + "]";
    }
    return last % 2 != 0 ? member
        : "\"dtype\":\"F64\",\"shape\":[" + m.group(2) + last / 2 + "]";
  }

  /** {@code s} with one match of {@code p}, chosen at random, replaced. */
  private static String replaceOne(String s, Pattern p,
      Random rnd, UnaryOperator<String> to) {
    List<int[]> found = new ArrayList<>();
    Matcher m = p.matcher(s);
    while (m.find()) {
      found.add(new int[] {m.start(), m.end()});
    }
    if (found.isEmpty()) {
      return s;
    }
    int[] r = found.get(rnd.nextInt(found.size()));
    return s.substring(0, r[0]) + to.apply(s.substring(r[0], r[1])) + s.substring(r[1]);
  }

  private static String swapTwo(String s, Pattern p, Random rnd) {
    List<int[]> found = new ArrayList<>();
    Matcher m = p.matcher(s);
    while (m.find()) {
      found.add(new int[] {m.start(), m.end()});
    }
    if (found.size() < 2) {
      return s;
    }
    int a = rnd.nextInt(found.size());
    int b = rnd.nextInt(found.size());
    int[] x = found.get(Math.min(a, b));
    int[] y = found.get(Math.max(a, b));
    if (x == y) {
      return s;
    }
    return s.substring(0, x[0]) + s.substring(y[0], y[1]) + s.substring(x[1], y[0])
        + s.substring(x[0], x[1]) + s.substring(y[1]);
  }

  /** The end of a well-formed header, or -1 when the length field does not fit the file. */
  private static int headerEnd(byte[] b) {
    if (b.length < 8) {
      return -1;
    }
    long n = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
    return n >= 0 && n <= b.length - 8 ? (int) (8 + n) : -1;
  }

  /** A position, in the length field and header three times out of four. */
  private static int position(byte[] b, int headerEnd, Random rnd) {
    int bound = headerEnd > 0 && rnd.nextInt(4) > 0 ? headerEnd : b.length;
    return rnd.nextInt(bound);
  }

  private static byte[] splice(byte[] b, int at, int delete, byte[] insert) {
    byte[] m = new byte[b.length - delete + insert.length];
    System.arraycopy(b, 0, m, 0, at);
    System.arraycopy(insert, 0, m, at, insert.length);
    System.arraycopy(b, at + delete, m, at + insert.length, b.length - at - delete);
    return m;
  }

  // ---- the report -----------------------------------------------------------------------------

  /** The message with the file, names, numbers and JSON positions taken out. */
  static String kind(String message) {
    String m = message;
    int colon = m.indexOf(".safetensors");
    if (colon >= 0) {
      m = m.substring(colon + ".safetensors".length()).replaceFirst("^:? ", "");
    }
    m = m.replaceAll(" at line [0-9]+ column [0-9]+ path .*", "");
    m = m.replaceAll("(rnn_tanh|rnn_relu|lstm|gru)\\(input_size=[^)]*\\)", "<architecture>");
    m = m.replaceAll("it has '.*", "it has '…', ...");
    m = m.replaceAll("'[^']*'", "'…'");
    m = m.replaceAll("\"[^\"]*\"", "\"…\"");
    m = m.replaceAll("\\[[^\\[\\]]*\\]", "[…]");
    m = m.replaceAll("(?<![A-Za-z0-9-])-?[0-9]+", "N");
    if (m.length() > 120) {
      m = m.substring(0, 117) + "...";
    }
    return m;
  }

  private static String report(Tally t, double seconds) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "SafetensorsFuzzTest: seed %d, %d mutants in %.1f s"
            + " (%.0f per second): %d read, %d valid cases run forward, %d rejected by the reader,"
            + " %d rejected by TorchCase, %d other exceptions%n", SEED, t.mutants, seconds,
        t.mutants / seconds, t.reads, t.cases, countStage(t, "read"), countStage(t, "case"),
        t.failureCount));
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
