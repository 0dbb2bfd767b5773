package dev.slingshot.djl;

import ai.djl.Device;
import ai.djl.nn.Parameter;
import ai.djl.training.TrainingConfig;
import ai.djl.training.evaluator.Evaluator;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.function.Predicate;

/** The user's training config with the optimizer, the loss and the listeners instrumented. */
final class InstrumentedConfig implements TrainingConfig {

  private final TrainingConfig base;
  private final Optimizer optimizer;
  private final Loss loss;
  private final List<TrainingListener> listeners;

  InstrumentedConfig(
      TrainingConfig base, Optimizer optimizer, Loss loss, TrainingListener listener) {
    this.base = base;
    this.optimizer = optimizer;
    this.loss = loss;
    this.listeners = new ArrayList<>(base.getTrainingListeners());
    this.listeners.add(listener);
  }

  @Override
  public Device[] getDevices() {
    return base.getDevices();
  }

  @Override
  public PairList<Initializer, Predicate<Parameter>> getInitializers() {
    return base.getInitializers();
  }

  @Override
  public Optimizer getOptimizer() {
    return optimizer;
  }

  @Override
  public Loss getLossFunction() {
    return loss;
  }

  @Override
  public ExecutorService getExecutorService() {
    return base.getExecutorService();
  }

  @Override
  public List<Evaluator> getEvaluators() {
    return base.getEvaluators();
  }

  @Override
  public List<TrainingListener> getTrainingListeners() {
    return listeners;
  }
}
