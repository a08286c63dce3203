package dev.rnn.core;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Finite differences in float64 against every cell's analytic backward, through the scan: the
 * gradient of {@code L = sum(out * gOut) + sum(state_T * gState)} with respect to every weight,
 * bias, input element and initial state element; also with a projection ({@code weight_hr}) and
 * with variable lengths (where the padding's input gradient must be zero, as its difference is).
 */
class CellGradientTest {
  private static final double EPS = 1e-6;

  static Stream<Arguments> cells() {
    return Stream.of(
        Arguments.of("elman tanh, one step", (Supplier<Cell>) () -> new ElmanCell(3, 4, Activation.TANH), 1, false, 0, null),
        Arguments.of("elman tanh", (Supplier<Cell>) () -> new ElmanCell(3, 4, Activation.TANH), 4, false, 0, null),
        Arguments.of("elman relu", (Supplier<Cell>) () -> new ElmanCell(3, 4, Activation.RELU), 4, false, 0, null),
        Arguments.of("elman sigmoid", (Supplier<Cell>) () -> new ElmanCell(3, 4, Activation.SIGMOID), 4, false, 0, null),
        Arguments.of("elman identity", (Supplier<Cell>) () -> new ElmanCell(3, 4, Activation.IDENTITY), 4, false, 0, null),
        Arguments.of("lstm, one step", (Supplier<Cell>) () -> new LstmCell(3, 4), 1, false, 0, null),
        Arguments.of("lstm", (Supplier<Cell>) () -> new LstmCell(3, 4), 4, false, 0, null),
        Arguments.of("lstm reverse", (Supplier<Cell>) () -> new LstmCell(3, 4), 4, true, 0, null),
        Arguments.of("peephole lstm, one step", (Supplier<Cell>) () -> new PeepholeLstmCell(3, 4), 1, false, 0, null),
        Arguments.of("peephole lstm", (Supplier<Cell>) () -> new PeepholeLstmCell(3, 4), 4, false, 0, null),
        Arguments.of("peephole lstm reverse", (Supplier<Cell>) () -> new PeepholeLstmCell(3, 4), 4, true, 0, null),
        Arguments.of("gru, one step", (Supplier<Cell>) () -> new GruCell(3, 4), 1, false, 0, null),
        Arguments.of("gru", (Supplier<Cell>) () -> new GruCell(3, 4), 4, false, 0, null),
        Arguments.of("gru reverse", (Supplier<Cell>) () -> new GruCell(3, 4), 4, true, 0, null),
        Arguments.of("lstm, projection 2", (Supplier<Cell>) () -> new LstmCell(3, 4), 4, false, 2, null),
        Arguments.of("lstm reverse, projection 3", (Supplier<Cell>) () -> new LstmCell(3, 4), 4, true, 3, null),
        Arguments.of("peephole lstm, projection 2 (LSTMP)", (Supplier<Cell>) () -> new PeepholeLstmCell(3, 4), 4, false, 2, null),
        Arguments.of("elman tanh, lengths", (Supplier<Cell>) () -> new ElmanCell(3, 4, Activation.TANH), 4, false, 0, new int[] {2, 4, 1}),
        Arguments.of("elman tanh reverse, lengths", (Supplier<Cell>) () -> new ElmanCell(3, 4, Activation.TANH), 4, true, 0, new int[] {2, 4, 1}),
        Arguments.of("lstm, lengths with a 0", (Supplier<Cell>) () -> new LstmCell(3, 4), 4, false, 0, new int[] {3, 0, 4}),
        Arguments.of("lstm reverse, lengths with a 0", (Supplier<Cell>) () -> new LstmCell(3, 4), 4, true, 0, new int[] {3, 0, 4}),
        Arguments.of("gru, lengths", (Supplier<Cell>) () -> new GruCell(3, 4), 4, false, 0, new int[] {1, 4, 2}),
        Arguments.of("gru reverse, lengths", (Supplier<Cell>) () -> new GruCell(3, 4), 4, true, 0, new int[] {1, 4, 2}),
        Arguments.of("peephole lstm reverse, lengths", (Supplier<Cell>) () -> new PeepholeLstmCell(3, 4), 4, true, 0, new int[] {4, 2, 3}),
        Arguments.of("lstm reverse, projection 2, lengths", (Supplier<Cell>) () -> new LstmCell(3, 4), 4, true, 2, new int[] {2, 4, 3}),
        Arguments.of("lstm, projection 3, lengths", (Supplier<Cell>) () -> new LstmCell(3, 4), 4, false, 3, new int[] {2, 4, 3}));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cells")
  void analyticGradientsMatchCentralDifferences(String name, Supplier<Cell> factory, int seq,
      boolean reverse, int projection, int[] lengthArray) {
    Cell cell = factory.get();
    Lengths lengths = lengthArray == null ? null : Lengths.of(lengthArray);
    int batch = lengths == null ? 2 : lengths.batch();
    Scan scan = new Scan(cell, Scan.Direction.of(reverse), "", DType.FLOAT64, Scan.Biases.BOTH,
        projection);
    scan.initialize(new Random(7));
    Random rnd = new Random(11);
    Storage x = random(rnd, seq * batch * cell.inputSize());
    Storage[] init = new Storage[cell.stateCount()];
    Storage[] gState = new Storage[cell.stateCount()];
    for (int k = 0; k < init.length; k++) {
      init[k] = random(rnd, batch * scan.stateSize(k));
      gState[k] = random(rnd, batch * scan.stateSize(k));
    }
    Storage gOut = random(rnd, seq * batch * scan.outputSize());

    Scan.Backward back = scan.forward(x, seq, batch, init, true, 0, lengths).backward(gState);
    for (int p = seq - 1; p >= 0; p--) {
      back.step(p, gOut, 0, scan.outputSize());
    }
    Storage dx = Storage.allocate(DType.FLOAT64, x.length());
    Storage[] dInit = new Storage[init.length];
    for (int k = 0; k < init.length; k++) {
      dInit[k] = Storage.allocate(DType.FLOAT64, init[k].length());
    }
    back.finish(dx, dInit);

    Supplier<Double> loss = () -> loss(scan, x, seq, batch, init, gOut, gState, lengths);
    List<Executable> checks = new ArrayList<>();
    for (Parameter p : scan.parameters()) {
      checks.add(compare(p.name(), p.data(), p.grad(), loss));
    }
    checks.add(compare("input", x, dx, loss));
    for (int k = 0; k < init.length; k++) {
      checks.add(compare("initial state " + k, init[k], dInit[k], loss));
    }
    assertAll(checks);
  }

  private static double loss(Scan scan, Storage x, int seq, int batch, Storage[] init,
      Storage gOut, Storage[] gState, Lengths lengths) {
    Scan.Run run = scan.forward(x, seq, batch, init, false, 0, lengths);
    int h = scan.outputSize();
    Storage out = Storage.allocate(DType.FLOAT64, seq * batch * h);
    run.copyOutput(out, 0, h);
    double l = dot(out, gOut);
    for (int k = 0; k < init.length; k++) {
      Storage s = Storage.allocate(DType.FLOAT64, batch * scan.stateSize(k));
      run.copyFinalState(k, s, 0);
      l += dot(s, gState[k]);
    }
    run.release();
    return l;
  }

  private static Executable compare(String what, Storage values, Storage analytic,
      Supplier<Double> loss) {
    double[] numeric = new double[values.length()];
    for (int i = 0; i < values.length(); i++) {
      double v = values.get(i);
      values.set(i, v + EPS);
      double up = loss.get();
      values.set(i, v - EPS);
      double down = loss.get();
      values.set(i, v);
      numeric[i] = (up - down) / (2 * EPS);
    }
    double[] a = new double[values.length()];
    for (int i = 0; i < a.length; i++) {
      a[i] = analytic.get(i);
    }
    return () -> {
      for (int i = 0; i < a.length; i++) {
        double tol = 1e-7 + 1e-6 * Math.abs(numeric[i]);
        int index = i;
        assertTrue(Math.abs(a[i] - numeric[i]) <= tol, () -> what + "[" + index + "]: analytic "
            + a[index] + " but central difference " + numeric[index]);
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

  private static double dot(Storage a, Storage b) {
    double s = 0;
    for (int i = 0; i < a.length(); i++) {
      s += a.get(i) * b.get(i);
    }
    return s;
  }
}
