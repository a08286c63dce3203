package dev.rnn.dsl;

import dev.rnn.core.Activation;
import dev.rnn.core.Cell;
import dev.rnn.core.Parameter;
import dev.rnn.core.Scan;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes {@link Network#describe()}: the network's own equations, read off its wired stages, so
 * that the text says exactly what forward computes.
 */
final class Describe {
  private Describe() {}

  static String of(Network net) {
    StringBuilder sb = new StringBuilder();
    sb.append("network()." + net.spec()).append('\n');
    sb.append("stacking: ").append(net.stacking()).append(net.stacking() == Stacking.STATES
        ? " (paper style: an activation right after recurrent(in, out) is inside its recurrence;"
            + " each layer's hidden sequence feeds the next)"
        : " (Keras style: each recurrent layer is a unit; activations act on its output sequence"
            + (net.handsOffStates() ? "; final states are handed to the next recurrent layer"
                : "") + ")").append('\n');
    sb.append("input: x_t of ").append(net.inputSize()).append(" features per step, ")
        .append(net.batchFirst() ? "[batch, seq, " : "[seq, batch, ").append(net.inputSize())
        .append("]\n");
    String in = "x_t";
    String previousState = null;
    List<String> outputs = new ArrayList<>();
    for (Stage s : net.stages()) {
      String n = String.valueOf(s.layerNumber);
      if (s instanceof Stage.RecurrentStage r) {
        boolean bi = r.directions.size() == 2;
        String h = (r.spec.kind() == Layer.Kind.LINEAR && r.inside == Activation.IDENTITY
            && net.stacking() == Stacking.OUTPUTS ? "s" : "h") + n;
        sb.append("layer ").append(n).append(": ").append(r.spec.describe());
        if (r.spec.kind() == Layer.Kind.LINEAR) {
          sb.append(r.inside == Activation.IDENTITY ? ", linear (identity inside the recurrence)"
              : ", with " + r.inside.label() + " inside the recurrence (layer "
                  + (s.layerNumber + 1) + ")");
        }
        sb.append('\n');
        for (Scan rec : r.directions) {
          String suffix = Scan.suffix(r.index, rec.reverse());
          String hv = h + (bi ? (rec.reverse() ? "←" : "→") : "");
          String prev = rec.reverse() ? "_{t+1}" : "_{t-1}";
          for (String eq : equations(r, rec.cell(), suffix, in, hv, prev)) {
            sb.append("    ").append(eq).append('\n');
          }
          if (r.handOffIn && previousState != null) {
            sb.append("    initial state: ").append(hv).append("_0 = ").append(previousState)
                .append(hv.substring(h.length())).append("_T (handed off)\n");
          } else if (r.initial != null) {
            sb.append("    initial state: ").append(hv).append("_0 = h0").append(suffix)
                .append(rec.cell().stateCount() > 1 ? ", c0" + suffix : "")
                .append(" (learned)\n");
          } else {
            sb.append("    initial state: zeros, or the state passed in\n");
          }
        }
        sb.append("    parameters: ").append(params(r.parameters())).append('\n');
        String state = r.stateCount() > 1 ? h + ", c" + n : h;
        sb.append("    state carried across time: ").append(state).append(" [")
            .append(r.spec.out()).append("]").append(bi ? " per direction" : "").append('\n');
        String out = bi ? "[" + h + "→_t; " + h + "←_t]" : h + "_t";
        sb.append("    output: ").append(out).append(" [").append(r.spec.outputSize(0))
            .append("]\n");
        in = out;
        previousState = h;
      } else if (s instanceof Stage.ActivationStage a) {
        String y = "y" + n + "_t";
        sb.append("layer ").append(n).append(": ").append(a.activation.label())
            .append("(), on the output sequence, outside any recurrence\n");
        sb.append("    ").append(y).append(" = ").append(a.activation.label()).append('(')
            .append(in).append(")\n");
        in = y;
      } else if (s instanceof Stage.DenseStage d) {
        String y = "y" + n + "_t";
        String w = d.weight.name();
        sb.append("layer ").append(n).append(": ").append(d.spec.describe())
            .append(", on every step\n");
        sb.append("    ").append(y).append(" = ").append(w).append(" · ").append(in)
            .append(" + ").append(d.bias.name()).append('\n');
        sb.append("    parameters: ").append(params(d.parameters())).append('\n');
        in = y;
      } else if (s instanceof Stage.DropoutStage d) {
        String y = "y" + n + "_t";
        sb.append("layer ").append(n).append(": dropout(").append(d.p)
            .append("), in training only\n");
        sb.append("    ").append(y).append(" = ").append(in).append(" ⊙ m_t / ").append(1 - d.p)
            .append(", m_t ~ Bernoulli(").append(1 - d.p).append(")\n");
        in = y;
      } else {
        sb.append("layer ").append(n).append(": lastStep()\n");
        String y = in.endsWith("_t") ? in.substring(0, in.length() - 2) + "_T" : in + " at T";
        sb.append("    y = ").append(y).append(" (the final step only)\n");
        in = y;
      }
      outputs.add(in);
    }
    sb.append("output: ").append(in).append(" [").append(net.outputSize()).append(']')
        .append(net.lastStepOnly() ? " per sequence" : " per step").append('\n');
    sb.append("state: ").append(net.stateNames()).append('\n');
    sb.append("parameters: ").append(net.parameterCount()).append(" in ")
        .append(net.parameters().size()).append(" tensors");
    return sb.toString();
  }

  private static List<String> equations(Stage.RecurrentStage r, Cell cell, String sfx,
      String in, String h, String prev) {
    String wih = "W_ih" + sfx;
    String whh = "W_hh" + sfx;
    boolean twoBiases = r.spec.kind() != Layer.Kind.LINEAR;
    String bias = !r.spec.bias() ? "" : twoBiases ? " + b_ih" + sfx + " + b_hh" + sfx
        : " + b" + sfx;
    String bih = r.spec.bias() ? " + b_ih" + sfx : "";
    String bhh = r.spec.bias() ? " + b_hh" + sfx : "";
    switch (r.spec.kind()) {
      case LINEAR:
      case ELMAN: {
        Activation act = r.spec.kind() == Layer.Kind.LINEAR ? r.inside : r.spec.activation();
        String z = wih + " · " + in + " + " + whh + " · " + h + prev + bias;
        return List.of(h + "_t = " + (act == Activation.IDENTITY ? z : act.label() + "(" + z
            + ")"));
      }
      case LSTM: {
        String c = "c" + h.substring(1);
        String pre = wih + " · " + in + bih + " + " + whh + " · " + h + prev + bhh;
        List<String> eq = new ArrayList<>();
        eq.add("[i f g o]_t = " + pre + "   (blocks of " + cell.hiddenSize() + ")");
        if (r.spec.peepholes()) {
          eq.add("i_t = σ(i_t + w_ci" + sfx + " ⊙ " + c + prev + "),  f_t = σ(f_t + w_cf" + sfx
              + " ⊙ " + c + prev + "),  g_t = tanh(g_t)");
          eq.add(c + "_t = f_t ⊙ " + c + prev + " + i_t ⊙ g_t");
          eq.add("o_t = σ(o_t + w_co" + sfx + " ⊙ " + c + "_t)");
        } else {
          eq.add("i_t = σ(i_t),  f_t = σ(f_t),  g_t = tanh(g_t),  o_t = σ(o_t)");
          eq.add(c + "_t = f_t ⊙ " + c + prev + " + i_t ⊙ g_t");
        }
        eq.add(h + "_t = o_t ⊙ tanh(" + c + "_t)");
        return eq;
      }
      case GRU:
        return List.of(
            "[r z n]_x = " + wih + " · " + in + bih + ",  [r z n]_h = " + whh
                + " · " + h + prev + bhh,
            "r_t = σ(r_x + r_h),  z_t = σ(z_x + z_h),  n_t = tanh(n_x + r_t ⊙ n_h)",
            h + "_t = (1 - z_t) ⊙ n_t + z_t ⊙ " + h + prev);
      default:
        return List.of("xp_t = " + wih + " · " + in + bih + ",  hp_t = " + whh
                + " · " + h + prev + bhh,
            h + "_t = " + cell.describe() + "(xp_t, hp_t, state" + prev
                + ")   (a user-written cell)");
    }
  }

  private static String params(List<Parameter> ps) {
    StringBuilder sb = new StringBuilder();
    long n = 0;
    for (Parameter p : ps) {
      sb.append(sb.length() > 0 ? ", " : "").append(p.name()).append(' ').append(p.shape());
      n += p.size();
    }
    return sb.append(" = ").append(n).append(" numbers").toString();
  }
}
