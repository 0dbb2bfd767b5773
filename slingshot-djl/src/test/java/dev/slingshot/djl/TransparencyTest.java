package dev.slingshot.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.Trainer;
import ai.djl.training.TrainingConfig;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * With no reset policy the diagnostics observe and never change training: 200 instrumented AdamW
 * steps end at the parameters of an uninstrumented run (same seed, same data order, one thread).
 */
class TransparencyTest {

  private static final int STEPS = 200;

  @Test
  void instrumentedRunEndsAtTheSameParametersAsAPlainRun() {
    Map<String, float[]> plain = run(false);
    Map<String, float[]> instrumented = run(true);
    assertThat(instrumented.keySet()).isEqualTo(plain.keySet());
    for (String name : plain.keySet()) {
      double rel =
          Fixtures.diffNorm(plain.get(name), instrumented.get(name))
              / Fixtures.norm(plain.get(name));
      assertThat(rel).as(name).isLessThanOrEqualTo(1e-5);
    }
  }

  private static Map<String, float[]> run(boolean instrumented) {
    try (Model model = Fixtures.mlp();
        NDManager manager = NDManager.newBaseManager()) {
      ArrayDataset data = Fixtures.data(manager, 96, Fixtures.IN, 32, 3);
      TrainingConfig config =
          new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
              .optOptimizer(
                  Optimizer.adamW()
                      .optLearningRateTracker(Tracker.fixed(0.01f))
                      .optWeightDecays(0.01f)
                      .build());
      Slingshot slingshot = null;
      if (instrumented) {
        slingshot =
            Slingshot.attach(
                config, SlingshotOptions.custom().cosineDistanceEvery(10).failFast(true).build());
        config = slingshot.config();
      }
      try (Trainer trainer = Fixtures.trainer(model, config, Fixtures.IN, 42)) {
        Fixtures.train(trainer, data, STEPS);
      }
      if (slingshot != null) {
        assertThat(slingshot.steps()).isEqualTo(STEPS);
        assertThat(slingshot.internalFailures()).isZero();
      }
      return Fixtures.hostParams(model);
    }
  }
}
