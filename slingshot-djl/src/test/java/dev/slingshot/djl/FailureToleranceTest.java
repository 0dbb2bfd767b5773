package dev.slingshot.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import dev.slingshot.core.SlingshotDetector;
import dev.slingshot.core.SlingshotEvent;
import dev.slingshot.core.StateResetPolicy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The diagnostics never stop training. */
class FailureToleranceTest {

  @Test
  void throwingSubscribersAndAFailingResetDoNotStopTraining() {
    try (Model model = Fixtures.mlp();
        NDManager manager = NDManager.newBaseManager()) {
      ArrayDataset data = Fixtures.data(manager, 64, Fixtures.IN, 16, 1);
      Slingshot slingshot =
          Slingshot.attach(
              new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                  .optOptimizer(Optimizer.adam().build()),
              SlingshotOptions.custom()
                  .measureEvery(1)
                  .resetPolicy(
                      StateResetPolicy.when(
                          "throws",
                          r -> {
                            throw new IllegalStateException("policy bug");
                          }))
                  .build());
      slingshot.onStep(
          m -> {
            throw new IllegalStateException("step subscriber bug");
          });
      slingshot
          .monitor()
          .onRecord(
              r -> {
                throw new IllegalStateException("record subscriber bug");
              });
      try (Trainer trainer = Fixtures.trainer(model, slingshot.config(), Fixtures.IN, 1)) {
        Fixtures.train(trainer, data, 5);
      }
      assertThat(slingshot.steps()).isEqualTo(5);
      assertThat(slingshot.internalFailures()).isGreaterThanOrEqualTo(10);
    }
  }

  @Test
  void aNanLossIsRecordedAsADivergenceAndNeverThrows() {
    try (Model model = Fixtures.mlp();
        NDManager manager = NDManager.newBaseManager()) {
      float[] x = new float[16 * Fixtures.IN];
      java.util.Arrays.fill(x, Float.NaN);
      ArrayDataset data =
          new ArrayDataset.Builder()
              .setData(manager.create(x, new Shape(16, Fixtures.IN)))
              .optLabels(manager.zeros(new Shape(16)))
              .setSampling(16, false)
              .build();
      Slingshot slingshot =
          Slingshot.attach(
              new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                  .optOptimizer(Optimizer.adam().build()),
              SlingshotOptions.custom().failFast(true).build());
      List<SlingshotEvent> events = new ArrayList<>();
      slingshot.onEvent(events::add);
      try (Trainer trainer = Fixtures.trainer(model, slingshot.config(), Fixtures.IN, 1)) {
        Fixtures.train(trainer, data, 3);
      }
      assertThat(slingshot.lastMetrics().loss()).isNaN();
      assertThat(events).hasSize(3).allMatch(e -> e instanceof SlingshotDetector.Divergence);
    }
  }
}
