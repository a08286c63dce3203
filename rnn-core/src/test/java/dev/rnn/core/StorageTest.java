package dev.rnn.core;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Storage}: the flat working memory of kernels, in float32 and float64. Every kernel is
 * checked in both dtypes on values exactly representable in float32, so one expectation serves
 * both; {@code gemm} is checked against a naive triple loop.
 */
class StorageTest {

  /** A storage of {@code dtype} holding {@code values}. */
  static Storage storage(DType dtype, double... values) {
    Storage s = Storage.allocate(dtype, values.length);
    for (int i = 0; i < values.length; i++) {
      s.set(i, values[i]);
    }
    return s;
  }

  /** The elements of {@code s}, widened to double. */
  static double[] values(Storage s) {
    double[] d = new double[s.length()];
    for (int i = 0; i < d.length; i++) {
      d[i] = s.get(i);
    }
    return d;
  }

  @Nested
  class WhenAllocated {
    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void isZeroFilledWithTheDtypeAndLength(DType dtype) {
      Storage s = Storage.allocate(dtype, 7);
      assertAll(
          () -> assertEquals(dtype, s.dtype()),
          () -> assertEquals(7, s.length()),
          () -> assertArrayEquals(new double[7], values(s)));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void mayBeEmpty(DType dtype) {
      assertEquals(0, Storage.allocate(dtype, 0).length());
    }

    @Test
    void float32IsF32AndFloat64IsF64() {
      assertAll(
          () -> assertInstanceOf(Float32Storage.class, Storage.allocate(DType.FLOAT32, 1)),
          () -> assertInstanceOf(Float64Storage.class, Storage.allocate(DType.FLOAT64, 1)));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void negativeLengthIsRejected(DType dtype) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Storage.allocate(dtype, -7));
      assertEquals("storage length must be >= 0 but got -7", e.getMessage());
    }
  }

  @Nested
  class SetAndGet {
    @Test
    void float32NarrowsOnSetAndWidensOnGet() {
      Storage s = Storage.allocate(DType.FLOAT32, 1);
      s.set(0, 0.1);
      assertEquals((double) 0.1f, s.get(0));
    }

    @Test
    void float64KeepsEveryBit() {
      Storage s = Storage.allocate(DType.FLOAT64, 1);
      s.set(0, 0.1);
      assertEquals(0.1, s.get(0));
    }
  }

  @Nested
  class WhenWrapped {
    @Test
    void float32SharesTheArrayWithTheCaller() {
      float[] data = {1, 2, 3};
      Storage s = Storage.wrap(data);
      data[1] = 7;
      s.set(2, 9);
      assertAll(
          () -> assertEquals(DType.FLOAT32, s.dtype()),
          () -> assertEquals(7.0, s.get(1)),
          () -> assertEquals(9f, data[2]),
          () -> assertSame(data, ((Float32Storage) s).a));
    }

    @Test
    void float64SharesTheArrayWithTheCaller() {
      double[] data = {1, 2, 3};
      Storage s = Storage.wrap(data);
      data[1] = 7;
      s.set(2, 9);
      assertAll(
          () -> assertEquals(DType.FLOAT64, s.dtype()),
          () -> assertEquals(7.0, s.get(1)),
          () -> assertEquals(9.0, data[2]),
          () -> assertSame(data, ((Float64Storage) s).a));
    }
  }

  @Nested
  class CopyAndConvert {
    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void copyIsEqualButIndependent(DType dtype) {
      Storage s = storage(dtype, 1, 2, 3);
      Storage c = s.copy();
      c.set(0, 7);
      s.set(1, 9);
      assertAll(
          () -> assertEquals(dtype, c.dtype()),
          () -> assertArrayEquals(new double[] {1, 9, 3}, values(s)),
          () -> assertArrayEquals(new double[] {7, 2, 3}, values(c)));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void toTheSameDtypeIsACopy(DType dtype) {
      Storage s = storage(dtype, 1, 2, 3);
      Storage c = s.to(dtype);
      c.set(0, 7);
      assertAll(
          () -> assertNotSame(s, c),
          () -> assertEquals(dtype, c.dtype()),
          () -> assertArrayEquals(new double[] {1, 2, 3}, values(s)));
    }

    @Test
    void float32ToFloat64WidensExactly() {
      Storage s = Storage.wrap(new float[] {0.1f, -2.5f, Float.MAX_VALUE});
      Storage d = s.to(DType.FLOAT64);
      assertAll(
          () -> assertEquals(DType.FLOAT64, d.dtype()),
          () -> assertArrayEquals(new double[] {0.1f, -2.5f, Float.MAX_VALUE},
              ((Float64Storage) d).a));
    }

    @Test
    void float64ToFloat32RoundsToNearest() {
      Storage s = Storage.wrap(new double[] {0.1, -2.5, 1e300});
      Storage f = s.to(DType.FLOAT32);
      assertAll(
          () -> assertEquals(DType.FLOAT32, f.dtype()),
          () -> assertArrayEquals(new float[] {0.1f, -2.5f, Float.POSITIVE_INFINITY},
              ((Float32Storage) f).a));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void conversionLeavesTheSourceAlone(DType dtype) {
      Storage s = storage(dtype, 1, 2, 3);
      for (DType target : DType.values()) {
        s.to(target).set(0, 7);
      }
      assertArrayEquals(new double[] {1, 2, 3}, values(s));
    }
  }

  @Nested
  class Kernels {
    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void fillSetsOnlyTheRange(DType dtype) {
      Storage s = storage(dtype, 1, 2, 3, 4, 5);
      s.fill(1, 3, -0.5);
      assertArrayEquals(new double[] {1, -0.5, -0.5, -0.5, 5}, values(s));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void copyFromCopiesBetweenOffsets(DType dtype) {
      Storage src = storage(dtype, 10, 11, 12, 13, 14);
      Storage dst = storage(dtype, 0, 0, 0, 0, 0, 0);
      dst.copyFrom(src, 1, 2, 3);
      assertAll(
          () -> assertArrayEquals(new double[] {0, 0, 11, 12, 13, 0}, values(dst)),
          () -> assertArrayEquals(new double[] {10, 11, 12, 13, 14}, values(src)));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void copyBlockHonoursBothLeadingDimensions(DType dtype) {
      // src is 3 rows of stride 4 starting at 1; copy a 2 x 3 block into rows of stride 5 from 2.
      Storage src = storage(dtype, -1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
      Storage dst = Storage.allocate(dtype, 12);
      dst.copyBlock(src, 1, 4, 2, 5, 2, 3);
      assertArrayEquals(new double[] {0, 0, 1, 2, 3, 0, 0, 5, 6, 7, 0, 0}, values(dst));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void addTransposedAddsTheTransposeOfAColumnMajorBlock(DType dtype) {
      // this[1..] (2 x 3) = x[1..] (2 x 3) + t (3 x 2, read transposed), t at offset 2
      Storage x = storage(dtype, 0, 1, 2, 3, 4, 5, 6);
      Storage t = storage(dtype, -1, -1, 10, 40, 20, 50, 30, 60);
      Storage y = Storage.allocate(dtype, 7);
      y.addTransposed(1, x, 1, t, 2, 2, 3);
      assertArrayEquals(new double[] {0, 11, 22, 33, 44, 55, 66}, values(y));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void sumOfSquaresOfARange(DType dtype) {
      Storage x = storage(dtype, 9, 1, 2, 3, 4, 5, 6, 9);
      assertEquals(1 + 4 + 9 + 16 + 25 + 36, x.sumOfSquares(1, 6));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void axpyAddsAScaledRange(DType dtype) {
      Storage x = storage(dtype, 9, 1, 2, 3);
      Storage y = storage(dtype, 10, 20, 30, 40, 50);
      y.axpy(3, -0.5, x, 1, 2);
      assertAll(
          () -> assertArrayEquals(new double[] {10, 20, 29.5, 39, 48.5}, values(y)),
          () -> assertArrayEquals(new double[] {9, 1, 2, 3}, values(x)));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void scaleMultipliesOnlyTheRange(DType dtype) {
      Storage s = storage(dtype, 1, 2, 3, 4);
      s.scale(1, 2, -1.5);
      assertArrayEquals(new double[] {1, -3, -4.5, 4}, values(s));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void addRowVectorAddsTheBiasToEveryRow(DType dtype) {
      Storage m = storage(dtype, 99, 1, 2, 3, 4, 5, 6, 99);
      Storage bias = storage(dtype, 0, 10, 20, 30);
      m.addRowVector(1, 2, 3, bias, 1);
      assertArrayEquals(new double[] {99, 11, 22, 33, 14, 25, 36, 99}, values(m));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void setRowsOverwritesEveryRowWithTheBias(DType dtype) {
      Storage m = storage(dtype, 99, 1, 2, 3, 4, 5, 6, 99);
      Storage bias = storage(dtype, 0, 10, 20, 30);
      m.setRows(1, 2, 3, bias, 1);
      assertArrayEquals(new double[] {99, 10, 20, 30, 10, 20, 30, 99}, values(m));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void addColumnSumsAccumulatesIntoTheTarget(DType dtype) {
      Storage m = storage(dtype, 99, 1, 2, 3, 4, 5, 6, 99);
      Storage g = storage(dtype, 7, 100, 200, 300, 7);
      g.addColumnSums(m, 1, 2, 3, 1);
      assertArrayEquals(new double[] {7, 105, 207, 309, 7}, values(g));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void sumAddsOnlyTheRange(DType dtype) {
      Storage s = storage(dtype, 100, 1, 2, 3.5, 100);
      assertAll(
          () -> assertEquals(6.5, s.sum(1, 3)),
          () -> assertEquals(0.0, s.sum(2, 0)));
    }

    @Test
    void float32SumAccumulatesInDouble() {
      // In float, 2^24 + 1 rounds back to 2^24: the ones would be lost.
      Storage s = Storage.wrap(new float[] {16777216f, 1f, 1f});
      assertEquals(16777218.0, s.sum(0, 3));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void sumOfSquaresCoversEveryElement(DType dtype) {
      assertEquals(1 + 4 + 9 + 0.25, storage(dtype, 1, -2, 3, 0.5).sumOfSquares());
    }

    @Test
    void float32SumOfSquaresAccumulatesInDouble() {
      // 4096^2 = 2^24; the squares of the ones would be lost in float.
      Storage s = Storage.wrap(new float[] {4096f, 1f, 1f});
      assertEquals(16777218.0, s.sumOfSquares());
    }

    @Test
    void float32SumOfSquaresDoesNotOverflowWhereDoubleDoesNot() {
      Storage s = Storage.wrap(new float[] {1e30f});
      assertEquals((double) 1e30f * 1e30f, s.sumOfSquares());
    }
  }

  @Nested
  class ElementwiseOps {
    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void axpbyScalesTheRangeAndAddsAScaledRange(DType dtype) {
      Storage x = storage(dtype, 9, 1, 2, 3);
      Storage y = storage(dtype, 10, 20, 30, 40, 50);
      y.axpby(3, -0.5, x, 1, 0.25, 2);
      assertAll(
          () -> assertArrayEquals(new double[] {10, 20, 7, 9, 11}, values(y)),
          () -> assertArrayEquals(new double[] {9, 1, 2, 3}, values(x)));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void axpbyWithWeightsSummingToOneIsAMovingAverage(DType dtype) {
      Storage m = storage(dtype, 4, 8);
      m.axpby(2, 0.25, storage(dtype, 8, 0), 0, 0.75, 0);
      assertArrayEquals(new double[] {5, 6}, values(m));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void addcmulAddsAScaledProductToTheScaledRange(DType dtype) {
      Storage x = storage(dtype, 99, 1, 2, 3);
      Storage y = storage(dtype, 4, 5, 6, 99);
      Storage s = storage(dtype, 7, 10, 20, 30, 7);
      s.addcmul(1, 3, 0.5, 2, x, 1, y, 0);
      assertAll(
          () -> assertArrayEquals(new double[] {7, 13, 30, 51, 7}, values(s)),
          () -> assertArrayEquals(new double[] {99, 1, 2, 3}, values(x)),
          () -> assertArrayEquals(new double[] {4, 5, 6, 99}, values(y)));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void addcmulOfAStorageWithItselfAddsSquares(DType dtype) {
      Storage g = storage(dtype, 1, -2, 3);
      Storage v = storage(dtype, 4, 4, 4);
      v.addcmul(0, 3, 0.75, 0.25, g, 0, g, 0);
      assertArrayEquals(new double[] {3.25, 4, 5.25}, values(v));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void addcdivAddsAScaledQuotientToTheScaledRange(DType dtype) {
      Storage x = storage(dtype, 99, 1, 6, -3);
      Storage y = storage(dtype, 2, 4, 0.5, 99);
      Storage s = storage(dtype, 7, 10, 20, 30, 7);
      s.addcdiv(1, 3, 1, -2, x, 1, y, 0);
      assertArrayEquals(new double[] {7, 9, 17, 42, 7}, values(s));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void addDifferenceAddsAScaledDifference(DType dtype) {
      Storage x = storage(dtype, 99, 5, 7, 9);
      Storage y = storage(dtype, 1, 2, 3, 99);
      Storage s = storage(dtype, 7, 10, 20, 30, 7);
      s.addDifference(1, 3, -0.5, x, 1, y, 0);
      assertAll(
          () -> assertArrayEquals(new double[] {7, 8, 17.5, 27, 7}, values(s)),
          () -> assertArrayEquals(new double[] {99, 5, 7, 9}, values(x)),
          () -> assertArrayEquals(new double[] {1, 2, 3, 99}, values(y)));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void maximumKeepsTheLargerOfEachPairAndPropagatesNaN(DType dtype) {
      Storage x = storage(dtype, 99, 1, 5, Double.NaN, -1);
      Storage s = storage(dtype, 7, 2, 3, 4, Double.NaN, 7);
      s.maximum(1, 4, x, 1);
      assertArrayEquals(new double[] {7, 2, 5, Double.NaN, Double.NaN, 7}, values(s));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void clampBoundsOnlyTheRangeAndKeepsNaN(DType dtype) {
      Storage s = storage(dtype, 9, -3, -0.5, 0.25, 2, Double.NaN, -9);
      s.clamp(1, 5, -1, 1);
      assertArrayEquals(new double[] {9, -1, -0.5, 0.25, 1, Double.NaN, -9}, values(s));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void sqrtDividesTheRootAndAddsTheAddend(DType dtype) {
      Storage v = storage(dtype, 99, 4, 16, 0);
      Storage d = storage(dtype, 7, 7, 7, 7);
      d.sqrt(0, 3, v, 1, 0.5, 0.25);
      assertAll(
          () -> assertArrayEquals(new double[] {4.25, 8.25, 0.25, 7}, values(d)),
          () -> assertArrayEquals(new double[] {99, 4, 16, 0}, values(v)));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void sqrtInPlaceWithDivisorOneAndNoAddendIsTheSquareRoot(DType dtype) {
      Storage s = storage(dtype, 9, 2.25, 0, 7);
      s.sqrt(0, 3, s, 0, 1, 0);
      assertArrayEquals(new double[] {3, 1.5, 0, 7}, values(s));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void sumOfSquaredDifferencesCoversOnlyTheRange(DType dtype) {
      Storage y = storage(dtype, 99, 1, -2, 3.5, 99);
      Storage t = storage(dtype, 0, 2, 0.5, 99);
      assertAll(
          () -> assertEquals(1 + 16 + 9, y.sumOfSquaredDifferences(1, 3, t, 0)),
          () -> assertEquals(0.0, y.sumOfSquaredDifferences(1, 0, t, 0)));
    }

    @Test
    void float32SumOfSquaredDifferencesAccumulatesInDouble() {
      // 4096^2 = 2^24; the squares of the ones would be lost in float.
      Storage y = Storage.wrap(new float[] {4097f, 2f, 2f});
      Storage t = Storage.wrap(new float[] {1f, 1f, 1f});
      assertEquals(16777218.0, y.sumOfSquaredDifferences(0, 3, t, 0));
    }

    @Test
    void float32ComputesInFloatWithScalarsNarrowedToFloat() {
      float theta = 1.1f;
      float x = 0.3f;
      float y = 0.7f;
      Storage s = Storage.wrap(new float[] {theta});
      s.addcdiv(0, 1, 0.9, -0.1, Storage.wrap(new float[] {x}), 0, Storage.wrap(new float[] {y}),
          0);
      assertEquals(0.9f * theta + -0.1f * x / y, (float) s.get(0));
    }

    @Test
    void float64KeepsScalarsInDouble() {
      Storage s = Storage.wrap(new double[] {1.1});
      s.addcdiv(0, 1, 0.9, -0.1, Storage.wrap(new double[] {0.3}), 0,
          Storage.wrap(new double[] {0.7}), 0);
      assertEquals(0.9 * 1.1 + -0.1 * 0.3 / 0.7, s.get(0));
    }
  }

  @Nested
  class Encapsulation {
    @Test
    void theArraysAndTheArrayTypesAreNotPublic() throws ReflectiveOperationException {
      assertAll(
          () -> assertFalse(Modifier.isPublic(Float32Storage.class.getModifiers()), "F32"),
          () -> assertFalse(Modifier.isPublic(Float64Storage.class.getModifiers()), "F64"),
          () -> assertFalse(Modifier.isPublic(
              Float32Storage.class.getDeclaredField("a").getModifiers()), "F32.a"),
          () -> assertFalse(Modifier.isPublic(
              Float64Storage.class.getDeclaredField("a").getModifiers()), "F64.a"));
    }

    @Test
    void wrappingAnArrayWithoutACopyIsNotPublic() throws ReflectiveOperationException {
      assertAll(
          () -> assertFalse(Modifier.isPublic(
              Storage.class.getDeclaredMethod("wrap", float[].class).getModifiers()), "float[]"),
          () -> assertFalse(Modifier.isPublic(
              Storage.class.getDeclaredMethod("wrap", double[].class).getModifiers()),
              "double[]"));
    }

    @Test
    void noPublicMethodTakesOrReturnsAnArray() {
      List<String> leaks = new ArrayList<>();
      for (java.lang.reflect.Method m : Storage.class.getMethods()) {
        boolean array = m.getReturnType().isArray();
        for (Class<?> p : m.getParameterTypes()) {
          array |= p.isArray();
        }
        if (array && m.getDeclaringClass() == Storage.class) {
          leaks.add(m.toString());
        }
      }
      assertEquals(List.of(), leaks);
    }
  }

  @Nested
  class AllFinite {
    static Stream<Arguments> cases() {
      List<Arguments> cases = new ArrayList<>();
      for (DType dtype : DType.values()) {
        cases.add(Arguments.of(dtype + " ordinary values", dtype, new double[] {1, -2, 0}, true));
        cases.add(Arguments.of(dtype + " empty", dtype, new double[0], true));
        cases.add(Arguments.of(dtype + " NaN", dtype, new double[] {1, Double.NaN, 0}, false));
        cases.add(Arguments.of(dtype + " +inf", dtype,
            new double[] {1, 2, Double.POSITIVE_INFINITY}, false));
        cases.add(Arguments.of(dtype + " -inf", dtype,
            new double[] {Double.NEGATIVE_INFINITY, 1, 2}, false));
      }
      cases.add(Arguments.of("FLOAT32 overflow on narrowing", DType.FLOAT32,
          new double[] {1e39}, false));
      cases.add(Arguments.of("FLOAT64 1e39", DType.FLOAT64, new double[] {1e39}, true));
      return cases.stream();
    }

    @ParameterizedTest(name = "{0} -> {3}")
    @MethodSource("cases")
    void isFalseForNaNOrInfinity(String name, DType dtype, double[] values, boolean expected) {
      assertEquals(expected, storage(dtype, values).allFinite());
    }
  }

  @Nested
  class Gemm {
    /**
     * The reference: row-major {@code C = alpha op(A) op(B) + beta C} by the definition, with
     * {@code op(X)[i][j] = X[off + i*ld + j]} or, transposed, {@code X[off + j*ld + i]}.
     */
    static double[] naive(boolean transA, boolean transB, int m, int n, int k, double alpha,
        double[] a, int aOff, int lda, double[] b, int bOff, int ldb, double beta,
        double[] c, int cOff, int ldc) {
      double[] out = c.clone();
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          double s = 0;
          for (int p = 0; p < k; p++) {
            double aip = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
            double bpj = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
            s += aip * bpj;
          }
          out[cOff + i * ldc + j] = alpha * s + beta * c[cOff + i * ldc + j];
        }
      }
      return out;
    }

    static double[] random(Random rnd, DType dtype, int n) {
      double[] d = new double[n];
      for (int i = 0; i < n; i++) {
        double v = rnd.nextDouble() * 2 - 1;
        d[i] = dtype == DType.FLOAT32 ? (float) v : v;
      }
      return d;
    }

    static Stream<Arguments> combinations() {
      List<Arguments> cases = new ArrayList<>();
      for (DType dtype : DType.values()) {
        for (boolean transA : new boolean[] {false, true}) {
          for (boolean transB : new boolean[] {false, true}) {
            String name = dtype.torchName() + ", op(A) = " + (transA ? "A^T" : "A")
                + ", op(B) = " + (transB ? "B^T" : "B");
            cases.add(Arguments.of(name, dtype, transA, transB));
          }
        }
      }
      return cases.stream();
    }

    /**
     * op(A) is 3 x 5, op(B) is 5 x 4, C is 3 x 4; every matrix starts at an offset and has a
     * leading dimension two more than its row width, so a wrong offset or stride shows, and the
     * padding must stay untouched.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("combinations")
    void matchesTheNaiveTripleLoopWithOffsetsAndPadding(String name, DType dtype, boolean transA,
        boolean transB) {
      int m = 3;
      int n = 4;
      int k = 5;
      int aRows = transA ? k : m;
      int aCols = transA ? m : k;
      int bRows = transB ? n : k;
      int bCols = transB ? k : n;
      int lda = aCols + 2;
      int ldb = bCols + 2;
      int ldc = n + 2;
      int aOff = 3;
      int bOff = 5;
      int cOff = 7;
      Random rnd = new Random(name.hashCode());
      double[] a = random(rnd, dtype, aOff + aRows * lda);
      double[] b = random(rnd, dtype, bOff + bRows * ldb);
      double[] c = random(rnd, dtype, cOff + m * ldc + 3);
      double alpha = 1.5;
      double beta = -0.5;

      Storage cs = storage(dtype, c);
      cs.gemm(transA, transB, m, n, k, alpha, storage(dtype, a), aOff, lda, storage(dtype, b),
          bOff, ldb, beta, cOff, ldc);

      double[] expected = naive(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta,
          c, cOff, ldc);
      double tol = dtype == DType.FLOAT32 ? 1e-5 : 1e-13;
      double[] actual = values(cs);
      List<Executable> checks = new ArrayList<>();
      for (int i = 0; i < actual.length; i++) {
        int at = i;
        int r = (i - cOff) / ldc;
        int col = (i - cOff) % ldc;
        boolean inC = i >= cOff && r < m && col < n;
        if (inC) {
          checks.add(() -> assertEquals(expected[at], actual[at], tol, "C element " + at));
        } else {
          checks.add(() -> assertEquals(c[at], actual[at], "padding element " + at));
        }
      }
      assertAll(checks);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("combinations")
    void leavesAAndBUnchanged(String name, DType dtype, boolean transA, boolean transB) {
      Storage a = storage(dtype, 1, 2, 3, 4, 5, 6);
      Storage b = storage(dtype, 6, 5, 4, 3, 2, 1);
      Storage c = Storage.allocate(dtype, 4);
      c.gemm(transA, transB, 2, 2, 3, 1, a, 0, transA ? 2 : 3, b, 0, transB ? 3 : 2, 0, 0, 2);
      assertAll(
          () -> assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, values(a)),
          () -> assertArrayEquals(new double[] {6, 5, 4, 3, 2, 1}, values(b)));
    }

    /** {@code [[1, 2, 3], [4, 5, 6]] x [[7, 8], [9, 10], [11, 12]] = [[58, 64], [139, 154]]}. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void computesAHandCheckedProduct(DType dtype) {
      Storage a = storage(dtype, 1, 2, 3, 4, 5, 6);
      Storage b = storage(dtype, 7, 8, 9, 10, 11, 12);
      Storage c = Storage.allocate(dtype, 4);
      c.gemm(false, false, 2, 2, 3, 1, a, 0, 3, b, 0, 2, 0, 0, 2);
      assertArrayEquals(new double[] {58, 64, 139, 154}, values(c));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void betaOneAccumulatesIntoC(DType dtype) {
      Storage a = storage(dtype, 1, 2, 3, 4, 5, 6);
      Storage b = storage(dtype, 7, 8, 9, 10, 11, 12);
      Storage c = storage(dtype, 1000, 2000, 3000, 4000);
      c.gemm(false, false, 2, 2, 3, 1, a, 0, 3, b, 0, 2, 1, 0, 2);
      assertArrayEquals(new double[] {1058, 2064, 3139, 4154}, values(c));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void betaZeroOverwritesCEvenWhereItHoldsNaN(DType dtype) {
      Storage a = storage(dtype, 1, 2, 3, 4, 5, 6);
      Storage b = storage(dtype, 7, 8, 9, 10, 11, 12);
      Storage c = storage(dtype, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
      c.gemm(false, false, 2, 2, 3, 1, a, 0, 3, b, 0, 2, 0, 0, 2);
      assertArrayEquals(new double[] {58, 64, 139, 154}, values(c));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void emptyInnerSizeScalesCByBeta(DType dtype) {
      Storage c = storage(dtype, 1, 2, 99, 3, 4, 99);
      Storage empty = Storage.allocate(dtype, 0);
      c.gemm(false, false, 2, 2, 0, 1, empty, 0, 1, empty, 0, 2, -0.5, 0, 3);
      assertArrayEquals(new double[] {-0.5, -1, 99, -1.5, -2, 99}, values(c));
    }

    /** As BLAS: with {@code beta = 0}, C is not read, so even with {@code k = 0} it becomes 0. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void emptyInnerSizeWithBetaZeroClearsCEvenWhereItHoldsNaN(DType dtype) {
      Storage c = storage(dtype, Double.NaN, Double.POSITIVE_INFINITY, 99, 3, 4, 99);
      Storage empty = Storage.allocate(dtype, 0);
      c.gemm(false, false, 2, 2, 0, 1, empty, 0, 1, empty, 0, 2, 0, 0, 3);
      assertArrayEquals(new double[] {0, 0, 99, 0, 0, 99}, values(c));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void emptyInnerSizeWithBetaOneLeavesCAlone(DType dtype) {
      Storage c = storage(dtype, 1, 2, 3, 4);
      Storage empty = Storage.allocate(dtype, 0);
      c.gemm(true, true, 2, 2, 0, 1, empty, 0, 2, empty, 0, 1, 1, 0, 2);
      assertArrayEquals(new double[] {1, 2, 3, 4}, values(c));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void emptyOutputIsANoOp(DType dtype) {
      Storage a = storage(dtype, 1, 2, 3);
      Storage c = storage(dtype, 5, 6);
      c.gemm(false, false, 0, 2, 3, 1, a, 0, 3, a, 0, 2, 0, 0, 2);
      c.gemm(false, false, 2, 0, 3, 1, a, 0, 3, a, 0, 1, 0, 0, 1);
      assertArrayEquals(new double[] {5, 6}, values(c));
    }

    static Stream<Arguments> mixedDtypes() {
      DType f32 = DType.FLOAT32;
      DType f64 = DType.FLOAT64;
      return Stream.of(
          Arguments.of("A differs", f32, f64, f64,
              "gemm expected one dtype but got A FLOAT32, B FLOAT64, C FLOAT64"),
          Arguments.of("B differs", f64, f32, f64,
              "gemm expected one dtype but got A FLOAT64, B FLOAT32, C FLOAT64"),
          Arguments.of("C differs", f64, f64, f32,
              "gemm expected one dtype but got A FLOAT64, B FLOAT64, C FLOAT32"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("mixedDtypes")
    void mixedDtypesAreRejected(String name, DType a, DType b, DType c, String message) {
      Storage cs = Storage.allocate(c, 4);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> cs.gemm(false, false, 2, 2, 2, 1, Storage.allocate(a, 4), 0, 2,
              Storage.allocate(b, 4), 0, 2, 0, 0, 2));
      assertEquals(message, e.getMessage());
    }

    /**
     * A product of one row or one column is BLAS gemv, except between OpenBLAS's threading
     * threshold ({@code 2304 * 4} elements) and {@code 2^16}: there it is gemm, which OpenBLAS
     * keeps on the calling thread (elman-s's {@code 128 x 128} streaming product took 7.7 or 17
     * µs a step, depending on where the scheduler put OpenBLAS's second thread).
     */
    @Test
    void aVectorProductThatOpenBlasWouldShareRunsAsGemmUpTo2To16() {
      assertAll(
          () -> assertTrue(Storage.gemvAlone(32, 128), "elman-s layer 0 input, 4096"),
          () -> assertTrue(Storage.gemvAlone(1, 9215), "just below OpenBLAS's threshold"),
          () -> assertFalse(Storage.gemvAlone(9216, 1), "OpenBLAS's threshold"),
          () -> assertFalse(Storage.gemvAlone(128, 128), "elman-s recurrent, 16384"),
          () -> assertFalse(Storage.gemvAlone(255, 257), "65535"),
          () -> assertTrue(Storage.gemvAlone(256, 256), "2^16"),
          () -> assertTrue(Storage.gemvAlone(1024, 256), "lstm-m recurrent"),
          () -> assertTrue(Storage.gemvAlone(2048, 512), "lstm-l recurrent"));
    }

    static Stream<Arguments> vectorProducts() {
      List<Arguments> cases = new ArrayList<>();
      for (DType dtype : DType.values()) {
        for (boolean transA : new boolean[] {false, true}) {
          for (boolean transB : new boolean[] {false, true}) {
            // outputs x depth: below the threshold, between it and 2^16 (gemm), at 2^16.
            for (int[] od : new int[][] {{32, 128}, {128, 128}, {100, 300}, {256, 256}}) {
              for (boolean row : new boolean[] {true, false}) {
                int m = row ? 1 : od[0];
                int n = row ? od[0] : 1;
                String name = String.format("%s, %s x %s x %s, op(A) = %s, op(B) = %s",
                    dtype.torchName(), m, n, od[1], transA ? "A^T" : "A", transB ? "B^T" : "B");
                cases.add(Arguments.of(name, dtype, transA, transB, m, n, od[1]));
              }
            }
          }
        }
      }
      return cases.stream();
    }

    /** One row or one column of C, on each path, with offsets and strides as in a scan. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("vectorProducts")
    void aRowOrAColumnMatchesTheNaiveTripleLoop(String name, DType dtype, boolean transA,
        boolean transB, int m, int n, int k) {
      int lda = (transA ? m : k) + 3;
      int ldb = (transB ? k : n) + 3;
      int ldc = n + 2;
      int aOff = 5;
      int bOff = 7;
      int cOff = 2;
      Random rnd = new Random(name.hashCode());
      double[] a = random(rnd, dtype, aOff + (transA ? k : m) * lda);
      double[] b = random(rnd, dtype, bOff + (transB ? n : k) * ldb);
      double[] c = random(rnd, dtype, cOff + m * ldc + 2);
      Storage cs = storage(dtype, c);
      cs.gemm(transA, transB, m, n, k, 1.5, storage(dtype, a), aOff, lda, storage(dtype, b),
          bOff, ldb, -0.5, cOff, ldc);

      double[] expected = naive(transA, transB, m, n, k, 1.5, a, aOff, lda, b, bOff, ldb, -0.5,
          c, cOff, ldc);
      assertArrayEquals(expected, values(cs), dtype == DType.FLOAT32 ? 2e-4 : 1e-12);
    }

    @Test
    void blasImplementationIsNamedByTensor() {
      assertAll(
          () -> assertFalse(Blas.implementation().isEmpty()),
          () -> assertEquals(Blas.implementation(), Tensor.blasImplementation()));
    }

    @Test
    void float32AndFloat64AgreeOnALargerProduct() {
      int m = 17;
      int n = 13;
      int k = 29;
      Random rnd = new Random(5);
      double[] a = random(rnd, DType.FLOAT32, m * k);
      double[] b = random(rnd, DType.FLOAT32, k * n);
      Storage c32 = Storage.allocate(DType.FLOAT32, m * n);
      Storage c64 = Storage.allocate(DType.FLOAT64, m * n);
      c32.gemm(false, false, m, n, k, 1, storage(DType.FLOAT32, a), 0, k,
          storage(DType.FLOAT32, b), 0, n, 0, 0, n);
      c64.gemm(false, false, m, n, k, 1, storage(DType.FLOAT64, a), 0, k,
          storage(DType.FLOAT64, b), 0, n, 0, 0, n);
      double[] expected = naive(false, false, m, n, k, 1, a, 0, k, b, 0, n, 0, new double[m * n],
          0, n);
      assertAll(
          () -> assertArrayEquals(expected, values(c64), 1e-12),
          () -> assertArrayEquals(expected, values(c32), 1e-4),
          () -> assertTrue(c32.allFinite()));
    }
  }
}
