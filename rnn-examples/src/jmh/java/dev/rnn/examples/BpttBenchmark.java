package dev.rnn.examples;

import dev.rnn.autograd.Graph;
import dev.rnn.autograd.Value;
import dev.rnn.autograd.optim.Optimizer;
import dev.rnn.autograd.optim.Sgd;
import dev.rnn.core.DType;
import dev.rnn.core.Stack;
import dev.rnn.core.Tensor;
import dev.rnn.core.TorchModule;
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
 * The full BPTT training step and the inference forward of the {@code bench} command's
 * configurations (see {@link BenchCommand}), under JMH's warm-up and forks.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class BpttBenchmark {
  @Param({"elman-s", "lstm-m", "gru-m", "lstm-l"})
  public String config;

  /** The native kernels on ({@code true}) or off: {@code rnn.native}, read once per fork. */
  @Param({"true", "false"})
  public String nativeKernels;

  private StackModel model;
  private Optimizer sgd;
  private Tensor x;
  private Tensor y;

  @Setup
  public void setUp() {
    System.setProperty("rnn.native", nativeKernels);
    System.out.println("\nkernels: " + Tensor.nativeKernels());
    BenchCommand.Config c = BenchCommand.CONFIGS.get(config);
    Stack stack = new Stack(TorchModule.of(c.mode(), c.input(), c.hidden()).numLayers(c.layers()))
        .initialize(0);
    model = new StackModel(stack, c.input(), 1);
    sgd = Sgd.builder().lr(0.01).build(model.parameters());
    x = Tensor.randn(DType.FLOAT32, 2, c.batch(), c.seq(), c.input());
    y = Tensor.randn(DType.FLOAT32, 3, c.batch(), c.seq(), c.input());
  }

  /** Zero grads, forward, head, MSE, full BPTT, SGD step. */
  @Benchmark
  public void trainStep() {
    BenchCommand.trainStep(model, sgd, x, y);
  }

  /** The same forward, recording nothing. */
  @Benchmark
  public Value inference() {
    return BenchCommand.forward(model, Graph.inference(), x);
  }
}
