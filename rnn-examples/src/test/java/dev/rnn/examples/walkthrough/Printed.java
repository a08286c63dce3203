package dev.rnn.examples.walkthrough;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;

/**
 * A walkthrough's text as its tests read it: lines with runs of spaces collapsed to one, so that
 * a test pins the words and numbers of a line, not its column alignment.
 */
record Printed(String text, List<String> lines) {
  static Printed of(String text) {
    return new Printed(text, text.lines().map(l -> l.strip().replaceAll(" {2,}", " ")).toList());
  }

  /** Fails unless some line is {@code line} (spaces collapsed), showing the whole text. */
  void assertLine(String line) {
    assertTrue(lines.contains(line), () -> "expected the line\n  " + line + "\nin\n" + text);
  }

  /** The first line starting with {@code prefix} (spaces collapsed), without the prefix. */
  String after(String prefix) {
    for (String l : lines) {
      if (l.startsWith(prefix)) {
        return l.substring(prefix.length()).strip();
      }
    }
    return fail("expected a line starting with\n  " + prefix + "\nin\n" + text);
  }

  /** The {@code n} lines after the first line starting with {@code prefix}. */
  List<String> following(String prefix, int n) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).startsWith(prefix)) {
        return lines.subList(i + 1, Math.min(lines.size(), i + 1 + n));
      }
    }
    return fail("expected a line starting with\n  " + prefix + "\nin\n" + text);
  }

  /** Every line starting with {@code prefix}, without the prefix, in order. */
  List<String> allAfter(String prefix) {
    return lines.stream().filter(l -> l.startsWith(prefix))
        .map(l -> l.substring(prefix.length()).strip()).toList();
  }

  /** The number that opens what follows {@code prefix}, e.g. {@code 1.1e-16} or {@code 0}. */
  double numberAfter(String prefix) {
    return Double.parseDouble(after(prefix).split("[ ,;:]")[0]);
  }
}
