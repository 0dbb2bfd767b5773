package dev.slingshot.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import dev.slingshot.core.StepRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class AttachOptimizersTest {

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.slingshot.djl.Optimizers#all")
  void everyOptimizerTrainsInstrumentedAndRecordsArrive(
      String name, Supplier<Optimizer> optimizer, boolean supported) {
    if (!supported) {
      // DJL's PyTorch engine cannot run it: the instrumented run fails exactly as the plain one.
      Throwable plain = catchThrowable(() -> run(optimizer.get(), false));
      Throwable instrumented = catchThrowable(() -> run(optimizer.get(), true));
      assertThat(plain).as(name).isInstanceOf(UnsupportedOperationException.class);
      assertThat(instrumented)
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessage(plain.getMessage());
      return;
    }
    try (Model model = Fixtures.mlp();
        NDManager manager = NDManager.newBaseManager()) {
      ArrayDataset data = Fixtures.data(manager, 64, Fixtures.IN, 16, 1);
      Slingshot slingshot =
          Slingshot.attach(
              new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                  .optOptimizer(optimizer.get()),
              SlingshotOptions.custom()
                  .measureEvery(1)
                  .cosineDistanceEvery(2)
                  .failFast(true)
                  .build());
      List<StepRecord> records = new ArrayList<>();
      slingshot.monitor().onRecord(records::add);
      try (Trainer trainer = Fixtures.trainer(model, slingshot.config(), Fixtures.IN, 7)) {
        Fixtures.train(trainer, data, 6);
      }
      assertThat(records).hasSize(6);
      assertThat(records).extracting(StepRecord::step).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
      for (StepRecord r : records) {
        assertThat(r.trainLoss()).isFinite().isPositive();
        assertThat(r.updateNorm().getAsDouble()).as(name + " update norm").isPositive();
        assertThat(r.norms())
            .containsKeys(
                StepMetrics.LAST_LAYER, StepMetrics.PARAMS, "group/01Linear", "group/03Linear");
      }
      StepMetrics m = slingshot.lastMetrics();
      assertThat(m.step()).isEqualTo(6);
      assertThat(m.updateRatio()).isPositive().isFinite();
      assertThat(m.reprCosineDistance()).isPresent();
      assertThat(m.clfCosineDistance()).isPresent();
      assertThat(slingshot.lastLayerParameter()).isEqualTo("03Linear_weight");
      assertThat(slingshot.internalFailures()).isZero();
      assertThat(slingshot.skippedRecords()).isZero();
    }
  }

  private static void run(Optimizer optimizer, boolean instrumented) {
    try (Model model = Fixtures.mlp();
        NDManager manager = NDManager.newBaseManager()) {
      ArrayDataset data = Fixtures.data(manager, 32, Fixtures.IN, 16, 1);
      DefaultTrainingConfig config =
          new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss()).optOptimizer(optimizer);
      try (Trainer trainer =
          Fixtures.trainer(
              model, instrumented ? Slingshot.attach(config).config() : config, Fixtures.IN, 7)) {
        Fixtures.train(trainer, data, 2);
      }
    }
  }
}
