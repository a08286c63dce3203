package dev.rnn.dsl;

/**
 * Where the recurrence sits when recurrent layers are stacked: inside each layer with its
 * activation (STATES, paper style) or around each layer as a unit (OUTPUTS, Keras style).
 *
 * <p>With {@code network().recurrent(2, 2).relu().recurrent(2, 1)}:
 *
 * <pre>
 * STATES  (Graves, Mohamed and Hinton 2013, eq. 11-12): the relu is layer 1's H, inside its
 *         recurrence; layer 1 carries h, and its hidden sequence feeds layer 2
 *   h1_t = relu(W_xh1 x_t + W_h1h1 h1_{t-1} + b1)
 *   h2_t =      W_h1h2 h1_t + W_h2h2 h2_{t-1} + b2          (identity: nothing follows)
 * OUTPUTS (Keras): each recurrent layer is linear and complete; the relu acts on its output
 *         sequence, outside the recurrence; layer 1 carries the pre-activation state s
 *   s1_t = W_xh1 x_t + W_h1h1 s1_{t-1} + b1,   y1_t = relu(s1_t)
 *   s2_t = W_h2 y1_t + W_h2h2 s2_{t-1} + b2
 * </pre>
 *
 * <p>The two agree while no activation changes a value that the recurrence carries (the seed
 * input, all positive, gives [4], [20], [64] both ways) and differ as soon as one does: a negative
 * pre-activation is carried as it is by OUTPUTS but as 0 by STATES.
 *
 * <p>Gated cells ({@code lstm}, {@code gru}) and {@code elman(in, out, activation)} carry their
 * own nonlinearities inside the recurrence in both modes; an activation after them acts on their
 * output sequence in both modes.
 */
public enum Stacking {
  /** Paper style: an activation right after {@code recurrent(in, out)} is inside its recurrence. */
  STATES("paper style: an activation right after recurrent(in, out) is inside its recurrence;"
      + " each layer's hidden sequence feeds the next", "activation inside the recurrence"),
  /** Keras style (the default): activations act on each layer's output sequence. */
  OUTPUTS("Keras style: each recurrent layer is a unit; activations act on its output sequence",
      "activations on the output sequence");

  private final String explanation;
  private final String shortExplanation;

  Stacking(String explanation, String shortExplanation) {
    this.explanation = explanation;
    this.shortExplanation = shortExplanation;
  }

  /** What the mode means, for {@code describe()}. */
  String explanation() {
    return explanation;
  }

  /** What the mode means in a few words, for the unrolled graph's subtitle. */
  String shortExplanation() {
    return shortExplanation;
  }
}
