package dev.rnn.dsl.spark;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.Arrays;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The params {@link RnnEstimator} and {@link RnnModel} share (the columns the model reads and
 * writes, the batch size) and the kinds of target column, in one place.
 */
final class RnnParams {
  private RnnParams() {}

  static Param<String> sequenceCol(Identifiable owner) {
    return new Param<>(owner, "sequenceCol", "the input column, array<array<double>>: one"
        + " sequence [T][F] per row");
  }

  static Param<String> lengthCol(Identifiable owner) {
    return new Param<>(owner, "lengthCol", "the optional integer column of each sequence's real"
        + " steps, in [1, T]; the rest is padding, never read");
  }

  static Param<String> predictionCol(Identifiable owner) {
    return new Param<>(owner, "predictionCol", "the output column added: array<array<double>>"
        + " [T][O], or array<double> [O] after lastStep()");
  }

  static IntParam batchSize(Identifiable owner, String doc) {
    return new IntParam(owner, "batchSize", doc, ParamValidators.gtEq(1));
  }

  /** What a target column holds, read from its type and whether the network ends in lastStep. */
  enum Target {
    /** {@code array<array<double>>}: values per step, {@code [T][O]}. */
    VALUES(true),
    /** {@code array<int | long | double>}: a class id per step, {@code [T]}. */
    IDS(false),
    /** {@code array<double>} after {@code lastStep()}: values, {@code [O]}. */
    VECTOR(true),
    /** {@code int | long | double} after {@code lastStep()}: one class id. */
    ID(false);

    final boolean values;

    Target(boolean values) {
      this.values = values;
    }

    /**
     * The kind of column {@code name} of {@code schema}.
     *
     * @throws IllegalArgumentException if the column is missing or of another type, naming it
     *     and the types a target may have
     */
    static Target of(StructType schema, String name, boolean lastStep) {
      checkNotNull(name, "the target column's name is null");
      checkArgument(Arrays.asList(schema.fieldNames()).contains(name),
          "target column '%s' is not among the columns %s", name,
          Arrays.toString(schema.fieldNames()));
      DataType t = schema.apply(name).dataType();
      if (lastStep) {
        if (isNumber(t)) {
          return ID;
        }
        if (t instanceof ArrayType a && a.elementType().equals(DataTypes.DoubleType)) {
          return VECTOR;
        }
        throw new IllegalArgumentException("target column '" + name + "' of a network that ends"
            + " in lastStep() expected array<double> (values [O]) or a number (a class id) but"
            + " got " + t.simpleString());
      }
      if (t instanceof ArrayType a) {
        if (a.elementType() instanceof ArrayType b && b.elementType().equals(DataTypes.DoubleType)) {
          return VALUES;
        }
        if (isNumber(a.elementType())) {
          return IDS;
        }
      }
      throw new IllegalArgumentException("target column '" + name + "' expected"
          + " array<array<double>> (values [T][O]) or an array of numbers (class ids [T]) but"
          + " got " + t.simpleString());
    }

    private static boolean isNumber(DataType t) {
      return t.equals(DataTypes.IntegerType) || t.equals(DataTypes.LongType)
          || t.equals(DataTypes.ShortType) || t.equals(DataTypes.ByteType)
          || t.equals(DataTypes.DoubleType) || t.equals(DataTypes.FloatType);
    }
  }
}
