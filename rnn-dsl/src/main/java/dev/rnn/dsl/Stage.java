package dev.rnn.dsl;

import com.google.common.collect.ImmutableList;
import dev.rnn.autograd.Activate;
import dev.rnn.autograd.Broadcast;
import dev.rnn.autograd.Concat;
import dev.rnn.autograd.Dropout;
import dev.rnn.autograd.Graph;
import dev.rnn.autograd.Linear;
import dev.rnn.autograd.ScanOp;
import dev.rnn.autograd.Steps;
import dev.rnn.autograd.Value;
import dev.rnn.core.Activation;
import dev.rnn.core.Parameter;
import dev.rnn.core.Scan;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One step of a wired network's forward pass: a recurrent layer (with the activation inside its
 * recurrence, if the stacking put one there), an activation, a dense layer, dropout or the last
 * step. {@link Wiring} makes them from the builder's layers.
 */
abstract class Stage {
  /** The builder layers this stage stands for, 1-based, for messages and describe(). */
  final int layerNumber;

  Stage(int layerNumber) {
    this.layerNumber = layerNumber;
  }

  /** The stage's forward, recorded in {@code g}. */
  abstract Value forward(Graph g, Value x, Run run);

  /** The stage's parameters, in name order of the network. */
  List<Parameter> parameters() {
    return List.of();
  }

  /** What one forward pass carries from stage to stage besides the sequence. */
  static final class Run {
    /** Initial states given by the caller, flat in network order, or null. */
    final List<Value> states;
    /** Where the next recurrent stage reads its initial states in {@link #states}. */
    int position;
    /** Final states, flat in network order. */
    final List<Value> finals = new ArrayList<>();
    /** The previous recurrent stage's final states, for hand-off. */
    List<Value> previousFinals;
    /** Dropout masks. */
    final Random random;

    Run(List<Value> states, Random random) {
      this.states = states;
      this.random = random;
    }
  }

  /** A recurrent layer, one or two directions. */
  static final class RecurrentStage extends Stage {
    final Layer.Recurrent spec;
    final int index;
    final Activation inside;
    final ImmutableList<Scan> directions;
    /** Learnable initial states per direction and state, or null. */
    final Parameter[][] initial;
    final boolean handOffIn;
    final String label;

    RecurrentStage(int layerNumber, Layer.Recurrent spec, int index, Activation inside,
        List<Scan> directions, Parameter[][] initial, boolean handOffIn) {
      super(layerNumber);
      this.spec = spec;
      this.index = index;
      this.inside = inside;
      this.directions = ImmutableList.copyOf(directions);
      this.initial = initial;
      this.handOffIn = handOffIn;
      this.label = "layer " + layerNumber + " " + spec.describe();
    }

    int stateCount() {
      return directions.get(0).cell().stateCount();
    }

    @Override Value forward(Graph g, Value x, Run run) {
      int k = stateCount();
      int batch = x.dim(1);
      List<Value> outs = new ArrayList<>();
      List<Value> finals = new ArrayList<>();
      for (int r = 0; r < directions.size(); r++) {
        List<Value> init = new ArrayList<>();
        for (int s = 0; s < k; s++) {
          Value v = run.states == null ? null : run.states.get(run.position);
          run.position++;
          if (v == null && handOffIn && run.previousFinals != null) {
            int prevK = run.previousFinals.size() / directions.size();
            v = s < prevK ? run.previousFinals.get(r * prevK + s) : null;
          }
          if (v == null && initial != null) {
            v = Broadcast.rows(g, g.parameter(initial[r][s]), batch);
          }
          init.add(v);
        }
        ScanOp.Result res = ScanOp.apply(g, directions.get(r), label, x, init);
        outs.add(res.output());
        finals.addAll(res.finalStates());
      }
      run.finals.addAll(finals);
      run.previousFinals = finals;
      return outs.size() == 1 ? outs.get(0) : Concat.apply(g, outs);
    }

    @Override List<Parameter> parameters() {
      List<Parameter> ps = new ArrayList<>();
      for (Scan r : directions) {
        ps.addAll(r.parameters());
      }
      if (initial != null) {
        for (Parameter[] dir : initial) {
          ps.addAll(List.of(dir));
        }
      }
      return ps;
    }
  }

  /** A pointwise activation on the sequence. */
  static final class ActivationStage extends Stage {
    final Activation activation;

    ActivationStage(int layerNumber, Activation activation) {
      super(layerNumber);
      this.activation = activation;
    }

    @Override Value forward(Graph g, Value x, Run run) {
      return Activate.apply(g, activation, x);
    }
  }

  /** A dense layer on every step. */
  static final class DenseStage extends Stage {
    final Layer.Dense spec;
    final Parameter weight;
    final Parameter bias;

    DenseStage(int layerNumber, Layer.Dense spec, Parameter weight, Parameter bias) {
      super(layerNumber);
      this.spec = spec;
      this.weight = weight;
      this.bias = bias;
    }

    @Override Value forward(Graph g, Value x, Run run) {
      return Linear.apply(g, x, g.parameter(weight), g.parameter(bias));
    }

    @Override List<Parameter> parameters() {
      return List.of(weight, bias);
    }
  }

  /** Dropout. */
  static final class DropoutStage extends Stage {
    final double p;

    DropoutStage(int layerNumber, double p) {
      super(layerNumber);
      this.p = p;
    }

    @Override Value forward(Graph g, Value x, Run run) {
      return Dropout.apply(g, p, run.random, x);
    }
  }

  /** The last step only. */
  static final class LastStepStage extends Stage {
    LastStepStage(int layerNumber) {
      super(layerNumber);
    }

    @Override Value forward(Graph g, Value x, Run run) {
      return Steps.last(g, x);
    }
  }
}
