package dev.rnn.autograd.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rnn.core.DType;
import dev.rnn.core.Parameter;
import dev.rnn.core.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

class OptimizerKindTest {

  private static List<Parameter> params() {
    Parameter p = new Parameter("w", Shape.of(2), DType.FLOAT64);
    p.grad().set(0, 1.0);
    p.grad().set(1, -2.0);
    return List.of(p);
  }

  @Test
  void namesInAnyCase() {
    assertEquals(OptimizerKind.ADAMW, OptimizerKind.named(" AdamW "));
    assertEquals("rmsprop", OptimizerKind.RMSPROP.id());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> OptimizerKind.named("lbfgs"));
    assertEquals("expected sgd, adam, adamw or rmsprop but got 'lbfgs'", e.getMessage());
  }

  @Test
  void buildsEachWithTheOptionsGiven() {
    assertInstanceOf(Sgd.class, OptimizerKind.SGD.build(params(), 0.1, 0.9, null));
    assertInstanceOf(Adam.class, OptimizerKind.ADAM.build(params(), null, null, null));
    assertInstanceOf(AdamW.class, OptimizerKind.ADAMW.build(params(), 1e-2, null, 0.0));
    assertInstanceOf(RmsProp.class, OptimizerKind.RMSPROP.build(params(), null, 0.5, null));
    // sgd with lr 0.1 and no momentum: theta = -0.1 * grad
    List<Parameter> ps = params();
    OptimizerKind.SGD.build(ps, 0.1, null, null).step();
    assertEquals(-0.1, ps.get(0).value().at(0), 1e-15);
    assertEquals(0.2, ps.get(0).value().at(1), 1e-15);
  }

  @Test
  void refusesMomentumWhereThereIsNone() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> OptimizerKind.ADAM.build(params(), null, 0.9, null));
    assertEquals("momentum applies to sgd and rmsprop, not adam", e.getMessage());
  }
}
