package dev.rnn.examples;

import static dev.rnn.dsl.Rnn.network;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Initializer;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.Stacking;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * The {@code seed} command: the seed network {@code recurrent(2, 2).relu().recurrent(2, 1)} with
 * every weight 1 and every bias 0, run on the seed input {@code [[1,1],[2,2],[3,3]]} or on the
 * user's, under one stacking mode or both side by side.
 *
 * <p>The two modes agree while no activation changes a value the recurrence carries (the seed
 * input gives 4, 20, 64 both ways) and differ as soon as one does ({@code [[-1,-1],[2,2],[1,1]]}:
 * STATES 0, 8, 28; OUTPUTS 0, 0, 4). See {@link Stacking}.
 */
@Command(
    name = "seed",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    sortOptions = false,
    description = {
        "Runs the seed network recurrent(2, 2).relu().recurrent(2, 1), every weight 1 and every"
            + " bias 0, and prints its output per step and its equations.",
        "",
        "Without --stacking, both modes side by side: STATES (the relu inside layer 1's"
            + " recurrence, which carries h1 = relu(...)) and OUTPUTS (the relu on layer 1's output"
            + " sequence; the recurrence carries the pre-activation s1). They agree on the seed"
            + " input [[1,1],[2,2],[3,3]] (4, 20, 64) and differ on [[-1,-1],[2,2],[1,1]]"
            + " (STATES 0, 8, 28; OUTPUTS 0, 0, 4).",
        "",
        "With --json the last line is the output as JSON: {\"output\": [[4.0], [20.0], [64.0]]}"
            + " for one mode, {\"states\": [[...], ...], \"outputs\": [[...], ...]} for both"
            + " (a list of steps, each a list of numbers; null for a number that overflowed)."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:success",
        "2:bad usage, or --input is not a JSON list of steps of 2 numbers, or the network's"
            + " output overflows float32 on it"})
final class SeedCommand implements Callable<Integer> {
  /** The seed input, three steps of two features. */
  static final double[][] SEED_INPUT = {{1, 1}, {2, 2}, {3, 3}};

  @Option(names = "--stacking", paramLabel = "MODE",
      converter = DescribeCommand.StackingConverter.class,
      description = "states or outputs; without it, both side by side.")
  Stacking stacking;

  @Option(names = "--input", paramLabel = "JSON", converter = StepsConverter.class,
      description = "The input: a JSON list of at most 10000 steps, each a list of 2 numbers,"
          + " e.g. '[[-1,-1],[2,2],[1,1]]' (default [[1,1],[2,2],[3,3]]).")
  Steps input;

  @Option(names = "--json", description = "Also print the output as one line of JSON, last.")
  boolean json;

  @Mixin
  VerboseOption verbose;

  @Spec
  CommandSpec spec;

  /** The input steps, each {@code [x1, x2]}. */
  record Steps(double[][] rows) {}

  /** The seed network under {@code mode}. */
  static Network seedNetwork(Stacking mode) {
    return network().recurrent(2, 2).relu().recurrent(2, 1).stacking(mode)
        .initializer(Initializer.constant(1, 0)).build();
  }

  @Override
  public Integer call() {
    double[][] x = input == null ? SEED_INPUT : input.rows();
    List<Stacking> modes = stacking == null ? List.of(Stacking.STATES, Stacking.OUTPUTS)
        : List.of(stacking);
    Main.working("running the seed network on " + x.length + " steps", 0);
    try {
      report(spec.commandLine().getOut(), x, modes, true, json);
    } catch (Overflow e) {
      throw new ParameterException(spec.commandLine(), "Invalid value for option '--input': "
          + e.getMessage());
    }
    return ExitCode.OK;
  }

  /** The seed network's output overflowed float32 on the input given. */
  static final class Overflow extends IllegalArgumentException {
    Overflow(String message) {
      super(message);
    }
  }

  /**
   * Refuses an output that is not finite: from finite inputs, a sum that overflowed float32
   * (4 x 3e38), whose NaN or infinity would be printed as if it were a result.
   */
  private static void checkFinite(Stacking mode, double[][] x, double[][] y) {
    for (int t = 0; t < y.length; t++) {
      for (double v : y[t]) {
        if (!Double.isFinite(v)) {
          double largest = 0;
          for (double[] step : x) {
            for (double e : step) {
              largest = Math.max(largest, Math.abs(e));
            }
          }
          throw new Overflow("the seed network's output under stacking " + mode + " overflows"
              + " float32 at step " + (t + 1) + " (inputs up to " + (float) largest + " in"
              + " magnitude): give inputs whose sums stay within 3.4e38");
        }
      }
    }
  }

  /**
   * Prints the seed network's outputs on {@code x} under each of {@code modes}, whether the modes
   * agree, and (with {@code equations}) each mode's {@code describe()}; with {@code json} a last
   * line of JSON.
   */
  static void report(PrintWriter out, double[][] x, List<Stacking> modes, boolean equations,
      boolean json) {
    Map<Stacking, Network> nets = new LinkedHashMap<>();
    Map<Stacking, double[][]> outputs = new LinkedHashMap<>();
    for (Stacking m : modes) {
      Network net = seedNetwork(m);
      nets.put(m, net);
      double[][] y = rows(net.forward(Tensor.ofRows(x)));
      checkFinite(m, x, y);
      outputs.put(m, y);
    }
    out.println("network()." + nets.get(modes.get(0)).spec()
        + ", every weight 1 and every bias 0 (Initializer.constant(1, 0))");
    out.println();
    table(out, x, outputs);
    out.println();
    if (modes.size() == 2) {
      out.println(agreement(outputs.get(Stacking.STATES), outputs.get(Stacking.OUTPUTS)));
      out.println();
    }
    if (equations) {
      for (Stacking m : modes) {
        out.println("== stacking " + m + " ==");
        out.println(nets.get(m).describe());
        out.println();
      }
    }
    if (json) {
      if (modes.size() == 1) {
        out.println("{\"output\": " + json(outputs.get(modes.get(0))) + "}");
      } else {
        out.println("{\"states\": " + json(outputs.get(Stacking.STATES)) + ", \"outputs\": "
            + json(outputs.get(Stacking.OUTPUTS)) + "}");
      }
    }
  }

  /** {@code [T, F]} as T rows. */
  private static double[][] rows(Tensor y) {
    double[] flat = y.toDoubleArray();
    int f = y.dim(1);
    double[][] r = new double[y.dim(0)][f];
    for (int t = 0; t < r.length; t++) {
      System.arraycopy(flat, t * f, r[t], 0, f);
    }
    return r;
  }

  /** One line per step: {@code t}, {@code x_t} and {@code y_t} per mode. */
  private static void table(PrintWriter out, double[][] x, Map<Stacking, double[][]> outputs) {
    List<String[]> lines = new ArrayList<>();
    List<String> head = new ArrayList<>(List.of("t", "x_t"));
    outputs.keySet().forEach(m -> head.add("y_t " + m));
    lines.add(head.toArray(new String[0]));
    for (int t = 0; t < x.length; t++) {
      List<String> line = new ArrayList<>(List.of(String.valueOf(t + 1), list(x[t], false)));
      for (double[][] y : outputs.values()) {
        line.add(list(y[t], false));
      }
      lines.add(line.toArray(new String[0]));
    }
    int[] widths = new int[head.size()];
    for (String[] l : lines) {
      for (int i = 0; i < l.length; i++) {
        widths[i] = Math.max(widths[i], l[i].length());
      }
    }
    for (String[] l : lines) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < l.length; i++) {
        sb.append(i == 0 ? String.format(Locale.ROOT, "%" + widths[i] + "s", l[i])
            : "  " + String.format(Locale.ROOT, "%-" + widths[i] + "s", l[i]));
      }
      out.println(sb.toString().stripTrailing());
    }
  }

  private static String agreement(double[][] states, double[][] outputs) {
    List<String> differ = new ArrayList<>();
    for (int t = 0; t < states.length; t++) {
      if (!Arrays.equals(states[t], outputs[t])) {
        differ.add(String.valueOf(t + 1));
      }
    }
    if (differ.isEmpty()) {
      return "The modes agree on this input: no relu changed a value that layer 1's recurrence"
          + " carries.";
    }
    return "The modes differ at step" + (differ.size() == 1 ? " " : "s ")
        + String.join(", ", differ) + ": a negative pre-activation s1 is carried as 0 by STATES"
        + " (h1 = relu(s1)) but as it is by OUTPUTS.";
  }

  /** {@code [4, 20]} for the table, {@code [4.0, 20.0]} for JSON (null if not finite). */
  private static String list(double[] v, boolean json) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < v.length; i++) {
      sb.append(i > 0 ? ", " : "").append(json ? jsonNumber(v[i]) : number(v[i]));
    }
    return sb.append(']').toString();
  }

  private static String json(double[][] y) {
    StringBuilder sb = new StringBuilder("[");
    for (int t = 0; t < y.length; t++) {
      sb.append(t > 0 ? ", " : "").append(list(y[t], true));
    }
    return sb.append(']').toString();
  }

  /** As float32 prints it, less a trailing {@code .0}: {@code 4}, {@code 0.5}, {@code 1.0E20}. */
  private static String number(double v) {
    String s = Float.toString(v == 0 ? 0f : (float) v);
    return s.endsWith(".0") ? s.substring(0, s.length() - 2) : s;
  }

  private static String jsonNumber(double v) {
    float f = (float) v;
    return Float.isFinite(f) ? Float.toString(v == 0 ? 0f : f) : "null";
  }

  /**
   * Reads {@code --input}: a JSON list of steps, each a list of 2 finite numbers.
   *
   * <p>Strict JSON (no comments, no single quotes, no NaN); the message names the step and what
   * was expected.
   */
  static final class StepsConverter implements ITypeConverter<Steps> {
    static final String EXPECTED = "expected a JSON list of steps, each a list of 2 numbers, e.g."
        + " [[1,1],[2,2],[3,3]]";

    /** The most steps an input may have: the table prints one line per step. */
    static final int MAX_STEPS = 10_000;

    /** The longest input read: {@value #MAX_STEPS} steps of long numbers fit. */
    static final int MAX_CHARACTERS = 1_000_000;

    @Override
    public Steps convert(String value) {
      if (value.length() > MAX_CHARACTERS) {
        throw new TypeConversionException(EXPECTED + ", but it has " + value.length()
            + " characters, more than the " + MAX_CHARACTERS + " read");
      }
      JsonElement root;
      try {
        root = new GsonBuilder().setStrictness(Strictness.STRICT).create()
            .fromJson(value, JsonElement.class);
      } catch (JsonParseException e) {
        throw new TypeConversionException(EXPECTED + ", but it is not valid JSON" + where(e));
      }
      if (root == null) {
        throw new TypeConversionException(EXPECTED + ", but got nothing");
      }
      if (!root.isJsonArray()) {
        throw new TypeConversionException(EXPECTED + ", but got " + kind(root));
      }
      JsonArray steps = root.getAsJsonArray();
      if (steps.isEmpty()) {
        throw new TypeConversionException(EXPECTED + ", but got no steps");
      }
      if (steps.size() > MAX_STEPS) {
        throw new TypeConversionException(EXPECTED + ", but got " + steps.size()
            + " steps, more than the " + MAX_STEPS + " this command runs");
      }
      double[][] rows = new double[steps.size()][];
      for (int t = 0; t < steps.size(); t++) {
        JsonElement step = steps.get(t);
        String which = "step " + (t + 1);
        if (!step.isJsonArray()) {
          throw new TypeConversionException(EXPECTED + ", but " + which + " is " + kind(step));
        }
        JsonArray xs = step.getAsJsonArray();
        if (xs.size() != 2) {
          throw new TypeConversionException(EXPECTED + ", but " + which + " has " + xs.size()
              + (xs.size() == 1 ? " number" : " numbers"));
        }
        rows[t] = new double[2];
        for (int i = 0; i < 2; i++) {
          JsonElement e = xs.get(i);
          if (!(e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber())) {
            throw new TypeConversionException(EXPECTED + ", but number " + (i + 1) + " of "
                + which + " is " + kind(e));
          }
          double d = e.getAsDouble();
          if (!Double.isFinite(d) || !Float.isFinite((float) d)) {
            throw new TypeConversionException(EXPECTED + ", but number " + (i + 1) + " of "
                + which + ", " + e + ", is too large for float32");
          }
          rows[t][i] = d;
        }
      }
      return new Steps(rows);
    }

    /**
     * Where Gson stopped, e.g. {@code : End of input at line 1 column 11 path $[2]} or {@code  at
     * line 1 column 10 path $}, without its advice to parse leniently.
     */
    private static String where(JsonParseException e) {
      Throwable c = e.getCause() != null ? e.getCause() : e;
      String m = c.getMessage() == null ? "" : c.getMessage().lines().findFirst().orElse("");
      m = m.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "")
          .strip();
      return m.isEmpty() ? "" : m.startsWith("at ") ? " " + m : ": " + m;
    }

    private static String kind(JsonElement e) {
      if (e == null || e.isJsonNull()) {
        return "null";
      }
      if (e.isJsonObject()) {
        return "an object";
      }
      if (e.isJsonArray()) {
        return "a list";
      }
      JsonPrimitive p = e.getAsJsonPrimitive();
      return (p.isString() ? "the string " : p.isBoolean() ? "the boolean " : "the number ") + p;
    }
  }
}
