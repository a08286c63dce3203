package dev.rnn.core;

import dev.rnn.examples.JmhData;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The pointwise part of one GRU step, float32, forward and backward: {@link GruCell}'s Java
 * loops against the C kernels a scan runs for a cell that declares {@link Cell.Kernel#GRU}
 * ({@link Native#gruCell}, {@link Native#gruCellBackward}; AVX-512 only, elsewhere the native
 * methods run the Java ones). No product: {@code xp} and {@code hp} are given.
 *
 * <p>Shapes: batch x hidden, gru-m's {@code 64x256}, a wider {@code 64x512}, a ragged batch's
 * tail {@code 8x256}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class GruCellStepBenchmark {
  @Param({"64x256", "64x512", "8x256"})
  public String shape;

  private GruCell cell;
  private Step step;
  private int batch;
  private int hidden;
  private boolean avx512;

  @Setup
  public void setUp() {
    String[] d = shape.split("x");
    batch = Integer.parseInt(d[0]);
    hidden = Integer.parseInt(d[1]);
    cell = new GruCell(hidden, hidden);
    int g = 3 * hidden;
    step = new Step(1, DType.FLOAT32, false);
    step.batch = batch;
    step.xp = JmhData.gaussian(batch * g, 1, 0.1);
    step.hp = JmhData.gaussian(batch * g, 2, 0.1);
    step.saved = Storage.allocate(DType.FLOAT32, batch * 4 * hidden);
    step.prev[0] = JmhData.gaussian(batch * hidden, 3, 0.1);
    step.next[0] = Storage.allocate(DType.FLOAT32, batch * hidden);
    step.dNext[0] = JmhData.gaussian(batch * hidden, 4, 0.1);
    step.dPrev[0] = Storage.allocate(DType.FLOAT32, batch * hidden);
    step.dxp = Storage.allocate(DType.FLOAT32, batch * g);
    step.dhp = Storage.allocate(DType.FLOAT32, batch * g);
    cell.forward(step);
    avx512 = Native.isa() == Native.Isa.AVX512;
    System.out.println("\nkernels: " + Tensor.nativeKernels());
  }

  /** {@link GruCell#forward} in Java. */
  @Benchmark
  public Storage forwardJava() {
    cell.forward(step);
    return step.next[0];
  }

  /** The same step in C ({@link Native#gruCell}). */
  @Benchmark
  public Storage forwardNative() {
    if (!avx512) {
      return forwardJava();
    }
    Native.gruCell(batch, hidden, LstmCell.f32(step.xp), 0, LstmCell.f32(step.hp), 0,
        LstmCell.f32(step.prev[0]), 0, LstmCell.f32(step.next[0]), 0, LstmCell.f32(step.saved),
        0);
    return step.next[0];
  }

  /** {@link GruCell#backward} in Java. */
  @Benchmark
  public Storage backwardJava() {
    cell.backward(step);
    return step.dPrev[0];
  }

  /** The same step in C ({@link Native#gruCellBackward}). */
  @Benchmark
  public Storage backwardNative() {
    if (!avx512) {
      return backwardJava();
    }
    Native.gruCellBackward(batch, hidden, LstmCell.f32(step.saved), 0, LstmCell.f32(step.prev[0]),
        0, LstmCell.f32(step.dNext[0]), 0, LstmCell.f32(step.dxp), 0, LstmCell.f32(step.dhp), 0,
        LstmCell.f32(step.dPrev[0]), 0);
    return step.dPrev[0];
  }
}
