package dev.rnn.core;

/**
 * The element type of a {@link Tensor}: float32 (the default, for speed) or float64 (for gradient
 * checks and exact comparisons).
 */
public enum DType {
  /** IEEE 754 single precision, safetensors {@code F32}. */
  FLOAT32("F32", Float.BYTES),
  /** IEEE 754 double precision, safetensors {@code F64}. */
  FLOAT64("F64", Double.BYTES);

  private final String safetensorsName;
  private final int byteSize;

  DType(String safetensorsName, int byteSize) {
    this.safetensorsName = safetensorsName;
    this.byteSize = byteSize;
  }

  /** {@return the dtype string of the safetensors header: {@code F32} or {@code F64}} */
  public String safetensorsName() {
    return safetensorsName;
  }

  /**
   * Bytes per element: 4 or 8.
   *
   * @return 4 or 8
   */
  public int byteSize() {
    return byteSize;
  }

  /** {@return the lower-case name torch uses, {@code float32} or {@code float64}} */
  public String torchName() {
    return this == FLOAT32 ? "float32" : "float64";
  }

  /**
   * Parses {@code float32}/{@code float64} (torch names) or {@code F32}/{@code F64} (safetensors).
   *
   * @param name the name
   * @return the dtype
   * @throws IllegalArgumentException for any other name
   */
  public static DType parse(String name) {
    switch (name) {
      case "float32":
      case "F32":
        return FLOAT32;
      case "float64":
      case "F64":
        return FLOAT64;
      default:
        throw new IllegalArgumentException(
            "dtype expected one of float32, float64, F32, F64 but got '" + name + "'");
    }
  }
}
