package dev.slingshot.examples;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/**
 * A small stand-in for Debian's Fashion-MNIST files (same names, same gzipped IDX format): image
 * {@code i} has label {@code i mod 10} and pixel {@code p} equal to {@code (i + 7p) mod 256}, so
 * tests know every value.
 */
final class FakeFashionMnist {

  private FakeFashionMnist() {}

  static Path write(Path dir, int train, int test) throws IOException {
    Files.createDirectories(dir);
    images(dir.resolve(FashionMnist.TRAIN_IMAGES), train);
    labels(dir.resolve(FashionMnist.TRAIN_LABELS), train);
    images(dir.resolve(FashionMnist.TEST_IMAGES), test);
    labels(dir.resolve(FashionMnist.TEST_LABELS), test);
    return dir;
  }

  static int pixel(int image, int p) {
    return (image + 7 * p) % 256;
  }

  /** Points {@link FashionMnist} at a fake copy unless the real files are installed. */
  static void useIfRealMissing(Path tmp) throws IOException {
    if (!Files.isRegularFile(Path.of(FashionMnist.DEFAULT_DIR, FashionMnist.TRAIN_IMAGES))) {
      System.setProperty(
          FashionMnist.DIR_PROPERTY, write(tmp.resolve("fashion-mnist"), 400, 400).toString());
    }
  }

  private static void images(Path f, int n) throws IOException {
    try (DataOutputStream o =
        new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(f)))) {
      o.writeInt(0x803);
      o.writeInt(n);
      o.writeInt(28);
      o.writeInt(28);
      for (int i = 0; i < n; i++) {
        for (int p = 0; p < 784; p++) {
          o.writeByte(pixel(i, p));
        }
      }
    }
  }

  private static void labels(Path f, int n) throws IOException {
    try (DataOutputStream o =
        new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(f)))) {
      o.writeInt(0x801);
      o.writeInt(n);
      for (int i = 0; i < n; i++) {
        o.writeByte(i % 10);
      }
    }
  }
}
