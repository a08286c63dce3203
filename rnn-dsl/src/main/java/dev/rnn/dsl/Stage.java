package dev.rnn.dsl;

import com.google.common.collect.ImmutableList;
import dev.rnn.autograd.Graph;
import dev.rnn.autograd.Ops;
import dev.rnn.autograd.Value;
import dev.rnn.core.Activation;
import dev.rnn.core.DType;
import dev.rnn.core.Lengths;
import dev.rnn.core.Parameter;
import dev.rnn.core.ParameterSpec;
import dev.rnn.core.Scan;
import dev.rnn.core.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One stage of a wired network, as {@link Wiring} decided it once: an immutable record of
 * everything forward, {@code describe()}, {@code graph()}, the {@link Trainer} and checkpoints need
 * to know, so that they read the same decisions and cannot disagree.
 *
 * <p>A recurrent stage records where its activation sits ({@link Recurrent#inside()}, and whether
 * it absorbed the activation layer after it), the symbol of what its recurrence carries ({@code
 * s} or {@code h}), its directions with their scans, parameter-name suffixes and state slots
 * (names and sizes), and where its initial state comes from. The other stages are a pointwise
 * activation, a dense layer, dropout and the last step.
 *
 * <p>Consumers that treat stages differently implement {@link Visitor}: adding a kind of stage is
 * one record here, and the compiler then names every consumer that must learn it.
 */
sealed interface Stage permits Stage.Recurrent, Stage.Pointwise, Stage.Dense, Stage.Dropout,
    Stage.LastStep, Stage.Embedding {
  /** {@return the first builder layer this stage stands for, from 1, for messages} */
  int layer();

  /** {@return the features of each output step} */
  int outputSize();

  /** {@return the layers this stage stands for, as written, e.g. {@code recurrent(2, 2).relu()}} */
  String written();

  /** {@return whether the output is a sequence; false from {@code lastStep()} on} */
  default boolean keepsSequence() {
    return true;
  }

  /**
   * {@return whether the spec rebuilds the stage, as a checkpoint needs; false for a
   * user-written cell, which a spec cannot name}
   */
  default boolean rebuildable() {
    return true;
  }

  /**
   * {@return whether the stage can run one step at a time, for streaming and truncated BPTT;
   * false for a reverse direction, which starts from the end of the whole sequence}
   */
  default boolean streams() {
    return true;
  }

  /**
   * {@return whether the stage reads every step of its input, the padding after a sequence's
   * length too; false for a recurrent stage, whose scan reads the real steps only}: the network
   * zeroes the padding of its input before a first stage that reads it, so that a NaN there
   * cannot leak
   */
  default boolean readsPadding() {
    return true;
  }

  /**
   * {@return whether the stage reads token ids (whole numbers, one per step) rather than feature
   * vectors: the input's kind is a property of the first stage}
   */
  default boolean takesIds() {
    return false;
  }

  /** {@return the stage's parameters, in the network's name order} */
  default ImmutableList<Parameter> parameters() {
    return ImmutableList.of();
  }

  /** {@return the state tensors the stage carries across calls, in network order} */
  default ImmutableList<StateSlot> states() {
    return ImmutableList.of();
  }

  /**
   * The initial state of each of {@link #states()} for a batch of {@code batch}: zeros, or the
   * learned initial states broadcast over the batch.
   */
  default List<Tensor> initialStates(Graph g, int batch, DType dtype) {
    return List.of();
  }

  /**
   * Sets the stage's parameters as its record's initializer says, drawing from {@code rnd} in
   * parameter order.
   */
  default void initialize(Random rnd) {}

  /** The stage's forward over a time-major {@code x}, recorded in {@code g}. */
  Value forward(Graph g, Value x, Run run);

  /** Dispatches to the visitor's method for this kind of stage. */
  <R> R accept(Visitor<R> v);

  /** One method per kind of stage. */
  interface Visitor<R> {
    R recurrent(Recurrent r);

    R pointwise(Pointwise p);

    R dense(Dense d);

    R dropout(Dropout d);

    R lastStep(LastStep l);

    R embedding(Embedding e);
  }

  /**
   * A state tensor of the network: its name and its size, {@code [N, size]} per batch.
   *
   * @param name e.g. {@code h_l0}, {@code c_l1_reverse}
   * @param size the features of the tensor
   */
  record StateSlot(String name, int size) {}

  /** Where a recurrent stage's initial state comes from when the caller gives none. */
  enum InitialState {
    /** Zeros. */
    ZEROS,
    /** Learned parameters {@code h0_l{k}} (and {@code c0_l{k}}), broadcast over the batch. */
    LEARNED,
    /** The final state of the previous recurrent stage ({@code handOffStates()}). */
    HANDED_OFF
  }

  /**
   * One direction of a recurrent stage.
   *
   * @param scan the cell and its weights, scanned over time
   * @param suffix the parameter and state name suffix, {@code _l{k}} or {@code _l{k}_reverse}
   * @param states the state slots of this direction: {@code h} (and {@code c}, ...)
   * @param learned the learned initial states, one per slot, or empty
   */
  record Direction(Scan scan, String suffix, ImmutableList<StateSlot> states,
      ImmutableList<Parameter> learned) {
    /** {@return whether this direction runs from the last step to the first} */
    boolean reverse() {
      return scan.reverse();
    }
  }

  /**
   * A recurrent layer, one or two directions.
   *
   * @param layer the builder layer, from 1
   * @param index the recurrent layer's index {@code k}, as in {@code weight_ih_l{k}}
   * @param spec the layer as written
   * @param inside the activation inside the recurrence ({@code recurrent}: identity, or the
   *     activation layer it absorbed; {@code elman}: its own), or null for gated and user cells
   * @param absorbed whether the activation layer after it was moved inside ({@link
   *     Stacking#STATES}): the stage then stands for layers {@code layer} and {@code layer + 1}
   * @param symbol what the recurrence carries and outputs, {@code s1} (a linear recurrence whose
   *     activation acts outside) or {@code h1}
   * @param initial where the initial state comes from when none is given
   * @param directions forward, then reverse if bidirectional
   * @param init how the layer's parameters are set: the network's initializer with the layer's
   *     own {@code init(...)} assignments
   * @param label names the layer's scans in graphs and in the gradient-flow report, {@code layer}
   *     then {@code spec}'s description, e.g. {@code layer 1 lstm(3, 4)}: made once by {@link
   *     Wiring}, since describing the spec on every call costs a small network's step more than
   *     its arithmetic while the JVM still interprets
   */
  record Recurrent(int layer, int index, Layer.Recurrent spec, Activation inside,
      boolean absorbed, String symbol, InitialState initial,
      ImmutableList<Direction> directions, Initializer init, String label) implements Stage {
    @Override public String written() {
      return spec.describe() + (absorbed ? "." + inside.label() + "()" : "");
    }

    boolean bidirectional() {
      return directions.size() == 2;
    }

    @Override public boolean streams() {
      return !bidirectional();
    }

    @Override public boolean rebuildable() {
      return spec.kind().rebuildable();
    }

    @Override public boolean readsPadding() {
      return false;
    }

    /** {@return the state tensors of one direction: 1 ({@code h}) or 2 ({@code h, c})} */
    int stateCount() {
      return directions.get(0).states().size();
    }

    @Override public int outputSize() {
      return spec.outputSize(spec.in());
    }

    @Override public ImmutableList<StateSlot> states() {
      ImmutableList.Builder<StateSlot> b = ImmutableList.builder();
      for (Direction d : directions) {
        b.addAll(d.states());
      }
      return b.build();
    }

    @Override public ImmutableList<Parameter> parameters() {
      ImmutableList.Builder<Parameter> b = ImmutableList.builder();
      for (Direction d : directions) {
        b.addAll(d.scan().parameters());
      }
      for (Direction d : directions) {
        b.addAll(d.learned());
      }
      return b.build();
    }

    @Override public List<Tensor> initialStates(Graph g, int batch, DType dtype) {
      List<Tensor> ts = new ArrayList<>();
      for (Direction d : directions) {
        for (int k = 0; k < d.states().size(); k++) {
          ts.add(!d.learned().isEmpty()
              ? Ops.broadcastRows(g, g.parameter(d.learned().get(k)), batch).tensor()
              : Tensor.zeros(dtype, batch, d.states().get(k).size()));
        }
      }
      return ts;
    }

    /**
     * Per direction, in parameter order: {@code weight_ih} as the input weights, {@code
     * weight_hh} as the recurrent weights, {@code bias_ih} and {@code bias_hh} as the biases,
     * each with torch's default bound {@code 1/sqrt(H)} and gate blocks of {@code H} rows, and
     * the cell's extra parameters as its spec says; then, for an LSTM with biases and a
     * forget-gate bias, the forget block {@code [H, 2H)} of {@code b_ih} set to it and that of
     * {@code b_hh} to 0. Learned initial states stay zero.
     */
    @Override public void initialize(Random rnd) {
      int forget = spec.kind().forgetGate();
      Init forgetBias = forget < 0 ? null : init.init(Init.Kind.FORGET_GATE_BIAS);
      for (Direction d : directions) {
        Scan scan = d.scan();
        int h = scan.cell().hiddenSize();
        double bound = 1 / Math.sqrt(h);
        List<Parameter> ps = scan.parameters();
        List<ParameterSpec> extras = scan.cell().extraParameters();
        int firstExtra = ps.size() - extras.size();
        for (int i = 0; i < ps.size(); i++) {
          Parameter p = ps.get(i);
          if (i >= firstExtra) {
            initializeExtra(p, extras.get(i - firstExtra).init(), bound, rnd);
          } else {
            Init.Kind kind = i == 0 ? Init.Kind.INPUT_WEIGHTS
                : i == 1 ? Init.Kind.RECURRENT_WEIGHTS : Init.Kind.BIASES;
            init.init(kind).fill(p, bound, h, rnd);
          }
        }
        for (int i = 2; forgetBias != null && i < firstExtra; i++) {
          ps.get(i).data().fill(forget * h, h, i == 2 ? forgetBias.value() : 0);
        }
      }
    }

    /** An extra parameter of the cell: {@link Initializer#constant}'s weight, or its spec. */
    private void initializeExtra(Parameter p, ParameterSpec.Init spec, double bound,
        Random rnd) {
      if (init.extras() != null) {
        init.extras().fill(p, bound, p.shape().dim(0), rnd);
        return;
      }
      switch (spec) {
        case UNIFORM_HIDDEN -> p.fillUniform(rnd, bound);
        case ONES -> p.data().fill(0, p.size(), 1);
        case ZEROS -> p.data().fill(0, p.size(), 0);
        default -> throw new AssertionError(spec);
      }
    }

    @Override public Value forward(Graph g, Value x, Run run) {
      int batch = x.dim(1);
      List<Value> outs = new ArrayList<>();
      List<Value> finals = new ArrayList<>();
      for (int r = 0; r < directions.size(); r++) {
        Direction d = directions.get(r);
        List<Value> init = new ArrayList<>();
        for (int s = 0; s < d.states().size(); s++) {
          Value v = run.states == null ? null : run.states.get(run.position);
          run.position++;
          if (v == null && initial == InitialState.HANDED_OFF && run.previousFinals != null) {
            int prevK = run.previousFinals.size() / directions.size();
            v = s < prevK ? run.previousFinals.get(r * prevK + s) : null;
          }
          if (v == null && !d.learned().isEmpty()) {
            v = Ops.broadcastRows(g, g.parameter(d.learned().get(s)), batch);
          }
          init.add(v);
        }
        Ops.ScanResult res = Ops.scan(g, d.scan(), label, x, init, run.firstStep, run.lengths);
        outs.add(res.output());
        finals.addAll(res.finalStates());
      }
      run.finals.addAll(finals);
      run.previousFinals = finals;
      return outs.size() == 1 ? outs.get(0) : spec.merge().apply(g, outs.get(0), outs.get(1));
    }

    @Override public <R> R accept(Visitor<R> v) {
      return v.recurrent(this);
    }

    // ---- the words and equations of this layer, from its kind --------------------------------

    /**
     * The equations of one direction, with {@code in} its input symbol, {@code h} its state
     * symbol (with the direction's arrow) and {@code prev} the previous step's subscript.
     */
    List<String> equations(Direction d, String in, String h, String prev) {
      return spec.kind().equations(new RecurrentKind.Symbols(this, d.suffix(), in, h, prev));
    }

    /** {@return where the activation sits, for {@code describe()}; empty for gated cells} */
    String activationNote() {
      return spec.kind().activationNote(this);
    }

    /** {@return what a node of this layer computes, for the unrolled graph} */
    String graphDetail() {
      return spec.kind().graphDetail(this);
    }

    /**
     * What the recurrent edges carry, for the unrolled graph's legend; {@code next} is the stage
     * after this one, or null, and {@code stacking} is named in the text.
     */
    String carries(Stage next, Stacking stacking) {
      return spec.kind().carries(this, next, stacking);
    }
  }

  /**
   * A pointwise activation on the output sequence, outside any recurrence.
   *
   * @param layer the builder layer, from 1
   * @param activation the activation
   * @param outputSize the features, those of its input
   */
  record Pointwise(int layer, Activation activation, int outputSize) implements Stage {
    @Override public String written() {
      return activation.label() + "()";
    }

    @Override public Value forward(Graph g, Value x, Run run) {
      return Ops.zeroPadding(g, Ops.activate(g, activation, x), run.lengths);
    }

    @Override public <R> R accept(Visitor<R> v) {
      return v.pointwise(this);
    }
  }

  /**
   * A dense layer on every step, {@code y_t = W x_t + b}, initialised as torch's {@code
   * nn.Linear}.
   *
   * @param layer the builder layer, from 1
   * @param spec the layer as written
   * @param weight {@code dense{i}.weight [out, in]}
   * @param bias {@code dense{i}.bias [out]}
   * @param init how the weight (as input weights) and the bias (as biases) are set
   */
  record Dense(int layer, Layer.Dense spec, Parameter weight, Parameter bias, Initializer init)
      implements Stage {
    @Override public String written() {
      return spec.describe();
    }

    @Override public int outputSize() {
      return spec.out();
    }

    @Override public ImmutableList<Parameter> parameters() {
      return ImmutableList.of(weight, bias);
    }

    /** The weight as input weights, the bias as biases; torch's bound {@code 1/sqrt(in)}. */
    @Override public void initialize(Random rnd) {
      double bound = 1 / Math.sqrt(spec.in()); // torch's nn.Linear: uniform in ±1/sqrt(fan_in)
      init.init(Init.Kind.INPUT_WEIGHTS).fill(weight, bound, spec.out(), rnd);
      init.init(Init.Kind.BIASES).fill(bias, bound, spec.out(), rnd);
    }

    /** With lengths, on the real steps only: packed, projected, unpacked (zeros after them). */
    @Override public Value forward(Graph g, Value x, Run run) {
      if (x.shape().rank() != 3) {
        // after lastStep(): one row per sequence, its last real step; no padding to leave out
        return Ops.linear(g, x, g.parameter(weight), g.parameter(bias));
      }
      if (run.lengths == null || run.lengths.total() == 0) {
        return Ops.zeroPadding(g, Ops.linear(g, x, g.parameter(weight), g.parameter(bias)),
            run.lengths);
      }
      Value y = Ops.linear(g, Ops.pack(g, x, run.lengths), g.parameter(weight),
          g.parameter(bias));
      return Ops.unpack(g, y, run.lengths, x.dim(0));
    }

    @Override public <R> R accept(Visitor<R> v) {
      return v.dense(this);
    }
  }

  /**
   * Inverted dropout in training, the identity in inference.
   *
   * @param layer the builder layer, from 1
   * @param p the probability that an element is zeroed
   * @param outputSize the features, those of its input
   */
  record Dropout(int layer, double p, int outputSize) implements Stage {
    @Override public String written() {
      return "dropout(" + p + ")";
    }

    @Override public Value forward(Graph g, Value x, Run run) {
      return g.rowSeeds() != null ? Ops.dropoutPerRow(g, p, layer, run.firstStep, x)
          : Ops.dropout(g, p, run.random, x);
    }

    @Override public <R> R accept(Visitor<R> v) {
      return v.dropout(this);
    }
  }

  /**
   * The final step only, {@code [T, N, F] -> [N, F]}.
   *
   * @param layer the builder layer, from 1
   * @param outputSize the features, those of its input
   */
  record LastStep(int layer, int outputSize) implements Stage {
    @Override public String written() {
      return "lastStep()";
    }

    @Override public boolean keepsSequence() {
      return false;
    }

    @Override public Value forward(Graph g, Value x, Run run) {
      return Ops.lastStep(g, x, run.lengths);
    }

    @Override public <R> R accept(Visitor<R> v) {
      return v.lastStep(this);
    }
  }

  /**
   * An embedding of token ids, torch's {@code nn.Embedding}: {@code x_t = E[id_t]}, initialised as
   * torch does ({@code N(0, 1)}, the padding id's row zero).
   *
   * @param layer the builder layer, from 1
   * @param spec the layer as written
   * @param weight {@code embedding.weight [V, D]}
   * @param init how the weight is set: torch's default is {@code N(0, 1)}, as {@code
   *     nn.Embedding}'s; another input-weight rule fills it as a {@code [V, D]} matrix
   */
  record Embedding(int layer, Layer.Embedding spec, Parameter weight, Initializer init)
      implements Stage {
    @Override public String written() {
      return spec.describe();
    }

    @Override public int outputSize() {
      return spec.dim();
    }

    @Override public boolean takesIds() {
      return true;
    }

    /** {@return false: with lengths, the ids after a sequence's end are not read} */
    @Override public boolean readsPadding() {
      return false;
    }

    @Override public ImmutableList<Parameter> parameters() {
      return ImmutableList.of(weight);
    }

    @Override public void initialize(Random rnd) {
      Init rule = init.init(Init.Kind.INPUT_WEIGHTS);
      if (rule.isTorchDefault()) {
        for (int i = 0; i < weight.size(); i++) {
          weight.data().set(i, rnd.nextGaussian());
        }
      } else {
        rule.fill(weight, 1, spec.vocab(), rnd);
      }
      if (spec.paddingId() >= 0) {
        weight.data().fill(spec.paddingId() * spec.dim(), spec.dim(), 0);
      }
    }

    /** {@code x} holds the ids, {@code [T, N, 1]}. */
    @Override public Value forward(Graph g, Value x, Run run) {
      Tensor ids = x.tensor().reshape(x.dim(0), x.dim(1));
      return Ops.embedding(g, ids, g.parameter(weight), spec.paddingId(), run.lengths);
    }

    @Override public <R> R accept(Visitor<R> v) {
      return v.embedding(this);
    }
  }

  /** What one forward pass carries from stage to stage besides the sequence. */
  final class Run {
    /** Initial states given by the caller, flat in network order, or null. */
    final List<Value> states;
    /**
     * The index of the input's first step in the whole sequence: 0, or the start of a window of
     * truncated BPTT; recurrent stages name their steps from it.
     */
    final int firstStep;
    /** Where the next recurrent stage reads its initial states in {@link #states}. */
    int position;
    /** Final states, flat in network order. */
    final List<Value> finals = new ArrayList<>();
    /** The previous recurrent stage's final states, for hand-off. */
    List<Value> previousFinals;
    /** Dropout masks. */
    final Random random;
    /**
     * The length of each sequence within this pass's input (0 for one that ended before a window
     * of truncated BPTT), or null for all of its steps: each stage keeps the output zero after a
     * sequence's end, and the last step is each sequence's own.
     */
    final Lengths lengths;

    Run(List<Value> states, int firstStep, Random random, Lengths lengths) {
      this.states = states;
      this.firstStep = firstStep;
      this.random = random;
      this.lengths = lengths;
    }
  }
}
