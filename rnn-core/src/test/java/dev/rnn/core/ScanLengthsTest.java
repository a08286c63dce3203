package dev.rnn.core;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A scan with variable lengths is each sequence run alone: outputs, final states and every
 * gradient (float64, to 1e-12), with NaN in the padding, which must never be read; the output and
 * the input gradient are zero there.
 */
class ScanLengthsTest {
  private static final int SEQ = 5;
  private static final int[] LENGTHS = {3, 5, 1, 5, 2, 0};

  static Stream<Arguments> scans() {
    List<Arguments> all = new ArrayList<>();
    List<Arguments> cells = List.of(
        Arguments.of("elman tanh", (Supplier<Cell>) () -> new ElmanCell(3, 4, Activation.TANH), 0),
        Arguments.of("lstm", (Supplier<Cell>) () -> new LstmCell(3, 4), 0),
        Arguments.of("lstm, projection 2", (Supplier<Cell>) () -> new LstmCell(3, 4), 2),
        Arguments.of("peephole lstm", (Supplier<Cell>) () -> new PeepholeLstmCell(3, 4), 0),
        Arguments.of("gru", (Supplier<Cell>) () -> new GruCell(3, 4), 0));
    for (Arguments a : cells) {
      for (boolean reverse : new boolean[] {false, true}) {
        Object[] o = a.get();
        all.add(Arguments.of(o[0] + (reverse ? " reverse" : ""), o[1], o[2], reverse));
      }
    }
    return all.stream();
  }

  /** The results of one forward and backward pass. */
  private record Pass(Storage out, Storage[] finals, List<double[]> grads, Storage dx,
      Storage[] dInit) {}

  private static Pass pass(Scan scan, Storage x, int seq, int batch, Storage[] init,
      Lengths lengths, Storage dOut, Storage[] dFinal) {
    for (Parameter p : scan.parameters()) {
      p.zeroGrad();
    }
    int w = scan.outputSize();
    Scan.Run run = scan.forward(x, seq, batch, init, true, 0, lengths);
    Storage out = Storage.allocate(DType.FLOAT64, seq * batch * w);
    run.copyOutput(out, 0, w);
    Storage[] finals = new Storage[init.length];
    Storage[] dInit = new Storage[init.length];
    for (int k = 0; k < init.length; k++) {
      finals[k] = Storage.allocate(DType.FLOAT64, batch * scan.stateSize(k));
      run.copyFinalState(k, finals[k], 0);
      dInit[k] = Storage.allocate(DType.FLOAT64, batch * scan.stateSize(k));
    }
    Scan.Backward back = run.backward(dFinal);
    for (int p = seq - 1; p >= 0; p--) {
      back.step(p, dOut, 0, w);
    }
    Storage dx = Storage.allocate(DType.FLOAT64, x.length());
    back.finish(dx, dInit);
    List<double[]> grads = new ArrayList<>();
    for (Parameter p : scan.parameters()) {
      grads.add(p.gradient().toDoubleArray());
    }
    return new Pass(out, finals, grads, dx, dInit);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scans")
  void aBatchWithLengthsIsEachSequenceAlone(String name, Supplier<Cell> factory, int projection,
      boolean reverse) {
    Cell cell = factory.get();
    Scan scan = new Scan(cell, Scan.Direction.of(reverse), "", DType.FLOAT64, Scan.Biases.BOTH,
        projection);
    scan.initialize(new Random(3));
    int batch = LENGTHS.length;
    int in = cell.inputSize();
    int w = scan.outputSize();
    Random rnd = new Random(5);
    Storage x = random(rnd, SEQ * batch * in);
    for (int t = 0; t < SEQ; t++) {
      for (int n = 0; n < batch; n++) {
        if (t >= LENGTHS[n]) {
          x.fill((t * batch + n) * in, in, Double.NaN);
        }
      }
    }
    Storage[] init = new Storage[cell.stateCount()];
    Storage[] dFinal = new Storage[cell.stateCount()];
    for (int k = 0; k < init.length; k++) {
      init[k] = random(rnd, batch * scan.stateSize(k));
      dFinal[k] = random(rnd, batch * scan.stateSize(k));
    }
    Storage dOut = random(rnd, SEQ * batch * w);
    Pass all = pass(scan, x, SEQ, batch, init, Lengths.of(LENGTHS), dOut, dFinal);

    List<double[]> summed = new ArrayList<>();
    for (Parameter p : scan.parameters()) {
      summed.add(new double[p.size()]);
    }
    List<Executable> checks = new ArrayList<>();
    for (int n = 0; n < batch; n++) {
      int len = LENGTHS[n];
      int seqN = n;
      if (len == 0) {
        for (int k = 0; k < init.length; k++) {
          int sw = scan.stateSize(k);
          checks.add(close("final state of a sequence of length 0 is its initial state",
              init[k], n * sw, all.finals[k], n * sw, sw));
          checks.add(close("initial-state gradient of a sequence of length 0", dFinal[k], n * sw,
              all.dInit[k], n * sw, sw));
        }
        continue;
      }
      Storage xn = rows(x, len, batch, n, in);
      Storage[] initN = new Storage[init.length];
      Storage[] dFinalN = new Storage[init.length];
      for (int k = 0; k < init.length; k++) {
        initN[k] = rows(init[k], 1, batch, n, scan.stateSize(k));
        dFinalN[k] = rows(dFinal[k], 1, batch, n, scan.stateSize(k));
      }
      Pass one = pass(scan, xn, len, 1, initN, null, rows(dOut, len, batch, n, w), dFinalN);
      for (int i = 0; i < summed.size(); i++) {
        for (int j = 0; j < summed.get(i).length; j++) {
          summed.get(i)[j] += one.grads.get(i)[j];
        }
      }
      for (int t = 0; t < SEQ; t++) {
        int tt = t;
        if (t < len) {
          checks.add(close("output of sequence " + n + " at step " + t, one.out, t * w, all.out,
              (t * batch + n) * w, w));
          checks.add(close("input gradient of sequence " + n + " at step " + t, one.dx, t * in,
              all.dx, (t * batch + n) * in, in));
        } else {
          checks.add(() -> {
            for (int j = 0; j < w; j++) {
              assertEquals(0.0, all.out.get((tt * batch + seqN) * w + j),
                  "output after the end of sequence " + seqN + " at step " + tt);
            }
            for (int j = 0; j < in; j++) {
              assertEquals(0.0, all.dx.get((tt * batch + seqN) * in + j),
                  "input gradient after the end of sequence " + seqN + " at step " + tt);
            }
          });
        }
      }
      for (int k = 0; k < init.length; k++) {
        int sw = scan.stateSize(k);
        checks.add(close("final state " + k + " of sequence " + n, one.finals[k], 0,
            all.finals[k], n * sw, sw));
        checks.add(close("initial-state gradient " + k + " of sequence " + n, one.dInit[k], 0,
            all.dInit[k], n * sw, sw));
      }
    }
    for (int i = 0; i < summed.size(); i++) {
      String p = scan.parameters().get(i).name();
      double[] expected = summed.get(i);
      double[] actual = all.grads.get(i);
      checks.add(() -> assertArrayEquals(expected, actual, 1e-12, "gradient of " + p));
    }
    assertAll(checks);
  }

  @Nested
  class TheLengthsValue {
    @Test
    void sortsOnceLongestFirstAndCountsTheRunningSequences() {
      Lengths l = Lengths.of(3, 5, 1, 5, 2, 0);
      int[] order = new int[6];
      for (int j = 0; j < 6; j++) {
        order[j] = l.order(j);
      }
      assertAll(
          () -> assertArrayEquals(new int[] {1, 3, 0, 4, 2, 5}, order),
          () -> assertArrayEquals(new int[] {5, 4, 3, 2, 2, 0},
              new int[] {l.active(0), l.active(1), l.active(2), l.active(3), l.active(4),
                  l.active(5)}),
          () -> assertEquals(5, l.max()),
          () -> assertEquals(16, l.total()),
          () -> assertEquals(Lengths.of(1, 2, 0, 2, 0, 0), l.window(2, 2)));
    }

    @Test
    void aNegativeLengthIsRefusedNamingIt() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Lengths.of(2, -1));
      assertEquals("lengths expected every length >= 0 but lengths[1] is -1", e.getMessage());
    }

    @Test
    void aLengthPastTheInputIsRefusedByTheScan() {
      Scan scan = new Scan(new LstmCell(1, 2), Scan.Direction.FORWARD, "", DType.FLOAT64,
          Scan.Biases.BOTH);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> scan.forward(Storage.allocate(DType.FLOAT64, 6), 3, 2, null, false, 0,
              Lengths.of(3, 4)));
      assertEquals("lstm(1, 2) expected the lengths of 2 sequences of at most 3 steps but got"
          + " [3, 4]", e.getMessage());
    }

    @Test
    void theMaskMarksTheRealSteps() {
      Tensor m = Lengths.of(2, 1).mask(DType.FLOAT64, 3, false);
      assertArrayEquals(new double[] {1, 1, 1, 0, 0, 0}, m.toDoubleArray());
      assertTrue(m.shape().equals(Shape.of(3, 2)));
    }
  }

  /** Sequence {@code n}'s {@code steps} rows of width {@code w} from a {@code [T, N, w]} block. */
  private static Storage rows(Storage s, int steps, int batch, int n, int w) {
    Storage r = Storage.allocate(DType.FLOAT64, steps * w);
    for (int t = 0; t < steps; t++) {
      r.copyFrom(s, (t * batch + n) * w, t * w, w);
    }
    return r;
  }

  private static Executable close(String what, Storage expected, int eOff, Storage actual,
      int aOff, int n) {
    return () -> {
      for (int i = 0; i < n; i++) {
        double e = expected.get(eOff + i);
        double a = actual.get(aOff + i);
        assertTrue(Math.abs(e - a) <= 1e-12, what + "[" + i + "]: expected " + e + " but got "
            + a);
      }
    };
  }

  private static Storage random(Random rnd, int n) {
    Storage s = Storage.allocate(DType.FLOAT64, n);
    for (int i = 0; i < n; i++) {
      s.set(i, rnd.nextGaussian());
    }
    return s;
  }
}
