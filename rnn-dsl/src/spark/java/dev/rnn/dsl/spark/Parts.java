package dev.rnn.dsl.spark;

import dev.rnn.autograd.Bptt;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.DataParallel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The parts of the data an executor holds for the runs it serves, each with its own copy of the
 * network, kept between the steps of a run (a static cache of the executor's JVM: rebuilt from
 * the partition's examples wherever it is missing, so it is only ever a cache).
 */
final class Parts {
  private static final Map<String, Part> PARTS = new ConcurrentHashMap<>();

  private Parts() {}

  /** A partition's examples, sorted by position, as a {@link DataParallel.Part}. */
  static final class Part {
    private final int[] positions;
    private final DataParallel.Part part;
    private final DataParallel.Worker worker;
    private final int parameters;

    Part(List<SparkCluster.Positioned> examples, DataParallel.Worker worker) {
      examples.sort(Comparator.comparingInt(SparkCluster.Positioned::position));
      this.positions = examples.stream().mapToInt(SparkCluster.Positioned::position).toArray();
      this.worker = worker;
      this.parameters = worker.parameterCount();
      if (examples.isEmpty()) {
        this.part = null;
        return;
      }
      Example first = examples.get(0).example();
      int n = examples.size();
      int t = first.steps();
      int f = first.features();
      int[] targetShape = first.targetShape();
      int perTarget = first.targetValues().length;
      double[] x = new double[n * t * f];
      double[] y = new double[n * perTarget];
      int[] lengths = first.length() == 0 ? null : new int[n];
      int[] indices = new int[n];
      for (int i = 0; i < n; i++) {
        Example e = examples.get(i).example();
        System.arraycopy(e.inputValues(), 0, x, i * t * f, t * f);
        System.arraycopy(e.targetValues(), 0, y, i * perTarget, perTarget);
        if (lengths != null) {
          lengths[i] = e.length();
        }
        indices[i] = examples.get(i).index();
      }
      int[] yShape = new int[targetShape.length + 1];
      yShape[0] = n;
      System.arraycopy(targetShape, 0, yShape, 1, targetShape.length);
      this.part = worker.part(Tensor.of(x, n, t, f), lengths, Tensor.of(y, yShape), indices);
    }

    List<Bptt.Window> windows(int steps) {
      return worker.windows(steps);
    }

    /** The positions in this part of the batch's examples, positions {@code [from, to)}. */
    int[] rows(int from, int to) {
      int a = lowerBound(from);
      int b = lowerBound(to);
      int[] rows = new int[b - a];
      for (int i = 0; i < rows.length; i++) {
        rows[i] = a + i;
      }
      return rows;
    }

    private int lowerBound(int position) {
      int i = Arrays.binarySearch(positions, position);
      return i >= 0 ? i : -i - 1;
    }

    boolean canRun(int epoch, int batch, Bptt.Window w) {
      return part == null || part.canRun(epoch, batch, w);
    }

    DataParallel.Sum window(double[] weights, int epoch, int batch, int[] rows, Bptt.Window w) {
      if (part == null) {
        return new DataParallel.Sum(new double[parameters], 0, 0);
      }
      part.setWeights(weights);
      return part.window(epoch, batch, rows, w);
    }
  }

  /** The part of partition {@code p} of layout {@code key}, built from {@code examples} if new. */
  static Part get(String key, int p, Iterator<SparkCluster.Positioned> examples,
      DataParallel.Worker worker) {
    String id = key + "/" + p;
    if (!PARTS.containsKey(id)) {
      String run = key.substring(0, key.lastIndexOf('/') + 1);
      PARTS.keySet().removeIf(other -> other.startsWith(run) && !other.startsWith(key + "/"));
    }
    return PARTS.computeIfAbsent(id, k -> {
      List<SparkCluster.Positioned> list = new ArrayList<>();
      examples.forEachRemaining(list::add);
      return new Part(list, worker);
    });
  }

  /** Forgets the parts of every layout whose key starts with {@code prefix}. */
  static void forget(String prefix) {
    PARTS.keySet().removeIf(k -> k.startsWith(prefix));
  }
}
