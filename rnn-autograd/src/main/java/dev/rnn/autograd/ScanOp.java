package dev.rnn.autograd;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkState;

import com.google.common.base.Strings;
import com.google.common.collect.ImmutableList;
import dev.rnn.core.Lengths;
import dev.rnn.core.Scan;
import dev.rnn.core.Shape;
import dev.rnn.core.Storage;
import java.util.List;

/**
 * A {@link Scan} in the graph ({@link Ops#scan}): one direction of a recurrent layer over a
 * time-major sequence, recorded as one node per time step between the two ends of its backward
 * protocol.
 *
 * <pre>
 *   recorded, in forward order:  Finish | Step p=0 | Step p=1 | ... | Step p=T-1 | Begin
 *   backward runs them reversed: Begin    run.backwardByChunks(dL/dh_T, ..)  the final states
 *                                Step p   backward.step(p, dL/doutput)       p = T-1 .. 0
 *                                Finish   backward.finish(dX, dh_0, dc_0)    dW, db: the last chunk
 * </pre>
 *
 * <p>The reversed order is what makes this right: every consumer of the output and of the final
 * states is recorded after {@code Begin}, so their gradients are complete before it runs, and the
 * producers of the input and of the initial states are recorded before {@code Finish}, so they
 * run after it has added to their gradients. {@link Scan.Backward} checks the order of the steps
 * ({@code T-1} down to 0), and each node checks that the one before it in the protocol ran.
 *
 * <p>With {@link Lengths}, sequence {@code n} runs over its first {@code length(n)} steps only
 * (the scan sorts the batch once and shrinks it as sequences end): its output after them is zero
 * and passes no gradient, its final state is the one after its own last step.
 *
 * <p>Shapes (P the scan's {@link Scan#outputSize()}, {@code H} without a projection): x {@code
 * [T, N, H_in]}, initial and final states {@code [N, stateSize(k)]} each, output {@code [T, N,
 * P]}.
 */
final class ScanOp {
  private ScanOp() {}

  /**
   * Scans {@code scan} over {@code x} from {@code init} (null, or null entries, for zeros), and
   * records its backward in {@code g} if {@code g} records.
   *
   * @param g the graph recording the op
   * @param scan the scan, whose parameters receive the gradients
   * @param label names the layer in graphs and in the gradient-flow report
   * @param x the input, time-major {@code [T, N, H_in]}
   * @param init the initial states, {@code [N, H]} each
   * @param firstStep the index of {@code x}'s first step in the whole sequence (the start of a
   *     window of truncated BPTT, else 0): {@link dev.rnn.core.Step#time()}, the step nodes'
   *     labels and the gradient-flow times count from it
   * @param lengths the length of each sequence, or null for {@code T} each
   * @return the output sequence and the final states
   * @throws IllegalArgumentException if the shape of {@code x} or of an initial state does not fit
   */
  static Ops.ScanResult apply(Graph g, Scan scan, String label, Value x, List<Value> init,
      int firstStep, Lengths lengths) {
    int hidden = scan.outputSize();
    checkInput(scan, label, x);
    int seq = x.dim(0);
    int batch = x.dim(1);
    int states = scan.cell().stateCount();
    Value[] initial = new Value[states];
    Storage[] init0 = initialStates(scan, label, batch, init, initial);
    boolean record = g.recording();
    Storage out = Storage.allocate(x.dtype(), seq * batch * hidden);
    Scan.Run run = scan.forward(x.data(), seq, batch, init0, record, firstStep, lengths, out);
    Value output = new Value(Shape.of(seq, batch, hidden), out, record);
    Value[] finals = new Value[states];
    for (int k = 0; k < states; k++) {
      Storage s = Storage.allocate(x.dtype(), batch * scan.stateSize(k));
      run.copyFinalState(k, s, 0);
      finals[k] = new Value(Shape.of(batch, scan.stateSize(k)), s, record);
    }
    if (record) {
      Recording r = new Recording(scan, label, run, x, initial, output, finals);
      g.record(new Finish(r));
      for (int p = 0; p < seq; p++) {
        g.record(new Step(r, g, p, firstStep + run.time(p)));
      }
      g.record(new Begin(r));
    } else {
      run.release();
    }
    return new Ops.ScanResult(output,
        states == 1 ? ImmutableList.of(finals[0]) : ImmutableList.copyOf(finals));
  }

  /**
   * Scans {@code scan} over {@code x} unrecorded with {@code lengths}, its output the packed rows
   * of the real steps ({@link Scan#forwardPacked}), as {@link Steps#pack} of {@link #apply}'s.
   *
   * @param scan the scan
   * @param label names the layer in error messages
   * @param x the input, time-major {@code [T, N, H_in]}
   * @param init the initial states, {@code [N, H]} each, or null (or null entries) for zeros
   * @param firstStep the index of {@code x}'s first step in the whole sequence
   * @param lengths the length of each sequence
   * @return the packed output {@code [R, P]} and the final states, none of them recorded
   * @throws IllegalArgumentException if the shape of {@code x} or of an initial state does not fit
   */
  static Ops.ScanResult applyPacked(Scan scan, String label, Value x, List<Value> init,
      int firstStep, Lengths lengths) {
    return applyPacked(Graph.inference(), scan, label, x, init, firstStep, lengths);
  }

  /**
   * As {@link #applyPacked(Scan, String, Value, List, int, Lengths)}, recorded in {@code g} if it
   * records: the packed rows are then copied from the run's states ({@link Scan.Run#copyPacked}),
   * no padded output is written and gathered, and backward reads each step's rows of the packed
   * gradient ({@link Scan.Backward#stepPacked}). Lengths all equal to {@code T} run as {@link
   * Steps#pack} of {@link #apply}'s output.
   */
  static Ops.ScanResult applyPacked(Graph g, Scan scan, String label, Value x, List<Value> init,
      int firstStep, Lengths lengths) {
    checkInput(scan, label, x);
    checkArgument(lengths.batch() == x.dim(1) && lengths.max() <= x.dim(0),
        "%s expected the lengths of %s sequences of at most %s steps but got %s", label,
        x.dim(1), x.dim(0), lengths);
    int batch = x.dim(1);
    int states = scan.cell().stateCount();
    Value[] initial = new Value[states];
    Storage[] init0 = initialStates(scan, label, batch, init, initial);
    if (g.recording()) {
      if (lengths.allEqual(x.dim(0))) {
        Ops.ScanResult r = apply(g, scan, label, x, init, firstStep, lengths);
        return new Ops.ScanResult(Steps.pack(g, r.output(), lengths), r.finalStates());
      }
      return recordPacked(g, scan, label, x, initial, init0, firstStep, lengths);
    }
    int rows = (int) lengths.total();
    Storage out = Storage.allocate(x.dtype(), rows * scan.outputSize());
    Scan.Run run = scan.forwardPacked(x.data(), x.dim(0), batch, init0, firstStep, lengths, out);
    Value[] finals = new Value[states];
    for (int k = 0; k < states; k++) {
      Storage s = Storage.allocate(x.dtype(), batch * scan.stateSize(k));
      run.copyFinalState(k, s, 0);
      finals[k] = new Value(Shape.of(batch, scan.stateSize(k)), s, false);
    }
    run.release();
    return new Ops.ScanResult(new Value(Shape.of(rows, scan.outputSize()), out, false),
        ImmutableList.copyOf(finals));
  }

  /** The recorded packed scan: {@link #apply}'s recording, the output its packed rows. */
  private static Ops.ScanResult recordPacked(Graph g, Scan scan, String label, Value x,
      Value[] initial, Storage[] init0, int firstStep, Lengths lengths) {
    int seq = x.dim(0);
    int batch = x.dim(1);
    int states = initial.length;
    Scan.Run run = scan.forward(x.data(), seq, batch, init0, true, firstStep, lengths, null);
    int rows = (int) lengths.total();
    Storage out = Storage.allocate(x.dtype(), rows * scan.outputSize());
    run.copyPacked(out);
    Value output = new Value(Shape.of(rows, scan.outputSize()), out, true);
    Value[] finals = new Value[states];
    for (int k = 0; k < states; k++) {
      Storage s = Storage.allocate(x.dtype(), batch * scan.stateSize(k));
      run.copyFinalState(k, s, 0);
      finals[k] = new Value(Shape.of(batch, scan.stateSize(k)), s, true);
    }
    Recording r = new Recording(scan, label, run, x, initial, output, finals);
    r.packed = true;
    g.record(new Finish(r));
    for (int p = 0; p < seq; p++) {
      g.record(new Step(r, g, p, firstStep + run.time(p)));
    }
    g.record(new Begin(r));
    return new Ops.ScanResult(output, ImmutableList.copyOf(finals));
  }

  // The checks build their message (and box its numbers) only when they fail: a tiny model's
  // first few hundred calls run interpreted, where that costs more than the arithmetic.

  /** Checks that {@code x} is {@code [T, N, H_in]} for {@code scan}. */
  private static void checkInput(Scan scan, String label, Value x) {
    if (x.shape().rank() != 3 || x.dim(2) != scan.cell().inputSize()) {
      throw new IllegalArgumentException(Strings.lenientFormat(
          "%s expected input of shape [seq, batch, %s] but got %s", label,
          scan.cell().inputSize(), x.shape()));
    }
  }

  /**
   * The data of the given initial states, checked to be {@code [N, H_k]}, null where none is
   * given (zeros); {@code initial} receives the values themselves.
   */
  private static Storage[] initialStates(Scan scan, String label, int batch, List<Value> init,
      Value[] initial) {
    Storage[] init0 = new Storage[initial.length];
    for (int k = 0; k < initial.length; k++) {
      Value v = init == null || k >= init.size() ? null : init.get(k);
      if (v != null) {
        Shape vs = v.shape();
        if (vs.rank() != 2 || vs.dim(0) != batch || vs.dim(1) != scan.stateSize(k)) {
          throw new IllegalArgumentException(Strings.lenientFormat(
              "%s expected initial state %s of shape [%s, %s] but got %s", label, k, batch,
              scan.stateSize(k), vs));
        }
        initial[k] = v;
        init0[k] = v.data();
      }
    }
    return init0;
  }

  /** What the three kinds of node of one scan share: the run and, once begun, its backward. */
  private static final class Recording {
    final Scan scan;
    final String label;
    final Scan.Run run;
    final Value x;
    final Value[] initial;
    final Value output;
    final Value[] finals;
    /** Whether {@link #output} holds the packed rows ({@link #recordPacked}). */
    boolean packed;
    Scan.Backward backward;

    Recording(Scan scan, String label, Scan.Run run, Value x, Value[] initial, Value output,
        Value[] finals) {
      this.scan = scan;
      this.label = label;
      this.run = run;
      this.x = x;
      this.initial = initial;
      this.output = output;
      this.finals = finals;
    }

    /** The backward pass, checking that {@code what} runs after {@link Begin}. */
    Scan.Backward backward(String what) {
      checkState(backward != null, "%s: %s ran before the final states node; a scan's nodes"
          + " must run in reverse recording order", label, what);
      return backward;
    }
  }

  /**
   * Recorded last, so run first: begins the scan's backward with the gradients of the final
   * states ({@code dL/dh_T}, {@code dL/dc_T}, zero where nothing flowed into them).
   */
  private static final class Begin extends Node {
    private final Recording r;

    Begin(Recording r) {
      this.r = r;
    }

    @Override String label() {
      return r.label + " final states";
    }

    @Override Node released() {
      return new Done(r.label, " final states", -1);
    }

    @Override void backward() {
      checkState(r.backward == null, "%s: the final states node ran twice", r.label);
      Storage[] dFinal = new Storage[r.finals.length];
      for (int k = 0; k < dFinal.length; k++) {
        dFinal[k] = r.finals[k].gradOrNull();
      }
      // The input gradient is known now, so the pass adds each chunk of steps' share of it and
      // of the weight gradients when the chunk is done, and holds one chunk's gate gradients.
      r.backward = r.run.backwardByChunks(dFinal, r.x.requiresGrad() ? r.x.grad() : null);
    }
  }

  /**
   * Processing step {@code p} (time {@code t}): adds {@code dL/dh_t} from the output, runs the
   * cell's backward, carries the state gradient to the step before, and reports {@code
   * ||dL/dh_t||} to the gradient flow.
   */
  private static final class Step extends Node {
    private final Recording r;
    private final Graph g;
    private final int p;
    private final int t;

    Step(Recording r, Graph g, int p, int t) {
      this.r = r;
      this.g = g;
      this.p = p;
      this.t = t;
    }

    @Override String label() {
      return r.label + (r.scan.reverse() ? " reverse" : "") + " step " + t;
    }

    @Override Node released() {
      return new Done(r.label, r.scan.reverse() ? " reverse step " : " step ", t);
    }

    @Override void backward() {
      int hidden = r.scan.outputSize();
      Scan.Backward b = r.backward != null ? r.backward : r.backward("step " + t);
      double norm = r.packed ? b.stepPacked(p, r.output.gradOrNull())
          : b.step(p, r.output.gradOrNull(), 0, hidden);
      g.recordFlow(new GradientFlow.Entry(r.label, r.scan.reverse(), t, norm));
    }
  }

  /**
   * Recorded first, so run last: adds the weight and bias gradients (one gemm each), the input
   * gradient and the gradients of the initial states.
   */
  private static final class Finish extends Node {
    private final Recording r;

    Finish(Recording r) {
      this.r = r;
    }

    @Override String label() {
      return r.label + " input projection";
    }

    @Override Node released() {
      return new Done(r.label, " input projection", -1);
    }

    @Override void backward() {
      Storage[] dInit = new Storage[r.initial.length];
      for (int k = 0; k < dInit.length; k++) {
        Value v = r.initial[k];
        dInit[k] = v != null && v.requiresGrad() ? v.grad() : null;
      }
      r.backward("the input projection").finish(r.x.requiresGrad() ? r.x.grad() : null, dInit);
    }
  }
}
