package dev.slingshot.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.slingshot.core.VectorSpace;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The device-side Krylov operations of {@link FlatVectorSpace} (Gram-Schmidt and combinations as
 * matrix products, normalization by the device norm) give what the plain-array defaults give on the
 * same numbers, with the stacked basis and past its size limit.
 */
class FlatVectorSpaceTest {

  private static final VectorSpace<double[]> HOST = VectorSpace.ofDoubleArrays();

  @ParameterizedTest(name = "n = {0}")
  @ValueSource(ints = {37, (int) (FlatVectorSpace.STACK_LIMIT / 3) + 1})
  void matchesThePlainArrayOperations(int n) {
    try (NDManager m = NDManager.newBaseManager()) {
      FlatVectorSpace space = new FlatVectorSpace(m, new Shape[] {new Shape(n)});
      SplittableRandom r = new SplittableRandom(n);
      List<double[]> hostBasis = new ArrayList<>();
      List<NDArray> basis = new ArrayList<>();
      for (int j = 0; j < 3; j++) {
        double[] v = r.doubles(n, -1, 1).toArray();
        HOST.orthogonalize(v, hostBasis);
        HOST.normalize(v);
        hostBasis.add(v);
        basis.add(m.create(v));
      }
      double[] w = r.doubles(n, -1, 1).toArray();
      NDArray wd = m.create(w);
      double[] want = HOST.orthogonalize(w, hostBasis);
      double[] got = space.orthogonalize(wd, basis);
      assertThat(got).hasSize(3);
      for (int j = 0; j < 3; j++) {
        assertThat(got[j]).isCloseTo(want[j], within(1e-12));
      }
      assertClose(wd.toDoubleArray(), w, 1e-12);
      // A second call on the same basis (the stacked copy reused) after the basis was used.
      double[] again = space.orthogonalize(wd, basis);
      for (double c : again) {
        assertThat(c).isCloseTo(0, within(1e-12));
      }

      double[] c = {0.5, -2};
      assertClose(
          space.combination(c, basis).toDoubleArray(), HOST.combination(c, hostBasis), 1e-12);

      double norm = HOST.normalize(w);
      assertThat(space.normalize(wd)).isCloseTo(norm, within(1e-12 * norm));
      assertClose(wd.toDoubleArray(), w, 1e-12);
      NDArray zero = m.zeros(new Shape(n), ai.djl.ndarray.types.DataType.FLOAT64);
      assertThat(space.normalize(zero)).isZero();
      assertThat(zero.toDoubleArray()).containsOnly(0.0);
    }
  }

  private static void assertClose(double[] got, double[] want, double tolerance) {
    assertThat(got).hasSameSizeAs(want);
    double worst = 0;
    for (int i = 0; i < got.length; i++) {
      worst = Math.max(worst, Math.abs(got[i] - want[i]));
    }
    assertThat(worst).isLessThanOrEqualTo(tolerance);
  }
}
