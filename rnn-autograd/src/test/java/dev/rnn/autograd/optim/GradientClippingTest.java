package dev.rnn.autograd.optim;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Shape;
import dev.rnn.core.Storage;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link GradientClipping} against {@code torch.nn.utils.clip_grad_norm_} and {@code
 * clip_grad_value_} on a weight {@code [2, 3]} and a bias {@code [3]}: float64 within 1e-12 of the
 * output of {@link #TORCH}, float32 within 1e-6 of the same; and its errors.
 */
class GradientClippingTest {
  /** The script that printed the expected values: save it and run {@code /usr/bin/python3}. */
  static final String TORCH = """
      # torch.nn.utils clipping of the gradients of a weight [2, 3] and a bias [3], float64.
      # Rerun: /usr/bin/python3 clip.py (written against torch 1.13.0). Prints, per case, the
      # returned total norm (None for clip_grad_value_) and the gradients: weight, then bias.
      import torch
      from torch.nn.utils import clip_grad_norm_, clip_grad_value_

      GW = [[0.3, -1.2, 0.5], [2.0, -0.1, 0.7]]
      GB = [-0.4, 0.9, 1.5]

      def run(name, clip):
          t = lambda v: torch.tensor(v, dtype=torch.float64)
          w, b = torch.zeros(2, 3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
          w.grad, b.grad = t(GW), t(GB)
          total = clip([w, b])
          print(name + ': ' + repr(None if total is None else float(total)) + '; '
                + ', '.join(repr(v) for v in w.grad.flatten().tolist() + b.grad.tolist()))

      run('norm 1', lambda p: clip_grad_norm_(p, 1.0))
      run('norm 2.5', lambda p: clip_grad_norm_(p, 2.5))
      run('norm 100', lambda p: clip_grad_norm_(p, 100.0))
      run('norm 0', lambda p: clip_grad_norm_(p, 0.0))
      run('value 0.5', lambda p: clip_grad_value_(p, 0.5))
      run('value 1', lambda p: clip_grad_value_(p, 1.0))
      run('value 0', lambda p: clip_grad_value_(p, 0.0))
      """;

  static final double[] GW = {0.3, -1.2, 0.5, 2.0, -0.1, 0.7};
  static final double[] GB = {-0.4, 0.9, 1.5};
  static final double TOTAL = 3.082207001484488;

  @Nested
  class ClipByGlobalNorm {
    static Stream<Arguments> cases() {
      return withDtypes(
          Arguments.of("norm 1", 1.0, new double[] {
              0.09733282109952039, -0.38933128439808157, 0.16222136849920066,
              0.6488854739968026, -0.03244427369984013, 0.2271099158988809,
              -0.12977709479936053, 0.2919984632985612, 0.486664105497602}),
          Arguments.of("norm 2.5", 2.5, new double[] {
              0.243332052748801, -0.973328210995204, 0.40555342124800164,
              1.6222136849920066, -0.08111068424960033, 0.5677747897472023,
              -0.3244427369984013, 0.729996158246403, 1.216660263744005}),
          Arguments.of("norm 100, unclipped", 100.0, new double[] {
              0.3, -1.2, 0.5,
              2.0, -0.1, 0.7,
              -0.4, 0.9, 1.5}),
          Arguments.of("norm 0", 0.0, new double[] {
              0.0, -0.0, 0.0,
              0.0, -0.0, 0.0,
              -0.0, 0.0, 0.0}));
    }

    @ParameterizedTest(name = "{0}, {3}")
    @MethodSource("cases")
    void matchesTorch(String name, double maxNorm, double[] expected, DType dtype) {
      List<Parameter> params = withGradients(dtype, GW, GB);
      double total = GradientClipping.clipByGlobalNorm(params, maxNorm);
      assertGradients(expected, params, dtype, () -> assertEquals(TOTAL, total,
          tolerance(dtype), "total norm"));
    }

    @Test
    void anEmptyListHasNormZero() {
      assertEquals(0.0, GradientClipping.clipByGlobalNorm(List.of(), 1.0));
    }

    @Test
    void aNegativeMaxNormIsAnError() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> GradientClipping.clipByGlobalNorm(withGradients(DType.FLOAT64, GW, GB), -1));
      assertEquals("maxNorm must be >= 0 but got -1.0", e.getMessage());
    }

    static Stream<Arguments> notFinite() {
      return Stream.of(
          Arguments.of("NaN in the bias", new double[] {0.3, -1.2, 0.5, 2.0, -0.1, 0.7},
              new double[] {-0.4, Double.NaN, 1.5},
              "the gradient norm is not finite (NaN): the gradient of bias holds NaN or "
                  + "infinity; look for a diverging loss, or lower the learning rate"),
          Arguments.of("infinity in the weight",
              new double[] {0.3, -1.2, 0.5, Double.NEGATIVE_INFINITY, -0.1, 0.7}, GB,
              "the gradient norm is not finite (Infinity): the gradient of weight holds NaN or "
                  + "infinity; look for a diverging loss, or lower the learning rate"),
          Arguments.of("squares that overflow", new double[] {0.3, -1.2, 0.5, 2.0, 1e200, 0.7},
              GB, "the gradient norm is not finite (Infinity): the sum of squares of the "
                  + "gradients overflows; scale the loss down, or clip by value first"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("notFinite")
    void aNonFiniteNormIsAnErrorThatLeavesTheGradientsUnchanged(String name, double[] gw,
        double[] gb, String message) {
      List<Parameter> params = withGradients(DType.FLOAT64, gw, gb);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> GradientClipping.clipByGlobalNorm(params, 1.0));
      assertAll(
          () -> assertEquals(message, e.getMessage()),
          () -> assertArrayEquals(concat(gw, gb), Quadratic.gradients(params)));
    }
  }

  @Nested
  class ClipByValue {
    static Stream<Arguments> cases() {
      return withDtypes(
          Arguments.of("value 0.5", 0.5, new double[] {
              0.3, -0.5, 0.5,
              0.5, -0.1, 0.5,
              -0.4, 0.5, 0.5}),
          Arguments.of("value 1", 1.0, new double[] {
              0.3, -1.0, 0.5,
              1.0, -0.1, 0.7,
              -0.4, 0.9, 1.0}),
          Arguments.of("value 0", 0.0, new double[] {
              0.0, -0.0, 0.0,
              0.0, -0.0, 0.0,
              -0.0, 0.0, 0.0}));
    }

    @ParameterizedTest(name = "{0}, {3}")
    @MethodSource("cases")
    void matchesTorch(String name, double clip, double[] expected, DType dtype) {
      List<Parameter> params = withGradients(dtype, GW, GB);
      GradientClipping.clipByValue(params, clip);
      assertGradients(expected, params, dtype);
    }

    @Test
    void nanStaysNan() {
      List<Parameter> params = withGradients(DType.FLOAT32, GW, new double[] {Double.NaN, 9, -9});
      GradientClipping.clipByValue(params, 1.0);
      assertArrayEquals(new double[] {Double.NaN, 1, -1},
          params.get(1).gradient().toDoubleArray());
    }

    @Test
    void aNegativeClipIsAnError() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> GradientClipping.clipByValue(withGradients(DType.FLOAT64, GW, GB), -0.5));
      assertEquals("clip must be >= 0 but got -0.5", e.getMessage());
    }
  }

  static Stream<Arguments> withDtypes(Arguments... cases) {
    return Stream.of(cases).flatMap(c -> Stream.of(DType.FLOAT64, DType.FLOAT32).map(dtype ->
        Arguments.of(c.get()[0], c.get()[1], c.get()[2], dtype)));
  }

  /** A zero weight {@code [2, 3]} and bias {@code [3]} of {@code dtype} with these gradients. */
  static List<Parameter> withGradients(DType dtype, double[] gw, double[] gb) {
    Parameter weight = new Parameter("weight", Shape.of(2, 3), dtype);
    Parameter bias = new Parameter("bias", Shape.of(3), dtype);
    fill(weight.grad(), gw);
    fill(bias.grad(), gb);
    return List.of(weight, bias);
  }

  private static void assertGradients(double[] expected, List<Parameter> params, DType dtype,
      Executable... more) {
    double[] actual = Quadratic.gradients(params);
    assertAll(Stream.concat(Stream.of(more), IntStream.range(0, expected.length).mapToObj(
        i -> (Executable) () -> assertEquals(expected[i], actual[i], tolerance(dtype),
            Quadratic.ELEMENTS.get(i)))));
  }

  private static double tolerance(DType dtype) {
    return dtype == DType.FLOAT64 ? 1e-12 : 1e-6;
  }

  private static void fill(Storage s, double[] values) {
    for (int i = 0; i < values.length; i++) {
      s.set(i, values[i]);
    }
  }

  private static double[] concat(double[] a, double[] b) {
    return IntStream.range(0, a.length + b.length)
        .mapToDouble(i -> i < a.length ? a[i] : b[i - a.length]).toArray();
  }
}
