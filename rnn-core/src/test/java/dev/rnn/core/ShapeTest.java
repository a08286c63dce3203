package dev.rnn.core;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link Shape}: immutable dimensions, torch-style negative indices, row-major strides. */
class ShapeTest {

  @Nested
  class WhenBuilt {
    @Test
    void reportsRankSizeAndEveryDimension() {
      Shape s = Shape.of(2, 5, 4);
      assertAll(
          () -> assertEquals(3, s.rank()),
          () -> assertEquals(40, s.size()),
          () -> assertEquals(2, s.dim(0)),
          () -> assertEquals(5, s.dim(1)),
          () -> assertEquals(4, s.dim(2)),
          () -> assertArrayEquals(new int[] {2, 5, 4}, s.dims()));
    }

    @Test
    void ofRankZeroIsAScalarWithOneElement() {
      Shape s = Shape.of();
      assertAll(
          () -> assertEquals(0, s.rank()),
          () -> assertEquals(1, s.size()),
          () -> assertArrayEquals(new int[0], s.dims()),
          () -> assertEquals("[]", s.toString()));
    }

    @Test
    void withAZeroDimensionHasNoElements() {
      Shape s = Shape.of(3, 0, 7);
      assertAll(
          () -> assertEquals(3, s.rank()),
          () -> assertEquals(0, s.size()),
          () -> assertEquals(0, s.dim(1)));
    }

    @Test
    void zeroDimensionBeforeHugeOnesDoesNotOverflow() {
      assertEquals(0, Shape.of(0, 1 << 30, 1 << 30).size());
    }

    @Test
    void hasRowMajorStrides() {
      assertAll(
          () -> assertArrayEquals(new int[] {20, 4, 1}, Shape.of(2, 5, 4).strides()),
          () -> assertArrayEquals(new int[] {1}, Shape.of(7).strides()),
          () -> assertArrayEquals(new int[0], Shape.of().strides()));
    }
  }

  @Nested
  class IsImmutable {
    @Test
    void copiesTheArrayItIsGiven() {
      int[] dims = {2, 5, 4};
      Shape s = Shape.of(dims);
      dims[0] = 7;
      assertEquals(Shape.of(2, 5, 4), s);
    }

    @Test
    void dimsReturnsACopy() {
      Shape s = Shape.of(2, 5, 4);
      int[] dims = s.dims();
      dims[0] = 7;
      assertAll(
          () -> assertEquals(2, s.dim(0)),
          () -> assertArrayEquals(new int[] {2, 5, 4}, s.dims()));
    }
  }

  @Nested
  class WhenIndexedFromTheEnd {
    static Stream<Arguments> negativeIndices() {
      return Stream.of(
          Arguments.of("-1 is the last dimension", -1, 4),
          Arguments.of("-2 is the middle dimension", -2, 5),
          Arguments.of("-3 is the first dimension", -3, 2));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("negativeIndices")
    void countsLikeTorch(String name, int index, int expected) {
      assertEquals(expected, Shape.of(2, 5, 4).dim(index));
    }
  }

  @Nested
  class WhenMisused {
    static Stream<Arguments> outOfRange() {
      return Stream.of(
          Arguments.of("one past the end", Shape.of(2, 5, 4), 3,
              "dimension 3 out of range for shape [2, 5, 4]"),
          Arguments.of("far past the end", Shape.of(2, 5, 4), 7,
              "dimension 7 out of range for shape [2, 5, 4]"),
          Arguments.of("one before the start", Shape.of(2, 5, 4), -4,
              "dimension -4 out of range for shape [2, 5, 4]"),
          Arguments.of("any index of a scalar", Shape.of(), 0,
              "dimension 0 out of range for shape []"),
          Arguments.of("-1 of a scalar", Shape.of(), -1,
              "dimension -1 out of range for shape []"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("outOfRange")
    void dimOutOfRangeNamesTheIndexAndTheShape(String name, Shape s, int index, String message) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.dim(index));
      assertEquals(message, e.getMessage());
    }

    static Stream<Arguments> negativeDimensions() {
      return Stream.of(
          Arguments.of("first", new int[] {-1, 5, 4},
              "shape [-1, 5, 4] has a negative dimension -1 at index 0"),
          Arguments.of("middle", new int[] {2, -7, 4},
              "shape [2, -7, 4] has a negative dimension -7 at index 1"),
          Arguments.of("last", new int[] {2, 5, -7},
              "shape [2, 5, -7] has a negative dimension -7 at index 2"));
    }

    @ParameterizedTest(name = "negative {0} dimension")
    @MethodSource("negativeDimensions")
    void negativeDimensionIsRejected(String name, int[] dims, String message) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Shape.of(dims));
      assertEquals(message, e.getMessage());
    }

    @Test
    void tooManyElementsIsRejected() {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Shape.of(65536, 65536));
      assertEquals("shape [65536, 65536] has more than 2^31 - 9 elements", e.getMessage());
    }

    @Test
    void theLargestAllowedSizeIsAccepted() {
      assertEquals(Integer.MAX_VALUE - 8, Shape.of(Integer.MAX_VALUE - 8).size());
    }

    @Test
    void oneMoreThanTheLargestAllowedSizeIsRejected() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Shape.of(Integer.MAX_VALUE - 7));
      assertEquals("shape [2147483640] has more than 2^31 - 9 elements", e.getMessage());
    }
  }

  @Nested
  class Equality {
    @Test
    void equalDimensionsAreEqualWithEqualHashCodes() {
      assertAll(
          () -> assertEquals(Shape.of(2, 5, 4), Shape.of(2, 5, 4)),
          () -> assertEquals(Shape.of(2, 5, 4).hashCode(), Shape.of(2, 5, 4).hashCode()),
          () -> assertEquals(Shape.of(), Shape.of()));
    }

    static Stream<Arguments> differentShapes() {
      return Stream.of(
          Arguments.of("first dimension differs", Shape.of(7, 5, 4)),
          Arguments.of("middle dimension differs", Shape.of(2, 7, 4)),
          Arguments.of("last dimension differs", Shape.of(2, 5, 7)),
          Arguments.of("same order reversed", Shape.of(4, 5, 2)),
          Arguments.of("same size, other rank", Shape.of(40)),
          Arguments.of("one more dimension", Shape.of(2, 5, 4, 1)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("differentShapes")
    void differentDimensionsAreNotEqual(String name, Shape other) {
      assertNotEquals(Shape.of(2, 5, 4), other);
    }

    @Test
    void isNotEqualToOtherTypes() {
      assertAll(
          () -> assertNotEquals(Shape.of(2, 5, 4), "[2, 5, 4]"),
          () -> assertNotEquals(Shape.of(2, 5, 4), null));
    }
  }

  @Nested
  class Printing {
    static Stream<Arguments> shapes() {
      return Stream.of(
          Arguments.of("rank 3", Shape.of(2, 5, 4), "[2, 5, 4]"),
          Arguments.of("rank 1", Shape.of(7), "[7]"),
          Arguments.of("scalar", Shape.of(), "[]"),
          Arguments.of("with a zero", Shape.of(3, 0), "[3, 0]"));
    }

    @ParameterizedTest(name = "{0} prints as {2}")
    @MethodSource("shapes")
    void printsAsTorchPrintsSizes(String name, Shape s, String expected) {
      assertEquals(expected, s.toString());
    }
  }
}
