package dev.rnn.autograd;

import dev.rnn.core.Lengths;
import dev.rnn.core.Parameter;
import java.util.List;

/**
 * A model that maps a time-major sequence and initial states to an output sequence and final
 * states, recorded in a {@link Graph}: what {@link Bptt} trains.
 *
 * <p>States are values, passed in and returned: a model keeps none between calls. Shapes: input
 * {@code [T, N, F_in]}, output {@code [T, N, F_out]}; the states are the model's own (for a
 * recurrent stack, {@code h} and {@code c} of each layer and direction, {@code [N, H]} each).
 */
public interface SequenceModel {
  /** {@return the trainable parameters} */
  List<Parameter> parameters();

  /**
   * Records the forward pass over {@code input} from {@code states} (null for the model's
   * default, zeros), returning the output sequence and the final states.
   *
   * <p>{@code input} may be a window of a longer sequence (truncated BPTT runs one forward per
   * window): {@code firstStep} says where it starts, so that the steps the model records are
   * named by their time in the whole sequence ({@code layer 0 step 7}, the times of {@link
   * GradientFlow}); pass it on to {@link Ops#scan} or {@link Ops#stack}.
   *
   * @param g the graph recording the pass
   * @param input the input, time-major {@code [T, N, F]}
   * @param states the initial states, or null
   * @param firstStep the index of {@code input}'s first step in the whole sequence: 0 for a
   *     whole sequence, the window's start for a window of one
   * @return the output and the final states
   */
  Forward forward(Graph g, Value input, List<Value> states, int firstStep);

  /**
   * As {@link #forward(Graph, Value, List, int)}, each sequence over its own steps: sequence
   * {@code n} of the batch runs over its first {@code lengths.get(n)} steps of {@code input} only
   * (0 for one that has ended before this window), as {@link Ops#scan(Graph,
   * dev.rnn.core.Scan, String, Value, List, int, Lengths)} does. A model that cannot take
   * lengths refuses them (the default).
   *
   * @param g the graph recording the pass
   * @param input the input, time-major {@code [T, N, F]}
   * @param states the initial states, or null
   * @param firstStep the index of {@code input}'s first step in the whole sequence
   * @param lengths the length of each sequence within {@code input}, or null for {@code T} each
   * @return the output and the final states
   * @throws UnsupportedOperationException if {@code lengths} is given to a model without them
   */
  default Forward forward(Graph g, Value input, List<Value> states, int firstStep,
      Lengths lengths) {
    if (lengths != null) {
      throw new UnsupportedOperationException(getClass().getSimpleName() + " takes no lengths:"
          + " implement forward(g, input, states, firstStep, lengths) to run sequences of"
          + " different lengths");
    }
    return forward(g, input, states, firstStep);
  }

  /**
   * The result of a forward pass.
   *
   * @param output the output sequence {@code [T, N, F_out]}
   * @param states the final states, in the order {@link #forward} takes them
   */
  record Forward(Value output, List<Value> states) {}
}
