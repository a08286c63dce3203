package dev.rnn.examples.train;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import javax.imageio.ImageIO;

/** The short, seeded version of an example, its printed report and checks of its files. */
final class Quick {
  private final StringWriter report = new StringWriter();
  final Setup setup;

  Quick(Path dir) {
    setup = new Setup(1, OptionalInt.empty(), true, dir, Progress.none(),
        new PrintWriter(report, true));
  }

  /** What the example printed. */
  String report() {
    return report.toString();
  }

  /** The lines of a CSV file, after checking that it exists and starts with {@code header}. */
  static List<String> csvLines(Path file, String header) throws IOException {
    assertTrue(Files.isRegularFile(file), file + " was written");
    List<String> lines = Files.readAllLines(file);
    assertEquals(header, lines.get(0), file + " header");
    return lines;
  }

  /** Checks that {@code file} is a PNG that decodes to an image of the given size. */
  static void assertPng(Path file, int width, int height) throws IOException {
    assertTrue(Files.isRegularFile(file), file + " was written");
    BufferedImage img = ImageIO.read(file.toFile());
    assertNotNull(img, file + " decodes as an image");
    assertAll(
        () -> assertEquals(width, img.getWidth(), file + " width"),
        () -> assertEquals(height, img.getHeight(), file + " height"));
  }

  /** Checks that {@code dir} holds no temporary file left by an atomic write. */
  static void assertNoTemporaryFiles(Path dir) throws IOException {
    try (var files = Files.list(dir)) {
      List<String> tmp = files.map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".tmp")).toList();
      assertEquals(List.of(), tmp, "temporary files left in " + dir);
    }
  }
}
