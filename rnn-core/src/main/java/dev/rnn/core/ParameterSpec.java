package dev.rnn.core;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * The name and shape of a parameter a cell asks for, and how to initialise it.
 *
 * @param name the suffix-free torch-style name, e.g. {@code weight_peephole}
 * @param shape its dimensions
 * @param init how {@link Parameter}s are initialised when none are loaded
 */
public record ParameterSpec(String name, Shape shape, Init init) {
  /** How a parameter is initialised. */
  public enum Init {
    /** Uniform in {@code [-1/sqrt(H), 1/sqrt(H)]}, as torch initialises recurrent weights. */
    UNIFORM_HIDDEN,
    /** All zeros. */
    ZEROS,
    /** All ones (e.g. layer-norm gains). */
    ONES
  }

  /**
   * Checks the name.
   *
   * @param name the suffix-free torch-style name, e.g. {@code weight_peephole}
   * @param shape its dimensions
   * @param init how {@link Parameter}s are initialised when none are loaded
   * @throws IllegalArgumentException if {@code name} is not lower_snake_case
   */
  public ParameterSpec {
    checkArgument(name.matches("[a-z][a-z0-9_]*"),
        "parameter name expected lower_snake_case but got '%s'", name);
  }
}
