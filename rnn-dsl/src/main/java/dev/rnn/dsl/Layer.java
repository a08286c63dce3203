package dev.rnn.dsl;

import com.google.common.collect.ImmutableSet;
import com.google.common.collect.Sets;
import dev.rnn.core.Activation;
import dev.rnn.core.Cell;
import java.util.EnumSet;
import java.util.List;

/** One entry of the builder's layer list, as the user wrote it; the wiring reads these. */
sealed interface Layer {
  /** As written in the builder, e.g. {@code recurrent(2, 2)}, {@code lstm(3, 4) bidirectional}. */
  String describe();

  /** The feature size this layer needs, or -1 if it takes any (activations, dropout). */
  int inputSize();

  /** The feature size this layer produces, given its input size. */
  int outputSize(int inputSize);

  /** What a modifier of the builder sets on the recurrent layer it follows. */
  enum Modifier {
    /**
     * {@code bidirectional()} or {@code bidirectional(merge)}: a second, reverse direction,
     * outputs joined as the layer's {@link Recurrent#merge()} says.
     */
    BIDIRECTIONAL(".bidirectional()"),
    /** {@code peepholes()} (lstm only): the cell state feeds the gates. */
    PEEPHOLES(".peepholes()"),
    /**
     * {@code projection(p)} (lstm only): {@code h_t = W_hr (o_t * tanh(c_t))} of size {@code p},
     * torch's {@code proj_size}; the size is the layer's {@link Recurrent#projection()}.
     */
    PROJECTION(".projection"),
    /** {@code noBias()}: no {@code bias_ih}, {@code bias_hh}. */
    NO_BIAS(".noBias()"),
    /** {@code learnableInitialState()}: {@code h0} (and {@code c0}) are parameters. */
    LEARNABLE_INITIAL_STATE(".learnableInitialState()");

    final String written;

    Modifier(String written) {
      this.written = written;
    }
  }

  /**
   * A recurrent layer as written.
   *
   * @param kind which cell
   * @param in the input features
   * @param out the hidden features
   * @param activation the activation of {@code elman(in, out, activation)}; null for other kinds
   * @param custom the user's cell of {@code cell(c)}; null for other kinds
   * @param modifiers the modifiers written after it
   * @param projection the size of {@code projection(p)}, or 0 without it
   * @param merge how {@code bidirectional(merge)} joins the directions ({@link Merge#CONCAT} for
   *     {@code bidirectional()}), or null for one direction
   */
  record Recurrent(RecurrentKind kind, int in, int out, Activation activation, Cell custom,
      ImmutableSet<Modifier> modifiers, int projection, Merge merge) implements Layer {
    /** A layer of {@code kind} without modifiers. */
    Recurrent(RecurrentKind kind, int in, int out, Activation activation, Cell custom) {
      this(kind, in, out, activation, custom, Sets.immutableEnumSet(EnumSet.noneOf(Modifier.class)),
          0, null);
    }

    @Override public String describe() {
      StringBuilder sb = new StringBuilder(kind.written(this));
      // in the spec language's order: peepholes, projection, bidirectional, noBias,
      // learnableInitialState
      for (Modifier m : List.of(Modifier.PEEPHOLES, Modifier.PROJECTION, Modifier.BIDIRECTIONAL,
          Modifier.NO_BIAS, Modifier.LEARNABLE_INITIAL_STATE)) {
        if (modifiers.contains(m)) {
          sb.append(m.written).append(m == Modifier.PROJECTION ? "(" + projection + ")" : "");
        }
        if (m == Modifier.BIDIRECTIONAL && merge != null && merge != Merge.CONCAT) {
          sb.setLength(sb.length() - 1);
          sb.append(merge.label()).append(')');
        }
      }
      return sb.toString();
    }

    @Override public int inputSize() {
      return in;
    }

    @Override public int outputSize(int inputSize) {
      return bidirectional() ? merge.outputSize(stateSize()) : stateSize();
    }

    /** {@return the size of {@code h}, each direction's output: the projection's, or {@code out}} */
    int stateSize() {
      return projection > 0 ? projection : out;
    }

    /** {@return this layer with {@code m} added} */
    Recurrent with(Modifier m) {
      EnumSet<Modifier> ms = EnumSet.of(m);
      ms.addAll(modifiers);
      return new Recurrent(kind, in, out, activation, custom, Sets.immutableEnumSet(ms),
          projection, merge);
    }

    /** {@return this layer with {@code projection(p)}} */
    Recurrent withProjection(int p) {
      Recurrent r = with(Modifier.PROJECTION);
      return new Recurrent(kind, in, out, activation, custom, r.modifiers, p, merge);
    }

    /** {@return this layer with {@code bidirectional(m)}} */
    Recurrent withBidirectional(Merge m) {
      Recurrent r = with(Modifier.BIDIRECTIONAL);
      return new Recurrent(kind, in, out, activation, custom, r.modifiers, projection, m);
    }

    boolean bidirectional() {
      return modifiers.contains(Modifier.BIDIRECTIONAL);
    }

    boolean peepholes() {
      return modifiers.contains(Modifier.PEEPHOLES);
    }

    boolean learnableInit() {
      return modifiers.contains(Modifier.LEARNABLE_INITIAL_STATE);
    }

    boolean bias() {
      return !modifiers.contains(Modifier.NO_BIAS);
    }
  }

  /**
   * An embedding of token ids, the first layer of a network that reads ids.
   *
   * @param vocab the number of ids, {@code V}
   * @param dim the features of each id's row, {@code D}
   * @param paddingId the id whose row stays zero and gets no gradient, or -1 for none
   */
  record Embedding(int vocab, int dim, int paddingId) implements Layer {
    @Override public String describe() {
      return "embedding(" + vocab + ", " + dim + (paddingId >= 0 ? ", " + paddingId : "") + ")";
    }

    /** {@return 1: one id per step} */
    @Override public int inputSize() {
      return 1;
    }

    @Override public int outputSize(int inputSize) {
      return dim;
    }
  }

  /** A pointwise activation. */
  record Act(Activation activation) implements Layer {
    @Override public String describe() {
      return activation.label() + "()";
    }

    @Override public int inputSize() {
      return -1;
    }

    @Override public int outputSize(int inputSize) {
      return inputSize;
    }
  }

  /** A dense layer on every time step. */
  record Dense(int in, int out) implements Layer {
    @Override public String describe() {
      return "dense(" + in + ", " + out + ")";
    }

    @Override public int inputSize() {
      return in;
    }

    @Override public int outputSize(int inputSize) {
      return out;
    }
  }

  /** Dropout in training. */
  record Drop(double p) implements Layer {
    @Override public String describe() {
      return "dropout(" + p + ")";
    }

    @Override public int inputSize() {
      return -1;
    }

    @Override public int outputSize(int inputSize) {
      return inputSize;
    }
  }

  /** Only the final step's output. */
  record Last() implements Layer {
    @Override public String describe() {
      return "lastStep()";
    }

    @Override public int inputSize() {
      return -1;
    }

    @Override public int outputSize(int inputSize) {
      return inputSize;
    }
  }
}
