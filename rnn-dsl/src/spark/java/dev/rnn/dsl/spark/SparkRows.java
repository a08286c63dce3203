package dev.rnn.dsl.spark;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Function;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * Reading sequences, vectors and lengths out of Spark SQL rows and appending a column, and the
 * lazy batching of a partition: what the executors do with rows, in one place.
 */
final class SparkRows {
  private SparkRows() {}

  /** Field {@code i} of {@code row}, {@code array<array<double>>}, as {@code [T][F]}. */
  static double[][] sequence(Row row, int i) {
    checkArgument(!row.isNullAt(i), "sequence column '%s' is null in row %s",
        row.schema() == null ? i : row.schema().fieldNames()[i], row);
    List<?> steps = asList(row.get(i));
    double[][] s = new double[steps.size()][];
    for (int t = 0; t < s.length; t++) {
      s[t] = vector(steps.get(t));
    }
    return s;
  }

  /** Field {@code i} of {@code row}, {@code array<double>}, as a vector. */
  static double[] vector(Row row, int i) {
    checkArgument(!row.isNullAt(i), "column '%s' is null in row %s",
        row.schema() == null ? i : row.schema().fieldNames()[i], row);
    return vector(row.get(i));
  }

  /** Field {@code i} of {@code row}, an integer column. */
  static int length(Row row, int i) {
    checkArgument(!row.isNullAt(i), "length column '%s' is null in row %s",
        row.schema() == null ? i : row.schema().fieldNames()[i], row);
    long v = ((Number) row.get(i)).longValue();
    checkArgument(v >= 1 && v <= Integer.MAX_VALUE, "length %s is not a sequence length (>= 1)",
        v);
    return (int) v;
  }

  /** {@code row} with {@code value} appended as its last field. */
  static Row append(Row row, Object value) {
    Object[] v = new Object[row.size() + 1];
    for (int i = 0; i < row.size(); i++) {
      v[i] = row.get(i);
    }
    v[row.size()] = value;
    return RowFactory.create(v);
  }

  private static double[] vector(Object o) {
    if (o instanceof double[] d) {
      return d.clone();
    }
    List<?> l = asList(o);
    double[] d = new double[l.size()];
    for (int k = 0; k < d.length; k++) {
      d[k] = ((Number) l.get(k)).doubleValue();
    }
    return d;
  }

  /** A Spark array value (a Scala {@code Seq}, a Java list or an array) as a list. */
  private static List<?> asList(Object o) {
    if (o instanceof List<?> l) {
      return l;
    }
    if (o instanceof scala.collection.Seq<?> s) {
      return scala.jdk.javaapi.CollectionConverters.asJava(s);
    }
    if (o instanceof Object[] a) {
      return List.of(a);
    }
    throw new IllegalArgumentException("expected an array but got " + o.getClass().getName());
  }

  /**
   * The items of {@code in}, {@code size} at a time, each group mapped by {@code f} to as many
   * outputs, lazily: a partition's outputs are made one batch ahead of its reader, never all at
   * once.
   */
  static <I, O> Iterator<O> batched(Iterator<I> in, int size, Function<List<I>, List<O>> f) {
    return new Iterator<>() {
      private Iterator<O> current = List.<O>of().iterator();

      @Override public boolean hasNext() {
        while (!current.hasNext() && in.hasNext()) {
          List<I> batch = new ArrayList<>(size);
          while (batch.size() < size && in.hasNext()) {
            batch.add(in.next());
          }
          current = f.apply(batch).iterator();
        }
        return current.hasNext();
      }

      @Override public O next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return current.next();
      }
    };
  }
}
