package dev.slingshot.examples;

import java.util.SplittableRandom;

/**
 * A k-sparse parity data set: inputs uniform in {−1, +1}ⁿ, label the parity of the <b>first k
 * coordinates</b> (indices 0..k−1): {@code sign = x₀·x₁·…·x_{k−1}}, class 1 when the product is +1
 * and class 0 when it is −1 (Thilak et al. 2022, App. A.6; the parity study, Sec. 1.1). Which k
 * coordinates carry the label does not matter to an MLP whose first layer treats its inputs
 * symmetrically; using the first k makes runs easy to inspect.
 *
 * <p>The training and test sets are drawn, in that order, from one {@link SplittableRandom} seeded
 * with {@code seed}: the same seed gives the same sets on every machine.
 */
final class ParityData {

  final int n;
  final int k;
  final int size;

  /** Row-major {@code size × n} inputs, each ±1. */
  final float[] x;

  /** Class labels 0/1 (1 when the parity product is +1). */
  final long[] label;

  /** The parity product ±1 (the hinge-loss target). */
  final float[] sign;

  private ParityData(int n, int k, int size) {
    this.n = n;
    this.k = k;
    this.size = size;
    this.x = new float[size * n];
    this.label = new long[size];
    this.sign = new float[size];
  }

  /** Draws {@code size} samples from {@code random}. */
  static ParityData draw(int n, int k, int size, SplittableRandom random) {
    if (k < 1 || k > n) {
      throw new IllegalArgumentException("need 1 <= k <= n, got k=" + k + ", n=" + n);
    }
    ParityData d = new ParityData(n, k, size);
    for (int i = 0; i < size; i++) {
      float product = 1;
      for (int j = 0; j < n; j++) {
        float v = random.nextBoolean() ? 1f : -1f;
        d.x[i * n + j] = v;
        if (j < k) {
          product *= v;
        }
      }
      d.sign[i] = product;
      d.label[i] = product > 0 ? 1 : 0;
    }
    return d;
  }

  /** A training set and a test set from one seed. */
  record Split(ParityData train, ParityData test) {}

  static Split split(int n, int k, int trainSize, int testSize, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    ParityData train = draw(n, k, trainSize, random);
    ParityData test = draw(n, k, testSize, random);
    return new Split(train, test);
  }
}
