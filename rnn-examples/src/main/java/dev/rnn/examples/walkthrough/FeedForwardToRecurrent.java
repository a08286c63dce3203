package dev.rnn.examples.walkthrough;

import static dev.rnn.dsl.Rnn.network;

import dev.rnn.core.Activation;
import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.State;
import java.util.List;
import java.util.Map;

/**
 * Walkthrough 2 answers "what turns a feed-forward network into a recurrent one?": a dense layer
 * maps each step on its own, {@code h_t = act(W x_t + b)}; a recurrent layer also feeds its
 * previous output back, {@code h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)}.
 *
 * <p>It builds a feed-forward network and a recurrent one with the same sizes and activations (a
 * tanh layer, a relu layer, a dense output), shows that only the recurrent one remembers an
 * earlier step, lists the weights by what they connect (input to hidden, hidden to hidden, hidden
 * to output) from {@link Network#namedParameters()}, and checks numerically that one step of a
 * layer is a single matrix on the concatenation: {@code [W_ih | W_hh] [x; h] = W_ih x + W_hh h}.
 */
final class FeedForwardToRecurrent {
  static final long SEED = 7;
  /** Two sequences of 3 steps of 3 features that differ only at step 1. */
  static final double[][] SEQUENCE_A = {{1, -1, 0.5}, {0.5, 0.5, -0.5}, {-1, 0, 1}};
  static final double[][] SEQUENCE_B = {{-1, 1, -0.5}, {0.5, 0.5, -0.5}, {-1, 0, 1}};

  private FeedForwardToRecurrent() {}

  /** {@return the walkthrough's text} */
  public static String run() {
    Report r = new Report();
    r.line("Walkthrough 2: from a feed-forward network to a recurrent one");
    r.line();
    r.line("A dense layer maps every step on its own:        h_t = act(W x_t + b)");
    r.line("A recurrent layer also feeds its output back:    h_t = act(W_ih x_t + b_ih"
        + " + W_hh h_{t-1} + b_hh)");
    r.line("The extra term W_hh h_{t-1} is the whole difference: it is how step t sees steps < t.");
    r.line();
    Network feedForward = network().dense(3, 4).tanh().dense(4, 2).relu().dense(2, 1)
        .dtype(DType.FLOAT64).seed(SEED).build();
    Network recurrent = network().elman(3, 4, Activation.TANH).elman(4, 2, Activation.RELU)
        .dense(2, 1).dtype(DType.FLOAT64).seed(SEED).build();
    r.line("1. Two networks with the same sizes and activations (float64, torch's default");
    r.line("   initialisation from seed %d):", SEED);
    r.line("   feed-forward: %s", "network()." + feedForward.spec());
    r.line("   recurrent:    %s", "network()." + recurrent.spec());
    r.line("   a tanh layer of 4 units, a relu layer of 2, a dense output of 1, on 3 features.");
    r.line();
    r.line("   Two sequences that differ only at step 1:");
    r.line("     a = %s", Report.tensor(Tensor.ofRows(SEQUENCE_A)));
    r.line("     b = %s", Report.tensor(Tensor.ofRows(SEQUENCE_B)));
    memory(r, "feed-forward", feedForward);
    memory(r, "recurrent", recurrent);
    r.line("   The feed-forward outputs at steps 2 and 3 do not depend on step 1; the recurrent");
    r.line("   ones do, through W_hh h_{t-1}.");
    r.line();
    r.line("2. The weights, from namedParameters() (torch's names; a weight is [to, from]):");
    r.line();
    r.line("   recurrent: %s numbers", recurrent.parameterCount());
    weights(r, recurrent);
    r.line();
    r.line("   feed-forward: %s numbers, and no hidden -> hidden weight across time",
        feedForward.parameterCount());
    weights(r, feedForward);
    r.line();
    r.line("   Each recurrent layer adds a square weight_hh [H, H] (and torch's second bias");
    r.line("   bias_hh [H]): %d more numbers here.",
        recurrent.parameterCount() - feedForward.parameterCount());
    r.line();
    concatenation(r, recurrent);
    r.line();
    r.line("4. The layers, from describe():");
    r.line();
    r.block("   ", recurrent.describe());
    return r.toString();
  }

  private static void memory(Report r, String name, Network net) {
    Tensor ya = net.forward(Tensor.ofRows(SEQUENCE_A));
    Tensor yb = net.forward(Tensor.ofRows(SEQUENCE_B));
    double later = ya.slice(0, 1, 3).maxAbsDiff(yb.slice(0, 1, 3));
    r.line("   %-13s y(a) = %s", name, Report.tensor(ya));
    r.line("   %-13s y(b) = %s", "", Report.tensor(yb));
    r.line("   %-13s max |y(a) - y(b)| at steps 2 and 3: %s", "", Report.error(later));
  }

  /**
   * One line per parameter: its name, shape and what it connects, read from its torch-style name
   * in network order. A weight that feeds forward ({@code weight_ih_lK}, {@code denseK.weight})
   * maps one representation to the next: {@code x_t -> h1_t -> h2_t -> ... -> y_t}; a {@code
   * weight_hh_lK} maps a layer's representation at {@code t-1} to itself at {@code t}.
   */
  private static void weights(Report r, Network net) {
    long forwardWeights = net.namedParameters().keySet().stream()
        .filter(FeedForwardToRecurrent::feedsForward).count();
    int at = 0;
    for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
      String name = e.getKey();
      int[] shape = e.getValue().shape().dims();
      String role;
      if (feedsForward(name)) {
        String from = at == 0 ? "x_t" : "h" + at + "_t";
        at++;
        String to = at == forwardWeights ? "y_t" : "h" + at + "_t";
        String kind = at == 1 ? "input -> hidden" : at == forwardWeights ? "hidden -> output"
            : "hidden -> hidden, next layer";
        role = String.format("%-28s  %s (%d) -> %s (%d), same step", kind, from, shape[1], to,
            shape[0]);
      } else if (name.startsWith("weight_hh")) {
        role = String.format("%-28s  h%d_{t-1} (%d) -> h%d_t (%d), across time",
            "hidden -> hidden, recurrence", at, shape[1], at, shape[0]);
      } else {
        role = String.format("%-28s  added to %s", "bias",
            at == forwardWeights ? "y_t" : "h" + at + "_t");
      }
      r.line("     %-14s %-7s %s", name, e.getValue().shape(), role);
    }
  }

  private static boolean feedsForward(String name) {
    return name.startsWith("weight_ih") || name.endsWith(".weight");
  }

  /**
   * Section 3: layer 1's weights joined along columns, applied to {@code [x_2; h1_1]}, against the
   * two products apart; then the activation of that sum against the network's own {@code h1_2}.
   */
  private static void concatenation(Report r, Network net) {
    Tensor wIh = net.parameter("weight_ih_l0");
    Tensor wHh = net.parameter("weight_hh_l0");
    Tensor b = net.parameter("bias_ih_l0").add(net.parameter("bias_hh_l0"));
    State s1 = net.step(Tensor.of(SEQUENCE_A[0], 3), null).state();
    State s2 = net.step(Tensor.of(SEQUENCE_A[1], 3), s1).state();
    Tensor x = Tensor.of(SEQUENCE_A[1], 3, 1);
    Tensor h = s1.get("h_l0").reshape(-1, 1);
    Tensor w = Tensor.concat(1, List.of(wIh, wHh));
    Tensor xh = Tensor.concat(0, List.of(x, h));
    Tensor joined = w.matmul(xh);
    Tensor apart = wIh.matmul(x).add(wHh.matmul(h));
    r.line("3. One step of a recurrent layer is one matrix on the concatenation [x; h]:");
    r.line("   W = [W_ih | W_hh] = Tensor.concat(1, weight_ih_l0 %s, weight_hh_l0 %s) -> %s",
        wIh.shape(), wHh.shape(), w.shape());
    r.line("   x = x_2 of sequence a = %s", Report.tensor(x.reshape(-1)));
    r.line("   h = h1_1, layer 1's state after step 1 (Network.step) = %s",
        Report.tensor(h.reshape(-1)));
    r.line("   [x; h] = Tensor.concat(0, x, h) -> %s", xh.shape());
    r.line("   W [x; h]          = %s", Report.tensor(joined.reshape(-1)));
    r.line("   W_ih x + W_hh h   = %s", Report.tensor(apart.reshape(-1)));
    r.line("   max abs difference: %s (equal up to rounding)",
        Report.error(joined.maxAbsDiff(apart)));
    Tensor h2 = joined.reshape(-1).add(b).tanh();
    r.line("   tanh(W [x; h] + b_ih + b_hh) = %s", Report.tensor(h2));
    r.line("   h1_2 from the network        = %s", Report.tensor(s2.get("h_l0")));
    r.line("   max abs difference: %s", Report.error(h2.maxAbsDiff(s2.get("h_l0"))));
    r.line("   So an RNN layer is a dense layer on [x_t; h_{t-1}] whose output is fed back: the");
    r.line("   split into W_ih and W_hh (torch's layout) is only a convenience, which lets the");
    r.line("   input products of all steps be computed at once before the loop over time.");
  }
}
