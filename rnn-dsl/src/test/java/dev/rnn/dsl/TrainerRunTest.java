package dev.rnn.dsl;

import static dev.rnn.dsl.Rnn.network;
import static dev.rnn.dsl.TrainerTest.bitwiseEqual;
import static dev.rnn.dsl.TrainerTest.echo;
import static dev.rnn.dsl.TrainerTest.inputs;
import static dev.rnn.dsl.TrainerTest.signOfSum;
import static dev.rnn.dsl.TrainerTest.snapshot;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.autograd.Bptt;
import dev.rnn.autograd.optim.Adam;
import dev.rnn.autograd.optim.AdamW;
import dev.rnn.autograd.optim.Optimizer;
import dev.rnn.autograd.optim.RmsProp;
import dev.rnn.autograd.optim.Sgd;
import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.SafetensorsException;
import dev.rnn.core.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A fit as an application runs it: validation, metrics, epoch listeners, schedules, early
 * stopping, checkpoints, finishing an interrupted run from its checkpoint, and predictions.
 */
class TrainerRunTest {
  @TempDir
  Path dir;

  /** {@code lstm(1, 6).dropout(0.2).dense(6, 1)} in float64, seeded. */
  static Network echoNet(long seed) {
    return network().lstm(1, 6).dropout(0.2).dense(6, 1).dtype(DType.FLOAT64).seed(seed)
        .dropoutSeed(5).build();
  }

  /** {@code gru(1, 6).lastStep().dense(6, 2)} in float64: two-class logits from the last step. */
  static Network signNet(long seed) {
    return network().gru(1, 6).lastStep().dense(6, 2).dtype(DType.FLOAT64).seed(seed).build();
  }

  static Trainer echoTrainer(Network net) {
    return net.trainer().loss(Trainer.Objective.MSE)
        .optimizer(ps -> Adam.builder().lr(1e-2).build(ps)).batchSize(8).shuffle(9);
  }

  /**
   * A metric named {@code scripted} whose value in epoch {@code e} is {@code values[e - 1]}: one
   * tally per epoch (one batch, one window), so that tests decide when a metric improves.
   */
  static Metric scripted(double... values) {
    AtomicInteger calls = new AtomicInteger();
    return new Metric() {
      @Override public String name() {
        return "scripted";
      }

      @Override public Tally tally(Tensor output, Tensor targets, Tensor mask) {
        return new Tally(values[Math.min(calls.getAndIncrement(), values.length - 1)], 1);
      }
    };
  }

  /** The mean output, a metric that keeps no count. */
  static final Metric MEAN_OUTPUT = new Metric() {
    @Override public String name() {
      return "meanOutput";
    }

    @Override public Tally tally(Tensor output, Tensor targets, Tensor mask) {
      return new Tally(output.sum(), output.size());
    }
  };

  /** One batch and one window per epoch, so that {@link #scripted} gives one value an epoch. */
  static Trainer scriptedTrainer(Network net, int epochs, double... values) {
    return net.trainer().loss(Trainer.Objective.MSE)
        .optimizer(ps -> Adam.builder().lr(1e-2).build(ps)).batchSize(64).epochs(epochs)
        .metrics(scripted(values)).monitor("scripted");
  }

  @Nested
  class WithValidation {
    @Test
    void valLossIsTheLossOnTheValidationDataAfterTheEpoch() {
      Network net = echoNet(1);
      Tensor x = inputs(1, 8, 20);
      Tensor xv = inputs(2, 8, 7);
      Trainer trainer = echoTrainer(net).validation(xv, echo(xv));
      Trainer.Report r = trainer.fit(x, echo(x));
      Trainer.Epoch e = r.history().get(0);
      assertAll(
          () -> assertEquals(List.of("loss", "val_loss"), e.metrics().keySet().asList()),
          () -> assertEquals(trainer.evaluate(xv, echo(xv)), e.metric("val_loss")),
          () -> assertEquals(r.finalLoss(), e.metric("loss")),
          () -> assertEquals("val_loss", r.run().monitor()));
    }

    @Test
    void aSplitHoldsOutTheLastSequencesAndTrainsOnTheOthers() {
      Tensor x = inputs(3, 8, 10);
      Network split = echoNet(2);
      Network firstSeven = echoNet(2);
      Trainer splitting = echoTrainer(split).epochs(2).validationSplit(0.3);
      Trainer.Report r = splitting.fit(x, echo(x));
      echoTrainer(firstSeven).epochs(2).fit(x.slice(1, 0, 7), echo(x).slice(1, 0, 7));
      Tensor held = x.slice(1, 7, 10);
      Map<String, Tensor> a = snapshot(split);
      Map<String, Tensor> b = snapshot(firstSeven);
      List<Executable> checks = new ArrayList<>();
      a.forEach((name, t) -> checks.add(() -> assertTrue(bitwiseEqual(t, b.get(name)), name)));
      checks.add(() -> assertEquals(splitting.evaluate(held, echo(x).slice(1, 7, 10)),
          r.history().get(1).metric("val_loss")));
      assertAll(checks);
    }

    @Test
    void aSplitThatLeavesNothingIsRefusedNamingTheCounts() {
      Tensor x = inputs(3, 8, 1);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> echoTrainer(echoNet(1)).validationSplit(0.5).fit(x, echo(x)));
      assertEquals("fit: validationSplit(0.5) of 1 sequences leaves 0 for training and 1 for"
          + " validation, but each needs at least one", e.getMessage());
    }

    @Test
    void validationDataOfTheWrongShapeIsNamed() {
      Tensor x = inputs(3, 8, 4);
      Tensor xv = Tensor.zeros(DType.FLOAT32, 8, 3, 2);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> echoTrainer(echoNet(1)).validation(xv, xv).fit(x, echo(x)));
      assertEquals("validation expected inputs of shape [seq, batch, 1] but got [8, 3, 2] (the"
          + " network is time-major, [seq, batch, ...]; for batch-first data build it with"
          + " batchFirst() or transpose(0, 1) the data)",
          e.getMessage());
    }
  }

  @Nested
  class Metrics {
    @Test
    void accuracyCountsTheLargestOutputsClassAgainstTheTarget() {
      Tensor out = Tensor.ofRows(new double[][] {{2, 1}, {0, 3}, {1, 1}});
      Tensor classes = Tensor.of(new double[] {0, 0, 1}, 3);
      assertAll(
          () -> assertEquals(new Metric.Tally(1, 3), Metric.accuracy().tally(out, classes, null)),
          () -> assertEquals(new Metric.Tally(1, 2), Metric.accuracy().tally(out, classes,
              Tensor.of(new double[] {1, 0, 1}, 3))),
          () -> assertEquals(new Metric.Tally(3, 4), Metric.accuracy().tally(
              Tensor.ofRows(new double[][] {{0.5, -1}, {-2, 3}}),
              Tensor.ofRows(new double[][] {{1, 0}, {1, 1}}), null)),
          () -> assertTrue(Metric.accuracy().higherIsBetter()));
    }

    @Test
    void accuracyOnTrainingAndValidationDataInOrder() {
      Network net = signNet(3);
      Tensor x = inputs(4, 6, 40);
      Tensor xv = inputs(5, 6, 30);
      Trainer.Report r = net.trainer().loss(Trainer.Objective.CROSS_ENTROPY)
          .optimizer(ps -> Adam.builder().lr(1e-2).build(ps)).batchSize(8).epochs(2)
          .metrics(Metric.accuracy()).validation(xv, signOfSum(xv)).fit(x, signOfSum(x));
      Tensor p = net.classProbabilities(xv, 7);
      Tensor want = signOfSum(xv);
      int right = 0;
      for (int n = 0; n < 30; n++) {
        right += (p.get(n, 1) > p.get(n, 0) ? 1 : 0) == want.get(n) ? 1 : 0;
      }
      double accuracy = right / 30.0;
      Trainer.Epoch last = r.history().get(1);
      assertAll(
          () -> assertEquals(List.of("loss", "accuracy", "val_loss", "val_accuracy"),
              last.metrics().keySet().asList()),
          () -> assertEquals(accuracy, last.metric("val_accuracy"), 1e-15),
          () -> assertTrue(last.metric("accuracy") >= 0 && last.metric("accuracy") <= 1));
    }

    @Test
    void aMetricOfYourOwnIsMeasuredOnTheValidationData() {
      Metric mae = new Metric() {
        @Override public String name() {
          return "mae";
        }

        @Override public Tally tally(Tensor output, Tensor targets, Tensor mask) {
          Tensor d = output.sub(targets.to(output.dtype()));
          return new Tally(d.map(Math::abs).sum(), d.size());
        }
      };
      Network net = echoNet(4);
      Tensor x = inputs(6, 8, 16);
      Tensor xv = inputs(7, 8, 5);
      Trainer.Report r = echoTrainer(net).metrics(mae).validation(xv, echo(xv)).fit(x, echo(x));
      Tensor d = net.predict(xv, 2).sub(echo(xv).to(DType.FLOAT64));
      assertEquals(d.map(Math::abs).sum() / d.size(), r.history().get(0).metric("val_mae"),
          1e-12);
    }

    @Test
    void mistakesAreNamed() {
      Network net = echoNet(1);
      Tensor x = inputs(3, 8, 4);
      assertAll(
          () -> assertEquals("metrics expected a name other than loss, not starting with val_,"
              + " but got 'loss'", assertThrows(IllegalArgumentException.class,
                  () -> net.trainer().metrics(scripted(1) /* named scripted */, new Metric() {
                    @Override public String name() {
                      return "loss";
                    }

                    @Override public Tally tally(Tensor o, Tensor t, Tensor m) {
                      return Tally.NONE;
                    }
                  })).getMessage()),
          () -> assertEquals("metrics got two metrics named 'accuracy'",
              assertThrows(IllegalArgumentException.class, () -> net.trainer()
                  .metrics(Metric.accuracy(), Metric.accuracy())).getMessage()),
          () -> assertEquals("fit: metric accuracy needs class indices as targets"
              + " (CROSS_ENTROPY) but the objective is MSE", assertThrows(
                  IllegalStateException.class, () -> echoTrainer(net)
                      .metrics(Metric.accuracy()).fit(x, echo(x))).getMessage()),
          () -> assertEquals("fit monitors 'val_scripted' but the metrics of an epoch are"
              + " [loss, scripted]; set validation(...) or validationSplit(...)",
              assertThrows(IllegalStateException.class, () -> echoTrainer(net)
                  .metrics(scripted(1)).monitor("val_scripted").fit(x, echo(x)))
                  .getMessage()),
          () -> assertEquals("monitor was already set to loss", assertThrows(
              IllegalStateException.class, () -> net.trainer().monitor("loss").monitor("loss"))
              .getMessage()),
          () -> assertEquals("validation was already set to validationSplit(0.2)",
              assertThrows(IllegalStateException.class, () -> net.trainer()
                  .validationSplit(0.2).validation(x, x)).getMessage()),
          () -> assertEquals("validationSplit expected a fraction in (0, 1) but got 1.0",
              assertThrows(IllegalArgumentException.class, () -> net.trainer()
                  .validationSplit(1)).getMessage()));
    }
  }

  @Test
  void epochListenersHearEveryEpochWithItsMetricsAndAResumeGoesOnNumbering() {
    Network net = echoNet(5);
    Tensor x = inputs(8, 6, 16);
    List<Trainer.Epoch> heard = new ArrayList<>();
    Trainer trainer = echoTrainer(net).epochs(2).epochListener(heard::add);
    Trainer.Report first = trainer.fit(x, echo(x));
    trainer.resume(first, x, echo(x));
    assertAll(
        () -> assertEquals(List.of(1, 2, 3, 4), heard.stream().map(Trainer.Epoch::epoch)
            .toList()),
        () -> assertEquals(first.epochLosses(), heard.subList(0, 2).stream()
            .map(e -> e.metric("loss")).toList()),
        () -> assertEquals(List.of(2L, 4L, 6L, 8L), heard.stream()
            .map(Trainer.Epoch::stepsDone).toList()),
        () -> assertEquals(first.history(), heard.subList(0, 2)));
  }

  @Nested
  class Schedules {
    /** The learning rate of every step of a fit of 8 sequences in batches of 4 (2 an epoch). */
    List<Double> learningRates(Schedule schedule, int epochs, Metric metric) {
      Network net = echoNet(6);
      Tensor x = inputs(9, 5, 8);
      Optimizer[] built = new Optimizer[1];
      List<Double> lrs = new ArrayList<>();
      Trainer t = net.trainer().loss(Trainer.Objective.MSE)
          .optimizer(ps -> built[0] = Sgd.builder().lr(0.1).build(ps)).batchSize(4)
          .epochs(epochs).schedule(schedule).listener(e -> lrs.add(built[0].learningRate()));
      if (metric != null) {
        t.metrics(metric).monitor(metric.name());
      }
      t.fit(x, echo(x));
      return lrs;
    }

    @Test
    void theOptimizerTakesEachStepWithTheSchedulesRate() {
      assertAll(
          () -> assertEquals(List.of(0.1, 0.1, 0.05, 0.05, 0.025, 0.025),
              learningRates(Schedule.stepDecay(1, 0.5), 3, null)),
          () -> assertEquals(List.of(0.05, 0.1, 0.1, 0.05500000000000001, 0.01, 0.01),
              learningRates(Schedule.cosine(2, 4, 0.01), 3, null)));
    }

    @Test
    void reduceOnPlateauWatchesTheMonitoredMetric() {
      // the epochs' values are 1, 1, 1, 1: epoch 1 sets the best, each later one is a bad epoch
      // (more than patience 0), after which the rate halves
      List<Double> lrs = learningRates(Schedule.reduceOnPlateau(0.5, 0), 4, scripted(1));
      assertEquals(List.of(0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025), lrs);
    }

    @Test
    void theEpochReportsTheRateOfItsLastStep() {
      Network net = echoNet(6);
      Tensor x = inputs(9, 5, 8);
      Trainer.Report r = net.trainer().loss(Trainer.Objective.MSE)
          .optimizer(ps -> Sgd.builder().lr(0.1).build(ps)).batchSize(4).epochs(2)
          .schedule(Schedule.exponential(0.5)).fit(x, echo(x));
      assertEquals(List.of(0.1, 0.05), r.history().stream().map(Trainer.Epoch::learningRate)
          .toList());
    }
  }

  @Nested
  class EarlyStoppingAFit {
    @Test
    void stopsAfterPatienceEpochsWithoutImprovementAndPutsBackTheBestWeights() {
      Network net = echoNet(7);
      Tensor x = inputs(10, 6, 12);
      List<Map<String, Tensor>> after = new ArrayList<>();
      Trainer.Report r = scriptedTrainer(net, 10, 3, 2, 2.5, 2.1, 2.2, 1)
          .earlyStopping(EarlyStopping.patience(3)).epochListener(e -> after.add(snapshot(net)))
          .fit(x, echo(x));
      assertAll(
          () -> assertTrue(r.stoppedEarly()),
          () -> assertEquals(5, r.epochsDone()),
          () -> assertEquals(5, r.epochLosses().size()),
          () -> assertEquals(2, r.run().bestEpoch()),
          () -> assertEquals(2.0, r.run().best()),
          () -> assertEquals(List.of(true, true, false, false, false), r.history().stream()
              .map(Trainer.Epoch::improved).toList()),
          () -> assertEquals(after.get(1), snapshot(net), "the weights of epoch 2"));
    }

    @Test
    void minDeltaSetsTheImprovementThatCounts() {
      Network net = echoNet(7);
      Tensor x = inputs(10, 6, 12);
      List<Map<String, Tensor>> after = new ArrayList<>();
      Trainer.Report r = scriptedTrainer(net, 10, 3, 2.6, 2.4, 2.3, 2.2)
          .earlyStopping(EarlyStopping.patience(2).withMinDelta(0.5))
          .epochListener(e -> after.add(snapshot(net))).fit(x, echo(x));
      assertAll(
          () -> assertEquals(5, r.epochsDone()),
          () -> assertEquals(3, r.run().bestEpoch()),
          () -> assertEquals(after.get(2), snapshot(net), "the weights of epoch 3"));
    }

    @Test
    void keepingLastWeightsLeavesThoseOfTheLastEpoch() {
      Network net = echoNet(7);
      Tensor x = inputs(10, 6, 12);
      List<Map<String, Tensor>> after = new ArrayList<>();
      scriptedTrainer(net, 10, 1, 2, 3)
          .earlyStopping(EarlyStopping.patience(1).keepingLastWeights())
          .epochListener(e -> after.add(snapshot(net))).fit(x, echo(x));
      assertAll(
          () -> assertEquals(2, after.size()),
          () -> assertEquals(after.get(1), snapshot(net)));
    }

    @Test
    void aFitThatRunsOutOfEpochsKeepsItsLastWeightsAndCanBeResumed() {
      Network net = echoNet(7);
      Tensor x = inputs(10, 6, 12);
      List<Map<String, Tensor>> after = new ArrayList<>();
      Trainer t = scriptedTrainer(net, 3, 1, 2, 3, 4, 0.5).earlyStopping(EarlyStopping.patience(3))
          .epochListener(e -> after.add(snapshot(net)));
      Trainer.Report r = t.fit(x, echo(x));
      Map<String, Tensor> atTheEnd = snapshot(net);
      Trainer.Report more = t.resume(r, x, echo(x));
      assertAll(
          () -> assertFalse(r.stoppedEarly()),
          () -> assertEquals(after.get(2), atTheEnd, "the weights of the last epoch, 3"),
          () -> assertTrue(more.stoppedEarly()),
          () -> assertEquals(4, more.epochsDone()),
          () -> assertEquals(after.get(0), snapshot(net), "the best, of epoch 1"));
    }

    @Test
    void aRunThatStoppedIsNotResumed() {
      Network net = echoNet(7);
      Tensor x = inputs(10, 6, 12);
      Trainer t = scriptedTrainer(net, 5, 1, 2).earlyStopping(EarlyStopping.patience(1));
      Trainer.Report r = t.fit(x, echo(x));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> t.resume(r, x, echo(x)));
      assertEquals("resume: the run stopped early at epoch 2 (scripted had not improved since"
          + " epoch 1); fit again to train on", e.getMessage());
    }

    @Test
    void badArgumentsAreNamed() {
      assertAll(
          () -> ScheduleTest.pinned("earlyStopping expected patience >= 0 but got -1",
              () -> EarlyStopping.patience(-1)),
          () -> ScheduleTest.pinned("earlyStopping expected minDelta >= 0 and finite but got"
              + " NaN", () -> EarlyStopping.patience(1).withMinDelta(Double.NaN)));
    }
  }

  @Nested
  class CheckpointsAndFinishingAnInterruptedRun {
    /** The same configuration every time: validation, a metric, a schedule, early stopping. */
    Trainer trainer(Network net, Path checkpoints, Schedule schedule) {
      return net.trainer().loss(Trainer.Objective.MSE)
          .optimizer(ps -> Adam.builder().lr(2e-2).build(ps)).batchSize(8).shuffle(9)
          .bptt(Bptt.truncated(3, 5)).epochs(6).validationSplit(0.25)
          .metrics(MEAN_OUTPUT)
          .schedule(schedule).earlyStopping(EarlyStopping.patience(50))
          .checkpoints(checkpoints);
    }

    static Stream<Arguments> schedules() {
      return Stream.of(
          Arguments.of("cosine with warm-up", Schedule.cosine(3, 12, 1e-3)),
          Arguments.of("reduce on plateau", Schedule.reduceOnPlateau(0.5, 0)),
          Arguments.of("step decay", Schedule.stepDecay(2, 0.3)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schedules")
    void aRunInterruptedAndFinishedFromItsLastCheckpointEndsWithTheUnbrokenRunsWeights(
        String name, Schedule schedule) throws IOException {
      Tensor x = inputs(11, 7, 20);
      Path unbrokenDir = dir.resolve("unbroken");
      Path brokenDir = dir.resolve("broken");
      Network unbroken = echoNet(12);
      Trainer.Report all = trainer(unbroken, unbrokenDir, schedule).fit(x, echo(x));

      Network broken = echoNet(12);
      RuntimeException crash = assertThrows(RuntimeException.class,
          () -> trainer(broken, brokenDir, schedule).epochListener(e -> {
            if (e.epoch() == 3) {
              throw new RuntimeException("interrupted");
            }
          }).fit(x, echo(x)));
      Network fresh = echoNet(99); // other initial weights: the checkpoint's must replace them
      Trainer.Report rest = trainer(fresh, brokenDir, schedule)
          .fitFrom(brokenDir.resolve("last.safetensors"), x, echo(x));

      Map<String, Tensor> a = snapshot(unbroken);
      Map<String, Tensor> b = snapshot(fresh);
      List<Executable> checks = new ArrayList<>();
      checks.add(() -> assertEquals("interrupted", crash.getMessage()));
      a.forEach((p, t) -> checks.add(() -> assertTrue(bitwiseEqual(t, b.get(p)),
          p + " differs between the unbroken and the finished run")));
      checks.add(() -> assertEquals(all.history().subList(3, 6), rest.history()));
      checks.add(() -> assertEquals(all.optimizerState(), rest.optimizerState()));
      checks.add(() -> assertEquals(all.run(), rest.run()));
      checks.add(() -> assertEquals(List.of(6, 3), List.of(rest.epochsDone(),
          rest.history().size())));
      checks.add(() -> assertEquals(-1, Files.mismatch(unbrokenDir.resolve("last.safetensors"),
          brokenDir.resolve("last.safetensors")), "the last checkpoints, byte for byte"));
      checks.add(() -> assertEquals(-1, Files.mismatch(unbrokenDir.resolve("best.safetensors"),
          brokenDir.resolve("best.safetensors")), "the best checkpoints, byte for byte"));
      assertAll(checks);
    }

    static Stream<Arguments> optimizers() {
      return Stream.of(
          Arguments.of("sgd", (Function<List<Parameter>, Optimizer>)
              ps -> Sgd.builder().lr(0.05).build(ps)),
          Arguments.of("sgd with nesterov momentum", (Function<List<Parameter>, Optimizer>)
              ps -> Sgd.builder().lr(0.05).momentum(0.9).nesterov(true).build(ps)),
          Arguments.of("rmsprop centered with momentum", (Function<List<Parameter>, Optimizer>)
              ps -> RmsProp.builder().lr(1e-3).momentum(0.5).centered(true).build(ps)),
          Arguments.of("adamw with amsgrad", (Function<List<Parameter>, Optimizer>)
              ps -> AdamW.builder().lr(1e-2).amsgrad(true).build(ps)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("optimizers")
    void everyOptimizersStateGoesThroughTheCheckpoint(String name,
        Function<List<Parameter>, Optimizer> optimizer) throws IOException {
      Tensor x = inputs(13, 6, 12);
      Network unbroken = echoNet(20);
      Network broken = echoNet(20);
      Function<Network, Trainer> trainer = net -> net.trainer().loss(Trainer.Objective.MSE)
          .optimizer(optimizer::apply).batchSize(5).shuffle(3).epochs(3)
          .checkpoints(dir.resolve(net == unbroken ? "a" : "b"));
      trainer.apply(unbroken).fit(x, echo(x));
      assertThrows(IllegalStateException.class, () -> trainer.apply(broken).epochListener(e -> {
        if (e.epoch() == 2) {
          throw new IllegalStateException("interrupted");
        }
      }).fit(x, echo(x)));
      Network fresh = echoNet(21);
      Trainer.Report rest = trainer.apply(fresh).fitFrom(dir.resolve("b/last.safetensors"), x,
          echo(x));
      Map<String, Tensor> a = snapshot(unbroken);
      Map<String, Tensor> b = snapshot(fresh);
      List<Executable> checks = new ArrayList<>();
      a.forEach((p, t) -> checks.add(() -> assertTrue(bitwiseEqual(t, b.get(p)), p)));
      checks.add(() -> assertEquals(List.of(3), rest.history().stream().map(Trainer.Epoch::epoch)
          .toList()));
      assertAll(checks);
    }

    @Test
    void aCheckpointDirectoryThatIsAFileFailsBeforeTraining() throws IOException {
      Path file = Files.writeString(dir.resolve("file"), "not a directory");
      Network net = echoNet(1);
      Map<String, Tensor> before = snapshot(net);
      Tensor x = inputs(1, 4, 4);
      UncheckedIOException e = assertThrows(UncheckedIOException.class,
          () -> echoTrainer(net).checkpoints(file).fit(x, echo(x)));
      assertAll(
          () -> assertTrue(e.getCause() instanceof FileAlreadyExistsException, e::toString),
          () -> assertEquals(before, snapshot(net)));
    }

    @Test
    void theCheckpointsAreNetworksThatRnnLoadReads() throws IOException {
      Tensor x = inputs(11, 7, 20);
      Network net = echoNet(12);
      List<Map<String, Tensor>> improved = new ArrayList<>();
      trainer(net, dir, Schedule.stepDecay(2, 0.3)).epochListener(e -> {
        if (e.improved()) {
          improved.add(snapshot(net));
        }
      }).fit(x, echo(x));
      Network last = Rnn.load(dir.resolve("last.safetensors"));
      Network best = Rnn.load(dir.resolve("best.safetensors"));
      assertAll(
          () -> assertEquals(snapshot(net), snapshot(last)),
          () -> assertEquals(improved.get(improved.size() - 1), snapshot(best)),
          () -> assertEquals(net.spec(), last.spec()));
    }

    @Test
    void mistakesAreNamedAndChangeNothing() throws IOException {
      Tensor x = inputs(11, 7, 20);
      Network net = echoNet(12);
      trainer(net, dir, Schedule.stepDecay(2, 0.3)).fit(x, echo(x));
      Path last = dir.resolve("last.safetensors");
      Path plain = dir.resolve("plain.safetensors");
      net.save(plain);
      Network other = echoNet(13);
      Map<String, Tensor> before = snapshot(other);
      Supplier<Trainer> again = () -> trainer(other, dir.resolve("again"),
          Schedule.stepDecay(2, 0.3));
      Network wider = network().lstm(1, 7).dropout(0.2).dense(7, 1).dtype(DType.FLOAT64)
          .build();
      assertAll(
          () -> assertEquals(plain + ": holds a network but no training run (metadata"
              + " 'trainer.format' expected 'rnn-run/1' but got none); a fit with"
              + " checkpoints(dir) writes dir/last.safetensors and dir/best.safetensors",
              assertThrows(SafetensorsException.class,
                  () -> again.get().fitFrom(plain, x, echo(x))).getMessage()),
          () -> assertEquals(last + ": is a checkpoint of another network: metadata 'spec'"
              + " expected 'lstm(1, 7).dropout(0.2).dense(7, 1)' (this network's) but got"
              + " 'lstm(1, 6).dropout(0.2).dense(6, 1)'", assertThrows(
                  SafetensorsException.class, () -> trainer(wider, dir.resolve("w"),
                      Schedule.stepDecay(2, 0.3)).fitFrom(last, x, echo(x))).getMessage()),
          () -> assertEquals("fitFrom: " + last + " is at epoch 6, the end of a fit of 6 epochs:"
              + " nothing is left to train", assertThrows(IllegalArgumentException.class,
                  () -> again.get().fitFrom(last, x, echo(x))).getMessage()),
          () -> assertEquals("fitFrom expected a trainer that shuffles as the run it continues,"
              + " shuffle(9), but this one has no shuffle", assertThrows(
                  IllegalArgumentException.class, () -> other.trainer()
                      .loss(Trainer.Objective.MSE)
                      .optimizer(ps -> Adam.builder().lr(2e-2).build(ps)).epochs(7)
                      .bptt(Bptt.truncated(3, 5)).validationSplit(0.25)
                      .fitFrom(last, x, echo(x))).getMessage()),
          () -> assertEquals(before, snapshot(other), "no weight changed"));
    }
  }

  @Nested
  class Predicting {
    @Test
    void predictInBatchesGivesTheForwardOfTheWhole() {
      Network perStep = echoNet(14);
      Network lastStep = signNet(15);
      Network batchFirst = network().gru(1, 4).dense(4, 2).batchFirst().dtype(DType.FLOAT64)
          .seed(16).build();
      Tensor x = inputs(17, 5, 11).to(DType.FLOAT64);
      Tensor xb = x.transpose(0, 1);
      assertAll(
          () -> assertTrue(perStep.predict(x, 3).allClose(perStep.forward(x), 1e-13, 0)),
          () -> assertTrue(lastStep.predict(x, 4).allClose(lastStep.forward(x), 1e-13, 0)),
          () -> assertTrue(batchFirst.predict(xb, 2).allClose(batchFirst.forward(xb), 1e-13,
              0)),
          () -> assertEquals(lastStep.forward(x), lastStep.predict(x, 11)));
    }

    @Test
    void classProbabilitiesAreTheSoftmaxOfTheLogits() {
      Network net = signNet(18);
      Tensor x = inputs(19, 5, 6).to(DType.FLOAT64);
      Tensor z = net.forward(x);
      Tensor p = net.classProbabilities(x, 4);
      List<Executable> checks = new ArrayList<>();
      for (int n = 0; n < 6; n++) {
        double z0 = z.get(n, 0);
        double z1 = z.get(n, 1);
        double p1 = 1 / (1 + Math.exp(z0 - z1));
        int row = n;
        checks.add(() -> assertEquals(p1, p.get(row, 1), 1e-12));
        checks.add(() -> assertEquals(1, p.get(row, 0) + p.get(row, 1), 1e-15));
      }
      checks.add(() -> assertEquals(DType.FLOAT64, p.dtype()));
      assertAll(checks);
    }

    @Test
    void aBadBatchSizeIsNamed() {
      ScheduleTest.pinned("predict expected batchSize >= 1 but got 0",
          () -> signNet(1).predict(inputs(1, 2, 3), 0));
    }
  }
}
