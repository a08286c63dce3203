package dev.rnn.examples;

import dev.rnn.core.DType;
import dev.rnn.core.LstmCell;
import dev.rnn.core.Scan;
import dev.rnn.core.Storage;
import java.util.Random;
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
 * One LSTM cell step, float32, forward and forward + backward, through a {@link Scan} over a
 * sequence of length 1: the projections ({@code x W_ih^T}, {@code h W_hh^T}),
 * the fused gate kernel, and in backward the gate kernel, {@code dh W_hh} and the weight
 * gradients. Sizes are lstm-m's and lstm-l's layer (batch 64).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CellStepBenchmark {
  /** {@code input x hidden}. */
  @Param({"64x256", "256x512"})
  public String size;

  private static final int BATCH = 64;
  private Scan rec;
  private Storage x;
  private Storage[] init;
  private Storage dOut;
  private Storage dx;

  @Setup
  public void setUp() {
    String[] d = size.split("x");
    int in = Integer.parseInt(d[0]);
    int hidden = Integer.parseInt(d[1]);
    rec = new Scan(new LstmCell(in, hidden), Scan.Direction.FORWARD, "_l0",
        DType.FLOAT32, Scan.Biases.BOTH);
    rec.initialize(new Random(1));
    x = JmhData.gaussian(BATCH * in, 2);
    init = new Storage[] {
        JmhData.gaussian(BATCH * hidden, 3), JmhData.gaussian(BATCH * hidden, 4)};
    dOut = JmhData.gaussian(BATCH * hidden, 5);
    dx = Storage.allocate(DType.FLOAT32, BATCH * in);
  }

  /** Forward only, nothing recorded. */
  @Benchmark
  public Scan.Run forward() {
    return rec.forward(x, 1, BATCH, init, false);
  }

  /** Forward recorded, then the backward of the step and the weight gradients. */
  @Benchmark
  public Scan.Run forwardBackward() {
    Scan.Run tr = rec.forward(x, 1, BATCH, init, true);
    Scan.Backward b = tr.backward(null);
    b.step(0, dOut, 0, rec.cell().hiddenSize());
    b.finish(dx, null);
    return tr;
  }
}
