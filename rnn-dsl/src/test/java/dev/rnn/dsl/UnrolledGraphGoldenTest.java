package dev.rnn.dsl;

import static dev.rnn.dsl.Rnn.network;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rnn.core.Activation;
import dev.rnn.core.ElmanCell;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Network#graph(int)} and {@link Network#graphSvg(int)} are byte for byte what they were
 * when the files in {@code src/test/resources/graphs} were written, for networks covering both
 * stacking modes, hand-off, bidirectional layers, every kind of stage and 1 to 4 steps.
 *
 * <p>After a deliberate change to the pictures, rewrite the files with {@code mvn -o verify -pl
 * rnn-dsl -am -Dtest=UnrolledGraphGoldenTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Drnn.graph.rewrite=true}, look at them, and commit them with the change.
 */
class UnrolledGraphGoldenTest {
  static final Path GRAPHS = Path.of("src/test/resources/graphs");

  static Stream<Arguments> networks() {
    return Stream.of(
        of("seed-states", 3, () -> NetworkTest.seed(Stacking.STATES)),
        of("seed-outputs", 3, () -> NetworkTest.seed(Stacking.OUTPUTS)),
        of("seed-outputs", 1, () -> NetworkTest.seed(Stacking.OUTPUTS)),
        of("handoff-learned-outputs", 3, () -> network().recurrent(2, 2).learnableInitialState()
            .relu().recurrent(2, 2).handOffStates().build()),
        of("lstm-bidirectional-dense", 2, () -> network().lstm(2, 3).bidirectional()
            .dense(6, 1).build()),
        of("gru-laststep-dense", 4, () -> network().gru(2, 3).lastStep().dense(3, 1).build()),
        of("elman-dropout-dense-sigmoid", 1, () -> network().elman(2, 4, Activation.TANH)
            .dropout(0.25).dense(4, 2).sigmoid().build()),
        of("lstm-peepholes-learned-lstm", 2, () -> network().lstm(3, 2).peepholes()
            .learnableInitialState().lstm(2, 2).noBias().build()),
        of("bidirectional-handoff-outputs", 3, () -> network().recurrent(2, 2).bidirectional()
            .tanh().recurrent(4, 2).bidirectional().handOffStates().build()),
        of("bidirectional-lstm-handoff", 4, () -> network().lstm(2, 2).bidirectional()
            .lstm(4, 2).bidirectional().handOffStates().build()),
        of("bidirectional-relu-inside-states", 4, () -> network().recurrent(3, 2)
            .bidirectional().relu().recurrent(4, 1).relu().stacking(Stacking.STATES).build()),
        of("dense-only", 2, () -> network().dense(2, 3).relu().dense(3, 1).build()),
        of("activation-first-cell", 2, () -> network().tanh()
            .cell(new ElmanCell(2, 2, Activation.RELU)).build()),
        of("mixed-laststep-states", 3, () -> network().recurrent(2, 2).sigmoid().dropout(0.5)
            .gru(2, 2).relu().lastStep().dense(2, 1).tanh().stacking(Stacking.STATES).build()),
        of("mixed-laststep-outputs", 3, () -> network().recurrent(2, 2).sigmoid().dropout(0.5)
            .gru(2, 2).relu().lastStep().dense(2, 1).tanh().build()),
        of("bidirectional-laststep", 1, () -> network().lstm(2, 2).bidirectional().lastStep()
            .dense(4, 1).build()),
        of("linear-chain-states", 2, () -> network().recurrent(1, 1).recurrent(1, 1)
            .recurrent(1, 1).stacking(Stacking.STATES).build()));
  }

  private static Arguments of(String name, int steps, Supplier<Network> net) {
    return Arguments.of(name + "-" + steps, steps, net);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("networks")
  void dotAndSvgAreAsBefore(String name, int steps, Supplier<Network> net) throws IOException {
    Network n = net.get();
    String dot = n.graph(steps);
    String svg = n.graphSvg(steps);
    Path dotFile = GRAPHS.resolve(name + ".dot");
    Path svgFile = GRAPHS.resolve(name + ".svg");
    if (Boolean.getBoolean("rnn.graph.rewrite")) {
      Files.createDirectories(GRAPHS);
      Files.writeString(dotFile, dot, UTF_8);
      Files.writeString(svgFile, svg, UTF_8);
    }
    String expectedDot = Files.readString(dotFile, UTF_8);
    String expectedSvg = Files.readString(svgFile, UTF_8);
    assertAll(
        () -> assertEquals(expectedDot, dot, dotFile.toString()),
        () -> assertEquals(expectedSvg, svg, svgFile.toString()));
  }
}
