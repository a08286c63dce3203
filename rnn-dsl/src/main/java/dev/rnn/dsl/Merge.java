package dev.rnn.dsl;

import dev.rnn.autograd.Graph;
import dev.rnn.autograd.Ops;
import dev.rnn.autograd.Value;
import java.util.List;
import java.util.Locale;

/**
 * How a bidirectional layer joins the outputs of its two directions, as Keras's {@code
 * Bidirectional(merge_mode=...)}: {@code bidirectional(Merge.SUM)}; {@code bidirectional()} is
 * {@link #CONCAT}, as torch's modules do.
 *
 * <pre>
 *   CONCAT   y_t = [h→_t; h←_t]        [N, 2P]    dh→ = dy[:, :P],  dh← = dy[:, P:]
 *   SUM      y_t = h→_t + h←_t         [N, P]     dh→ = dh← = dy
 *   MUL      y_t = h→_t ⊙ h←_t         [N, P]     dh→ = dy ⊙ h←_t,  dh← = dy ⊙ h→_t
 *   AVERAGE  y_t = (h→_t + h←_t) / 2   [N, P]     dh→ = dh← = dy / 2
 * </pre>
 *
 * <p>(P is the size of each direction's output.) The final states stay per direction whatever
 * the merge; after a sequence's end both directions' outputs are zero, and so is the merge.
 */
public enum Merge {
  /** The two outputs side by side, {@code [forward, reverse]}: twice the features. */
  CONCAT {
    @Override Value apply(Graph g, Value forward, Value reverse) {
      return Ops.concat(g, List.of(forward, reverse));
    }

    @Override String equation(String forward, String reverse) {
      return "[" + forward + "; " + reverse + "]";
    }
  },
  /** Their sum. */
  SUM {
    @Override Value apply(Graph g, Value forward, Value reverse) {
      return Ops.add(g, forward, reverse);
    }

    @Override String equation(String forward, String reverse) {
      return forward + " + " + reverse;
    }
  },
  /** Their elementwise product. */
  MUL {
    @Override Value apply(Graph g, Value forward, Value reverse) {
      return Ops.multiply(g, forward, reverse);
    }

    @Override String equation(String forward, String reverse) {
      return forward + " ⊙ " + reverse;
    }
  },
  /** Their mean. */
  AVERAGE {
    @Override Value apply(Graph g, Value forward, Value reverse) {
      return Ops.scale(g, Ops.add(g, forward, reverse), 0.5);
    }

    @Override String equation(String forward, String reverse) {
      return "(" + forward + " + " + reverse + ") / 2";
    }
  };

  /** The merged output, recorded in {@code g}. */
  abstract Value apply(Graph g, Value forward, Value reverse);

  /** {@return the merge as an equation of the two outputs' symbols} */
  abstract String equation(String forward, String reverse);

  /**
   * {@return the features of the merged output, from those of one direction: twice them for
   * {@link #CONCAT}}
   */
  int outputSize(int perDirection) {
    return this == CONCAT ? 2 * perDirection : perDirection;
  }

  /** {@return the name in the spec language, e.g. {@code sum}} */
  String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The merge a spec names, in any case: {@code concat}, {@code sum}, {@code mul}, {@code
   * average}.
   *
   * @throws IllegalArgumentException naming the accepted ones
   */
  static Merge parse(String s) {
    for (Merge m : values()) {
      if (m.label().equals(s.strip().toLowerCase(Locale.ROOT).replace("merge.", ""))) {
        return m;
      }
    }
    throw new IllegalArgumentException("bidirectional expected a merge (concat, sum, mul,"
        + " average) but got '" + s + "'");
  }
}
