package dev.slingshot.examples;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import java.util.List;

/**
 * The per-step measurements of the example training loop, in one place so that the slingshot-djl
 * adapter can replace it: the Frobenius norm of the last layer's weight after the step, and the
 * update norm ‖θ_after − θ_before‖₂ over all parameters.
 *
 * <p>Everything is computed on the parameters' device; each step reads back two scalars. The probe
 * keeps a copy of every parameter from the previous step (one model's worth of memory).
 * Intermediates live in a per-step sub-manager, never in the parameters' own manager (a DJL op's
 * result joins its first operand's manager).
 */
final class StepProbe implements AutoCloseable {

  /** The two scalars measured after one optimizer step. */
  record Sample(double lastLayerNorm, double updateNorm) {}

  private final NDManager root;
  private final List<Parameter> parameters;
  private final int lastIndex;
  private NDManager current;
  private NDArray[] previous;

  /**
   * @param parameters every trainable parameter, in a fixed order
   * @param lastLayerWeight the parameter whose norm is reported (one of {@code parameters})
   * @param parent the manager under which the probe's copies are kept
   */
  StepProbe(List<Parameter> parameters, Parameter lastLayerWeight, NDManager parent) {
    this.parameters = List.copyOf(parameters);
    this.lastIndex = this.parameters.indexOf(lastLayerWeight);
    if (lastIndex < 0) {
      throw new IllegalArgumentException("the last-layer weight is not among the parameters");
    }
    this.root = parent.newSubManager();
    this.current = root.newSubManager();
    this.previous = snapshot(current);
  }

  private NDArray[] snapshot(NDManager into) {
    NDArray[] copy = new NDArray[parameters.size()];
    for (int i = 0; i < copy.length; i++) {
      copy[i] = parameters.get(i).getArray().duplicate();
      copy[i].attach(into);
    }
    return copy;
  }

  /** The norm of the last layer's weight now (before any step). */
  double lastLayerNorm() {
    return previous[lastIndex].norm().getFloat();
  }

  /** Measures the step just taken and remembers the new parameters for the next one. */
  Sample afterStep() {
    NDManager next = root.newSubManager();
    NDList norms = new NDList(previous.length + 1);
    for (int i = 0; i < previous.length; i++) {
      norms.add(previous[i].sub(parameters.get(i).getArray()).norm());
    }
    NDArray[] now = snapshot(next);
    norms.add(now[lastIndex].norm());
    // One read-back per step: the per-parameter update norms and the last-layer norm.
    float[] v = NDArrays.stack(norms).toFloatArray();
    double sq = 0;
    for (int i = 0; i < previous.length; i++) {
      sq += (double) v[i] * v[i];
    }
    current.close();
    current = next;
    previous = now;
    return new Sample(v[previous.length], Math.sqrt(sq));
  }

  @Override
  public void close() {
    root.close();
  }
}
