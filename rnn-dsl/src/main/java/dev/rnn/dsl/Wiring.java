package dev.rnn.dsl;

import dev.rnn.core.Activation;
import dev.rnn.core.Cell;
import dev.rnn.core.DType;
import dev.rnn.core.ElmanCell;
import dev.rnn.core.GruCell;
import dev.rnn.core.LstmCell;
import dev.rnn.core.Parameter;
import dev.rnn.core.PeepholeLstmCell;
import dev.rnn.core.Scan;
import dev.rnn.core.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * The one place where the stacking mode is read: it turns the builder's layer list into the
 * stages of a network, so that forward, backward, {@code describe()} and {@code graph()} can never
 * disagree about where an activation sits or where a state goes.
 *
 * <ul>
 *   <li>{@link Stacking#STATES}: an activation right after {@code recurrent(in, out)} becomes
 *       that layer's H inside its recurrence (the layer is an Elman cell with that activation);
 *       a {@code recurrent} layer with no activation after it has H = identity.
 *   <li>{@link Stacking#OUTPUTS}: {@code recurrent(in, out)} is linear (identity inside) and every
 *       activation is a stage of its own on the output sequence; with hand-off, each recurrent
 *       stage takes the previous one's final states as its initial states.
 *   <li>Both: {@code elman}, {@code lstm}, {@code gru} and user cells keep their own
 *       nonlinearities inside; activations after them act on their output.
 * </ul>
 */
final class Wiring {
  private Wiring() {}

  static List<Stage> wire(List<Layer> layers, Stacking stacking, boolean handOff, DType dtype) {
    List<Stage> stages = new ArrayList<>();
    int recurrentIndex = 0;
    int denseIndex = 0;
    for (int i = 0; i < layers.size(); i++) {
      Layer l = layers.get(i);
      int number = i + 1;
      if (l instanceof Layer.Recurrent r) {
        Activation inside = Activation.IDENTITY;
        if (r.kind() == Layer.Kind.LINEAR && stacking == Stacking.STATES
            && i + 1 < layers.size() && layers.get(i + 1) instanceof Layer.Act a) {
          inside = a.activation();
          i++;
        }
        stages.add(recurrentStage(number, r, recurrentIndex, inside, handOff && recurrentIndex > 0,
            dtype));
        recurrentIndex++;
      } else if (l instanceof Layer.Act a) {
        stages.add(new Stage.ActivationStage(number, a.activation()));
      } else if (l instanceof Layer.Dense d) {
        String name = "dense" + denseIndex++;
        stages.add(new Stage.DenseStage(number, d,
            new Parameter(name + ".weight", Shape.of(d.out(), d.in()), dtype),
            new Parameter(name + ".bias", Shape.of(d.out()), dtype)));
      } else if (l instanceof Layer.Drop d) {
        stages.add(new Stage.DropoutStage(number, d.p()));
      } else {
        stages.add(new Stage.LastStepStage(number));
      }
    }
    return stages;
  }

  private static Stage.RecurrentStage recurrentStage(int number, Layer.Recurrent r, int index,
      Activation inside, boolean handOffIn, DType dtype) {
    int dirs = r.bidirectional() ? 2 : 1;
    List<Scan> recs = new ArrayList<>();
    Parameter[][] initial = r.learnableInit() ? new Parameter[dirs][] : null;
    for (int d = 0; d < dirs; d++) {
      String suffix = Scan.suffix(index, d == 1);
      Cell cell = cell(r, inside);
      boolean linear = r.kind() == Layer.Kind.LINEAR;
      recs.add(new Scan(cell, d == 1, suffix, dtype, r.bias(), r.bias() && !linear));
      if (initial != null) {
        initial[d] = new Parameter[cell.stateCount()];
        String[] names = {"h0", "c0"};
        for (int k = 0; k < cell.stateCount(); k++) {
          initial[d][k] = new Parameter(names[Math.min(k, 1)] + suffix,
              Shape.of(cell.hiddenSize()), dtype);
        }
      }
    }
    return new Stage.RecurrentStage(number, r, index, inside, recs, initial, handOffIn);
  }

  private static Cell cell(Layer.Recurrent r, Activation inside) {
    switch (r.kind()) {
      case LINEAR:
        return new ElmanCell(r.in(), r.out(), inside);
      case ELMAN:
        return new ElmanCell(r.in(), r.out(), r.activation());
      case LSTM:
        return r.peepholes() ? new PeepholeLstmCell(r.in(), r.out()) : new LstmCell(r.in(), r.out());
      case GRU:
        return new GruCell(r.in(), r.out());
      default:
        return r.custom();
    }
  }
}
