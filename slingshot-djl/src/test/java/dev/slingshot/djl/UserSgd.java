package dev.slingshot.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.training.optimizer.Optimizer;

/** A user-written optimizer: plain gradient descent with a fixed learning rate. */
final class UserSgd extends Optimizer {

  private final float lr;

  UserSgd(float lr) {
    super(new Builder());
    this.lr = lr;
  }

  @Override
  public void update(String parameterId, NDArray weight, NDArray grad) {
    try (NDArray step = grad.mul(lr)) {
      weight.subi(step);
    }
  }

  static final class Builder extends OptimizerBuilder<Builder> {
    @Override
    protected Builder self() {
      return this;
    }
  }
}
