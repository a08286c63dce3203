package dev.rnn.core;

/**
 * Thrown when a safetensors file is malformed, or lacks a tensor or metadata key asked for.
 *
 * <p>The message is one line that names the file, the tensor or key, what was expected and what
 * was found, e.g. {@code cases/x.safetensors: tensor 'input' has shape [2, 3] (6 elements, 24
 * bytes as F32) but data_offsets [0, 20] span 20 bytes}.
 */
public final class SafetensorsException extends IllegalArgumentException {
  /** An exception with this one-line message. */
  public SafetensorsException(String message) {
    super(message);
  }
}
