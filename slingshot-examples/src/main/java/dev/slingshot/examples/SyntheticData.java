package dev.slingshot.examples;

import java.util.SplittableRandom;

/**
 * The synthetic classification data of Thilak et al. 2022, App. A.9.1: {@code dim} dimensions of
 * which the first {@code informative} carry the class, {@code classes = 2^informative} classes
 * whose centres are the vertices of the hypercube {±sep}^informative, and standard normal noise
 * around each centre; the other {@code dim − informative} dimensions are standard normal noise.
 *
 * <p>Exactly: sample {@code i} has class {@code i mod classes} (balanced classes, as scikit-learn's
 * {@code make_classification} with one cluster per class), its informative coordinate {@code j} is
 * {@code sep·(bit j of the class ? +1 : −1) + N(0,1)}, every other coordinate is {@code N(0,1)};
 * the rows are then shuffled. The training set, then the validation set, are drawn from one {@link
 * SplittableRandom} seeded with the run's seed (Gaussians by Box-Muller from its doubles).
 *
 * <p>Deviations from scikit-learn's {@code make_classification(n_informative=3, n_classes=8,
 * n_clusters_per_class=1)}, which the paper used with unstated arguments: no random per-cluster
 * covariance (scikit-learn multiplies each cluster's noise by a random 3×3 matrix with entries in
 * U(−1, 1)), no 1% label flipping ({@code flip_y}), no feature shuffling (the informative
 * dimensions are the first ones, which an MLP cannot tell apart from any others).
 */
final class SyntheticData {

  private SyntheticData() {}

  /** Draws {@code size} samples from {@code random}. */
  static ClassifierData draw(int size, int dim, int informative, double sep, SplittableRandom r) {
    if (informative < 1 || informative > dim || informative > 20) {
      throw new IllegalArgumentException(
          "need 1 <= informative <= min(dim, 20), got informative=" + informative + ", dim=" + dim);
    }
    int classes = 1 << informative;
    float[] x = new float[size * dim];
    long[] label = new long[size];
    int[] order = ParityTraining.permutation(size, r);
    for (int i = 0; i < size; i++) {
      int row = order[i];
      int c = i % classes;
      label[row] = c;
      for (int j = 0; j < dim; j++) {
        double v = gaussian(r);
        if (j < informative) {
          v += ((c >> j) & 1) == 1 ? sep : -sep;
        }
        x[row * dim + j] = (float) v;
      }
    }
    return new ClassifierData(size, dim, classes, x, label);
  }

  static ClassifierData.Split split(
      int trainSize, int testSize, int dim, int informative, double sep, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    ClassifierData train = draw(trainSize, dim, informative, sep, r);
    ClassifierData test = draw(testSize, dim, informative, sep, r);
    return new ClassifierData.Split(train, test);
  }

  /** One standard normal by Box-Muller (the cosine branch; reproducible on every JVM). */
  static double gaussian(SplittableRandom r) {
    double u1 = 1.0 - r.nextDouble(); // (0, 1]
    double u2 = r.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
