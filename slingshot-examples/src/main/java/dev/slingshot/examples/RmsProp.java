package dev.slingshot.examples;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.optimizer.Optimizer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * RMSProp (Tieleman and Hinton 2012) with PyTorch's {@code torch.optim.RMSprop} semantics
 * (centered=False, momentum 0): per coordinate
 *
 * <pre>
 *   g  = grad + wd·w            (L2 weight decay added to the gradient, as PyTorch)
 *   v  = ρ·v + (1 − ρ)·g²        (v starts at 0)
 *   w -= lr · g / (√v + ε)
 * </pre>
 *
 * DJL's PyTorch engine does not implement its own {@code Optimizer.rmsprop()} (it throws {@link
 * UnsupportedOperationException}), so this is written with NDArray operations. Thilak et al. 2022,
 * Table 1 uses ρ (PyTorch's α) = 0.95, lr 0.001, momentum 0, weight decay 0.
 *
 * <p>Intermediates live in a per-update sub-manager (a DJL op's result joins its first operand's
 * manager, and the weight's and state's managers live as long as the model).
 */
final class RmsProp extends Optimizer {

  private final float lr;
  private final float rho;
  private final float eps;
  private final Map<String, Map<Device, NDArray>> squares = new ConcurrentHashMap<>();

  private RmsProp(Builder b) {
    super(b);
    this.lr = b.lr;
    this.rho = b.rho;
    this.eps = b.eps;
  }

  static Builder builder() {
    return new Builder();
  }

  @Override
  public void update(String parameterId, NDArray weight, NDArray grad) {
    updateCount(parameterId);
    NDArray v = withDefaultState(squares, parameterId, weight.getDevice(), k -> weight.zerosLike());
    try (NDManager tmp = weight.getManager().newSubManager()) {
      NDArray g = TorchOptimizerSteps.decayedGradient(weight, grad, getWeightDecay(), tmp);
      v.muli(rho).addi(g.square().muli(1 - rho));
      NDArray denom = v.sqrt();
      denom.attach(tmp);
      denom.addi(eps);
      weight.subi(g.divi(denom).muli(lr));
    }
    TorchOptimizerSteps.zeroGradient(weight);
  }

  /** Builds an {@link RmsProp}; defaults are Table 1's. */
  static final class Builder extends OptimizerBuilder<Builder> {
    private float lr = 0.001f;
    private float rho = 0.95f;
    private float eps = 1e-8f;

    Builder optLearningRate(float lr) {
      this.lr = TorchOptimizerSteps.requireLearningRate(lr);
      return this;
    }

    /** The squared-gradient decay ρ (PyTorch's {@code alpha}), in [0, 1). */
    Builder optRho(float rho) {
      if (!(rho >= 0 && rho < 1)) {
        throw new IllegalArgumentException("rho must be in [0, 1): " + rho);
      }
      this.rho = rho;
      return this;
    }

    Builder optEpsilon(float eps) {
      if (!(eps >= 0)) {
        throw new IllegalArgumentException("epsilon must not be negative: " + eps);
      }
      this.eps = eps;
      return this;
    }

    @Override
    protected Builder self() {
      return this;
    }

    RmsProp build() {
      return new RmsProp(this);
    }
  }
}
