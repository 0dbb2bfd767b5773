package dev.slingshot.djl;

import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListener.BatchData;

/**
 * The seam for the expensive tier (Hessian-vector products, λmax, update sharpness, effective step
 * size): a probe that the adapter calls on its own schedule, at the training-batch callback of step
 * {@code t}, after the backward pass of batch {@code t} and before update {@code t} (the gradients
 * that update will use are in place). A probe must leave the gradients, the parameters and the
 * optimizer state as it found them; a probe that throws is logged and counted like any other
 * internal failure.
 */
interface ScheduledProbe {

  /** Whether the probe runs at step {@code step} (the coming optimizer update, 1-based). */
  boolean due(long step);

  /**
   * Runs the probe.
   *
   * @param trainer the trainer being instrumented
   * @param batch the labels and predictions of batch {@code step}
   * @param step the coming optimizer update (1-based)
   */
  void run(Trainer trainer, BatchData batch, long step);
}
