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
 * The matrix products of the scan through {@link Storage#gemm}: {@code C [m, n] = A [m, k] B^T}
 * with {@code B [n, k]}, as the hidden projection {@code h W_hh^T} of one step is. GFLOP/s =
 * {@code 2 m n k / time}.
 *
 * <p>Shapes: {@code 64x1024x256} and {@code 64x2048x512} are one step of lstm-m and lstm-l;
 * {@code 3200x2048x512} is the input projection of lstm-l's second layer; {@code 512x512x512} the
 * reference of the issue; {@code 1x2048x512} a streaming step (a matrix-vector product).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class GemmBenchmark {
  @Param({"64x1024x256", "64x2048x512", "3200x2048x512", "512x512x512", "1x2048x512"})
  public String shape;

  private int m;
  private int n;
  private int k;
  private Storage a;
  private Storage b;
  private Storage c;

  @Setup
  public void setUp() {
    String[] d = shape.split("x");
    m = Integer.parseInt(d[0]);
    n = Integer.parseInt(d[1]);
    k = Integer.parseInt(d[2]);
    a = JmhData.gaussian(m * k, 1);
    b = JmhData.gaussian(n * k, 2);
    c = Storage.allocate(DType.FLOAT32, m * n);
    System.out.println("\nblas: " + Tensor.blasImplementation());
  }


  /** {@code C = A B^T}. */
  @Benchmark
  public Storage gemmNT() {
    c.gemm(false, true, m, n, k, 1, a, 0, k, b, 0, k, 0, 0, n);
    return c;
  }
}
