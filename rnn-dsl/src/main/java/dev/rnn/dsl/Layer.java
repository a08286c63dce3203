package dev.rnn.dsl;

import dev.rnn.core.Activation;
import dev.rnn.core.Cell;

/** One entry of the builder's layer list, as the user wrote it; the wiring reads these. */
sealed interface Layer {
  /** As written in the builder, e.g. {@code recurrent(2, 2)}, {@code lstm(3, 4) bidirectional}. */
  String describe();

  /** The feature size this layer needs, or -1 if it takes any (activations, dropout). */
  int inputSize();

  /** The feature size this layer produces, given its input size. */
  int outputSize(int inputSize);

  /** The kinds of recurrent layer. */
  enum Kind {
    LINEAR, ELMAN, LSTM, GRU, CUSTOM
  }

  /** A recurrent layer. */
  record Recurrent(Kind kind, int in, int out, Activation activation, boolean bidirectional,
      boolean peepholes, boolean learnableInit, boolean bias, Cell custom) implements Layer {
    @Override public String describe() {
      String base;
      switch (kind) {
        case LINEAR:
          base = "recurrent(" + in + ", " + out + ")";
          break;
        case ELMAN:
          base = "elman(" + in + ", " + out + ", " + activation.label() + ")";
          break;
        case LSTM:
          base = "lstm(" + in + ", " + out + ")" + (peepholes ? ".peepholes()" : "");
          break;
        case GRU:
          base = "gru(" + in + ", " + out + ")";
          break;
        default:
          base = "cell(" + custom.describe() + ")";
      }
      return base + (bidirectional ? ".bidirectional()" : "") + (bias ? "" : ".noBias()")
          + (learnableInit ? ".learnableInitialState()" : "");
    }

    @Override public int inputSize() {
      return in;
    }

    @Override public int outputSize(int inputSize) {
      return bidirectional ? 2 * out : out;
    }

    Recurrent withBidirectional() {
      return new Recurrent(kind, in, out, activation, true, peepholes, learnableInit, bias,
          custom);
    }

    Recurrent withPeepholes() {
      return new Recurrent(kind, in, out, activation, bidirectional, true, learnableInit, bias,
          custom);
    }

    Recurrent withLearnableInit() {
      return new Recurrent(kind, in, out, activation, bidirectional, peepholes, true, bias,
          custom);
    }

    Recurrent withoutBias() {
      return new Recurrent(kind, in, out, activation, bidirectional, peepholes, learnableInit,
          false, custom);
    }

    int stateCount() {
      return kind == Kind.LSTM ? 2 : kind == Kind.CUSTOM ? custom.stateCount() : 1;
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
