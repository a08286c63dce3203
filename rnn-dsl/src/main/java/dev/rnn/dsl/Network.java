package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.base.Strings;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.rnn.autograd.Graph;
import dev.rnn.autograd.Ops;
import dev.rnn.autograd.SequenceModel;
import dev.rnn.autograd.Value;
import dev.rnn.core.DType;
import dev.rnn.core.Lengths;
import dev.rnn.core.Parameter;
import dev.rnn.core.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A recurrent network built by {@link Rnn#network()}: its layers wired by the stacking mode, its
 * named parameters, and its forward pass over sequences or one step at a time.
 *
 * <p>Shapes (T steps, N batch, F_in input features, F_out output features): input {@code [T, N,
 * F_in]} ({@code [N, T, F_in]} when built with {@code batchFirst()}), or {@code [T, F_in]} for one
 * unbatched sequence; output {@code [T, N, F_out]} likewise, or {@code [N, F_out]} after {@code
 * lastStep()}. States: see {@link State}.
 *
 * <p>A network keeps no state between calls and its structure never changes: {@code forward} and
 * {@code step} may be called from many threads at once. Its parameter values change only when it
 * is trained or loaded; do not train and infer concurrently.
 *
 * <p>{@link #forward(Tensor)}, {@link #forward(Tensor, State)} and {@link #step(Tensor, State)}
 * check their arguments before computing anything and throw {@link IllegalArgumentException}
 * naming the culprit, expected and actual: an input of the wrong rank or feature size, or with
 * no step or no sequence ({@code recurrent(2, 2) expected input of shape [seq, batch, 2] or [seq,
 * 2] with seq, batch >= 1 but got [0, 3, 2]}); a state with a tensor missing or one the network
 * does not have, or of the wrong batch or hidden size ({@code state 'h_l0' of lstm(2, 3) expected
 * shape [4, 3] (batch 4, hidden 3) but got [5, 3]}). Non-finite numbers are refused too: an
 * input or state holding NaN or an infinity is rejected, naming the first such element by its
 * index in the tensor as given ({@code input holds NaN at [2, 0, 1]}), because one NaN would
 * silently poison every later step and every output after it. {@code step} checks {@code x_t}
 * in its own terms ({@code x_t holds NaN at [2, 1]}).
 *
 * <p>Sequences of different lengths: {@link #forward(Tensor, int[], State)} takes a padded batch
 * and the length of each sequence, {@link #forward(List, State)} a list of sequences; {@link
 * #step(Tensor, State, int[], int)} streams them. Each sequence runs over its own steps only, as
 * torch's {@code pack_padded_sequence(..., enforce_sorted=False)}: the padding is never read (a
 * NaN there changes nothing and is not refused), the output after a sequence's end is zero, the
 * final state is each sequence's state after its own last step, a bidirectional layer's reverse
 * direction starts at each sequence's own last step, and {@code lastStep()} takes each
 * sequence's last real step.
 */
public final class Network {
  private final ImmutableList<Layer> layers;
  private final Stacking stacking;
  private final boolean handOffStates;
  private final boolean batchFirst;
  private final DType dtype;
  private final long dropoutSeed;
  private final ImmutableList<Stage> stages;
  private final int inputSize;
  private final ImmutableMap<String, Parameter> parameters;
  private final ImmutableList<String> stateNames;
  private final SequenceModel model = new Model();

  /**
   * The network of {@code layers}; its parameters are set by {@code layerInits} (one per layer:
   * the network's initializer with the layer's own assignments), drawing from {@code new
   * Random(initializer.seed())}.
   */
  Network(List<Layer> layers, Stacking stacking, boolean handOffStates, boolean batchFirst,
      DType dtype, Initializer initializer, List<Initializer> layerInits, long dropoutSeed) {
    this.layers = ImmutableList.copyOf(layers);
    this.stacking = stacking;
    this.handOffStates = handOffStates;
    this.batchFirst = batchFirst;
    this.dtype = dtype;
    this.dropoutSeed = dropoutSeed;
    this.stages = Wiring.wire(layers, stacking, handOffStates, dtype, layerInits);
    this.inputSize = layers.stream().mapToInt(Layer::inputSize).filter(n -> n > 0).findFirst()
        .orElseThrow(() -> new AssertionError("a built network has a sized layer"));
    ImmutableMap.Builder<String, Parameter> ps = ImmutableMap.builder();
    ImmutableList.Builder<String> names = ImmutableList.builder();
    for (Stage s : stages) {
      for (Parameter p : s.parameters()) {
        ps.put(p.name(), p);
      }
      for (Stage.StateSlot slot : s.states()) {
        names.add(slot.name());
      }
    }
    this.parameters = ps.buildOrThrow();
    this.stateNames = names.build();
    // The weights are allocated and initialised at their first use (a forward pass, training,
    // loading, saving), not here: describe() and graph() of a network too large for memory work.
    Parameter.initializeOnFirstUse(parameters.values().asList(), () -> {
      Random rnd = new Random(initializer.seed());
      for (Stage s : stages) {
        s.initialize(rnd);
      }
    });
  }

  // ---- what it is -----------------------------------------------------------------------------

  /** The seed that training mixes into the seed of each pass's dropout masks. */
  long dropoutSeed() {
    return dropoutSeed;
  }

  /** {@return the stacking mode the network was wired with} */
  public Stacking stacking() {
    return stacking;
  }

  /** {@return whether recurrent layers hand their final states to the next recurrent layer} */
  public boolean handsOffStates() {
    return handOffStates;
  }

  /** {@return whether inputs and outputs are batch-first} */
  public boolean batchFirst() {
    return batchFirst;
  }

  /** {@return the dtype of parameters, inputs and outputs} */
  public DType dtype() {
    return dtype;
  }

  /**
   * {@code F_in}: the feature size of an input step.
   *
   * @return {@code F_in}
   */
  public int inputSize() {
    return inputSize;
  }

  /**
   * {@code F_out}: the feature size of an output step.
   *
   * @return {@code F_out}
   */
  public int outputSize() {
    return stages.get(stages.size() - 1).outputSize();
  }

  /**
   * Whether the network reads token ids (its first layer is an {@code embedding}) rather than
   * feature vectors: then an input is {@code [T, N]} whole numbers ({@code [N, T]} batch-first,
   * {@code [T]} unbatched), and a streaming step's {@code x_t} is {@code [N]} (or a single id,
   * shape {@code []}); {@link #inputSize()} is 1, one id per step.
   *
   * @return true if the first layer is an embedding
   */
  public boolean takesIds() {
    return stages.get(0).takesIds();
  }

  /**
   * Token ids as the one-feature inputs the stages take, {@code [..., 1]}, after checking their
   * rank: {@code [T, N]} or {@code [T]} ({@code [N]} or {@code []} for a step); a network of
   * features gets {@code t} back unchanged.
   */
  Tensor idsAsFeatures(Tensor t, boolean step) {
    if (!takesIds()) {
      return t;
    }
    int most = step ? 1 : 2;
    checkArgument(t.rank() <= most && (step || t.rank() >= 1),
        "%s expected token ids of shape %s but got %s", firstLayer(),
        step ? "[batch] or [] (one id per sequence)" : batchFirst ? "[batch, seq] or [seq]"
            : "[seq, batch] or [seq]", t.shape());
    int[] dims = java.util.Arrays.copyOf(t.shape().dims(), t.rank() + 1);
    dims[t.rank()] = 1;
    return t.reshape(dims);
  }

  /** The inverse of {@link #idsAsFeatures(Tensor, boolean)} for a batch: {@code [A, B, 1] -> [A, B]}. */
  Tensor featuresAsIds(Tensor t) {
    return takesIds() ? t.reshape(t.dim(0), t.dim(1)) : t;
  }

  /** {@link #idsAsFeatures(Tensor, boolean)} of each sequence. */
  List<Tensor> idsAsFeatures(List<Tensor> sequences) {
    if (!takesIds() || sequences == null) {
      return sequences;
    }
    List<Tensor> out = new ArrayList<>();
    for (Tensor t : sequences) {
      out.add(t == null ? null : idsAsFeatures(t, false));
    }
    return out;
  }

  /** {@return whether the output is only the last step ({@code lastStep()})} */
  public boolean lastStepOnly() {
    for (Stage s : stages) {                                    // a loop: runs on every call
      if (!s.keepsSequence()) {
        return true;
      }
    }
    return false;
  }

  /**
   * The first stage that cannot run one step at a time (a bidirectional layer, whose reverse
   * direction starts from the end of the whole sequence), named for messages: {@code layer 3,
   * lstm(2, 3).bidirectional()}; null if every stage streams.
   */
  String firstNotStreaming() {
    for (Stage s : stages) {
      if (!s.streams()) {
        return "layer " + s.layer() + ", " + s.written();
      }
    }
    return null;
  }

  /**
   * The network in the builder's spec language, e.g. {@code recurrent(2, 2).relu().recurrent(2,
   * 1)}; {@link Rnn#parse} reads it back.
   *
   * @return the spec
   */
  public String spec() {
    StringBuilder sb = new StringBuilder();
    for (Layer l : layers) {
      sb.append(sb.length() > 0 ? "." : "").append(l.describe());
    }
    return sb.toString();
  }

  /**
   * The parameters in name order, torch-style: {@code weight_ih_l0}, {@code dense0.weight}, ...:
   * what an optimizer updates.
   *
   * @return the parameters
   */
  public ImmutableList<Parameter> parameters() {
    return parameters.values().asList();
  }

  /** {@return the parameters by name} */
  public ImmutableMap<String, Parameter> namedParameters() {
    return parameters;
  }

  /**
   * A snapshot of the parameter named {@code name}.
   *
   * @param name the parameter's name, e.g. {@code weight_ih_l0}
   * @return a copy of its value
   * @throws IllegalArgumentException naming the parameters there are
   */
  public Tensor parameter(String name) {
    Parameter p = parameters.get(name);
    checkArgument(p != null, "network has no parameter '%s'; it has %s", name,
        parameters.keySet());
    return p.value();
  }

  /** {@return the names of the state tensors, in order: {@code h_l0}, {@code c_l0}, ...} */
  public ImmutableList<String> stateNames() {
    return stateNames;
  }

  ImmutableList<Stage> stages() {
    return stages;
  }

  ImmutableList<Layer> layers() {
    return layers;
  }

  /** {@return the number of trainable numbers} */
  public long parameterCount() {
    return parameters.values().stream().mapToLong(Parameter::size).sum();
  }

  /**
   * A new {@link Trainer} of this network, which updates its parameters in place.
   *
   * @return a new trainer
   */
  public Trainer trainer() {
    return new Trainer(this);
  }

  // ---- forward --------------------------------------------------------------------------------

  /**
   * The output of a forward pass from the initial state (zeros, or the learnable one).
   *
   * @param input {@code [T, N, F_in]} ({@code [N, T, F_in]} when batch-first)
   * @return the output, {@code [T, N, F_out]} (batch-first likewise; {@code [N, F_out]} for {@code
   *     lastStep()})
   * @throws IllegalArgumentException if the input's rank or feature size does not fit, naming the
   *     first layer, the expected and the actual shape
   */
  public Tensor forward(Tensor input) {
    return forward(input, null).output();
  }

  /**
   * The output and final state of a forward pass from {@code initial} (null for the initial
   * state).
   *
   * @param input {@code [T, N, F_in]} ({@code [N, T, F_in]} when batch-first)
   * @param initial the initial state, or null
   * @return the output, as {@link #forward(Tensor)} gives it, and the final state
   * @throws IllegalArgumentException if the input or a state tensor has the wrong shape
   */
  public Result forward(Tensor input, State initial) {
    Tensor x = idsAsFeatures(input, false);
    boolean unbatched = checkInput(x, null);
    return run(x, unbatched, null, initial, false);
  }

  /**
   * The output and final state of a forward pass over a padded batch of sequences of different
   * lengths, as torch's module on {@code pack_padded_sequence(input, lengths,
   * enforce_sorted=False)} then {@code pad_packed_sequence(output, total_length=T)}.
   *
   * <pre>
   *   for each sequence n: its steps t &lt; lengths[n] run as if alone; the steps after are padding
   *   output[t, n] = 0 for t &gt;= lengths[n];  final state of n = its state after step lengths[n]-1
   * </pre>
   *
   * <p>The padding is never read: it may hold anything, NaN too. Shapes as {@link
   * #forward(Tensor, State)}; {@code lengths} has one entry per sequence ({@code N}, or 1 for an
   * unbatched {@code [T, F_in]}), in any order.
   *
   * @param input the padded batch, {@code [T, N, F_in]} ({@code [N, T, F_in]} when batch-first)
   * @param lengths the length of each sequence, in {@code [1, T]}
   * @param initial the initial state, or null
   * @return the output (zero after each sequence's end) and each sequence's final state
   * @throws IllegalArgumentException if the input or a state tensor has the wrong shape, the
   *     lengths are not one per sequence in {@code [1, T]}, or a real step holds NaN or infinity
   */
  public Result forward(Tensor input, int[] lengths, State initial) {
    checkNotNull(lengths, "forward expected lengths but got null");
    input = idsAsFeatures(input, false);
    boolean unbatched = checkShape(input);
    int seq = input.dim(unbatched || !batchFirst ? 0 : 1);
    int batch = unbatched ? 1 : input.dim(batchFirst ? 0 : 1);
    Lengths l = checkLengths("forward", lengths, batch, seq, 1);
    checkInput(input, l);
    return run(input, unbatched, l, initial, false);
  }

  /**
   * The output and final state of a forward pass over a list of sequences of different lengths,
   * from the initial state: the sequences padded into one batch and run with their lengths, as
   * {@link #forward(Tensor, int[], State)}.
   *
   * @param sequences the sequences, {@code [T_n, F_in]} each, at least one
   * @return the output in the network's layout, {@code [T, N, F_out]} with {@code T = max T_n}
   *     ({@code [N, T, F_out]} when batch-first, {@code [N, F_out]} for {@code lastStep()}), zero
   *     after each sequence's end, and each sequence's final state
   * @throws IllegalArgumentException if there is no sequence, or one is not {@code [T_n, F_in]}
   *     with {@code T_n >= 1} or holds NaN or infinity
   */
  public Result forward(List<Tensor> sequences) {
    return forward(sequences, null);
  }

  /**
   * As {@link #forward(List)}, from {@code initial}.
   *
   * @param sequences the sequences, {@code [T_n, F_in]} each, at least one
   * @param initial the initial state ({@code [N, H]} per tensor, one row per sequence), or null
   * @return the padded output and each sequence's final state
   * @throws IllegalArgumentException as {@link #forward(List)}, or if a state tensor has the wrong
   *     shape
   */
  public Result forward(List<Tensor> sequences, State initial) {
    Padded p = Padded.of("forward", idsAsFeatures(sequences), inputSize(), firstLayer(),
        "sequences");
    return forward(featuresAsIds(p.in(batchFirst)), p.lengths(), initial);
  }

  /**
   * Forward from a state over an input in the network's layout ({@code [T, F_in]} if {@code
   * unbatched}), checked, with each sequence's lengths within it (or null).
   */
  private Result run(Tensor input, boolean unbatched, Lengths lengths, State initial,
      boolean stepping) {
    Tensor x = input.to(dtype);
    if (unbatched) {
      x = x.reshape(x.dim(0), 1, x.dim(1));
    }
    // Batch-first data is made time-major, and the output batch-first, in the one copy each
    // way that the graph's boundary makes anyway.
    boolean swap = batchFirst && !unbatched;
    Graph g = Graph.inference();
    Value in = swap ? g.constant(x, 0, 1) : g.constant(x);
    List<Value> states = stateValues(g, initial, in.dim(1), unbatched, stepping);
    SequenceModel.Forward f = forward(g, in, states, 0, lengths);
    Tensor out = swap && !lastStepOnly() ? f.output().tensor(0, 1) : f.output().tensor();
    if (unbatched) {
      out = lastStepOnly() ? out.reshape(out.dim(1)) : out.reshape(out.dim(0), out.dim(2));
    }
    List<Tensor> finals = new ArrayList<>();
    for (Value v : f.states()) {
      Tensor t = v.tensor();
      finals.add(unbatched ? t.reshape(t.dim(1)) : t);
    }
    return new Result(out, State.of(stateNames, finals));
  }

  /**
   * The outputs for many sequences, computed {@code batchSize} sequences at a time (as Keras's
   * {@code predict}), so that memory grows with the batch, not with the data: each batch's rows
   * of the output are {@link #forward(Tensor)}'s for that batch.
   *
   * @param inputs {@code [T, N, F_in]} ({@code [N, T, F_in]} when batch-first)
   * @param batchSize the sequences per forward pass, {@code >= 1}
   * @return {@code [T, N, F_out]} (batch-first likewise; {@code [N, F_out]} for {@code
   *     lastStep()})
   * @throws IllegalArgumentException if {@code batchSize < 1}, or as {@link #forward(Tensor)}
   */
  public Tensor predict(Tensor inputs, int batchSize) {
    checkNotNull(inputs, "predict expected inputs but got null");
    checkArgument(batchSize >= 1, "predict expected batchSize >= 1 but got %s", batchSize);
    checkArgument(inputs.rank() == 3, "predict expected inputs of shape %s but got %s",
        batchFirst ? "[batch, seq, " + inputSize() + "]" : "[seq, batch, " + inputSize() + "]",
        inputs.shape());
    int batchDim = batchFirst ? 0 : 1;
    int n = inputs.dim(batchDim);
    if (n <= batchSize) {
      return forward(inputs);
    }
    int outBatchDim = lastStepOnly() ? 0 : batchDim;
    List<Tensor> parts = new ArrayList<>();
    for (int from = 0; from < n; from += batchSize) {
      parts.add(forward(inputs.slice(batchDim, from, Math.min(n, from + batchSize))));
    }
    return Tensor.concat(outBatchDim, parts);
  }

  /**
   * The class probabilities of a classifier (a network trained with {@link
   * Trainer.Objective#CROSS_ENTROPY}, whose outputs are logits over {@code C = F_out} classes):
   * the softmax of {@link #predict} over the last dimension,
   *
   * <pre>  p_c = exp(z_c - max z) / sum_k exp(z_k - max z)</pre>
   *
   * @param inputs {@code [T, N, F_in]} ({@code [N, T, F_in]} when batch-first)
   * @param batchSize the sequences per forward pass, {@code >= 1}
   * @return {@code [T, N, C]} (batch-first likewise; {@code [N, C]} for {@code lastStep()}), each
   *     row summing to 1
   * @throws IllegalArgumentException as {@link #predict}
   */
  public Tensor classProbabilities(Tensor inputs, int batchSize) {
    return softmax(predict(inputs, batchSize));
  }

  /** The softmax of {@code z} over its last dimension, in {@code z}'s dtype. */
  static Tensor softmax(Tensor z) {
    int c = z.dim(-1);
    double[] p = z.toDoubleArray();
    for (int row = 0; row < p.length; row += c) {
      double max = Double.NEGATIVE_INFINITY;
      for (int k = 0; k < c; k++) {
        max = Math.max(max, p[row + k]);
      }
      double sum = 0;
      for (int k = 0; k < c; k++) {
        p[row + k] = Math.exp(p[row + k] - max);
        sum += p[row + k];
      }
      for (int k = 0; k < c; k++) {
        p[row + k] /= sum;
      }
    }
    return Tensor.of(p, z.shape().dims()).to(z.dtype());
  }

  /**
   * One time step for streaming: {@code x_t} ({@code [N, F_in]}, or {@code [F_in]} unbatched)
   * and the state so far (null at the start) give {@code y_t} and the next state.
   *
   * @param xt the input of one step
   * @param state the state after the previous step, or null at the start
   * @return {@code y_t} ({@code [N, F_out]}, or {@code [F_out]} unbatched) and the next state
   * @throws IllegalArgumentException if {@code x_t} has the wrong shape, no rows or a value that is
   *     not finite, or a state tensor has the wrong shape
   * @throws IllegalStateException if the network has a bidirectional layer, whose reverse
   *     direction starts from the end of the whole sequence and so cannot stream
   */
  public Result step(Tensor xt, State state) {
    return stream(xt, state, null);
  }

  /**
   * One time step for streaming a batch of sequences of different lengths: step {@code t} of
   * sequences whose lengths are {@code lengths}. A sequence that has ended ({@code lengths[n] <=
   * t}) keeps its state, its row of {@code x_t} is not read, and its output is zero; the others
   * step as {@link #step(Tensor, State)}. Streaming steps {@code t = 0, 1, ...} this way gives the
   * outputs and final states of {@link #forward(Tensor, int[], State)}.
   *
   * @param xt the input of step {@code t}, {@code [N, F_in]} (or {@code [F_in]} unbatched)
   * @param state the state after step {@code t - 1}, or null at the start
   * @param lengths the length of each sequence, {@code >= 1}, one per row of {@code x_t}
   * @param t the step, {@code >= 0}
   * @return {@code y_t} (zero for the sequences that have ended) and the next state
   * @throws IllegalArgumentException as {@link #step(Tensor, State)}, or if the lengths are not
   *     one per row and {@code >= 1}, or {@code t < 0}
   * @throws IllegalStateException as {@link #step(Tensor, State)}
   */
  public Result step(Tensor xt, State state, int[] lengths, int t) {
    checkNotNull(lengths, "step expected lengths but got null");
    checkArgument(t >= 0, "step expected t >= 0 but got %s", t);
    String reverse = firstNotStreaming();
    if (reverse != null) {
      throw new IllegalStateException("step() streams one step at a time, but " + reverse
          + " runs a reverse direction, which starts from the end of the whole sequence; use"
          + " forward(x, lengths, state) over the whole sequence");
    }
    int batch = xt.rank() == (takesIds() ? 1 : 2) ? xt.dim(0) : 1;
    Lengths l = checkLengths("step", lengths, batch, Integer.MAX_VALUE, 1);
    int[] running = new int[batch];
    for (int n = 0; n < batch; n++) {
      running[n] = l.get(n) > t ? 1 : 0;
    }
    return stream(xt, state, Lengths.of(running));
  }

  /** {@link #step(Tensor, State)}, each row running or not as {@code running} (0 or 1) says. */
  private Result stream(Tensor input, State state, Lengths running) {
    checkNotNull(input, "step expected x_t but got null");
    Tensor xt = idsAsFeatures(input, true);
    String reverse = firstNotStreaming();
    if (reverse != null) {
      throw new IllegalStateException("step() streams one step at a time, but " + reverse
          + " runs a reverse direction, which starts from the end of the whole sequence; use"
          + " forward(x, state) over the whole sequence");
    }
    checkArgument((xt.rank() == 1 || xt.rank() == 2) && xt.dim(-1) == inputSize(),
        "step expected x_t of shape [batch, %s] or [%s] but got %s", inputSize(), inputSize(),
        xt.shape());
    checkArgument(xt.size() > 0, "step expected x_t of shape [batch, %s] with batch >= 1 but got"
        + " %s", inputSize(), xt.shape());
    checkFinite("x_t", xt, running == null ? null : (i, index) -> running.get(
        xt.rank() == 1 ? 0 : index[0]) > 0);
    Tensor seq = xt.rank() == 1 ? xt.reshape(1, xt.dim(0))
        : xt.reshape(1, xt.dim(0), xt.dim(1));
    if (batchFirst && xt.rank() == 2) {
      seq = seq.transpose(0, 1);
    }
    Result r = run(seq, xt.rank() == 1, running, state, true);
    Tensor y = r.output();
    if (!lastStepOnly()) {
      y = xt.rank() == 1 ? y.reshape(y.dim(-1)) : y.reshape(xt.dim(0), y.dim(-1));
    }
    return new Result(y, r.state());
  }

  /**
   * The initial state for a batch of {@code batch} sequences: zeros, or the learnable initial
   * states where the network has them.
   *
   * @param batch {@code N}
   * @return the state, each tensor {@code [N, H]}
   * @throws IllegalArgumentException if {@code batch < 1}
   */
  public State initialState(int batch) {
    checkArgument(batch >= 1, "initialState expected batch >= 1 but got %s", batch);
    Graph g = Graph.inference();
    List<Tensor> ts = new ArrayList<>();
    for (Stage s : stages) {
      ts.addAll(s.initialStates(g, batch, dtype));
    }
    return State.of(stateNames, ts);
  }

  /**
   * A state from torch's layout: {@code h0} (and {@code c0} where the network has LSTM layers),
   * {@code [num_layers * D, N, H]} in torch's order (layer 0 forward, layer 0 reverse, layer 1
   * forward, ...), split into this network's {@link #stateNames()}; {@link State#hN()} and
   * {@link State#cN()} go the other way. Shapes against the input are checked where the state is
   * used, as for any state.
   *
   * @param h0 torch's {@code h0}, {@code [num_layers * D, N, H]} (or {@code [num_layers * D, H]})
   * @param c0 torch's {@code c0} of the same shape, or null if the network has no cell state
   * @return the state
   * @throws IllegalArgumentException if {@code h0} does not have one slice per recurrent layer and
   *     direction, or {@code c0} is missing, extra or of another slice count
   */
  public State stateFromTorch(Tensor h0, Tensor c0) {
    checkNotNull(h0, "h0");
    for (String name : stateNames) {
      checkArgument(name.startsWith("h_") || name.startsWith("c_"),
          "stateFromTorch: torch's layout has h and c only, but this network's state has %s (a"
              + " user-written cell's); build the State by name instead", name);
    }
    long hs = stateNames.stream().filter(n -> n.startsWith("h_")).count();
    long cs = stateNames.stream().filter(n -> n.startsWith("c_")).count();
    checkArgument((h0.rank() == 3 || h0.rank() == 2) && h0.dim(0) == hs,
        "stateFromTorch expected h0 of shape [%s, batch, hidden] (one slice per layer and"
            + " direction: %s) but got %s", hs, stateNames, h0.shape());
    checkArgument(cs == 0 || c0 != null,
        "stateFromTorch expected c0 for the cell states %s but got none", stateNames);
    checkArgument(cs > 0 || c0 == null,
        "stateFromTorch got c0 but the network has no cell state (only lstm has one): %s",
        stateNames);
    checkArgument(c0 == null || c0.rank() == h0.rank() && c0.dim(0) == cs,
        "stateFromTorch expected c0 of shape [%s, batch, hidden] but got %s", cs,
        c0 == null ? null : c0.shape());
    List<Tensor> ts = new ArrayList<>();
    int h = 0;
    int c = 0;
    for (String name : stateNames) {
      ts.add(name.startsWith("c_") ? c0.select(0, c++) : h0.select(0, h++));
    }
    return State.of(stateNames, ts);
  }

  /**
   * The network as a {@link SequenceModel}, as {@link dev.rnn.autograd.Bptt} trains it: its
   * {@code forward} is {@link #forward(Graph, Value, List, int)}. For the {@link Trainer} and the
   * torch-case run; not public, so that the graph-level forward is no part of the DSL's API.
   */
  SequenceModel model() {
    return model;
  }

  /** {@link #model()}: the parameters and the graph-level forward of this network. */
  private final class Model implements SequenceModel {
    @Override public List<Parameter> parameters() {
      return Network.this.parameters();
    }

    @Override public Forward forward(Graph g, Value input, List<Value> states, int firstStep) {
      return Network.this.forward(g, input, states, firstStep, null);
    }

    @Override public Forward forward(Graph g, Value input, List<Value> states, int firstStep,
        Lengths lengths) {
      return Network.this.forward(g, input, states, firstStep, lengths);
    }
  }

  /**
   * The forward pass recorded in {@code g} over a time-major input {@code [T, N, F_in]}, from
   * {@code states} (flat in {@link #stateNames()} order; null, or null entries, for the initial
   * state), whose first step is step {@code firstStep} of the whole sequence (0, or the start of
   * a window of truncated BPTT): what training and truncated BPTT use.
   */
  SequenceModel.Forward forward(Graph g, Value input, List<Value> states, int firstStep) {
    return forward(g, input, states, firstStep, null);
  }

  /**
   * {@link #forward(Graph, Value, List, int)}, each sequence over its first {@code
   * lengths.get(n)} steps of {@code input} (0 for one that ended before this window), or all of
   * them when {@code lengths} is null. A first stage that reads every step (not a recurrent one)
   * gets the input with its padding set to zero.
   */
  SequenceModel.Forward forward(Graph g, Value input, List<Value> states, int firstStep,
      Lengths lengths) {
    if (input.shape().rank() != 3 || input.dim(2) != inputSize()) {
      // the message names the first layer, described only on failure: this runs every step
      throw new IllegalArgumentException(Strings.lenientFormat(
          "%s expected input of shape [seq, batch, %s] but got %s", firstLayer(), inputSize(),
          input.shape()));
    }
    checkArgument(states == null || states.size() == stateNames.size(),
        "network expected %s state tensors %s but got %s", stateNames.size(), stateNames,
        states == null ? 0 : states.size());
    Stage.Run run = new Stage.Run(states, firstStep, g.random(), lengths);
    Value x = stages.get(0).readsPadding() ? Ops.zeroPadding(g, input, lengths) : input;
    for (Stage s : stages) {
      x = s.forward(g, x, run);
    }
    return new SequenceModel.Forward(x, run.finals);
  }

  /**
   * The layout the network reads sequences in and how to change it, appended to every message
   * about the shape of a sequence: data in the other layout often fits until one size happens to
   * differ.
   */
  String layoutNote() {
    return batchFirst
        ? " (the network is batch-first, [batch, seq, ...], as built with batchFirst(); for"
            + " time-major data build it without batchFirst() or transpose(0, 1) the data)"
        : " (the network is time-major, [seq, batch, ...]; for batch-first data build it with"
            + " batchFirst() or transpose(0, 1) the data)";
  }

  /**
   * Checks the input's rank, feature size and that it is not empty; returns whether it is one
   * unbatched sequence {@code [T, F_in]}.
   */
  private boolean checkShape(Tensor input) {
    // The first layer, the shape and the layout note are described only on failure: describing
    // them on every call cost a small network's forward more than its arithmetic.
    if (input == null) {
      throw new NullPointerException(
          Strings.lenientFormat("%s expected an input tensor but got null", firstLayer()));
    }
    if (!((input.rank() == 3 || input.rank() == 2) && input.dim(-1) == inputSize())) {
      throw new IllegalArgumentException(Strings.lenientFormat(
          "%s expected input of shape %s or [seq, %s] but got %s%s", firstLayer(), shapeNote(),
          inputSize(), input.shape(), layoutNote()));
    }
    if (input.size() <= 0) {
      throw new IllegalArgumentException(Strings.lenientFormat(
          "%s expected input of shape %s or [seq, %s] with seq, batch >= 1 but got %s%s",
          firstLayer(), shapeNote(), inputSize(), input.shape(), layoutNote()));
    }
    return input.rank() == 2;
  }

  /** The batched input's shape as a message writes it, in the network's layout. */
  private String shapeNote() {
    return batchFirst ? "[batch, seq, " + inputSize() + "]" : "[seq, batch, " + inputSize() + "]";
  }

  /**
   * Checks the input's shape ({@link #checkShape}) and that every real element is finite (the
   * steps within {@code lengths}, or all if null); returns whether it is unbatched.
   */
  private boolean checkInput(Tensor input, Lengths lengths) {
    boolean unbatched = checkShape(input);
    int timeDim = unbatched || !batchFirst ? 0 : 1;
    checkFinite("input", input, lengths == null ? null : (i, index) ->
        index[timeDim] < lengths.get(unbatched ? 0 : index[1 - timeDim]));
    return unbatched;
  }

  /**
   * Checks {@code lengths} against a batch of {@code batch} sequences of {@code seq} steps: one
   * per sequence, each in {@code [min, seq]}; returns them sorted.
   */
  private static Lengths checkLengths(String who, int[] lengths, int batch, int seq, int min) {
    checkArgument(lengths.length == batch,
        "%s expected %s lengths (one per sequence of the batch) but got %s", who, batch,
        lengths.length);
    for (int n = 0; n < batch; n++) {
      checkArgument(lengths[n] >= min && lengths[n] <= seq,
          "%s expected lengths in [%s, %s] (the input's steps) but lengths[%s] is %s", who, min,
          seq == Integer.MAX_VALUE ? "any" : String.valueOf(seq), n, lengths[n]);
    }
    return Lengths.of(lengths);
  }

  /** Which elements of a tensor are checked, by flat index and index per dimension. */
  private interface Counted {
    boolean test(int i, int[] index);
  }

  /**
   * Refuses a NaN or infinity, which would poison every later step and every output after it,
   * naming the first one in row-major order by its index in {@code t} as given.
   */
  private static void checkFinite(String what, Tensor t) {
    checkFinite(what, t, null);
  }

  /** {@link #checkFinite(String, Tensor)} over the elements {@code counted} accepts (all if null). */
  private static void checkFinite(String what, Tensor t, Counted counted) {
    for (int i = 0; i < t.size(); i++) {
      double v = t.at(i);
      if (!Double.isFinite(v)) {
        int[] index = new int[t.rank()];
        for (int d = t.rank() - 1, rest = i; d >= 0; d--) {
          index[d] = rest % t.dim(d);
          rest /= t.dim(d);
        }
        if (counted != null && !counted.test(i, index)) {
          continue;
        }
        throw new IllegalArgumentException(
            what + " holds " + v + " at " + java.util.Arrays.toString(index));
      }
    }
  }

  private String firstLayer() {
    for (Layer l : layers) {
      if (l.inputSize() > 0) {
        return l.describe();
      }
    }
    throw new AssertionError("a built network has a sized layer");
  }

  /**
   * Checks the state against the network and the input's batch: the same tensor names, each
   * {@code [N, H]} of its layer (or {@code [H]} for an unbatched input), every element finite;
   * returns the tensors as graph constants in {@link #stateNames()} order, or null for none. A
   * batch that differs from a sequence input's is said with the layout it was read in ({@code
   * stepping}: the input is one step, whose batch has no layout).
   */
  private List<Value> stateValues(Graph g, State s, int batch, boolean unbatched,
      boolean stepping) {
    if (s == null) {
      return null;
    }
    for (String name : stateNames) {
      checkArgument(s.tensors().containsKey(name),
          "state has no tensor '%s': the network expects %s but got %s", name, stateNames,
          s.tensors().keySet());
    }
    for (String name : s.tensors().keySet()) {
      checkArgument(stateNames.contains(name),
          "state has a tensor '%s' the network does not have (is it another network's state?):"
              + " the network expects %s but got %s", name, stateNames, s.tensors().keySet());
    }
    List<Value> vs = new ArrayList<>();
    for (Stage st : stages) {
      for (Stage.StateSlot slot : st.states()) {
        String name = slot.name();
        Tensor given = s.get(name);
        int h = slot.size();
        if (unbatched) {
          checkArgument(given.rank() == 1 && given.dim(0) == h
                  || given.rank() == 2 && given.dim(0) == 1 && given.dim(1) == h,
              "state '%s' of %s expected shape [%s] or [1, %s] (hidden %s, unbatched input)"
                  + " but got %s", name, st.written(), h, h, h, given.shape());
        } else {
          checkArgument(given.rank() == 2 && given.dim(0) == batch && given.dim(1) == h,
              "state '%s' of %s expected shape [%s, %s] (batch %s, hidden %s) but got %s%s",
              name, st.written(), batch, h, batch, h, given.shape(),
              given.rank() == 2 && given.dim(1) == h && !stepping
                  ? "; the batch is read from the input" + layoutNote() : "");
        }
        for (int j = 0; j < given.size(); j++) {
          double v = given.at(j);
          if (!Double.isFinite(v)) {
            int[] index = given.rank() == 1 ? new int[] {j} : new int[] {j / h, j % h};
            throw new IllegalArgumentException("state '" + name + "' holds " + v + " at "
                + java.util.Arrays.toString(index));
          }
        }
        Tensor t = given.to(dtype);
        vs.add(g.constant(t.rank() == 1 ? t.reshape(1, h) : t));
      }
    }
    return vs;
  }

  /**
   * The result of {@link #forward(Tensor, State)} or {@link #step(Tensor, State)}.
   *
   * @param output the output sequence (or step)
   * @param state the final state, to continue from
   */
  public record Result(Tensor output, State state) {}

  // ---- description ---------------------------------------------------------------------------

  /**
   * What the network computes: per layer the equation with its sizes, where each activation
   * sits, the parameter counts, which tensor is the output and which the state, and the stacking.
   *
   * @return the description, several lines
   */
  public String describe() {
    return Describe.of(this);
  }

  /**
   * The unrolled computation graph over {@code steps} time steps, as Graphviz DOT text.
   *
   * @param steps the number of time steps unrolled
   * @return the DOT text
   */
  public String graph(int steps) {
    return UnrolledGraph.dot(this, steps);
  }

  /**
   * The unrolled computation graph over {@code steps} time steps, as an SVG document.
   *
   * @param steps the number of time steps unrolled
   * @return the SVG text
   */
  public String graphSvg(int steps) {
    return UnrolledGraph.svg(this, steps);
  }

  /**
   * Saves the parameters and architecture to {@code path}, atomically; {@link Rnn#load} reads it
   * back. See {@link Checkpoint#save}.
   *
   * @param path the checkpoint file, written or replaced
   * @throws IllegalArgumentException if the network has a user-written {@code cell(...)} layer or
   *     a parameter holding NaN or infinity; nothing is written
   * @throws java.io.IOException if the file cannot be written; a previous file is left as it was
   */
  public void save(java.nio.file.Path path) throws java.io.IOException {
    Checkpoint.save(this, path);
  }

  @Override public String toString() {
    return "network()." + spec() + " [" + stacking + "]";
  }
}
