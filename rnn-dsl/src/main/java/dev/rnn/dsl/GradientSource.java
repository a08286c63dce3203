package dev.rnn.dsl;

import dev.rnn.autograd.Bptt;
import dev.rnn.autograd.GradientFlow;
import dev.rnn.core.Tensor;
import java.util.List;

/**
 * Where a {@link TrainingRun} gets the gradient of each window: this machine's forward and BPTT
 * over its data, or the sum of many machines' ({@link DataParallel}). The run does the rest (the
 * finite check, clipping, the schedule, the optimizer step, tallies, checkpoints).
 */
interface GradientSource {
  /** {@return {@code N}, the sequences of the data} */
  int sequences();

  /** {@return {@code T}, the steps of every sequence (padded)} */
  int steps();

  /**
   * Starts batch {@code b} of epoch {@code epoch}.
   *
   * @param rows the indices of its sequences in the data, in the batch's order
   * @return the batch, whose windows come in the order of the BPTT plan
   */
  Batch batch(int epoch, int b, List<Integer> rows);

  /** One batch: its windows, one after the other. */
  @FunctionalInterface
  interface Batch {
    /**
     * The gradient of the loss of window {@code w} (the mean over the batch's counted steps),
     * added into the parameters' gradients, which the caller zeroed.
     *
     * @return the window's loss and what the tallies read, or null if the window counts no step
     */
    Window window(Bptt.Window w);
  }

  /**
   * What a window's update reports.
   *
   * @param loss the window's loss
   * @param output its output at the counted steps, or null where it stayed on other machines
   * @param targets its targets, or null likewise
   * @param mask its mask, or null
   * @param flow how the gradient flowed back in time, or null where it stayed on other machines
   * @param tallies each metric's tally of the window where other machines tallied them, or null
   *     to tally {@code output} here
   */
  record Window(double loss, Tensor output, Tensor targets, Tensor mask, GradientFlow flow,
      List<Metric.Tally> tallies) {}
}
