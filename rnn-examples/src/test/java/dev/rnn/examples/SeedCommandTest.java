package dev.rnn.examples;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import dev.rnn.dsl.Stacking;
import java.nio.charset.Charset;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** {@code rnn-examples seed}: the seed numbers in both modes, where they differ, JSON, errors. */
class SeedCommandTest {
  static final String NEGATIVE_FIRST = "[[-1,-1],[2,2],[1,1]]";

  /** {@code s} as it comes back from stdout: non-ASCII survives only if the charset has it. */
  static String asPrinted(String s) {
    Charset cs = Charset.defaultCharset();
    return new String(s.getBytes(cs), cs);
  }

  static String last(Invocation r) {
    List<String> lines = r.outLines();
    return lines.get(lines.size() - 1);
  }

  @Nested
  class OnTheSeedInput {
    @Test
    void withoutStackingPrintsBothModesSideBySideAndTheyAgree() {
      Invocation r = Invocation.of("seed");
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertEquals("", r.err()),
          () -> assertEquals(List.of(
              "network().recurrent(2, 2).relu().recurrent(2, 1), every weight 1 and every bias 0"
                  + " (Initializer.constant(1, 0))",
              "",
              "t  x_t     y_t STATES  y_t OUTPUTS",
              "1  [1, 1]  [4]         [4]",
              "2  [2, 2]  [20]        [20]",
              "3  [3, 3]  [64]        [64]",
              "",
              "The modes agree on this input: no relu changed a value that layer 1's recurrence"
                  + " carries.",
              "",
              "== stacking STATES =="), r.outLines().subList(0, 10)),
          () -> assertTrue(r.out().contains("== stacking STATES ==\n"
              + asPrinted(SeedCommand.seedNetwork(Stacking.STATES).describe()) + "\n\n"),
              r.out()),
          () -> assertTrue(r.out().endsWith("== stacking OUTPUTS ==\n"
              + asPrinted(SeedCommand.seedNetwork(Stacking.OUTPUTS).describe()) + "\n\n"),
              r.out()));
    }

    @ParameterizedTest
    @EnumSource(Stacking.class)
    void eachModeGivesFourTwentySixtyFour(Stacking mode) {
      Invocation r = Invocation.of("seed", "--stacking", mode.name().toLowerCase(Locale.ROOT),
          "--json");
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertEquals("", r.err()),
          () -> assertEquals(List.of("t  x_t     y_t " + mode, "1  [1, 1]  [4]",
              "2  [2, 2]  [20]", "3  [3, 3]  [64]"), r.outLines().subList(2, 6)),
          () -> assertTrue(r.out().contains("== stacking " + mode + " ==\n"), r.out()),
          () -> assertEquals("{\"output\": [[4.0], [20.0], [64.0]]}", last(r)));
    }

    @Test
    void theJsonLineIsJson() {
      Invocation r = Invocation.of("seed", "--json");
      assertAll(
          () -> assertEquals("{\"states\": [[4.0], [20.0], [64.0]], \"outputs\": [[4.0], [20.0],"
              + " [64.0]]}", last(r)),
          () -> assertEquals(JsonParser.parseString("{\"states\": [[4], [20], [64]],"
              + " \"outputs\": [[4], [20], [64]]}"), JsonParser.parseString(last(r))));
    }

    @Test
    void withoutJsonThereIsNoJsonLine() {
      Invocation r = Invocation.of("seed", "--stacking", "states");
      assertAll(
          () -> assertEquals(0, r.exitCode()),
          () -> assertTrue(r.outLines().stream().noneMatch(l -> l.startsWith("{")), r.out()));
    }
  }

  @Nested
  class WhenTheModesDiffer {
    // x = [-1,-1], [2,2], [1,1]: STATES carries relu(s1) = 0, OUTPUTS carries s1 = -2.
    @Test
    void statesGivesZeroEightTwentyEight() {
      Invocation r = Invocation.of("seed", "--stacking", "states", "--input", NEGATIVE_FIRST,
          "--json");
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertEquals(List.of("t  x_t       y_t STATES", "1  [-1, -1]  [0]",
              "2  [2, 2]    [8]", "3  [1, 1]    [28]"), r.outLines().subList(2, 6)),
          () -> assertEquals("{\"output\": [[0.0], [8.0], [28.0]]}", last(r)));
    }

    @Test
    void outputsGivesZeroZeroFour() {
      Invocation r = Invocation.of("seed", "--stacking", "OUTPUTS", "--input", NEGATIVE_FIRST,
          "--json");
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertEquals(List.of("t  x_t       y_t OUTPUTS", "1  [-1, -1]  [0]",
              "2  [2, 2]    [0]", "3  [1, 1]    [4]"), r.outLines().subList(2, 6)),
          () -> assertEquals("{\"output\": [[0.0], [0.0], [4.0]]}", last(r)));
    }

    @Test
    void sideBySideSaysWhere() {
      Invocation r = Invocation.of("seed", "--input", NEGATIVE_FIRST, "--json");
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertEquals(List.of(
              "t  x_t       y_t STATES  y_t OUTPUTS",
              "1  [-1, -1]  [0]         [0]",
              "2  [2, 2]    [8]         [0]",
              "3  [1, 1]    [28]        [4]",
              "",
              "The modes differ at steps 2, 3: a negative pre-activation s1 is carried as 0 by"
                  + " STATES (h1 = relu(s1)) but as it is by OUTPUTS."),
              r.outLines().subList(2, 8)),
          () -> assertEquals("{\"states\": [[0.0], [8.0], [28.0]], \"outputs\": [[0.0], [0.0],"
              + " [4.0]]}", last(r)));
    }

    @Test
    void anInputOfAnyLengthAndFractionsWork() {
      Invocation r = Invocation.of("seed", "--stacking", "states", "--input", "[[0.5, 0.25]]",
          "--json");
      // h1 = relu(0.75) per unit, y = 0.75 + 0.75
      assertAll(
          () -> assertEquals(0, r.exitCode(), r.err()),
          () -> assertEquals("1  [0.5, 0.25]  [1.5]", r.outLines().get(3)),
          () -> assertEquals("{\"output\": [[1.5]]}", last(r)));
    }
  }

  @Nested
  class WhenTheInputIsBad {
    static final String EXPECTED = "rnn-examples seed: Invalid value for option '--input':"
        + " expected a JSON list of steps, each a list of 2 numbers, e.g. [[1,1],[2,2],[3,3]],"
        + " but ";

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "[[1,1],[2,2,2]]   | step 2 has 3 numbers",
        "[[1,1],[7]]       | step 2 has 1 number",
        "[[1,2],[3         | it is not valid JSON: End of input at line 1 column 10 path $[1][1]",
        "[[1,2]] x         | it is not valid JSON at line 1 column 10 path $",
        "[[1,2],[3,NaN]]   | it is not valid JSON at line 1 column 11 path $[1][1]",
        "`{\"x\": 1}`      | got an object",
        "[1,2]             | step 1 is the number 1",
        "[[1,2],null]      | step 2 is null",
        "`[[1,\"2\"]]`     | number 2 of step 1 is the string \"2\"",
        "[[true,2]]        | number 1 of step 1 is the boolean true",
        "[]                | got no steps",
        "[[1e39,1]]        | number 1 of step 1, 1e39, is too large for float32"})
    void namesWhatWasExpectedAndExitsWithTwo(String input, String what) {
      Invocation r = Invocation.of("seed", "--input", input);
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("", r.out()),
          () -> assertEquals(EXPECTED + what + "\n"
              + "Try 'rnn-examples seed --help' for more information.\n", r.err()));
    }

    @Test
    void anEmptyInput() {
      Invocation r = Invocation.of("seed", "--input", "");
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals(EXPECTED + "got nothing\n"
              + "Try 'rnn-examples seed --help' for more information.\n", r.err()));
    }

    @Test
    void anUnknownStacking() {
      Invocation r = Invocation.of("seed", "--stacking", "sideways");
      assertAll(
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("", r.out()),
          () -> assertEquals("rnn-examples seed: Invalid value for option '--stacking': expected"
              + " states or outputs but got 'sideways'\n"
              + "Try 'rnn-examples seed --help' for more information.\n", r.err()));
    }
  }

  @Test
  void helpSaysWhatTheDefaultIs() {
    Invocation r = Invocation.of("seed", "--help");
    assertAll(
        () -> assertEquals(0, r.exitCode()),
        () -> assertTrue(r.out().startsWith("Usage: rnn-examples seed [-hV] [--json] [--verbose]"
            + " [--input=JSON]\n"), r.out()),
        () -> assertTrue(r.out().contains("without it, both side by side."), r.out()));
  }
}
