package dev.rnn.examples;

import dev.rnn.core.DType;
import dev.rnn.core.Storage;
import dev.rnn.core.Tensor;
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
 * Many rows by one weight, {@code C [m, n] = A [m, k] op(W)}: through BLAS ({@link Storage#gemm})
 * and through {@link Storage#gemmRows}, which packs {@code W} once per call and runs the rows by
 * blocks on the native kernels where they run (else it is the same BLAS call). GFLOP/s = {@code 2
 * m n k / time}.
 *
 * <p>Shapes {@code m x n x k} with {@code op(W)}: {@code 3200x512x2048 W} is the input gradient
 * {@code dX = dXP W_ih} of lstm-l's second layer; {@code 3200x256x512 W^T} and {@code 3200x512x256
 * W} are lstm-l's dense head forward ({@code X W^T}) and its input gradient ({@code dY W}); {@code
 * 6400x64x256 W^T} is lstm-m's head. {@link #columnSums} times the column sums of {@code A}
 * (a bias gradient).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RowProductBenchmark {
  @Param({"3200x512x2048 W", "3200x256x512 W^T", "3200x512x256 W", "6400x64x256 W^T"})
  public String shape;

  private int m;
  private int n;
  private int k;
  private boolean trans;
  private Storage a;
  private Storage w;
  private Storage c;
  private Storage sums;

  @Setup
  public void setUp() {
    String[] s = shape.split(" ");
    String[] d = s[0].split("x");
    m = Integer.parseInt(d[0]);
    n = Integer.parseInt(d[1]);
    k = Integer.parseInt(d[2]);
    trans = s[1].equals("W^T");
    a = JmhData.gaussian(m * k, 1);
    w = JmhData.gaussian(n * k, 2);
    c = Storage.allocate(DType.FLOAT32, m * n);
    sums = Storage.allocate(DType.FLOAT32, k);
    System.out.println("\nblas: " + Tensor.blasImplementation() + "; " + Tensor.nativeKernels());
  }


  /** {@code C = A op(W)} through BLAS gemm. */
  @Benchmark
  public Storage blas() {
    c.gemm(false, trans, m, n, k, 1, a, 0, k, w, 0, trans ? k : n, 0, 0, n);
    return c;
  }

  /** {@code C = A op(W)} with {@code W} packed for this call and the rows by blocks. */
  @Benchmark
  public Storage packed() {
    c.gemmRows(trans, m, n, k, a, 0, w, 0, 0);
    return c;
  }

  /**
   * The column sums of {@code A [m, k]}, as a bias gradient over a sequence is summed ({@code
   * 3200x512x2048}: lstm-l's {@code db = colsum(dZ)}); in C on AVX-512, in Java with {@code
   * -jvmArgsAppend -Drnn.native=false}.
   */
  @Benchmark
  public Storage columnSums() {
    sums.addColumnSums(a, 0, m, k, 0);
    return sums;
  }
}
