package dev.rnn.autograd;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableList;
import dev.rnn.core.Recurrence;
import dev.rnn.core.Shape;
import dev.rnn.core.Storage;
import java.util.ArrayList;
import java.util.List;

/**
 * A recurrent layer direction in the graph: the scan of a {@link Recurrence} over a time-major
 * sequence, recorded as one node per time step between a node for the input projection and one
 * for the final states.
 *
 * <pre>
 *   recorded, in forward order:   projection | step 0 | step 1 | ... | step T-1 | final states
 *   backward visits them reversed: final-state gradients in, steps T-1 .. 0 (each adds dh_t from
 *   the output, runs the cell's backward, carries dh to the step before), then the projection
 *   adds dW_ih, dW_hh, biases and dX with one gemm each.
 * </pre>
 *
 * <p>Shapes: x {@code [T, N, H_in]}, initial and final states {@code [N, H]}, output {@code [T,
 * N, H]}.
 */
public final class Recur {
  private Recur() {}

  /**
   * The output sequence and final states of one recurrent direction.
   *
   * @param output every step's {@code h_t}, {@code [T, N, H]}
   * @param finalStates {@code h_T} (and {@code c_T}), {@code [N, H]} each
   */
  public record Result(Value output, ImmutableList<Value> finalStates) {}

  /**
   * Scans {@code rec} over {@code x} from {@code init} (null, or null entries, for zeros).
   *
   * @param label names the layer in graphs and in the gradient-flow report
   * @param g the graph recording the op
   * @param rec the recurrence scanned, whose parameters receive the gradients
   * @param x the input, time-major {@code [T, N, H_in]}
   * @param init the initial states, {@code [N, H]} each
   * @return the output sequence and the final states
   */
  public static Result apply(Graph g, Recurrence rec, String label, Value x, List<Value> init) {
    int hidden = rec.cell().hiddenSize();
    checkArgument(x.shape().rank() == 3 && x.dim(2) == rec.cell().inputSize(),
        "%s expected input of shape [seq, batch, %s] but got %s", label, rec.cell().inputSize(),
        x.shape());
    int seq = x.dim(0);
    int batch = x.dim(1);
    int states = rec.cell().stateCount();
    Storage[] init0 = new Storage[states];
    for (int k = 0; k < states; k++) {
      Value v = init == null || k >= init.size() ? null : init.get(k);
      if (v != null) {
        checkArgument(v.shape().equals(Shape.of(batch, hidden)),
            "%s expected initial state %s of shape [%s, %s] but got %s", label, k, batch, hidden,
            v.shape());
        init0[k] = v.data();
      }
    }
    boolean record = g.recording();
    int offset = g.timeOffset();
    Recurrence.Trace tr = rec.forward(x.data(), seq, batch, init0, record, offset);
    Storage out = Storage.allocate(x.dtype(), seq * batch * hidden);
    tr.copyOutput(out, 0, hidden);
    Value output = new Value(Shape.of(seq, batch, hidden), out, record);
    ImmutableList.Builder<Value> finals = ImmutableList.builder();
    List<Value> finalList = new ArrayList<>();
    for (int k = 0; k < states; k++) {
      Storage s = Storage.allocate(x.dtype(), batch * hidden);
      tr.copyFinalState(k, s, 0);
      Value v = new Value(Shape.of(batch, hidden), s, record);
      finals.add(v);
      finalList.add(v);
    }
    if (!record) {
      tr.release();
    }
    if (record) {
      g.record(new Node(label + " input projection") {
        @Override protected void backward() {
          tr.finishBackward(x.requiresGrad() ? x.grad() : null);
          for (int k = 0; k < states; k++) {
            Value v = init == null || k >= init.size() ? null : init.get(k);
            if (v != null && v.requiresGrad()) {
              v.grad().axpy(batch * hidden, 1, tr.stateGradient(k), 0, 0);
            }
          }
        }
      });
      for (int p = 0; p < seq; p++) {
        int step = p;
        int t = offset + tr.time(p);
        g.record(new Node(label + (rec.reverse() ? " reverse" : "") + " step " + t) {
          @Override protected void backward() {
            double norm = tr.backwardStep(step, output.gradOrNull(), 0, hidden);
            g.recordFlow(new GradientFlow.Entry(label, rec.reverse(), t, norm));
          }
        });
      }
      g.record(new Node(label + " final states") {
        @Override protected void backward() {
          tr.beginBackward();
          for (int k = 0; k < states; k++) {
            Storage d = finalList.get(k).gradOrNull();
            if (d != null) {
              tr.addFinalStateGradient(k, d, 0);
            }
          }
        }
      });
    }
    return new Result(output, finals.build());
  }
}
