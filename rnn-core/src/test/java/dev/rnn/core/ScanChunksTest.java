package dev.rnn.core;

import static dev.rnn.core.TestStorages.assertClose;
import static dev.rnn.core.TestStorages.gaussian;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The memory of a recorded scan: a pass by chunks ({@link Scan.Run#backwardByChunks}) holds the
 * gate gradients of about {@link Scan#CHUNK_ROWS} rows and gives the gradients of the pass over
 * all rows; the forward projects its input by chunks of as many rows; a recorded run that writes
 * its output into the caller's storage keeps no other copy of it.
 */
class ScanChunksTest {
  /** Runs these small shapes by chunks, as buffers of more than 4 MB are run. */
  @BeforeEach
  void chunkSmallBuffers() {
    Scan.WHOLE_MAX.set(0);
  }

  @AfterEach
  void restore() {
    Scan.WHOLE_MAX.remove();
  }

  /** 7 sequences of 150 steps: 1050 rows, three chunks of 73, 73 and 4 steps. */
  private static final int SEQ = 150;
  private static final int BATCH = 7;
  private static final int IN = 5;
  private static final int HIDDEN = 4;

  private static Scan scan(String kind, boolean reverse, DType dt) {
    Cell cell = switch (kind) {
      case "lstm", "lstm projected" -> new LstmCell(IN, HIDDEN);
      case "gru" -> new GruCell(IN, HIDDEN);
      default -> new ElmanCell(IN, HIDDEN, Activation.TANH);
    };
    Scan scan = new Scan(cell, Scan.Direction.of(reverse), "_l0", dt, Scan.Biases.BOTH,
        kind.equals("lstm projected") ? 3 : 0);
    scan.initialize(new Random(3));
    return scan;
  }

  /** Lengths 1 to {@code SEQ}, unsorted, one sequence the whole {@code SEQ}. */
  private static Lengths ragged() {
    int[] l = new int[BATCH];
    for (int n = 0; n < BATCH; n++) {
      l[n] = 1 + (SEQ - 1) * ((n * 3) % BATCH) / (BATCH - 1);
    }
    return Lengths.of(l);
  }

  @Nested
  class APassByChunks {
    static Stream<Arguments> cases() {
      List<Arguments> cases = new ArrayList<>();
      for (String kind : new String[] {"lstm", "lstm projected", "gru", "elman"}) {
        for (boolean reverse : new boolean[] {false, true}) {
          for (boolean withLengths : new boolean[] {false, true}) {
            for (int visited : new int[] {SEQ, 100}) {
              cases.add(Arguments.of(kind, reverse, withLengths, visited));
            }
          }
        }
      }
      return cases.stream();
    }

    /**
     * In float64 the weight, bias, input and initial-state gradients of a pass by chunks, over
     * every step or a truncation window, equal those of the pass over all rows up to the order
     * of the sums (1e-12), and the output, written into the caller's storage, equals bit for bit
     * the one a run copies out.
     */
    @ParameterizedTest(name = "{0}, reverse = {1}, lengths = {2}, steps visited = {3}")
    @MethodSource("cases")
    void givesTheGradientsOfThePassOverAllRows(String kind, boolean reverse, boolean withLengths,
        int visited) {
      DType dt = DType.FLOAT64;
      Scan whole = scan(kind, reverse, dt);
      Scan chunked = scan(kind, reverse, dt);
      int states = whole.cell().stateCount();
      Lengths lengths = withLengths ? ragged() : null;
      int p = whole.outputSize();
      Storage x = gaussian(4, SEQ * BATCH * IN, dt);
      Storage dOut = gaussian(5, SEQ * BATCH * p, dt);
      Storage[] init = new Storage[states];
      Storage[] dFinal = new Storage[states];
      for (int k = 0; k < states; k++) {
        init[k] = gaussian(6 + k, BATCH * whole.stateSize(k), dt);
        dFinal[k] = gaussian(8 + k, BATCH * whole.stateSize(k), dt);
      }

      Scan.Run a = whole.forward(x, SEQ, BATCH, init, true, 0, lengths);
      Storage expected = Storage.allocate(dt, SEQ * BATCH * p);
      a.copyOutput(expected, 0, p);
      Scan.Backward backA = a.backward(dFinal);
      Storage out = Storage.allocate(dt, SEQ * BATCH * p);
      Scan.Run b = chunked.forward(x, SEQ, BATCH, init, true, 0, lengths, out);
      Storage dxB = Storage.allocate(dt, x.length());
      Scan.Backward backB = b.backwardByChunks(dFinal, dxB);
      for (int step = SEQ - 1; step >= SEQ - visited; step--) {
        backA.step(step, dOut, 0, p);
        backB.step(step, dOut, 0, p);
      }
      Storage dxA = Storage.allocate(dt, x.length());
      Storage[] dInitA = new Storage[states];
      Storage[] dInitB = new Storage[states];
      for (int k = 0; k < states; k++) {
        dInitA[k] = Storage.allocate(dt, BATCH * whole.stateSize(k));
        dInitB[k] = Storage.allocate(dt, BATCH * whole.stateSize(k));
      }
      backA.finish(dxA, dInitA);
      backB.finish(dxB, dInitB);

      List<Executable> checks = new ArrayList<>();
      checks.add(() -> {
        for (int i = 0; i < expected.length(); i++) {
          assertEquals(Double.doubleToRawLongBits(expected.get(i)),
              Double.doubleToRawLongBits(out.get(i)), "output at " + i);
        }
      });
      for (int i = 0; i < whole.parameters().size(); i++) {
        Parameter pa = whole.parameters().get(i);
        Parameter pb = chunked.parameters().get(i);
        checks.add(() -> assertClose(pa.name(), pa.grad(), pb.grad()));
      }
      checks.add(() -> assertClose("d input", dxA, dxB));
      for (int k = 0; k < states && visited == SEQ; k++) {
        Storage da = dInitA[k];
        Storage db = dInitB[k];
        checks.add(() -> assertClose("d initial state", da, db));
      }
      assertAll(checks);
    }

    @Test
    void isToldTheInputGradientItAddsTo() {
      Scan s = scan("elman", false, DType.FLOAT64);
      Storage x = gaussian(4, SEQ * BATCH * IN, DType.FLOAT64);
      Scan.Backward back = s.forward(x, SEQ, BATCH, null, true)
          .backwardByChunks(null, Storage.allocate(DType.FLOAT64, x.length()));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> back.finish(Storage.allocate(DType.FLOAT64, x.length()), null));
      assertEquals("elman(5, 4, tanh) expected the input gradient given to backwardByChunks"
          + " (a storage) but got another", e.getMessage());
      IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
          () -> s.forward(x, SEQ, BATCH, null, true)
              .backwardByChunks(null, Storage.allocate(DType.FLOAT64, 7)));
      assertEquals("elman(5, 4, tanh) expected an input gradient of 150 x 7 x 5 elements but"
          + " got 7", size.getMessage());
    }

  }

  @Nested
  class WhatARecordedRunHolds {
    /**
     * Once its forward is done, a recorded run writing its output into the caller's storage
     * holds the saved blocks of every step, the other states ({@code c}) of every step and two
     * slots of {@code h} (the initial state): no {@code [T+1, N, H]} copy of the output and no
     * projections. Its backward by chunks holds {@code dXP} and {@code dHP} (one buffer for
     * summed projections) of 512 rows (the chunks use 73 steps of 7), not 1050.
     */
    @ParameterizedTest
    @EnumSource(value = Stack.Mode.class, names = {"LSTM", "GRU"})
    void isBoundedByTheShapes(Stack.Mode mode) {
      DType dt = DType.FLOAT32;
      Scan s = scan(mode == Stack.Mode.LSTM ? "lstm" : "gru", false, dt);
      Cell cell = s.cell();
      Storage x = gaussian(4, SEQ * BATCH * IN, dt);
      Storage out = Storage.allocate(dt, SEQ * BATCH * HIDDEN);
      Scan.Run run = s.forward(x, SEQ, BATCH, null, true, 0, null, out);
      long rows = (long) SEQ * BATCH;
      long saved = rows * cell.savedSize();
      long c = cell.stateCount() == 2 ? (SEQ + 1L) * BATCH * HIDDEN : 0;
      long h = 2L * BATCH * HIDDEN;
      // The fused LSTM kernel's saved buffer has ALIGN_PAD more elements, to start aligned.
      long pad = run.footprint() - (saved + c + h);
      assertTrue(pad == 0 || (mode == Stack.Mode.LSTM && pad == Scan.ALIGN_PAD),
          "elements held after forward: " + run.footprint() + ", expected " + (saved + c + h)
              + " (+ " + Scan.ALIGN_PAD + " for the fused LSTM kernel)");
      Scan.Backward back = run.backwardByChunks(null, null);
      long chunk = Scan.CHUNK_ROWS;
      int buffers = cell.projections() == Cell.Projections.SUMMED ? 1 : 2;
      assertEquals(buffers * chunk * cell.gateSize(), back.footprint(),
          "elements of the gate gradients");
      for (int p = SEQ - 1; p >= 0; p--) {
        back.step(p, null, 0, HIDDEN);
      }
      back.finish(null, null);
    }

    /**
     * A pass that fits in one chunk, or whose gate gradients are at most 4 MB (elman-s's 2048 x
     * 128), holds all its rows, as the pass over all rows does.
     */
    @Test
    void aShortOrSmallPassIsOneChunk() {
      Scan s = scan("gru", false, DType.FLOAT32);
      Storage x = gaussian(4, 3 * BATCH * IN, DType.FLOAT32);
      Scan.Backward back = s.forward(x, 3, BATCH, null, true).backwardByChunks(null, null);
      assertEquals(2L * 3 * BATCH * s.cell().gateSize(), back.footprint());
      Scan.WHOLE_MAX.remove();
      assertAll(
          () -> assertEquals(2048, Scan.chunkRows(2048, 32, 128), "elman-s"),
          () -> assertEquals(512, Scan.chunkRows(3200, 64, 2048), "lstm-l"),
          () -> assertEquals(512, Scan.chunkRows(6400, 64, 768), "gru-m"),
          () -> assertEquals(600, Scan.chunkRows(6000, 600, 768), "a step of 600 rows"));
    }
  }
}
