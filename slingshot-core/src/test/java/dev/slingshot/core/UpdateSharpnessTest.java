package dev.slingshot.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

class UpdateSharpnessTest {

  private static final VectorSpace<double[]> SPACE = VectorSpace.ofDoubleArrays();
  private static final double[][] H = {{4, 0, 0}, {0, 1, 0}, {0, 0, -2}};

  @Test
  void alongAnEigenvectorItIsThatEigenvalue() {
    OptionalDouble s =
        UpdateSharpness.measure(SPACE, new Quadratics.MatrixHvp(H), new double[] {0, 0, -0.3});
    assertThat(s).hasValue(-2.0);
  }

  @Test
  void isTheRayleighQuotientAndIgnoresTheUpdateLength() {
    double[] u = {1, 1, 0};
    double expected = (4 + 1) / 2.0;
    assertThat(UpdateSharpness.measure(SPACE, new Quadratics.MatrixHvp(H), u).getAsDouble())
        .isCloseTo(expected, within(1e-15));
    assertThat(
            UpdateSharpness.measure(
                    SPACE, new Quadratics.MatrixHvp(H), new double[] {1e-3, 1e-3, 0})
                .getAsDouble())
        .isCloseTo(expected, within(1e-12));
    assertThat(u).containsExactly(1, 1, 0);
  }

  @Test
  void aZeroUpdateIsAbsentNotNaNAndCostsNoHessianProduct() {
    Quadratics.MatrixHvp hvp = new Quadratics.MatrixHvp(H);
    assertThat(UpdateSharpness.measure(SPACE, hvp, new double[3])).isEmpty();
    assertThat(UpdateSharpness.measure(SPACE, hvp, new double[] {Double.NaN, 0, 0})).isEmpty();
    assertThat(hvp.calls).isZero();
    assertThat(UpdateSharpness.of(1, 0)).isEmpty();
    assertThat(UpdateSharpness.of(Double.POSITIVE_INFINITY, 1)).isEmpty();
    assertThat(UpdateSharpness.of(3, 2)).hasValue(1.5);
  }
}
