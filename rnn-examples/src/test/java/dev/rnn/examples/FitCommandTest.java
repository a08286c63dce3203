package dev.rnn.examples;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.rnn.autograd.optim.Adam;
import dev.rnn.core.DType;
import dev.rnn.core.Safetensors;
import dev.rnn.core.SafetensorsFile;
import dev.rnn.core.Shape;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Network;
import dev.rnn.dsl.Rnn;
import dev.rnn.dsl.Trainer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** {@code rnn-examples fit} and {@code predict}: a data directory in, a checkpoint out. */
class FitCommandTest {
  static final String ECHO = "lstm(1, 8).dense(8, 1)";
  static final String SIGN = "gru(1, 8).lastStep().dense(8, 2)";

  @TempDir
  Path dir;

  static Invocation fit(String... args) {
    String[] all = new String[args.length + 2];
    all[0] = "fit";
    System.arraycopy(args, 0, all, 1, args.length);
    all[all.length - 1] = "--no-progress";
    return Invocation.of(all);
  }

  @Nested
  class OnValues {
    @Test
    void trainsWritesTheCheckpointAndTheReportAndLearns() throws IOException {
      Path data = DataFiles.echoDirectory(dir.resolve("train"), 1, 3, 40, 10);
      Path out = dir.resolve("echo.safetensors");
      Path json = dir.resolve("echo.json");
      Invocation r = fit("--net", ECHO, "--data", data.toString(), "--epochs", "8", "--lr",
          "0.01", "--batch", "16", "--out", out.toString(), "--json", json.toString());
      JsonObject report = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
      JsonArray history = report.getAsJsonArray("history");
      double first = history.get(0).getAsJsonObject().get("loss").getAsDouble();
      double last = history.get(7).getAsJsonObject().get("loss").getAsDouble();
      List<String> lines = r.outLines();
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertEquals("", r.err()),
          () -> assertEquals("fit " + ECHO + " on " + data + ": 120 examples of 10 steps; mse,"
              + " Adam(lr=0.01, betas=(0.9, 0.999), eps=1.0E-8, weightDecay=0.0,"
              + " amsgrad=false), 8 epochs, batch 16, seed 1", lines.get(0)),
          () -> assertTrue(lines.get(1).startsWith("epoch   1/8  loss "), lines.get(1)),
          () -> assertTrue(lines.get(9).startsWith("64 steps in "), lines.get(9)),
          () -> assertEquals(List.of("wrote " + out, "wrote " + json), lines.subList(10, 12)),
          () -> assertTrue(last < first * 0.7, "loss from " + first + " to " + last),
          () -> assertEquals(ECHO, Rnn.load(out).spec()),
          () -> assertEquals("mse", report.get("loss").getAsString()),
          () -> assertEquals(120, report.get("examples").getAsInt()),
          () -> assertEquals(64, report.get("optimizerSteps").getAsInt()),
          () -> assertEquals(8, history.size()));
    }

    @Test
    void initTakesACheckpointOfAFitWithItsRunState() throws IOException {
      Path data = DataFiles.echoDirectory(dir.resolve("train"), 1, 1, 12, 6);
      Network net = Rnn.parse(ECHO).seed(9).build();
      Tensor x = DataDirectory.read(data, DType.FLOAT32, true).inputsFor(net);
      Tensor y = DataDirectory.read(data, DType.FLOAT32, true).targetsFor(net);
      net.trainer().loss(dev.rnn.dsl.Trainer.Objective.MSE).epochs(2)
          .checkpoints(dir.resolve("run")).fit(x, y);
      Path init = dir.resolve("run/last.safetensors");
      Path out = dir.resolve("out.safetensors");
      Invocation r = fit("--net", ECHO, "--data", data.toString(), "--init", init.toString(),
          "--lr", "0", "--epochs", "1", "--out", out.toString());
      Network loaded = Rnn.load(out);
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertTrue(Safetensors.read(init).tensors().keySet().stream()
              .anyMatch(n -> n.startsWith("trainer/optimizer/")), "a checkpoint with run state"),
          () -> assertEquals(Weights.of(net), Weights.of(loaded)));
    }

    @Test
    void validationDataIsMeasuredEveryEpoch() throws IOException {
      Path data = DataFiles.echoDirectory(dir.resolve("train"), 1, 1, 32, 8);
      Path val = DataFiles.echoDirectory(dir.resolve("val"), 2, 1, 9, 8);
      Invocation r = fit("--net", ECHO, "--data", data.toString(), "--val", val.toString(),
          "--epochs", "2");
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertTrue(r.outLines().get(0).contains(", validation " + val + ": 9 examples;"),
              r.out()),
          () -> assertTrue(r.outLines().get(2).matches("epoch   2/2  loss \\S+  val_loss \\S+"),
              r.out()));
    }
  }

  @Nested
  class OnClassIds {
    @Test
    void crossEntropyIsTheDefaultAndAccuracyIsReported() throws IOException {
      Path data = DataFiles.signDirectory(dir.resolve("train"), 3, 64, 6);
      Path val = DataFiles.signDirectory(dir.resolve("val"), 4, 20, 6);
      Path json = dir.resolve("sign.json");
      Invocation r = fit("--net", SIGN, "--data", data.toString(), "--val", val.toString(),
          "--epochs", "3", "--optimizer", "sgd", "--lr", "0.1", "--momentum", "0.9", "--json",
          json.toString());
      JsonObject report = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
      JsonObject epoch = report.getAsJsonArray("history").get(2).getAsJsonObject();
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertTrue(r.outLines().get(0).contains("; cross-entropy, Sgd(lr=0.1,"
              + " momentum=0.9,"), r.out()),
          () -> assertTrue(r.outLines().get(3).matches("epoch   3/3  loss \\S+  accuracy \\S+"
              + "  val_loss \\S+  val_accuracy \\S+"), r.out()),
          () -> assertEquals("cross-entropy", report.get("loss").getAsString()),
          () -> assertTrue(epoch.has("val_accuracy"), epoch::toString));
    }

    @Test
    void predictWritesOutputsAndProbabilitiesInTheDataOrder() throws IOException {
      Path data = DataFiles.signDirectory(dir.resolve("train"), 3, 30, 6);
      Path model = dir.resolve("sign.safetensors");
      Path predictions = dir.resolve("p.safetensors");
      Invocation f = fit("--net", SIGN, "--data", data.toString(), "--epochs", "1", "--out",
          model.toString());
      Invocation p = Invocation.of("predict", "--model", model.toString(), "--data",
          data.toString(), "--out", predictions.toString(), "--batch", "7", "--probabilities",
          "--no-progress");
      SafetensorsFile file = Safetensors.read(predictions);
      Network net = Rnn.load(model);
      Tensor x = DataDirectory.read(data, DType.FLOAT32, false).inputsFor(net);
      Tensor outputs = file.tensor("outputs");
      Tensor probabilities = file.tensor("probabilities");
      assertAll(
          () -> assertEquals(0, f.exitCode(), f.err()),
          () -> assertEquals(0, p.exitCode(), p.err()),
          () -> assertEquals(List.of("predict " + SIGN + " on " + data + ": 30 examples; outputs"
              + " [30, 2]", "wrote " + predictions), p.outLines()),
          () -> assertTrue(outputs.allClose(net.forward(x), 1e-6, 0)),
          () -> assertTrue(probabilities.allClose(net.classProbabilities(x, 30), 1e-6, 0)),
          () -> assertEquals("rnn-predictions/1", file.metadata("format")));
    }
  }

  @Nested
  class OnSequencesOfDifferentLengths {
    /** Two shards of the echo task, 5 + 4 examples padded to 6 steps, of these lengths. */
    final int[] lengths = {6, 2, 5, 1, 3, 4, 6, 2, 5};

    Tensor inputs(float pad) {
      float[] x = DataFiles.inputs(11, 9, 6, 1).toFloatArray();
      for (int n = 0; n < 9; n++) {
        for (int t = lengths[n]; t < 6; t++) {
          x[n * 6 + t] = pad;
        }
      }
      return Tensor.of(x, 9, 6, 1);
    }

    Path data(String name, float pad) throws IOException {
      return data(name, pad, true);
    }

    Path data(String name, float pad, boolean withTargets) throws IOException {
      Tensor x = inputs(pad);
      Tensor y = DataFiles.echo(x);
      for (int[] part : new int[][] {{0, 5}, {5, 9}}) {
        long[] l = new long[part[1] - part[0]];
        for (int i = 0; i < l.length; i++) {
          l[i] = lengths[part[0] + i];
        }
        Map<String, ShardFile.Entry> t = new LinkedHashMap<>();
        t.put("inputs", ShardFile.floats(x.slice(0, part[0], part[1])));
        if (withTargets) {
          t.put("targets", ShardFile.floats(y.slice(0, part[0], part[1])));
        }
        t.put("lengths", ShardFile.integers("I64", l, l.length));
        DataFiles.shard(dir.resolve(name + "/part-" + part[0] + ".safetensors"), t);
      }
      return dir.resolve(name);
    }

    @Test
    void aFitEqualsTheTrainersFitWithTheSameLengthsBitwise() throws IOException {
      Path data = data("ragged", 0.75f);
      Path out = dir.resolve("ragged.safetensors");
      Path json = dir.resolve("ragged.json");
      Invocation r = fit("--net", ECHO, "--data", data.toString(), "--epochs", "3", "--batch",
          "4", "--lr", "0.01", "--seed", "3", "--out", out.toString(), "--json",
          json.toString());
      Network net = Rnn.parse(ECHO).dtype(DType.FLOAT32).seed(3).dropoutSeed(3).build();
      Tensor x = inputs(0.75f);
      net.trainer().loss(Trainer.Objective.MSE)
          .optimizer(ps -> Adam.builder().lr(0.01).build(ps)).epochs(3).batchSize(4).shuffle(3)
          .fit(x.transpose(0, 1), lengths, DataFiles.echo(x).transpose(0, 1));
      JsonObject report = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertTrue(r.outLines().get(0).startsWith("fit " + ECHO + " on " + data + ": 9"
              + " examples of 1 to 6 steps (padded to 6); mse, Adam(lr=0.01,"), r.out()),
          () -> assertTrue(report.get("lengths").getAsBoolean()),
          () -> assertEquals(Weights.of(net), Weights.of(Rnn.load(out))));
    }

    @Test
    void thePaddingIsNeverRead() throws IOException {
      Path zeros = dir.resolve("zeros.safetensors");
      Path other = dir.resolve("other.safetensors");
      Invocation a = fit("--net", ECHO, "--data", data("zeros", 0).toString(), "--epochs",
          "2", "--batch", "4", "--out", zeros.toString());
      Invocation b = fit("--net", ECHO, "--data", data("other", 123.5f).toString(),
          "--epochs", "2", "--batch", "4", "--out", other.toString());
      assertAll(
          () -> assertEquals(0, a.exitCode(), a.err()),
          () -> assertEquals(0, b.exitCode(), b.err()),
          () -> assertEquals(Weights.of(Rnn.load(zeros)), Weights.of(Rnn.load(other))));
    }

    @Test
    void predictWithLengthsEqualsForwardWithThem() throws IOException {
      Path data = data("ragged", 0.75f);
      Path model = dir.resolve("echo.safetensors");
      Rnn.parse(ECHO).seed(5).build().save(model);
      Path lastModel = dir.resolve("last.safetensors");
      Rnn.parse("lstm(1, 8).dense(8, 1).lastStep()").seed(5).build().save(lastModel);
      Path perStep = dir.resolve("p.safetensors");
      Path last = dir.resolve("q.safetensors");
      Invocation p = Invocation.of("predict", "--model", model.toString(), "--data",
          data.toString(), "--out", perStep.toString(), "--batch", "4", "--no-progress");
      Invocation q = Invocation.of("predict", "--model", lastModel.toString(), "--data",
          data("inputsOnly", 0.75f, false).toString(), "--out", last.toString(), "--batch", "4", "--no-progress");
      assertEquals(List.of(0, 0), List.of(p.exitCode(), q.exitCode()), p.err() + q.err());
      Network net = Rnn.load(model);
      Network lastNet = Rnn.load(lastModel);
      Tensor x = inputs(0.75f).transpose(0, 1);
      Tensor outputs = Safetensors.read(perStep).tensor("outputs");
      Tensor lastOutputs = Safetensors.read(last).tensor("outputs");
      Tensor expected = net.forward(x, lengths, null).output().transpose(0, 1);
      assertAll(
          () -> assertEquals(Shape.of(9, 6, 1), outputs.shape()),
          () -> assertTrue(outputs.allClose(expected, 1e-6, 0), "as forward with lengths"),
          () -> assertEquals(0, outputs.get(3, 1, 0), "zero after the end of example 3"),
          () -> assertEquals(0, outputs.get(1, 5, 0), "zero after the end of example 1"),
          () -> assertTrue(lastOutputs.allClose(lastNet.forward(x, lengths, null).output(), 1e-6,
              0), "lastStep(): each example's last real step"));
    }

    @Test
    void validationDataWithLengthsCountsTheRealStepsOnly() throws IOException {
      Path plain = DataFiles.echoDirectory(dir.resolve("plain"), 1, 1, 8, 6);
      Path model = dir.resolve("m.safetensors");
      Path json = dir.resolve("m.json");
      Path other = dir.resolve("o.json");
      Invocation r = fit("--net", ECHO, "--data", plain.toString(), "--val",
          data("ragged", 0.75f).toString(), "--epochs", "2", "--out", model.toString(),
          "--json", json.toString());
      Invocation o = fit("--net", ECHO, "--data", plain.toString(), "--val",
          data("other", 123.5f).toString(), "--epochs", "2", "--json", other.toString());
      Tensor x = inputs(0.75f);
      double expected = Rnn.load(model).trainer().loss(Trainer.Objective.MSE)
          .evaluate(x.transpose(0, 1), lengths, DataFiles.echo(x).transpose(0, 1));
      double reported = lastEpoch(json).get("val_loss").getAsDouble();
      assertAll(
          () -> assertEquals(List.of(0, 0), List.of(r.exitCode(), o.exitCode()), r.err() + o.err()),
          () -> assertTrue(r.outLines().get(0).contains(", validation " + dir.resolve("ragged")
              + ": 9 examples;"), r.out()),
          () -> assertEquals(expected, reported, 1e-6 * Math.abs(expected)),
          () -> assertEquals(reported, lastEpoch(other).get("val_loss").getAsDouble(),
              "the padding is never read"));
    }

    private JsonObject lastEpoch(Path json) throws IOException {
      JsonArray history = JsonParser.parseString(Files.readString(json)).getAsJsonObject()
          .getAsJsonArray("history");
      return history.get(history.size() - 1).getAsJsonObject();
    }

    @Test
    void aMixOfShardsWithAndWithoutLengthsIsRefusedOnOneLine() throws IOException {
      Path ragged = data("ragged", 0.75f);
      Path plain = DataFiles.echoDirectory(dir.resolve("plain"), 1, 1, 4, 6);
      Path mixed = dir.resolve("mixed");
      Files.createDirectories(mixed);
      Files.copy(ragged.resolve("part-0.safetensors"), mixed.resolve("a.safetensors"));
      Files.copy(plain.resolve("part-000.safetensors"), mixed.resolve("b.safetensors"));
      Invocation mix = fit("--net", ECHO, "--data", mixed.toString());
      assertAll(
          () -> assertEquals(1, mix.exitCode()),
          () -> assertEquals("rnn-examples fit: " + mixed.resolve("b.safetensors") + ": has no"
              + " lengths but " + mixed.resolve("a.safetensors") + " has; every shard has"
              + " lengths or none does\n", mix.err()),
          () -> assertEquals("", mix.out(), "nothing trained"));
    }
  }

  @Test
  void predictGivesPerStepOutputsExampleMajor() throws IOException {
    Path data = DataFiles.echoDirectory(dir.resolve("train"), 1, 2, 5, 7);
    Path model = dir.resolve("echo.safetensors");
    Path predictions = dir.resolve("p.safetensors");
    Invocation f = fit("--net", ECHO, "--data", data.toString(), "--epochs", "1", "--out",
        model.toString());
    Invocation p = Invocation.of("predict", "--model", model.toString(), "--data",
        data.toString(), "--out", predictions.toString(), "--no-progress");
    Network net = Rnn.load(model);
    Tensor x = DataDirectory.read(data, DType.FLOAT32, false).inputs();
    Tensor outputs = Safetensors.read(predictions).tensor("outputs");
    assertAll(
        () -> assertEquals(0, f.exitCode(), f.err()),
        () -> assertEquals(0, p.exitCode(), p.err()),
        () -> assertEquals(Shape.of(10, 7, 1), outputs.shape()),
        () -> assertTrue(outputs.allClose(net.forward(x.transpose(0, 1)).transpose(0, 1), 1e-6,
            0)));
  }

  @Nested
  class FromATorchStateDict {
    /** torch.nn.RNN(6, 3, num_layers=3)'s parameters, from a case torch generated. */
    static final String TORCH_RNN = "elman(6, 3, tanh).elman(3, 3, tanh).elman(3, 3, tanh)";

    /** The weights of the walkthrough's torch case, saved as torch's save_file would. */
    Path stateDict() throws IOException {
      SafetensorsFile c;
      try (InputStream in = FitCommandTest.class.getResourceAsStream(
          "walkthrough/rnn_tanh-float64-s7-019.safetensors")) {
        c = Safetensors.read(in.readAllBytes(), "torch case");
      }
      Map<String, Tensor> weights = new LinkedHashMap<>();
      c.tensors().forEach((name, t) -> {
        if (name.startsWith("weight_") || name.startsWith("bias_")) {
          weights.put(name, t);
        }
      });
      Path file = dir.resolve("torch-rnn.safetensors");
      Safetensors.write(file, weights, Map.of());
      return file;
    }

    Path data() throws IOException {
      Tensor x = DataFiles.random(5, 20, 9, 6);
      DataFiles.shard(dir.resolve("data/a.safetensors"), x.slice(0, 0, 12),
          DataFiles.random(6, 12, 9, 3).map(Math::tanh));
      DataFiles.shard(dir.resolve("data/b.safetensors"), x.slice(0, 12, 20),
          DataFiles.random(7, 8, 9, 3).map(Math::tanh));
      return dir.resolve("data");
    }

    @Test
    void theSameCommandTwiceGivesBitwiseIdenticalWeights() throws IOException {
      Path init = stateDict();
      Path data = data();
      Path first = dir.resolve("first.safetensors");
      Path second = dir.resolve("second.safetensors");
      String[] command = {"--net", TORCH_RNN, "--data", data.toString(), "--init",
          init.toString(), "--no-shuffle", "--epochs", "3", "--batch", "6", "--lr", "0.05"};
      Invocation a = fit(with(command, "--out", first.toString()));
      Invocation b = fit(with(command, "--out", second.toString()));
      Network trained = Rnn.load(first);
      Tensor torchWeight = Safetensors.read(init).tensor("weight_hh_l1").to(DType.FLOAT32);
      assertAll(
          () -> assertEquals(0, a.exitCode(), a.err()),
          () -> assertEquals(0, b.exitCode(), b.err()),
          () -> assertEquals(-1, Files.mismatch(first, second), "the two checkpoints differ"),
          () -> assertEquals(a.outLines().subList(0, 4), b.outLines().subList(0, 4)),
          () -> assertNotEquals(torchWeight, trained.parameter("weight_hh_l1"), "trained"),
          () -> assertTrue(torchWeight.allClose(trained.parameter("weight_hh_l1"), 0.5, 0),
              "trained from torch's weights"));
    }

    @Test
    void withNoLearningTheWeightsAreTorchsExactly() throws IOException {
      Path init = stateDict();
      Path out = dir.resolve("out.safetensors");
      Invocation r = fit("--net", TORCH_RNN, "--data", data().toString(), "--init",
          init.toString(), "--lr", "0", "--epochs", "1", "--dtype", "float64", "--out",
          out.toString());
      Network net = Rnn.load(out);
      SafetensorsFile torch = Safetensors.read(init);
      List<Executable> checks = new java.util.ArrayList<>();
      checks.add(() -> assertEquals(0, r.exitCode(), r.err()));
      torch.tensors().forEach((name, t) -> checks.add(
          () -> assertEquals(t, net.parameter(name), name)));
      assertAll(checks);
    }

    @Test
    void aFileThatIsNotTheNetworksParametersIsNamed() throws IOException {
      Path init = stateDict();
      Path data = data();
      Invocation missing = fit("--net", TORCH_RNN + ".elman(3, 3, tanh)", "--data",
          data.toString(), "--init", init.toString());
      Invocation shape = fit("--net", "elman(6, 4, tanh).elman(4, 3, tanh).elman(3, 3, tanh)",
          "--data", data.toString(), "--init", init.toString());
      Invocation extra = fit("--net", "elman(6, 3, tanh).elman(3, 3, tanh).dense(3, 3)",
          "--data", data.toString(), "--init", init.toString());
      assertAll(
          () -> assertEquals(1, missing.exitCode()),
          () -> assertEquals("rnn-examples fit: --init " + init + ": has no parameter"
              + " weight_ih_l3 [3, 3] of the network " + TORCH_RNN + ".elman(3, 3, tanh); it has"
              + " bias_hh_l0, bias_hh_l1, bias_hh_l2, bias_ih_l0, bias_ih_l1, bias_ih_l2,"
              + " weight_hh_l0, weight_hh_l1, weight_hh_l2, weight_ih_l0, weight_ih_l1,"
              + " weight_ih_l2\n", missing.err()),
          () -> assertEquals("rnn-examples fit: --init " + init + ": parameter weight_ih_l0"
              + " expected shape [4, 6] but got [3, 6]\n", shape.err()),
          () -> assertTrue(extra.err().startsWith("rnn-examples fit: --init " + init + ": has no"
              + " parameter dense0.weight [3, 3]"), extra.err()));
    }
  }

  @Nested
  class WhenSomethingIsWrong {
    @Test
    void badUsageExitsWithTwoAndOneLine() throws IOException {
      Path data = DataFiles.echoDirectory(dir.resolve("train"), 1, 1, 4, 5);
      Invocation bce = fit("--net", ECHO, "--data", data.toString(), "--loss", "hinge");
      Invocation optimizer = fit("--net", ECHO, "--data", data.toString(), "--optimizer",
          "adagrad");
      Invocation momentum = fit("--net", ECHO, "--data", data.toString(), "--momentum", "0.9");
      Invocation lr = fit("--net", ECHO, "--data", data.toString(), "--lr", "-1");
      Invocation epochs = fit("--net", ECHO, "--data", data.toString(), "--epochs", "0");
      Invocation spec = fit("--net", "lstm(1, 8).dense(7, 1)", "--data", data.toString());
      assertAll(
          () -> assertEquals(List.of(2, 2, 2, 2, 2, 2), List.of(bce.exitCode(),
              optimizer.exitCode(), momentum.exitCode(), lr.exitCode(), epochs.exitCode(),
              spec.exitCode())),
          () -> assertEquals("rnn-examples fit: Invalid value for option '--loss': expected mse or"
              + " cross-entropy or bce but got 'hinge'",
              bce.err().lines().findFirst().orElseThrow()),
          () -> assertEquals("rnn-examples fit: Invalid value for option '--optimizer': expected"
              + " sgd, adam, adamw or rmsprop but got 'adagrad'",
              optimizer.err().lines().findFirst().orElseThrow()),
          () -> assertEquals("rnn-examples fit: --momentum applies to sgd and rmsprop, not adam",
              momentum.err().lines().findFirst().orElseThrow()),
          () -> assertEquals("rnn-examples fit: adam: lr must be >= 0 but got -1.0",
              lr.err().lines().findFirst().orElseThrow()),
          () -> assertEquals("rnn-examples fit: --epochs expected a number >= 1 but got 0",
              epochs.err().lines().findFirst().orElseThrow()),
          () -> assertEquals("rnn-examples fit: Invalid value for option '--net': spec"
              + " 'lstm(1, 8).dense(7, 1)' at position 11: dense(7, 1) expects input size 8 (the"
              + " output of layer 1, lstm(1, 8)) but got 7",
              spec.err().lines().findFirst().orElseThrow()));
    }

    @Test
    void badDataExitsWithOneAndOneLineBeforeTraining() throws IOException {
      Path values = DataFiles.echoDirectory(dir.resolve("values"), 1, 1, 4, 5);
      Path classes = DataFiles.signDirectory(dir.resolve("classes"), 2, 4, 5);
      Invocation crossEntropy = fit("--net", ECHO, "--data", values.toString(), "--loss",
          "cross-entropy");
      Invocation mse = fit("--net", SIGN, "--data", classes.toString(), "--loss", "mse");
      Invocation features = fit("--net", "lstm(2, 8).dense(8, 1)", "--data", values.toString());
      Invocation missing = fit("--net", ECHO, "--data", dir.resolve("none").toString());
      Invocation outDir = fit("--net", ECHO, "--data", values.toString(), "--out",
          dir.resolve("no/such/dir/m.safetensors").toString());
      assertAll(
          () -> assertEquals(List.of(1, 1, 1, 1, 1), List.of(crossEntropy.exitCode(),
              mse.exitCode(), features.exitCode(), missing.exitCode(), outDir.exitCode())),
          () -> assertEquals("rnn-examples fit: --loss cross-entropy needs class ids (integer"
              + " targets) but the targets of --data " + values + " are values [4, 5, 1]; use"
              + " --loss mse\n", crossEntropy.err()),
          () -> assertEquals("rnn-examples fit: --loss mse needs values (float targets) but the"
              + " targets of --data " + classes + " are class ids; use --loss cross-entropy\n",
              mse.err()),
          () -> assertEquals("rnn-examples fit: --data " + values + ": inputs have 1 features per"
              + " step but the network lstm(2, 8).dense(8, 1) takes 2\n", features.err()),
          () -> assertEquals("rnn-examples fit: " + dir.resolve("none")
              + ": no such data directory\n", missing.err()),
          () -> assertTrue(outDir.err().startsWith("rnn-examples fit: "
              + dir.resolve("no/such/dir/m.safetensors") + ": cannot write, directory "),
              outDir.err()),
          () -> assertEquals("", outDir.out(), "nothing trained"),
          () -> assertFalse(Files.exists(dir.resolve("no"))));
    }

    @Test
    void predictNamesAModelThatIsNotOne() throws IOException {
      Path data = DataFiles.echoDirectory(dir.resolve("train"), 1, 1, 4, 5);
      Invocation p = Invocation.of("predict", "--model", dir.resolve("none.safetensors")
          .toString(), "--data", data.toString(), "--out", dir.resolve("p").toString());
      assertAll(
          () -> assertEquals(1, p.exitCode()),
          () -> assertEquals("rnn-examples predict: " + dir.resolve("none.safetensors")
              + ": no such file or directory\n", p.err()));
    }
  }

  /** The parameters of a network by name. */
  static final class Weights {
    static Map<String, Tensor> of(Network net) {
      Map<String, Tensor> m = new LinkedHashMap<>();
      net.namedParameters().forEach((name, p) -> m.put(name, p.value()));
      return m;
    }
  }

  static String[] with(String[] args, String... more) {
    String[] all = java.util.Arrays.copyOf(args, args.length + more.length);
    System.arraycopy(more, 0, all, args.length, more.length);
    return all;
  }
}
