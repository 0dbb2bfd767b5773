package dev.slingshot.core;

import java.util.SplittableRandom;

/** {@link VectorSpace} over plain {@code double[]}. */
enum DoubleArrayVectorSpace implements VectorSpace<double[]> {
  INSTANCE;

  @Override
  public double dot(double[] a, double[] b) {
    requireSameLength(a, b);
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  @Override
  public void axpy(double alpha, double[] x, double[] y) {
    requireSameLength(x, y);
    for (int i = 0; i < x.length; i++) {
      y[i] += alpha * x[i];
    }
  }

  @Override
  public void scale(double alpha, double[] x) {
    for (int i = 0; i < x.length; i++) {
      x[i] *= alpha;
    }
  }

  @Override
  public void multiply(double[] d, double[] x) {
    requireSameLength(d, x);
    for (int i = 0; i < x.length; i++) {
      x[i] *= d[i];
    }
  }

  @Override
  public double[] copy(double[] x) {
    return x.clone();
  }

  @Override
  public double[] randomLike(double[] like, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    double[] r = new double[like.length];
    for (int i = 0; i < r.length; i++) {
      r[i] = gaussian(random);
    }
    return r;
  }

  @Override
  public void close(double[] x) {
    // heap memory: nothing to release
  }

  /** A standard normal draw (Marsaglia polar method) from a seedable generator. */
  static double gaussian(SplittableRandom random) {
    double u;
    double v;
    double s;
    do {
      u = 2 * random.nextDouble() - 1;
      v = 2 * random.nextDouble() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s == 0);
    return u * Math.sqrt(-2 * Math.log(s) / s);
  }

  private static void requireSameLength(double[] a, double[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("vector lengths differ: " + a.length + " and " + b.length);
    }
  }
}
