package dev.slingshot.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** RMSProp and momentum SGD steps against numbers computed by hand (PyTorch's formulas). */
class OptimizerStepTest {

  @BeforeAll
  static void engine() {
    ParityTraining.configureEngine();
  }

  private static float[] step(Optimizer o, float[] w0, float[]... grads) {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray w = m.create(w0);
      w.setRequiresGradient(true);
      for (float[] g : grads) {
        try (NDArray grad = m.create(g)) {
          o.update("w", w, grad);
        }
      }
      return w.toFloatArray();
    }
  }

  @Test
  void rmsPropMatchesPyTorchsFormulaOverTwoSteps() {
    RmsProp o = RmsProp.builder().optLearningRate(0.01f).optRho(0.95f).optEpsilon(1e-8f).build();
    // Step 1: v = 0.05 g^2 = [0.0125, 0.0005]; w -= 0.01 g / (sqrt(v) + 1e-8)
    //   = 0.01 * [0.5 / 0.111803399, 0.1 / 0.022360680] = [0.0447213595, 0.0447213595]
    float[] one = step(o, new float[] {1f, -2f}, new float[] {0.5f, 0.1f});
    assertThat(one[0]).isCloseTo(0.9552786405f, within(1e-6f));
    assertThat(one[1]).isCloseTo(-2.0447213595f, within(1e-6f));

    RmsProp fresh =
        RmsProp.builder().optLearningRate(0.01f).optRho(0.95f).optEpsilon(1e-8f).build();
    // Step 2 with g = [-0.2, 0.1]: v = 0.95 [0.0125, 0.0005] + 0.05 [0.04, 0.01]
    //   = [0.013875, 0.000975]; sqrt = [0.117792190, 0.031224990]
    //   w = [0.9552786405 + 0.002/0.117792190, -2.0447213595 - 0.001/0.031224990]
    //     = [0.9722576, -2.0767464]
    float[] two =
        step(fresh, new float[] {1f, -2f}, new float[] {0.5f, 0.1f}, new float[] {-0.2f, 0.1f});
    assertThat(two[0]).isCloseTo(0.9722576f, within(1e-6f));
    assertThat(two[1]).isCloseTo(-2.0767464f, within(1e-6f));
  }

  @Test
  void rmsPropAddsL2WeightDecayToTheGradient() {
    RmsProp o =
        RmsProp.builder()
            .optLearningRate(0.1f)
            .optRho(0.5f)
            .optEpsilon(0f)
            .optWeightDecays(0.5f)
            .build();
    // g = 1 + 0.5 * 2 = 2; v = 0.5 * 4 = 2; w = 2 - 0.1 * 2 / sqrt(2) = 1.858578644
    assertThat(step(o, new float[] {2f}, new float[] {1f})[0]).isCloseTo(1.8585786f, within(1e-6f));
  }

  @Test
  void successiveStepsDoNotAccumulateGradients() {
    // d/dw sum(w * c) = c at every step, so plain SGD moves w by -lr*c per step: after 3 steps
    // [1, 2] - 3 * 0.1 * [1, -1] = [0.7, 2.3]. Gradients left to add up would give [0.4, 2.6].
    for (Optimizer o :
        List.of(
            MomentumSgd.builder().optLearningRate(0.1f).optMomentum(0f).build(),
            RmsProp.builder().optLearningRate(0.1f).optRho(0f).optEpsilon(0f).build())) {
      try (NDManager m = NDManager.newBaseManager()) {
        NDArray w = m.create(new float[] {1f, 2f});
        w.setRequiresGradient(true);
        NDArray c = m.create(new float[] {1f, -1f});
        for (int t = 0; t < 3; t++) {
          try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(w.mul(c).sum());
          }
          try (NDArray handle = w.getGradient();
              NDArray grad = handle.duplicate()) {
            o.update("w", w, grad);
          }
        }
        // RMSProp with rho 0 and eps 0 is sign descent: the same -lr*sign(c) per step.
        assertThat(w.toFloatArray()).containsExactly(new float[] {0.7f, 2.3f}, within(1e-6f));
      }
    }
  }

  @Test
  void momentumSgdStartsItsBufferAtTheFirstGradient() {
    MomentumSgd o = MomentumSgd.builder().optLearningRate(0.1f).optMomentum(0.9f).build();
    // b1 = g1 = 1 -> w = 1 - 0.1 = 0.9; b2 = 0.9 * 1 + 2 = 2.9 -> w = 0.9 - 0.29 = 0.61
    float[] w = step(o, new float[] {1f}, new float[] {1f}, new float[] {2f});
    assertThat(w[0]).isCloseTo(0.61f, within(1e-6f));
  }
}
