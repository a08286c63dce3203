package dev.rnn.autograd;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableList;
import dev.rnn.core.Lengths;
import dev.rnn.core.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Backpropagation through time, full or truncated: the plan that splits a sequence into {@link
 * Window windows}, and the forward of one window.
 *
 * <p>The backpropagation itself is the backward of the recorded forward ({@link Graph#backward}:
 * the scan run in reverse, accumulating into shared weights); this class decides which steps each
 * forward records, from which state, and which steps' losses it counts. A training loop is
 *
 * <pre>{@code
 * List<Tensor> carried = null;                                     // the initial state (zeros)
 * for (Bptt.Window w : bptt.windows(T)) {
 *   Graph g = Graph.training(seed);
 *   Bptt.WindowForward f = bptt.forward(g, model, input, w, carried);
 *   Value loss = Ops.mse(g, f.output(), target.slice(0, w.lossFrom(), w.end()), null);
 *   optimizer.zeroGrad();
 *   g.backward(loss);                                              // steps w.end()-1 .. w.start()
 *   optimizer.step();
 *   carried = f.carried();                                         // detached: a constant
 * }
 * }</pre>
 *
 * <p>Truncated BPTT with the usual two lengths (Williams and Peng 1990): every {@code k1} steps
 * the loss of those {@code k1} steps is backpropagated through the last {@code k2} steps (k1 &lt;=
 * k2), from the state at step {@code e - k2}, which is carried from the previous forward and
 * detached (a constant: no gradient flows into earlier steps). Full BPTT is {@code k1 = k2 = T}:
 * one window over the whole sequence.
 *
 * <pre>
 *   for e = k1, 2 k1, ..., T (the last window may be shorter):
 *     window [s, e) with s = max(0, e - k2), from the state carried at s
 *     counts the losses of [e - k1, e)   ([previous e, T) for the last)  every step's, once
 *     carries the state at the next window's start, max(0, min(e + k1, T) - k2)
 * </pre>
 *
 * <p>A model whose output is only the last step ({@code [N, F]}) trains with full BPTT only:
 * truncation needs an output per step to split the loss into windows.
 */
public final class Bptt {
  private final int k1;
  private final int k2;

  private Bptt(int k1, int k2) {
    this.k1 = k1;
    this.k2 = k2;
  }

  /**
   * Full backpropagation through time: the whole sequence is one window.
   *
   * @return full BPTT
   */
  public static Bptt full() {
    return new Bptt(0, 0);
  }

  /**
   * Truncated BPTT: a window every {@code k1} steps, backpropagating {@code k2} steps.
   *
   * @param k1 the steps between updates, whose losses a window counts
   * @param k2 the steps each window's loss backpropagates through
   * @return truncated BPTT
   * @throws IllegalArgumentException unless {@code 1 <= k1 <= k2}, since with {@code k2 < k1} the
   *     losses of the first {@code k1 - k2} steps of each window would reach no weight at their
   *     own step, which would skip them silently
   */
  public static Bptt truncated(int k1, int k2) {
    checkArgument(k1 >= 1, "truncated BPTT expected k1 >= 1 but got k1 = %s", k1);
    checkArgument(k2 >= k1,
        "truncated BPTT expected k2 >= k1 (every step's loss is backpropagated) but got k1 = %s,"
            + " k2 = %s", k1, k2);
    return new Bptt(k1, k2);
  }

  /** {@return whether this is full BPTT} */
  public boolean isFull() {
    return k1 == 0;
  }

  /**
   * {@code k1}, or 0 for full BPTT.
   *
   * @return {@code k1}
   */
  public int k1() {
    return k1;
  }

  /**
   * {@code k2}, or 0 for full BPTT.
   *
   * @return {@code k2}
   */
  public int k2() {
    return k2;
  }

  // ---- the plan ------------------------------------------------------------------------------

  /**
   * One forward and backward pass of BPTT over steps {@code [start, end)} of a sequence.
   *
   * <pre>
   *   start &lt;= lossFrom &lt; end          the forward runs [start, end) from the state at start
   *   start &lt;= carryAt &lt;= end          the next window starts from the state at carryAt
   * </pre>
   *
   * @param index the window's number in the plan, from 0
   * @param start the first step the forward runs, from the state carried at it (the initial
   *     state for 0)
   * @param end one past the last step the forward runs
   * @param lossFrom the first step whose loss the window counts: it counts {@code [lossFrom,
   *     end)}, the steps after the previous window's end
   * @param carryAt the step whose state the next window starts from: {@code start} (the state
   *     this window started from), the end of a shorter first forward, or {@code end}; {@code
   *     end} for the last window
   */
  public record Window(int index, int start, int end, int lossFrom, int carryAt) {
    /**
     * Checks the order of the steps.
     *
     * @param index the window's number in the plan, from 0
     * @param start the first step the forward runs
     * @param end one past the last step the forward runs
     * @param lossFrom the first step whose loss the window counts
     * @param carryAt the step whose state the next window starts from
     * @throws IllegalArgumentException unless {@code 0 <= start <= lossFrom < end} and {@code
     *     start <= carryAt <= end}
     */
    public Window {
      checkArgument(index >= 0 && 0 <= start && start <= lossFrom && lossFrom < end
          && start <= carryAt && carryAt <= end,
          "a BPTT window expected index >= 0, 0 <= start <= lossFrom < end and start <= carryAt"
              + " <= end but got index %s, start %s, lossFrom %s, end %s, carryAt %s", index,
          start, lossFrom, end, carryAt);
    }

    /** {@return the number of steps the forward runs, {@code end - start}} */
    public int steps() {
      return end - start;
    }
  }

  /**
   * The windows of a sequence of {@code steps} steps, in order: their counted steps {@code
   * [lossFrom, end)} cover {@code [0, steps)} once.
   *
   * @param steps the sequence length T
   * @return one window for full BPTT (or {@code k1 >= T}), else {@code ceil(T / k1)}
   * @throws IllegalArgumentException if {@code steps < 1}
   */
  public ImmutableList<Window> windows(int steps) {
    checkArgument(steps >= 1, "%s expected a sequence of at least one step but got %s", this,
        steps);
    int c1 = isFull() ? steps : Math.min(k1, steps);
    int c2 = isFull() ? steps : k2;
    ImmutableList.Builder<Window> windows = ImmutableList.builder();
    int counted = 0;
    for (int e = c1, index = 0; ; e = Math.min(e + c1, steps), index++) {
      int s = Math.max(0, e - c2);
      // the next window's start: where the state it starts from is taken
      int nextStart = Math.max(0, Math.min(e + c1, steps) - c2);
      windows.add(new Window(index, s, e, counted, e == steps ? e : nextStart));
      counted = e;
      if (e == steps) {
        return windows.build();
      }
    }
  }

  // ---- the forward of one window -------------------------------------------------------------

  /**
   * What the forward of one window gives the caller.
   *
   * @param output the output at the counted steps {@code [lossFrom, end)}, {@code [end -
   *     lossFrom, N, F]}; for a window over the whole sequence, the model's output as it is
   *     (which may be the last step only, {@code [N, F]})
   * @param carried the state at the window's {@code carryAt}, detached, for the next window
   */
  public record WindowForward(Value output, List<Tensor> carried) {}

  /**
   * Records the forward of {@code window} in {@code g}, a fresh graph, from {@code carried}, the
   * state at the window's start: one forward over {@code [start, end)}, or two ({@code [start,
   * carryAt)} then {@code [carryAt, end)}) where the next window starts inside this one.
   *
   * @param g the graph recording the forward, fresh: its backward runs this window's steps only
   * @param model the model
   * @param input the whole sequence, time-major {@code [T, N, F]}
   * @param window a window of {@link #windows(int) windows(T)}
   * @param carried the state at {@code window.start()} ({@link WindowForward#carried()} of the
   *     window before), or null for the model's initial state; used as constants
   * @return the output at the counted steps and the state for the next window
   * @throws IllegalArgumentException if {@code input} is not {@code [T, N, F]} with {@code T >=
   *     window.end()}
   * @throws IllegalStateException if the window does not cover the whole sequence and the model's
   *     output is only the last step
   */
  public WindowForward forward(Graph g, SequenceModel model, Tensor input, Window window,
      List<Tensor> carried) {
    return forward(g, model, input, window, carried, null);
  }

  /**
   * As {@link #forward(Graph, SequenceModel, Tensor, Window, List)} for sequences of different
   * lengths: the window's forward runs each sequence over its steps within the window ({@link
   * Lengths#window}: none for a sequence that ended before the window starts, whose state is
   * carried on unchanged), so the state carried out of the window is each sequence's own.
   *
   * @param g the graph recording the forward, fresh
   * @param model the model
   * @param input the whole sequence, time-major {@code [T, N, F]}
   * @param window a window of {@link #windows(int) windows(T)}
   * @param carried the state at {@code window.start()}, or null for the model's initial state
   * @param lengths the length of each sequence in the whole input, or null for {@code T} each
   * @return the output at the counted steps and the state for the next window
   * @throws IllegalArgumentException as {@link #forward(Graph, SequenceModel, Tensor, Window,
   *     List)}
   * @throws IllegalStateException as {@link #forward(Graph, SequenceModel, Tensor, Window, List)}
   */
  public WindowForward forward(Graph g, SequenceModel model, Tensor input, Window window,
      List<Tensor> carried, Lengths lengths) {
    checkArgument(input.rank() == 3 && input.dim(0) >= window.end(),
        "BPTT expected a time-major input [seq, batch, features] with seq >= %s (the end of"
            + " window %s) but got %s", window.end(), window.index(), input.shape());
    int seq = input.dim(0);
    int s = window.start();
    int e = window.end();
    int c = window.carryAt();
    boolean whole = window.lossFrom() == 0 && e == seq;
    List<Value> init = constants(g, carried);
    Value out;
    List<Tensor> next;
    if (c > s && c < e) {
      SequenceModel.Forward a = model.forward(g, g.constant(input.slice(0, s, c)), init, s,
          within(lengths, s, c, seq));
      checkPerStep(a.output(), seq);
      next = tensors(a.states());
      SequenceModel.Forward b = model.forward(g, g.constant(input.slice(0, c, e)), a.states(), c,
          within(lengths, c, e, seq));
      out = Steps.concat(g, a.output(), b.output());
    } else {
      SequenceModel.Forward a = model.forward(g, g.constant(input.slice(0, s, e)), init, s,
          within(lengths, s, e, seq));
      out = a.output();
      if (!whole) {
        checkPerStep(out, seq);
      }
      next = c == e ? tensors(a.states()) : carried;
    }
    if (!whole) {
      out = Steps.slice(g, out, window.lossFrom() - s, e - s);
    }
    return new WindowForward(out, next);
  }

  /** The lengths within steps {@code [from, to)}; null for none, or for the whole input. */
  private static Lengths within(Lengths lengths, int from, int to, int seq) {
    if (lengths == null || from == 0 && to == seq) {
      return lengths;
    }
    return lengths.window(from, to - from);
  }

  /** Truncation splits the output by step: a last-step-only output cannot be split. */
  private void checkPerStep(Value out, int seq) {
    if (out.shape().rank() != 3) {
      throw new IllegalStateException(this + " over " + seq + " steps needs an output per step"
          + " [seq, batch, features] but the model gives " + out.shape() + " (only the last"
          + " step?); train it with Bptt.full(), or keep every step's output");
    }
  }

  private static List<Value> constants(Graph g, List<Tensor> states) {
    if (states == null) {
      return null;
    }
    List<Value> v = new ArrayList<>();
    for (Tensor t : states) {
      v.add(t == null ? null : g.constant(t));
    }
    return v;
  }

  private static List<Tensor> tensors(List<Value> values) {
    List<Tensor> t = new ArrayList<>();
    for (Value v : values) {
      t.add(v.tensor());
    }
    return t;
  }

  // ---- gradients without an optimizer --------------------------------------------------------

  /** The loss of a window: steps {@code [from, to)} of the sequence, output given for those. */
  @FunctionalInterface
  public interface WindowLoss {
    /**
     * The scalar loss of {@code output}, which holds steps {@code [from, to)}.
     *
     * @param g the graph recording the loss
     * @param output the window's output at its counted steps, {@code [to - from, N, F]} (or
     *     {@code [N, F]} for the last step only)
     * @param from the first counted step of the window in the whole sequence
     * @param to the step after the window's last
     * @return a one-element value
     */
    Value apply(Graph g, Value output, int from, int to);
  }

  /**
   * What {@link #accumulate} did.
   *
   * @param windowLosses the loss of each window, in order
   * @param flows the gradient flow of each window's backward pass
   */
  public record Pass(ImmutableList<Double> windowLosses, ImmutableList<GradientFlow> flows) {
    /** {@return the mean of the window losses} */
    public double meanLoss() {
      return windowLosses.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }
  }

  /**
   * Adds the gradients of every window to the parameters without updating them (gradients are
   * not zeroed first): with one window, the full BPTT gradient. For gradient checks and tests;
   * window {@code i} is recorded in {@code Graph.training(i)}.
   *
   * @param model the model whose parameters' gradients grow
   * @param input time-major {@code [T, N, F]}
   * @param states initial states (null for zeros)
   * @param loss the loss of each window's output
   * @return the window losses and gradient flows
   * @throws IllegalArgumentException if {@code input} is not {@code [T, N, F]} with {@code T >=
   *     1}
   * @throws IllegalStateException if this is truncated BPTT over more than one window and the
   *     model's output is only the last step
   */
  public Pass accumulate(SequenceModel model, Tensor input, List<Tensor> states,
      WindowLoss loss) {
    return accumulate(model, input, states, null, loss);
  }

  /**
   * As {@link #accumulate(SequenceModel, Tensor, List, WindowLoss)} for sequences of different
   * lengths (see {@link #forward(Graph, SequenceModel, Tensor, Window, List, Lengths)}).
   *
   * @param model the model whose parameters' gradients grow
   * @param input time-major {@code [T, N, F]}
   * @param states initial states (null for zeros)
   * @param lengths the length of each sequence, or null for {@code T} each
   * @param loss the loss of each window's output
   * @return the window losses and gradient flows
   */
  public Pass accumulate(SequenceModel model, Tensor input, List<Tensor> states, Lengths lengths,
      WindowLoss loss) {
    checkArgument(input.rank() == 3 && input.dim(0) >= 1,
        "BPTT expected a time-major input [seq, batch, features] with seq >= 1 but got %s",
        input.shape());
    ImmutableList.Builder<Double> losses = ImmutableList.builder();
    ImmutableList.Builder<GradientFlow> flows = ImmutableList.builder();
    List<Tensor> carried = states;
    for (Window w : windows(input.dim(0))) {
      Graph g = Graph.training(w.index());
      WindowForward f = forward(g, model, input, w, carried, lengths);
      Value l = loss.apply(g, f.output(), w.lossFrom(), w.end());
      g.backward(l);
      losses.add(l.item());
      flows.add(g.gradientFlow());
      carried = f.carried();
    }
    return new Pass(losses.build(), flows.build());
  }

  @Override public String toString() {
    return isFull() ? "full BPTT" : "truncated BPTT(k1 = " + k1 + ", k2 = " + k2 + ")";
  }
}
