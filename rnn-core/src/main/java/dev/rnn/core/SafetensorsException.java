package dev.rnn.core;

/**
 * Thrown when a safetensors file is malformed, or lacks a tensor or metadata key asked for.
 *
 * <p>The message is one line that names the file, the tensor or key, what was expected and what
 * was found, e.g. {@code cases/x.safetensors: tensor 'input' has shape [2, 3] (6 elements, 24
 * bytes as F32) but data_offsets [0, 20] span 20 bytes}. Names and values come from the file, so
 * line breaks and other control characters in them are shown escaped ({@code \n}, {@code
 * \u0000}): the message stays one line whatever the file holds.
 */
public final class SafetensorsException extends IllegalArgumentException {
  /**
   * An exception with this message, its control characters escaped.
   *
   * @param message what is wrong, naming the file
   */
  public SafetensorsException(String message) {
    super(oneLine(message));
  }

  /** {@code s} with line breaks and other control characters as Java escapes. */
  private static String oneLine(String s) {
    StringBuilder sb = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean control = c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029';
      if (control && sb == null) {
        sb = new StringBuilder(s.length() + 16).append(s, 0, i);
      }
      if (sb != null) {
        if (!control) {
          sb.append(c);
        } else if (c == '\n') {
          sb.append("\\n");
        } else if (c == '\r') {
          sb.append("\\r");
        } else if (c == '\t') {
          sb.append("\\t");
        } else {
          sb.append(String.format("\\u%04x", (int) c));
        }
      }
    }
    return sb == null ? s : sb.toString();
  }
}
