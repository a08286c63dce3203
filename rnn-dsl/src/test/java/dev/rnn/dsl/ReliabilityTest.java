package dev.rnn.dsl;

import static dev.rnn.dsl.Rnn.network;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.collect.ImmutableMap;
import dev.rnn.autograd.optim.Adam;
import dev.rnn.autograd.optim.Sgd;
import dev.rnn.core.DType;
import dev.rnn.core.Safetensors;
import dev.rnn.core.SafetensorsException;
import dev.rnn.core.Tensor;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The second wave of the reliability probe (issue 16), item by item: hostile sizes, hostile
 * checkpoints, non-finite values reaching the weights, and the smaller findings. Each test is the
 * probe's own case, with its message pinned.
 */
class ReliabilityTest {
  @TempDir
  Path dir;

  /** Bytes this thread allocates while {@code work} runs. */
  static long allocatedBy(Runnable work) {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    work.run();
    return threads.getCurrentThreadAllocatedBytes() - before;
  }

  static <T extends Throwable> T refusedInLittleMemory(Class<T> type, Runnable work) {
    Throwable[] thrown = new Throwable[1];
    long bytes = allocatedBy(() -> thrown[0] = assertThrows(type, work::run));
    assertTrue(bytes < 16 << 20, "refusing it allocated " + (bytes >> 20) + " MB");
    return type.cast(thrown[0]);
  }

  // ---- item 2: sizes ------------------------------------------------------------------------

  @Nested
  class Sizes {
    @Test
    void anLstmWhoseGateSizeOverflowsAnIntIsRefusedNamingTheLayer() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> network().lstm(1, 1073741824));
      assertEquals("lstm(1, 1073741824) (layer 1) would have 4611686031312289792 parameters,"
          + " more than the 2147483639 a network may hold", e.getMessage());
    }

    @Test
    void anLstmWhoseGateSizeIsTwoToThe31IsRefusedNamingTheLayer() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> network().lstm(1, 536870912));
      assertEquals("lstm(1, 536870912) (layer 1) would have 1152921511049297920 parameters,"
          + " more than the 2147483639 a network may hold", e.getMessage());
    }

    @Test
    void aDenseLayerOfThreeBillionNumbersIsRefused() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> network().dense(2, 1000000000));
      assertEquals("dense(2, 1000000000) (layer 1) would have 3000000000 parameters, more than"
          + " the 2147483639 a network may hold", e.getMessage());
    }

    @Test
    void aLayerThatTakesTheNetworkOverTheLimitIsRefusedWhereItIsAdded() {
      NetworkBuilder b = network().recurrent(1, 40000);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> b.recurrent(40000, 20000));
      assertEquals("recurrent(40000, 20000) (layer 2) would bring the network to 2800100000"
          + " parameters, more than the 2147483639 a network may hold", e.getMessage());
    }

    @Test
    void bidirectionalCountsBothDirections() {
      NetworkBuilder b = network().recurrent(1, 40000);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          b::bidirectional);
      assertEquals("recurrent(1, 40000).bidirectional() (layer 1) would have 3200160000"
          + " parameters, more than the 2147483639 a network may hold", e.getMessage());
    }

    @Test
    void theSpecLanguageNamesThePositionAndTheLayer() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Rnn.parse("lstm(1, 1073741824)"));
      assertEquals("spec 'lstm(1, 1073741824)' at position 0: lstm(1, 1073741824) (layer 1)"
          + " would have 4611686031312289792 parameters, more than the 2147483639 a network may"
          + " hold", e.getMessage());
    }

    @Test
    void aNetworkOfSixGigabytesIsBuiltDescribedAndDrawnWithoutAllocatingItsWeights() {
      long[] count = new long[1];
      String[] text = new String[2];
      long bytes = allocatedBy(() -> {
        Network net = network().recurrent(1, 40000).build();
        count[0] = net.parameterCount();
        text[0] = net.describe();
        text[1] = net.graphSvg(3);
      });
      assertAll(
          () -> assertEquals(1_600_080_000L, count[0]),
          () -> assertTrue(text[0].endsWith("parameters: 1600080000 in 3 tensors"), text[0]),
          () -> assertTrue(text[1].startsWith("<svg") || text[1].startsWith("<?xml"), text[1]),
          () -> assertTrue(bytes < 16 << 20, "allocated " + (bytes >> 20) + " MB"));
    }

    @Test
    void graphIsLinearInTheNumberOfLayers() {
      String spec = String.join(".", java.util.Collections.nCopies(50_000, "recurrent(2,2)"));
      // Quadratic work took 14 s for 16,000 layers; linear takes about a second for 50,000.
      String dot = assertTimeoutPreemptively(Duration.ofSeconds(20),
          () -> Rnn.parse(spec).build().graph(1));
      assertTrue(dot.contains("l50000_1"), "the last layer is drawn");
    }
  }

  // ---- item 1: special files ------------------------------------------------------------------

  @Nested
  class SavingOverSpecialFiles {
    @Test
    void aDeviceNodeIsRefusedAndKept() throws IOException {
      Path dev = SpecialFiles.characterDevice(dir.resolve("null"), 1, 3);
      Network net = network().recurrent(2, 2).seed(1).build();
      java.nio.file.FileSystemException e = assertThrows(java.nio.file.FileSystemException.class,
          () -> net.save(dev));
      assertAll(
          () -> assertEquals(dev + ": is a character device, not a regular file: not replaced",
              e.getMessage()),
          () -> assertTrue(Files.exists(dev) && !Files.isRegularFile(dev)));
    }

    @Test
    void aFifoIsRefusedWithoutBlockingAndKept() {
      Path fifo = SpecialFiles.fifo(dir.resolve("net.safetensors"));
      Network net = network().recurrent(2, 2).seed(1).build();
      java.nio.file.FileSystemException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
          () -> assertThrows(java.nio.file.FileSystemException.class, () -> net.save(fifo)));
      assertEquals(fifo + ": is a FIFO, not a regular file: not replaced", e.getMessage());
    }

    @Test
    void loadingAFifoIsRefusedWithoutBlocking() {
      Path fifo = SpecialFiles.fifo(dir.resolve("net.safetensors"));
      java.nio.file.FileSystemException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
          () -> assertThrows(java.nio.file.FileSystemException.class, () -> Rnn.load(fifo)));
      assertEquals(fifo + ": is a FIFO, not a regular file", e.getMessage());
    }
  }

  // ---- item 3: checkpoints --------------------------------------------------------------------

  @Nested
  class HostileCheckpoints {
    private Map<String, String> metadata(String spec) {
      return ImmutableMap.of("format", Checkpoint.FORMAT, "spec", spec, "stacking", "outputs",
          "handOffStates", "false", "batchFirst", "false", "dtype", "float32");
    }

    private Path checkpoint(String spec, Map<String, Tensor> tensors) throws IOException {
      Path p = dir.resolve("bomb.safetensors");
      Safetensors.write(p, tensors, metadata(spec));
      return p;
    }

    @Test
    void aTinyFileWithTheSpecOfAHugeDenseLayerIsRefusedAtItsSpec() throws IOException {
      Path p = checkpoint("dense(2, 1000000000)", Map.of());
      SafetensorsException e = refusedInLittleMemory(SafetensorsException.class,
          () -> uncheckedLoad(p));
      assertEquals(p + ": metadata spec 'dense(2, 1000000000)' at position 0: dense(2,"
          + " 1000000000) (layer 1) would have 3000000000 parameters, more than the 2147483639 a"
          + " network may hold", e.getMessage());
    }

    @Test
    void aTinyFileWithTheSpecOfSixGigabytesIsRefusedBeforeAnyWeightExists() throws IOException {
      Path p = checkpoint("recurrent(1, 40000)", Map.of());
      assertTrue(Files.size(p) < 300, Files.size(p) + " bytes");
      SafetensorsException e = refusedInLittleMemory(SafetensorsException.class,
          () -> uncheckedLoad(p));
      assertEquals(p + ": parameter weight_ih_l0 expected shape [40000, 1] but the file has none"
          + " (network recurrent(1, 40000))", e.getMessage());
    }

    @Test
    void aChainOfFortyOneLargeLayersInAKilobyteIsRefusedBeforeAnyWeightExists()
        throws IOException {
      String spec = String.join(".", java.util.Collections.nCopies(41, "recurrent(8000, 8000)"));
      Path p = checkpoint(spec, ImmutableMap.of("weight_ih_l0", Tensor.zeros(DType.FLOAT32, 1)));
      SafetensorsException e = refusedInLittleMemory(SafetensorsException.class,
          () -> uncheckedLoad(p));
      assertAll(
          () -> assertTrue(Files.size(p) < 1200, Files.size(p) + " bytes"),
          () -> assertTrue(e.getMessage().startsWith(p + ": metadata spec 'recurrent(8000,"),
              e.getMessage()),
          () -> assertTrue(e.getMessage().endsWith("' at position 352: recurrent(8000, 8000)"
              + " (layer 17) would bring the network to 2176136000 parameters, more than the"
              + " 2147483639 a network may hold"), e.getMessage()));
    }

    @Test
    void aSpecOfLayersWithinTheLimitButNotInTheFileIsRefusedBeforeAnyWeightExists()
        throws IOException {
      String spec = String.join(".", java.util.Collections.nCopies(16, "recurrent(8000, 8000)"));
      Path p = checkpoint(spec, ImmutableMap.of("weight_ih_l0", Tensor.zeros(DType.FLOAT32, 1)));
      SafetensorsException e = refusedInLittleMemory(SafetensorsException.class,
          () -> uncheckedLoad(p));
      assertEquals(p + ": parameter weight_ih_l0 expected shape [8000, 8000] but got [1]",
          e.getMessage());
    }

    @Test
    void aHugeDeclaredTensorThatTheFileDoesNotHoldIsRefusedByTheReader() {
      byte[] header = ("{\"__metadata__\":{\"format\":\"rnn-network/1\",\"spec\":\"recurrent(1,"
          + " 40000)\"},\"weight_hh_l0\":{\"dtype\":\"F32\",\"shape\":[40000,40000],"
          + "\"data_offsets\":[0,6400000000]}}").getBytes(StandardCharsets.UTF_8);
      byte[] file = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN)
          .putLong(header.length).put(header).array();
      SafetensorsException e = refusedInLittleMemory(SafetensorsException.class,
          () -> Checkpoint.load(file, "x.safetensors"));
      assertEquals("x.safetensors: tensor 'weight_hh_l0' has data_offsets [0, 6400000000] past"
          + " the end of the 0-byte data section", e.getMessage());
    }

    @Test
    void aSpecLongerThanAMillionCharactersIsRefusedBeforeItIsParsed() throws IOException {
      String spec = "recurrent(2,2)" + ".relu()".repeat(150_000);
      Path p = checkpoint(spec, Map.of());
      SafetensorsException e = assertThrows(SafetensorsException.class, () -> Rnn.load(p));
      assertEquals(p + ": metadata 'spec' has 1050014 characters, more than the 1048576 a"
          + " checkpoint's spec may have", e.getMessage());
    }

    @Test
    void aNaNWeightIsRefusedNamingTheTensorAndIndex() throws IOException {
      Network net = network().recurrent(2, 3).seed(1).build();
      Map<String, Tensor> tensors = new LinkedHashMap<>();
      net.namedParameters().forEach((n, param) -> tensors.put(n, param.value()));
      float[] w = tensors.get("weight_hh_l0").toFloatArray();
      w[7] = Float.NaN;
      tensors.put("weight_hh_l0", Tensor.of(w, 3, 3));
      Path p = checkpoint(net.spec(), tensors);
      SafetensorsException e = assertThrows(SafetensorsException.class, () -> Rnn.load(p));
      assertEquals(p + ": parameter weight_hh_l0 holds NaN at [2, 1]; a checkpoint holds finite"
          + " values only", e.getMessage());
    }

    @Test
    void anInfiniteWeightIsRefusedWhenLoadedIntoANetworkToo() throws IOException {
      Network net = network().recurrent(2, 3).seed(1).build();
      Map<String, Tensor> tensors = new LinkedHashMap<>();
      net.namedParameters().forEach((n, param) -> tensors.put(n, param.value()));
      tensors.put("bias_ih_l0", Tensor.of(new float[] {0, Float.NEGATIVE_INFINITY, 0}, 3));
      Path p = dir.resolve("state_dict.safetensors");
      Safetensors.write(p, tensors, Map.of());
      float[] before = net.parameter("bias_ih_l0").toFloatArray();
      SafetensorsException e = assertThrows(SafetensorsException.class,
          () -> Checkpoint.loadInto(net, p));
      assertAll(
          () -> assertEquals(p + ": parameter bias_ih_l0 holds -Infinity at [1]; a checkpoint"
              + " holds finite values only", e.getMessage()),
          () -> assertArrayEquals(before, net.parameter("bias_ih_l0").toFloatArray()));
    }

    @Test
    void aSpecThatSetsTheStackingOtherwiseThanTheMetadataIsRefusedNamingTheFile()
        throws IOException {
      Network net = network().recurrent(2, 2).seed(1).build();
      Map<String, Tensor> tensors = new LinkedHashMap<>();
      net.namedParameters().forEach((n, param) -> tensors.put(n, param.value()));
      Path p = checkpoint("recurrent(2,2).stacking(states)", tensors);
      SafetensorsException e = assertThrows(SafetensorsException.class, () -> Rnn.load(p));
      assertEquals(p + ": metadata 'stacking' is outputs, which does not go with metadata 'spec'"
          + " recurrent(2,2).stacking(states): stacking was already set to STATES",
          e.getMessage());
    }

    @Test
    void aMetadataKeyGivenTwiceIsRefused() {
      byte[] header = ("{\"__metadata__\":{\"format\":\"rnn-network/1\",\"spec\":\"recurrent(2,2)\","
          + "\"spec\":\"recurrent(2,3)\"}}").getBytes(StandardCharsets.UTF_8);
      byte[] file = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN)
          .putLong(header.length).put(header).array();
      SafetensorsException e = assertThrows(SafetensorsException.class,
          () -> Checkpoint.load(file, "x.safetensors"));
      assertEquals("x.safetensors: __metadata__ has key 'spec' twice; which value is meant is not"
          + " clear", e.getMessage());
    }

    private void uncheckedLoad(Path p) {
      try {
        Rnn.load(p);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }

  // ---- item 4: non-finite values --------------------------------------------------------------

  @Nested
  class NonFiniteValues {
    private final Tensor x = Tensor.uniform(DType.FLOAT32, 3, -1, 1, 6, 8, 1);

    private Trainer trainer(Network net) {
      return net.trainer().loss(Trainer.Objective.MSE).batchSize(4);
    }

    private Map<String, List<Float>> values(Network net) {
      Map<String, List<Float>> m = new LinkedHashMap<>();
      net.namedParameters().forEach((n, p) -> {
        float[] a = p.value().toFloatArray();
        List<Float> l = new java.util.ArrayList<>();
        for (float f : a) {
          l.add(f);
        }
        m.put(n, l);
      });
      return m;
    }

    @Test
    void anInfiniteLearningRateIsRefused() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Sgd.builder().lr(Double.POSITIVE_INFINITY));
      assertEquals("lr must be finite but got Infinity", e.getMessage());
    }

    @Test
    void anUpdateThatOverflowsStopsTheRunAndKeepsTheWeightsFromBeforeIt() {
      Network net = network().lstm(1, 8).dense(8, 1).seed(2).build();
      Map<String, List<Float>> before = values(net);
      Trainer t = trainer(net).optimizer(ps -> Sgd.builder().lr(1e300).build(ps));
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.fit(x, x));
      assertAll(
          () -> assertTrue(e.getMessage().matches("the update of \\S+ is not finite \\(-?"
              + "Infinity\\) at epoch 1, batch 1, steps \\[0, 6\\): stopped, the parameters keep"
              + " their values from before that update; lower the learning rate \\(1.0E300\\) or"
              + " clip the gradients"), e.getMessage()),
          () -> assertEquals(before, values(net)));
    }

    @Test
    void anUpdateThatOverflowsIsSkippedUnderSkipBatch() {
      Network net = network().lstm(1, 8).dense(8, 1).seed(2).build();
      Map<String, List<Float>> before = values(net);
      Trainer.Report r = trainer(net).optimizer(ps -> Sgd.builder().lr(1e300).build(ps))
          .onNonFinite(Trainer.NonFinite.SKIP_BATCH).fit(x, x);
      assertAll(
          () -> assertEquals(2, r.skippedBatches()),
          () -> assertEquals(0, r.steps()),
          () -> assertEquals(before, values(net)));
    }

    @Test
    void evaluateRefusesNaNInputs() {
      Network net = network().lstm(1, 4).dense(4, 1).seed(2).build();
      float[] a = x.toFloatArray();
      a[9] = Float.NaN;
      Tensor bad = Tensor.of(a, 6, 8, 1);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> trainer(net).evaluate(bad, x));
      assertEquals("evaluate expected finite inputs but inputs[1, 1, 0] is NaN", e.getMessage());
    }

    @Test
    void evaluateRefusesInfiniteTargets() {
      Network net = network().lstm(1, 4).dense(4, 1).seed(2).build();
      float[] a = x.toFloatArray();
      a[0] = Float.POSITIVE_INFINITY;
      Tensor bad = Tensor.of(a, 6, 8, 1);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> trainer(net).evaluate(x, bad));
      assertEquals("evaluate expected finite targets but targets[0, 0, 0] is Infinity",
          e.getMessage());
    }

    @Test
    void aMaskThatCountsNothingIsAnErrorNamingTheBatch() {
      Network net = network().lstm(1, 4).dense(4, 1).seed(2).build();
      Tensor mask = Tensor.zeros(DType.FLOAT32, 6, 8);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> trainer(net).fit(x, x, mask));
      assertEquals("fit: the mask counts no step of batch 1 of epoch 1 (sequences [0, 1, 2, 3]):"
          + " every step of it is masked out; give each sequence at least one counted step, or"
          + " leave out those that have none", e.getMessage());
    }

    @Test
    void aMaskThatCountsNothingInEvaluateIsAnError() {
      Network net = network().lstm(1, 4).dense(4, 1).seed(2).build();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> trainer(net).evaluate(x, x, Tensor.zeros(DType.FLOAT32, 6, 8)));
      assertEquals("evaluate expected a mask that counts at least one step but it is all 0: the"
          + " loss over no step is not defined", e.getMessage());
    }
  }

  // ---- item 8: smaller ------------------------------------------------------------------------

  @Nested
  class Smaller {
    @Test
    void digitsOfOtherScriptsAreNotSizes() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Rnn.parse("recurrent(\u0662,\u0662)"));
      assertEquals("spec 'recurrent(\u0662,\u0662)' at position 0: expected a whole number but"
          + " got '\u0662'", e.getMessage());
    }

    @Test
    void aDropoutProbabilityIsADecimalNumber() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Rnn.parse("recurrent(2,2).dropout(0x1p-1)"));
      assertEquals("spec 'recurrent(2,2).dropout(0x1p-1)' at position 15: expected a number but"
          + " got '0x1p-1'", e.getMessage());
    }

    @Test
    void forwardOfNullNamesWhatWasExpected() {
      Network net = network().recurrent(2, 2).build();
      NullPointerException e = assertThrows(NullPointerException.class, () -> net.forward((Tensor) null));
      assertEquals("recurrent(2, 2) expected an input tensor but got null", e.getMessage());
    }

    @Test
    void aModifierGivenTwiceIsRefused() {
      assertAll(
          () -> assertEquals("bidirectional() was already called on recurrent(2, 2)"
              + ".bidirectional()", assertThrows(IllegalStateException.class,
                  () -> network().recurrent(2, 2).bidirectional().bidirectional()).getMessage()),
          () -> assertEquals("noBias() was already called on gru(2, 2).noBias()",
              assertThrows(IllegalStateException.class,
                  () -> network().gru(2, 2).noBias().noBias()).getMessage()),
          () -> assertEquals("spec 'recurrent(2,2).noBias().noBias()' at position 24: noBias()"
              + " was already called on recurrent(2, 2).noBias()",
              assertThrows(IllegalArgumentException.class,
                  () -> Rnn.parse("recurrent(2,2).noBias().noBias()")).getMessage()));
    }

    @Test
    void anOptimizerOverAnotherNetworksParametersIsRefused() {
      Network net = network().recurrent(1, 2).seed(1).build();
      Network other = network().recurrent(1, 2).seed(2).build();
      Trainer t = net.trainer().loss(Trainer.Objective.MSE)
          .optimizer(ps -> Adam.builder().build(other.parameters()));
      Tensor x = Tensor.zeros(DType.FLOAT32, 3, 2, 1);
      Tensor y = Tensor.zeros(DType.FLOAT32, 3, 2, 2);
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.fit(x, y));
      assertEquals("the optimizer factory built an optimizer that updates weight_ih_l0 [2, 1],"
          + " which is not a parameter of this network (recurrent(1, 2)); build it over the"
          + " parameters the factory is given", e.getMessage());
    }
  }

  // ---- memory ---------------------------------------------------------------------------------

  @Nested
  class Memory {
    /** The heap in use after a full collection, in bytes. */
    private long heapAfterGc() {
      for (int i = 0; i < 3; i++) {
        System.gc();
      }
      return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** {@code lstm(1500, 1500)}: 18,012,000 float32 numbers, 72 MB of weights. */
    private static final long WEIGHT_BYTES = 18_012_000L * 4;

    private long heldBy(Supplier<Object> make) {
      long before = heapAfterGc();
      Object kept = make.get();
      long after = heapAfterGc();
      assertTrue(kept != null);
      return after - before;
    }

    @Test
    void anInferenceOnlyNetworkHoldsItsWeightsOnce() {
      long held = heldBy(() -> {
        Network net = network().lstm(1500, 1500).seed(1).build();
        net.forward(Tensor.zeros(DType.FLOAT32, 2, 1, 1500));
        return net;
      });
      // With a gradient per parameter allocated at build time it held twice as much.
      assertTrue(held > WEIGHT_BYTES * 0.9 && held < WEIGHT_BYTES * 1.4,
          "held " + (held >> 20) + " MB for " + (WEIGHT_BYTES >> 20) + " MB of weights");
    }

    @Test
    void aLoadedCheckpointHoldsItsWeightsOnce() throws IOException {
      Path p = dir.resolve("big.safetensors");
      network().lstm(1500, 1500).seed(1).build().save(p);
      long held = heldBy(() -> {
        try {
          return Rnn.load(p);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      assertTrue(held > WEIGHT_BYTES * 0.9 && held < WEIGHT_BYTES * 1.4,
          "held " + (held >> 20) + " MB for " + (WEIGHT_BYTES >> 20) + " MB of weights");
    }
  }
}
