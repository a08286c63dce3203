package dev.rnn.dsl;

import dev.rnn.core.Activation;
import dev.rnn.core.Cell;
import dev.rnn.core.ElmanCell;
import dev.rnn.core.GruCell;
import dev.rnn.core.LstmCell;
import dev.rnn.core.PeepholeLstmCell;
import java.util.ArrayList;
import java.util.List;

/**
 * The kinds of recurrent layer the builder writes, each with all that is particular to it in one
 * place: how it is written, its cell, its biases, where its activation sits, and its equations and
 * words for {@code describe()} and the unrolled graph. A new kind of recurrent layer is one more
 * constant here (and a builder method); nothing else switches on the kind.
 */
enum RecurrentKind {
  /**
   * {@code recurrent(in, out)}: the plain linear recurrence {@code s_t = W_xh x_t + W_hh s_{t-1} +
   * b}, one bias; its nonlinearity is the activation that follows, which {@link Wiring} moves
   * inside under {@link Stacking#STATES}.
   */
  LINEAR {
    @Override String written(Layer.Recurrent r) {
      return "recurrent(" + r.in() + ", " + r.out() + ")";
    }

    @Override Activation inside(Layer.Recurrent r) {
      return Activation.IDENTITY;
    }

    @Override boolean linear() {
      return true;
    }

    @Override Cell cell(Layer.Recurrent r, Activation inside) {
      return new ElmanCell(r.in(), r.out(), inside);
    }

    @Override List<String> equations(Symbols s) {
      return ELMAN.equations(s);
    }

    @Override String activationNote(Stage.Recurrent r) {
      return r.inside() == Activation.IDENTITY ? ", linear (identity inside the recurrence)"
          : ", with " + r.inside().label() + " inside the recurrence (layer " + (r.layer() + 1)
              + ")";
    }

    @Override String graphDetail(Stage.Recurrent r) {
      return r.inside() == Activation.IDENTITY ? "linear" : r.inside().label() + " inside";
    }

    @Override String carries(Stage.Recurrent r, Stage next, Stacking stacking) {
      String who = who(r);
      if (r.absorbed()) {
        return who + ", after " + r.inside().label() + " (inside the recurrence: " + stacking
            + ")";
      }
      if (next instanceof Stage.Pointwise a) {
        return who + ", before " + a.activation().label() + " (layer " + a.layer()
            + " acts on the output sequence only: " + stacking + ")";
      }
      return who + " (linear: identity inside the recurrence)";
    }
  },

  /** {@code elman(in, out, activation)}: torch's RNN, {@code h_t = act(W_ih x_t + b_ih + W_hh h + b_hh)}. */
  ELMAN {
    @Override String written(Layer.Recurrent r) {
      return "elman(" + r.in() + ", " + r.out() + ", " + r.activation().label() + ")";
    }

    @Override Activation inside(Layer.Recurrent r) {
      return r.activation();
    }

    @Override Cell cell(Layer.Recurrent r, Activation inside) {
      return new ElmanCell(r.in(), r.out(), inside);
    }

    @Override List<String> equations(Symbols s) {
      String z = s.wih() + " · " + s.in() + " + " + s.whh() + " · " + s.h() + s.prev()
          + s.bias();
      Activation act = s.stage().inside();
      return List.of(s.h() + "_t = " + (act == Activation.IDENTITY ? z : act.label() + "(" + z
          + ")"));
    }

    @Override String graphDetail(Stage.Recurrent r) {
      return r.inside().label() + " inside";
    }

    @Override String carries(Stage.Recurrent r, Stage next, Stacking stacking) {
      return who(r) + ", after " + r.inside().label() + " (inside the recurrence)";
    }
  },

  /** {@code lstm(in, out)}: torch's LSTM, gates i, f, g, o; with {@code peepholes()} Graves's. */
  LSTM {
    @Override String written(Layer.Recurrent r) {
      return "lstm(" + r.in() + ", " + r.out() + ")";
    }

    @Override boolean takesPeepholes() {
      return true;
    }

    @Override int forgetGate() {
      return 1;
    }

    @Override boolean takesProjection() {
      return true;
    }

    @Override Cell cell(Layer.Recurrent r, Activation inside) {
      return r.peepholes() ? new PeepholeLstmCell(r.in(), r.out())
          : new LstmCell(r.in(), r.out());
    }

    @Override List<String> equations(Symbols s) {
      String h = s.h();
      String prev = s.prev();
      String sfx = s.suffix();
      String c = "c" + h.substring(1);
      String pre = s.wih() + " · " + s.in() + s.bih() + " + " + s.whh() + " · " + h + prev
          + s.bhh();
      List<String> eq = new ArrayList<>();
      eq.add("[i f g o]_t = " + pre + "   (blocks of " + s.stage().spec().out() + ")");
      if (s.stage().spec().peepholes()) {
        eq.add("i_t = σ(i_t + w_ci" + sfx + " ⊙ " + c + prev + "),  f_t = σ(f_t + w_cf" + sfx
            + " ⊙ " + c + prev + "),  g_t = tanh(g_t)");
        eq.add(c + "_t = f_t ⊙ " + c + prev + " + i_t ⊙ g_t");
        eq.add("o_t = σ(o_t + w_co" + sfx + " ⊙ " + c + "_t)");
      } else {
        eq.add("i_t = σ(i_t),  f_t = σ(f_t),  g_t = tanh(g_t),  o_t = σ(o_t)");
        eq.add(c + "_t = f_t ⊙ " + c + prev + " + i_t ⊙ g_t");
      }
      if (s.stage().spec().projection() > 0) {
        eq.add(h + "_t = W_hr" + sfx + " · (o_t ⊙ tanh(" + c + "_t))   (projection to "
            + s.stage().spec().projection() + ")");
      } else {
        eq.add(h + "_t = o_t ⊙ tanh(" + c + "_t)");
      }
      return eq;
    }

    @Override String graphDetail(Stage.Recurrent r) {
      return r.spec().peepholes() ? "lstm, peepholes" : "lstm, with c" + r.layer();
    }

    @Override String carries(Stage.Recurrent r, Stage next, Stacking stacking) {
      return who(r) + " and c" + r.layer() + " (the cell state)";
    }
  },

  /** {@code gru(in, out)}: torch's GRU, gates r, z, n. */
  GRU {
    @Override String written(Layer.Recurrent r) {
      return "gru(" + r.in() + ", " + r.out() + ")";
    }

    @Override Cell cell(Layer.Recurrent r, Activation inside) {
      return new GruCell(r.in(), r.out());
    }

    @Override List<String> equations(Symbols s) {
      String h = s.h();
      return List.of(
          "[r z n]_x = " + s.wih() + " · " + s.in() + s.bih() + ",  [r z n]_h = " + s.whh()
              + " · " + h + s.prev() + s.bhh(),
          "r_t = σ(r_x + r_h),  z_t = σ(z_x + z_h),  n_t = tanh(n_x + r_t ⊙ n_h)",
          h + "_t = (1 - z_t) ⊙ n_t + z_t ⊙ " + h + s.prev());
    }

    @Override String graphDetail(Stage.Recurrent r) {
      return "gru";
    }
  },

  /** {@code cell(c)}: a user-written {@link Cell}, which a checkpoint's spec cannot rebuild. */
  CUSTOM {
    @Override String written(Layer.Recurrent r) {
      return "cell(" + r.custom().describe() + ")";
    }

    @Override Cell cell(Layer.Recurrent r, Activation inside) {
      return r.custom();
    }

    @Override boolean rebuildable() {
      return false;
    }

    @Override List<String> equations(Symbols s) {
      return List.of("xp_t = " + s.wih() + " · " + s.in() + s.bih() + ",  hp_t = " + s.whh()
              + " · " + s.h() + s.prev() + s.bhh(),
          s.h() + "_t = " + s.stage().spec().custom().describe() + "(xp_t, hp_t, state"
              + s.prev() + ")   (a user-written cell)");
    }

    @Override String graphDetail(Stage.Recurrent r) {
      return r.spec().custom().describe();
    }
  };

  /** {@return the layer as written, without modifiers, e.g. {@code lstm(3, 5)}} */
  abstract String written(Layer.Recurrent r);

  /**
   * {@return the activation inside the recurrence before the wiring moves one in: identity for
   * {@code recurrent}, the layer's own for {@code elman}, null for gated and user cells}
   */
  Activation inside(Layer.Recurrent r) {
    return null;
  }

  /**
   * {@return whether this is the linear {@code recurrent(in, out)}: one bias, and an activation
   * after it goes inside under {@link Stacking#STATES}}
   */
  boolean linear() {
    return false;
  }

  /** {@return whether {@code peepholes()} may follow it} */
  boolean takesPeepholes() {
    return false;
  }

  /**
   * {@return the forget gate's block in the gate order (LSTM: 1, of i, f, g, o), which {@link
   * Init#forgetBias} sets; -1 for kinds without one}
   */
  int forgetGate() {
    return -1;
  }

  /**
   * {@return whether {@code projection(p)} may follow it: torch's {@code proj_size}, for a cell
   * that reads {@code h_{t-1}} only through {@code W_hh} ({@link Cell#projectable()})}
   */
  boolean takesProjection() {
    return false;
  }

  /** {@return whether a checkpoint's spec can rebuild it} */
  boolean rebuildable() {
    return true;
  }

  /** {@return the cell of one direction, with {@code inside} as decided by the wiring} */
  abstract Cell cell(Layer.Recurrent r, Activation inside);

  /** {@return the equations of one direction, for {@code describe()}} */
  abstract List<String> equations(Symbols s);

  /** {@return where the activation sits, for {@code describe()}; empty but for {@code recurrent}} */
  String activationNote(Stage.Recurrent r) {
    return "";
  }

  /** {@return what a node of the layer computes, for the unrolled graph} */
  abstract String graphDetail(Stage.Recurrent r);

  /**
   * {@return what the recurrent edges carry, for the unrolled graph's legend; {@code next} is the
   * stage after, or null, and {@code stacking} is named in the text}
   */
  String carries(Stage.Recurrent r, Stage next, Stacking stacking) {
    return who(r);
  }

  static String who(Stage.Recurrent r) {
    return "layer " + r.layer() + ": the recurrent edges carry " + r.symbol();
  }

  /**
   * The symbols of one direction's equations.
   *
   * @param stage the stage
   * @param suffix the direction's name suffix, e.g. {@code _l0_reverse}
   * @param in the input's symbol, e.g. {@code x_t}
   * @param h the state's symbol with the direction's arrow, e.g. {@code h1→}
   * @param prev the previous step's subscript, {@code _{t-1}} or {@code _{t+1}}
   */
  record Symbols(Stage.Recurrent stage, String suffix, String in, String h, String prev) {
    String wih() {
      return "W_ih" + suffix;
    }

    String whh() {
      return "W_hh" + suffix;
    }

    /** {@return the biases of the summed form: {@code + b} (one bias) or {@code + b_ih + b_hh}} */
    String bias() {
      if (!stage.spec().bias()) {
        return "";
      }
      return stage.spec().kind().linear() ? " + b" + suffix : bih() + bhh();
    }

    String bih() {
      return stage.spec().bias() ? " + b_ih" + suffix : "";
    }

    String bhh() {
      return stage.spec().bias() ? " + b_hh" + suffix : "";
    }
  }
}
