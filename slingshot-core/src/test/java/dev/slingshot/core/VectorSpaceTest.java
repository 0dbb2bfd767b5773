package dev.slingshot.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The default Krylov operations of {@link VectorSpace}, on plain arrays, against direct sums. */
class VectorSpaceTest {

  private static final VectorSpace<double[]> SPACE = VectorSpace.ofDoubleArrays();

  /** An orthonormal basis of k random vectors in R^n (Gram-Schmidt written out). */
  private static List<double[]> basis(int k, int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    List<double[]> q = new ArrayList<>();
    while (q.size() < k) {
      double[] v = new double[n];
      for (int i = 0; i < n; i++) {
        v[i] = r.nextDouble() - 0.5;
      }
      for (double[] u : q) {
        double c = SPACE.dot(v, u);
        for (int i = 0; i < n; i++) {
          v[i] -= c * u[i];
        }
      }
      double norm = Math.sqrt(SPACE.dot(v, v));
      for (int i = 0; i < n; i++) {
        v[i] /= norm;
      }
      q.add(v);
    }
    return q;
  }

  @Test
  void orthogonalizeRemovesTheComponentsAndReturnsThem() {
    List<double[]> q = basis(4, 50, 3);
    double[] want = {2.5, -1.0, 0.25, 7.0};
    double[] rest = new SplittableRandom(9).doubles(50).toArray();
    // Make `rest` orthogonal to q first, then add known components.
    SPACE.orthogonalize(rest, q);
    double[] w = rest.clone();
    for (int j = 0; j < 4; j++) {
      SPACE.axpy(want[j], q.get(j), w);
    }
    double[] c = SPACE.orthogonalize(w, q);
    for (int j = 0; j < 4; j++) {
      assertThat(c[j]).isCloseTo(want[j], within(1e-12));
      assertThat(SPACE.dot(w, q.get(j))).isCloseTo(0, within(1e-14));
    }
    for (int i = 0; i < 50; i++) {
      assertThat(w[i]).isCloseTo(rest[i], within(1e-12));
    }
  }

  @Test
  void combinationIsTheWeightedSumOfTheFirstVectors() {
    List<double[]> q = basis(3, 20, 5);
    double[] c = {0.5, -2};
    double[] y = SPACE.combination(c, q);
    for (int i = 0; i < 20; i++) {
      assertThat(y[i]).isCloseTo(0.5 * q.get(0)[i] - 2 * q.get(1)[i], within(1e-15));
    }
    assertThatThrownBy(() -> SPACE.combination(new double[4], q))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("4 coefficients for a basis of 3 vectors");
  }

  @Test
  void normalizeScalesToUnitNormAndLeavesAZeroVectorAlone() {
    double[] x = {3, 4};
    assertThat(SPACE.normalize(x)).isEqualTo(5);
    assertThat(x[0]).isCloseTo(0.6, within(1e-15));
    assertThat(x[1]).isCloseTo(0.8, within(1e-15));
    double[] zero = {0, 0};
    assertThat(SPACE.normalize(zero)).isZero();
    assertThat(zero).containsExactly(0, 0);
    double[] bad = {Double.NaN, 1};
    assertThat(SPACE.normalize(bad)).isNaN();
    assertThat(bad[1]).isEqualTo(1);
  }
}
