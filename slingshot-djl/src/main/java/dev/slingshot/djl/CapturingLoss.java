package dev.slingshot.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.loss.Loss;

/**
 * Wraps the trainer's loss so that the loss the training loop computes for backward (in {@code
 * EasyTrain.trainBatch}: {@code trainer.getLoss().evaluate(labels, predictions)}) is seen by the
 * cheap tier without computing it again. Every other method delegates, so evaluators and
 * accumulators behave exactly as with the wrapped loss.
 */
final class CapturingLoss extends Loss {

  private final Loss delegate;
  private final Instrumentation sink;

  CapturingLoss(Loss delegate, Instrumentation sink) {
    super(delegate.getName());
    this.delegate = delegate;
    this.sink = sink;
  }

  Loss delegate() {
    return delegate;
  }

  @Override
  public NDArray evaluate(NDList labels, NDList predictions) {
    NDArray loss = delegate.evaluate(labels, predictions);
    sink.captureLoss(loss);
    return loss;
  }

  @Override
  public void addAccumulator(String key) {
    delegate.addAccumulator(key);
  }

  @Override
  public void updateAccumulator(String key, NDList labels, NDList predictions) {
    delegate.updateAccumulator(key, labels, predictions);
  }

  @Override
  public void updateAccumulators(String[] keys, NDList labels, NDList predictions) {
    delegate.updateAccumulators(keys, labels, predictions);
  }

  @Override
  public void resetAccumulator(String key) {
    delegate.resetAccumulator(key);
  }

  @Override
  public float getAccumulator(String key) {
    return delegate.getAccumulator(key);
  }

  @Override
  public String toString() {
    return delegate.toString();
  }
}
