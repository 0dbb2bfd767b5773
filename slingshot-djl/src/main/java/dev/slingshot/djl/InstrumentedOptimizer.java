package dev.slingshot.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.training.optimizer.Optimizer;

/**
 * Delegates every update to the user's optimizer and lets the cheap tier see the weight just before
 * and just after it, on the device: the update u = θ<sub>after</sub> − θ<sub>before</sub> is
 * whatever the delegate applied (gradient step, momentum, Adam's preconditioned step, weight decay,
 * clipping), whatever its family. The delegate's update runs exactly once per call even if the
 * diagnostics fail.
 */
final class InstrumentedOptimizer extends Optimizer {

  private final Optimizer delegate;
  private final Instrumentation instrumentation;

  InstrumentedOptimizer(Optimizer delegate, Instrumentation instrumentation) {
    super(new NoOpBuilder());
    this.delegate = delegate;
    this.instrumentation = instrumentation;
  }

  Optimizer delegate() {
    return delegate;
  }

  @Override
  public void update(String parameterId, NDArray weight, NDArray grad) {
    boolean seen = instrumentation.beforeUpdate(parameterId, weight);
    delegate.update(parameterId, weight, grad);
    if (seen) {
      instrumentation.afterUpdate(parameterId, weight);
    }
  }

  @Override
  public String toString() {
    return "Instrumented(" + delegate + ")";
  }

  private static final class NoOpBuilder extends OptimizerBuilder<NoOpBuilder> {
    @Override
    protected NoOpBuilder self() {
      return this;
    }
  }
}
