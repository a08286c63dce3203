package dev.rnn.dsl;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.autograd.GradientCheck;
import dev.rnn.autograd.Graph;
import dev.rnn.autograd.Ops;
import dev.rnn.autograd.SequenceModel;
import dev.rnn.autograd.Value;
import dev.rnn.core.DType;
import dev.rnn.core.Lengths;
import dev.rnn.core.Parameter;
import dev.rnn.core.Shape;
import dev.rnn.core.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Bidirectional merge modes (Keras's {@code merge_mode}) and embeddings of token ids (torch's
 * {@code nn.Embedding} with {@code padding_idx}): sizes, equations, gradients by central
 * differences, torch's numbers, lengths, the spec language and checkpoints.
 */
class MergeAndEmbeddingTest {
  @TempDir
  Path dir;

  /** Central differences of every parameter of {@code net} for a loss of its output on x. */
  private static GradientCheck.Report check(Network net, Tensor x, Lengths lengths) {
    Tensor target = Tensor.randn(DType.FLOAT64, 77, forward(net, Graph.inference(), x, lengths)
        .shape().dims());
    return GradientCheck.defaults().check(net.parameters(),
        () -> loss(net, Graph.training(), x, lengths, target).item(),
        () -> {
          Graph g = Graph.training();
          g.backward(loss(net, g, x, lengths, target));
        });
  }

  private static Value forward(Network net, Graph g, Tensor x, Lengths lengths) {
    SequenceModel.Forward f = net.model().forward(g, g.constant(x), null, 0, lengths);
    return f.output();
  }

  private static Value loss(Network net, Graph g, Tensor x, Lengths lengths, Tensor target) {
    return Ops.mse(g, forward(net, g, x, lengths), target, null);
  }

  @Nested
  class MergeModes {
    @ParameterizedTest(name = "{0}")
    @EnumSource(Merge.class)
    void gradientsMatchCentralDifferencesWithAndWithoutLengths(Merge merge) {
      Network net = Rnn.network().gru(2, 3).bidirectional(merge)
          .dense(merge == Merge.CONCAT ? 6 : 3, 2).dtype(DType.FLOAT64).seed(3).build();
      Tensor x = Tensor.randn(DType.FLOAT64, 4, 4, 3, 2);
      GradientCheck.Report full = check(net, x, null);
      GradientCheck.Report ragged = check(net, x, Lengths.of(4, 1, 3));
      assertAll(
          () -> assertTrue(full.passed(), full::toString),
          () -> assertTrue(ragged.passed(), ragged::toString));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Merge.class)
    void theOutputIsTheMergeOfTheTwoDirections(Merge merge) {
      Network concat = Rnn.network().lstm(2, 3).bidirectional().dtype(DType.FLOAT64).seed(5)
          .build();
      Network merged = Rnn.network().lstm(2, 3).bidirectional(merge).dtype(DType.FLOAT64)
          .seed(5).build();
      Tensor x = Tensor.randn(DType.FLOAT64, 6, 4, 2, 2);
      Tensor both = concat.forward(x, null).output();
      Tensor f = both.slice(2, 0, 3);
      Tensor r = both.slice(2, 3, 6);
      Tensor expected = switch (merge) {
        case CONCAT -> both;
        case SUM -> f.add(r);
        case MUL -> f.mul(r);
        case AVERAGE -> f.add(r).scale(0.5);
      };
      Tensor y = merged.forward(x, null).output();
      assertAll(
          () -> assertEquals(merge.outputSize(3), merged.outputSize()),
          () -> assertTrue(y.maxAbsDiff(expected) < 1e-15));
    }

    @Test
    void describeSpecAndCheckpointsKnowTheMerge() throws IOException {
      Network net = Rnn.network().lstm(2, 3).bidirectional(Merge.AVERAGE).lstm(3, 2)
          .bidirectional(Merge.SUM).dense(2, 1).dtype(DType.FLOAT64).seed(6).build();
      Path p = dir.resolve("net.safetensors");
      net.save(p);
      Network back = Rnn.load(p);
      Tensor x = Tensor.randn(DType.FLOAT64, 8, 3, 2, 2);
      assertAll(
          () -> assertEquals("lstm(2, 3).bidirectional(average).lstm(3, 2).bidirectional(sum)"
              + ".dense(2, 1)", net.spec()),
          () -> assertEquals(net.spec(), Rnn.parse(net.spec()).build().spec()),
          () -> assertEquals("lstm(2, 3).bidirectional()",
              Rnn.parse("lstm(2, 3).bidirectional(concat)").build().spec()),
          () -> assertTrue(net.describe().contains("output: (h1→_t + h1←_t) / 2 [3]"),
              net.describe()),
          () -> assertTrue(net.describe().contains("output: h2→_t + h2←_t [2]"), net.describe()),
          () -> assertEquals(net.forward(x, null).output(), back.forward(x, null).output()));
    }

    @Test
    void aSecondBidirectionalAndAnUnknownMergeAreRefused() {
      IllegalStateException twice = assertThrows(IllegalStateException.class,
          () -> Rnn.network().lstm(2, 3).bidirectional(Merge.SUM).bidirectional());
      IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
          () -> Rnn.parse("lstm(2, 3).bidirectional(max)"));
      assertAll(
          () -> assertEquals("bidirectional() was already called on"
              + " lstm(2, 3).bidirectional(sum)", twice.getMessage()),
          () -> assertEquals("spec 'lstm(2, 3).bidirectional(max)' at position 11:"
              + " bidirectional expected a merge (concat, sum, mul, average) but got 'max'",
              unknown.getMessage()));
    }
  }

  @Nested
  class Embeddings {
    /**
     * torch 1.13, float64:
     *
     * <pre>
     * e = torch.nn.Embedding(5, 3, padding_idx=0).double()
     * e.weight[:] = [[0,0,0],[.1,-.2,.3],[.5,.4,-.6],[-.7,.8,.9],[1,-1.1,1.2]]
     * ids = [[1, 0, 3], [3, 4, 0]]       # [seq 2, batch 3]
     * g = [[[1,2,3],[4,5,6],[7,8,9]],[[-1,.5,2],[3,-4,5],[6,7,-8]]]
     * (e(ids) * g).sum().backward()
     * e.weight.grad = [[0,0,0],[1,2,3],[0,0,0],[6,8.5,11],[3,-4,5]]
     * </pre>
     */
    @Test
    void matchesTorchsOutputAndGradientWithAPaddingId() {
      Network net = Rnn.network().embedding(5, 3, 0).dtype(DType.FLOAT64).build();
      net.namedParameters().get("embedding.weight").set(Tensor.of(new double[] {
          0, 0, 0, .1, -.2, .3, .5, .4, -.6, -.7, .8, .9, 1, -1.1, 1.2}, 5, 3));
      Tensor ids = Tensor.of(new double[] {1, 0, 3, 3, 4, 0}, 2, 3);
      Tensor g = Tensor.of(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9, -1, .5, 2, 3, -4, 5, 6, 7, -8},
          2, 3, 3);
      net.parameters().forEach(Parameter::zeroGrad);
      Graph graph = Graph.training();
      Value y = net.model().forward(graph, graph.constant(ids.reshape(2, 3, 1)), null, 0)
          .output();
      graph.seed(y, g);
      graph.backward();
      assertAll(
          () -> assertArrayEquals(new double[] {.1, -.2, .3, 0, 0, 0, -.7, .8, .9, -.7, .8, .9, 1,
              -1.1, 1.2, 0, 0, 0}, y.tensor().toDoubleArray()),
          () -> assertArrayEquals(new double[] {0, 0, 0, 1, 2, 3, 0, 0, 0, 6, 8.5, 11, 3, -4, 5},
              net.namedParameters().get("embedding.weight").gradient().toDoubleArray(), 1e-15),
          () -> assertEquals(y.tensor(), net.forward(ids, null).output()));
    }

    @Test
    void gradientsMatchCentralDifferencesWithLengths() {
      // without a padding id: its row's gradient is zero by torch's rule, not by the loss
      Network net = Rnn.network().embedding(6, 3).lstm(3, 4).bidirectional(Merge.SUM)
          .dense(4, 2).lastStep().dtype(DType.FLOAT64).seed(8).build();
      Tensor ids = Tensor.of(new double[] {1, 2, 5, 3, 0, 4, 2, 5, 1, 4, 0, 3}, 4, 3, 1);
      GradientCheck.Report r = check(net, ids, Lengths.of(4, 2, 3));
      assertTrue(r.passed(), r::toString);
    }

    @Test
    void thePaddingIdsRowStaysZeroAndTheIdsAfterALengthAreNotRead() {
      Network net = Rnn.network().embedding(4, 2, 0).gru(2, 3).dense(3, 2)
          .dtype(DType.FLOAT64).seed(9).build();
      List<Tensor> sentences = List.of(Tensor.of(new double[] {1, 2, 3}, 3),
          Tensor.of(new double[] {3, 0}, 2), Tensor.of(new double[] {2}, 1));
      List<Tensor> targets = List.of(Tensor.of(new double[] {0, 1, 1}, 3),
          Tensor.of(new double[] {1, 0}, 2), Tensor.of(new double[] {1}, 1));
      net.trainer().loss(Trainer.Objective.CROSS_ENTROPY).epochs(3).fit(sentences, targets);
      // -1 (not an id) after each sentence's end is never read
      Tensor padded = Tensor.of(new double[] {1, 3, 2, 2, 0, -1, 3, -1, -1}, 3, 3);
      Network.Result r = net.forward(padded, new int[] {3, 2, 1}, null);
      Network.Result alone = net.forward(sentences.get(1), null);
      assertAll(
          () -> assertEquals(0, net.parameter("embedding.weight").select(0, 0)
              .maxAbsDiff(Tensor.zeros(DType.FLOAT64, 2))),
          () -> assertTrue(alone.output().maxAbsDiff(r.output().slice(0, 0, 2).select(1, 1))
              < 1e-12),
          () -> assertTrue(net.describe().contains("embedding.weight[id_t]   (id 0 is padding:"
              + " its row stays zero and gets no gradient)"), net.describe()));
    }

    @Test
    void streamingTakesOneIdPerSequence() {
      Network net = Rnn.network().embedding(4, 2).lstm(2, 3).dtype(DType.FLOAT64).seed(10)
          .build();
      Tensor ids = Tensor.of(new double[] {1, 2, 3, 0}, 2, 2);
      Network.Result whole = net.forward(ids, null);
      Network.Result s0 = net.step(ids.select(0, 0), null);
      Network.Result s1 = net.step(ids.select(0, 1), s0.state());
      Network.Result single = net.step(Tensor.of(new double[] {1}), null);
      assertAll(
          () -> assertTrue(s1.output().maxAbsDiff(whole.output().select(0, 1)) < 1e-15),
          () -> assertEquals(Shape.of(3), single.output().shape()),
          () -> assertTrue(single.output().maxAbsDiff(whole.output().select(0, 0).select(0, 0))
              < 1e-15));
    }

    @Test
    void misuseIsRefusedNamingIt() {
      IllegalArgumentException notFirst = assertThrows(IllegalArgumentException.class,
          () -> Rnn.network().lstm(2, 3).embedding(5, 2));
      IllegalArgumentException badPadding = assertThrows(IllegalArgumentException.class,
          () -> Rnn.network().embedding(5, 2, 5));
      Network net = Rnn.network().embedding(5, 2).lstm(2, 3).build();
      IllegalArgumentException notAnId = assertThrows(IllegalArgumentException.class,
          () -> net.forward(Tensor.of(new float[] {1, 7}, 2, 1), null));
      IllegalArgumentException features = assertThrows(IllegalArgumentException.class,
          () -> net.forward(Tensor.zeros(DType.FLOAT32, 3, 1, 2), null));
      assertAll(
          () -> assertEquals("embedding(5, 2) must be the first layer (it reads token ids) but"
              + " follows lstm(2, 3)", notFirst.getMessage()),
          () -> assertEquals("embedding(5, 2, 5) expected a padding id in [0, 5) but got 5",
              badPadding.getMessage()),
          () -> assertEquals("embedding expected ids in [0, 5) but ids[1, 0] is 7.0",
              notAnId.getMessage()),
          () -> assertEquals("embedding(5, 2) expected token ids of shape [seq, batch] or [seq]"
              + " but got [3, 1, 2]", features.getMessage()),
          () -> assertTrue(net.takesIds()),
          () -> assertTrue(net.describe().startsWith("network().embedding(5, 2).lstm(2, 3)\n"),
              net.describe()));
    }
  }
}
