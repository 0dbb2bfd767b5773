package dev.slingshot.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class SymmetricEigenTest {

  @Test
  void recoversAKnownSpectrumAndItsEigenvectors() {
    double[] lambda = {5, 3, 3, -1, 0.5, -7};
    double[][] q = Quadratics.randomOrthogonal(lambda.length, 3);
    double[][] a = Quadratics.withSpectrum(lambda, q);

    SymmetricEigen eig = SymmetricEigen.of(a);

    assertThat(eig.values).containsExactly(new double[] {5, 3, 3, 0.5, -1, -7}, within(1e-12));
    for (int j = 0; j < lambda.length; j++) {
      double[] av = new Quadratics.MatrixHvp(a).apply(eig.vectors[j]);
      for (int i = 0; i < av.length; i++) {
        assertThat(av[i]).isCloseTo(eig.values[j] * eig.vectors[j][i], within(1e-12));
      }
      assertThat(Quadratics.dot(eig.vectors[j], eig.vectors[j])).isCloseTo(1, within(1e-12));
    }
  }

  @Test
  void tridiagonalOfSizeOneIsItsEntry() {
    SymmetricEigen eig = SymmetricEigen.ofTridiagonal(new double[] {2.5}, new double[] {9}, 1);
    assertThat(eig.values).containsExactly(2.5);
    assertThat(eig.vectors[0]).containsExactly(1.0);
  }
}
