package dev.slingshot.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class LanczosTest {

  private static final VectorSpace<double[]> SPACE = VectorSpace.ofDoubleArrays();

  /** A Hessian-like spectrum: a few outliers above a bulk near zero, some negative curvature. */
  private static double[] spectrum(int n) {
    double[] lambda = new double[n];
    for (int i = 0; i < n; i++) {
      lambda[i] = 1.0 - 1.5 * i / n; // bulk in (-0.5, 1]
    }
    lambda[0] = 10;
    lambda[1] = 8;
    lambda[2] = 7.5;
    lambda[3] = 4;
    return lambda;
  }

  @Test
  void topEigenvalueOfAKnownSpectrumWithin1e4Relative() {
    int n = 120;
    double[][] a = Quadratics.withSpectrum(spectrum(n), Quadratics.randomOrthogonal(n, 7));
    Quadratics.MatrixHvp hvp = new Quadratics.MatrixHvp(a);

    Eigenpair<double[]> top =
        Lanczos.custom().tolerance(1e-4).build().topEigenpair(SPACE, hvp, new double[n]);

    assertThat(top.converged()).isTrue();
    assertThat(top.warmStarted()).isFalse();
    assertThat(top.iterations()).isEqualTo(hvp.calls).isLessThanOrEqualTo(64);
    assertThat(Math.abs(top.value() - 10) / 10).isLessThanOrEqualTo(1e-4);
    assertThat(top.errorEstimate()).isLessThanOrEqualTo(1e-3);
    // the Ritz vector is a unit eigenvector
    double[] hy = hvp.apply(top.vector());
    double residual = 0;
    for (int i = 0; i < n; i++) {
      residual += Math.pow(hy[i] - top.value() * top.vector()[i], 2);
    }
    assertThat(Math.sqrt(residual)).isLessThan(0.05);
    assertThat(SPACE.norm(top.vector())).isCloseTo(1, within(1e-12));
  }

  @Test
  void findsTheLargestAlgebraicEigenvalueNotTheLargestMagnitude() {
    int n = 40;
    double[] lambda = new double[n];
    for (int i = 0; i < n; i++) {
      lambda[i] = -i * 0.1;
    }
    lambda[0] = 2;
    lambda[n - 1] = -20;
    double[][] a = Quadratics.withSpectrum(lambda, Quadratics.randomOrthogonal(n, 11));

    Eigenpair<double[]> top =
        Lanczos.custom()
            .tolerance(1e-6)
            .build()
            .topEigenpair(SPACE, new Quadratics.MatrixHvp(a), new double[n]);

    assertThat(top.value()).isCloseTo(2, within(2e-6));
  }

  @Test
  void exactInASmallSpaceOnceTheKrylovSpaceIsInvariant() {
    double[][] a = {{2, 0, 0}, {0, 5, 0}, {0, 0, -1}};
    Eigenpair<double[]> top =
        Lanczos.custom()
            .tolerance(1e-12)
            .build()
            .topEigenpair(SPACE, new Quadratics.MatrixHvp(a), new double[3]);
    assertThat(top.value()).isCloseTo(5, within(1e-12));
    assertThat(top.iterations()).isLessThanOrEqualTo(3);
    assertThat(top.converged()).isTrue();
  }

  /**
   * A slowly changing Hessian {@code A_t = A + t·δ}: warm starting from the previous eigenvector
   * cuts the Hessian-vector products, and to 1e-3 it needs at most 20 of them.
   */
  @Test
  void warmStartCutsIterationsOnASlowlyChangingHessian() {
    int n = 120;
    double[] lambda = spectrum(n);
    lambda[1] = 9.2; // a cluster at the top, as the c outliers of a c-class network's Hessian
    lambda[2] = 8.8;
    double[][] a = Quadratics.withSpectrum(lambda, Quadratics.randomOrthogonal(n, 5));
    double[][] delta = Quadratics.randomSymmetric(n, 9);
    double scale = 0.01 / Math.sqrt(n); // ‖δ‖₂ ≈ 2√n·scale: a few hundredths per unit of t
    Lanczos lanczos = Lanczos.custom().tolerance(1e-3).build();

    int[] cold = new int[10];
    int[] warm = new int[10];
    double[] previous = null;
    for (int t = 0; t < 10; t++) {
      double[][] at = Quadratics.plus(a, t * scale, delta);
      double truth = SymmetricEigen.of(at).values[0];

      Eigenpair<double[]> c = lanczos.topEigenpair(SPACE, new Quadratics.MatrixHvp(at), a[0]);
      Eigenpair<double[]> w =
          lanczos.topEigenpair(SPACE, new Quadratics.MatrixHvp(at), a[0], previous);
      cold[t] = c.iterations();
      warm[t] = w.iterations();
      previous = w.vector();

      assertThat(Math.abs(c.value() - truth) / truth).isLessThanOrEqualTo(1e-3);
      assertThat(Math.abs(w.value() - truth) / truth).isLessThanOrEqualTo(1e-3);
      if (t > 0) {
        assertThat(w.warmStarted()).isTrue();
        assertThat(w.iterations()).isLessThanOrEqualTo(20);
      }
    }
    int coldTotal = Arrays.stream(cold, 1, 10).sum();
    int warmTotal = Arrays.stream(warm, 1, 10).sum();
    System.out.printf(
        "Lanczos to 1e-3 on A+t*delta, t=1..9: cold %s (total %d), warm %s (total %d)%n",
        Arrays.toString(Arrays.copyOfRange(cold, 1, 10)),
        coldTotal,
        Arrays.toString(Arrays.copyOfRange(warm, 1, 10)),
        warmTotal);
    assertThat(warmTotal).isLessThan(coldTotal);
    for (int t = 1; t < 10; t++) {
      assertThat(warm[t]).isLessThan(cold[t]);
    }
  }

  @Test
  void aZeroWarmStartFallsBackToARandomStart() {
    double[][] a = {{1, 0}, {0, 3}};
    Eigenpair<double[]> top =
        Lanczos.ofDefaults()
            .topEigenpair(SPACE, new Quadratics.MatrixHvp(a), new double[2], new double[2]);
    assertThat(top.warmStarted()).isFalse();
    assertThat(top.value()).isCloseTo(3, within(1e-9));
  }

  @Test
  void stopsAtTheIterationCap() {
    int n = 100;
    double[][] a = Quadratics.withSpectrum(spectrum(n), Quadratics.randomOrthogonal(n, 1));
    Quadratics.MatrixHvp hvp = new Quadratics.MatrixHvp(a);
    Eigenpair<double[]> top =
        Lanczos.custom()
            .tolerance(1e-9)
            .maxIterations(3)
            .build()
            .topEigenpair(SPACE, hvp, new double[n]);
    assertThat(top.iterations()).isEqualTo(3);
    assertThat(hvp.calls).isEqualTo(3);
    assertThat(top.converged()).isFalse();
    assertThat(top.value()).isLessThanOrEqualTo(10 + 1e-9);
  }

  @Test
  void rejectsInvalidSettingsWithTheValue() {
    assertThatThrownBy(() -> Lanczos.custom().tolerance(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("0.0");
    assertThatThrownBy(() -> Lanczos.custom().maxIterations(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("0");
    Lanczos l = Lanczos.custom().tolerance(1e-5).maxIterations(9).seed(4).build();
    Lanczos copy = Lanczos.from(l).build();
    assertThat(copy.tolerance()).isEqualTo(1e-5);
    assertThat(copy.maxIterations()).isEqualTo(9);
    assertThat(copy.seed()).isEqualTo(4);
  }
}
