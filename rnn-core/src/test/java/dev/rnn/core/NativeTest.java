package dev.rnn.core;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.doReturn;
import static org.mockito.Mockito.spy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The native kernels ({@link Native}, {@link PackedWeight}) give the BLAS path's numbers: the
 * packed product on shapes of every kind (one row, sizes not a multiple of the vector width), and
 * whole scans forward and backward (float32, to rounding), with and without lengths. Where the
 * kernels are not loaded (or are off), the scans compare the fallback with itself and the kernel
 * tests are skipped.
 */
class NativeTest {
  /** Float32 sums in another order: a few ulps of numbers of order 1, over tens of steps. */
  private static final double TOLERANCE = 2e-5;

  @Test
  void describesWhatRunsInOneLine() {
    String d = Native.describe();
    assertAll(
        () -> assertTrue(d.startsWith("rnn_native "), d),
        () -> assertTrue(!d.contains("\n"), d),
        () -> assertEquals(d, Tensor.nativeKernels()));
  }

  @Test
  void withoutSwitchesTheKernelsOffOnThisThreadOnly() {
    boolean[] inside = new boolean[1];
    Native.without(() -> inside[0] = Native.enabled());
    assertAll(
        () -> assertEquals(false, inside[0]),
        () -> assertEquals(Native.isa() != Native.Isa.NONE, Native.enabled()));
  }

  @Nested
  class TheGruKernel {
    static Stream<Arguments> shapes() {
      List<Arguments> all = new ArrayList<>();
      for (int hidden : new int[] {1, 16, 17, 40}) {
        for (boolean reverse : new boolean[] {false, true}) {
          for (boolean ragged : new boolean[] {false, true}) {
            all.add(Arguments.of(hidden, reverse, ragged));
          }
        }
      }
      return all.stream();
    }

    @ParameterizedTest(name = "gru(5, {0}), reverse {1}, lengths {2}")
    @MethodSource("shapes")
    void runsGruCellsStepsBitForBitAsJava(int hidden, boolean reverse, boolean ragged) {
      // The same scan twice with the same products (packed or not): once with GruCell, whose
      // float32 step runs in C on AVX-512, once with a GruCell that declares no kernel (Java).
      Cell java = spy(new GruCell(5, hidden));
      doReturn(Cell.Kernel.NONE).when(java).kernel();
      Scan[] scans = new Scan[2];
      Pass[] passes = new Pass[2];
      int seq = 6;
      int[] lengths = {4, 6, 1, 5, 6, 2, 3};
      int batch = lengths.length;
      Cell[] cells = {java, new GruCell(5, hidden)};
      for (int i = 0; i < 2; i++) {
        scans[i] = new Scan(cells[i], Scan.Direction.of(reverse), "", DType.FLOAT32,
            Scan.Biases.BOTH);
        scans[i].initialize(new Random(4));
        Random rnd = new Random(6);
        Storage x = random(rnd, seq * batch * 5);
        Storage[] init = {random(rnd, batch * hidden)};
        Storage[] dFinal = {random(rnd, batch * hidden)};
        Storage dOut = random(rnd, seq * batch * hidden);
        passes[i] = pass(scans[i], x, seq, batch, init, ragged ? Lengths.of(lengths) : null,
            dOut, dFinal);
      }
      List<Executable> checks = new ArrayList<>();
      checks.add(() -> assertArrayEquals(LstmCell.f32(passes[0].out), LstmCell.f32(passes[1].out),
          "output"));
      checks.add(() -> assertArrayEquals(LstmCell.f32(passes[0].finals[0]),
          LstmCell.f32(passes[1].finals[0]), "final state"));
      checks.add(() -> assertArrayEquals(LstmCell.f32(passes[0].dx), LstmCell.f32(passes[1].dx),
          "input gradient"));
      checks.add(() -> assertArrayEquals(LstmCell.f32(passes[0].dInit[0]),
          LstmCell.f32(passes[1].dInit[0]), "initial state gradient"));
      for (int i = 0; i < scans[0].parameters().size(); i++) {
        int p = i;
        checks.add(() -> assertArrayEquals(LstmCell.f32(passes[0].grads.get(p)),
            LstmCell.f32(passes[1].grads.get(p)), scans[0].parameters().get(p).name()));
      }
      assertAll(checks);
    }

    @Test
    void aCellThatDeclaresItWithoutTheGruShapesIsRefused() {
      Cell odd = spy(new LstmCell(2, 3));
      doReturn(Cell.Kernel.GRU).when(odd).kernel();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new Scan(odd, Scan.Direction.FORWARD, "", DType.FLOAT32, Scan.Biases.BOTH));
      assertEquals("lstm(2, 3) declares the GRU kernel, which expects separate projections, 1"
          + " state, G = 3H and S = 4H but got SUMMED, 2 states, G = 12, S = 15", e.getMessage());
    }
  }

  @Nested
  class TheFusedLstmStep {
    static Stream<Arguments> cells() {
      return Stream.of(Arguments.of(new LstmCell(3, 20), Cell.Kernel.LSTM),
          Arguments.of(new PeepholeLstmCell(3, 20), Cell.Kernel.NONE),
          Arguments.of(new GruCell(3, 20), Cell.Kernel.GRU));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("cells")
    void runsTheForwardOfTheCellsThatDeclareIt(Cell cell, Cell.Kernel declared) {
      Cell watched = spy(cell);
      int[] forwards = new int[1];
      doAnswer(inv -> {
        forwards[0]++;
        return inv.callRealMethod();
      }).when(watched).forward(any());
      Scan scan = new Scan(watched, Scan.Direction.FORWARD, "", DType.FLOAT32, Scan.Biases.BOTH);
      scan.initialize(new Random(1));
      int seq = 4;
      scan.forward(random(new Random(2), seq * 5 * 3), seq, 5, null, false).release();
      boolean fused = declared != Cell.Kernel.NONE && Native.isa() == Native.Isa.AVX512;
      assertAll(
          () -> assertEquals(declared, cell.kernel()),
          () -> assertEquals(fused ? 0 : seq, forwards[0], Native.describe()));
    }

    @ParameterizedTest(name = "lstm(5, {0})")
    @ValueSource(ints = {1, 16, 17, 40})
    void runsTheCellAloneBitForBitAsJavaWhenNothingIsPacked(int hidden) {
      // One step packs nothing: the product is BLAS's either way, and the cell's part in C
      // repeats LstmCell.forward32 operation by operation.
      Scan scan = new Scan(new LstmCell(5, hidden), Scan.Direction.FORWARD, "", DType.FLOAT32,
          Scan.Biases.BOTH);
      scan.initialize(new Random(4));
      int batch = 7;
      Random rnd = new Random(6);
      Storage x = random(rnd, batch * 5);
      Storage[] init = {random(rnd, batch * hidden), random(rnd, batch * hidden)};
      Storage[][] states = new Storage[2][];
      Native.without(() -> states[0] = finalStates(scan, x, batch, init));
      states[1] = finalStates(scan, x, batch, init);
      assertAll(
          () -> assertArrayEquals(LstmCell.f32(states[0][0]), LstmCell.f32(states[1][0]), "h"),
          () -> assertArrayEquals(LstmCell.f32(states[0][1]), LstmCell.f32(states[1][1]), "c"));
    }

    @ParameterizedTest(name = "lstm(5, {0})")
    @ValueSource(ints = {1, 16, 17, 40})
    void runsTheCellsBackwardBitForBitAsJavaWhenNothingIsPacked(int hidden) {
      Scan scan = new Scan(new LstmCell(5, hidden), Scan.Direction.FORWARD, "", DType.FLOAT32,
          Scan.Biases.BOTH);
      scan.initialize(new Random(4));
      int batch = 7;
      Random rnd = new Random(6);
      Storage x = random(rnd, batch * 5);
      Storage[] init = {random(rnd, batch * hidden), random(rnd, batch * hidden)};
      Storage[] dFinal = {random(rnd, batch * hidden), random(rnd, batch * hidden)};
      Storage dOut = random(rnd, batch * hidden);
      Pass[] java = new Pass[1];
      Native.without(() -> java[0] = pass(scan, x, 1, batch, init, null, dOut, dFinal));
      Pass kernels = pass(scan, x, 1, batch, init, null, dOut, dFinal);
      List<Executable> checks = new ArrayList<>();
      checks.add(() -> assertArrayEquals(LstmCell.f32(java[0].dx), LstmCell.f32(kernels.dx),
          "input gradient"));
      for (int k = 0; k < 2; k++) {
        int state = k;
        checks.add(() -> assertArrayEquals(LstmCell.f32(java[0].dInit[state]),
            LstmCell.f32(kernels.dInit[state]), "initial state gradient " + state));
      }
      for (int i = 0; i < scan.parameters().size(); i++) {
        int p = i;
        checks.add(() -> assertArrayEquals(LstmCell.f32(java[0].grads.get(p)),
            LstmCell.f32(kernels.grads.get(p)), scan.parameters().get(p).name()));
      }
      assertAll(checks);
    }

    @ParameterizedTest(name = "lstm({0}, {1}), reverse {2}, lengths {3}")
    @CsvSource({"16, 32, false, false", "70, 48, true, false", "16, 32, false, true",
        "9, 64, true, true", "16, 40, false, false"})
    void writesTheSavedBlocksAlignedWithTheBitsOfPlainStores(int in, int hidden, boolean reverse,
        boolean ragged) {
      // A recorded run aligns its saved blocks to 64 bytes and the fused kernel writes them with
      // streaming stores (H a multiple of 16; H = 40 stores as usual either way); off the
      // boundary, plain stores. The same numbers forward and backward, bit for bit.
      assumeTrue(Native.isa() == Native.Isa.AVX512, Native.describe());
      Scan scan = new Scan(new LstmCell(in, hidden), Scan.Direction.of(reverse), "",
          DType.FLOAT32, Scan.Biases.BOTH);
      scan.initialize(new Random(8));
      int seq = 5;
      int batch = 13;
      Random rnd = new Random(9);
      Storage x = random(rnd, seq * batch * in);
      Storage[] init = {random(rnd, batch * hidden), random(rnd, batch * hidden)};
      Storage[] dFinal = {random(rnd, batch * hidden), random(rnd, batch * hidden)};
      Storage dOut = random(rnd, seq * batch * hidden);
      Lengths lengths = ragged ? Lengths.of(5, 1, 3, 5, 2, 4, 5, 1, 2, 3, 4, 5, 5) : null;
      Pass[] plain = new Pass[1];
      Scan.unaligned(() -> plain[0] = pass(scan, x, seq, batch, init, lengths, dOut, dFinal));
      Pass streamed = pass(scan, x, seq, batch, init, lengths, dOut, dFinal);
      List<Executable> checks = new ArrayList<>();
      checks.add(same("output", plain[0].out, streamed.out));
      checks.add(same("input gradient", plain[0].dx, streamed.dx));
      for (int k = 0; k < 2; k++) {
        checks.add(same("final state " + k, plain[0].finals[k], streamed.finals[k]));
        checks.add(same("initial state gradient " + k, plain[0].dInit[k], streamed.dInit[k]));
      }
      for (int i = 0; i < scan.parameters().size(); i++) {
        checks.add(same("gradient of " + scan.parameters().get(i).name(), plain[0].grads.get(i),
            streamed.grads.get(i)));
      }
      assertAll(checks);
    }

    @Test
    void findsTheFirstElementAtA64ByteBoundary() {
      assumeTrue(Native.enabled(), Native.describe());
      // A humongous array (G1) does not move: the index is the same at every call.
      float[] a = new float[1 << 22];
      int index = Native.alignment(a);
      assertAll(
          () -> assertTrue(index >= 0 && index < 16, "index " + index),
          () -> assertEquals(index, Native.alignment(a)));
    }

    private Storage[] finalStates(Scan scan, Storage x, int batch, Storage[] init) {
      Scan.Run run = scan.forward(x, 1, batch, init, false);
      Storage[] out = new Storage[2];
      for (int k = 0; k < 2; k++) {
        out[k] = Storage.allocate(DType.FLOAT32, init[k].length());
        run.copyFinalState(k, out[k], 0);
      }
      run.release();
      return out;
    }

    @Test
    void aCellThatDeclaresItWithoutTheLstmShapesIsRefused() {
      Cell odd = spy(new GruCell(2, 3));
      doAnswer(inv -> Cell.Kernel.LSTM).when(odd).kernel();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new Scan(odd, Scan.Direction.FORWARD, "", DType.FLOAT32, Scan.Biases.BOTH));
      assertEquals("gru(2, 3) declares the LSTM kernel, which expects summed projections, 2 states,"
          + " G = 4H and S = 5H but got SEPARATE, 1 states, G = 9, S = " + odd.savedSize(),
          e.getMessage());
    }
  }

  @Nested
  class ThePackedProduct {
    static Stream<Arguments> shapes() {
      // M, N, K: one row, a few, more than a tile (6) and than a panel (64); odd sizes.
      return Stream.of(Arguments.of(1, 1, 1), Arguments.of(1, 17, 5), Arguments.of(2, 64, 64),
          Arguments.of(5, 63, 7), Arguments.of(6, 65, 129), Arguments.of(7, 128, 33),
          Arguments.of(13, 200, 31), Arguments.of(64, 1024, 256), Arguments.of(3, 513, 600),
          Arguments.of(37, 130, 1));
    }

    @ParameterizedTest(name = "M={0} N={1} K={2}")
    @MethodSource("shapes")
    void equalsBlasInEveryMode(int m, int n, int k) {
      assumeTrue(Native.enabled(), Native.describe());
      Random rnd = new Random(m * 31 + n * 7 + k);
      Storage w = random(rnd, n * k);        // [N, K]: op(W) = W^T
      Storage wt = random(rnd, k * n);       // [K, N]: op(W) = W
      int lda = k + 3;                       // A is a block of a wider matrix
      Storage a = random(rnd, m * lda + 1);
      Storage src = random(rnd, m * n);
      Storage bias = random(rnd, n);
      Storage c0 = random(rnd, m * n);
      List<Executable> checks = new ArrayList<>();
      for (boolean trans : new boolean[] {true, false}) {
        PackedWeight p = PackedWeight.of(trans ? w : wt, trans, n, k);
        for (PackedWeight.Init init : PackedWeight.Init.values()) {
          for (boolean row : new boolean[] {false, true}) {
            if (row && init != PackedWeight.Init.SOURCE) {
              continue;
            }
            Storage s = row ? bias : src;
            Storage expected = blas(m, n, k, a, lda, trans ? w : wt, trans, init, s, row ? 0 : n,
                c0);
            Storage actual = c0.copy();
            p.multiply(m, a, 1, lda, init, s, 0, row ? 0 : n, actual, 0, n);
            checks.add(close((trans ? "A W^T, " : "A W, ") + init + (row ? " (one row)" : ""),
                expected, actual));
          }
        }
      }
      assertAll(checks);
    }

    /** {@code init + A op(W)} through {@link Storage#gemm}, A at offset 1. */
    private Storage blas(int m, int n, int k, Storage a, int lda, Storage w, boolean trans,
        PackedWeight.Init init, Storage s, int lds, Storage c0) {
      Storage c = c0.copy();
      switch (init) {
        case ZERO -> c.fill(0, m * n, 0);
        case ACCUMULATE -> { }
        case SOURCE -> {
          for (int r = 0; r < m; r++) {
            c.copyFrom(s, r * lds, r * n, n);
          }
        }
        default -> throw new AssertionError(init);
      }
      c.gemm(false, trans, m, n, k, 1, a, 1, lda, w, 0, trans ? k : n, 1, 0, n);
      return c;
    }

    @ParameterizedTest(name = "M={0}")
    @ValueSource(ints = {1, 59, 60, 61, 200})
    void multipliesManyRowsByBlocksWithTheBitsOfOneProduct(int m) {
      // The sums of each element are those of one product, whatever the blocks of rows.
      assumeTrue(Native.enabled(), Native.describe());
      int n = 70;
      int k = 45;
      Random rnd = new Random(m);
      Storage wt = random(rnd, k * n);
      Storage a = random(rnd, m * k + 2);
      Storage c0 = random(rnd, m * n + 3);
      PackedWeight p = PackedWeight.of(wt, false, n, k);
      List<Executable> checks = new ArrayList<>();
      for (PackedWeight.Init init : List.of(PackedWeight.Init.ZERO,
          PackedWeight.Init.ACCUMULATE)) {
        Storage expected = c0.copy();
        p.multiply(m, a, 2, k, init, null, 0, 0, expected, 3, n);
        Storage actual = c0.copy();
        p.multiplyRows(m, a, 2, k, init, actual, 3, n);
        checks.add(same(init.toString(), expected, actual));
      }
      assertAll(checks);
    }

    @ParameterizedTest(name = "{0} x {1}")
    @CsvSource({"300, 250", "1000, 70", "65536, 1", "2, 40000"})
    void sumsColumnsWithTheBitsOfJava(int rows, int cols) {
      // A bias gradient over a sequence: the same float additions, rows in order, per column.
      assumeTrue(Native.enabled(), Native.describe());
      Random rnd = new Random(rows + cols);
      Storage m = random(rnd, rows * cols + 5);
      Storage start = random(rnd, cols + 3);
      Storage expected = start.copy();
      Native.without(() -> expected.addColumnSums(m, 5, rows, cols, 3));
      Storage actual = start.copy();
      actual.addColumnSums(m, 5, rows, cols, 3);
      assertAll(same("column sums", expected, actual));
    }

    @ParameterizedTest(name = "I={0} H={1} K={2}")
    @CsvSource({"64, 256, 256", "3, 7, 5", "70, 33, 33", "1, 16, 17", "16, 40, 11"})
    void packsInputAndHiddenWeightsByGatesAsTheLayoutSays(int in, int hidden, int k) {
      // [W_ih | W_hh]^T by gates: panel p, depth d, column 16q + j holds unit
      // 16p + j of gate q (zero past H), from W_ih for d < I, else from W_hh; the bias after.
      assumeTrue(Native.isa() == Native.Isa.AVX512, Native.describe());
      Random rnd = new Random(in * 31 + hidden * 7 + k);
      Storage wih = random(rnd, 4 * hidden * in);
      Storage whh = random(rnd, 4 * hidden * k);
      Storage bias = random(rnd, 4 * hidden);
      Storage packed = PackedWeight.ofGates(wih, in, whh, hidden, k, bias).packed();
      int panels = (hidden + 15) / 16;
      int depth = in + k;
      Storage expected = Storage.allocate(DType.FLOAT32, panels * 64 * depth + 4 * hidden);
      for (int p = 0; p < panels; p++) {
        for (int d = 0; d < depth; d++) {
          for (int col = 0; col < 64; col++) {
            int u = 16 * p + col % 16;
            int row = (col / 16) * hidden + u;
            expected.set((p * depth + d) * 64 + col, u >= hidden ? 0
                : d < in ? wih.get(row * in + d) : whh.get(row * k + d - in));
          }
        }
      }
      expected.copyFrom(bias, 0, panels * 64 * depth, 4 * hidden);
      assertAll(same("packed [W_ih | W_hh]^T", expected, packed));
    }

    @Test
    void aGateWeightIsNotMultipliedAsAPlainOne() {
      assumeTrue(Native.enabled(), Native.describe());
      PackedWeight p = PackedWeight.ofGates(random(new Random(1), 4 * 3 * 2), 3, 2);
      Storage c = Storage.allocate(DType.FLOAT32, 12);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> p.multiply(1, c, 0, 2, PackedWeight.Init.ZERO, null, 0, 0, c, 0, 12));
      assertEquals("multiply expected a weight packed by of(...), not by ofGates", e.getMessage());
    }
  }

  @Nested
  class AScanWithTheKernels {
    static Stream<Arguments> scans() {
      List<Arguments> all = new ArrayList<>();
      List<Arguments> cells = List.of(
          Arguments.of("elman tanh 7->33", (Supplier<Cell>) () -> new ElmanCell(7, 33,
              Activation.TANH), 0),
          Arguments.of("elman relu 5->64", (Supplier<Cell>) () -> new ElmanCell(5, 64,
              Activation.RELU), 0),
          Arguments.of("lstm 9->17", (Supplier<Cell>) () -> new LstmCell(9, 17), 0),
          Arguments.of("lstm 6->40", (Supplier<Cell>) () -> new LstmCell(6, 40), 0),
          // An input wider than the state: the fused step projects x_t itself (depths I + H).
          Arguments.of("lstm 70->33", (Supplier<Cell>) () -> new LstmCell(70, 33), 0),
          Arguments.of("lstm 6->40, projection 11", (Supplier<Cell>) () -> new LstmCell(6, 40),
              11),
          Arguments.of("peephole lstm 4->19", (Supplier<Cell>) () -> new PeepholeLstmCell(4, 19),
              0),
          Arguments.of("gru 5->23", (Supplier<Cell>) () -> new GruCell(5, 23), 0));
      for (Arguments a : cells) {
        for (boolean reverse : new boolean[] {false, true}) {
          for (boolean ragged : new boolean[] {false, true}) {
            Object[] o = a.get();
            all.add(Arguments.of(o[0] + (reverse ? ", reverse" : "") + (ragged ? ", lengths"
                : ""), o[1], o[2], reverse, ragged));
          }
        }
      }
      return all.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scans")
    void givesTheBlasPathsOutputsStatesAndGradients(String name, Supplier<Cell> factory,
        int projection, boolean reverse, boolean ragged) {
      Cell cell = factory.get();
      Scan scan = new Scan(cell, Scan.Direction.of(reverse), "", DType.FLOAT32,
          Scan.Biases.BOTH, projection);
      scan.initialize(new Random(3));
      int seq = 9;
      // Lengths 9..1 and a 0: the active batch shrinks to one row, and to none.
      int[] lengths = {4, 9, 1, 7, 9, 2, 6, 3, 8, 5, 0, 9, 1};
      int batch = lengths.length;
      Random rnd = new Random(5);
      Storage x = random(rnd, seq * batch * cell.inputSize());
      Storage[] init = new Storage[cell.stateCount()];
      Storage[] dFinal = new Storage[cell.stateCount()];
      for (int k = 0; k < init.length; k++) {
        init[k] = random(rnd, batch * scan.stateSize(k));
        dFinal[k] = random(rnd, batch * scan.stateSize(k));
      }
      Storage dOut = random(rnd, seq * batch * scan.outputSize());
      Lengths l = ragged ? Lengths.of(lengths) : null;
      Pass[] blas = new Pass[1];
      Native.without(() -> blas[0] = pass(scan, x, seq, batch, init, l, dOut, dFinal));
      Pass kernels = pass(scan, x, seq, batch, init, l, dOut, dFinal);
      List<Executable> checks = new ArrayList<>();
      checks.add(close("output", blas[0].out, kernels.out));
      checks.add(close("input gradient", blas[0].dx, kernels.dx));
      for (int k = 0; k < init.length; k++) {
        checks.add(close("final state " + k, blas[0].finals[k], kernels.finals[k]));
        checks.add(close("initial state gradient " + k, blas[0].dInit[k], kernels.dInit[k]));
      }
      for (int i = 0; i < scan.parameters().size(); i++) {
        checks.add(close("gradient of " + scan.parameters().get(i).name(), blas[0].grads.get(i),
            kernels.grads.get(i)));
      }
      assertAll(checks);
    }
  }

  @Nested
  class ALargeScan {
    static Stream<Arguments> scans() {
      return Stream.of(
          Arguments.of("lstm 8->300", (Supplier<Cell>) () -> new LstmCell(8, 300), 0, false),
          Arguments.of("lstm 8->300, lengths", (Supplier<Cell>) () -> new LstmCell(8, 300), 0,
              true),
          Arguments.of("lstm 8->300, projection 200", (Supplier<Cell>) () -> new LstmCell(8, 300),
              200, false),
          Arguments.of("gru 8->280", (Supplier<Cell>) () -> new GruCell(8, 280), 0, false),
          Arguments.of("elman 8->600", (Supplier<Cell>) () -> new ElmanCell(8, 600,
              Activation.TANH), 0, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scans")
    void givesTheBlasPathsNumbersWhenItsProductsAreShared(String name, Supplier<Cell> factory,
        int projection, boolean ragged) {
      // Products of 64 rows x G x P >= PackedWeight.PARALLEL_MIN: with two threads
      // (Native.threads()) this thread and the worker take their panels, or (an LSTM's backward
      // step) their blocks of rows; with lengths 1..3 the steps run 64, 43 and 22 rows.
      LargeScan large = new LargeScan(factory.get(), projection, ragged, 3, 5);
      Scan scan = large.scan;
      Pass[] blas = new Pass[1];
      Native.without(() -> blas[0] = large.pass());
      Pass kernels = large.pass();
      List<Executable> checks = new ArrayList<>();
      checks.add(close("output", blas[0].out, kernels.out));
      checks.add(close("input gradient", blas[0].dx, kernels.dx));
      for (int i = 0; i < scan.parameters().size(); i++) {
        checks.add(close("gradient of " + scan.parameters().get(i).name(), blas[0].grads.get(i),
            kernels.grads.get(i)));
      }
      assertAll(checks);
    }
  }

  @Nested
  class TwoThreads {
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.rnn.core.NativeTest$ALargeScan#scans")
    void giveTheBitsOfOneThread(String name, Supplier<Cell> factory, int projection,
        boolean ragged) {
      // Each panel (or block of rows) is computed whole by one thread, in the same order of
      // sums: the split between this thread and the worker changes no bit.
      LargeScan large = new LargeScan(factory.get(), projection, ragged, 7, 11);
      Scan scan = large.scan;
      Storage[] init = large.init;
      Pass[] one = new Pass[1];
      PackedWeight.alone(() -> one[0] = large.pass());
      Pass two = large.pass();
      List<Executable> checks = new ArrayList<>();
      checks.add(same("output", one[0].out, two.out));
      checks.add(same("input gradient", one[0].dx, two.dx));
      for (int k = 0; k < init.length; k++) {
        checks.add(same("final state " + k, one[0].finals[k], two.finals[k]));
        checks.add(same("initial state gradient " + k, one[0].dInit[k], two.dInit[k]));
      }
      for (int i = 0; i < scan.parameters().size(); i++) {
        checks.add(same("gradient of " + scan.parameters().get(i).name(), one[0].grads.get(i),
            two.grads.get(i)));
      }
      assertAll(checks);
    }

    @Test
    void shareEveryPanelOnceFromBothEnds() {
      // A shared job: this thread from the front, the worker from the back; each panel once,
      // whichever thread is late. Repeated, so that the worker takes part in some of them.
      int panels = 37;
      for (int round = 0; round < 50; round++) {
        AtomicIntegerArray runs = new AtomicIntegerArray(panels);
        PackedWeight.share(PackedWeight.PARALLEL_MIN, panels, (p0, p1) -> {
          for (int p = p0; p < p1; p++) {
            runs.incrementAndGet(p);
          }
        });
        for (int p = 0; p < panels; p++) {
          assertEquals(1, runs.get(p), "round " + round + ", panel " + p);
        }
      }
    }

    @Test
    void reportsAPanelThatFailedOnEitherThread() {
      int panels = 8;
      // Shared: the worker's failure, or this thread's, ends the job as an IllegalStateException
      // naming it; alone (one thread, or the worker busy): the failure itself.
      RuntimeException e = assertThrows(RuntimeException.class,
          () -> PackedWeight.share(PackedWeight.PARALLEL_MIN, panels, (p0, p1) -> {
            if (p0 <= 3 && 3 < p1) {
              throw new ArithmeticException("panel 3");
            }
          }));
      assertTrue(e.getMessage().contains("panel 3"), e.getMessage());
    }
  }

  private static Executable same(String what, Storage expected, Storage actual) {
    return () -> {
      assertEquals(expected.length(), actual.length(), what + " length");
      for (int i = 0; i < expected.length(); i++) {
        int at = i;
        assertEquals(Double.doubleToLongBits(expected.get(i)),
            Double.doubleToLongBits(actual.get(i)), () -> what + " differs at " + at
                + ": one thread " + expected.get(at) + ", two " + actual.get(at));
      }
    };
  }

  /** The results of one forward and backward pass. */
  /**
   * A float32 scan of 3 steps over 64 rows, large enough for its products to be shared between
   * two threads, with random weights, input, initial state and output gradient (lengths 1..3 when
   * ragged: steps of 64, 43 and 22 rows).
   */
  private static final class LargeScan {
    final Scan scan;
    final Storage x;
    final Storage[] init;
    final Storage dOut;
    final Lengths lengths;
    static final int SEQ = 3;
    static final int BATCH = 64;

    LargeScan(Cell cell, int projection, boolean ragged, long weightSeed, long dataSeed) {
      scan = new Scan(cell, Scan.Direction.FORWARD, "", DType.FLOAT32, Scan.Biases.BOTH,
          projection);
      scan.initialize(new Random(weightSeed));
      Random rnd = new Random(dataSeed);
      x = random(rnd, SEQ * BATCH * cell.inputSize());
      init = new Storage[cell.stateCount()];
      for (int k = 0; k < init.length; k++) {
        init[k] = random(rnd, BATCH * scan.stateSize(k));
      }
      dOut = random(rnd, SEQ * BATCH * scan.outputSize());
      int[] l = new int[BATCH];
      for (int n = 0; n < BATCH; n++) {
        l[n] = 1 + n % 3;
      }
      lengths = ragged ? Lengths.of(l) : null;
    }

    /** {@return a forward and backward pass of the scan, on the threads and kernels in force} */
    Pass pass() {
      return NativeTest.pass(scan, x, SEQ, BATCH, init, lengths, dOut, null);
    }
  }

  private record Pass(Storage out, Storage[] finals, List<Storage> grads, Storage dx,
      Storage[] dInit) {}

  private static Pass pass(Scan scan, Storage x, int seq, int batch, Storage[] init,
      Lengths lengths, Storage dOut, Storage[] dFinal) {
    for (Parameter p : scan.parameters()) {
      p.zeroGrad();
    }
    int w = scan.outputSize();
    Scan.Run run = scan.forward(x, seq, batch, init, true, 0, lengths);
    Storage out = Storage.allocate(DType.FLOAT32, seq * batch * w);
    run.copyOutput(out, 0, w);
    Storage[] finals = new Storage[init.length];
    Storage[] dInit = new Storage[init.length];
    for (int k = 0; k < init.length; k++) {
      finals[k] = Storage.allocate(DType.FLOAT32, batch * scan.stateSize(k));
      run.copyFinalState(k, finals[k], 0);
      dInit[k] = Storage.allocate(DType.FLOAT32, batch * scan.stateSize(k));
    }
    Scan.Backward back = run.backward(dFinal);
    for (int p = seq - 1; p >= 0; p--) {
      back.step(p, dOut, 0, w);
    }
    Storage dx = Storage.allocate(DType.FLOAT32, x.length());
    back.finish(dx, dInit);
    List<Storage> grads = new ArrayList<>();
    for (Parameter p : scan.parameters()) {
      grads.add(p.grad().copy());
    }
    return new Pass(out, finals, grads, dx, dInit);
  }

  private static Executable close(String what, Storage expected, Storage actual) {
    return () -> {
      assertEquals(expected.length(), actual.length(), what + " length");
      double worst = 0;
      int at = -1;
      for (int i = 0; i < expected.length(); i++) {
        double e = Math.abs(expected.get(i) - actual.get(i)) / (1 + Math.abs(expected.get(i)));
        if (!(e <= worst)) {
          worst = e;
          at = i;
        }
      }
      double w = worst;
      int i = at;
      assertTrue(w <= TOLERANCE, () -> what + " differs by " + w + " (relative) at " + i
          + ": BLAS " + expected.get(i) + ", kernels " + actual.get(i));
    };
  }

  private static Storage random(Random rnd, int n) {
    Storage s = Storage.allocate(DType.FLOAT32, n);
    for (int i = 0; i < n; i++) {
      s.set(i, rnd.nextGaussian() * 0.5);
    }
    return s;
  }
}
