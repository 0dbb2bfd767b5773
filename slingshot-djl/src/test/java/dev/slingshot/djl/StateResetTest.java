package dev.slingshot.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.slingshot.core.SlingshotEvent;
import dev.slingshot.core.StateReset;
import dev.slingshot.core.StateResetPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class StateResetTest {

  /**
   * After some updates and a reset, the next update equals a fresh optimizer's first update on the
   * same weight and gradient, bit for bit (CPU).
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.slingshot.djl.Optimizers#supported")
  void firstUpdateAfterResetEqualsAFreshOptimizersFirstUpdate(
      String name, Supplier<Optimizer> factory, boolean supported) {
    try (NDManager m = NDManager.newBaseManager()) {
      m.getEngine().setRandomSeed(5);
      NDArray w = m.randomNormal(new Shape(4, 3));
      Optimizer used = factory.get();
      for (int i = 0; i < 5; i++) {
        try (NDArray g = m.randomNormal(new Shape(4, 3))) {
          used.update("p", w, g);
        }
      }
      int discarded = OptimizerState.reset(used);
      if (!name.equals("UserSgd")) {
        assertThat(discarded).as(name).isPositive();
      }
      assertThat(OptimizerState.arrays(used)).isEmpty();
      NDArray fresh = w.duplicate();
      NDArray g = m.randomNormal(new Shape(4, 3));
      used.update("p", w, g);
      factory.get().update("p", fresh, g);
      assertThat(w.toFloatArray()).as(name).containsExactly(fresh.toFloatArray());
    }
  }

  @Test
  void policyResetsAreExecutedCountedAndPublished() {
    try (Model model = Fixtures.mlp();
        NDManager manager = NDManager.newBaseManager()) {
      ArrayDataset data = Fixtures.data(manager, 64, Fixtures.IN, 16, 1);
      Optimizer adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.01f)).build();
      Slingshot slingshot =
          Slingshot.attach(
              new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss()).optOptimizer(adam),
              SlingshotOptions.custom()
                  .resetPolicy(StateResetPolicy.periodically(3))
                  .failFast(true)
                  .build());
      List<SlingshotEvent> events = new ArrayList<>();
      slingshot.onEvent(events::add);
      try (Trainer trainer = Fixtures.trainer(model, slingshot.config(), Fixtures.IN, 1)) {
        Fixtures.train(trainer, data, 6);
        assertThat(OptimizerState.arrays(adam)).isEmpty(); // reset after step 6
        Fixtures.train(trainer, data, 1);
        assertThat(OptimizerState.arrays(adam)).hasSize(8); // means + variances, 4 parameters
      }
      assertThat(slingshot.resets()).isEqualTo(2);
      assertThat(events)
          .filteredOn(e -> e instanceof StateReset)
          .extracting(SlingshotEvent::step)
          .containsExactly(3L, 6L);
      assertThat(slingshot.resetEvents().get(0).reason()).isEqualTo("every-3-steps");
      assertThat(slingshot.resetEvents().get(0).stateTensors()).isEqualTo(8);
    }
  }
}
