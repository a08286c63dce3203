package dev.rnn.core;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Tensor}: factories, accessors, shape operations, arithmetic and comparisons. Shape
 * operations are checked on {@code x = arange(24).reshape(2, 3, 4)}, whose element {@code [i, j,
 * k]} is {@code 12 i + 4 j + k}, against values computed by hand.
 */
class TensorTest {

  /** {@code 0, 1, ..., n-1} in {@code shape}, as torch's {@code arange(n).reshape(shape)}. */
  static Tensor arange(DType dtype, int... shape) {
    double[] d = new double[Shape.of(shape).size()];
    for (int i = 0; i < d.length; i++) {
      d[i] = i;
    }
    return Tensor.of(d, shape).to(dtype);
  }

  /** The element {@code [i, j, k]} of {@code x} is {@code 12 i + 4 j + k}. */
  static Tensor x(DType dtype) {
    return arange(dtype, 2, 3, 4);
  }

  static Tensor x() {
    return x(DType.FLOAT64);
  }

  /** {@code expected} shape, dtype and elements, every difference reported. */
  static void assertTensor(Tensor actual, DType dtype, int[] shape, double... values) {
    assertAll(
        () -> assertEquals(Shape.of(shape), actual.shape(), "shape"),
        () -> assertEquals(dtype, actual.dtype(), "dtype"),
        () -> assertArrayEquals(values, actual.toDoubleArray(), "elements"));
  }

  static void assertTensor(Tensor actual, int[] shape, double... values) {
    assertTensor(actual, DType.FLOAT64, shape, values);
  }

  static int[] shape(int... dims) {
    return dims;
  }

  static IllegalArgumentException assertRejected(Executable call) {
    return assertThrows(IllegalArgumentException.class, call);
  }

  // ---- factories -----------------------------------------------------------------------------

  @Nested
  class Factories {
    @Test
    void ofFloatsIsFloat32WithTheDataInRowMajorOrder() {
      Tensor t = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
      assertAll(
          () -> assertTensor(t, DType.FLOAT32, shape(2, 3), 1, 2, 3, 4, 5, 6),
          () -> assertEquals(2, t.rank()),
          () -> assertEquals(6, t.size()),
          () -> assertEquals(2, t.dim(0)),
          () -> assertEquals(3, t.dim(-1)),
          () -> assertEquals(6.0, t.get(1, 2)));
    }

    @Test
    void ofDoublesIsFloat64WithTheDataInRowMajorOrder() {
      Tensor t = Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 3, 2);
      assertAll(
          () -> assertTensor(t, DType.FLOAT64, shape(3, 2), 1, 2, 3, 4, 5, 6),
          () -> assertEquals(4.0, t.get(1, 1)));
    }

    @Test
    void ofOneElementWithoutDimensionsIsAScalar() {
      Tensor t = Tensor.of(new double[] {2.5});
      assertAll(
          () -> assertEquals(0, t.rank()),
          () -> assertEquals(1, t.size()),
          () -> assertEquals(2.5, t.get()));
    }

    @Test
    void ofFloatsCopiesTheData() {
      float[] data = {1, 2, 3};
      Tensor t = Tensor.of(data, 3);
      data[0] = 7;
      assertTensor(t, DType.FLOAT32, shape(3), 1, 2, 3);
    }

    @Test
    void ofDoublesCopiesTheData() {
      double[] data = {1, 2, 3};
      Tensor t = Tensor.of(data, 3);
      data[0] = 7;
      assertTensor(t, shape(3), 1, 2, 3);
    }

    static Stream<Arguments> misfits() {
      return Stream.of(
          Arguments.of("too few elements", 5, new int[] {2, 3},
              "data of 5 elements does not fit shape [2, 3] of 6 elements"),
          Arguments.of("too many elements", 7, new int[] {2, 3},
              "data of 7 elements does not fit shape [2, 3] of 6 elements"),
          Arguments.of("no dimensions is a scalar", 7, new int[0],
              "data of 7 elements does not fit shape [] of 1 elements"),
          Arguments.of("negative dimension", 6, new int[] {-2, -3},
              "shape [-2, -3] has a negative dimension -2 at index 0"));
    }

    @ParameterizedTest(name = "float32, {0}")
    @MethodSource("misfits")
    void ofFloatsRejectsDataThatDoesNotFit(String name, int length, int[] shape, String message) {
      assertEquals(message, assertRejected(() -> Tensor.of(new float[length], shape)).getMessage());
    }

    @ParameterizedTest(name = "float64, {0}")
    @MethodSource("misfits")
    void ofDoublesRejectsDataThatDoesNotFit(String name, int length, int[] shape, String message) {
      assertEquals(message,
          assertRejected(() -> Tensor.of(new double[length], shape)).getMessage());
    }

    @Test
    void ofRowsIsAFloat64MatrixOfTheRows() {
      Tensor t = Tensor.ofRows(new double[][] {{1, 2, 3}, {4, 5, 6}});
      assertTensor(t, shape(2, 3), 1, 2, 3, 4, 5, 6);
    }

    @Test
    void ofRowsCopiesTheRows() {
      double[][] rows = {{1, 2}, {3, 4}};
      Tensor t = Tensor.ofRows(rows);
      rows[1][0] = 7;
      assertTensor(t, shape(2, 2), 1, 2, 3, 4);
    }

    @Test
    void ofRowsOfEmptyRowsHasNoColumns() {
      assertTensor(Tensor.ofRows(new double[][] {{}, {}}), shape(2, 0));
    }

    @Test
    void ofRowsWithoutRowsIsRejected() {
      assertEquals("ofRows expected at least one row but got none",
          assertRejected(() -> Tensor.ofRows(new double[0][])).getMessage());
    }

    @Test
    void ofRowsWithARaggedRowNamesTheRow() {
      assertEquals("ofRows expected rows of length 3 but row 1 has length 7",
          assertRejected(() -> Tensor.ofRows(new double[][] {{1, 2, 3}, new double[7], {1, 2}}))
              .getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void zerosIsZeroEverywhere(DType dtype) {
      assertTensor(Tensor.zeros(dtype, 2, 3), dtype, shape(2, 3), 0, 0, 0, 0, 0, 0);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void fullHasTheValueEverywhere(DType dtype) {
      assertTensor(Tensor.full(dtype, -2.5, 3, 1), dtype, shape(3, 1), -2.5, -2.5, -2.5);
    }

    @Test
    void fullInFloat32RoundsTheValue() {
      assertEquals((double) 0.1f, Tensor.full(DType.FLOAT32, 0.1, 2).get(1));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void factoriesAcceptEmptyShapes(DType dtype) {
      assertAll(
          () -> assertTensor(Tensor.zeros(dtype, 3, 0), dtype, shape(3, 0)),
          () -> assertTensor(Tensor.full(dtype, 1, 0), dtype, shape(0)),
          () -> assertTensor(Tensor.randn(dtype, 7, 0, 2), dtype, shape(0, 2)),
          () -> assertTensor(Tensor.uniform(dtype, 7, -1, 1, 2, 0), dtype, shape(2, 0)));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void factoriesRejectNegativeDimensions(DType dtype) {
      String message = "shape [2, -7] has a negative dimension -7 at index 1";
      assertAll(
          () -> assertEquals(message, assertRejected(() -> Tensor.zeros(dtype, 2, -7)).getMessage()),
          () -> assertEquals(message,
              assertRejected(() -> Tensor.full(dtype, 1, 2, -7)).getMessage()),
          () -> assertEquals(message,
              assertRejected(() -> Tensor.randn(dtype, 1, 2, -7)).getMessage()),
          () -> assertEquals(message,
              assertRejected(() -> Tensor.uniform(dtype, 1, 0, 1, 2, -7)).getMessage()));
    }
  }

  @Nested
  class FromNestedArrays {
    @Test
    void eachRankAndElementTypeGivesItsShapeAndDtype() {
      double[][][] seq = new double[2][3][4];
      float[][][] seqF = new float[2][3][4];
      for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 3; j++) {
          for (int k = 0; k < 4; k++) {
            seq[i][j][k] = 12 * i + 4 * j + k;
            seqF[i][j][k] = 12 * i + 4 * j + k;
          }
        }
      }
      double[][][][] four = {seq, seq};
      float[][][][] fourF = {seqF, seqF};
      assertAll(
          () -> assertEquals(x(), Tensor.of(seq)),
          () -> assertEquals(x(DType.FLOAT32), Tensor.of(seqF)),
          () -> assertTensor(Tensor.of(new double[][] {{1, 2, 3}, {4, 5, 6}}), shape(2, 3),
              1, 2, 3, 4, 5, 6),
          () -> assertTensor(Tensor.of(new float[][] {{1, 2}, {3, 4}, {5, 6}}), DType.FLOAT32,
              shape(3, 2), 1, 2, 3, 4, 5, 6),
          () -> assertEquals(Tensor.concat(0, List.of(x().reshape(1, 2, 3, 4),
              x().reshape(1, 2, 3, 4))), Tensor.of(four)),
          () -> assertEquals(Tensor.of(four).to(DType.FLOAT32), Tensor.of(fourF)),
          () -> assertTensor(Tensor.ofNested(new double[] {7, 8}), shape(2), 7, 8),
          () -> assertTensor(Tensor.ofNested(new float[][][][][] {{{{{5}}}}}), DType.FLOAT32,
              shape(1, 1, 1, 1, 1), 5),
          () -> assertEquals(Tensor.ofRows(new double[][] {{1, 2}, {3, 4}}),
              Tensor.of(new double[][] {{1, 2}, {3, 4}})));
    }

    @Test
    void copiesTheArrays() {
      double[][] rows = {{1, 2}, {3, 4}};
      Tensor t = Tensor.of(rows);
      rows[1][0] = 99;
      assertEquals(3, t.get(1, 0));
    }

    @Test
    void refusesRaggedEmptyNullAndOtherArraysNamingTheFirstCulprit() {
      assertAll(
          () -> assertEquals("Tensor.of expected a rectangular array of shape [2, 3] (read from"
                  + " the first array at each depth) but data[1] has length 2",
              assertRejected(() -> Tensor.of(new double[][] {{1, 2, 3}, {4, 5}})).getMessage()),
          () -> assertEquals("Tensor.of expected a rectangular array of shape [2, 2, 2] (read"
                  + " from the first array at each depth) but data[1][1] has length 3",
              assertRejected(() -> Tensor.of(new float[][][] {{{1, 2}, {3, 4}},
                  {{5, 6}, {7, 8, 9}}})).getMessage()),
          () -> assertEquals("Tensor.of expected non-empty arrays but data[0] has length 0",
              assertRejected(() -> Tensor.of(new double[3][0])).getMessage()),
          () -> assertEquals("Tensor.of expected non-empty arrays but data has length 0",
              assertRejected(() -> Tensor.of(new double[0][2][2])).getMessage()),
          () -> assertEquals("Tensor.of expected arrays but data[1] is null",
              assertRejected(() -> Tensor.of(new double[][] {{1}, null})).getMessage()),
          () -> assertEquals("Tensor.ofNested expected a double[]...[] or float[]...[] but got"
                  + " int[][]",
              assertRejected(() -> Tensor.ofNested(new int[][] {{1}})).getMessage()),
          () -> assertEquals("Tensor.ofNested expected a double[]...[] or float[]...[] but got"
                  + " String",
              assertRejected(() -> Tensor.ofNested("1, 2")).getMessage()));
    }
  }

  @Nested
  class RandomFactories {
    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void randnWithEqualSeedsIsEqual(DType dtype) {
      Tensor a = Tensor.randn(dtype, 42, 3, 4);
      Tensor b = Tensor.randn(dtype, 42, 3, 4);
      assertAll(
          () -> assertEquals(a, b),
          () -> assertEquals(dtype, a.dtype()),
          () -> assertEquals(Shape.of(3, 4), a.shape()));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void randnWithOtherSeedsDiffers(DType dtype) {
      assertNotEquals(Tensor.randn(dtype, 42, 3, 4), Tensor.randn(dtype, 43, 3, 4));
    }

    @Test
    void randnDrawsGaussiansFromJavaUtilRandomInRowMajorOrder() {
      Random rnd = new Random(7);
      double[] expected = new double[6];
      for (int i = 0; i < expected.length; i++) {
        expected[i] = rnd.nextGaussian();
      }
      assertTensor(Tensor.randn(DType.FLOAT64, 7, 2, 3), shape(2, 3), expected);
    }

    @Test
    void randnInFloat32IsFloat64Rounded() {
      assertEquals(Tensor.randn(DType.FLOAT64, 7, 5, 3).to(DType.FLOAT32),
          Tensor.randn(DType.FLOAT32, 7, 5, 3));
    }

    @Test
    void randnHasMeanZeroAndVarianceOne() {
      Tensor t = Tensor.randn(DType.FLOAT64, 1, 100, 100);
      double mean = t.sum() / t.size();
      double variance = t.mul(t).sum() / t.size() - mean * mean;
      assertAll(
          () -> assertEquals(0, mean, 0.05),
          () -> assertEquals(1, variance, 0.05));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void uniformWithEqualSeedsIsEqual(DType dtype) {
      Tensor a = Tensor.uniform(dtype, 42, -0.5, 0.5, 3, 4);
      Tensor b = Tensor.uniform(dtype, 42, -0.5, 0.5, 3, 4);
      assertAll(
          () -> assertEquals(a, b),
          () -> assertEquals(dtype, a.dtype()),
          () -> assertEquals(Shape.of(3, 4), a.shape()));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void uniformWithOtherSeedsDiffers(DType dtype) {
      assertNotEquals(Tensor.uniform(dtype, 42, -0.5, 0.5, 3, 4),
          Tensor.uniform(dtype, 43, -0.5, 0.5, 3, 4));
    }

    @Test
    void uniformScalesJavaUtilRandomDoublesInRowMajorOrder() {
      Random rnd = new Random(7);
      double[] expected = new double[6];
      for (int i = 0; i < expected.length; i++) {
        expected[i] = -2 + 5 * rnd.nextDouble();
      }
      assertTensor(Tensor.uniform(DType.FLOAT64, 7, -2, 3, 3, 2), shape(3, 2), expected);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void uniformStaysWithinLowAndHigh(DType dtype) {
      Tensor t = Tensor.uniform(dtype, 3, -0.25, 0.75, 50, 40);
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      for (double v : t.toDoubleArray()) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      double lo = min;
      double hi = max;
      assertAll(
          () -> assertTrue(lo >= -0.25, "min " + lo),
          () -> assertTrue(hi < 0.75, "max " + hi),
          () -> assertTrue(lo < -0.2, "min " + lo + " should come near low"),
          () -> assertTrue(hi > 0.7, "max " + hi + " should come near high"));
    }
  }

  @Nested
  class Adopt {
    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void wrapsTheStorageWithoutACopy(DType dtype) {
      Storage s = Storage.allocate(dtype, 6);
      Tensor t = Tensor.adopt(s, Shape.of(2, 3));
      assertAll(
          () -> assertSame(s, t.storage()),
          () -> assertEquals(dtype, t.dtype()),
          () -> assertEquals(Shape.of(2, 3), t.shape()));
    }

    @Test
    void rejectsAStorageOfAnotherSize() {
      assertEquals("storage of 7 elements does not fit shape [2, 3] of 6 elements",
          assertRejected(() -> Tensor.adopt(Storage.allocate(DType.FLOAT32, 7), Shape.of(2, 3)))
              .getMessage());
    }
  }

  @Nested
  class CopyOf {
    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void holdsACopyThatTheStorageOwnerCannotChange(DType dtype) {
      Storage s = Storage.allocate(dtype, 6);
      s.set(4, 2.5);
      Tensor t = Tensor.copyOf(s, Shape.of(2, 3));
      s.set(4, 7);
      assertAll(
          () -> assertNotSame(s, t.storage()),
          () -> assertEquals(dtype, t.dtype()),
          () -> assertEquals(Shape.of(2, 3), t.shape()),
          () -> assertArrayEquals(new double[] {0, 0, 0, 0, 2.5, 0}, t.toDoubleArray()));
    }

    @Test
    void rejectsAStorageOfAnotherSizeAsAdoptDoes() {
      assertEquals("storage of 7 elements does not fit shape [2, 3] of 6 elements",
          assertRejected(() -> Tensor.copyOf(Storage.allocate(DType.FLOAT64, 7), Shape.of(2, 3)))
              .getMessage());
    }

    @Test
    void adoptingWithoutACopyIsNotPublic() throws ReflectiveOperationException {
      assertFalse(Modifier.isPublic(
          Tensor.class.getDeclaredMethod("adopt", Storage.class, Shape.class).getModifiers()));
    }
  }

  // ---- accessors ------------------------------------------------------------------------------

  @Nested
  class Accessors {
    @Test
    void getReadsEveryElementByIndex() {
      Tensor t = x();
      List<Executable> checks = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 3; j++) {
          for (int k = 0; k < 4; k++) {
            int[] idx = {i, j, k};
            double expected = 12 * i + 4 * j + k;
            checks.add(() -> assertEquals(expected, t.get(idx), () -> "x" + List.of(idx)));
          }
        }
      }
      assertAll(checks);
    }

    @Test
    void getOfFloat32WidensExactly() {
      assertEquals((double) 0.1f, Tensor.of(new float[] {0.1f}, 1).get(0));
    }

    @Test
    void atReadsInRowMajorOrder() {
      Tensor t = Tensor.ofRows(new double[][] {{1, 2}, {3, 4}});
      assertAll(
          () -> assertEquals(1.0, t.at(0)),
          () -> assertEquals(2.0, t.at(1)),
          () -> assertEquals(3.0, t.at(2)),
          () -> assertEquals(4.0, t.at(3)));
    }

    static Stream<Arguments> badIndices() {
      return Stream.of(
          Arguments.of("too few indices", new int[] {1},
              "get expected 2 indices for shape [2, 3] but got 1"),
          Arguments.of("too many indices", new int[] {1, 2, 0},
              "get expected 2 indices for shape [2, 3] but got 3"),
          Arguments.of("first index too large", new int[] {2, 0},
              "index [2, 0] out of bounds for shape [2, 3]"),
          Arguments.of("second index too large", new int[] {0, 3},
              "index [0, 3] out of bounds for shape [2, 3]"),
          Arguments.of("first index negative", new int[] {-1, 0},
              "index [-1, 0] out of bounds for shape [2, 3]"),
          Arguments.of("second index negative", new int[] {1, -1},
              "index [1, -1] out of bounds for shape [2, 3]"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badIndices")
    void getRejectsABadIndex(String name, int[] index, String message) {
      Tensor t = Tensor.zeros(DType.FLOAT32, 2, 3);
      assertEquals(message, assertRejected(() -> t.get(index)).getMessage());
    }

    static Stream<Arguments> badFlatIndices() {
      return Stream.of(
          Arguments.of("one past the end", 6, "flat index 6 out of bounds for 6 elements"),
          Arguments.of("negative", -1, "flat index -1 out of bounds for 6 elements"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFlatIndices")
    void atRejectsABadIndex(String name, int index, String message) {
      Tensor t = Tensor.zeros(DType.FLOAT64, 2, 3);
      assertEquals(message, assertRejected(() -> t.at(index)).getMessage());
    }

    @Test
    void toFloatArrayRoundsFloat64() {
      assertArrayEquals(new float[] {0.1f, 2f},
          Tensor.of(new double[] {0.1, 2}, 2).toFloatArray());
    }

    @Test
    void toDoubleArrayWidensFloat32() {
      assertArrayEquals(new double[] {0.1f, 2},
          Tensor.of(new float[] {0.1f, 2}, 2).toDoubleArray());
    }

    @Test
    void copyStorageIsAnEqualStorage() {
      Storage s = x().copyStorage();
      assertAll(
          () -> assertEquals(DType.FLOAT64, s.dtype()),
          () -> assertArrayEquals(x().toDoubleArray(), ((Float64Storage) s).a));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void copyIntoWritesFromTheOffset(DType dtype) {
      Storage dst = Storage.allocate(dtype, 5);
      Tensor.of(new double[] {1, 2, 3}, 3).to(dtype).copyInto(dst, 1);
      assertArrayEquals(new double[] {0, 1, 2, 3, 0},
          Tensor.adopt(dst, Shape.of(5)).toDoubleArray());
    }

    @Test
    void copyIntoAnotherDtypeIsRejected() {
      Tensor t = Tensor.zeros(DType.FLOAT32, 3);
      assertEquals("copyInto expected a FLOAT32 storage but got FLOAT64",
          assertRejected(() -> t.copyInto(Storage.allocate(DType.FLOAT64, 3), 0)).getMessage());
    }
  }

  // ---- immutability --------------------------------------------------------------------------

  @Nested
  class IsImmutable {
    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void mutatingToFloatArrayLeavesTheTensorUnchanged(DType dtype) {
      Tensor t = arange(dtype, 2, 3);
      float[] a = t.toFloatArray();
      a[0] = 99;
      float[] again = t.toFloatArray();
      assertAll(
          () -> assertEquals(0.0, t.at(0)),
          () -> assertEquals(0f, again[0]),
          () -> assertEquals(arange(dtype, 2, 3), t));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void mutatingToDoubleArrayLeavesTheTensorUnchanged(DType dtype) {
      Tensor t = arange(dtype, 2, 3);
      double[] a = t.toDoubleArray();
      a[0] = 99;
      double[] again = t.toDoubleArray();
      assertAll(
          () -> assertEquals(0.0, t.at(0)),
          () -> assertEquals(0.0, again[0]),
          () -> assertEquals(arange(dtype, 2, 3), t));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void mutatingCopyStorageLeavesTheTensorUnchanged(DType dtype) {
      Tensor t = arange(dtype, 2, 3);
      Storage s = t.copyStorage();
      s.fill(0, 6, 99);
      assertEquals(arange(dtype, 2, 3), t);
    }

    static Stream<Arguments> operations() {
      return Stream.of(
          Arguments.of("to float32", (UnaryOperator<Tensor>) t -> t.to(DType.FLOAT32)),
          Arguments.of("to float64", (UnaryOperator<Tensor>) t -> t.to(DType.FLOAT64)),
          Arguments.of("reshape", (UnaryOperator<Tensor>) t -> t.reshape(3, 8)),
          Arguments.of("transpose", (UnaryOperator<Tensor>) t -> t.transpose(0, 2)),
          Arguments.of("permute", (UnaryOperator<Tensor>) t -> t.permute(2, 0, 1)),
          Arguments.of("slice", (UnaryOperator<Tensor>) t -> t.slice(1, 1, 2)),
          Arguments.of("select", (UnaryOperator<Tensor>) t -> t.select(0, 1)),
          Arguments.of("concat", (UnaryOperator<Tensor>) t -> Tensor.concat(0, List.of(t, t))),
          Arguments.of("add", (UnaryOperator<Tensor>) t -> t.add(t)),
          Arguments.of("sub", (UnaryOperator<Tensor>) t -> t.sub(t)),
          Arguments.of("mul", (UnaryOperator<Tensor>) t -> t.mul(t)),
          Arguments.of("scale", (UnaryOperator<Tensor>) t -> t.scale(3)),
          Arguments.of("map", (UnaryOperator<Tensor>) t -> t.map(v -> -v)),
          Arguments.of("tanh", (UnaryOperator<Tensor>) Tensor::tanh),
          Arguments.of("relu", (UnaryOperator<Tensor>) Tensor::relu),
          Arguments.of("sigmoid", (UnaryOperator<Tensor>) Tensor::sigmoid),
          Arguments.of("matmul", (UnaryOperator<Tensor>) t -> t.reshape(6, 4).matmul(
              t.reshape(4, 6))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("operations")
    void operationsLeaveTheirInputUnchanged(String name, UnaryOperator<Tensor> op) {
      List<Executable> checks = new ArrayList<>();
      for (DType dtype : DType.values()) {
        Tensor t = x(dtype);
        op.apply(t);
        checks.add(() -> assertEquals(x(dtype), t, dtype.torchName()));
      }
      assertAll(checks);
    }
  }

  // ---- dtype conversion ----------------------------------------------------------------------

  @Nested
  class DtypeConversion {
    @Test
    void float32ToFloat64WidensExactly() {
      Tensor t = Tensor.of(new float[] {0.1f, -3.5f, 1e-40f}, 3);
      assertTensor(t.to(DType.FLOAT64), DType.FLOAT64, shape(3), 0.1f, -3.5f, 1e-40f);
    }

    @Test
    void float64ToFloat32RoundsToNearest() {
      Tensor t = Tensor.of(new double[] {0.1, -3.5, 1e300, 1e-50}, 2, 2);
      Tensor f = t.to(DType.FLOAT32);
      assertAll(
          () -> assertEquals(DType.FLOAT32, f.dtype()),
          () -> assertEquals(Shape.of(2, 2), f.shape()),
          () -> assertArrayEquals(new float[] {0.1f, -3.5f, Float.POSITIVE_INFINITY, 0f},
              f.toFloatArray()));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void toItsOwnDtypeIsItself(DType dtype) {
      Tensor t = x(dtype);
      assertSame(t, t.to(dtype));
    }

    @Test
    void roundTripOfFloat32ValuesIsExact() {
      Tensor t = Tensor.randn(DType.FLOAT32, 3, 4, 5);
      assertEquals(t, t.to(DType.FLOAT64).to(DType.FLOAT32));
    }
  }

  // ---- reshape -------------------------------------------------------------------------------

  @Nested
  class Reshape {
    static Stream<Arguments> reshapes() {
      return Stream.of(
          Arguments.of("to a matrix", new int[] {6, 4}, new int[] {6, 4}),
          Arguments.of("to a vector", new int[] {24}, new int[] {24}),
          Arguments.of("to rank 4", new int[] {2, 2, 3, 2}, new int[] {2, 2, 3, 2}),
          Arguments.of("-1 first", new int[] {-1, 4}, new int[] {6, 4}),
          Arguments.of("-1 last", new int[] {3, -1}, new int[] {3, 8}),
          Arguments.of("-1 in the middle", new int[] {2, -1, 2}, new int[] {2, 6, 2}),
          Arguments.of("-1 alone flattens", new int[] {-1}, new int[] {24}),
          Arguments.of("-1 beside a 1", new int[] {1, -1, 1}, new int[] {1, 24, 1}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reshapes")
    void keepsTheRowMajorOrder(String name, int[] dims, int[] expected) {
      assertTensor(x().reshape(dims), expected, x().toDoubleArray());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void keepsTheDtype(DType dtype) {
      assertEquals(dtype, x(dtype).reshape(4, 6).dtype());
    }

    @Test
    void scalarToOneElementAndBack() {
      Tensor s = Tensor.of(new double[] {2.5});
      assertAll(
          () -> assertTensor(s.reshape(1, 1), shape(1, 1), 2.5),
          () -> assertTensor(s.reshape(1, 1).reshape(), shape(), 2.5));
    }

    @Test
    void emptyTensorMayBeReshapedWithKnownDimensions() {
      assertTensor(Tensor.zeros(DType.FLOAT64, 2, 0).reshape(0, 3), shape(0, 3));
    }

    static Stream<Arguments> misfits() {
      return Stream.of(
          Arguments.of("two -1", new int[] {-1, -1},
              "reshape [-1, -1] has more than one -1"),
          Arguments.of("too few elements", new int[] {5, 4},
              "cannot reshape [2, 3, 4] (24 elements) to [5, 4] (20 elements)"),
          Arguments.of("too many elements", new int[] {7, 4},
              "cannot reshape [2, 3, 4] (24 elements) to [7, 4] (28 elements)"),
          Arguments.of("-1 that does not divide", new int[] {-1, 7},
              "cannot reshape [2, 3, 4] to [-1, 7]"),
          Arguments.of("-1 beside a zero", new int[] {-1, 0},
              "cannot reshape [2, 3, 4] to [-1, 0]"),
          Arguments.of("another negative size", new int[] {-2, -12},
              "shape [-2, -12] has a negative dimension -2 at index 0"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("misfits")
    void rejectsAShapeThatDoesNotFit(String name, int[] dims, String message) {
      assertEquals(message, assertRejected(() -> x().reshape(dims)).getMessage());
    }
  }

  // ---- transpose and permute -----------------------------------------------------------------

  @Nested
  class TransposeAndPermute {
    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void transposeOfAMatrixSwapsRowsAndColumns(DType dtype) {
      Tensor m = Tensor.ofRows(new double[][] {{1, 2, 3}, {4, 5, 6}}).to(dtype);
      assertTensor(m.transpose(0, 1), dtype, shape(3, 2), 1, 4, 2, 5, 3, 6);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void theTransposedCopiesAreTransposeAndCopyInOne(DType dtype) {
      Tensor x = Tensor.randn(dtype, 7, 2, 3, 5);
      Storage s = x.copyStorage(0, 1);
      Tensor back = Tensor.transposedCopyOf(s, Shape.of(3, 2, 5), 0, 1);
      Storage same = x.copyStorage(1, 1);
      assertAll(
          () -> assertEquals(x.transpose(0, 1), Tensor.copyOf(s, Shape.of(3, 2, 5))),
          () -> assertEquals(x, back),
          () -> assertEquals(x, Tensor.copyOf(same, x.shape())),
          // copies: writing the storages changes no tensor
          () -> {
            s.set(0, 99);
            same.set(0, 99);
            assertEquals(x, back);
            assertNotEquals(99, x.at(0));
          },
          () -> assertEquals(x.transpose(-1, 0), Tensor.transposedCopyOf(x.copyStorage(), x.shape(),
              -1, 0)),
          () -> assertThrows(IllegalArgumentException.class, () -> x.copyStorage(0, 3)));
    }

    @Test
    void transposeOfAMatrixWithNegativeDimensions() {
      Tensor m = Tensor.ofRows(new double[][] {{1, 2, 3}, {4, 5, 6}});
      assertEquals(m.transpose(0, 1), m.transpose(-1, -2));
    }

    static Stream<Arguments> rank3Transposes() {
      return Stream.of(
          Arguments.of("transpose(0, 1)", 0, 1, new int[] {3, 2, 4}, new double[] {
              0, 1, 2, 3, 12, 13, 14, 15,
              4, 5, 6, 7, 16, 17, 18, 19,
              8, 9, 10, 11, 20, 21, 22, 23}),
          Arguments.of("transpose(1, 2)", 1, 2, new int[] {2, 4, 3}, new double[] {
              0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11,
              12, 16, 20, 13, 17, 21, 14, 18, 22, 15, 19, 23}),
          Arguments.of("transpose(0, 2)", 0, 2, new int[] {4, 3, 2}, new double[] {
              0, 12, 4, 16, 8, 20,
              1, 13, 5, 17, 9, 21,
              2, 14, 6, 18, 10, 22,
              3, 15, 7, 19, 11, 23}),
          Arguments.of("transpose(2, 0) is transpose(0, 2)", 2, 0, new int[] {4, 3, 2},
              new double[] {
                  0, 12, 4, 16, 8, 20,
                  1, 13, 5, 17, 9, 21,
                  2, 14, 6, 18, 10, 22,
                  3, 15, 7, 19, 11, 23}),
          Arguments.of("transpose(-1, 0) is transpose(2, 0)", -1, 0, new int[] {4, 3, 2},
              new double[] {
                  0, 12, 4, 16, 8, 20,
                  1, 13, 5, 17, 9, 21,
                  2, 14, 6, 18, 10, 22,
                  3, 15, 7, 19, 11, 23}),
          Arguments.of("transpose(1, 1) changes nothing", 1, 1, new int[] {2, 3, 4},
              x().toDoubleArray()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rank3Transposes")
    void transposeOfRank3(String name, int a, int b, int[] shape, double[] expected) {
      for (DType dtype : DType.values()) {
        assertTensor(x(dtype).transpose(a, b), dtype, shape, expected);
      }
    }

    @Test
    void transposeOfTheSameDimensionIsItself() {
      Tensor t = x();
      assertSame(t, t.transpose(-2, 1));
    }

    static Stream<Arguments> rank3Permutations() {
      return Stream.of(
          Arguments.of("identity", new int[] {0, 1, 2}, new int[] {2, 3, 4}, x().toDoubleArray()),
          Arguments.of("(2, 0, 1)", new int[] {2, 0, 1}, new int[] {4, 2, 3}, new double[] {
              0, 4, 8, 12, 16, 20,
              1, 5, 9, 13, 17, 21,
              2, 6, 10, 14, 18, 22,
              3, 7, 11, 15, 19, 23}),
          Arguments.of("(1, 2, 0)", new int[] {1, 2, 0}, new int[] {3, 4, 2}, new double[] {
              0, 12, 1, 13, 2, 14, 3, 15,
              4, 16, 5, 17, 6, 18, 7, 19,
              8, 20, 9, 21, 10, 22, 11, 23}),
          Arguments.of("(1, 0, 2) is transpose(0, 1)", new int[] {1, 0, 2}, new int[] {3, 2, 4},
              new double[] {
                  0, 1, 2, 3, 12, 13, 14, 15,
                  4, 5, 6, 7, 16, 17, 18, 19,
                  8, 9, 10, 11, 20, 21, 22, 23}),
          Arguments.of("(2, 1, 0) reverses", new int[] {2, 1, 0}, new int[] {4, 3, 2},
              new double[] {
                  0, 12, 4, 16, 8, 20,
                  1, 13, 5, 17, 9, 21,
                  2, 14, 6, 18, 10, 22,
                  3, 15, 7, 19, 11, 23}));
    }

    @ParameterizedTest(name = "permute{0}")
    @MethodSource("rank3Permutations")
    void permuteOfRank3(String name, int[] perm, int[] shape, double[] expected) {
      for (DType dtype : DType.values()) {
        assertTensor(x(dtype).permute(perm), dtype, shape, expected);
      }
    }

    /** Result element {@code [i0, i1, i2, i3]} is input element with {@code in[perm[d]] = i_d}. */
    @Test
    void permuteOfRank4MovesEveryElementByItsIndex() {
      Tensor t = Tensor.randn(DType.FLOAT64, 5, 2, 3, 1, 4);
      int[] perm = {3, 0, 2, 1};
      Tensor p = t.permute(perm);
      assertEquals(Shape.of(4, 2, 1, 3), p.shape());
      List<Executable> checks = new ArrayList<>();
      for (int a = 0; a < 4; a++) {
        for (int b = 0; b < 2; b++) {
          for (int c = 0; c < 1; c++) {
            for (int d = 0; d < 3; d++) {
              int[] out = {a, b, c, d};
              int[] in = new int[4];
              for (int i = 0; i < 4; i++) {
                in[perm[i]] = out[i];
              }
              checks.add(() -> assertEquals(t.get(in), p.get(out)));
            }
          }
        }
      }
      assertAll(checks);
    }

    @Test
    void permuteThenItsInverseIsTheIdentity() {
      Tensor t = Tensor.randn(DType.FLOAT32, 5, 2, 3, 5);
      assertEquals(t, t.permute(1, 2, 0).permute(2, 0, 1));
    }

    @Test
    void permuteOfAVectorAndOfAScalar() {
      assertAll(
          () -> assertTensor(Tensor.of(new double[] {1, 2, 3}, 3).permute(0), shape(3), 1, 2, 3),
          () -> assertTensor(Tensor.of(new double[] {2.5}).permute(), shape(), 2.5));
    }

    @Test
    void permuteOfAnEmptyTensorPermutesTheShape() {
      assertTensor(Tensor.zeros(DType.FLOAT64, 2, 0, 3).permute(2, 0, 1), shape(3, 2, 0));
    }

    static Stream<Arguments> badTransposes() {
      return Stream.of(
          Arguments.of("first too large", 3, 0, "transpose(3, 0) out of range for shape [2, 3, 4]"),
          Arguments.of("second too large", 0, 7, "transpose(0, 7) out of range for shape [2, 3, 4]"),
          Arguments.of("first too negative", -4, 0,
              "transpose(-4, 0) out of range for shape [2, 3, 4]"),
          Arguments.of("second too negative", 1, -7,
              "transpose(1, -7) out of range for shape [2, 3, 4]"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badTransposes")
    void transposeRejectsDimensionsOutOfRange(String name, int a, int b, String message) {
      assertEquals(message, assertRejected(() -> x().transpose(a, b)).getMessage());
    }

    static Stream<Arguments> badPermutations() {
      return Stream.of(
          Arguments.of("too few", new int[] {1, 0}, "permute expected 3 dimensions but got 2"),
          Arguments.of("too many", new int[] {0, 1, 2, 3},
              "permute expected 3 dimensions but got 4"),
          Arguments.of("a repeat", new int[] {0, 0, 1},
              "permute expected a permutation of 0..2 but got [0, 0, 1]"),
          Arguments.of("too large", new int[] {0, 1, 3},
              "permute expected a permutation of 0..2 but got [0, 1, 3]"),
          Arguments.of("negative", new int[] {0, -1, 1},
              "permute expected a permutation of 0..2 but got [0, -1, 1]"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badPermutations")
    void permuteRejectsWhatIsNotAPermutation(String name, int[] perm, String message) {
      assertEquals(message, assertRejected(() -> x().permute(perm)).getMessage());
    }
  }

  // ---- slice and select ----------------------------------------------------------------------

  @Nested
  class SliceAndSelect {
    static Stream<Arguments> slices() {
      return Stream.of(
          Arguments.of("dim 0 [1, 2)", 0, 1, 2, new int[] {1, 3, 4}, new double[] {
              12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23}),
          Arguments.of("dim 0 [0, 2) is everything", 0, 0, 2, new int[] {2, 3, 4},
              x().toDoubleArray()),
          Arguments.of("dim 1 [1, 3)", 1, 1, 3, new int[] {2, 2, 4}, new double[] {
              4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23}),
          Arguments.of("dim 1 [0, 1)", 1, 0, 1, new int[] {2, 1, 4}, new double[] {
              0, 1, 2, 3, 12, 13, 14, 15}),
          Arguments.of("dim 2 [1, 3)", 2, 1, 3, new int[] {2, 3, 2}, new double[] {
              1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22}),
          Arguments.of("dim -1 [3, 4) is dim 2", -1, 3, 4, new int[] {2, 3, 1}, new double[] {
              3, 7, 11, 15, 19, 23}),
          Arguments.of("dim -3 [0, 1) is dim 0", -3, 0, 1, new int[] {1, 3, 4}, new double[] {
              0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}),
          Arguments.of("dim 1 [2, 2) is empty", 1, 2, 2, new int[] {2, 0, 4}, new double[0]));
    }

    @ParameterizedTest(name = "slice {0}")
    @MethodSource("slices")
    void sliceKeepsTheRangeAlongTheDimension(String name, int dim, int from, int to, int[] shape,
        double[] expected) {
      for (DType dtype : DType.values()) {
        assertTensor(x(dtype).slice(dim, from, to), dtype, shape, expected);
      }
    }

    static Stream<Arguments> badSlices() {
      return Stream.of(
          Arguments.of("dimension too large", 3, 0, 1,
              "slice dimension 3 out of range for shape [2, 3, 4]"),
          Arguments.of("dimension too negative", -4, 0, 1,
              "slice dimension -4 out of range for shape [2, 3, 4]"),
          Arguments.of("negative start", 1, -1, 2,
              "slice [-1, 2) out of bounds for dimension 1 of shape [2, 3, 4]"),
          Arguments.of("end past the size", 1, 0, 4,
              "slice [0, 4) out of bounds for dimension 1 of shape [2, 3, 4]"),
          Arguments.of("end before start", 2, 3, 1,
              "slice [3, 1) out of bounds for dimension 2 of shape [2, 3, 4]"),
          Arguments.of("negative dimension is named after normalising", -2, 0, 7,
              "slice [0, 7) out of bounds for dimension 1 of shape [2, 3, 4]"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badSlices")
    void sliceRejectsARangeOutOfBounds(String name, int dim, int from, int to, String message) {
      assertEquals(message, assertRejected(() -> x().slice(dim, from, to)).getMessage());
    }

    static Stream<Arguments> selects() {
      return Stream.of(
          Arguments.of("dim 0 index 1", 0, 1, new int[] {3, 4}, new double[] {
              12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23}),
          Arguments.of("dim 1 index 2", 1, 2, new int[] {2, 4}, new double[] {
              8, 9, 10, 11, 20, 21, 22, 23}),
          Arguments.of("dim 2 index 3", 2, 3, new int[] {2, 3}, new double[] {
              3, 7, 11, 15, 19, 23}),
          Arguments.of("dim -1 index 0", -1, 0, new int[] {2, 3}, new double[] {
              0, 4, 8, 12, 16, 20}),
          Arguments.of("dim -2 index 1", -2, 1, new int[] {2, 4}, new double[] {
              4, 5, 6, 7, 16, 17, 18, 19}));
    }

    @ParameterizedTest(name = "select {0}")
    @MethodSource("selects")
    void selectRemovesTheDimension(String name, int dim, int index, int[] shape,
        double[] expected) {
      for (DType dtype : DType.values()) {
        assertTensor(x(dtype).select(dim, index), dtype, shape, expected);
      }
    }

    @Test
    void selectOfAVectorIsAScalar() {
      assertTensor(Tensor.of(new double[] {1, 2, 3}, 3).select(0, 2), shape(), 3);
    }

    static Stream<Arguments> badSelects() {
      return Stream.of(
          Arguments.of("dimension too large", 3, 0,
              "select dimension 3 out of range for shape [2, 3, 4]"),
          Arguments.of("dimension too negative", -4, 0,
              "select dimension -4 out of range for shape [2, 3, 4]"),
          Arguments.of("index past the size", 1, 3,
              "select index 3 out of bounds for dimension 1 of shape [2, 3, 4]"),
          Arguments.of("negative index", 2, -1,
              "select index -1 out of bounds for dimension 2 of shape [2, 3, 4]"),
          Arguments.of("negative dimension is named after normalising", -3, 7,
              "select index 7 out of bounds for dimension 0 of shape [2, 3, 4]"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badSelects")
    void selectRejectsAnIndexOutOfBounds(String name, int dim, int index, String message) {
      assertEquals(message, assertRejected(() -> x().select(dim, index)).getMessage());
    }
  }

  // ---- concat --------------------------------------------------------------------------------

  @Nested
  class Concat {
    /** {@code 100, 101, ...} in {@code shape}: told apart from {@link #x()} at a glance. */
    static Tensor hundreds(DType dtype, int... shape) {
      return arange(dtype, shape).map(v -> v + 100);
    }

    static Stream<Arguments> concats() {
      return Stream.of(
          Arguments.of("dim 0", 0, new int[] {1, 3, 4}, new int[] {3, 3, 4}, new double[] {
              0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
              12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
              100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111}),
          Arguments.of("dim 1", 1, new int[] {2, 1, 4}, new int[] {2, 4, 4}, new double[] {
              0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 100, 101, 102, 103,
              12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 104, 105, 106, 107}),
          Arguments.of("dim 2", 2, new int[] {2, 3, 1}, new int[] {2, 3, 5}, new double[] {
              0, 1, 2, 3, 100, 4, 5, 6, 7, 101, 8, 9, 10, 11, 102,
              12, 13, 14, 15, 103, 16, 17, 18, 19, 104, 20, 21, 22, 23, 105}),
          Arguments.of("dim -1 is dim 2", -1, new int[] {2, 3, 1}, new int[] {2, 3, 5},
              new double[] {
                  0, 1, 2, 3, 100, 4, 5, 6, 7, 101, 8, 9, 10, 11, 102,
                  12, 13, 14, 15, 103, 16, 17, 18, 19, 104, 20, 21, 22, 23, 105}),
          Arguments.of("dim 1 with an empty part", 1, new int[] {2, 0, 4}, new int[] {2, 3, 4},
              x().toDoubleArray()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("concats")
    void joinsAlongTheDimension(String name, int dim, int[] second, int[] shape,
        double[] expected) {
      for (DType dtype : DType.values()) {
        Tensor joined = Tensor.concat(dim, List.of(x(dtype), hundreds(dtype, second)));
        assertTensor(joined, dtype, shape, expected);
      }
    }

    @ParameterizedTest(name = "along dim {0}")
    @MethodSource("dims")
    void slicesOfTheResultAreTheParts(int dim) {
      Tensor a = Tensor.randn(DType.FLOAT64, 1, 2, 3, 4);
      int[] bShape = {2, 3, 4};
      bShape[dim] = 5;
      int[] cShape = {2, 3, 4};
      cShape[dim] = 1;
      Tensor b = Tensor.randn(DType.FLOAT64, 2, bShape);
      Tensor c = Tensor.randn(DType.FLOAT64, 3, cShape);
      Tensor joined = Tensor.concat(dim, List.of(a, b, c));
      int na = a.dim(dim);
      int nb = b.dim(dim);
      assertAll(
          () -> assertEquals(na + nb + 1, joined.dim(dim)),
          () -> assertEquals(a, joined.slice(dim, 0, na)),
          () -> assertEquals(b, joined.slice(dim, na, na + nb)),
          () -> assertEquals(c, joined.slice(dim, na + nb, na + nb + 1)));
    }

    static Stream<Integer> dims() {
      return Stream.of(0, 1, 2);
    }

    @Test
    void ofOnePartIsAnEqualTensor() {
      assertEquals(x(), Tensor.concat(1, List.of(x())));
    }

    @Test
    void rejectsAnEmptyList() {
      assertEquals("concat expected at least one tensor but got none",
          assertRejected(() -> Tensor.concat(0, List.of())).getMessage());
    }

    static Stream<Arguments> mismatches() {
      Tensor x = x();
      return Stream.of(
          Arguments.of("dimension too large", 3, List.of(x, x),
              "concat dimension 3 out of range for shape [2, 3, 4]"),
          Arguments.of("dimension too negative", -4, List.of(x, x),
              "concat dimension -4 out of range for shape [2, 3, 4]"),
          Arguments.of("another dtype", 0, List.of(x, x.to(DType.FLOAT32)),
              "concat expected dtype FLOAT64 but got FLOAT32: convert it with"
                  + " .to(DType.FLOAT64) (Tensor.of(double[]...) makes float64,"
                  + " Tensor.of(float[]...) float32, and a network's outputs have the network's"
                  + " dtype)"),
          Arguments.of("another rank", 0, List.of(x, Tensor.zeros(DType.FLOAT64, 2, 3)),
              "concat expected rank 3 but got shape [2, 3]"),
          Arguments.of("along 0, dim 1 differs", 0, List.of(x, Tensor.zeros(DType.FLOAT64, 2, 7, 4)),
              "concat along 0 expected shape [2, 3, 4] outside that dimension but got [2, 7, 4]"),
          Arguments.of("along 1, dim 0 differs", 1, List.of(x, Tensor.zeros(DType.FLOAT64, 7, 3, 4)),
              "concat along 1 expected shape [2, 3, 4] outside that dimension but got [7, 3, 4]"),
          Arguments.of("along 2, dim 1 differs", 2, List.of(x, Tensor.zeros(DType.FLOAT64, 2, 7, 4)),
              "concat along 2 expected shape [2, 3, 4] outside that dimension but got [2, 7, 4]"),
          Arguments.of("along -1, the third part differs", -1,
              List.of(x, x, Tensor.zeros(DType.FLOAT64, 2, 3, 7).slice(0, 0, 1)),
              "concat along 2 expected shape [2, 3, 4] outside that dimension but got [1, 3, 7]"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("mismatches")
    void rejectsMismatchedParts(String name, int dim, List<Tensor> parts, String message) {
      assertEquals(message, assertRejected(() -> Tensor.concat(dim, parts)).getMessage());
    }
  }

  // ---- arithmetic ----------------------------------------------------------------------------

  @Nested
  class Arithmetic {
    static final double[] A = {1, -2, 3.5, 0, -0.5, 8};
    static final double[] B = {2, 4, -1.5, 7, 0.25, -8};

    static Stream<Arguments> binaryOps() {
      return Stream.of(
          Arguments.of("add", (BinaryOperator<Tensor>) Tensor::add,
              new double[] {3, 2, 2, 7, -0.25, 0}),
          Arguments.of("sub", (BinaryOperator<Tensor>) Tensor::sub,
              new double[] {-1, -6, 5, -7, -0.75, 16}),
          Arguments.of("mul", (BinaryOperator<Tensor>) Tensor::mul,
              new double[] {2, -8, -5.25, 0, -0.125, -64}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("binaryOps")
    void elementwiseOpsInBothDtypes(String name, BinaryOperator<Tensor> op, double[] expected) {
      for (DType dtype : DType.values()) {
        Tensor a = Tensor.of(A, 2, 3).to(dtype);
        Tensor b = Tensor.of(B, 2, 3).to(dtype);
        assertTensor(op.apply(a, b), dtype, shape(2, 3), expected);
      }
    }

    static Stream<Arguments> binaryMismatches() {
      Tensor a = Tensor.zeros(DType.FLOAT64, 2, 3);
      Tensor transposed = Tensor.zeros(DType.FLOAT64, 3, 2);
      Tensor f32 = Tensor.zeros(DType.FLOAT32, 2, 3);
      List<Arguments> cases = new ArrayList<>();
      List<Arguments> ops = binaryOps().toList();
      for (Arguments op : ops) {
        String name = (String) op.get()[0];
        @SuppressWarnings("unchecked")
        BinaryOperator<Tensor> f = (BinaryOperator<Tensor>) op.get()[1];
        cases.add(Arguments.of(name + ", shapes differ", f, a, transposed,
            name + " expected shape [2, 3] but got [3, 2]"));
        cases.add(Arguments.of(name + ", ranks differ", f, a, a.reshape(6),
            name + " expected shape [2, 3] but got [6]"));
        cases.add(Arguments.of(name + ", dtypes differ", f, a, f32,
            name + " expected dtype FLOAT64 but got FLOAT32: convert it with .to(DType.FLOAT64)"
                + " (Tensor.of(double[]...) makes float64, Tensor.of(float[]...) float32, and a"
                + " network's outputs have the network's dtype)"));
      }
      return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("binaryMismatches")
    void elementwiseOpsRejectMismatches(String name, BinaryOperator<Tensor> op, Tensor a,
        Tensor b, String message) {
      assertEquals(message, assertRejected(() -> op.apply(a, b)).getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void scaleMultipliesEveryElement(DType dtype) {
      assertTensor(Tensor.of(A, 3, 2).to(dtype).scale(-2), dtype, shape(3, 2),
          -2, 4, -7, -0.0, 1, -16);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void mapAppliesTheFunctionToEveryElement(DType dtype) {
      assertTensor(Tensor.of(A, 6).to(dtype).map(v -> v * v + 1), dtype, shape(6),
          2, 5, 13.25, 1, 1.25, 65);
    }

    @Test
    void mapInFloat32RoundsTheResult() {
      assertEquals((double) (float) Math.sqrt(2),
          Tensor.of(new float[] {2}, 1).map(Math::sqrt).get(0));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void tanhReluAndSigmoidOnKnownValues(DType dtype) {
      Tensor t = Tensor.of(new double[] {-1000, -1, 0, 1, 1000}, 5).to(dtype);
      double tol = dtype == DType.FLOAT32 ? 1e-7 : 1e-15;
      double t1 = Math.tanh(1);
      double s1 = 1 / (1 + Math.exp(-1));
      assertAll(
          () -> assertArrayEquals(new double[] {-1, -t1, 0, t1, 1}, t.tanh().toDoubleArray(),
              tol, "tanh"),
          () -> assertArrayEquals(new double[] {0, 0, 0, 1, 1000}, t.relu().toDoubleArray(),
              "relu"),
          () -> assertArrayEquals(new double[] {0, 1 - s1, 0.5, s1, 1},
              t.sigmoid().toDoubleArray(), tol, "sigmoid"),
          () -> assertEquals(dtype, t.tanh().dtype()),
          () -> assertEquals(dtype, t.relu().dtype()),
          () -> assertEquals(dtype, t.sigmoid().dtype()));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void sumAddsEveryElement(DType dtype) {
      assertAll(
          () -> assertEquals(10.0, Tensor.of(A, 2, 3).to(dtype).sum()),
          () -> assertEquals(276.0, x(dtype).sum()),
          () -> assertEquals(0.0, Tensor.zeros(dtype, 0, 3).sum()));
    }

    @Test
    void sumOfFloat32AccumulatesInDouble() {
      assertEquals(16777218.0, Tensor.of(new float[] {16777216f, 1f, 1f}, 3).sum());
    }
  }

  // ---- matmul --------------------------------------------------------------------------------

  @Nested
  class Matmul {
    /**
     * {@code [[1, 2, 3], [4, 5, 6]] x [[1, 0, -1, 2], [0, 1, 2, -1], [3, -2, 1, 0]]}, by hand:
     * {@code [[1+0+9, 0+2-6, -1+4+3, 2-2+0], [4+0+18, 0+5-12, -4+10+6, 8-5+0]]}.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void ofNonSquareMatricesMatchesTheHandComputedProduct(DType dtype) {
      Tensor a = Tensor.ofRows(new double[][] {{1, 2, 3}, {4, 5, 6}}).to(dtype);
      Tensor b = Tensor.ofRows(new double[][] {{1, 0, -1, 2}, {0, 1, 2, -1}, {3, -2, 1, 0}})
          .to(dtype);
      assertTensor(a.matmul(b), dtype, shape(2, 4), 10, -4, 6, 0, 22, -7, 12, 3);
    }

    static Stream<Arguments> shapes() {
      return Stream.of(
          Arguments.of("row times column is a dot product", new double[][] {{1, 2, 3}},
              new double[][] {{4}, {5}, {6}}, new int[] {1, 1}, new double[] {32}),
          Arguments.of("column times row is an outer product", new double[][] {{1}, {2}, {3}},
              new double[][] {{4, 5}}, new int[] {3, 2}, new double[] {4, 5, 8, 10, 12, 15}),
          Arguments.of("tall times wide", new double[][] {{1, 2}, {3, 4}, {5, 6}},
              new double[][] {{1, 0, 2}, {0, 1, -1}}, new int[] {3, 3},
              new double[] {1, 2, 0, 3, 4, 2, 5, 6, 4}),
          Arguments.of("by the identity", new double[][] {{1.5, -2}, {3, 4.25}},
              new double[][] {{1, 0}, {0, 1}}, new int[] {2, 2},
              new double[] {1.5, -2, 3, 4.25}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void ofVariousShapes(String name, double[][] a, double[][] b, int[] shape,
        double[] expected) {
      for (DType dtype : DType.values()) {
        assertTensor(Tensor.ofRows(a).to(dtype).matmul(Tensor.ofRows(b).to(dtype)), dtype,
            shape, expected);
      }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void ofAnEmptyInnerSizeIsZeros(DType dtype) {
      Tensor p = Tensor.zeros(dtype, 2, 0).matmul(Tensor.zeros(dtype, 0, 3));
      assertTensor(p, dtype, shape(2, 3), 0, 0, 0, 0, 0, 0);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void ofAnEmptyOuterSizeIsEmpty(DType dtype) {
      assertAll(
          () -> assertTensor(Tensor.zeros(dtype, 0, 3).matmul(Tensor.zeros(dtype, 3, 2)), dtype,
              shape(0, 2)),
          () -> assertTensor(Tensor.zeros(dtype, 2, 3).matmul(Tensor.zeros(dtype, 3, 0)), dtype,
              shape(2, 0)));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void ofRandomMatricesMatchesANaiveLoop(DType dtype) {
      int m = 7;
      int k = 11;
      int n = 5;
      Tensor a = Tensor.randn(dtype, 1, m, k);
      Tensor b = Tensor.randn(dtype, 2, k, n);
      double[] expected = new double[m * n];
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          for (int p = 0; p < k; p++) {
            expected[i * n + j] += a.get(i, p) * b.get(p, j);
          }
        }
      }
      double tol = dtype == DType.FLOAT32 ? 1e-4 : 1e-13;
      Tensor c = a.matmul(b);
      assertAll(
          () -> assertEquals(Shape.of(m, n), c.shape()),
          () -> assertArrayEquals(expected, c.toDoubleArray(), tol));
    }

    @Test
    void transposeDistributesInReverse() {
      Tensor a = Tensor.randn(DType.FLOAT64, 1, 3, 4);
      Tensor b = Tensor.randn(DType.FLOAT64, 2, 4, 2);
      Tensor left = a.matmul(b).transpose(0, 1);
      Tensor right = b.transpose(0, 1).matmul(a.transpose(0, 1));
      assertEquals(0, left.maxAbsDiff(right), 1e-14);
    }

    static Stream<Arguments> misfits() {
      return Stream.of(
          Arguments.of("inner sizes differ", Tensor.zeros(DType.FLOAT64, 2, 3),
              Tensor.zeros(DType.FLOAT64, 7, 4),
              "matmul expected inner sizes to agree but got [2, 3] x [7, 4]"),
          Arguments.of("inner sizes differ, transposed", Tensor.zeros(DType.FLOAT32, 4, 7),
              Tensor.zeros(DType.FLOAT32, 3, 2),
              "matmul expected inner sizes to agree but got [4, 7] x [3, 2]"),
          Arguments.of("left is rank 3", Tensor.zeros(DType.FLOAT64, 2, 3, 4),
              Tensor.zeros(DType.FLOAT64, 4, 2),
              "matmul expected two matrices but got shapes [2, 3, 4] and [4, 2]"),
          Arguments.of("right is a vector", Tensor.zeros(DType.FLOAT64, 2, 3),
              Tensor.zeros(DType.FLOAT64, 3),
              "matmul expected two matrices but got shapes [2, 3] and [3]"),
          Arguments.of("dtypes differ", Tensor.zeros(DType.FLOAT64, 2, 3),
              Tensor.zeros(DType.FLOAT32, 3, 2),
              "matmul expected one dtype but got FLOAT64 and FLOAT32"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("misfits")
    void rejectsOperandsThatDoNotFit(String name, Tensor a, Tensor b, String message) {
      assertEquals(message, assertRejected(() -> a.matmul(b)).getMessage());
    }
  }

  // ---- comparisons ---------------------------------------------------------------------------

  @Nested
  class MaxAbsDiff {
    static Stream<Arguments> cases() {
      double nan = Double.NaN;
      double inf = Double.POSITIVE_INFINITY;
      return Stream.of(
          Arguments.of("equal tensors", new double[] {1, 2, 3}, new double[] {1, 2, 3}, 0.0),
          Arguments.of("largest difference wins", new double[] {1, 2, 3},
              new double[] {1.5, 0, 3.25}, 2.0),
          Arguments.of("sign does not matter", new double[] {-1, 0, 0},
              new double[] {3, 0, 0}, 4.0),
          Arguments.of("NaN first", new double[] {nan, 2, 3}, new double[] {1, 2, 3}, nan),
          Arguments.of("NaN in the middle", new double[] {1, nan, 3}, new double[] {1, 2, 3}, nan),
          Arguments.of("NaN last", new double[] {1, 2, 3}, new double[] {1, 2, nan}, nan),
          Arguments.of("NaN before a larger difference", new double[] {nan, 2, 30},
              new double[] {1, 2, 3}, nan),
          Arguments.of("infinity", new double[] {1, inf, 3}, new double[] {1, 2, 3}, inf),
          Arguments.of("equal infinities are NaN apart", new double[] {inf}, new double[] {inf},
              nan),
          Arguments.of("empty", new double[0], new double[0], 0.0));
    }

    @ParameterizedTest(name = "{0} -> {3}")
    @MethodSource("cases")
    void isTheLargestAbsoluteDifferenceAndNaNPropagates(String name, double[] a, double[] b,
        double expected) {
      Tensor ta = Tensor.of(a, a.length);
      Tensor tb = Tensor.of(b, b.length);
      assertAll(
          () -> assertEquals(expected, ta.maxAbsDiff(tb), "a vs b"),
          () -> assertEquals(expected, tb.maxAbsDiff(ta), "b vs a"));
    }

    @Test
    void comparesAcrossDtypesInDouble() {
      Tensor f = Tensor.of(new float[] {0.1f}, 1);
      Tensor d = Tensor.of(new double[] {0.1}, 1);
      assertEquals(Math.abs((double) 0.1f - 0.1), f.maxAbsDiff(d));
    }

    @Test
    void rejectsAnotherShape() {
      assertEquals("maxAbsDiff expected shape [2, 3] but got [3, 2]",
          assertRejected(() -> Tensor.zeros(DType.FLOAT64, 2, 3)
              .maxAbsDiff(Tensor.zeros(DType.FLOAT64, 3, 2))).getMessage());
    }
  }

  /** As {@code torch.allclose(actual, expected, rtol, atol)} with {@code equal_nan=False}. */
  @Nested
  class AllClose {
    static Stream<Arguments> cases() {
      double nan = Double.NaN;
      double inf = Double.POSITIVE_INFINITY;
      return Stream.of(
          Arguments.of("equal", 1.0, 1.0, 0.0, 0.0, true),
          Arguments.of("within atol", 1.0, 1.25, 0.5, 0.0, true),
          Arguments.of("beyond atol", 1.0, 1.75, 0.5, 0.0, false),
          Arguments.of("within rtol of expected", 1.5, 2.0, 0.0, 0.25, true),
          Arguments.of("beyond rtol of expected", 1.5, 2.0, 0.0, 0.125, false),
          Arguments.of("exactly atol + rtol |expected| is close", 1.5, 1.0, 0.25, 0.25, true),
          Arguments.of("just beyond atol + rtol |expected|", Math.nextUp(1.5), 1.0, 0.25, 0.25,
              false),
          Arguments.of("rtol scales expected, not actual (close)", 1.0, 2.0, 0.0, 0.5, true),
          Arguments.of("rtol scales expected, not actual (not close)", 2.0, 1.0, 0.0, 0.5, false),
          Arguments.of("rtol uses |expected| when negative", -1.5, -2.0, 0.0, 0.25, true),
          Arguments.of("zero tolerance and a difference", 1.0, Math.nextUp(1.0), 0.0, 0.0, false),
          Arguments.of("NaN actual", nan, 1.0, 1.0, 1.0, false),
          Arguments.of("NaN expected", 1.0, nan, 1.0, 1.0, false),
          Arguments.of("NaN is not close to NaN", nan, nan, 1.0, 1.0, false),
          Arguments.of("equal infinities are close", inf, inf, 1e-8, 1e-5, true),
          Arguments.of("equal negative infinities are close", -inf, -inf, 0.0, 0.0, true),
          Arguments.of("opposite infinities", inf, -inf, 1e-8, 1e-5, false),
          Arguments.of("finite vs infinite expected", 1.0, inf, 1e-8, 1e-5, false),
          Arguments.of("infinite vs finite expected", inf, 1.0, 1e-8, 1e-5, false));
    }

    @ParameterizedTest(name = "{0} -> {5}")
    @MethodSource("cases")
    void followsTorchAllclose(String name, double actual, double expected, double atol,
        double rtol, boolean close) {
      Tensor a = Tensor.of(new double[] {0, actual, 0}, 3);
      Tensor e = Tensor.of(new double[] {0, expected, 0}, 3);
      assertEquals(close, a.allClose(e, atol, rtol));
    }

    @Test
    void oneFarElementIsEnoughToFail() {
      Tensor a = Tensor.of(new double[] {1, 2, 3, 4}, 2, 2);
      Tensor e = Tensor.of(new double[] {1, 2, 3, 5}, 2, 2);
      assertAll(
          () -> assertFalse(a.allClose(e, 0.5, 0)),
          () -> assertTrue(a.allClose(e, 1, 0)));
    }

    @Test
    void anotherShapeIsNotClose() {
      Tensor a = Tensor.zeros(DType.FLOAT64, 2, 3);
      assertFalse(a.allClose(Tensor.zeros(DType.FLOAT64, 3, 2), 1, 1));
    }

    @Test
    void emptyTensorsAreClose() {
      assertTrue(Tensor.zeros(DType.FLOAT64, 0, 2).allClose(Tensor.zeros(DType.FLOAT64, 0, 2), 0,
          0));
    }

    @Test
    void comparesAcrossDtypesInDouble() {
      Tensor f = Tensor.of(new float[] {0.1f}, 1);
      Tensor d = Tensor.of(new double[] {0.1}, 1);
      assertAll(
          () -> assertTrue(f.allClose(d, 1e-8, 0)),
          () -> assertFalse(f.allClose(d, 0, 0)));
    }
  }

  @Nested
  class EqualityAndPrinting {
    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void equalShapeDtypeAndElementsAreEqualWithEqualHashCodes(DType dtype) {
      Tensor a = x(dtype);
      Tensor b = x(dtype);
      assertAll(
          () -> assertEquals(a, b),
          () -> assertEquals(a.hashCode(), b.hashCode()),
          () -> assertEquals(a, a));
    }

    static Stream<Arguments> differences() {
      Tensor x = x();
      double[] lastChanged = x.toDoubleArray();
      lastChanged[23] = 7;
      return Stream.of(
          Arguments.of("another dtype, same values", x, x.to(DType.FLOAT32)),
          Arguments.of("another shape, same elements", x, x.reshape(6, 4)),
          Arguments.of("another shape, same rank", x, x.reshape(3, 2, 4)),
          Arguments.of("the last element differs", x, Tensor.of(lastChanged, 2, 3, 4)),
          Arguments.of("float32, one element differs", Tensor.of(new float[] {1, 2}, 2),
              Tensor.of(new float[] {1, 7}, 2)),
          Arguments.of("zero vs negative zero", Tensor.of(new double[] {0.0}, 1),
              Tensor.of(new double[] {-0.0}, 1)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("differences")
    void differentTensorsAreNotEqual(String name, Tensor a, Tensor b) {
      assertAll(
          () -> assertNotEquals(a, b),
          () -> assertNotEquals(b, a));
    }

    @Test
    void isNotEqualToOtherTypes() {
      assertAll(
          () -> assertNotEquals(x(), x().shape()),
          () -> assertNotEquals(x(), null));
    }

    @Test
    void aTensorHoldingNaNEqualsItself() {
      Tensor t = Tensor.of(new double[] {Double.NaN}, 1);
      assertAll(
          () -> assertEquals(t, t),
          () -> assertEquals(t, Tensor.of(new double[] {Double.NaN}, 1)));
    }

    static Stream<Arguments> printed() {
      return Stream.of(
          Arguments.of("float64 matrix", Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3),
              "Tensor(float64 [2, 3]: [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])"),
          Arguments.of("float32 vector", Tensor.of(new float[] {1.5f, -2f}, 2),
              "Tensor(float32 [2]: [1.5, -2.0])"),
          Arguments.of("exactly eight elements", arange(DType.FLOAT32, 2, 4),
              "Tensor(float32 [2, 4]: [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])"),
          Arguments.of("more than eight elements", x(),
              "Tensor(float64 [2, 3, 4]: [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, ...])"),
          Arguments.of("scalar", Tensor.of(new double[] {2.5}), "Tensor(float64 []: [2.5])"),
          Arguments.of("empty", Tensor.zeros(DType.FLOAT32, 3, 0), "Tensor(float32 [3, 0]: [])"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("printed")
    void printsDtypeShapeAndAtMostEightElements(String name, Tensor t, String expected) {
      assertEquals(expected, t.toString());
    }
  }
}
