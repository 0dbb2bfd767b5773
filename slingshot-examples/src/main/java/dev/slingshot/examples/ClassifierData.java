package dev.slingshot.examples;

/**
 * A labelled data set for the classification experiments ({@code synthetic}, {@code optimizers}):
 * row-major float32 inputs and integer class labels.
 */
final class ClassifierData {

  final int size;
  final int dim;
  final int classes;

  /** Row-major {@code size × dim} inputs. */
  final float[] x;

  /** Class labels in [0, classes). */
  final long[] label;

  ClassifierData(int size, int dim, int classes, float[] x, long[] label) {
    if (x.length != (long) size * dim || label.length != size) {
      throw new IllegalArgumentException(
          "inconsistent data: " + size + " x " + dim + " but " + x.length + " values");
    }
    this.size = size;
    this.dim = dim;
    this.classes = classes;
    this.x = x;
    this.label = label;
  }

  /** A training set and a held-out set (validation in App. A.9, test in App. A.4-A.7). */
  record Split(ClassifierData train, ClassifierData test) {}
}
