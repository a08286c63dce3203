package dev.rnn.dsl;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.rnn.core.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The recurrent state of a network between two calls, as a value: for every recurrent layer and
 * direction, {@code h} (and {@code c} for LSTM), each {@code [N, H]}.
 *
 * <p>Names follow torch's parameter suffixes: {@code h_l0}, {@code c_l0}, {@code h_l1_reverse}.
 * A network keeps no state of its own: state goes in and comes out of {@link
 * Network#forward(Tensor, State)} and {@link Network#step(Tensor, State)}.
 *
 * <p>torch's layout is available too: {@link #hN()} and {@link #cN()} stack the tensors as
 * {@code h_n} and {@code c_n}, {@code [num_layers * D, N, H]} in torch's order (layer 0 forward,
 * layer 0 reverse, layer 1 forward, ...), and {@link Network#stateFromTorch} makes a state from
 * torch's {@code h0} and {@code c0}.
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

  /**
   * torch's {@code h_n}: every layer's and direction's {@code h}, stacked in torch's order.
   *
   * @return {@code [num_layers * D, N, H]} ({@code [num_layers * D, H]} for an unbatched input)
   * @throws IllegalArgumentException if the layers' hidden sizes differ, which torch's layout
   *     cannot hold
   */
  public Tensor hN() {
    return stacked("h", "h_n");
  }

  /**
   * torch's {@code c_n}: every LSTM layer's and direction's {@code c}, stacked in torch's order.
   *
   * @return {@code [num_layers * D, N, H]} ({@code [num_layers * D, H]} for an unbatched input)
   * @throws IllegalArgumentException if a layer has no cell state (only {@code lstm} has one) or
   *     the layers' sizes differ
   */
  public Tensor cN() {
    return stacked("c", "c_n");
  }

  private Tensor stacked(String prefix, String what) {
    List<Tensor> parts = new ArrayList<>();
    String first = null;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      if (!e.getKey().startsWith(prefix + "_l")) {
        continue;
      }
      Tensor t = e.getValue();
      if (first == null) {
        first = e.getKey();
      } else {
        checkArgument(t.shape().equals(tensors.get(first).shape()),
            "%s stacks every layer's %s, which needs one shape, but %s is %s and %s is %s", what,
            prefix, first, tensors.get(first).shape(), e.getKey(), t.shape());
      }
      int[] dims = new int[t.rank() + 1];
      dims[0] = 1;
      System.arraycopy(t.shape().dims(), 0, dims, 1, t.rank());
      parts.add(t.reshape(dims));
    }
    long hs = tensors.keySet().stream().filter(k -> k.startsWith("h_l")).count();
    checkArgument(!parts.isEmpty() && parts.size() == hs,
        "%s needs a %s for every layer and direction, but the state has %s%s", what, prefix,
        tensors.keySet(), prefix.equals("c") ? " (only lstm layers have a cell state c)" : "");
    return parts.size() == 1 ? parts.get(0) : Tensor.concat(0, parts);
  }

  /**
   * A state from tensors by name, e.g. {@code h_l0} and {@code c_l0} (see {@link
   * Network#stateNames()}); the network checks names and shapes where the state is used.
   *
   * @param tensors the state tensors by name, {@code [N, H]} each ({@code [H]} unbatched)
   * @return the state, holding the same (immutable) tensors
   */
  public static State of(Map<String, Tensor> tensors) {
    return new State(tensors);
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
