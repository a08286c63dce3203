package dev.rnn.examples.walkthrough;

import dev.rnn.core.Tensor;
import java.util.Locale;

/**
 * The text a walkthrough prints, built line by line, with the number formats every walkthrough
 * shares: whole numbers without a fraction ({@code 4}, {@code -2}), others to four decimals
 * ({@code 0.7616}, {@code 0.5}), errors in scientific notation ({@code 1.1e-16}); line ends are
 * {@code \n}.
 */
final class Report {
  private final StringBuilder text = new StringBuilder();

  /** Appends one line, formatted as {@link String#format} does in {@link Locale#ROOT}. */
  Report line(String format, Object... args) {
    text.append(args.length == 0 ? format : String.format(Locale.ROOT, format, args)).append('\n');
    return this;
  }

  /** Appends an empty line. */
  Report line() {
    text.append('\n');
    return this;
  }

  /** Appends every line of {@code block}, each indented by {@code indent}. */
  Report block(String indent, String block) {
    block.lines().forEach(l -> text.append(indent).append(l).append('\n'));
    return this;
  }

  @Override public String toString() {
    return text.toString();
  }

  /**
   * {@code x} as {@code 4} or {@code -2} when whole, else rounded to four decimals without
   * trailing zeros: {@code 0.7616}, {@code 0.5}, {@code -0.065}.
   */
  static String number(double x) {
    if (x == Math.rint(x) && Math.abs(x) < 1e15) {
      return Long.toString((long) x);
    }
    String s = String.format(Locale.ROOT, "%.4f", x).replaceAll("\\.?0+$", "");
    return s.equals("-0") ? "0" : s;
  }

  /** An error or a difference, e.g. {@code 1.1e-16}, or {@code 0} when exactly zero. */
  static String error(double x) {
    return x == 0 ? "0" : String.format(Locale.ROOT, "%.1e", x);
  }

  /** The elements as nested lists, e.g. {@code [[4], [20], [64]]}; a scalar as a number. */
  static String tensor(Tensor t) {
    StringBuilder sb = new StringBuilder();
    append(sb, t.toDoubleArray(), t.shape().dims(), 0, 0);
    return sb.toString();
  }

  private static int append(StringBuilder sb, double[] data, int[] dims, int axis, int at) {
    if (axis == dims.length) {
      sb.append(number(data[at]));
      return at + 1;
    }
    sb.append('[');
    for (int i = 0; i < dims[axis]; i++) {
      sb.append(i > 0 ? ", " : "");
      at = append(sb, data, dims, axis + 1, at);
    }
    sb.append(']');
    return at;
  }
}
