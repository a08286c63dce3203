package dev.rnn.examples;

import dev.rnn.core.DType;
import dev.rnn.core.Tensor;
import dev.rnn.dsl.Network;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Training data on disk, as {@code fit} and {@code predict} read it: a directory of safetensors
 * shards, read in file-name order, the examples of each in file order.
 *
 * <pre>
 *   inputs    [N, T, F]   F32 or F64                 N examples of T steps of F features
 *   targets   [N, T, O]   F32 or F64                 per step: O values (MSE)
 *             [N, T]      integer (I64, I32, ...)     per step: a class id in [0, O) (cross-entropy)
 *             [N, O]      F32 or F64                 networks ending in lastStep(): O values
 *             [N]         integer                     networks ending in lastStep(): a class id
 *   lengths   [N]         integer (I64, I32, ...)     optional: example n is its first lengths[n]
 *                                                     steps, each in [1, T]; the rest is padding
 * </pre>
 *
 * <p>Examples are example-major ({@code [N, T, F]}, as torch's {@code batch_first=True}) whatever
 * the network's layout; every shard has the same T, F and kind of targets; the dtype of the
 * targets says what they are (integers are class ids, floats are values), and their rank whether
 * there is one per step or one per example. Other tensor names are refused (a misspelt {@code
 * target} would otherwise be ignored), and so are files that are not {@code .safetensors} or are
 * hidden (a temporary file of an interrupted write).
 *
 * <p>With {@code lengths}, sequences of different lengths come padded to T: example {@code n} is
 * its first {@code lengths[n]} steps, and its steps after are padding, which the network never
 * reads ({@link Network#forward(Tensor, int[], dev.rnn.dsl.State)}) and the loss does not count
 * ({@link dev.rnn.dsl.Trainer#fit(Tensor, int[], Tensor)}); the padding may hold anything finite
 * (targets: anything finite, or a valid class id). Either every shard has lengths or none does.
 *
 * @param shards the files read, in order
 * @param counts the number of examples of each shard
 * @param inputs {@code [N, T, F]}, of the dtype asked for
 * @param targets as in the table (class ids as float64), or null if the shards have none
 * @param lengths the length of each example, in {@code [1, T]}, or null if the shards have none
 *     (every example is T steps)
 * @param classIds whether the targets are class ids
 */
record DataDirectory(List<Path> shards, List<Integer> counts, Tensor inputs, Tensor targets,
    int[] lengths, boolean classIds) {

  /** {@return N, the number of examples} */
  int examples() {
    return inputs.dim(0);
  }

  /** {@return T, the number of steps of every example} */
  int steps() {
    return inputs.dim(1);
  }

  /** {@return whether the targets are one per step} */
  boolean perStep() {
    return targets != null && targets.rank() == (classIds ? 2 : 3);
  }

  /**
   * The shards of {@code dir}, read and joined.
   *
   * @param dir the directory
   * @param dtype the dtype of the inputs (and of float targets)
   * @param needTargets whether every shard must have targets (for {@code fit})
   * @throws IOException naming the directory or the shard and what is wrong, on one line
   */
  static DataDirectory read(Path dir, DType dtype, boolean needTargets) throws IOException {
    List<Path> shards = shards(dir);
    List<Integer> counts = new ArrayList<>();
    List<Tensor> inputs = new ArrayList<>();
    List<Tensor> targets = new ArrayList<>();
    List<int[]> lengths = new ArrayList<>();
    Shard first = null;
    for (Path p : shards) {
      Shard s = Shard.of(p, ShardFile.read(p), needTargets);
      if (first == null) {
        first = s;
      } else {
        s.checkLike(first);
      }
      counts.add(s.inputs.dim(0));
      inputs.add(s.inputs.to(dtype));
      if (s.targets != null) {
        targets.add(s.targets.to(s.classIds ? DType.FLOAT64 : dtype));
      }
      if (s.lengths != null) {
        lengths.add(s.lengths);
      }
    }
    Tensor x = Tensor.concat(0, inputs);
    Tensor y = targets.isEmpty() ? null : Tensor.concat(0, targets);
    int[] l = lengths.isEmpty() ? null
        : lengths.stream().flatMapToInt(Arrays::stream).toArray();
    return new DataDirectory(List.copyOf(shards), List.copyOf(counts), x, y, l, first.classIds);
  }

  /** The {@code .safetensors} files of {@code dir} that are not hidden, by file name. */
  static List<Path> shards(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      throw new NoSuchFileException(dir.toString(), null, "no such data directory");
    }
    if (!Files.isDirectory(dir)) {
      throw new FileSystemException(dir.toString(), null,
          "is not a directory (a data directory holds .safetensors shards)");
    }
    List<Path> shards;
    try (Stream<Path> files = Files.list(dir)) {
      shards = files.filter(p -> p.getFileName().toString().endsWith(".safetensors"))
          .filter(p -> !p.getFileName().toString().startsWith("."))
          .filter(Files::isRegularFile)
          .sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()))
          .toList();
    }
    if (shards.isEmpty()) {
      throw new FileSystemException(dir.toString(), null,
          "holds no .safetensors shards (each holds inputs [N, T, F] and targets)");
    }
    return shards;
  }

  /**
   * The inputs in {@code net}'s layout: {@code [T, N, F]}, or {@code [N, T, F]} when batch-first.
   */
  Tensor inputsFor(Network net) {
    return net.batchFirst() ? inputs : inputs.transpose(0, 1);
  }

  /** The targets in {@code net}'s layout, as {@link dev.rnn.dsl.Trainer#fit} takes them. */
  Tensor targetsFor(Network net) {
    return net.batchFirst() || !perStep() ? targets : targets.transpose(0, 1);
  }

  /**
   * Checks the data against {@code net}: the feature count, one target per step or per example,
   * the number of values or the class ids.
   *
   * @param what how messages name the data, e.g. {@code --data train}
   * @throws IllegalArgumentException on one line, naming {@code what} and the network
   */
  void checkFits(Network net, String what) {
    int f = inputs.dim(2);
    if (f != net.inputSize()) {
      throw new IllegalArgumentException(String.format("%s: inputs have %s features per step"
          + " but the network %s takes %s", what, f, net.spec(), net.inputSize()));
    }
    if (targets == null) {
      return;
    }
    if (perStep() == net.lastStepOnly()) {
      throw new IllegalArgumentException(String.format("%s: targets %s are one per %s, but the"
          + " network %s outputs %s; write %s", what, targets.shape(),
          perStep() ? "step" : "example", net.spec(),
          net.lastStepOnly() ? "only the last step (lastStep())" : "every step",
          net.lastStepOnly() ? (classIds ? "[N] class ids" : "[N, O] values")
              : (classIds ? "[N, T] class ids" : "[N, T, O] values")));
    }
    int out = net.outputSize();
    if (!classIds) {
      if (targets.dim(-1) != out) {
        throw new IllegalArgumentException(String.format("%s: targets have %s values per %s but"
            + " the network %s outputs %s", what, targets.dim(-1), perStep() ? "step" : "example",
            net.spec(), out));
      }
      return;
    }
    for (int i = 0; i < targets.size(); i++) {
      double c = targets.at(i);
      if (c >= out) {
        int n = perStep() ? i / steps() : i;
        throw new IllegalArgumentException(String.format("%s: class id %d at %s%s, but the"
            + " network %s has %s outputs, so classes are 0 to %s", what, (long) c, locate(n),
            perStep() ? ", step " + i % steps() : "", net.spec(), out, out - 1));
      }
    }
  }

  /** Where example {@code n} is: {@code example 3 of part-001.safetensors}. */
  String locate(int n) {
    int first = 0;
    for (int k = 0; k < shards.size(); k++) {
      if (n < first + counts.get(k)) {
        return "example " + (n - first) + " of " + shards.get(k).getFileName();
      }
      first += counts.get(k);
    }
    throw new IllegalArgumentException("no example " + n + " in " + first + " examples");
  }

  /** One shard's tensors, checked on their own; {@code lengths} null without. */
  private record Shard(Path path, Tensor inputs, Tensor targets, int[] lengths,
      boolean classIds) {
    static Shard of(Path path, Map<String, ShardFile.Entry> t, boolean needTargets)
        throws IOException {
      for (String name : t.keySet()) {
        if (!name.equals("inputs") && !name.equals("targets") && !name.equals("lengths")) {
          throw new IOException(path + ": holds a tensor '" + name + "', but a data shard"
              + " holds inputs, targets and lengths only");
        }
      }
      ShardFile.Entry x = t.get("inputs");
      if (x == null) {
        throw new IOException(path + ": has no inputs (expected inputs [N, T, F] of F32 or F64)");
      }
      if (x.isInteger() || x.rank() != 3 || x.shape()[0] < 1 || x.shape()[1] < 1
          || x.shape()[2] < 1) {
        throw new IOException(path + ": inputs expected [N, T, F] of F32 or F64 with N, T, F >= 1"
            + " but got " + x.describe());
      }
      int n = x.shape()[0];
      int steps = x.shape()[1];
      int[] lengths = lengths(path, x, t.get("lengths"));
      ShardFile.Entry y = t.get("targets");
      if (y == null) {
        if (needTargets) {
          throw new IOException(path + ": has no targets (expected [N, T, O] or [N, O] of F32 or"
              + " F64, or class ids [N, T] or [N] of an integer dtype)");
        }
        return new Shard(path, x.floats(), null, lengths, false);
      }
      boolean ok = y.isInteger() ? y.rank() == 1 || y.rank() == 2 && y.shape()[1] == steps
          : y.rank() == 2 && y.shape()[1] >= 1 || y.rank() == 3 && y.shape()[1] == steps
              && y.shape()[2] >= 1;
      if (!ok || y.shape()[0] != n) {
        throw new IOException(path + ": targets expected, for inputs " + x.describe() + ", ["
            + n + ", " + steps + ", O] or [" + n + ", O] of F32 or F64, or class ids [" + n + ", "
            + steps + "] or [" + n + "] of an integer dtype, but got " + y.describe());
      }
      if (!y.isInteger()) {
        return new Shard(path, x.floats(), y.floats(), lengths, false);
      }
      double[] ids = new double[y.integers().length];
      for (int i = 0; i < ids.length; i++) {
        long c = y.integers()[i];
        if (c < 0 || c > (1L << 31)) {
          throw new IOException(path + ": targets hold class id " + c + " at "
              + Arrays.toString(index(y.shape(), i)) + "; class ids are 0, 1, 2, ...");
        }
        ids[i] = c;
      }
      return new Shard(path, x.floats(), Tensor.of(ids, y.shape()), lengths, true);
    }

    /**
     * The lengths of a shard of inputs {@code x}, checked: {@code [N]} integers in {@code [1,
     * T]}; null if there are none.
     */
    private static int[] lengths(Path path, ShardFile.Entry x, ShardFile.Entry l)
        throws IOException {
      if (l == null) {
        return null;
      }
      int n = x.shape()[0];
      int steps = x.shape()[1];
      if (!l.isInteger() || l.rank() != 1 || l.shape()[0] != n) {
        throw new IOException(path + ": lengths expected [" + n + "] of an integer dtype (I64,"
            + " I32, ...), one per example of inputs " + x.describe() + ", but got "
            + l.describe());
      }
      int[] lengths = new int[n];
      for (int i = 0; i < n; i++) {
        long v = l.integers()[i];
        if (v < 1 || v > steps) {
          throw new IOException(path + ": lengths[" + i + "] is " + v + ", but a length is in"
              + " [1, " + steps + "] (T = " + steps + ", the steps of inputs " + x.describe()
              + ")");
        }
        lengths[i] = (int) v;
      }
      return lengths;
    }

    /** Refuses a shard unlike the first: another T, F or kind of targets. */
    void checkLike(Shard first) throws IOException {
      if (inputs.dim(1) != first.inputs.dim(1) || inputs.dim(2) != first.inputs.dim(2)) {
        throw new IOException(path + ": inputs " + inputs.shape() + " but " + first.path
            + " has T = " + first.inputs.dim(1) + " steps and F = " + first.inputs.dim(2)
            + " features; every shard has the same T and F");
      }
      if ((lengths == null) != (first.lengths == null)) {
        throw new IOException(path + (lengths == null ? ": has no lengths but " : ": has lengths"
            + " but ") + first.path + (lengths == null ? " has" : " has none")
            + "; every shard has lengths or none does");
      }
      if ((targets == null) != (first.targets == null) || targets != null
          && (classIds != first.classIds || targets.rank() != first.targets.rank()
          || targets.dim(-1) != first.targets.dim(-1) && !classIds)) {
        throw new IOException(path + ": targets " + kind(this) + " but " + first.path + " has "
            + kind(first) + "; every shard has the same kind of targets");
      }
    }

    private static String kind(Shard s) {
      if (s.targets == null) {
        return "none";
      }
      return (s.classIds ? "class ids " : "values ") + s.targets.shape();
    }
  }

  private static int[] index(int[] shape, int i) {
    int[] at = new int[shape.length];
    for (int k = shape.length - 1, r = i; k >= 0; k--) {
      at[k] = r % shape[k];
      r /= shape[k];
    }
    return at;
  }
}
