package dev.rnn.dsl;

import static dev.rnn.dsl.Rnn.network;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnn.core.Activation;
import dev.rnn.core.Cell;
import dev.rnn.core.ElmanCell;
import dev.rnn.core.Step;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * {@link Network#graph(int)} and {@link Network#graphSvg(int)}: the unrolled graph's nodes and
 * edges, the two stacking modes, hand-off, bidirectional chains, the SVG as XML and the errors.
 */
class UnrolledGraphTest {
  static final String SVG_NS = "http://www.w3.org/2000/svg";

  /** The SVG parsed by the JDK's XML parser: fails the test if it is not well-formed. */
  static Document parse(String svg) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
    f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    DocumentBuilder b = f.newDocumentBuilder();
    return b.parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
  }

  /** The SVG elements {@code tag} of class {@code "first kind"}, by kind. */
  static Map<String, List<Element>> byClass(Document d, String tag, String first) {
    Map<String, List<Element>> m = new TreeMap<>();
    NodeList all = d.getElementsByTagNameNS(SVG_NS, tag);
    for (int i = 0, n = all.getLength(); i < n; i++) {
      Element e = (Element) all.item(i);
      String[] classes = e.getAttribute("class").split(" ");
      if (classes.length == 2 && classes[0].equals(first)) {
        m.computeIfAbsent(classes[1], k -> new ArrayList<>()).add(e);
      }
    }
    return m;
  }

  /** How many SVG nodes (or edges) there are of each kind. */
  static Map<String, Integer> counts(Document d, String tag, String first) {
    Map<String, Integer> m = new TreeMap<>();
    byClass(d, tag, first).forEach((k, v) -> m.put(k, v.size()));
    return m;
  }

  /** How many DOT nodes (or edges) there are of each kind, from their {@code class} attribute. */
  static Map<String, Integer> dotCounts(String dot, String first) {
    Map<String, Integer> m = new TreeMap<>();
    Matcher x = Pattern.compile("class=\"" + first + " ([a-z-]+)\"").matcher(dot);
    while (x.find()) {
      m.merge(x.group(1), 1, Integer::sum);
    }
    return m;
  }

  /** The DOT edges {@code "a" -> "b"} with their class, e.g. {@code l1_1 -> l1_2 recurrent}. */
  static List<String> dotEdges(String dot) {
    List<String> edges = new ArrayList<>();
    Matcher x = Pattern.compile("\"([^\"]+)\" -> \"([^\"]+)\" \\[[^]]*class=\"edge ([a-z]+)\"")
        .matcher(dot);
    while (x.find()) {
      edges.add(x.group(1) + " -> " + x.group(2) + " " + x.group(3));
    }
    return edges;
  }

  /** The SVG edge ids of a kind, e.g. {@code edge-l1_1-l1_2}. */
  static List<String> edgeIds(Document d, String kind) {
    List<String> ids = new ArrayList<>();
    for (Element e : byClass(d, "path", "edge").getOrDefault(kind, List.of())) {
      ids.add(e.getAttribute("id"));
    }
    return ids;
  }

  /** The text of the SVG node with id {@code node-<id>}: symbol, step and detail. */
  static String nodeText(Document d, String id) {
    Element g = null;
    NodeList all = d.getElementsByTagNameNS(SVG_NS, "g");
    for (int i = 0, n = all.getLength(); i < n; i++) {
      Element e = (Element) all.item(i);
      if (e.getAttribute("id").equals("node-" + id)) {
        g = e;
      }
    }
    assertTrue(g != null, () -> "no node " + id);
    // each text element, its parts (symbol, subscripted step) joined by a space
    NodeList texts = g.getElementsByTagNameNS(SVG_NS, "text");
    StringBuilder sb = new StringBuilder();
    for (int i = 0, n = texts.getLength(); i < n; i++) {
      sb.append(i > 0 ? " | " : "");
      NodeList parts = texts.item(i).getChildNodes();
      for (int k = 0, m = parts.getLength(); k < m; k++) {
        sb.append(k > 0 ? " " : "").append(parts.item(k).getTextContent());
      }
    }
    return sb.toString();
  }

  static Map<String, Integer> map(Object... kv) {
    Map<String, Integer> m = new TreeMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], (Integer) kv[i + 1]);
    }
    return m;
  }

  @Nested
  class TheSeedNetworkOverThreeSteps {
    @Test
    void underStatesHasInputsTwoRecurrentChainsAndNoActivationNode() throws Exception {
      Document d = parse(NetworkTest.seed(Stacking.STATES).graphSvg(3));
      assertAll(
          () -> assertEquals(map("initial", 2, "input", 3, "recurrent", 6),
              counts(d, "g", "node")),
          () -> assertEquals(map("initial", 2, "layer", 6, "recurrent", 4),
              counts(d, "path", "edge")),
          () -> assertEquals(List.of("edge-l1_1-l1_2", "edge-l1_2-l1_3", "edge-l3_1-l3_2",
              "edge-l3_2-l3_3"), edgeIds(d, "recurrent")),
          () -> assertEquals("h1 1 | relu inside", nodeText(d, "l1_1")),
          () -> assertEquals("h3 2 | linear", nodeText(d, "l3_2")),
          () -> assertEquals("h1 0 | zeros", nodeText(d, "l1_0")));
    }

    @Test
    void underOutputsHasTheActivationAsANodeAfterTheState() throws Exception {
      Document d = parse(NetworkTest.seed(Stacking.OUTPUTS).graphSvg(3));
      assertAll(
          () -> assertEquals(map("activation", 3, "initial", 2, "input", 3, "recurrent", 6),
              counts(d, "g", "node")),
          () -> assertEquals(map("initial", 2, "layer", 9, "recurrent", 4),
              counts(d, "path", "edge")),
          // the recurrent edge leaves the pre-activation state s1; the relu follows it
          () -> assertEquals("s1 1 | linear", nodeText(d, "l1_1")),
          () -> assertEquals("y2 1 | relu(s1)", nodeText(d, "l2_1")),
          () -> assertEquals("s3 3 | linear", nodeText(d, "l3_3")),
          () -> assertTrue(edgeIds(d, "recurrent").contains("edge-l1_1-l1_2")),
          () -> assertTrue(edgeIds(d, "layer").containsAll(
              List.of("edge-l1_1-l2_1", "edge-l2_1-l3_1"))));
    }

    @Test
    void theModesDrawDifferentGraphs() {
      String states = NetworkTest.seed(Stacking.STATES).graph(3);
      String outputs = NetworkTest.seed(Stacking.OUTPUTS).graph(3);
      assertAll(
          () -> assertNotEquals(states, outputs),
          () -> assertFalse(states.contains("class=\"node activation\""), states),
          () -> assertEquals(3, dotCounts(outputs, "node").get("activation"), outputs),
          () -> assertTrue(states.contains(
              "\"l1_1\" [label=\"h1_1\\nrelu inside\""), states),
          () -> assertTrue(outputs.contains("\"l1_1\" [label=\"s1_1\\nlinear\""), outputs),
          () -> assertTrue(outputs.contains("\"l2_1\" [label=\"y2_1\\nrelu(s1)\""), outputs),
          () -> assertTrue(states.contains("the recurrent edges carry h1, after relu"), states),
          () -> assertTrue(outputs.contains("the recurrent edges carry s1, before relu"),
              outputs));
    }

    @ParameterizedTest
    @EnumSource(Stacking.class)
    void dotAndSvgHaveTheSameNodesAndEdges(Stacking mode) throws Exception {
      Network net = NetworkTest.seed(mode);
      String dot = net.graph(3);
      Document svg = parse(net.graphSvg(3));
      assertAll(
          () -> assertEquals(counts(svg, "g", "node"), dotCounts(dot, "node")),
          () -> assertEquals(counts(svg, "path", "edge"), dotCounts(dot, "edge")));
    }

    @Test
    void theDotEdgesAreTheModelsEdges() {
      Network net = NetworkTest.seed(Stacking.STATES);
      List<String> expected = new ArrayList<>();
      for (UnrolledGraph.Edge e : UnrolledGraph.of(net, 3, "graph(steps)").edges()) {
        expected.add(e.from() + " -> " + e.to() + " " + e.kind().css);
      }
      assertEquals(expected, dotEdges(net.graph(3)));
    }
  }

  @Nested
  class WhenStatesAreHandedOff {
    static Network net(boolean handOff) {
      NetworkBuilder b = network().recurrent(2, 2).relu().recurrent(2, 2);
      return (handOff ? b.handOffStates() : b).build();
    }

    @Test
    void theFinalStateOfLayerOneStartsLayerThree() throws Exception {
      Document d = parse(net(true).graphSvg(3));
      assertAll(
          () -> assertEquals(List.of("edge-l1_3-l3_0"), edgeIds(d, "handoff")),
          () -> assertEquals("s3 0 | from s1_3", nodeText(d, "l3_0")),
          () -> assertTrue(dotEdges(net(true).graph(3)).contains("l1_3 -> l3_0 handoff")));
    }

    @Test
    void withoutHandOffThereIsNoHandOffEdge() throws Exception {
      Document d = parse(net(false).graphSvg(3));
      assertAll(
          () -> assertEquals(List.of(), edgeIds(d, "handoff")),
          () -> assertEquals("s3 0 | zeros", nodeText(d, "l3_0")),
          () -> assertFalse(net(false).graph(3).contains("handoff")));
    }
  }

  @Nested
  class WhenALayerIsBidirectional {
    final Network net = network().lstm(2, 3).bidirectional().dense(6, 1).build();

    @Test
    void itHasAForwardAndAReverseChain() throws Exception {
      Document d = parse(net.graphSvg(3));
      assertAll(
          () -> assertEquals(map("dense", 3, "initial", 2, "input", 3, "recurrent", 6),
              counts(d, "g", "node")),
          () -> assertEquals(List.of("edge-l1_1-l1_2", "edge-l1_2-l1_3", "edge-l1r_2-l1r_1",
              "edge-l1r_3-l1r_2"), edgeIds(d, "recurrent")),
          () -> assertEquals(List.of("edge-l1_0-l1_1", "edge-l1r_0-l1r_3"),
              edgeIds(d, "initial")),
          // x_t feeds both directions, and both feed the dense layer: 3 * (2 + 2) edges
          () -> assertEquals(12, edgeIds(d, "layer").size()),
          () -> assertEquals("h1→ 1 | lstm, with c1", nodeText(d, "l1_1")),
          () -> assertEquals("h1← 1 | lstm, with c1", nodeText(d, "l1r_1")));
    }

    @Test
    void theReverseInitialStateIsAtTheRightEnd() {
      Map<String, UnrolledGraph.Node> nodes = new LinkedHashMap<>();
      for (UnrolledGraph.Node n : UnrolledGraph.of(net, 3, "graph(steps)").nodes()) {
        nodes.put(n.id(), n);
      }
      assertAll(
          () -> assertEquals(0, nodes.get("l1_0").column()),
          () -> assertEquals(4, nodes.get("l1r_0").column()),
          () -> assertEquals(1, nodes.get("l1_1").row()),
          () -> assertEquals(2, nodes.get("l1r_1").row()),
          () -> assertEquals(3, nodes.get("l2_1").row()));
    }
  }

  @Nested
  class AfterLastStep {
    @Test
    void eachStageIsOneNodeFedByTheFinalStep() throws Exception {
      Network net = network().gru(2, 3).lastStep().dense(3, 1).build();
      Document d = parse(net.graphSvg(4));
      assertAll(
          () -> assertEquals(map("dense", 1, "initial", 1, "input", 4, "last-step", 1,
              "recurrent", 4), counts(d, "g", "node")),
          () -> assertTrue(edgeIds(d, "layer").containsAll(
              List.of("edge-l1_4-l2", "edge-l2-l3")), edgeIds(d, "layer").toString()),
          () -> assertEquals(4 + 2, edgeIds(d, "layer").size()),
          () -> assertEquals("y | step 4 only", nodeText(d, "l2")),
          () -> assertEquals("y3 | dense(3, 1)", nodeText(d, "l3")));
    }
  }

  @Nested
  class TheSvg {
    @Test
    void isAStandaloneSvg11Document() throws Exception {
      Document d = parse(NetworkTest.seed(Stacking.OUTPUTS).graphSvg(3));
      Element root = d.getDocumentElement();
      assertAll(
          () -> assertEquals("svg", root.getLocalName()),
          () -> assertEquals(SVG_NS, root.getNamespaceURI()),
          () -> assertEquals("1.1", root.getAttribute("version")),
          () -> assertTrue(root.getAttribute("viewBox").startsWith("0 0 ")),
          () -> assertEquals(3, d.getElementsByTagNameNS(SVG_NS, "marker").getLength()),
          () -> assertTrue(d.getElementsByTagNameNS(SVG_NS, "title").item(0).getTextContent()
              .startsWith("network().recurrent(2, 2).relu().recurrent(2, 1), stacking: OUTPUTS")));
    }

    @Test
    void drawsTimeLeftToRightAndLayersBottomToTop() throws Exception {
      Document d = parse(NetworkTest.seed(Stacking.OUTPUTS).graphSvg(3));
      Map<String, int[]> at = new LinkedHashMap<>();
      NodeList rects = d.getElementsByTagNameNS(SVG_NS, "rect");
      for (int i = 0, n = rects.getLength(); i < n; i++) {
        Element r = (Element) rects.item(i);
        String id = ((Element) r.getParentNode()).getAttribute("id");
        at.put(id.replace("node-", ""), new int[] {Integer.parseInt(r.getAttribute("x")),
            Integer.parseInt(r.getAttribute("y"))});
      }
      assertAll(
          () -> assertTrue(at.get("l1_0")[0] < at.get("x_1")[0]),
          () -> assertTrue(at.get("x_1")[0] < at.get("x_2")[0]),
          () -> assertTrue(at.get("x_2")[0] < at.get("x_3")[0]),
          () -> assertEquals(at.get("x_2")[0], at.get("l3_2")[0]),
          () -> assertTrue(at.get("x_1")[1] > at.get("l1_1")[1]),
          () -> assertTrue(at.get("l1_1")[1] > at.get("l2_1")[1]),
          () -> assertTrue(at.get("l2_1")[1] > at.get("l3_1")[1]));
    }

    @Test
    void escapesWhatACellCallsItself() throws Exception {
      Network net = network().cell(new Named("odd<cell> & \"friends\"")).build();
      String svg = net.graphSvg(2);
      Document d = parse(svg);
      assertAll(
          () -> assertTrue(svg.contains("odd&lt;cell&gt; &amp; &quot;friends&quot;"), svg),
          () -> assertEquals("h1 1 | odd<cell> & \"friends\"", nodeText(d, "l1_1")),
          () -> assertTrue(net.graph(2).contains("odd<cell> & \\\"friends\\\""), net.graph(2)));
    }

    @Test
    void drawsFiftySteps() throws Exception {
      Document d = parse(NetworkTest.seed(Stacking.STATES).graphSvg(50));
      assertEquals(map("initial", 2, "layer", 100, "recurrent", 98),
          counts(d, "path", "edge"));
    }
  }

  @Nested
  class TheModel {
    final UnrolledGraph g = UnrolledGraph.of(
        network().lstm(2, 3).bidirectional().dense(6, 1).build(), 3, "graph(steps)");

    static List<String> ids(List<UnrolledGraph.Node> nodes) {
      return nodes.stream().map(UnrolledGraph.Node::id).toList();
    }

    @Test
    void indexesItsNodesByRowAndByColumn() {
      assertAll(
          () -> assertEquals(List.of("x_1", "x_2", "x_3"), ids(g.row(0))),
          () -> assertEquals(List.of("l1_0", "l1_1", "l1_2", "l1_3"), ids(g.row(1))),
          () -> assertEquals(List.of("l1r_1", "l1r_2", "l1r_3", "l1r_0"), ids(g.row(2))),
          () -> assertEquals(List.of("l1_0"), ids(g.column(0))),
          () -> assertEquals(List.of("x_2", "l1_2", "l1r_2", "l2_2"), ids(g.column(2))),
          () -> assertEquals(List.of("l1r_0"), ids(g.column(4))),
          () -> assertEquals("l1r_2", g.node("l1r_2").id()),
          () -> assertEquals(List.of(false, false, true, false),
              g.rows().stream().map(UnrolledGraph.Row::reverse).toList()));
    }

    @Test
    void knowsWhichCellsLieBetweenTwoRows() {
      assertAll(
          // x_1 -> l1r_1 passes l1_1; l1_1 -> l2_1 passes l1r_1
          () -> assertTrue(g.occupiedBetween(1, 0, 2)),
          () -> assertTrue(g.occupiedBetween(1, 1, 3)),
          () -> assertFalse(g.occupiedBetween(1, 0, 1)),
          () -> assertFalse(g.occupiedBetween(1, 2, 3)),
          () -> assertTrue(g.occupiedBetween(0, 0, 3)),
          () -> assertFalse(g.occupiedBetween(0, 1, 3)),
          () -> assertFalse(g.occupiedBetween(4, 0, 2)));
    }

    @Test
    void keepsTheTitleAndNotesForBothDrawings() {
      UnrolledGraph h = UnrolledGraph.of(WhenStatesAreHandedOff.net(true), 1, "graph(steps)");
      assertAll(
          () -> assertEquals("network().recurrent(2, 2).relu().recurrent(2, 2)", h.title()),
          () -> assertTrue(h.subtitle().startsWith("stacking: OUTPUTS"), h.subtitle()),
          () -> assertTrue(h.subtitle().contains("unrolled over 1 step;"), h.subtitle()),
          () -> assertTrue(h.handsOffStates()),
          () -> assertEquals(2, h.notes().size()),
          () -> assertEquals(1, h.steps()));
    }
  }

  @Nested
  class WhenTheNetworkIsDeep {
    static Network chain(int layers) {
      NetworkBuilder b = network();
      for (int i = 0; i < layers; i++) {
        b.recurrent(1, 1);
      }
      return b.build();
    }

    /** The nanoseconds {@code graph(1)} and {@code graphSvg(1)} take together, the best of n. */
    static long render(Network net, int n) {
      long best = Long.MAX_VALUE;
      for (int i = 0; i < n; i++) {
        long t0 = System.nanoTime();
        String dot = net.graph(1);
        String svg = net.graphSvg(1);
        best = Math.min(best, System.nanoTime() - t0);
        assertTrue(dot.endsWith("}\n") && svg.endsWith("</svg>\n"));
      }
      return best;
    }

    @Test
    void twentyThousandLayersDrawInLinearTime() {
      Network small = chain(2_000);
      Network large = chain(20_000);
      render(small, 2); // warm up
      long s = render(small, 3);
      long l = render(large, 2);
      // ten times the layers: about ten times the work if linear, a hundred if quadratic
      assertTrue(l < 40 * s, () -> String.format(
          "2,000 layers took %.0f ms and 20,000 layers %.0f ms: %.0f times as long", s / 1e6,
          l / 1e6, (double) l / s));
    }

    @Test
    void twentyThousandLayersDrawEveryLayer() throws Exception {
      Network net = chain(20_000);
      String dot = net.graph(1);
      String svg = net.graphSvg(1);
      Document d = parse(svg);
      // both drawings mark nodes and edges with class="node kind" and class="edge kind"
      assertAll(
          () -> assertEquals(map("initial", 20_000, "input", 1, "recurrent", 20_000),
              dotCounts(dot, "node")),
          () -> assertEquals(map("initial", 20_000, "layer", 20_000), dotCounts(dot, "edge")),
          () -> assertEquals(map("initial", 20_000, "input", 1, "recurrent", 20_000),
              dotCounts(svg, "node")),
          () -> assertEquals(map("initial", 20_000, "layer", 20_000), dotCounts(svg, "edge")),
          () -> assertEquals("s20000 1 | linear", nodeText(d, "l20000_1")));
    }
  }

  @Test
  void xmlEscapesMarkupAndDropsControlCharacters() {
    assertEquals("a&lt;b&gt;&amp;&quot;&apos;c", SvgWriter.xml("a<b>&\"'\u0001c"));
  }

  @Nested
  class WhenStepsAreOutOfRange {
    @ParameterizedTest
    @ValueSource(ints = {0, -7, 51})
    void graphNamesTheRange(int steps) {
      Network net = NetworkTest.seed(Stacking.STATES);
      Throwable dot = assertThrows(IllegalArgumentException.class, () -> net.graph(steps));
      Throwable svg = assertThrows(IllegalArgumentException.class, () -> net.graphSvg(steps));
      assertAll(
          () -> assertEquals("graph(steps) expected 1 <= steps <= 50 but got " + steps
              + " (one column is drawn per step)", dot.getMessage()),
          () -> assertEquals("graphSvg(steps) expected 1 <= steps <= 50 but got " + steps
              + " (one column is drawn per step)", svg.getMessage()));
    }

    @Test
    void zeroStepsIsPinned() {
      Throwable e = assertThrows(IllegalArgumentException.class,
          () -> NetworkTest.seed(Stacking.OUTPUTS).graph(0));
      assertEquals("graph(steps) expected 1 <= steps <= 50 but got 0 (one column is drawn per"
          + " step)", e.getMessage());
    }
  }

  /** An Elman cell under another name, to see that names are escaped. */
  private static final class Named implements Cell {
    private final Cell cell = new ElmanCell(2, 2, Activation.TANH);
    private final String name;

    Named(String name) {
      this.name = name;
    }

    @Override public String describe() {
      return name;
    }

    @Override public int inputSize() {
      return cell.inputSize();
    }

    @Override public int hiddenSize() {
      return cell.hiddenSize();
    }

    @Override public int gateSize() {
      return cell.gateSize();
    }

    @Override public int stateCount() {
      return cell.stateCount();
    }

    @Override public int savedSize() {
      return cell.savedSize();
    }

    @Override public void forward(Step s) {
      cell.forward(s);
    }

    @Override public void backward(Step s) {
      cell.backward(s);
    }
  }
}
