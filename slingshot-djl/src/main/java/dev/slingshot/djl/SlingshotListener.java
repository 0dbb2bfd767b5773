package dev.slingshot.djl;

import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListener;

/**
 * The training listener half of the adapter: resolves the model's parameter layout when the trainer
 * is created, takes the batch loss at each training batch (after backward, before {@code
 * trainer.step()}) and runs scheduled probes there. Validation batches are ignored.
 */
final class SlingshotListener implements TrainingListener {

  private final Instrumentation instrumentation;

  SlingshotListener(Instrumentation instrumentation) {
    this.instrumentation = instrumentation;
  }

  @Override
  public void onEpoch(Trainer trainer) {}

  @Override
  public void onTrainingBatch(Trainer trainer, BatchData batchData) {
    instrumentation.onTrainingBatch(trainer, batchData);
  }

  @Override
  public void onValidationBatch(Trainer trainer, BatchData batchData) {}

  @Override
  public void onTrainingBegin(Trainer trainer) {
    instrumentation.onTrainingBegin(trainer);
  }

  @Override
  public void onTrainingEnd(Trainer trainer) {
    instrumentation.onTrainingEnd(trainer);
  }
}
