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
import dev.slingshot.core.ProbeSchedule;
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
    compare(run(false, false), run(true, false));
  }

  /** Every second-order probe every 16 steps: still the plain run's parameters. */
  @Test
  void probesEvery16StepsLeaveTrainingUnchanged() {
    compare(run(false, false), run(true, true));
  }

  private static void compare(Map<String, float[]> plain, Map<String, float[]> instrumented) {
    assertThat(instrumented.keySet()).isEqualTo(plain.keySet());
    for (String name : plain.keySet()) {
      double rel =
          Fixtures.diffNorm(plain.get(name), instrumented.get(name))
              / Fixtures.norm(plain.get(name));
      assertThat(rel).as(name).isLessThanOrEqualTo(1e-5);
    }
  }

  private static Map<String, float[]> run(boolean instrumented, boolean probes) {
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
        SlingshotOptions.Builder options =
            SlingshotOptions.custom().cosineDistanceEvery(10).failFast(true);
        if (probes) {
          options.probes(ProbeSchedule.everySteps(16));
        }
        slingshot = Slingshot.attach(config, options.build());
        config = slingshot.config();
      }
      try (Trainer trainer = Fixtures.trainer(model, config, Fixtures.IN, 42)) {
        Fixtures.train(trainer, data, STEPS);
      }
      if (slingshot != null) {
        assertThat(slingshot.steps()).isEqualTo(STEPS);
        assertThat(slingshot.internalFailures()).isZero();
        assertThat(slingshot.probeRuns()).isEqualTo(probes ? STEPS / 16 : 0);
      }
      return Fixtures.hostParams(model);
    }
  }
}
