package dev.rnn.examples.walkthrough;

import static dev.rnn.dsl.Rnn.network;

import dev.rnn.core.Tensor;
import dev.rnn.dsl.Initializer;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.Stacking;
import dev.rnn.dsl.State;

/**
 * Walkthrough 1 answers "is the recurrence at the layer level or at the network level?" with the
 * seed network {@code network().recurrent(2, 2).relu().recurrent(2, 1)}, every weight 1 and every
 * bias 0, in both stacking modes.
 *
 * <p>Layers are numbered as {@link Network#describe()} numbers them: {@code recurrent(2, 2)} is
 * layer 1, {@code relu()} layer 2, {@code recurrent(2, 1)} layer 3. {@code recurrent(in, out)} is
 * the linear recurrence {@code s_t = W_ih x_t + W_hh s_{t-1} + b}; the stacking mode says where
 * the relu after it goes:
 *
 * <pre>
 * STATES  h1_t = relu(W_ih x_t + W_hh h1_{t-1})    layer 1 carries the activated h1
 * OUTPUTS s1_t = W_ih x_t + W_hh s1_{t-1}          layer 1 carries the pre-activation s1;
 *         y2_t = relu(s1_t)                        only layer 3 sees the relu
 * </pre>
 *
 * <p>On {@code [[1, 1], [2, 2], [3, 3]]} both give {@code [4], [20], [64]}; on {@code [[-1, -1],
 * [2, 2], [1, 1]]} STATES gives {@code 0, 8, 28} and OUTPUTS {@code 0, 0, 4}. The walkthrough
 * steps each network one step at a time ({@link Network#step}) and prints what each layer carries
 * and what it passes up, read from the returned {@link State} and from one-layer sub-networks.
 */
final class LayerOrNetworkRecurrence {
  static final double[][] SEED_INPUT = {{1, 1}, {2, 2}, {3, 3}};
  static final double[][] DIFFERING_INPUT = {{-1, -1}, {2, 2}, {1, 1}};

  private LayerOrNetworkRecurrence() {}

  /** {@return the walkthrough's text} */
  public static String run() {
    Report r = new Report();
    r.line("Walkthrough 1: is the recurrence at the layer level or at the network level?");
    r.line();
    r.line("The seed network network().recurrent(2, 2).relu().recurrent(2, 1), every weight 1 and");
    r.line("every bias 0 (Initializer.constant(1, 0)). Layers are numbered as describe() numbers");
    r.line("them: recurrent(2, 2) is layer 1, relu() layer 2, recurrent(2, 1) layer 3.");
    r.line("recurrent(in, out) is the linear recurrence s_t = W_ih x_t + W_hh s_{t-1} + b; the");
    r.line("stacking mode says where the relu after it goes:");
    r.line("  STATES  (paper style): inside layer 1's recurrence,");
    r.line("          h1_t = relu(W_ih x_t + W_hh h1_{t-1})");
    r.line("  OUTPUTS (Keras style): on layer 1's output sequence, outside its recurrence,");
    r.line("          s1_t = W_ih x_t + W_hh s1_{t-1},  y2_t = relu(s1_t)");
    r.line();
    Network states = seedNetwork(Stacking.STATES);
    Network outputs = seedNetwork(Stacking.OUTPUTS);

    r.line("1. On x = %s", Report.tensor(Tensor.ofRows(SEED_INPUT)));
    r.line("   STATES   y = %s", Report.tensor(states.forward(Tensor.ofRows(SEED_INPUT))));
    r.line("   OUTPUTS  y = %s", Report.tensor(outputs.forward(Tensor.ofRows(SEED_INPUT))));
    r.line("   The same: every pre-activation is positive, so the relu changes no value that");
    r.line("   either mode carries across time.");
    r.line();
    r.line("2. On x = %s", Report.tensor(Tensor.ofRows(DIFFERING_INPUT)));
    r.line("   STATES   y = %s", Report.tensor(states.forward(Tensor.ofRows(DIFFERING_INPUT))));
    r.line("   OUTPUTS  y = %s", Report.tensor(outputs.forward(Tensor.ofRows(DIFFERING_INPUT))));
    r.line("   Different: at step 1 layer 1's pre-activation is -2, and the modes carry different");
    r.line("   values of it into step 2.");
    r.line();
    r.line("3. Why, one step at a time (Network.step; the states are the State it returns):");
    r.line();
    statesSteps(r, states);
    r.line();
    outputsSteps(r, outputs);
    r.line();
    r.line("   At step 2 layer 1 gets W_ih x_2 = 4 per unit from the input in both modes.");
    r.line("   STATES adds W_hh h1_1 = 0 (the relu already clipped -2 to 0) and gets 4;");
    r.line("   OUTPUTS adds W_hh s1_1 = -4 (the -2 itself, twice) and gets 0. Layer 3 computes");
    r.line("   the same in both modes; it only sees different sequences. So the recurrence is");
    r.line("   always per layer: each layer feeds back its own state. The stacking mode decides");
    r.line("   whether the activation is part of that state (STATES) or only of what the next");
    r.line("   layer sees (OUTPUTS).");
    r.line();
    r.line("4. The equations of each network, from describe():");
    r.line();
    r.block("   ", states.describe());
    r.line();
    r.block("   ", outputs.describe());
    return r.toString();
  }

  /** {@code network().recurrent(2, 2).relu().recurrent(2, 1)}, weights 1, biases 0. */
  static Network seedNetwork(Stacking mode) {
    return network().recurrent(2, 2).relu().recurrent(2, 1).stacking(mode)
        .initializer(Initializer.constant(1, 0)).build();
  }

  /**
   * STATES: layer 1's state is the activated h1, which is also what it passes up. Its
   * pre-activation comes from the linear layer alone, {@code network().recurrent(2, 2)}, stepped
   * from layer 1's previous state.
   */
  private static void statesSteps(Report r, Network net) {
    Network linear = network().recurrent(2, 2).initializer(Initializer.constant(1, 0)).build();
    Network layer1 = network().recurrent(2, 2).relu().stacking(Stacking.STATES)
        .initializer(Initializer.constant(1, 0)).build();
    r.line("   STATES: layer 1 carries h1 (after the relu) and passes the same h1 up");
    r.line("     t  x_t        %-24s  %-14s  %-14s  y_t", "W_ih x_t + W_hh h1_{t-1}",
        "h1_t = relu(.)", "h3_t (carried)");
    State s = null;
    State s1 = null;
    for (int t = 0; t < DIFFERING_INPUT.length; t++) {
      Tensor x = Tensor.of(DIFFERING_INPUT[t], 2);
      Tensor pre = linear.step(x, s1).output();
      s1 = layer1.step(x, s1).state();
      Network.Result step = net.step(x, s);
      s = step.state();
      r.line("     %d  %-9s  %-24s  %-14s  %-14s  %s", t + 1, Report.tensor(x),
          Report.tensor(pre), Report.tensor(s.get("h_l0")), Report.tensor(s.get("h_l1")),
          Report.tensor(step.output()));
    }
  }

  /**
   * OUTPUTS: layer 1's state is the pre-activation s1; what it passes up is relu(s1), the output
   * of the one-layer network {@code network().recurrent(2, 2).relu()}.
   */
  private static void outputsSteps(Report r, Network net) {
    Network layer1 = network().recurrent(2, 2).relu().stacking(Stacking.OUTPUTS)
        .initializer(Initializer.constant(1, 0)).build();
    r.line("   OUTPUTS: layer 1 carries s1 (before the relu) and passes relu(s1) up");
    r.line("     t  x_t        %-14s  %-29s  %-14s  y_t", "s1_t (carried)",
        "y2_t = relu(s1_t) (passed up)", "s3_t (carried)");
    State s = null;
    State s1 = null;
    for (int t = 0; t < DIFFERING_INPUT.length; t++) {
      Tensor x = Tensor.of(DIFFERING_INPUT[t], 2);
      Network.Result up = layer1.step(x, s1);
      s1 = up.state();
      Network.Result step = net.step(x, s);
      s = step.state();
      r.line("     %d  %-9s  %-14s  %-29s  %-14s  %s", t + 1, Report.tensor(x),
          Report.tensor(s.get("h_l0")), Report.tensor(up.output()), Report.tensor(s.get("h_l1")),
          Report.tensor(step.output()));
    }
  }
}
