package dev.rnn.autograd.optim;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every optimizer against {@code torch.optim} on the {@link Quadratic}: five steps from the same
 * start, float64 within 1e-12 of torch's float64 values and float32 within 1e-6 of the same values.
 *
 * <p>The expected values are the printed output of {@link #TORCH}, pasted in unchanged.
 */
class OptimizerGoldenTest {
  /** The script that printed the expected values: save it and run {@code /usr/bin/python3}. */
  static final String TORCH = """
      # torch.optim on sum(c/2 * (theta - target)^2) for a weight [2, 3] and a bias [3], float64.
      # Rerun: /usr/bin/python3 golden.py (written against torch 1.13.0). Prints, per case, the
      # values after five steps: weight row-major, then bias.
      import torch
      from torch.optim import SGD, Adam, AdamW, RMSprop

      W0 = [[0.5, -1.25, 2.0], [-0.75, 1.5, 0.25]]
      B0 = [0.1, -0.2, 0.3]
      CW = [[1.0, 2.0, 0.5], [3.0, 0.25, 1.5]]
      TW = [[0.2, 0.4, -0.6], [0.8, -1.0, 1.2]]
      CB = [2.0, 1.0, 0.5]
      TB = [0.0, 0.5, -0.5]
      SCHEDULE = [0.2, 0.1, 0.05, 0.02, 0.01]

      def run(name, make, steps=5, lrs=None):
          t = lambda v: torch.tensor(v, dtype=torch.float64)
          w, b = t(W0).requires_grad_(), t(B0).requires_grad_()
          opt = make([w, b])
          for k in range(steps):
              if lrs is not None:
                  for group in opt.param_groups:
                      group['lr'] = lrs[k]
              opt.zero_grad()
              with torch.no_grad():
                  w.grad = t(CW) * (w - t(TW))
                  b.grad = t(CB) * (b - t(TB))
              opt.step()
          print(name + ': ' + ', '.join(repr(v) for v in w.flatten().tolist() + b.tolist()))

      # torch < 2.2 has no default lr for SGD; later versions default to 1e-3, as Sgd does.
      run('sgd defaults', lambda p: SGD(p, lr=1e-3))
      run('sgd', lambda p: SGD(p, lr=0.1))
      run('sgd momentum', lambda p: SGD(p, lr=0.1, momentum=0.9))
      run('sgd momentum dampening weight decay',
          lambda p: SGD(p, lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1))
      run('sgd nesterov',
          lambda p: SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01))
      run('sgd momentum schedule', lambda p: SGD(p, lr=0.1, momentum=0.5), lrs=SCHEDULE)

      run('adam defaults', lambda p: Adam(p))
      run('adam', lambda p: Adam(p, lr=0.1, betas=(0.8, 0.9)))
      run('adam weight decay', lambda p: Adam(p, lr=0.1, weight_decay=0.1, eps=1e-6))
      run('adam amsgrad', lambda p: Adam(p, lr=0.1, betas=(0.9, 0.5), amsgrad=True))
      run('adam amsgrad weight decay',
          lambda p: Adam(p, lr=0.05, betas=(0.5, 0.6), weight_decay=0.2, amsgrad=True))
      run('adam schedule', lambda p: Adam(p, lr=0.1), lrs=SCHEDULE)

      run('adamw defaults', lambda p: AdamW(p))
      run('adamw', lambda p: AdamW(p, lr=0.1, betas=(0.8, 0.9), weight_decay=0.1))
      run('adamw amsgrad',
          lambda p: AdamW(p, lr=0.1, betas=(0.9, 0.5), weight_decay=0.05, amsgrad=True))
      run('adamw schedule', lambda p: AdamW(p, lr=0.1, weight_decay=0.5), lrs=SCHEDULE)

      run('rmsprop defaults', lambda p: RMSprop(p))
      run('rmsprop weight decay', lambda p: RMSprop(p, lr=0.05, alpha=0.9, weight_decay=0.1))
      run('rmsprop momentum', lambda p: RMSprop(p, lr=0.05, momentum=0.9))
      run('rmsprop centered', lambda p: RMSprop(p, lr=0.05, alpha=0.9, centered=True))
      run('rmsprop centered momentum weight decay',
          lambda p: RMSprop(p, lr=0.02, alpha=0.8, eps=1e-6, weight_decay=0.05, momentum=0.5,
                            centered=True))
      """;

  static final double[] SCHEDULE = {0.2, 0.1, 0.05, 0.02, 0.01};

  /** One torch case: an optimizer, an optional learning-rate schedule, torch's final values. */
  record Case(String name, double[] lrs, Function<List<Parameter>, Optimizer> build,
      double... expected) {
    @Override public String toString() {
      return name;
    }
  }

  static Stream<Arguments> withDtypes(Case... cases) {
    return Arrays.stream(cases).flatMap(c -> Stream.of(
        Arguments.of(c, DType.FLOAT64), Arguments.of(c, DType.FLOAT32)));
  }

  static void assertMatchesTorch(Case c, DType dtype) {
    List<Parameter> params = Quadratic.parameters(dtype);
    Optimizer optimizer = c.build().apply(params);
    Quadratic.descend(optimizer, 5, c.lrs());
    double[] actual = Quadratic.values(params);
    double tolerance = dtype == DType.FLOAT64 ? 1e-12 : 1e-6;
    assertAll(IntStream.range(0, actual.length).mapToObj(i -> (Executable) () -> assertEquals(
        c.expected()[i], actual[i], tolerance, Quadratic.ELEMENTS.get(i))));
  }

  @Nested
  class SgdMatchesTorch {
    static Stream<Arguments> cases() {
      return withDtypes(
          new Case("sgd defaults", null,
              p -> Sgd.builder().build(p),
              0.4985029970014997, -1.2335658681319472, 1.9935064967508123,
              -0.7268890821273734, 1.4968765621094235, 0.25710365703846033,
              0.09900399200799681, -0.19650699300349928, 0.29800199900024993),
          new Case("sgd", null,
              p -> Sgd.builder().lr(0.1).build(p),
              0.37714699999999995, -0.14067200000000002, 1.4118304375000001,
              0.5394915000000001, 1.2027392333984375, 0.778479953125,
              0.032768000000000005, 0.086657, 0.11902475000000001),
          new Case("sgd momentum", null,
              p -> Sgd.builder().lr(0.1).momentum(0.9).build(p),
              0.19125199999999998, 1.357693, 0.4846054374999999,
              2.0063340000000003, 0.7259466552734374, 1.538489453125,
              -0.05804200000000001, 0.5204120000000001, -0.16627525),
          new Case("sgd momentum dampening weight decay", null,
              p -> Sgd.builder().lr(0.05).momentum(0.8).dampening(0.3).weightDecay(0.1).build(p),
              0.35616474566226763, 0.03011717491803895, 1.3542510985564251,
              0.8516934516461306, 1.1586042522477127, 0.79886700316672,
              0.02151106372765309, 0.09588966606619224, 0.11488531491950847),
          new Case("sgd nesterov", null,
              p -> Sgd.builder().lr(0.1).momentum(0.9).nesterov(true).weightDecay(0.01).build(p),
              0.16456323783663965, 1.084175494780057, 0.20168166615742214,
              1.3331314949038395, 0.5320275077753596, 1.5052567587321688,
              -0.04163600738137103, 0.5720544493071442, -0.24903203677163555),
          new Case("sgd momentum schedule", SCHEDULE,
              p -> Sgd.builder().lr(0.1).momentum(0.5).build(p),
              0.36998384000000006, -0.0030316399999999557, 1.3978652525000002,
              0.7731316800000002, 1.200874662597656, 0.82706971,
              0.02442616, 0.10337104000000001, 0.11472776999999995));
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("cases")
    void afterFiveSteps(Case c, DType dtype) {
      assertMatchesTorch(c, dtype);
    }
  }

  @Nested
  class AdamMatchesTorch {
    static Stream<Arguments> cases() {
      return withDtypes(
          new Case("adam defaults", null,
              p -> Adam.builder().build(p),
              0.4950014753056304, -1.2450002636123951, 1.995000167085637,
              -0.7450002806841255, 1.4950001738260965, 0.25499954083495724,
              0.09500461625566954, -0.19500062466846796, 0.2950005460270066),
          new Case("adam", null,
              p -> Adam.builder().lr(0.1).betas(0.8, 0.9).build(p),
              0.0954265086572535, -0.7541556248011256, 1.5023123298412864,
              -0.2545273717250425, 1.0024269383908064, 0.7406061691856438,
              0.010073119072233482, 0.28412175774720805, -0.1874775771714674),
          new Case("adam weight decay", null,
              p -> Adam.builder().lr(0.1).weightDecay(0.1).eps(1e-6).build(p),
              0.07375667898997373, -0.7538815110870436, 1.502224992021944,
              -0.2542619584907297, 1.0025928954204637, 0.7401102460427026,
              -0.010852906783227562, 0.2835471765853759, -0.18604949712590252),
          new Case("adam amsgrad", null,
              p -> Adam.builder().lr(0.1).betas(0.9, 0.5).amsgrad(true).build(p),
              0.10619001144626194, -0.7453999476872745, 1.4936783823125037,
              -0.24573289920986285, 0.9937894241590262, 0.7469534379909784,
              -0.018090443518472867, 0.282637541450958, -0.18952373859976945),
          new Case("adam amsgrad weight decay", null,
              p -> Adam.builder().lr(0.05).betas(0.5, 0.6).weightDecay(0.2).amsgrad(true).build(p),
              0.27411786784335435, -1.001010533769544, 1.7506352336957622,
              -0.5011319721409624, 1.2507655195000174, 0.49619717982890604,
              -0.015230337595392846, 0.042534336519729696, 0.056481330078056106),
          new Case("adam schedule", SCHEDULE,
              p -> Adam.builder().lr(0.1).build(p),
              0.16343886330913468, -0.8715277539850824, 1.6208131169750748,
              -0.37167603777950603, 1.120856321862231, 0.6263084673536027,
              -0.05872194372327906, 0.17351045960927816, -0.07496886768335226));
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("cases")
    void afterFiveSteps(Case c, DType dtype) {
      assertMatchesTorch(c, dtype);
    }
  }

  @Nested
  class AdamWMatchesTorch {
    static Stream<Arguments> cases() {
      return withDtypes(
          new Case("adamw defaults", null,
              p -> AdamW.builder().build(p),
              0.49497658330928185, -1.244937868164148, 1.9949002724306715,
              -0.7449628835414738, 1.4949252779346496, 0.25498694225034824,
              0.09499972117202204, -0.19499072611599116, 0.29498564796626064),
          new Case("adamw", null,
              p -> AdamW.builder().lr(0.1).betas(0.8, 0.9).weightDecay(0.1).build(p),
              0.08907100465346679, -0.703415189210601, 1.414721785305229,
              -0.22803468692827011, 0.9392143824518101, 0.7190620676418393,
              0.011383864225805496, 0.2838867235175645, -0.1919677906405138),
          new Case("adamw amsgrad", null,
              p -> AdamW.builder().lr(0.1).betas(0.9, 0.5).weightDecay(0.05).amsgrad(true).build(p),
              0.1028115342231394, -0.7197126359066701, 1.4494087297883786,
              -0.23231009451468862, 0.9618365356429527, 0.7364608829092187,
              -0.017259436304874406, 0.28238693578559254, -0.19153228386779902),
          new Case("adamw schedule", SCHEDULE,
              p -> AdamW.builder().lr(0.1).weightDecay(0.5).build(p),
              0.12091705472050122, -0.6718693330453475, 1.2867166654794728,
              -0.26079210704029854, 0.8758547418362789, 0.5602098283219878,
              -0.05420463821301307, 0.18613334908744458, -0.1051945285936327));
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("cases")
    void afterFiveSteps(Case c, DType dtype) {
      assertMatchesTorch(c, dtype);
    }
  }

  @Nested
  class RmsPropMatchesTorch {
    static Stream<Arguments> cases() {
      return withDtypes(
          new Case("rmsprop defaults", null,
              p -> RmsProp.builder().build(p),
              0.26025136636185775, -0.9377232281425393, 1.6830962735687558,
              -0.43856157296037557, 1.1834111380992436, 0.5523162189745983,
              7.8454475929797045e-16, 0.09327558930139188, 0.002355952929068615),
          new Case("rmsprop weight decay", null,
              p -> RmsProp.builder().lr(0.05).alpha(0.9).weightDecay(0.1).build(p),
              0.19296645351056996, -0.7501716130769444, 1.4880768174041954,
              -0.25271860298513843, 0.990923074330845, 0.7158046916783459,
              -0.0036231650597340417, 0.23767570138336003, -0.14764981876348185),
          new Case("rmsprop momentum", null,
              p -> RmsProp.builder().lr(0.05).momentum(0.9).build(p),
              0.5247257162170307, 1.6853020538798191, -1.7044360655608413,
              2.0562064532766042, -2.1510695276416683, 1.9473299270265767,
              0.36490235267468357, 0.8171239890456484, -1.0056264180068555),
          new Case("rmsprop centered", null,
              p -> RmsProp.builder().lr(0.05).alpha(0.9).centered(true).build(p),
              0.20357773790723005, -0.6812344714702442, 1.4134655182850033,
              -0.18454293018349904, 0.91464680959079, 0.7780395330990486,
              -0.0027074448693802143, 0.28941622137770684, -0.20817070368436483),
          new Case("rmsprop centered momentum weight decay", null,
              p -> RmsProp.builder().lr(0.02).alpha(0.8).eps(1e-6).weightDecay(0.05).momentum(0.5)
                  .centered(true).build(p),
              0.22715373088433313, -0.9116035776413313, 1.6577462090581538,
              -0.41236100353171695, 1.158365313731405, 0.5787929290053744,
              -0.009949671905352803, 0.12036265852857334, -0.02385194647763885));
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("cases")
    void afterFiveSteps(Case c, DType dtype) {
      assertMatchesTorch(c, dtype);
    }
  }
}
