package dev.slingshot.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class PreconditionedSharpnessTest {

  private static final VectorSpace<double[]> SPACE = VectorSpace.ofDoubleArrays();

  /** Diagonal H and known v: λmax(P⁻¹H) = max_i h_i·step_i/η. */
  @Test
  void diagonalHessianGivesTheLargestScaledCurvature() {
    double lr = 0.01;
    EffectiveStepSize.Adam adam = EffectiveStepSize.Adam.pytorch(lr, 0.9, 0.999, 1e-8, 100);
    double[] h = {50, 3, 0.5, -1};
    double[] v = {1e-2, 1e-6, 1e-8, 1e-4};
    double[][] hm = new double[4][4];
    double expected = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < 4; i++) {
      hm[i][i] = h[i];
      expected = Math.max(expected, h[i] * adam.stepFor(v[i]) / lr);
    }
    double[] sqrtD = PreconditionedSharpness.sqrtInversePreconditioner(v, adam);

    Eigenpair<double[]> top =
        PreconditionedSharpness.topEigenpair(
            Lanczos.custom().tolerance(1e-10).build(),
            SPACE,
            new Quadratics.MatrixHvp(hm),
            sqrtD,
            null);
    PreconditionedSharpness.Result r = PreconditionedSharpness.result(top, adam);

    assertThat(r.value()).isCloseTo(expected, within(1e-9 * expected));
    assertThat(r.threshold()).isCloseTo(38 / lr, within(1e-9));
    assertThat(r.ratio()).isCloseTo(expected / (38 / lr), within(1e-9));
    // the coordinate with √v ≈ 1e-3 and h = 3 (step ≈ η·1/(1e-3·...)) dominates the raw λmax of 50
    assertThat(r.value()).isGreaterThan(50);
  }

  @Test
  void pInverseIsTheEffectiveStepOverTheLearningRate() {
    EffectiveStepSize.Adam adam = EffectiveStepSize.Adam.djl(0.004, 0.9, 0.999, 1e-8, 3);
    double[] v = {4e-6, 1e-10};
    double[] d = PreconditionedSharpness.sqrtInversePreconditioner(v, adam);
    for (int i = 0; i < v.length; i++) {
      assertThat(d[i] * d[i]).isCloseTo(adam.stepFor(v[i]) / 0.004, within(1e-9 * d[i] * d[i]));
    }
  }
}
