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
 * One LSTM forward step of a scan, {@code z = XP[t] + h W_hh^T}, then the cell: as the BLAS path
 * runs it (copy of {@code XP[t]}, gemm onto it, {@link LstmCell#forward} in Java), with the
 * weight packed once (the product native, the cell in Java), and fused ({@link
 * PackedWeight#lstmStep}: each tile of {@code z} and the cell's pointwise work while it is in
 * registers; AVX-512 only, else the packed variant); and the fused step that projects its input
 * itself ({@link PackedWeight#ofGates(Storage, int, Storage, int, int, Storage)}: {@code z = b +
 * x_t W_ih^T + h W_hh^T}, no {@code XP}), against the fused step plus its share of the gemm of
 * {@code XP} ({@code x_t W_ih^T + b} by BLAS for the step's rows; a run does it for all steps at
 * once); the fused step unrecorded (nothing saved, as inference runs it); the packing of the
 * fused steps' weights, which a run does once per call; the cell's pointwise step alone in Java.
 *
 * <p>Shapes: batch x hidden, {@code K = I = hidden}: lstm-m's {@code 64x256}, lstm-l's {@code
 * 64x512}, a ragged batch's tail {@code 8x256}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FusedLstmStepBenchmark {
  @Param({"64x256", "64x512", "8x256"})
  public String shape;

  private final LstmCell[] cell = new LstmCell[1];
  private Step step;
  private Storage weightHh;
  private Storage xp;
  private PackedWeight packed;
  private PackedWeight byGates;
  private PackedWeight byGatesWithInput;
  private Storage weightIh;
  private Storage bias;
  private Storage x;
  private int hidden;

  @Setup
  public void setUp() {
    String[] d = shape.split("x");
    int batch = Integer.parseInt(d[0]);
    hidden = Integer.parseInt(d[1]);
    cell[0] = new LstmCell(hidden, hidden);
    int g = 4 * hidden;
    weightHh = JmhData.gaussian(g * hidden, 1, 0.1);
    xp = JmhData.gaussian(batch * g, 2, 0.1);
    step = new Step(2, DType.FLOAT32, true);
    step.batch = batch;
    step.xp = xp;
    step.hp = Storage.allocate(DType.FLOAT32, batch * g);
    step.saved = Storage.allocate(DType.FLOAT32, batch * 5 * hidden);
    for (int k = 0; k < 2; k++) {
      step.prev[k] = JmhData.gaussian(batch * hidden, 3 + k, 0.1);
      step.next[k] = Storage.allocate(DType.FLOAT32, batch * hidden);
    }
    System.out.println("\nblas: " + Tensor.blasImplementation() + "; kernels: "
        + Tensor.nativeKernels());
    packed = Native.enabled() ? PackedWeight.of(weightHh, true, g, hidden) : null;
    byGates = Native.isa() == Native.Isa.AVX512
        ? PackedWeight.ofGates(weightHh, hidden, hidden) : null;
    weightIh = JmhData.gaussian(g * hidden, 5, 0.1);
    bias = JmhData.gaussian(g, 6, 0.1);
    x = JmhData.gaussian(batch * hidden, 7, 0.1);
    step.x = x;
    step.xOff = 0;
    byGatesWithInput = Native.isa() == Native.Isa.AVX512
        ? PackedWeight.ofGates(weightIh, hidden, weightHh, hidden, hidden, bias) : null;
  }

  /** Copy of {@code XP[t]}, BLAS gemm onto it, the cell in Java. */
  @Benchmark
  public Storage blas() {
    int g = 4 * hidden;
    step.hp.copyFrom(xp, 0, 0, step.batch * g);
    step.hp.gemm(false, true, step.batch, g, hidden, 1, step.prev[0], 0, hidden, weightHh, 0,
        hidden, 1, 0, g);
    cell[0].forward(step);
    return step.next[0];
  }

  /** {@code z = XP[t] + h W_hh^T} with the packed weight, the cell in Java. */
  @Benchmark
  public Storage packed() {
    if (packed == null) {
      return blas();
    }
    int g = 4 * hidden;
    packed.multiply(step.batch, step.prev[0], 0, hidden, PackedWeight.Init.SOURCE, xp, 0, g,
        step.hp, 0, g);
    cell[0].forward(step);
    return step.next[0];
  }

  /** The product and the cell in one kernel. */
  @Benchmark
  public Storage fused() {
    if (byGates == null) {
      return packed();
    }
    byGates.lstmStep(step);
    return step.next[0];
  }

  /** {@code XP[t] = x_t W_ih^T + b} for the step's rows by BLAS, then {@link #fused}. */
  @Benchmark
  public Storage projectThenFused() {
    int g = 4 * hidden;
    xp.setRows(0, step.batch, g, bias, 0);
    xp.gemm(false, true, step.batch, g, hidden, 1, x, 0, hidden, weightIh, 0, hidden, 1, 0, g);
    return fused();
  }

  /** The input projection, the product and the cell in one kernel, without {@code XP}. */
  @Benchmark
  public Storage fusedInput() {
    if (byGatesWithInput == null) {
      return projectThenFused();
    }
    byGatesWithInput.lstmStep(step);
    return step.next[0];
  }

  /** {@link #fusedInput} in an unrecorded run: nothing saved (inference). */
  @Benchmark
  public Storage fusedInputUnrecorded() {
    Storage saved = step.saved;
    step.saved = null;
    try {
      return byGatesWithInput == null ? projectThenFused() : fusedInputStep();
    } finally {
      step.saved = saved;
    }
  }

  private Storage fusedInputStep() {
    byGatesWithInput.lstmStep(step);
    return step.next[0];
  }

  /**
   * The per-call packing of {@link #fusedInput}'s weight, {@code [W_ih | W_hh]^T} by gates and the
   * bias, its new array included (2 MB at 64x256, where {@code I = H}; about 225 us here, most of
   * it the array's zeroing and first writes: gathering 16 rows at a time on AVX-512 ran no faster).
   */
  @Benchmark
  public PackedWeight packWithInput() {
    return Native.isa() == Native.Isa.AVX512
        ? PackedWeight.ofGates(weightIh, hidden, weightHh, hidden, hidden, bias) : null;
  }

  /** {@code W_hh^T} alone by gates (the packing of {@link #fused}), its new array included. */
  @Benchmark
  public PackedWeight packHidden() {
    return Native.enabled() ? PackedWeight.ofGates(weightHh, hidden, hidden) : null;
  }

  /**
   * The cell's pointwise step alone in Java ({@link LstmCell#forward}: the sum of {@code xp}
   * and {@code hp} and the gates' fused multiply-adds), as it runs without native kernels.
   */
  @Benchmark
  public Storage cellJava() {
    cell[0].forward(step);
    return step.next[0];
  }
}
