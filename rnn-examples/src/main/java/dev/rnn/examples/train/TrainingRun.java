package dev.rnn.examples.train;

import static com.google.common.base.Preconditions.checkArgument;

import dev.rnn.autograd.Bptt;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Trainer;
import java.util.Locale;

/**
 * Trains a network epoch by epoch: after every epoch the loss on held-out data goes into a {@link
 * LossLog}, while a progress bar counts the optimizer steps.
 *
 * <p>Each epoch is one {@link Trainer#fit} of one epoch, the first from scratch and each later one
 * {@link Trainer#resume resumed} from the report of the one before: the optimizer's state carries
 * on, and the shuffle of each epoch is drawn from the seed and the epoch's number, so the run
 * trains exactly as one fit of all the epochs would.
 */
final class TrainingRun {
  /** Inputs and targets in the network's layout, as {@link Trainer#fit} takes them. */
  record Data(Tensor inputs, Tensor targets) {
    /** The number of sequences (time-major data: dimension 1). */
    int sequences() {
      return inputs.dim(1);
    }

    /** The number of time steps (time-major data: dimension 0). */
    int steps() {
      return inputs.dim(0);
    }
  }

  /**
   * What a run did.
   *
   * @param heldOutBefore the held-out loss before training
   * @param train the mean training loss of each epoch
   * @param heldOut the held-out loss after each epoch
   * @param seconds the training time, evaluation excluded
   * @param steps the optimizer steps taken
   */
  record Curve(double heldOutBefore, double[] train, double[] heldOut, double seconds,
      long steps) {
    double firstTrain() {
      return train[0];
    }

    double finalTrain() {
      return train[train.length - 1];
    }

    double finalHeldOut() {
      return heldOut[heldOut.length - 1];
    }

    /** The epoch, from 1, after which the held-out loss was lowest. */
    int bestEpoch() {
      int best = 0;
      for (int e = 1; e < heldOut.length; e++) {
        best = heldOut[e] < heldOut[best] ? e : best;
      }
      return best + 1;
    }

    double bestHeldOut() {
      return heldOut[bestEpoch() - 1];
    }
  }

  private TrainingRun() {}

  /**
   * Trains with {@code trainer} (loss, optimizer and clipping set; batch size, BPTT, epochs and
   * shuffle set here) for {@code epochs} epochs on {@code train}, logging the run as {@code name}.
   * The trainer should serve this run only: the progress bar's listener stays on it.
   */
  static Curve run(String name, Trainer trainer, int batchSize, Bptt bptt, Data train,
      Data heldOut, int epochs, long seed, Progress progress, LossLog log) {
    checkArgument(epochs >= 1, "epochs expected >= 1 but got %s", epochs);
    trainer.batchSize(batchSize).bptt(bptt).epochs(1).shuffle(seed);
    long batches = (train.sequences() + batchSize - 1) / batchSize;
    long windows = bptt.windows(train.steps()).size();
    double before = trainer.evaluate(heldOut.inputs(), heldOut.targets());
    log.add(new LossLog.Row(name, 0, 0, 0, Double.NaN, before));
    double[] trainLoss = new double[epochs];
    double[] heldOutLoss = new double[epochs];
    double seconds = 0;
    long steps = 0;
    try (Progress.Bar bar = progress.start(name, epochs * batches * windows)) {
      trainer.listener(e -> bar.step(String.format(Locale.ROOT, "epoch %d/%d loss %.4f",
          e.epoch(), epochs, e.loss())));
      Trainer.Report r = null;
      for (int epoch = 1; epoch <= epochs; epoch++) {
        r = r == null ? trainer.fit(train.inputs(), train.targets())
            : trainer.resume(r, train.inputs(), train.targets());
        seconds += r.wallTime().toNanos() / 1e9;
        steps += r.steps();
        trainLoss[epoch - 1] = r.finalLoss();
        heldOutLoss[epoch - 1] = trainer.evaluate(heldOut.inputs(), heldOut.targets());
        log.add(new LossLog.Row(name, epoch, steps, seconds, trainLoss[epoch - 1],
            heldOutLoss[epoch - 1]));
      }
    }
    return new Curve(before, trainLoss, heldOutLoss, seconds, steps);
  }
}
