package dev.slingshot.examples;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import ai.djl.training.listener.TrainingListener;
import dev.slingshot.core.SlingshotMonitor;
import dev.slingshot.core.StepRecord;
import dev.slingshot.djl.SlingshotOptions;
import java.util.Map;
import java.util.function.ObjLongConsumer;

/** The training step of the examples' hand-written loops. */
final class HandLoop {

  private HandLoop() {}

  /**
   * One optimizer step on the minibatch ({@code x}, {@code labels}) of {@code size} rows, as {@code
   * EasyTrain.trainBatch} and {@code trainer.step()} do it on one device: forward and the trainer's
   * loss under a gradient collector, backward, the listeners notified with the batch (the
   * slingshot-djl adapter takes the loss it captured for the record of the coming update, and its
   * scheduled probes differentiate this batch), then the update.
   *
   * @param scope the step's manager; the {@link Batch} handed to the listeners is not closed here
   *     (a Batch closes its manager)
   */
  static void step(
      Trainer trainer, NDManager scope, NDArray x, NDList labels, int size, long step, long steps) {
    NDList pred;
    try (GradientCollector gc = trainer.newGradientCollector()) {
      pred = trainer.forward(new NDList(x));
      gc.backward(trainer.getLoss().evaluate(labels, pred));
    }
    Device device = trainer.getDevices()[0];
    TrainingListener.BatchData bd =
        new TrainingListener.BatchData(
            new Batch(scope, new NDList(x), labels, size, null, null, step, steps),
            Map.of(device, labels),
            Map.of(device, pred));
    trainer.notifyListeners(l -> l.onTrainingBatch(trainer, bd));
    trainer.step();
  }

  /**
   * The adapter's options for a hand-written loop: the cheap tier measured every step (loss,
   * last-layer norm, update norm) into {@code monitor}, no cosine distances, failures thrown, and
   * {@code evaluate} adding the evaluations to the record of every {@code evalEvery}-th step and of
   * the last one. The record enricher runs at the end of {@code trainer.step()}, after the update,
   * where the hand-rolled loops used to evaluate.
   */
  static SlingshotOptions.Builder evaluatedOptions(
      SlingshotMonitor monitor,
      int evalEvery,
      long lastStep,
      ObjLongConsumer<StepRecord.Builder> evaluate) {
    return SlingshotOptions.custom()
        .monitor(monitor)
        .measureEvery(1)
        .cosineDistanceEvery(0)
        .failFast(true)
        .recordEnricher(
            (record, step) -> {
              if (step % evalEvery == 0 || step == lastStep) {
                evaluate.accept(record, step);
              }
            });
  }
}
