package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.rnn.core.Tensor;
import java.util.List;
import java.util.Map;

/**
 * The recurrent state of a network between two calls, as a value: for every recurrent layer and
 * direction, {@code h} (and {@code c} for LSTM), each {@code [N, H]}.
 *
 * <p>Names follow torch's parameter suffixes: {@code h_l0}, {@code c_l0}, {@code h_l1_reverse}.
 * A network keeps no state of its own: state goes in and comes out of {@link
 * Network#forward(Tensor, State)} and {@link Network#step(Tensor, State)}.
 */
public final class State {
  private final ImmutableMap<String, Tensor> tensors;

  State(Map<String, Tensor> tensors) {
    this.tensors = ImmutableMap.copyOf(tensors);
  }

  /** {@return every state tensor by name, in network order} */
  public ImmutableMap<String, Tensor> tensors() {
    return tensors;
  }

  /** {@return the state tensors in network order} */
  public ImmutableList<Tensor> list() {
    return tensors.values().asList();
  }

  /**
   * The state tensor named {@code name}, e.g. {@code h_l0}.
   *
   * @param name the tensor's name
   * @return the tensor
   * @throws IllegalArgumentException naming the state tensors there are
   */
  public Tensor get(String name) {
    Tensor t = tensors.get(name);
    checkArgument(t != null, "state has no tensor '%s'; it has %s", name, tensors.keySet());
    return t;
  }

  static State of(List<String> names, List<Tensor> values) {
    ImmutableMap.Builder<String, Tensor> b = ImmutableMap.builder();
    for (int i = 0; i < names.size(); i++) {
      b.put(names.get(i), values.get(i));
    }
    return new State(b.buildOrThrow());
  }

  @Override public String toString() {
    StringBuilder sb = new StringBuilder("State{");
    tensors.forEach((k, v) -> sb.append(sb.length() > 6 ? ", " : "").append(k).append(' ')
        .append(v.shape()));
    return sb.append('}').toString();
  }
}
