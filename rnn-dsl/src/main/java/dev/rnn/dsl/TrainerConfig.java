package dev.rnn.dsl;

import com.google.common.collect.ImmutableList;
import dev.rnn.autograd.Bptt;
import dev.rnn.autograd.Graph;
import dev.rnn.autograd.LossFunction;
import dev.rnn.autograd.Ops;
import dev.rnn.autograd.Value;
import dev.rnn.autograd.optim.Optimizer;
import dev.rnn.core.Parameter;
import dev.rnn.core.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.Function;

/**
 * A snapshot of a {@link Trainer}'s options, taken when a fit or an evaluation starts, with the
 * defaults filled in where the trainer has one ({@code batchSize} 32, {@link Bptt#full()}, no
 * metrics); and what follows from the options alone: the targets the loss reads, the data checked
 * for it, and the loss of a window.
 *
 * <p>The options without a default stay null when unset: {@code objective} or {@code
 * lossFunction} (one is set once the trainer checked its objective), {@code classWeights}, {@code
 * ignoreIndex}, {@code optimizerFactory} (Adam), {@code clipNorm}, {@code clipValue}, {@code
 * onNonFinite} (STOP), {@code validation}, {@code monitor} (val_loss or loss), {@code schedule},
 * {@code earlyStopping} and {@code checkpointDirectory}.
 */
record TrainerConfig(Network net, Trainer.Objective objective, LossFunction lossFunction,
    Tensor classWeights, Integer ignoreIndex,
    Function<? super List<Parameter>, ? extends Optimizer> optimizerFactory, int batchSize,
    OptionalLong shuffleSeed, Bptt bptt, Double clipNorm, Double clipValue,
    Trainer.NonFinite onNonFinite, ImmutableList<Trainer.Listener> listeners,
    Validation validation, ImmutableList<Metric> metrics, String monitor, Schedule schedule,
    EarlyStopping earlyStopping, Path checkpointDirectory,
    ImmutableList<Trainer.EpochListener> epochListeners) {

  /**
   * Validation data ({@code inputs} not null; {@code mask} or {@code lengths} or neither), or a
   * split of the fit's data.
   */
  record Validation(Tensor inputs, Tensor targets, Tensor mask, int[] lengths, double split) {
    @Override public String toString() {
      return inputs == null ? "validationSplit(" + split + ")"
          : "validation(inputs " + inputs.shape() + (lengths == null ? "" : ", lengths")
              + ", targets " + targets.shape() + ")";
    }

    /** The validation data checked as the loss reads its targets (inputs not null). */
    TrainingData data(TrainerConfig config) {
      return config.data("validation", inputs, targets, mask, null, lengths);
    }
  }

  /** The data checked as the loss reads its targets, with the weights folded into one mask. */
  TrainingData data(String who, Tensor inputs, Tensor targets, Tensor mask, Tensor sampleWeights,
      int[] lengths) {
    return TrainingData.of(who, net, targetKind(), ignoreIndex, classWeights, inputs, targets,
        mask, sampleWeights, lengths);
  }

  /** The sequences of {@code inputs} and {@code targets} padded into one batch with lengths. */
  TrainingData data(String who, List<Tensor> inputs, List<Tensor> targets) {
    return TrainingData.of(who, net, targetKind(), ignoreIndex, classWeights, inputs, targets);
  }

  /** What the targets are, as the loss reads them. */
  private TrainingData.Targets targetKind() {
    return lossFunction != null ? TrainingData.Targets.ANY
        : switch (objective) {
          case MSE -> TrainingData.Targets.FEATURES;
          case CROSS_ENTROPY -> TrainingData.Targets.CLASSES;
          case BINARY_CROSS_ENTROPY -> TrainingData.Targets.PROBABILITIES;
        };
  }

  /**
   * The loss of {@code out} against {@code y}, each row weighted by {@code weights} (or 1), which
   * hold the class weights and the ignored targets already ({@link TrainingData}), so that a
   * window whose weights are all 0 is seen, and skipped, before the loss.
   */
  Value loss(Graph g, Value out, Tensor y, Tensor weights) {
    if (lossFunction != null) {
      return Ops.loss(g, out, y, weights, lossFunction);
    }
    return switch (objective) {
      case MSE -> Ops.weightedMse(g, out, y, weights);
      case CROSS_ENTROPY -> Ops.weightedCrossEntropy(g, out, y, weights, null,
          ignoreIndex == null ? OptionalInt.empty() : OptionalInt.of(ignoreIndex));
      case BINARY_CROSS_ENTROPY -> Ops.binaryCrossEntropyWithLogits(g, out, y, weights);
    };
  }
}
