package dev.rnn.core;

import static dev.rnn.core.TestStorages.assertClose;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.spy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The scan: its backward protocol and truncation window, the fast path a cell declares, the
 * streaming step that is the loop's step, and the helpers for names and initialisation.
 */
class ScanTest {
  private static final int SEQ = 4;
  private static final int BATCH = 2;

  private static Scan elman(boolean reverse) {
    Scan scan = new Scan(new ElmanCell(2, 3, Activation.TANH), Scan.Direction.of(reverse), "_l0",
        DType.FLOAT64, Scan.Biases.BOTH);
    scan.initialize(new Random(1));
    return scan;
  }

  private static Storage gaussian(long seed, int n) {
    return TestStorages.gaussian(seed, n, DType.FLOAT64);
  }

  @Nested
  class TheBackwardProtocol {
    private final Scan scan = elman(false);
    private final Storage x = gaussian(2, SEQ * BATCH * 2);

    @Test
    void stepsOutOfOrderAreRefusedNamingTheStepDue() {
      Scan.Backward back = scan.forward(x, SEQ, BATCH, null, true).backward(null);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> back.step(0, null, 0, 3));
      assertEquals("elman(2, 3, tanh): backward expected step 3 (steps run from T-1 = 3 down to"
          + " 0, then finish) but got step 0", e.getMessage());
    }

    @Test
    void aStepAfterFinishIsRefused() {
      Scan.Backward back = scan.forward(x, 1, SEQ * BATCH, null, true).backward(null);
      back.step(0, null, 0, 3);
      back.finish(null, null);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> back.step(0, null, 0, 3));
      assertEquals("elman(2, 3, tanh): backward expected step none after finish (steps run from"
          + " T-1 = 0 down to 0, then finish) but got step 0", e.getMessage());
    }

    @Test
    void aSecondBackwardOfOneRunIsRefused() {
      Scan.Run run = scan.forward(x, SEQ, BATCH, null, true);
      run.backward(null);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> run.backward(null));
      assertEquals("elman(2, 3, tanh): backward already began on this run; run forward again",
          e.getMessage());
    }

    @Test
    void backwardOfAnUnrecordedRunIsRefused() {
      Scan.Run run = scan.forward(x, SEQ, BATCH, null, false);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> run.backward(null));
      assertEquals("elman(2, 3, tanh): backward needs a forward run with record = true",
          e.getMessage());
    }

    @Test
    void aReleasedRunCannotBeRead() {
      Scan.Run run = scan.forward(x, SEQ, BATCH, null, false);
      run.release();
      run.release();
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> run.copyOutput(Storage.allocate(DType.FLOAT64, SEQ * BATCH * 3), 0, 3));
      assertEquals("elman(2, 3, tanh): copyOutput after the run was released (by release() or by"
          + " Backward.finish); run forward again", e.getMessage());
    }

    @Test
    void aFinalStateGradientOfTheWrongSizeIsRefused() {
      Scan.Run run = scan.forward(x, SEQ, BATCH, null, true);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> run.backward(new Storage[] {Storage.allocate(DType.FLOAT64, 7)}));
      assertEquals("elman(2, 3, tanh) expected final state gradient 0 of 2 x 3 elements but got 7",
          e.getMessage());
    }

    /**
     * Backward over the last two of four steps (a truncation window) gives what a run over those
     * two steps alone gives, from the state the first two left: the weight gradients of the steps
     * visited, the input gradient of their rows (zero elsewhere), and nothing for the initial
     * state, which no visited step reaches.
     */
    @ParameterizedTest(name = "reverse = {0}")
    @ValueSource(booleans = {false, true})
    void aWindowCountsOnlyTheStepsItVisits(boolean rev) {
      Scan window = elman(rev);
      Scan alone = elman(rev);
      int n = BATCH * 3;
      int rows = BATCH * 2;
      Storage h0 = gaussian(3, n);
      Storage dOut = gaussian(4, SEQ * n);
      Storage dFinal = gaussian(5, n);

      Scan.Run run = window.forward(x, SEQ, BATCH, new Storage[] {h0}, true);
      Scan.Backward back = run.backward(new Storage[] {dFinal});
      back.step(SEQ - 1, dOut, 0, 3);
      back.step(SEQ - 2, dOut, 0, 3);
      Storage dx = Storage.allocate(DType.FLOAT64, x.length());
      Storage dh0 = Storage.allocate(DType.FLOAT64, n);
      back.finish(dx, new Storage[] {dh0});

      // The steps visited are times 2, 3 (forward) or 1, 0 (reverse); the window starts from the
      // state after the other two.
      int firstVisited = rev ? 0 : 2;
      int firstLeft = rev ? 2 : 0;
      Storage before = Storage.allocate(DType.FLOAT64, n);
      Storage xLeft = slice(x, firstLeft * rows, 2 * rows);
      Scan.Run left = alone.forward(xLeft, 2, BATCH, new Storage[] {h0}, false);
      left.copyFinalState(0, before, 0);
      left.release();
      Storage xVisited = slice(x, firstVisited * rows, 2 * rows);
      Storage dOutVisited = slice(dOut, firstVisited * n, 2 * n);
      Scan.Backward ref = alone.forward(xVisited, 2, BATCH, new Storage[] {before}, true)
          .backward(new Storage[] {dFinal});
      ref.step(1, dOutVisited, 0, 3);
      ref.step(0, dOutVisited, 0, 3);
      Storage dxRef = Storage.allocate(DType.FLOAT64, xVisited.length());
      ref.finish(dxRef, null);

      List<Executable> checks = new ArrayList<>();
      for (int i = 0; i < window.parameters().size(); i++) {
        Parameter a = window.parameters().get(i);
        Parameter b = alone.parameters().get(i);
        checks.add(() -> assertClose(a.name(), a.grad(), b.grad()));
      }
      checks.add(() -> assertClose("d input of the steps visited",
          slice(dx, firstVisited * rows, 2 * rows), dxRef));
      checks.add(() -> assertEquals(0, slice(dx, firstLeft * rows, 2 * rows).sumOfSquares(),
          "d input of the steps left out"));
      checks.add(() -> assertEquals(0, dh0.sumOfSquares(), "d initial state"));
      assertAll(checks);
    }

    private Storage slice(Storage s, int off, int n) {
      Storage r = Storage.allocate(s.dtype(), n);
      r.copyFrom(s, off, 0, n);
      return r;
    }

  }

  @Nested
  class TheFastPath {
    static Stream<Arguments> cells() {
      return Stream.of(
          Arguments.of(new ElmanCell(2, 3, Activation.RELU), Cell.Projections.SUMMED),
          Arguments.of(new LstmCell(2, 3), Cell.Projections.SUMMED),
          Arguments.of(new PeepholeLstmCell(2, 3), Cell.Projections.SUMMED),
          Arguments.of(new GruCell(2, 3), Cell.Projections.SEPARATE));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("cells")
    void isTakenForTheCellsThatDeclareIt(Cell cell, Cell.Projections declared) {
      Cell watched = spy(cell);
      List<Boolean> seen = new ArrayList<>();
      doAnswer(inv -> {
        seen.add(((Step) inv.getArgument(0)).summed());
        return inv.callRealMethod();
      }).when(watched).forward(any());
      doAnswer(inv -> {
        seen.add(((Step) inv.getArgument(0)).summed());
        return inv.callRealMethod();
      }).when(watched).backward(any());
      Scan scan = new Scan(watched, Scan.Direction.FORWARD, "_l0", DType.FLOAT32, Scan.Biases.BOTH);
      Storage x = gaussian(2, SEQ * BATCH * 2).to(DType.FLOAT32);
      // On the BLAS path: the native LSTM kernel would run the LSTM's forward itself (NativeTest).
      Native.without(() -> {
        Scan.Backward back = scan.forward(x, SEQ, BATCH, null, true).backward(null);
        for (int p = SEQ - 1; p >= 0; p--) {
          back.step(p, null, 0, 3);
        }
        back.finish(null, null);
      });
      assertAll(
          () -> assertEquals(declared, cell.projections()),
          () -> assertEquals(Collections.nCopies(2 * SEQ, declared == Cell.Projections.SUMMED),
              seen));
    }

    @Test
    void aUserCellDeclaresSeparateProjectionsByDefault() {
      Cell plain = new Cell() {
        @Override public String describe() {
          return "plain";
        }

        @Override public int inputSize() {
          return 1;
        }

        @Override public int hiddenSize() {
          return 1;
        }

        @Override public int gateSize() {
          return 1;
        }

        @Override public int stateCount() {
          return 1;
        }

        @Override public int savedSize() {
          return 0;
        }

        @Override public void forward(Step s) {}

        @Override public void backward(Step s) {}
      };
      assertEquals(Cell.Projections.SEPARATE, plain.projections());
    }

    @Test
    void aCellGivenTheSumCannotReadXp() {
      Cell reader = new SummedReader();
      Scan scan = new Scan(reader, Scan.Direction.FORWARD, "", DType.FLOAT64, Scan.Biases.BOTH);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> scan.forward(gaussian(1, 2), 1, 2, null, false));
      assertEquals("xp is not available: the scan summed the projections, hp() holds xp + hp",
          e.getMessage());
    }
  }

  /** A cell that declares summed projections and then reads xp. */
  private static final class SummedReader implements Cell {
    @Override public String describe() {
      return "summed reader";
    }

    @Override public int inputSize() {
      return 1;
    }

    @Override public int hiddenSize() {
      return 1;
    }

    @Override public int gateSize() {
      return 1;
    }

    @Override public int stateCount() {
      return 1;
    }

    @Override public int savedSize() {
      return 0;
    }

    @Override public Projections projections() {
      return Projections.SUMMED;
    }

    @Override public void forward(Step s) {
      s.xp();
    }

    @Override public void backward(Step s) {}
  }

  @Nested
  class Streaming {
    /** One step of the stack runs the loop's own step code: the same numbers, bit for bit. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Stack.Mode.class)
    void aStepIsTheFirstStepOfForwardBitForBit(Stack.Mode mode) {
      for (DType dtype : DType.values()) {
        Stack stack = new Stack(TorchModule.of(mode, 3, 4).numLayers(2).dtype(dtype)).initialize(7);
        Tensor x = Tensor.randn(dtype, 1, 1, 5, 3);
        Tensor h0 = Tensor.randn(dtype, 2, 2, 5, 4);
        Tensor c0 = mode == Stack.Mode.LSTM ? Tensor.randn(dtype, 3, 2, 5, 4) : null;
        Stack.Result all = stack.forward(x, false, h0, c0);
        Stack.Result one = stack.step(x.select(0, 0), h0, c0);
        assertAll(
            () -> assertEquals(all.output().select(0, 0), one.output(), dtype + " output"),
            () -> assertEquals(all.hN(), one.hN(), dtype + " h_n"),
            () -> assertEquals(all.cN(), one.cN(), dtype + " c_n"));
      }
    }
  }

  @Nested
  class Helpers {
    @Test
    void suffixesAreTorchs() {
      assertAll(
          () -> assertEquals("_l0", Scan.suffix(0, false)),
          () -> assertEquals("_l1_reverse", Scan.suffix(1, true)),
          () -> assertEquals("weight_hh_l2_reverse",
              new Stack(TorchModule.of(Stack.Mode.GRU, 2, 3).numLayers(3).bidirectional(true))
                  .layer(2).get(1)
                  .parameters().get(1).name()));
    }

    @Test
    void aNegativeLayerHasNoSuffix() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Scan.suffix(-1, false));
      assertEquals("suffix expected layer >= 0 but got -1", e.getMessage());
    }

    @Test
    void fillUniformDrawsTorchsUniformInElementOrder() {
      Parameter p = new Parameter("w", Shape.of(3, 7), DType.FLOAT64);
      p.fillUniform(new Random(9), 0.25);
      Random rnd = new Random(9);
      double[] expected = new double[21];
      for (int i = 0; i < expected.length; i++) {
        expected[i] = (2 * rnd.nextDouble() - 1) * 0.25;
      }
      assertEquals(Tensor.of(expected, 3, 7), p.value());
    }

    @Test
    void fillUniformRefusesABoundThatIsNotPositive() {
      Parameter p = new Parameter("weight_ih_l0", Shape.of(2), DType.FLOAT32);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> p.fillUniform(new Random(1), 0));
      assertEquals("parameter weight_ih_l0 expected a positive finite bound but got 0.0",
          e.getMessage());
    }
  }

  @Nested
  class AnUnrecordedRunWritesItsOutputInPlace {
    static Stream<Arguments> cases() {
      List<Arguments> cases = new ArrayList<>();
      for (DType dt : DType.values()) {
        for (boolean reverse : new boolean[] {false, true}) {
          for (int projection : new int[] {0, 3}) {
            cases.add(Arguments.of(dt, reverse, "lstm", projection));
          }
          cases.add(Arguments.of(dt, reverse, "gru", 0));
          cases.add(Arguments.of(dt, reverse, "elman", 0));
        }
      }
      return cases.stream();
    }

    /**
     * The output and final states of an unrecorded run given the output storage (its steps write
     * there directly and keep two slots of the other states) equal, bit for bit, those a
     * recorded run copies out, from zeros and from given states, over odd and even lengths.
     */
    @ParameterizedTest
    @MethodSource("cases")
    void equalToARecordedRunBitForBit(DType dt, boolean reverse, String kind, int projection) {
      int in = 5;
      int hidden = 4;
      int batch = 3;
      Cell cell = switch (kind) {
        case "lstm" -> new LstmCell(in, hidden);
        case "gru" -> new GruCell(in, hidden);
        default -> new ElmanCell(in, hidden, Activation.TANH);
      };
      Scan scan = new Scan(cell, Scan.Direction.of(reverse), "_l0", dt, Scan.Biases.BOTH,
          projection);
      scan.initialize(new Random(3));
      int p = scan.outputSize();
      for (int seq : new int[] {1, 2, 5}) {
        Storage x = TestStorages.gaussian(4, seq * batch * in, dt);
        Storage[] init = new Storage[cell.stateCount()];
        for (int k = 0; k < init.length; k++) {
          init[k] = TestStorages.gaussian(5 + k, batch * scan.stateSize(k), dt);
        }
        for (Storage[] from : new Storage[][] {null, init}) {
          Scan.Run recorded = scan.forward(x, seq, batch, from, true);
          Storage expected = Storage.allocate(dt, seq * batch * p);
          recorded.copyOutput(expected, 0, p);
          Storage out = Storage.allocate(dt, seq * batch * p);
          Scan.Run run = scan.forward(x, seq, batch, from, false, 0, null, out);
          Storage copied = Storage.allocate(dt, seq * batch * p);
          run.copyOutput(copied, 0, p);
          String what = kind + " " + dt + " reverse " + reverse + " T " + seq;
          assertBits(expected, out, what + " output");
          assertBits(expected, copied, what + " output copied");
          for (int k = 0; k < init.length; k++) {
            int w = scan.stateSize(k);
            Storage a = Storage.allocate(dt, batch * w);
            Storage b = Storage.allocate(dt, batch * w);
            recorded.copyFinalState(k, a, 0);
            run.copyFinalState(k, b, 0);
            assertBits(a, b, what + " final state " + k);
          }
          run.release();
        }
      }
    }

    @Test
    void anOutputOfTheWrongSizeIsRefused() {
      Scan scan = elman(false);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> scan.forward(gaussian(2, SEQ * BATCH * 2), SEQ, BATCH, null, false, 0, null,
              Storage.allocate(DType.FLOAT64, 5)));
      assertEquals("elman(2, 3, tanh) expected an output of 4 x 2 x 3 elements of dtype FLOAT64"
          + " but got 5 of FLOAT64", e.getMessage());
    }

    private void assertBits(Storage expected, Storage actual, String what) {
      for (int i = 0; i < expected.length(); i++) {
        assertEquals(Double.doubleToRawLongBits(expected.get(i)),
            Double.doubleToRawLongBits(actual.get(i)), what + " at " + i);
      }
    }
  }
}
