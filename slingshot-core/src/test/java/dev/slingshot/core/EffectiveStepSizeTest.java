package dev.slingshot.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class EffectiveStepSizeTest {

  @Test
  void djlSemanticsAddEpsilonToTheUncorrectedRoot() {
    EffectiveStepSize.Adam adam = EffectiveStepSize.Adam.djl(0.004, 0.9, 0.999, 1e-8, 10);
    double v = 1e-6;
    double expected =
        0.004 * Math.sqrt(1 - Math.pow(0.999, 10)) / (1 - Math.pow(0.9, 10)) / (1e-3 + 1e-8);
    assertThat(adam.stepFor(v)).isCloseTo(expected, within(1e-15 * expected));
  }

  @Test
  void pytorchSemanticsAddEpsilonToTheCorrectedRoot() {
    EffectiveStepSize.Adam adam = EffectiveStepSize.Adam.pytorch(0.004, 0.9, 0.999, 1e-8, 10);
    double v = 1e-6;
    double expected =
        0.004 / (1 - Math.pow(0.9, 10)) / (Math.sqrt(v / (1 - Math.pow(0.999, 10))) + 1e-8);
    assertThat(adam.stepFor(v)).isCloseTo(expected, within(1e-15 * expected));
  }

  @Test
  void theSemanticsDifferWhereTheRootIsComparableToEpsilon() {
    // t = 1, β2 = 0.999: DJL's ε acts like 31.6·ε in PyTorch's form (ENVIRONMENT.md).
    double v = 1e-16; // √v = 1e-8 = ε
    double djl = EffectiveStepSize.Adam.djl(1, 0, 0.999, 1e-8, 1).stepFor(v);
    double torch = EffectiveStepSize.Adam.pytorch(1, 0, 0.999, 1e-8, 1).stepFor(v);
    // DJL: √0.001/(2e-8); PyTorch: 1/(√0.1·1e-8... ) = 1/(1e-8/√0.001 + 1e-8)
    assertThat(djl).isCloseTo(Math.sqrt(1e-3) / 2e-8, within(1e-3));
    assertThat(torch).isCloseTo(1 / (1e-8 / Math.sqrt(1e-3) + 1e-8), within(1e-3));
    assertThat(torch / djl).isCloseTo(2 / (1 + Math.sqrt(1e-3)), within(1e-12));
    // far above ε they agree
    double big = 1e-4;
    assertThat(EffectiveStepSize.Adam.djl(1, 0.9, 0.999, 1e-8, 1).stepFor(big))
        .isCloseTo(
            EffectiveStepSize.Adam.pytorch(1, 0.9, 0.999, 1e-8, 1).stepFor(big), within(1e-3));
  }

  @Test
  void statsAgainstTwoOverLambdaMax() {
    // numerator lr·√(1−β2)/(1−β1) at t = 1 with β1 = β2 = 0 is just lr; ε = 0: step = lr/√v.
    EffectiveStepSize.Adam adam = EffectiveStepSize.Adam.djl(0.1, 0, 0, 0, 1);
    double[] v = {1, 0.25, 0.01, 1e-4}; // steps 0.1, 0.2, 1, 10
    EffectiveStepSize.Stats s = EffectiveStepSize.of("layer.weight", v, adam, 4.0); // 2/λ = 0.5

    assertThat(s.name()).isEqualTo("layer.weight");
    assertThat(s.count()).isEqualTo(4);
    assertThat(s.min()).isCloseTo(0.1, within(1e-15));
    assertThat(s.max()).isCloseTo(10, within(1e-12));
    assertThat(s.median()).isCloseTo(0.6, within(1e-15)); // (0.2 + 1)/2
    assertThat(s.threshold()).isEqualTo(0.5);
    assertThat(s.fractionAbove()).isEqualTo(0.5);
    assertThat(s.anyAbove()).isTrue();

    EffectiveStepSize.Stats odd = EffectiveStepSize.of("b", new double[] {1, 0.25, 0.01}, adam, 4);
    assertThat(odd.median()).isCloseTo(0.2, within(1e-15));
  }

  @Test
  void nonPositiveCurvatureLimitsNothing() {
    EffectiveStepSize.Adam adam = EffectiveStepSize.Adam.djl(0.1, 0, 0, 0, 1);
    EffectiveStepSize.Stats s = EffectiveStepSize.of("w", new double[] {1e-8}, adam, -3);
    assertThat(s.threshold()).isInfinite();
    assertThat(s.fractionAbove()).isZero();
    assertThatThrownBy(() -> EffectiveStepSize.threshold(Double.NaN))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void stabilityThresholdIsThirtyEightOverEtaForBetaOneOfNineTenths() {
    EffectiveStepSize.Adam adam = EffectiveStepSize.Adam.pytorch(0.004, 0.9, 0.999, 1e-8, 5);
    assertThat(adam.stabilityThreshold()).isCloseTo(38 / 0.004, within(1e-9));
  }

  @Test
  void rejectsInvalidHyperparametersWithTheValue() {
    assertThatThrownBy(() -> EffectiveStepSize.Adam.djl(0, 0.9, 0.999, 1e-8, 1))
        .hasMessageContaining("0.0");
    assertThatThrownBy(() -> EffectiveStepSize.Adam.djl(1e-3, 1, 0.999, 1e-8, 1))
        .hasMessageContaining("beta1");
    assertThatThrownBy(() -> EffectiveStepSize.Adam.djl(1e-3, 0.9, 0.999, -1, 1))
        .hasMessageContaining("-1");
    assertThatThrownBy(() -> EffectiveStepSize.Adam.djl(1e-3, 0.9, 0.999, 1e-8, 0))
        .hasMessageContaining("step");
    assertThat(EffectiveStepSize.Adam.djl(1e-3, 0.9, 0.999, 1e-8, 1).atStep(7).step()).isEqualTo(7);
  }
}
