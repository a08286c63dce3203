package dev.rnn.core;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.collect.ImmutableMap;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Review tests: cases of rnn-core that no other test covered. */
class CoreReviewTest {

  @Nested
  class FastFloat32Activations {
    /** Every 127th float of each sign, from 0 to infinity: about 17 million values per sign. */
    private static final int STRIDE = 127;

    @Test
    void tanhIsWithin4e7AbsoluteAnd4e7RelativeOfMathTanhOverTheWholeFloatRange() {
      double maxAbs = 0;
      double maxRel = 0;
      float worstAbs = 0;
      float worstRel = 0;
      for (int bits = 0; bits < 0x7f800000; bits += STRIDE) {
        for (float x : new float[] {Float.intBitsToFloat(bits), -Float.intBitsToFloat(bits)}) {
          double exact = Math.tanh(x);
          double err = Math.abs(Activation.tanh(x) - exact);
          double rel = exact == 0 ? err : err / Math.abs(exact);
          if (err > maxAbs) {
            maxAbs = err;
            worstAbs = x;
          }
          if (rel > maxRel) {
            maxRel = rel;
            worstRel = x;
          }
        }
      }
      double abs = maxAbs;
      double rel = maxRel;
      float atAbs = worstAbs;
      float atRel = worstRel;
      assertAll(
          () -> assertTrue(abs < 4e-7, "max abs error " + abs + " at " + atAbs),
          () -> assertTrue(rel < 4e-7, "max rel error " + rel + " at " + atRel));
    }

    @ParameterizedTest(name = "x = {0}")
    @ValueSource(floats = {Float.MIN_VALUE, 3 * Float.MIN_VALUE, 1e-40f, 1.1e-38f,
        Float.MIN_NORMAL, 1e-30f, 1e-10f, 1e-5f})
    void tanhOfATinyOrSubnormalXIsXToWithinRounding(float x) {
      assertAll(
          () -> assertEquals(x, Activation.tanh(x), 2e-7 * x),
          () -> assertEquals(-x, Activation.tanh(-x), 2e-7 * x));
    }

    @Test
    void tanhKeepsTheSignOfZero() {
      assertAll(
          () -> assertEquals(Float.floatToRawIntBits(0f),
              Float.floatToRawIntBits(Activation.tanh(0f))),
          () -> assertEquals(Float.floatToRawIntBits(-0f),
              Float.floatToRawIntBits(Activation.tanh(-0f))));
    }

    @ParameterizedTest(name = "x = {0}")
    @ValueSource(floats = {7.9321971f, 8, 9, 20, 21, 100, 1e10f, Float.MAX_VALUE,
        Float.POSITIVE_INFINITY})
    void tanhAndSigmoidSaturateExactly(float x) {
      assertAll(
          () -> assertEquals(1f, Activation.tanh(x)),
          () -> assertEquals(-1f, Activation.tanh(-x)),
          () -> assertEquals(1f, Activation.sigmoidFast(Math.max(2 * x, 40f))),
          () -> assertEquals(0f, Activation.sigmoidFast(-Math.max(2 * x, 40f))));
    }

    @Test
    void nanPropagatesThroughTanhSigmoidAndTheInPlaceLoops() {
      float[] a = {Float.NaN, 1, Float.NaN};
      float[] b = a.clone();
      Activation.tanhInPlace(a, 0, 3);
      Activation.sigmoidInPlace(b, 0, 3);
      assertAll(
          () -> assertTrue(Float.isNaN(Activation.tanh(Float.NaN))),
          () -> assertTrue(Float.isNaN(Activation.sigmoidFast(Float.NaN))),
          () -> assertTrue(Float.isNaN(a[0]) && Float.isNaN(a[2]) && !Float.isNaN(a[1])),
          () -> assertTrue(Float.isNaN(b[0]) && Float.isNaN(b[2]) && !Float.isNaN(b[1])));
    }

    @Test
    void sigmoidIsWithin2e7AbsoluteOfTheExactOneAndInsideZeroOne() {
      double maxAbs = 0;
      float worst = 0;
      boolean inRange = true;
      for (int bits = 0; bits < 0x7f800000; bits += 4 * STRIDE) {
        for (float x : new float[] {Float.intBitsToFloat(bits), -Float.intBitsToFloat(bits)}) {
          float s = Activation.sigmoidFast(x);
          inRange &= s >= 0 && s <= 1;
          double err = Math.abs(s - Activation.sigmoid((double) x));
          if (err > maxAbs) {
            maxAbs = err;
            worst = x;
          }
        }
      }
      double abs = maxAbs;
      float at = worst;
      boolean range = inRange;
      assertAll(
          () -> assertTrue(abs < 2e-7, "max abs error " + abs + " at " + at),
          () -> assertTrue(range, "a value outside [0, 1]"));
    }

    @Test
    void fusedMultiplyAddsAreUsedWhereTheJvmHasThem() {
      // The native kernels run only on processors with FMA and repeat the fused operations.
      assertTrue(Activation.FUSED || System.getProperty("rnn.fma") != null,
          "Math.fma is not one instruction in this JVM");
    }

    @Test
    void withoutFusedMultiplyAddsTanhAndSigmoidKeepTheSameBoundsAndSaturateExactly() {
      // The fallback for a JVM without FMA instructions (separate roundings, Eigen's clamp).
      double maxTanh = 0;
      double maxSigmoid = 0;
      for (int bits = 0; bits < 0x7f800000; bits += 4 * STRIDE) {
        for (float x : new float[] {Float.intBitsToFloat(bits), -Float.intBitsToFloat(bits)}) {
          double exact = Math.tanh(x);
          double err = Math.abs(Activation.tanh(x, false) - exact);
          maxTanh = Math.max(maxTanh, exact == 0 ? err : Math.max(err, err / Math.abs(exact)));
          maxSigmoid = Math.max(maxSigmoid,
              Math.abs(Activation.sigmoidFast(x, false) - Activation.sigmoid((double) x)));
        }
      }
      double tanh = maxTanh;
      double sigmoid = maxSigmoid;
      assertAll(
          () -> assertTrue(tanh < 4e-7, "max tanh error " + tanh),
          () -> assertTrue(sigmoid < 2e-7, "max sigmoid error " + sigmoid),
          () -> assertEquals(1f, Activation.tanh(7.9053111f, false)),
          () -> assertEquals(-1f, Activation.tanh(Float.NEGATIVE_INFINITY, false)),
          () -> assertEquals(1f, Activation.sigmoidFast(40f, false)),
          () -> assertEquals(0f, Activation.sigmoidFast(-40f, false)),
          () -> assertTrue(Float.isNaN(Activation.tanh(Float.NaN, false))));
    }

    @Test
    void sigmoidIsRelativelyAccurateWhereItIsNotSmall() {
      // Relative accuracy holds where the value is at least 1e-3 (x >= -6.9); below, the error
      // is absolute (documented): 0.5 + 0.5 * tanh(x / 2) cancels.
      double maxRel = 0;
      for (float x = -6.9f; x < 20; x += 1e-3f) {
        double exact = Activation.sigmoid((double) x);
        maxRel = Math.max(maxRel, Math.abs(Activation.sigmoidFast(x) - exact) / exact);
      }
      assertTrue(maxRel < 2e-4, "max rel error " + maxRel);
    }
  }

  // ---- cells in float32 against float64 ---------------------------------------------------

  static Stream<Arguments> cells() {
    return Stream.of(
        Arguments.of("elman tanh", (Supplier<Cell>) () -> new ElmanCell(5, 8, Activation.TANH)),
        Arguments.of("elman relu", (Supplier<Cell>) () -> new ElmanCell(5, 8, Activation.RELU)),
        Arguments.of("elman sigmoid",
            (Supplier<Cell>) () -> new ElmanCell(5, 8, Activation.SIGMOID)),
        Arguments.of("lstm", (Supplier<Cell>) () -> new LstmCell(5, 8)),
        Arguments.of("gru", (Supplier<Cell>) () -> new GruCell(5, 8)),
        Arguments.of("peephole lstm", (Supplier<Cell>) () -> new PeepholeLstmCell(5, 8)),
        Arguments.of("elman tanh 1x1", (Supplier<Cell>) () -> new ElmanCell(1, 1, Activation.TANH)),
        Arguments.of("lstm 1x1", (Supplier<Cell>) () -> new LstmCell(1, 1)),
        Arguments.of("gru 1x1", (Supplier<Cell>) () -> new GruCell(1, 1)),
        Arguments.of("peephole lstm 1x1", (Supplier<Cell>) () -> new PeepholeLstmCell(1, 1)));
  }

  /** Outputs, final states and every gradient of one forward and backward run, by name. */
  private static Map<String, Storage> run(Cell cell, DType dtype, boolean reverse, int seq,
      int batch, long seed) {
    Scan scan = new Scan(cell, Scan.Direction.of(reverse), "", dtype, Scan.Biases.BOTH);
    Random rnd = new Random(seed);
    for (Parameter p : scan.parameters()) {
      p.data().copyFrom(gaussian(rnd, p.size(), 0.5).to(dtype), 0, 0, p.size());
    }
    int h = cell.hiddenSize();
    Storage x = gaussian(rnd, seq * batch * cell.inputSize(), 1).to(dtype);
    Storage[] init = new Storage[cell.stateCount()];
    for (int k = 0; k < init.length; k++) {
      init[k] = gaussian(rnd, batch * h, 1).to(dtype);
    }
    Storage gOut = gaussian(rnd, seq * batch * h, 1).to(dtype);
    Storage gState = gaussian(rnd, batch * h, 1).to(dtype);

    Scan.Run run = scan.forward(x, seq, batch, init, true);
    Map<String, Storage> r = new LinkedHashMap<>();
    Storage out = Storage.allocate(dtype, seq * batch * h);
    run.copyOutput(out, 0, h);
    r.put("output", out);
    for (int k = 0; k < init.length; k++) {
      Storage s = Storage.allocate(dtype, batch * h);
      run.copyFinalState(k, s, 0);
      r.put("final state " + k, s);
    }
    Scan.Backward back = run.backward(new Storage[] {gState});
    for (int p = seq - 1; p >= 0; p--) {
      back.step(p, gOut, 0, h);
    }
    Storage dx = Storage.allocate(dtype, x.length());
    Storage[] dInit = new Storage[init.length];
    for (int k = 0; k < init.length; k++) {
      dInit[k] = Storage.allocate(dtype, batch * h);
    }
    back.finish(dx, dInit);
    for (int k = 0; k < init.length; k++) {
      r.put("d initial state " + k, dInit[k]);
    }
    r.put("d input", dx);
    for (Parameter p : scan.parameters()) {
      r.put("d " + p.name(), p.grad());
    }
    return r;
  }

  private static Storage gaussian(Random rnd, int n, double scale) {
    Storage s = Storage.allocate(DType.FLOAT64, n);
    for (int i = 0; i < n; i++) {
      s.set(i, scale * rnd.nextGaussian());
    }
    return s;
  }

  /** {@code max |a - b| / max |b|}, or the plain difference where b is all zero. */
  private static double relativeError(Storage a, Storage b) {
    double diff = 0;
    double scale = 0;
    for (int i = 0; i < b.length(); i++) {
      diff = Math.max(diff, Math.abs(a.get(i) - b.get(i)));
      scale = Math.max(scale, Math.abs(b.get(i)));
    }
    return scale == 0 ? diff : diff / scale;
  }

  @ParameterizedTest(name = "{0}, reverse {2}, seq {3}, batch {4}")
  @MethodSource("agreementCases")
  void float32AgreesWithFloat64ForwardAndBackward(String name, Supplier<Cell> cell,
      boolean reverse, int seq, int batch) {
    Map<String, Storage> f64 = run(cell.get(), DType.FLOAT64, reverse, seq, batch, 3);
    Map<String, Storage> f32 = run(cell.get(), DType.FLOAT32, reverse, seq, batch, 3);
    List<Executable> checks = new ArrayList<>();
    for (String k : f64.keySet()) {
      checks.add(() -> {
        double e = relativeError(f32.get(k), f64.get(k));
        assertTrue(e < 2e-5, name + " " + k + ": float32 differs from float64 by " + e);
      });
    }
    assertAll(checks);
  }

  static Stream<Arguments> agreementCases() {
    return cells().flatMap(c -> Stream.of(
        Arguments.of(c.get()[0], c.get()[1], false, 6, 3),
        Arguments.of(c.get()[0], c.get()[1], true, 6, 3),
        Arguments.of(c.get()[0], c.get()[1], false, 1, 1)));
  }

  @Nested
  class ScanOfOneStepOneSampleOneUnit {
    @Test
    void elmanIsTheEquationByHand() {
      Scan scan = new Scan(new ElmanCell(1, 1, Activation.TANH), Scan.Direction.FORWARD, "",
          DType.FLOAT64, Scan.Biases.BOTH);
      double[] w = {0.3, -0.7, 0.11, -0.05}; // w_ih, w_hh, b_ih, b_hh
      for (int i = 0; i < 4; i++) {
        scan.parameters().get(i).data().set(0, w[i]);
      }
      Storage x = Storage.wrap(new double[] {1.5});
      Storage h0 = Storage.wrap(new double[] {-0.4});
      Scan.Run run = scan.forward(x, 1, 1, new Storage[] {h0}, true);
      Storage out = Storage.allocate(DType.FLOAT64, 1);
      run.copyOutput(out, 0, 1);
      double h = Math.tanh(0.3 * 1.5 + 0.11 + -0.7 * -0.4 - 0.05);
      Scan.Backward back = run.backward(null);
      back.step(0, Storage.wrap(new double[] {1}), 0, 1);
      double dz = 1 - h * h;
      Storage dx = Storage.allocate(DType.FLOAT64, 1);
      Storage dInit = Storage.allocate(DType.FLOAT64, 1);
      back.finish(dx, new Storage[] {dInit});
      double dh0 = dInit.get(0);
      assertAll(
          () -> assertEquals(h, out.get(0), 1e-15),
          () -> assertEquals(dz * -0.7, dh0, 1e-15),
          () -> assertEquals(dz * 0.3, dx.get(0), 1e-15),
          () -> assertEquals(dz * 1.5, scan.parameters().get(0).grad().get(0), 1e-15),
          () -> assertEquals(dz * -0.4, scan.parameters().get(1).grad().get(0), 1e-15),
          () -> assertEquals(dz, scan.parameters().get(2).grad().get(0), 1e-15),
          () -> assertEquals(dz, scan.parameters().get(3).grad().get(0), 1e-15));
    }
  }

  // ---- Stack.step ----------------------------------------------------------------

  static Stream<Arguments> stackCases() {
    List<Arguments> cases = new ArrayList<>();
    for (Stack.Mode mode : Stack.Mode.values()) {
      for (int layers : new int[] {1, 3}) {
        for (DType dtype : DType.values()) {
          for (boolean bias : new boolean[] {true, false}) {
            cases.add(Arguments.of(mode, layers, dtype, bias));
          }
        }
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}, {1} layers, {2}, bias {3}")
  @MethodSource("stackCases")
  void stepEqualsForwardOverOneStepAndChainsToForwardOverASequence(Stack.Mode mode,
      int layers, DType dtype, boolean bias) {
    int in = 3;
    int hidden = 4;
    int batch = 2;
    int seq = 5;
    Stack stack = new Stack(TorchModule.of(mode, in, hidden).numLayers(layers).bias(bias)
        .dtype(dtype))
        .initialize(17);
    Tensor x = Tensor.randn(dtype, 1, seq, batch, in);
    Tensor h0 = Tensor.randn(dtype, 2, layers, batch, hidden);
    Tensor c0 = mode == Stack.Mode.LSTM ? Tensor.randn(dtype, 3, layers, batch, hidden)
        : null;

    Stack.Result one = stack.forward(x.slice(0, 0, 1), false, h0, c0);
    Stack.Result step = stack.step(x.select(0, 0), h0, c0);

    Stack.Result all = stack.forward(x, false, h0, c0);
    List<Tensor> outs = new ArrayList<>();
    Tensor h = h0;
    Tensor c = c0;
    for (int t = 0; t < seq; t++) {
      Stack.Result r = stack.step(x.select(0, t), h, c);
      outs.add(r.output().reshape(1, batch, hidden));
      h = r.hN();
      c = r.cN();
    }
    Tensor chained = Tensor.concat(0, outs);
    Tensor hLast = h;
    Tensor cLast = c;
    double tol = dtype == DType.FLOAT64 ? 1e-14 : 1e-6;
    assertAll(
        () -> assertTrue(step.output().allClose(one.output().reshape(batch, hidden), tol, 0)),
        () -> assertTrue(step.hN().allClose(one.hN(), tol, 0)),
        () -> assertTrue(c0 == null || step.cN().allClose(one.cN(), tol, 0)),
        () -> assertTrue(chained.allClose(all.output(), tol, 0),
            () -> "chained steps differ from forward by " + chained.maxAbsDiff(all.output())),
        () -> assertTrue(hLast.allClose(all.hN(), tol, 0)),
        () -> assertTrue(c0 == null || cLast.allClose(all.cN(), tol, 0)));
  }

  @ParameterizedTest
  @EnumSource(Stack.Mode.class)
  void stepFromZeroStatesEqualsForwardFromZeroStates(Stack.Mode mode) {
    Stack stack = new Stack(TorchModule.of(mode, 3, 4).numLayers(2).dtype(DType.FLOAT64))
        .initialize(5);
    Tensor x = Tensor.randn(DType.FLOAT64, 9, 1, 3, 3);
    Stack.Result f = stack.forward(x, false);
    Stack.Result s = stack.step(x.select(0, 0), null, null);
    assertAll(
        () -> assertTrue(s.output().allClose(f.output().select(0, 0), 1e-14, 0)),
        () -> assertTrue(s.hN().allClose(f.hN(), 1e-14, 0)));
  }

  @Test
  void stepOfABidirectionalStackIsRefusedNamingTheStack() {
    Stack stack = new Stack(TorchModule.of(Stack.Mode.GRU, 3, 4).numLayers(2).bidirectional(true));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> stack.step(Tensor.zeros(DType.FLOAT32, 2, 3), null, null));
    assertEquals("gru(input_size=3, hidden_size=4, num_layers=2, bidirectional) cannot run one"
        + " step at a time: its reverse direction reads the sequence from the end; use forward"
        + " over the whole sequence", e.getMessage());
  }

  // ---- the buffer pool --------------------------------------------------------------------

  @Nested
  class BufferPool {
    // Lengths no kernel of the other tests uses, so that this thread's pool holds only ours.
    private static final int LEN = Storage.POOL_MIN_LENGTH + 7919;

    @Test
    void aBufferGivenBackTwiceIsLentOnlyOnce() {
      Storage s = Storage.borrow(DType.FLOAT32, LEN);
      Storage.giveBack(s);
      Storage.giveBack(s);
      Storage a = Storage.borrow(DType.FLOAT32, LEN);
      Storage b = Storage.borrow(DType.FLOAT32, LEN);
      assertNotSame(a, b, "two borrowers share one buffer");
    }

    @Test
    void buffersOfEqualLengthButAnotherDtypeAreNotLent() {
      int len = LEN + 1;
      Storage f32 = Storage.allocate(DType.FLOAT32, len);
      Storage.giveBack(f32);
      Storage f64 = Storage.borrow(DType.FLOAT64, len);
      Storage again = Storage.borrow(DType.FLOAT32, len);
      assertAll(
          () -> assertEquals(DType.FLOAT64, f64.dtype()),
          () -> assertEquals(len, f64.length()),
          () -> assertSame(f32, again));
    }

    @Test
    void smallBuffersAreNeverPooled() {
      int len = Storage.POOL_MIN_LENGTH - 1;
      Storage s = Storage.allocate(DType.FLOAT64, len);
      Storage.giveBack(s);
      assertNotSame(s, Storage.borrow(DType.FLOAT64, len));
    }

    @Test
    void aThousandBuffersGivenBackLeaveAtMostSixIdle() {
      int len = LEN + 2;
      Set<Storage> given = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
      for (int i = 0; i < 1000; i++) {
        Storage s = Storage.allocate(DType.FLOAT32, len);
        given.add(s);
        Storage.giveBack(s);
      }
      int reused = 0;
      for (int i = 0; i < 10; i++) {
        if (given.contains(Storage.borrow(DType.FLOAT32, len))) {
          reused++;
        }
      }
      assertTrue(reused <= 6, reused + " idle buffers were kept");
    }

    @Test
    void aThousandRunsReuseTheirBuffersAndKeepAtMostSixIdleOfASize() {
      // An unrecorded run of this size borrows two state buffers (h and c) of two slots, 2 * 128
      // * 128 = 32768 elements (its output goes straight into the caller's), and gives them back
      // holding states (not zero); a new buffer is zero-filled. (Its XP buffer, 2 * 128 * 512,
      // and its saved block, 128 * 640, are other sizes; the fused LSTM step on AVX-512 has
      // neither.)
      Stack stack = new Stack(TorchModule.of(Stack.Mode.LSTM, 4, 128)).initialize(1);
      Tensor x = Tensor.randn(DType.FLOAT32, 2, 2, 128, 4);
      Tensor first = stack.forward(x, false).output();
      for (int i = 0; i < 1000; i++) {
        stack.forward(x, false);
      }
      List<Storage> borrowed = new ArrayList<>();
      int reused = 0;
      for (int i = 0; i < 8; i++) {
        Storage s = Storage.borrow(DType.FLOAT32, 2 * 128 * 128);
        borrowed.add(s);
        if (s.sumOfSquares() > 0) {
          reused++;
        }
      }
      borrowed.forEach(Storage::giveBack);
      int n = reused;
      assertAll(
          () -> assertTrue(n >= 1 && n <= 6, n + " idle buffers of one size"),
          () -> assertEquals(first, stack.forward(x, false).output()));
    }

    @Test
    void aBufferGivenBackOnOneThreadIsNotLentToAnother() throws Exception {
      int len = LEN + 3;
      Storage s = Storage.allocate(DType.FLOAT32, len);
      Storage.giveBack(s);
      ExecutorService other = Executors.newSingleThreadExecutor();
      try {
        Storage there = other.submit(() -> Storage.borrow(DType.FLOAT32, len)).get();
        assertAll(
            () -> assertNotSame(s, there, "the pool is per thread"),
            () -> assertSame(s, Storage.borrow(DType.FLOAT32, len), "this thread's pool"));
      } finally {
        other.shutdownNow();
      }
    }

    @Test
    void eightThreadsEachWithItsOwnPoolComputeWhatOneThreadDoes() throws Exception {
      Stack stack = new Stack(TorchModule.of(Stack.Mode.LSTM, 4, 64).numLayers(2)
          .bidirectional(true)).initialize(3);
      List<Tensor> inputs = new ArrayList<>();
      List<Stack.Result> expected = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        // Different sequence lengths: buffers of several sizes go round at once.
        Tensor x = Tensor.randn(DType.FLOAT32, 100 + i, 16 + i % 3, 8, 4);
        inputs.add(x);
        expected.add(stack.forward(x, false));
      }
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        List<Future<Integer>> wrong = new ArrayList<>();
        for (int th = 0; th < 8; th++) {
          int start = th;
          wrong.add(pool.submit(() -> {
            int bad = 0;
            for (int it = 0; it < 40; it++) {
              int i = (start + it) % 8;
              Stack.Result r = stack.forward(inputs.get(i), false);
              if (!r.output().equals(expected.get(i).output())
                  || !r.hN().equals(expected.get(i).hN())
                  || !r.cN().equals(expected.get(i).cN())) {
                bad++;
              }
            }
            return bad;
          }));
        }
        int bad = 0;
        for (Future<Integer> f : wrong) {
          bad += f.get();
        }
        assertEquals(0, bad, "runs that differ from the single-threaded result");
      } finally {
        pool.shutdownNow();
      }
    }
  }

  // ---- Tensor edge cases ------------------------------------------------------------------

  @Nested
  class TensorEdges {
    @Test
    void matmulWithAnEmptyDimension() {
      Tensor a = Tensor.zeros(DType.FLOAT32, 0, 3);
      Tensor b = Tensor.zeros(DType.FLOAT32, 3, 2);
      Tensor c = Tensor.zeros(DType.FLOAT64, 2, 0);
      Tensor d = Tensor.zeros(DType.FLOAT64, 0, 4);
      assertAll(
          () -> assertEquals(Shape.of(0, 2), a.matmul(b).shape()),
          () -> assertEquals(Shape.of(3, 0), b.to(DType.FLOAT64).matmul(c).shape()),
          () -> assertEquals(Tensor.zeros(DType.FLOAT64, 2, 4), c.matmul(d)));
    }

    @Test
    void concatAndSliceWithEmptyParts() {
      Tensor a = Tensor.of(new double[] {1, 2, 3, 4}, 2, 2);
      Tensor empty = Tensor.zeros(DType.FLOAT64, 2, 0);
      assertAll(
          () -> assertEquals(a, Tensor.concat(1, List.of(empty, a, empty))),
          () -> assertEquals(Shape.of(2, 0), a.slice(1, 1, 1).shape()),
          () -> assertEquals(Shape.of(0, 2), a.slice(0, 2, 2).shape()),
          () -> assertEquals(Shape.of(0, 0), empty.slice(0, 0, 0).shape()),
          () -> assertEquals(Shape.of(2, 0), Tensor.concat(0, List.of(empty.slice(0, 0, 1),
              empty.slice(0, 1, 2))).shape()));
    }

    @Test
    void permuteOfRankZeroAndOne() {
      Tensor scalar = Tensor.of(new double[] {7}, new int[0]);
      Tensor vector = Tensor.of(new double[] {1, 2, 3}, 3);
      assertAll(
          () -> assertEquals(scalar, scalar.permute()),
          () -> assertEquals(vector, vector.permute(0)),
          () -> assertEquals(vector, vector.transpose(0, -1)));
    }

    @Test
    void reshapeOfAnEmptyTensor() {
      Tensor empty = Tensor.zeros(DType.FLOAT32, 0, 3);
      assertAll(
          () -> assertEquals(Shape.of(0), empty.reshape(-1).shape()),
          () -> assertEquals(Shape.of(0, 5), empty.reshape(-1, 5).shape()),
          () -> assertEquals(Shape.of(3, 0), empty.reshape(3, -1).shape()),
          () -> assertThrows(IllegalArgumentException.class, () -> empty.reshape(0, -1)));
    }
  }

  // ---- Safetensors names ------------------------------------------------------------------

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"gewicht_ü_ö", "名前", "quote\"inside", "back\\slash", "tab\tnew\nline",
      "emoji \uD83D\uDE00", "</script>", "\u2028"})
  void tensorsNamedWithNonAsciiQuotesOrControlCharactersRoundTrip(String name) {
    Tensor t = Tensor.of(new float[] {1, -2, 3}, 3);
    byte[] bytes = Safetensors.toBytes(ImmutableMap.of(name, t), ImmutableMap.of(name, name));
    SafetensorsFile f = Safetensors.read(bytes, "mem");
    assertAll(
        () -> assertEquals(t, f.tensor(name)),
        () -> assertEquals(name, f.metadata(name)));
  }

  @Test
  void aNameWithALoneSurrogateIsRejectedRatherThanSilentlyRenamed() {
    Tensor t = Tensor.of(new float[] {1}, 1);
    String bad = "bad\uD800name";
    IllegalArgumentException name = assertThrows(IllegalArgumentException.class,
        () -> Safetensors.toBytes(ImmutableMap.of(bad, t), ImmutableMap.of()));
    IllegalArgumentException value = assertThrows(IllegalArgumentException.class,
        () -> Safetensors.toBytes(ImmutableMap.of("w", t), ImmutableMap.of("k", bad)));
    assertAll(
        () -> assertEquals("tensor name '" + bad + "' holds a lone UTF-16 surrogate, which UTF-8"
            + " cannot encode", name.getMessage()),
        () -> assertEquals("metadata value '" + bad + "' holds a lone UTF-16 surrogate, which"
            + " UTF-8 cannot encode", value.getMessage()));
  }
}
