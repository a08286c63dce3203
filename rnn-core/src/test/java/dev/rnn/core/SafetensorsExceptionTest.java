package dev.rnn.core;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** A {@link SafetensorsException}'s message is one line, whatever names the file holds. */
class SafetensorsExceptionTest {
  @Test
  void lineBreaksAndControlCharactersAreShownEscaped() {
    assertAll(
        () -> assertEquals("a\\nb\\r\\tc\\u0000d\\u2028e",
            new SafetensorsException("a\nb\r\tc\u0000d\u2028e").getMessage()),
        () -> assertEquals("ünïcode 'stays'", new SafetensorsException("ünïcode 'stays'")
            .getMessage()));
  }

  @Test
  void aTensorNameWithALineBreakIsEscapedInTheMessage() {
    byte[] json = "{\"in\\nput\":{\"shape\":[1],\"data_offsets\":[0,4]}}".getBytes(UTF_8);
    byte[] file = ByteBuffer.allocate(8 + json.length + 4).order(ByteOrder.LITTLE_ENDIAN)
        .putLong(json.length).put(json).array();
    SafetensorsException e = assertThrows(SafetensorsException.class,
        () -> Safetensors.read(file, "cases/x.safetensors"));
    assertEquals("cases/x.safetensors: tensor 'in\\nput' is missing \"dtype\" (expected dtype,"
        + " shape and data_offsets)", e.getMessage());
  }
}
