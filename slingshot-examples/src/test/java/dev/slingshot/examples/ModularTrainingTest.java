package dev.slingshot.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.slingshot.core.RunLog;
import dev.slingshot.core.SlingshotDetector;
import dev.slingshot.core.SlingshotMonitor;
import dev.slingshot.core.StepRecord;
import dev.slingshot.djl.SlingshotOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModularTrainingTest {

  /** A reduced run (p = 7, 200 steps) through the code path of the long runs. */
  @Test
  void reducedRunWritesOneCompleteRecordPerStep(@TempDir Path dir) throws Exception {
    ModularTraining.Config config =
        ModularExperiment.config(
            "op=add", "p=7", "steps=200", "batch=512", "eval_every=50", "feature_every=40");
    SlingshotMonitor monitor = SlingshotMonitor.builder().rule(new SlingshotDetector()).build();
    SlingshotOptions.Builder options =
        SlingshotOptions.custom().monitor(monitor).measureEvery(1).failFast(true);
    try (RunLog log = RunLog.attach(monitor, dir);
        ModularTraining training = new ModularTraining(config, true, options, null)) {
      assertThat(training.slingshot().lastLayerParameter()).contains("classifier");
      training.train(config.steps());
      assertThat(training.step()).isEqualTo(200);
    }
    List<StepRecord> records = RunLog.readRecords(dir.resolve(RunLog.METRICS_FILE));
    assertThat(records).hasSize(200);
    for (int i = 0; i < 200; i++) {
      StepRecord r = records.get(i);
      assertThat(r.step()).isEqualTo(i + 1);
      assertThat(Double.isFinite(r.trainLoss())).isTrue();
      assertThat(r.norm(StepRecord.LAST_LAYER)).isPresent();
      assertThat(r.norm(StepRecord.LAST_LAYER).getAsDouble()).isPositive();
      boolean eval = r.step() % 50 == 0;
      assertThat(r.fullTrainLoss().isPresent()).as("eval at step %d", r.step()).isEqualTo(eval);
      assertThat(r.testAccuracy().isPresent()).isEqualTo(eval);
      if (eval) {
        assertThat(r.trainAccuracy().getAsDouble()).isBetween(0.0, 1.0);
        assertThat(r.testLoss().getAsDouble()).isFinite();
      }
    }
    // 25 training equations, full batch: the model fits them (Adam, lr 1e-3).
    assertThat(records.get(199).trainAccuracy().getAsDouble()).isEqualTo(1.0);
    assertThat(records.get(199).trainLoss()).isLessThan(records.get(0).trainLoss() / 10);
    // The full-batch loss of step 51 (before update 51) is the full-train loss evaluated after
    // update 50: the same weights.
    assertThat(records.get(50).trainLoss())
        .isCloseTo(
            records.get(49).fullTrainLoss().getAsDouble(),
            org.assertj.core.api.Assertions.within(1e-5));

    List<JsonNode> features =
        RunLog.readEvents(dir.resolve(RunLog.EVENTS_FILE)).stream()
            .filter(e -> e.get("type").asText().equals(FeatureChange.TYPE))
            .collect(Collectors.toList());
    assertThat(features.stream().map(e -> e.get("step").asLong()))
        .containsExactly(40L, 80L, 120L, 160L, 200L);
    for (JsonNode e : features) {
      double change = e.get("values").get(FeatureChange.key(1)).asDouble();
      assertThat(change).isPositive().isLessThan(1.0);
      assertThat(e.get("values").get(FeatureChange.key(2)).asDouble()).isPositive();
    }
  }

  @Test
  void minibatchesCoverAnEpochAndTheRunIsRepeatable() throws Exception {
    ModularTraining.Config config =
        ModularExperiment.config(
            "op=div",
            "p=7",
            "steps=6",
            "batch=8",
            "eval_every=3",
            "feature_every=0",
            "width=16",
            "heads=2",
            "layers=1");
    double[] first = losses(config);
    double[] second = losses(config);
    assertThat(second).containsExactly(first);
  }

  @Test
  void invalidHyperparametersAreRefused() {
    assertThatThrownBy(() -> ModularExperiment.config("eps=1e-3")).hasMessageContaining("eps");
    assertThatThrownBy(() -> ModularExperiment.config("weight_decay=0.1"))
        .hasMessageContaining("optimizer=adamw");
    assertThatThrownBy(() -> ModularExperiment.config("fraction=0.9")).hasMessageContaining("0.9");
    assertThatThrownBy(() -> ModularExperiment.config("width=130", "heads=4"))
        .hasMessageContaining("130/4");
    assertThat(ModularExperiment.config("eps=1e-4").epsilon()).isEqualTo(1e-4f);
    assertThat(ModularExperiment.config("optimizer=adamw", "weight_decay=1").weightDecay())
        .isEqualTo(1f);
  }

  private static double[] losses(ModularTraining.Config config) throws Exception {
    SlingshotMonitor monitor = SlingshotMonitor.builder().build();
    java.util.List<Double> out = new java.util.ArrayList<>();
    monitor.onRecord(r -> out.add(r.trainLoss()));
    SlingshotOptions.Builder options = SlingshotOptions.custom().monitor(monitor).failFast(true);
    try (ModularTraining training = new ModularTraining(config, true, options, null)) {
      // 21 training equations in batches of 8: 8, 8, 5, then a new epoch.
      training.train(config.steps());
    }
    return out.stream().mapToDouble(Double::doubleValue).toArray();
  }
}
