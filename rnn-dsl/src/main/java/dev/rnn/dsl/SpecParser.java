package dev.rnn.dsl;

import dev.rnn.core.Activation;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Reads the builder's spec language, as {@link Network#spec()} writes it and the command line
 * takes it: {@code recurrent(2, 2).relu().recurrent(2, 1)}, optionally after {@code network().},
 * with the options {@code stacking(states)}, {@code handOffStates()}, {@code batchFirst()}.
 */
final class SpecParser {
  private static final String KNOWN = "embedding, recurrent, elman, lstm, gru, dense, relu, tanh,"
      + " sigmoid, dropout, lastStep, bidirectional, peepholes, projection, noBias,"
      + " learnableInitialState, stacking, handOffStates, batchFirst";

  private static final Pattern WHOLE = Pattern.compile("[+-]?[0-9]+");
  private static final Pattern DECIMAL =
      Pattern.compile("[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?");

  private final String spec;
  private int pos;

  private SpecParser(String spec) {
    this.spec = spec;
  }

  static NetworkBuilder parse(String spec) {
    return new SpecParser(spec).parse();
  }

  private NetworkBuilder parse() {
    NetworkBuilder b = new NetworkBuilder();
    skipSpace();
    if (spec.startsWith("network()", pos)) {
      pos += "network()".length();
      skipSpace();
      if (pos < spec.length()) {
        expect('.');
      }
    }
    boolean first = true;
    while (true) {
      skipSpace();
      if (pos >= spec.length()) {
        if (first) {
          throw error("is empty: write layers such as recurrent(2, 2).relu()");
        }
        return b;
      }
      if (!first) {
        expect('.');
        skipSpace();
      }
      first = false;
      int at = pos;
      String name = identifier();
      expect('(');
      List<String> args = new ArrayList<>();
      skipSpace();
      if (peek() != ')') {
        while (true) {
          skipSpace();
          int start = pos;
          while (pos < spec.length() && spec.charAt(pos) != ',' && spec.charAt(pos) != ')') {
            pos++;
          }
          args.add(spec.substring(start, pos).trim());
          if (peek() == ',') {
            pos++;
          } else {
            break;
          }
        }
      }
      expect(')');
      try {
        apply(b, name, args, at);
      } catch (IllegalStateException e) {
        throw error("at position " + at + ": " + e.getMessage());
      } catch (IllegalArgumentException e) {
        if (e.getMessage().startsWith("spec '")) {
          throw e;
        }
        throw error("at position " + at + ": " + e.getMessage());
      }
    }
  }

  private void apply(NetworkBuilder b, String name, List<String> a, int at) {
    switch (name) {
      case "recurrent":
        arity(name, a, 2, at);
        b.recurrent(integer(a.get(0), at), integer(a.get(1), at));
        break;
      case "elman":
        arity(name, a, 3, at);
        b.elman(integer(a.get(0), at), integer(a.get(1), at), activation(a.get(2), at));
        break;
      case "lstm":
        arity(name, a, 2, at);
        b.lstm(integer(a.get(0), at), integer(a.get(1), at));
        break;
      case "gru":
        arity(name, a, 2, at);
        b.gru(integer(a.get(0), at), integer(a.get(1), at));
        break;
      case "embedding":
        if (a.size() == 3) {
          b.embedding(integer(a.get(0), at), integer(a.get(1), at), integer(a.get(2), at));
        } else {
          arity(name, a, 2, at);
          b.embedding(integer(a.get(0), at), integer(a.get(1), at));
        }
        break;
      case "dense":
        arity(name, a, 2, at);
        b.dense(integer(a.get(0), at), integer(a.get(1), at));
        break;
      case "relu":
        arity(name, a, 0, at);
        b.relu();
        break;
      case "tanh":
        arity(name, a, 0, at);
        b.tanh();
        break;
      case "sigmoid":
        arity(name, a, 0, at);
        b.sigmoid();
        break;
      case "dropout":
        arity(name, a, 1, at);
        b.dropout(number(a.get(0), at));
        break;
      case "lastStep":
        arity(name, a, 0, at);
        b.lastStep();
        break;
      case "bidirectional":
        if (a.size() == 1) {
          b.bidirectional(Merge.parse(a.get(0)));
        } else {
          arity(name, a, 0, at);
          b.bidirectional();
        }
        break;
      case "peepholes":
        arity(name, a, 0, at);
        b.peepholes();
        break;
      case "projection":
        arity(name, a, 1, at);
        b.projection(integer(a.get(0), at));
        break;
      case "noBias":
        arity(name, a, 0, at);
        b.noBias();
        break;
      case "learnableInitialState":
        arity(name, a, 0, at);
        b.learnableInitialState();
        break;
      case "stacking":
        arity(name, a, 1, at);
        String m = a.get(0).toUpperCase(Locale.ROOT).replace("STACKING.", "");
        if (!m.equals("STATES") && !m.equals("OUTPUTS")) {
          throw error("at position " + at + ": stacking expected states or outputs but got '"
              + a.get(0) + "'");
        }
        b.stacking(Stacking.valueOf(m));
        break;
      case "handOffStates":
        arity(name, a, 0, at);
        b.handOffStates();
        break;
      case "batchFirst":
        arity(name, a, 0, at);
        b.batchFirst();
        break;
      default:
        throw error("at position " + at + ": unknown layer '" + name + "' (expected one of "
            + KNOWN + ")");
    }
  }

  private void arity(String name, List<String> a, int n, int at) {
    if (a.size() != n) {
      throw error("at position " + at + ": " + name + " takes " + n + " argument"
          + (n == 1 ? "" : "s") + " but got " + a.size());
    }
  }

  private int integer(String s, int at) {
    try {
      // ASCII digits only: Integer.parseInt reads any script's digits, so that recurrent(٢,٢)
      // would be recurrent(2, 2) in a spec that does not say so.
      if (!WHOLE.matcher(s).matches()) {
        throw new NumberFormatException(s);
      }
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      throw error("at position " + at + ": expected a whole number but got '" + s + "'");
    }
  }

  private double number(String s, int at) {
    try {
      // Decimal only: Double.parseDouble also reads NaN, Infinity, hexadecimal and 0.5f.
      if (!DECIMAL.matcher(s).matches()) {
        throw new NumberFormatException(s);
      }
      return Double.parseDouble(s);
    } catch (NumberFormatException e) {
      throw error("at position " + at + ": expected a number but got '" + s + "'");
    }
  }

  private Activation activation(String s, int at) {
    for (Activation a : Activation.values()) {
      if (a.label().equals(s.toLowerCase(Locale.ROOT))) {
        return a;
      }
    }
    throw error("at position " + at + ": expected an activation (tanh, relu, sigmoid, identity)"
        + " but got '" + s + "'");
  }

  private String identifier() {
    int start = pos;
    while (pos < spec.length() && Character.isLetter(spec.charAt(pos))) {
      pos++;
    }
    if (start == pos) {
      throw error("at position " + pos + ": expected a layer name but got "
          + (pos < spec.length() ? "'" + spec.charAt(pos) + "'" : "the end"));
    }
    return spec.substring(start, pos);
  }

  private void expect(char c) {
    skipSpace();
    if (peek() != c) {
      throw error("at position " + pos + ": expected '" + c + "' but got "
          + (pos < spec.length() ? "'" + spec.charAt(pos) + "'" : "the end"));
    }
    pos++;
  }

  private char peek() {
    return pos < spec.length() ? spec.charAt(pos) : '\0';
  }

  private void skipSpace() {
    while (pos < spec.length() && Character.isWhitespace(spec.charAt(pos))) {
      pos++;
    }
  }

  private IllegalArgumentException error(String what) {
    return new IllegalArgumentException("spec '" + spec + "' " + what);
  }
}
