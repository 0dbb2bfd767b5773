package dev.slingshot.examples;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * What this project's hand-written optimizers ({@link RmsProp}, {@link MomentumSgd}) share with
 * PyTorch's {@code torch.optim} semantics: L2 weight decay added to the gradient, the gradient
 * zeroed after the update, and the learning-rate check.
 */
final class TorchOptimizerSteps {

  private TorchOptimizerSteps() {}

  /** {@code grad + wd·w} as a new array in {@code scope} (PyTorch's L2 weight decay). */
  static NDArray decayedGradient(NDArray weight, NDArray grad, float wd, NDManager scope) {
    NDArray g = grad.duplicate();
    g.attach(scope);
    if (wd != 0) {
      NDArray decay = weight.mul(wd);
      decay.attach(scope);
      g.addi(decay);
    }
    return g;
  }

  /**
   * Zeroes the parameter's own gradient after its update. DJL's built-in optimizers do this inside
   * their native update ops; a Trainer does not, so without it the gradients of successive steps
   * add up (seen as update norms growing linearly in the step with momentum 0).
   */
  static void zeroGradient(NDArray weight) {
    if (weight.hasGradient()) {
      try (NDArray g = weight.getGradient()) {
        g.subi(g);
      }
    }
  }

  static float requireLearningRate(float lr) {
    if (!(lr >= 0)) {
      throw new IllegalArgumentException("learning rate must not be negative: " + lr);
    }
    return lr;
  }
}
