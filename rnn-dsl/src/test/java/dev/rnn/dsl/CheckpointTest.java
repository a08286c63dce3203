package dev.rnn.dsl;

import static dev.rnn.dsl.Rnn.network;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.common.collect.ImmutableMap;
import dev.rnn.core.Activation;
import dev.rnn.core.DType;
import dev.rnn.core.ElmanCell;
import dev.rnn.core.Safetensors;
import dev.rnn.core.SafetensorsException;
import dev.rnn.core.SafetensorsFile;
import dev.rnn.core.Tensor;
import dev.rnn.core.TorchModule;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Saving a network and loading it back: round trips, refusals, mismatches, failed writes. */
class CheckpointTest {
  @TempDir
  Path dir;

  private Path file(String name) {
    return dir.resolve(name);
  }

  /** A small random network of seed 7. */
  private static Network lstm(int in, int out) {
    return network().lstm(in, out).seed(7).build();
  }

  @Nested
  class WhenSavedAndLoaded {
    static Stream<Arguments> architectures() {
      return Stream.of(
          arch("bidirectional lstm into gru",
              () -> network().lstm(3, 5).bidirectional().gru(10, 4)),
          arch("peephole lstm and dense",
              () -> network().lstm(3, 4).peepholes().dense(4, 2)),
          arch("STATES with relu inside and learnable initial state",
              () -> network().recurrent(3, 4).learnableInitialState().relu().recurrent(4, 2)
                  .stacking(Stacking.STATES)),
          arch("OUTPUTS with hand-off, batch-first, float64",
              () -> network().elman(3, 4, Activation.TANH).learnableInitialState()
                  .elman(4, 4, Activation.RELU).handOffStates().batchFirst()
                  .dtype(DType.FLOAT64)),
          arch("bidirectional peephole lstm with learnable initial state, float64",
              () -> network().lstm(3, 4).peepholes().bidirectional().learnableInitialState()
                  .tanh().dense(8, 3).dtype(DType.FLOAT64)),
          arch("gru without bias, dropout, dense and last step",
              () -> network().gru(3, 4).noBias().dropout(0.25).dense(4, 2).lastStep()),
          arch("torch's two-layer bidirectional lstm",
              () -> Rnn.fromTorch(TorchModule.lstm(3, 4).numLayers(2).batchFirst(true)
                  .bidirectional(true))));
    }

    private static Arguments arch(String name, Supplier<NetworkBuilder> b) {
      return Arguments.of(name, b);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("architectures")
    void givesBitwiseTheSameNetwork(String name, Supplier<NetworkBuilder> builder)
        throws IOException {
      Network net = builder.get().build();
      randomize(net);
      Path p = file("net.safetensors");
      net.save(p);
      Network back = Rnn.load(p);
      Tensor x = Tensor.randn(DType.FLOAT32, 5L, 4, 2, 3);
      Network.Result expected = net.forward(x, null);
      Network.Result actual = back.forward(x, null);
      assertAll(
          () -> assertEquals(net.spec(), back.spec()),
          () -> assertEquals(net.stacking(), back.stacking()),
          () -> assertEquals(net.handsOffStates(), back.handsOffStates()),
          () -> assertEquals(net.batchFirst(), back.batchFirst()),
          () -> assertEquals(net.dtype(), back.dtype()),
          () -> assertEquals(values(net), values(back)),
          () -> assertEquals(expected.output(), actual.output()),
          () -> assertEquals(expected.state().tensors(), actual.state().tensors()));
    }

    @Test
    void theFileHoldsEveryParameterByNameAndTheArchitectureInItsMetadata() throws IOException {
      Network net = network().lstm(3, 4).bidirectional().dense(8, 2).stacking(Stacking.STATES)
          .batchFirst().dtype(DType.FLOAT64).build();
      Path p = file("net.safetensors");
      net.save(p);
      SafetensorsFile f = Safetensors.read(p);
      assertAll(
          () -> assertEquals(ImmutableMap.of(
              "format", "rnn-network/1",
              "spec", "lstm(3, 4).bidirectional().dense(8, 2)",
              "stacking", "states",
              "handOffStates", "false",
              "batchFirst", "true",
              "dtype", "float64"), f.metadata()),
          () -> assertEquals(List.of("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
              "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse",
              "bias_hh_l0_reverse", "dense0.weight", "dense0.bias"),
              f.tensors().keySet().asList()),
          () -> assertEquals(values(net), f.tensors()));
    }

    @Test
    void aSecondSaveReplacesTheFirst() throws IOException {
      Path p = file("net.safetensors");
      network().gru(3, 4).seed(1).build().save(p);
      Network second = network().gru(3, 4).seed(2).build();
      second.save(p);
      assertEquals(values(second), values(Rnn.load(p)));
    }

    @Test
    void loadIntoSetsTheWeightsOfANetworkOfTheSameArchitecture() throws IOException {
      Network net = lstm(3, 8);
      Path p = file("net.safetensors");
      net.save(p);
      Network other = network().lstm(3, 8).seed(99).stacking(Stacking.STATES).build();
      Checkpoint.loadInto(other, p);
      assertEquals(values(net), values(other));
    }
  }

  @Nested
  class WhenSavingIsRefused {
    @Test
    void aUserWrittenCellIsNamedAndNothingIsWritten() {
      Network net = network().cell(new ElmanCell(3, 4, Activation.TANH)).dense(4, 2).build();
      Path p = file("net.safetensors");
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> net.save(p));
      assertAll(
          () -> assertEquals(p + ": layer 1, cell(elman(3, 4, tanh)) is a user-written cell,"
              + " which a checkpoint cannot rebuild; not saving (save net.namedParameters() with"
              + " Safetensors.write and rebuild the network in code)", e.getMessage()),
          () -> assertFalse(Files.exists(p)));
    }

    @Test
    void aNaNWeightIsNamedAndThePreviousCheckpointIsKept() throws IOException {
      Network net = lstm(3, 8);
      Path p = file("net.safetensors");
      net.save(p);
      byte[] before = Files.readAllBytes(p);
      net.namedParameters().get("weight_hh_l0").data().set(5, Double.NaN);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> net.save(p));
      assertAll(
          () -> assertEquals(p + ": parameter weight_hh_l0 holds NaN or infinity; not saving",
              e.getMessage()),
          () -> assertArrayEquals(before, Files.readAllBytes(p)));
    }

    @Test
    void anInfiniteBiasIsNamed() {
      Network net = network().gru(3, 4).dense(4, 2).build();
      net.namedParameters().get("dense0.bias").data().set(1, Double.NEGATIVE_INFINITY);
      Path p = file("net.safetensors");
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> net.save(p));
      assertEquals(p + ": parameter dense0.bias holds NaN or infinity; not saving",
          e.getMessage());
    }

    @Test
    void aMissingDirectoryIsNamed() {
      Path p = file("no-such-dir").resolve("net.safetensors");
      NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> lstm(3, 4).save(p));
      assertEquals(p + ": cannot save, directory " + p.getParent().toAbsolutePath()
          + " does not exist", e.getMessage());
    }
  }

  @Nested
  class WhenASaveFailsHalfWay {
    /** A stream that fails once {@code limit} bytes have been written, like a full disk. */
    static final class FailingAfter extends FilterOutputStream {
      private long left;

      FailingAfter(OutputStream out, long limit) {
        super(out);
        this.left = limit;
      }

      @Override public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override public void write(byte[] b, int off, int len) throws IOException {
        if (len > left) {
          out.write(b, off, (int) left);
          left = 0;
          throw new IOException("No space left on device (injected)");
        }
        left -= len;
        out.write(b, off, len);
      }
    }

    /**
     * The real {@code Safetensors.write(Path, Map, Map, UnaryOperator)}, the package-private
     * overload that writes through a stream decorator, reached by reflection from this module.
     */
    private Checkpoint.Writer failingAfter(long bytes) throws NoSuchMethodException {
      Method write = Safetensors.class.getDeclaredMethod("write", Path.class, Map.class,
          Map.class, UnaryOperator.class);
      write.setAccessible(true);
      UnaryOperator<OutputStream> decorate = out -> new FailingAfter(out, bytes);
      return (path, tensors, metadata) -> {
        try {
          write.invoke(null, path, tensors, metadata, decorate);
        } catch (InvocationTargetException e) {
          if (e.getCause() instanceof IOException io) {
            throw io;
          }
          throw new AssertionError(e.getCause());
        } catch (IllegalAccessException e) {
          throw new AssertionError(e);
        }
      };
    }

    @Test
    void thePreviousCheckpointIsLeftIntactAndNoTemporaryFileRemains() throws Exception {
      Network first = lstm(3, 8);
      Path p = file("net.safetensors");
      first.save(p);
      byte[] before = Files.readAllBytes(p);
      Network second = network().lstm(3, 8).seed(8).build();

      IOException e = assertThrows(IOException.class,
          () -> Checkpoint.save(second, p, failingAfter(before.length / 2)));

      try (Stream<Path> files = Files.list(dir)) {
        List<Path> left = files.toList();
        assertAll(
            () -> assertEquals("No space left on device (injected)", e.getMessage()),
            () -> assertArrayEquals(before, Files.readAllBytes(p)),
            () -> assertEquals(values(first), values(Rnn.load(p))),
            () -> assertEquals(List.of(p), left, "files in " + dir));
      }
    }
  }

  @Nested
  class WhenLoadingFails {
    @Test
    void aMissingFileIsNamed() {
      Path p = file("missing.safetensors");
      NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Rnn.load(p));
      assertEquals(p + ": no such file or directory", e.getMessage());
    }

    @Test
    void aFileOfAnotherFormatIsNamed() throws IOException {
      Path p = file("case.safetensors");
      Safetensors.write(p, Map.of("input", Tensor.zeros(DType.FLOAT32, 1, 1, 2)),
          Map.of("format", "rnn-torch-case/1"));
      SafetensorsException e = assertThrows(SafetensorsException.class, () -> Rnn.load(p));
      assertEquals(p + ": is not a network checkpoint: metadata 'format' expected"
          + " 'rnn-network/1' but got 'rnn-torch-case/1'", e.getMessage());
    }

    @Test
    void aFileWithoutMetadataIsNamed() throws IOException {
      Path p = file("plain.safetensors");
      Safetensors.write(p, Map.of("weight_ih_l0", Tensor.zeros(DType.FLOAT32, 8, 3)), Map.of());
      SafetensorsException e = assertThrows(SafetensorsException.class, () -> Rnn.load(p));
      assertEquals(p + ": is not a network checkpoint: metadata 'format' expected"
          + " 'rnn-network/1' but got none", e.getMessage());
    }

    @Test
    void aSpecThatDoesNotParseIsNamed() throws IOException {
      Path p = edited(lstm(3, 4), (t, m) -> m.put("spec", "lstm(3, 4).frob()"));
      SafetensorsException e = assertThrows(SafetensorsException.class, () -> Rnn.load(p));
      assertEquals(p + ": metadata spec 'lstm(3, 4).frob()' at position 11: unknown layer 'frob'"
          + " (expected one of embedding, recurrent, elman, lstm, gru, dense, relu, tanh, sigmoid,"
          + " dropout, lastStep, bidirectional, peepholes, projection, noBias,"
          + " learnableInitialState, stacking, handOffStates, batchFirst)", e.getMessage());
    }

    @Test
    void aBadOptionIsNamed() throws IOException {
      Path p = edited(lstm(3, 4), (t, m) -> m.put("batchFirst", "yes"));
      SafetensorsException e = assertThrows(SafetensorsException.class, () -> Rnn.load(p));
      assertEquals(p + ": metadata 'batchFirst' expected true or false but got 'yes'",
          e.getMessage());
    }

    @Test
    void aMissingParameterIsNamed() throws IOException {
      Path p = edited(lstm(3, 8), (t, m) -> t.remove("bias_ih_l0"));
      SafetensorsException e = assertThrows(SafetensorsException.class, () -> Rnn.load(p));
      assertEquals(p + ": parameter bias_ih_l0 expected shape [32] but the file has none"
          + " (network lstm(3, 8))", e.getMessage());
    }

    @Test
    void anExtraParameterIsNamed() throws IOException {
      Path p = edited(lstm(3, 8), (t, m) -> t.put("dense0.weight",
          Tensor.zeros(DType.FLOAT32, 2, 8)));
      SafetensorsException e = assertThrows(SafetensorsException.class, () -> Rnn.load(p));
      assertEquals(p + ": parameter dense0.weight [2, 8] is not a parameter of network"
          + " lstm(3, 8), which has weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0",
          e.getMessage());
    }

    @Test
    void aParameterOfAnotherShapeIsNamed() throws IOException {
      Path p = edited(lstm(3, 8), (t, m) -> t.put("weight_hh_l0",
          Tensor.zeros(DType.FLOAT32, 32, 7)));
      SafetensorsException e = assertThrows(SafetensorsException.class, () -> Rnn.load(p));
      assertEquals(p + ": parameter weight_hh_l0 expected shape [32, 8] but got [32, 7]",
          e.getMessage());
    }

    @Test
    void aParameterOfAnotherDtypeIsNamed() throws IOException {
      Path p = edited(lstm(3, 8), (t, m) -> t.put("bias_hh_l0",
          t.get("bias_hh_l0").to(DType.FLOAT64)));
      SafetensorsException e = assertThrows(SafetensorsException.class, () -> Rnn.load(p));
      assertEquals(p + ": parameter bias_hh_l0 expected dtype float32 but got float64",
          e.getMessage());
    }

    @Test
    void intoAnotherArchitectureFailsNamingTheFirstMismatch() throws IOException {
      Path p = file("net.safetensors");
      network().elman(4, 8, Activation.TANH).elman(8, 8, Activation.TANH).build().save(p);
      Network other = network().elman(3, 8, Activation.TANH).build();
      SafetensorsException e = assertThrows(SafetensorsException.class,
          () -> Checkpoint.loadInto(other, p));
      assertEquals(p + ": parameter weight_ih_l0 expected shape [8, 3] but got [8, 4]",
          e.getMessage());
    }

    @Test
    void intoALstmFromAGruNamesTheFirstMismatch() throws IOException {
      Path p = file("net.safetensors");
      network().gru(3, 8).build().save(p);
      SafetensorsException e = assertThrows(SafetensorsException.class,
          () -> Checkpoint.loadInto(lstm(3, 8), p));
      assertEquals(p + ": parameter weight_ih_l0 expected shape [32, 3] but got [24, 3]",
          e.getMessage());
    }

    @Test
    void aFailedLoadIntoChangesNoWeight() throws IOException {
      Path p = edited(network().lstm(3, 8).seed(1).build(), (t, m) -> t.put("extra",
          Tensor.zeros(DType.FLOAT32, 1)));
      Network net = lstm(3, 8);
      Map<String, Tensor> before = values(net);
      assertThrows(SafetensorsException.class, () -> Checkpoint.loadInto(net, p));
      assertEquals(before, values(net));
    }
  }

  /** Edits the tensors and metadata of a checkpoint file. */
  private interface Edit {
    void apply(Map<String, Tensor> tensors, Map<String, String> metadata);
  }

  /** {@code net} saved, then its file rewritten with {@code edit} applied. */
  private Path edited(Network net, Edit edit) throws IOException {
    Path p = file("net.safetensors");
    net.save(p);
    SafetensorsFile f = Safetensors.read(p);
    Map<String, Tensor> tensors = new LinkedHashMap<>(f.tensors());
    Map<String, String> metadata = new LinkedHashMap<>(f.metadata());
    edit.apply(tensors, metadata);
    Safetensors.write(p, tensors, metadata);
    return p;
  }

  /** Sets every parameter, learnable initial states included, to distinct random values. */
  static void randomize(Network net) {
    long seed = 1;
    for (var p : net.parameters()) {
      p.set(Tensor.randn(p.dtype(), seed++, p.shape().dims()));
    }
  }

  /** Every parameter value of {@code net}, by name. */
  static Map<String, Tensor> values(Network net) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    net.namedParameters().forEach((name, p) -> m.put(name, p.value()));
    return m;
  }
}
