package dev.rnn.dsl;

import dev.rnn.core.Parameter;
import java.util.List;

/**
 * Writes {@link Network#describe()}: the network's own equations, read off its wired {@link Stage}
 * records, so that the text says exactly what forward computes.
 *
 * <p>One visitor walks the stages in order, carrying the symbol of what flows between them
 * ({@code x_t}, then {@code h1_t}, {@code y2_t}, ...).
 */
final class Describe implements Stage.Visitor<Void> {
  private final Network net;
  private final StringBuilder sb = new StringBuilder();
  /** The symbol of the sequence flowing into the next stage. */
  private String in = "x_t";
  /** The state symbol of the previous recurrent stage, for hand-off. */
  private String previousState;

  private Describe(Network net) {
    this.net = net;
  }

  static String of(Network net) {
    Describe d = new Describe(net);
    d.sb.append("network()." + net.spec()).append('\n');
    d.sb.append("stacking: ").append(net.stacking()).append(" (")
        .append(net.stacking().explanation())
        .append(net.handsOffStates() ? "; final states are handed to the next recurrent layer"
            : "").append(")\n");
    if (net.takesIds()) {
      d.sb.append("input: id_t, one token id per step, ")
          .append(net.batchFirst() ? "[batch, seq]" : "[seq, batch]").append('\n');
    } else {
      d.sb.append("input: x_t of ").append(net.inputSize()).append(" features per step, ")
          .append(net.batchFirst() ? "[batch, seq, " : "[seq, batch, ").append(net.inputSize())
          .append("]\n");
    }
    for (Stage s : net.stages()) {
      s.accept(d);
    }
    d.sb.append("output: ").append(d.in).append(" [").append(net.outputSize()).append(']')
        .append(net.lastStepOnly() ? " per sequence" : " per step").append('\n');
    d.sb.append("state: ").append(net.stateNames()).append('\n');
    d.sb.append("lengths: forward(x, lengths), a list of sequences and the trainer run each")
        .append(" sequence over its own steps only (packed, as torch's pack_padded_sequence):")
        .append(" the padding is never read, the output after a sequence's end is zero, the")
        .append(" final state is each sequence's own")
        .append(net.stages().stream().anyMatch(s -> !s.streams())
            ? ", the reverse direction starts at each sequence's last step" : "")
        .append(net.lastStepOnly() ? ", lastStep() takes each sequence's last real step" : "")
        .append("; losses count the real steps only\n");
    d.sb.append("parameters: ").append(net.parameterCount()).append(" in ")
        .append(net.parameters().size()).append(" tensors");
    return d.sb.toString();
  }

  @Override public Void recurrent(Stage.Recurrent r) {
    String h = r.symbol();
    boolean bi = r.bidirectional();
    sb.append("layer ").append(r.layer()).append(": ").append(r.spec().describe())
        .append(r.activationNote()).append('\n');
    for (Stage.Direction d : r.directions()) {
      String hv = h + (bi ? (d.reverse() ? "←" : "→") : "");
      String prev = d.reverse() ? "_{t+1}" : "_{t-1}";
      for (String eq : r.equations(d, in, hv, prev)) {
        sb.append("    ").append(eq).append('\n');
      }
      if (r.initial() == Stage.InitialState.HANDED_OFF) {
        sb.append("    initial state: ").append(hv).append("_0 = ").append(previousState)
            .append(hv.substring(h.length())).append("_T (handed off)\n");
      } else if (r.initial() == Stage.InitialState.LEARNED) {
        sb.append("    initial state: ").append(hv).append("_0 = h0").append(d.suffix())
            .append(d.states().size() > 1 ? ", c0" + d.suffix() : "").append(" (learned)\n");
      } else {
        sb.append("    initial state: zeros, or the state passed in\n");
      }
    }
    sb.append("    parameters: ").append(params(r.parameters())).append('\n');
    String state = r.stateCount() > 1 ? h + ", c" + r.layer() : h;
    sb.append("    state carried across time: ").append(state).append(" [")
        .append(r.spec().out()).append("]")
        .append(r.spec().projection() > 0 ? " (" + h + " projected to " + r.spec().projection()
            + ")" : "")
        .append(bi ? " per direction" : "").append('\n');
    String out = bi ? r.spec().merge().equation(h + "→_t", h + "←_t") : h + "_t";
    sb.append("    output: ").append(out).append(" [").append(r.outputSize()).append("]\n");
    in = out;
    previousState = h;
    return null;
  }

  @Override public Void pointwise(Stage.Pointwise a) {
    String y = "y" + a.layer() + "_t";
    sb.append("layer ").append(a.layer()).append(": ").append(a.activation().label())
        .append("(), on the output sequence, outside any recurrence\n");
    sb.append("    ").append(y).append(" = ").append(a.activation().label()).append('(')
        .append(in).append(")\n");
    in = y;
    return null;
  }

  @Override public Void dense(Stage.Dense d) {
    String y = "y" + d.layer() + "_t";
    sb.append("layer ").append(d.layer()).append(": ").append(d.spec().describe())
        .append(", on every step\n");
    sb.append("    ").append(y).append(" = ").append(d.weight().name()).append(" · ").append(in)
        .append(" + ").append(d.bias().name()).append('\n');
    sb.append("    parameters: ").append(params(d.parameters())).append('\n');
    in = y;
    return null;
  }

  @Override public Void embedding(Stage.Embedding e) {
    String y = "e" + e.layer() + "_t";
    sb.append("layer ").append(e.layer()).append(": ").append(e.written())
        .append(", a row of the embedding per token id\n");
    sb.append("    ").append(y).append(" = ").append(e.weight().name()).append("[id_t]")
        .append(e.spec().paddingId() >= 0 ? "   (id " + e.spec().paddingId()
            + " is padding: its row stays zero and gets no gradient)" : "").append('\n');
    sb.append("    parameters: ").append(params(e.parameters())).append('\n');
    in = y;
    return null;
  }

  @Override public Void dropout(Stage.Dropout d) {
    String y = "y" + d.layer() + "_t";
    sb.append("layer ").append(d.layer()).append(": dropout(").append(d.p())
        .append("), in training only\n");
    sb.append("    ").append(y).append(" = ").append(in).append(" ⊙ m_t / ").append(1 - d.p())
        .append(", m_t ~ Bernoulli(").append(1 - d.p()).append(")\n");
    in = y;
    return null;
  }

  @Override public Void lastStep(Stage.LastStep l) {
    sb.append("layer ").append(l.layer()).append(": lastStep()\n");
    String y = in.endsWith("_t") ? in.substring(0, in.length() - 2) + "_T" : in + " at T";
    sb.append("    y = ").append(y).append(" (the final step only)\n");
    in = y;
    return null;
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
