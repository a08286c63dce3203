package dev.rnn.examples;

import static dev.rnn.dsl.Rnn.network;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.core.DType;
import dev.rnn.core.Shape;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Network;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** A data directory: shards in file-name order, their checks, and the data against a network. */
class DataDirectoryTest {
  @TempDir
  Path dir;

  @Nested
  class WhenWellFormed {
    @Test
    void shardsAreReadInFileNameOrderAndExamplesInFileOrder() throws IOException {
      Tensor a = DataFiles.inputs(1, 2, 4, 3);
      Tensor b = DataFiles.inputs(2, 3, 4, 3);
      // written b first: the order is the names', not the writes'
      DataFiles.shard(dir.resolve("b.safetensors"), b, DataFiles.echo(b));
      DataFiles.shard(dir.resolve("a.safetensors"), a, DataFiles.echo(a));
      Files.writeString(dir.resolve("README.txt"), "not a shard");
      Files.writeString(dir.resolve(".c.safetensors.x1.tmp"), "an interrupted write");
      Files.writeString(dir.resolve(".hidden.safetensors"), "hidden");
      DataDirectory d = DataDirectory.read(dir, DType.FLOAT32, true);
      assertAll(
          () -> assertEquals(List.of(dir.resolve("a.safetensors"), dir.resolve("b.safetensors")),
              d.shards()),
          () -> assertEquals(Tensor.concat(0, List.of(a, b)), d.inputs()),
          () -> assertEquals(Shape.of(5, 4, 1), d.targets().shape()),
          () -> assertFalse(d.classIds()),
          () -> assertTrue(d.perStep()),
          () -> assertEquals("example 1 of b.safetensors", d.locate(3)));
    }

    @Test
    void integerTargetsAreClassIdsOfAnyIntegerDtype() throws IOException {
      Tensor x = DataFiles.inputs(3, 2, 5, 1);
      Map<String, ShardFile.Entry> t = new LinkedHashMap<>();
      t.put("inputs", ShardFile.floats(x));
      t.put("targets", ShardFile.integers("I32", new long[] {0, 1, 2, 1, 0, 2, 2, 2, 1, 0}, 2,
          5));
      DataFiles.shard(dir.resolve("s.safetensors"), t);
      DataDirectory d = DataDirectory.read(dir, DType.FLOAT64, true);
      assertAll(
          () -> assertTrue(d.classIds()),
          () -> assertTrue(d.perStep()),
          () -> assertEquals(DType.FLOAT64, d.inputs().dtype()),
          () -> assertEquals(2.0, d.targets().get(0, 2)),
          () -> assertEquals(Shape.of(5, 2), d.targetsFor(network().gru(1, 3).build()).shape()));
    }

    @Test
    void theDataIsPutInTheNetworksLayout() throws IOException {
      Tensor x = DataFiles.inputs(4, 3, 5, 1);
      DataFiles.shard(dir.resolve("s.safetensors"), x, DataFiles.echo(x));
      DataDirectory d = DataDirectory.read(dir, DType.FLOAT32, true);
      Network timeMajor = network().gru(1, 3).dense(3, 1).build();
      Network batchFirst = network().gru(1, 3).dense(3, 1).batchFirst().build();
      assertAll(
          () -> assertEquals(x.transpose(0, 1), d.inputsFor(timeMajor)),
          () -> assertEquals(Shape.of(5, 3, 1), d.targetsFor(timeMajor).shape()),
          () -> assertEquals(x, d.inputsFor(batchFirst)),
          () -> assertEquals(Shape.of(3, 5, 1), d.targetsFor(batchFirst).shape()));
    }

    @Test
    void lengthsOfEveryShardAreJoinedInTheOrderOfTheExamples() throws IOException {
      Tensor a = DataFiles.inputs(1, 2, 4, 3);
      Tensor b = DataFiles.inputs(2, 3, 4, 3);
      Map<String, ShardFile.Entry> first = new LinkedHashMap<>();
      first.put("inputs", ShardFile.floats(a));
      first.put("lengths", ShardFile.integers("I64", new long[] {4, 1}, 2));
      Map<String, ShardFile.Entry> second = new LinkedHashMap<>();
      second.put("lengths", ShardFile.integers("I32", new long[] {2, 3, 4}, 3));
      second.put("inputs", ShardFile.floats(b));
      DataFiles.shard(dir.resolve("with/a.safetensors"), first);
      DataFiles.shard(dir.resolve("with/b.safetensors"), second);
      DataFiles.shard(dir.resolve("without/a.safetensors"), a, null);
      DataDirectory d = DataDirectory.read(dir.resolve("with"), DType.FLOAT32, false);
      assertAll(
          () -> assertArrayEquals(new int[] {4, 1, 2, 3, 4}, d.lengths()),
          () -> assertEquals(4, d.steps()),
          () -> assertNull(DataDirectory.read(dir.resolve("without"), DType.FLOAT32, false)
              .lengths()));
    }

    @Test
    void targetsMayBeLeftOutWhenOnlyInputsAreNeeded() throws IOException {
      Tensor x = DataFiles.inputs(4, 3, 5, 1);
      DataFiles.shard(dir.resolve("s.safetensors"), x, null);
      assertNull(DataDirectory.read(dir, DType.FLOAT32, false).targets());
    }
  }

  @Nested
  class WhenMalformed {
    String message(Path d, boolean needTargets) {
      return assertThrows(IOException.class, () -> DataDirectory.read(d, DType.FLOAT32,
          needTargets)).getMessage();
    }

    @Test
    void eachProblemIsNamedOnOneLine() throws IOException {
      Tensor x = DataFiles.inputs(5, 2, 4, 1);
      Map<String, ShardFile.Entry> withLengths = new LinkedHashMap<>();
      withLengths.put("inputs", ShardFile.floats(x));
      withLengths.put("targets", ShardFile.floats(DataFiles.echo(x)));
      withLengths.put("lengths", ShardFile.integers("I64", new long[] {4, 3}, 2));
      Path lengthsFirst = dir.resolve("lengthsFirst");
      DataFiles.shard(lengthsFirst.resolve("a.safetensors"), withLengths);
      DataFiles.shard(lengthsFirst.resolve("b.safetensors"), x, DataFiles.echo(x));
      Path lengthsLater = dir.resolve("lengthsLater");
      DataFiles.shard(lengthsLater.resolve("a.safetensors"), x, DataFiles.echo(x));
      DataFiles.shard(lengthsLater.resolve("b.safetensors"), withLengths);
      Path tooLong = dir.resolve("tooLong");
      withLengths.put("lengths", ShardFile.integers("I64", new long[] {4, 5}, 2));
      DataFiles.shard(tooLong.resolve("s.safetensors"), withLengths);
      Path zero = dir.resolve("zero");
      withLengths.put("lengths", ShardFile.integers("I8", new long[] {0, 4}, 2));
      DataFiles.shard(zero.resolve("s.safetensors"), withLengths);
      Path floatLengths = dir.resolve("floatLengths");
      withLengths.put("lengths", ShardFile.floats(Tensor.of(new float[] {4, 3}, 2)));
      DataFiles.shard(floatLengths.resolve("s.safetensors"), withLengths);
      Path oneLength = dir.resolve("oneLength");
      withLengths.put("lengths", ShardFile.integers("I64", new long[] {4}, 1));
      DataFiles.shard(oneLength.resolve("s.safetensors"), withLengths);
      Path misspelt = dir.resolve("misspelt");
      Map<String, ShardFile.Entry> target = new LinkedHashMap<>();
      target.put("inputs", ShardFile.floats(x));
      target.put("target", ShardFile.floats(DataFiles.echo(x)));
      DataFiles.shard(misspelt.resolve("s.safetensors"), target);
      Path noTargets = dir.resolve("noTargets");
      DataFiles.shard(noTargets.resolve("s.safetensors"), x, null);
      Path otherLength = dir.resolve("otherLength");
      DataFiles.shard(otherLength.resolve("a.safetensors"), x, DataFiles.echo(x));
      Tensor x7 = DataFiles.inputs(6, 2, 7, 1);
      DataFiles.shard(otherLength.resolve("b.safetensors"), x7, DataFiles.echo(x7));
      Path badTargets = dir.resolve("badTargets");
      DataFiles.shard(badTargets.resolve("s.safetensors"), x, DataFiles.random(1, 2, 3, 1));
      Path intInputs = dir.resolve("intInputs");
      Map<String, ShardFile.Entry> ints = new LinkedHashMap<>();
      ints.put("inputs", ShardFile.integers("I64", new long[8], 2, 4, 1));
      DataFiles.shard(intInputs.resolve("s.safetensors"), ints);
      Path empty = Files.createDirectories(dir.resolve("empty"));
      Path bf16 = dir.resolve("bf16");
      Files.createDirectories(bf16);
      writeRaw(bf16.resolve("s.safetensors"),
          "{\"inputs\":{\"dtype\":\"BF16\",\"shape\":[1,1,1],\"data_offsets\":[0,2]}}", 2);
      Path shortData = dir.resolve("short");
      Files.createDirectories(shortData);
      writeRaw(shortData.resolve("s.safetensors"),
          "{\"inputs\":{\"dtype\":\"F32\",\"shape\":[1,2,1],\"data_offsets\":[0,8]}}", 4);
      Path notJson = dir.resolve("notJson");
      Files.createDirectories(notJson);
      writeRaw(notJson.resolve("s.safetensors"), "{\"inputs\": [", 0);
      Executable[] checks = {
          () -> assertEquals(lengthsFirst.resolve("b.safetensors") + ": has no lengths but "
              + lengthsFirst.resolve("a.safetensors") + " has; every shard has lengths or none"
              + " does", message(lengthsFirst, true)),
          () -> assertEquals(lengthsLater.resolve("b.safetensors") + ": has lengths but "
              + lengthsLater.resolve("a.safetensors") + " has none; every shard has lengths or"
              + " none does", message(lengthsLater, false)),
          () -> assertEquals(tooLong.resolve("s.safetensors") + ": lengths[1] is 5, but a length"
              + " is in [1, 4] (T = 4, the steps of inputs F32 [2, 4, 1])",
              message(tooLong, true)),
          () -> assertEquals(zero.resolve("s.safetensors") + ": lengths[0] is 0, but a length"
              + " is in [1, 4] (T = 4, the steps of inputs F32 [2, 4, 1])", message(zero, false)),
          () -> assertEquals(floatLengths.resolve("s.safetensors") + ": lengths expected [2] of"
              + " an integer dtype (I64, I32, ...), one per example of inputs F32 [2, 4, 1], but"
              + " got F32 [2]", message(floatLengths, true)),
          () -> assertEquals(oneLength.resolve("s.safetensors") + ": lengths expected [2] of"
              + " an integer dtype (I64, I32, ...), one per example of inputs F32 [2, 4, 1], but"
              + " got I64 [1]", message(oneLength, true)),
          () -> assertEquals(misspelt.resolve("s.safetensors") + ": holds a tensor 'target', but"
              + " a data shard holds inputs, targets and lengths only", message(misspelt, true)),
          () -> assertEquals(noTargets.resolve("s.safetensors") + ": has no targets (expected"
              + " [N, T, O] or [N, O] of F32 or F64, or class ids [N, T] or [N] of an integer"
              + " dtype)", message(noTargets, true)),
          () -> assertEquals(otherLength.resolve("b.safetensors") + ": inputs [2, 7, 1] but "
              + otherLength.resolve("a.safetensors") + " has T = 4 steps and F = 1 features;"
              + " every shard has the same T and F", message(otherLength, true)),
          () -> assertEquals(badTargets.resolve("s.safetensors") + ": targets expected, for"
              + " inputs F32 [2, 4, 1], [2, 4, O] or [2, O] of F32 or F64, or class ids [2, 4]"
              + " or [2] of an integer dtype, but got F32 [2, 3, 1]", message(badTargets, true)),
          () -> assertEquals(intInputs.resolve("s.safetensors") + ": inputs expected [N, T, F] of"
              + " F32 or F64 with N, T, F >= 1 but got I64 [2, 4, 1]", message(intInputs, false)),
          () -> assertEquals(empty + ": holds no .safetensors shards (each holds inputs"
              + " [N, T, F] and targets)", message(empty, true)),
          () -> assertEquals(dir.resolve("none") + ": no such data directory",
              message(dir.resolve("none"), true)),
          () -> assertEquals(bf16.resolve("s.safetensors") + ": tensor 'inputs' has dtype BF16,"
              + " but a data shard holds F32 or F64, or for integers I64, I32, I16, I8 or U8",
              message(bf16, true)),
          () -> assertEquals(shortData.resolve("s.safetensors") + ": tensor 'inputs' data_offsets"
              + " [0, 8] lie outside the 4 bytes of data", message(shortData, true)),
          () -> assertTrue(message(notJson, true).startsWith(notJson.resolve("s.safetensors")
              + ": header is not valid JSON"), message(notJson, true)),
      };
      assertAll(checks);
    }

    /** A safetensors file of {@code header} and {@code dataBytes} zero bytes. */
    void writeRaw(Path file, String header, int dataBytes) throws IOException {
      byte[] h = header.getBytes(UTF_8);
      ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
      b.putLong(h.length).put(h);
      Files.write(file, b.array());
    }
  }

  @Nested
  class AgainstANetwork {
    @Test
    void mismatchesAreNamedWithTheNetwork() throws IOException {
      Tensor x = DataFiles.inputs(7, 3, 4, 2);
      Path values = DataFiles.shard(dir.resolve("values/s.safetensors"), x,
          DataFiles.random(2, 3, 4, 1)).getParent();
      Path classes = DataFiles.classShard(dir.resolve("classes/s.safetensors"), x,
          new long[] {0, 1, 3}).getParent();
      DataDirectory v = DataDirectory.read(values, DType.FLOAT32, true);
      DataDirectory c = DataDirectory.read(classes, DType.FLOAT32, true);
      Network oneFeature = network().gru(1, 3).dense(3, 1).build();
      Network lastStep = network().gru(2, 3).lastStep().dense(3, 1).build();
      Network twoOut = network().gru(2, 3).dense(3, 2).build();
      Network threeClasses = network().gru(2, 3).lastStep().dense(3, 3).build();
      assertAll(
          () -> assertEquals("D: inputs have 2 features per step but the network gru(1, 3).dense(3,"
              + " 1) takes 1", assertThrows(IllegalArgumentException.class,
                  () -> v.checkFits(oneFeature, "D")).getMessage()),
          () -> assertEquals("D: targets [3, 4, 1] are one per step, but the network gru(2, 3)"
              + ".lastStep().dense(3, 1) outputs only the last step (lastStep()); write [N, O]"
              + " values", assertThrows(IllegalArgumentException.class,
                  () -> v.checkFits(lastStep, "D")).getMessage()),
          () -> assertEquals("D: targets have 1 values per step but the network gru(2, 3)"
              + ".dense(3, 2) outputs 2", assertThrows(IllegalArgumentException.class,
                  () -> v.checkFits(twoOut, "D")).getMessage()),
          () -> assertEquals("D: class id 3 at example 2 of s.safetensors, but the network"
              + " gru(2, 3).lastStep().dense(3, 3) has 3 outputs, so classes are 0 to 2",
              assertThrows(IllegalArgumentException.class,
                  () -> c.checkFits(threeClasses, "D")).getMessage()));
    }
  }
}
