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
 * The recurrent product of one step, {@code C [m, n] += A [m, k] W^T} with {@code W [n, k]}, on
 * the BLAS path ({@link Storage#gemm}, which packs {@code W} at every call) and with the weight
 * packed once ({@link PackedWeight}, the native kernels); and the packing itself, paid once per
 * forward or backward call. GFLOP/s = {@code 2 m n k / time}. In core's package (the kernels are
 * package-private), in this module's benchmarks jar only.
 *
 * <p>Shapes: {@code 64x1024x256} and {@code 64x2048x512}: a forward step of lstm-m and lstm-l;
 * {@code 64x512x2048}: lstm-l's backward {@code dHP W_hh}; {@code 8x1024x256}: the last rows of
 * lstm-ragged; {@code 1x1024x256}: one row; {@code 32x128x128}: elman-s.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RecurrentProductBenchmark {
  @Param({"64x1024x256", "64x2048x512", "64x512x2048", "8x1024x256", "1x1024x256",
      "32x128x128"})
  public String shape;

  private int m;
  private int n;
  private int k;
  private Storage a;
  private Storage w;
  private Storage c;
  private PackedWeight packed;

  @Setup
  public void setUp() {
    String[] d = shape.split("x");
    m = Integer.parseInt(d[0]);
    n = Integer.parseInt(d[1]);
    k = Integer.parseInt(d[2]);
    a = JmhData.gaussian(m * k, 1, 0.1);
    w = JmhData.gaussian(n * k, 2, 0.1);
    c = Storage.allocate(DType.FLOAT32, m * n);
    System.out.println("\nblas: " + Tensor.blasImplementation() + "; kernels: "
        + Tensor.nativeKernels());
    packed = Native.enabled() ? PackedWeight.of(w, true, n, k) : null;
  }

  /** {@code C += A W^T} through BLAS gemm (or gemv for one row). */
  @Benchmark
  public Storage blas() {
    c.gemm(false, true, m, n, k, 1, a, 0, k, w, 0, k, 1, 0, n);
    return c;
  }

  /** {@code C += A W^T} with {@code W^T} packed once (the BLAS path if the kernels are off). */
  @Benchmark
  public Storage packed() {
    if (packed == null) {
      return blas();
    }
    packed.multiply(m, a, 0, k, PackedWeight.Init.ACCUMULATE, null, 0, 0, c, 0, n);
    return c;
  }

  /**
   * {@link #packed} with every panel on this thread ({@link PackedWeight#alone}): against {@link
   * #packed}, what the worker thread gains where a product is shared (two threads, {@code m n k
   * >= 2^22}: {@code 64x1024x256} and the lstm-l shapes; this thread takes panels from the front,
   * the worker from the back).
   */
  @Benchmark
  public Storage packedAlone() {
    PackedWeight.alone(this::packed);
    return c;
  }

  /** Packing {@code W^T}: once per forward (and once per backward) call. */
  @Benchmark
  public Object pack() {
    return Native.enabled() ? PackedWeight.of(w, true, n, k) : null;
  }
}
