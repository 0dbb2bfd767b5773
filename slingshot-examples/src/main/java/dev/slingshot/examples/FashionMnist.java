package dev.slingshot.examples;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Fashion-MNIST from Debian's {@code dataset-fashion-mnist} package (gzipped IDX files in {@value
 * #DEFAULT_DIR}), the MNIST-like stand-in for the 200-sample CIFAR-10 subsets of Thilak et al.
 * 2022, App. A.4, A.5 and A.7. Images are flattened to 784 floats in [0, 1] (pixel / 255),
 * optionally standardized with the training set's pixel mean and deviation; the labels are the 10
 * classes. The first {@code count} images of each file are used (the files are already in random
 * order, with roughly balanced classes in any prefix).
 *
 * <p>The directory is {@value #DEFAULT_DIR} unless the system property {@value #DIR_PROPERTY} names
 * another (tests use a small generated copy).
 */
final class FashionMnist {

  static final String DEFAULT_DIR = "/usr/share/datasets/fashion-mnist";
  static final String DIR_PROPERTY = "slingshot.fashion_mnist.dir";
  static final String TRAIN_IMAGES = "train-images-idx3-ubyte.gz";
  static final String TRAIN_LABELS = "train-labels-idx1-ubyte.gz";
  static final String TEST_IMAGES = "t10k-images-idx3-ubyte.gz";
  static final String TEST_LABELS = "t10k-labels-idx1-ubyte.gz";
  static final int CLASSES = 10;

  private static final int IMAGES_MAGIC = 0x00000803;
  private static final int LABELS_MAGIC = 0x00000801;

  private FashionMnist() {}

  static Path dir() {
    return Path.of(System.getProperty(DIR_PROPERTY, DEFAULT_DIR));
  }

  /**
   * Checks that the four files are there.
   *
   * @throws IllegalArgumentException when one is missing, saying how to install the data
   */
  static void requireFiles() {
    Path d = dir();
    for (String f : new String[] {TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS}) {
      if (!Files.isRegularFile(d.resolve(f))) {
        throw new IllegalArgumentException(
            "Fashion-MNIST not found: "
                + d.resolve(f)
                + " is missing. Install Debian's dataset-fashion-mnist"
                + " (sudo apt-get install dataset-fashion-mnist), which puts the gzipped IDX files"
                + " in "
                + DEFAULT_DIR
                + ", or point -D"
                + DIR_PROPERTY
                + "=DIR at a directory holding "
                + TRAIN_IMAGES
                + ", "
                + TRAIN_LABELS
                + ", "
                + TEST_IMAGES
                + " and "
                + TEST_LABELS);
      }
    }
  }

  /**
   * The first {@code trainSize} training and {@code testSize} test images.
   *
   * @throws IllegalArgumentException when a file is missing, saying how to install the data
   */
  static ClassifierData.Split split(int trainSize, int testSize, boolean standardize) {
    requireFiles();
    Path d = dir();
    try {
      ClassifierData train = read(d.resolve(TRAIN_IMAGES), d.resolve(TRAIN_LABELS), trainSize);
      ClassifierData test = read(d.resolve(TEST_IMAGES), d.resolve(TEST_LABELS), testSize);
      if (standardize) {
        standardize(train);
        standardize(test);
      }
      return new ClassifierData.Split(train, test);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read Fashion-MNIST in " + d, e);
    }
  }

  /** The first {@code count} images (flattened, / 255) and labels of one IDX pair. */
  static ClassifierData read(Path images, Path labels, int count) throws IOException {
    try (DataInputStream im = open(images);
        DataInputStream lb = open(labels)) {
      int magic = im.readInt();
      int n = im.readInt();
      int rows = im.readInt();
      int cols = im.readInt();
      if (magic != IMAGES_MAGIC || lb.readInt() != LABELS_MAGIC || lb.readInt() != n) {
        throw new IOException("not a matching IDX image/label pair: " + images + ", " + labels);
      }
      if (count > n) {
        throw new IllegalArgumentException(
            "asked for " + count + " images but " + images + " holds " + n);
      }
      int dim = rows * cols;
      byte[] pixels = new byte[count * dim];
      im.readFully(pixels);
      byte[] y = new byte[count];
      lb.readFully(y);
      float[] x = new float[pixels.length];
      for (int i = 0; i < x.length; i++) {
        x[i] = (pixels[i] & 0xff) / 255f;
      }
      long[] label = new long[count];
      for (int i = 0; i < count; i++) {
        label[i] = y[i] & 0xff;
      }
      return new ClassifierData(count, dim, CLASSES, x, label);
    }
  }

  /** Fashion-MNIST's training-set pixel mean and standard deviation (of pixel / 255). */
  static final float MEAN = 0.2860f;

  static final float STD = 0.3530f;

  /**
   * {@code (x − MEAN) / STD} in place: the analogue of the per-channel {@code Normalize} of the
   * CIFAR-10 pipelines the paper's models come from.
   */
  static void standardize(ClassifierData d) {
    for (int i = 0; i < d.x.length; i++) {
      d.x[i] = (d.x[i] - MEAN) / STD;
    }
  }

  private static DataInputStream open(Path gz) throws IOException {
    InputStream in = Files.newInputStream(gz);
    return new DataInputStream(new GZIPInputStream(in, 1 << 16));
  }
}
