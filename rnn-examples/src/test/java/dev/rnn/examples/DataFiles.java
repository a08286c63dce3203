package dev.rnn.examples;

import dev.rnn.core.DType;
import dev.rnn.core.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Data directories for tests: the echo task (values per step) and the sign task (class ids). */
final class DataFiles {
  private DataFiles() {}

  /** Inputs uniform in [-1, 1], {@code [n, t, f]}, float32. */
  static Tensor inputs(long seed, int n, int t, int f) {
    return Tensor.uniform(DType.FLOAT32, seed, -1, 1, n, t, f);
  }

  /** The first feature delayed by two steps, {@code [n, t, 1]}. */
  static Tensor echo(Tensor x) {
    int n = x.dim(0);
    int t = x.dim(1);
    float[] y = new float[n * t];
    for (int i = 0; i < n; i++) {
      for (int s = 2; s < t; s++) {
        y[i * t + s] = (float) x.get(i, s - 2, 0);
      }
    }
    return Tensor.of(y, n, t, 1);
  }

  /** Class 1 where the first feature sums to more than 0, else 0: {@code [n]}. */
  static long[] signOfSum(Tensor x) {
    long[] c = new long[x.dim(0)];
    for (int i = 0; i < c.length; i++) {
      double s = 0;
      for (int t = 0; t < x.dim(1); t++) {
        s += x.get(i, t, 0);
      }
      c[i] = s > 0 ? 1 : 0;
    }
    return c;
  }

  /** Writes a shard of the given tensors. */
  static Path shard(Path file, Map<String, ShardFile.Entry> tensors) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    ShardFile.write(file, tensors);
    return file;
  }

  /** {@code inputs} and {@code targets} as a shard. */
  static Path shard(Path file, Tensor inputs, Tensor targets) throws IOException {
    Map<String, ShardFile.Entry> t = new LinkedHashMap<>();
    t.put("inputs", ShardFile.floats(inputs));
    if (targets != null) {
      t.put("targets", ShardFile.floats(targets));
    }
    return shard(file, t);
  }

  /** {@code inputs} and class ids {@code [n]} as I64. */
  static Path classShard(Path file, Tensor inputs, long[] classes) throws IOException {
    Map<String, ShardFile.Entry> t = new LinkedHashMap<>();
    t.put("inputs", ShardFile.floats(inputs));
    t.put("targets", ShardFile.integers("I64", classes, classes.length));
    return shard(file, t);
  }

  /** The echo task in {@code shards} shards of {@code n} examples of {@code t} steps. */
  static Path echoDirectory(Path dir, long seed, int shards, int n, int t) throws IOException {
    for (int k = 0; k < shards; k++) {
      Tensor x = inputs(seed * 100 + k, n, t, 1);
      shard(dir.resolve(String.format("part-%03d.safetensors", k)), x, echo(x));
    }
    return dir;
  }

  /** The sign task in one shard of {@code n} examples of {@code t} steps. */
  static Path signDirectory(Path dir, long seed, int n, int t) throws IOException {
    Tensor x = inputs(seed, n, t, 1);
    classShard(dir.resolve("part-000.safetensors"), x, signOfSum(x));
    return dir;
  }

  /** A random float32 tensor, for data of any shape. */
  static Tensor random(long seed, int... shape) {
    Random r = new Random(seed);
    int size = 1;
    for (int d : shape) {
      size *= d;
    }
    float[] a = new float[size];
    for (int i = 0; i < size; i++) {
      a[i] = (float) r.nextGaussian();
    }
    return Tensor.of(a, shape);
  }
}
