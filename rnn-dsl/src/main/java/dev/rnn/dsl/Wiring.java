package dev.rnn.dsl;

import com.google.common.collect.ImmutableList;
import dev.rnn.core.Activation;
import dev.rnn.core.Cell;
import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Scan;
import dev.rnn.core.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * The one place where the stacking mode and the hand-off are read: it turns the builder's layer
 * list into the immutable {@link Stage} records of a network, so that forward, backward, {@code
 * describe()}, {@code graph()}, the trainer and checkpoints read one set of decisions.
 *
 * <ul>
 *   <li>{@link Stacking#STATES}: an activation right after {@code recurrent(in, out)} becomes
 *       that layer's H inside its recurrence (the layer is an Elman cell with that activation,
 *       and carries {@code h}); a {@code recurrent} layer with no activation after it has H =
 *       identity.
 *   <li>{@link Stacking#OUTPUTS}: {@code recurrent(in, out)} is linear (identity inside, it
 *       carries {@code s}) and every activation is a stage of its own on the output sequence;
 *       with hand-off, each recurrent stage after the first starts from the previous one's final
 *       states.
 *   <li>Both: {@code elman}, {@code lstm}, {@code gru} and user cells keep their own
 *       nonlinearities inside and carry {@code h}; activations after them act on their output.
 * </ul>
 *
 * <p>Each recurrent stage gets its directions (a scan per direction, with torch's parameter
 * names {@code weight_ih_l{k}[_reverse]}), its state slots {@code h_l{k}[_reverse]} (and {@code
 * c_...}, sized by the scan: {@code h} of the projection's size under {@code projection(p)}),
 * and the source of its initial state: handed off, learned ({@code h0_l{k}}) or zeros. Recurrent
 * and dense stages carry their layer's initializer, which their {@code initialize} reads.
 */
final class Wiring {
  private Wiring() {}

  /**
   * The stages of {@code layers}; {@code inits.get(i)} is how layer {@code i}'s parameters are
   * set (the network's initializer with the layer's own assignments).
   */
  static ImmutableList<Stage> wire(List<Layer> layers, Stacking stacking, boolean handOff,
      DType dtype, List<Initializer> inits) {
    ImmutableList.Builder<Stage> stages = ImmutableList.builder();
    int recurrentIndex = 0;
    int denseIndex = 0;
    // the features flowing into layer i: the network's input size before the first sized layer
    int size = layers.stream().mapToInt(Layer::inputSize).filter(n -> n > 0).findFirst()
        .orElseThrow();
    for (int i = 0; i < layers.size(); i++) {
      Layer l = layers.get(i);
      int number = i + 1;
      if (l instanceof Layer.Recurrent r) {
        Activation inside = r.kind().inside(r);
        boolean absorbed = r.kind().linear() && stacking == Stacking.STATES
            && i + 1 < layers.size() && layers.get(i + 1) instanceof Layer.Act;
        if (absorbed) {
          inside = ((Layer.Act) layers.get(i + 1)).activation();
          i++;
        }
        boolean carriesS = r.kind().linear() && inside == Activation.IDENTITY
            && stacking == Stacking.OUTPUTS;
        Stage.InitialState initial = handOff && recurrentIndex > 0 ? Stage.InitialState.HANDED_OFF
            : r.learnableInit() ? Stage.InitialState.LEARNED : Stage.InitialState.ZEROS;
        stages.add(new Stage.Recurrent(number, recurrentIndex, r, inside, absorbed,
            (carriesS ? "s" : "h") + number, initial,
            directions(r, recurrentIndex, inside, dtype), inits.get(number - 1),
            "layer " + number + " " + r.describe()));
        recurrentIndex++;
      } else if (l instanceof Layer.Act a) {
        stages.add(new Stage.Pointwise(number, a.activation(), size));
      } else if (l instanceof Layer.Dense d) {
        String name = "dense" + denseIndex++;
        stages.add(new Stage.Dense(number, d,
            new Parameter(name + ".weight", Shape.of(d.out(), d.in()), dtype),
            new Parameter(name + ".bias", Shape.of(d.out()), dtype), inits.get(i)));
      } else if (l instanceof Layer.Embedding e) {
        stages.add(new Stage.Embedding(number, e,
            new Parameter("embedding.weight", Shape.of(e.vocab(), e.dim()), dtype),
            inits.get(i)));
      } else if (l instanceof Layer.Drop d) {
        stages.add(new Stage.Dropout(number, d.p(), size));
      } else {
        stages.add(new Stage.LastStep(number, size));
      }
      size = l.outputSize(size);
    }
    return stages.build();
  }

  /** The scans, name suffixes, state slots and learned initial states of a recurrent layer. */
  private static ImmutableList<Stage.Direction> directions(Layer.Recurrent r, int index,
      Activation inside, DType dtype) {
    ImmutableList.Builder<Stage.Direction> dirs = ImmutableList.builder();
    for (int d = 0; d < (r.bidirectional() ? 2 : 1); d++) {
      String suffix = Scan.suffix(index, d == 1);
      Cell cell = r.kind().cell(r, inside);
      Scan.Biases biases = !r.bias() ? Scan.Biases.NONE
          : r.kind().linear() ? Scan.Biases.INPUT_ONLY : Scan.Biases.BOTH;
      Scan scan = new Scan(cell, Scan.Direction.of(d == 1), suffix, dtype, biases,
          r.projection());
      List<Stage.StateSlot> slots = new ArrayList<>();
      List<Parameter> learned = new ArrayList<>();
      for (int k = 0; k < cell.stateCount(); k++) {
        // named and sized by the scan: h has the projection's size, c the cell's
        String name = k == 0 ? "h" : k == 1 ? "c" : "s" + k;
        slots.add(new Stage.StateSlot(name + suffix, scan.stateSize(k)));
        if (r.learnableInit()) {
          learned.add(new Parameter(name + (k < 2 ? "0" : "_0") + suffix,
              Shape.of(scan.stateSize(k)), dtype));
        }
      }
      dirs.add(new Stage.Direction(scan, suffix, ImmutableList.copyOf(slots),
          ImmutableList.copyOf(learned)));
    }
    return dirs.build();
  }
}
