package dev.slingshot.examples;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.optimizer.Optimizer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * (Full-batch) gradient descent with heavy-ball momentum, PyTorch's {@code torch.optim.SGD}
 * semantics (dampening 0, not Nesterov): {@code g = grad + wd·w; b = g} on the first step, else
 * {@code b = μ·b + g}; {@code w -= lr·b}. Written out (like {@link RmsProp}) so that the update is
 * stated rather than inherited from DJL's engine-specific {@code sgdUpdate}. Thilak et al. 2022,
 * Table 1: lr 0.001, momentum 0.9, weight decay 0.
 */
final class MomentumSgd extends Optimizer {

  private final float lr;
  private final float momentum;
  private final Map<String, Map<Device, NDArray>> buffers = new ConcurrentHashMap<>();

  private MomentumSgd(Builder b) {
    super(b);
    this.lr = b.lr;
    this.momentum = b.momentum;
  }

  static Builder builder() {
    return new Builder();
  }

  @Override
  public void update(String parameterId, NDArray weight, NDArray grad) {
    updateCount(parameterId);
    boolean first = !buffers.containsKey(parameterId);
    NDArray buf =
        withDefaultState(buffers, parameterId, weight.getDevice(), k -> weight.zerosLike());
    try (NDManager tmp = weight.getManager().newSubManager()) {
      NDArray g = TorchOptimizerSteps.decayedGradient(weight, grad, getWeightDecay(), tmp);
      if (momentum == 0) {
        weight.subi(g.muli(lr));
        TorchOptimizerSteps.zeroGradient(weight);
        return;
      }
      if (first) {
        buf.muli(0).addi(g);
      } else {
        buf.muli(momentum).addi(g);
      }
      NDArray step = buf.mul(lr);
      step.attach(tmp);
      weight.subi(step);
    }
    TorchOptimizerSteps.zeroGradient(weight);
  }

  /** Builds a {@link MomentumSgd}; defaults are Table 1's. */
  static final class Builder extends OptimizerBuilder<Builder> {
    private float lr = 0.001f;
    private float momentum = 0.9f;

    Builder optLearningRate(float lr) {
      this.lr = TorchOptimizerSteps.requireLearningRate(lr);
      return this;
    }

    Builder optMomentum(float momentum) {
      if (!(momentum >= 0 && momentum < 1)) {
        throw new IllegalArgumentException("momentum must be in [0, 1): " + momentum);
      }
      this.momentum = momentum;
      return this;
    }

    @Override
    protected Builder self() {
      return this;
    }

    MomentumSgd build() {
      return new MomentumSgd(this);
    }
  }
}
