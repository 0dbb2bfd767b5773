package dev.slingshot.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import dev.slingshot.core.StateResetPolicy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class SlingshotMetersTest {

  @Test
  void gaugesAndCountersBindToAMeterRegistry() {
    try (Model model = Fixtures.mlp();
        NDManager manager = NDManager.newBaseManager()) {
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      Slingshot slingshot =
          SlingshotMeters.monitor(
              registry,
              Slingshot.attach(
                  new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                      .optOptimizer(Optimizer.adam().build()),
                  SlingshotOptions.custom().resetPolicy(StateResetPolicy.periodically(2)).build()),
              "test");
      assertThat(registry.get("slingshot.update.norm").tag("run", "test").gauge().value()).isNaN();
      try (Trainer trainer = Fixtures.trainer(model, slingshot.config(), Fixtures.IN, 1)) {
        Fixtures.train(trainer, Fixtures.data(manager, 64, Fixtures.IN, 16, 1), 4);
      }
      assertThat(registry.get("slingshot.update.norm").gauge().value())
          .isEqualTo(slingshot.lastUpdateNorm())
          .isPositive();
      assertThat(registry.get("slingshot.update_ratio").gauge().value())
          .isEqualTo(slingshot.lastMetrics().updateRatio());
      assertThat(registry.get("slingshot.norm").tag("parameter", "last_layer").gauge().value())
          .isEqualTo(slingshot.lastMetrics().lastLayerNorm());
      assertThat(registry.get("slingshot.resets").tag("run", "test").counter().count())
          .isEqualTo(2.0);
      assertThat(registry.get("slingshot.steps").functionCounter().count()).isEqualTo(4.0);
      assertThat(registry.get("slingshot.internal.failures").functionCounter().count()).isZero();
    }
  }
}
