package dev.slingshot.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import dev.slingshot.core.StepRecord;
import dev.slingshot.djl.internal.OverheadBench;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class MeasureScheduleTest {

  @Test
  void everyStepHasALossAndMeasuredStepsHaveNorms() {
    try (Model model = Fixtures.mlp();
        NDManager manager = NDManager.newBaseManager()) {
      Slingshot slingshot =
          Slingshot.attach(
              new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                  .optOptimizer(Optimizer.adam().build()),
              SlingshotOptions.custom()
                  .measureEvery(3)
                  .cosineDistanceEvery(6)
                  .failFast(true)
                  .build());
      List<StepRecord> records = new ArrayList<>();
      List<StepMetrics> measured = new ArrayList<>();
      slingshot.monitor().onRecord(records::add);
      slingshot.onStep(measured::add);
      try (Trainer trainer = Fixtures.trainer(model, slingshot.config(), Fixtures.IN, 1)) {
        Fixtures.train(trainer, Fixtures.data(manager, 64, Fixtures.IN, 16, 1), 7);
      }
      assertThat(records).hasSize(7).allMatch(r -> Double.isFinite(r.trainLoss()));
      assertThat(records)
          .filteredOn(r -> r.updateNorm().isPresent())
          .extracting(StepRecord::step)
          .containsExactly(1L, 3L, 6L);
      assertThat(measured).extracting(StepMetrics::step).containsExactly(1L, 3L, 6L);
      assertThat(measured.get(2).clfCosineDistance()).isPresent();
      assertThat(measured.get(1).clfCosineDistance()).isEmpty();
    }
  }

  @Test
  void cosinePeriodMustBeAMultipleOfTheMeasurePeriod() {
    assertThatThrownBy(() -> SlingshotOptions.custom().measureEvery(7).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("100")
        .hasMessageContaining("7");
  }

  @Test
  void overheadBenchRuns() {
    OverheadBench.Result r = OverheadBench.mlp(10, 2);
    assertThat(r.ratio()).isPositive().isFinite();
    assertThat(r.plainMsPerStep()).isPositive();
  }

  @Test
  void cycleTimesEachPositionAndFindsTheProbeAtPositionZero() {
    OverheadBench.Cycle c =
        OverheadBench.mlpCycle(OverheadBench.probe16Options(), OverheadBench.PROBE_EVERY, 64, 2);
    double[] at = c.instrumentedMicros();
    assertThat(at).hasSize(16);
    assertThat(Arrays.stream(at).boxed()).allMatch(m -> m > 0 && Double.isFinite(m));
    assertThat(c.plainMicros()).isPositive().isFinite();
    // The probe of step 16k runs in the batch callback of step 16k + 1: a dozen Hessian-vector
    // products, each about one training step, against one step elsewhere in the cycle.
    assertThat(at[0]).isGreaterThan(Arrays.stream(at, 1, 16).max().orElseThrow());
    assertThatThrownBy(() -> OverheadBench.mlpCycle(SlingshotOptions.ofDefaults(), 7, 64, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("64 steps, was 7");
  }

  @Test
  void plainBlocksTimesEachWholeBlock() {
    long[] micros = OverheadBench.plainBlocks(25, 10);
    assertThat(micros).hasSize(2);
    assertThat(micros[0]).isPositive();
    assertThat(micros[1]).isPositive();
    assertThatThrownBy(() -> OverheadBench.plainBlocks(25, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("was 0");
    assertThatThrownBy(() -> OverheadBench.plainBlocks(5, 10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("(5), was 10");
  }
}
