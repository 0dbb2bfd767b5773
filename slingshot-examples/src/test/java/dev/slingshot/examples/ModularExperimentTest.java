package dev.slingshot.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.slingshot.core.RunLog;
import dev.slingshot.core.StepRecord;
import dev.slingshot.djl.StepMetrics;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code slingshot run modular} at reduced size (p = 7, a few hundred steps) through the code path
 * of the long runs: records, events, config, plots, report, checkpoints and {@code --resume}.
 */
class ModularExperimentTest {

  private static RunCommandTest.Outcome run(Path dir, int steps, String... sets) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "run",
                "modular",
                "--steps",
                Integer.toString(steps),
                "--seed",
                "3",
                "--no-progress",
                "--out",
                dir.toString(),
                "--set",
                "p=7",
                "op=add",
                "eval_every=50",
                "feature_every=40"));
    args.addAll(List.of(sets));
    return RunCommandTest.executeInNewJvm(
        dir.resolveSibling(dir.getFileName() + "-jvm"), args.toArray(String[]::new));
  }

  @Test
  void aReducedRunWritesACompleteRunDirectory(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("run");
    RunCommandTest.Outcome o = run(dir, 200, "cosine_every=10", "sharpness_every=50", "probes=all");
    assertThat(o.code()).as(o.err()).isZero();
    assertThat(o.out()).contains("modular: 200 steps");

    List<StepRecord> records = RunLog.readRecords(dir.resolve(RunLog.METRICS_FILE));
    assertThat(records).hasSize(200);
    for (StepRecord r : records) {
      assertThat(r.trainLoss()).isFinite().isPositive();
      assertThat(r.norm(StepRecord.LAST_LAYER)).isPresent();
      assertThat(r.updateNorm()).isPresent();
      boolean eval = r.step() % 50 == 0;
      assertThat(r.testAccuracy().isPresent()).as("eval at %d", r.step()).isEqualTo(eval);
      assertThat(r.fullTrainLoss().isPresent()).isEqualTo(eval);
      boolean cosine = r.step() % 10 == 0;
      assertThat(r.metrics().containsKey(StepMetrics.COSINE_CLASSIFIER))
          .as("cosine at %d", r.step())
          .isEqualTo(cosine);
    }
    // p = 7 addition, half of the 49 equations, full batch: Adam fits them in 200 steps
    assertThat(records.get(199).trainAccuracy().getAsDouble()).isEqualTo(1.0);
    // the full-batch loss before update 101 is the full-train loss evaluated after update 100
    assertThat(records.get(100).trainLoss())
        .isCloseTo(records.get(99).fullTrainLoss().getAsDouble(), within(1e-5));

    List<JsonNode> events = RunLog.readEvents(dir.resolve(RunLog.EVENTS_FILE));
    assertThat(steps(events, FeatureChange.TYPE)).containsExactly(40L, 80L, 120L, 160L, 200L);
    List<Long> probes = steps(events, "probe");
    assertThat(probes).contains(50L, 100L, 150L);
    for (JsonNode e : events) {
      if (e.path("type").asText().equals("probe")) {
        assertThat(e.get("values").has("sharpness.update")).as(e.toString()).isTrue();
        assertThat(e.get("values").get("sharpness.update").asDouble()).isFinite();
        assertThat(e.get("values").get("lambda.max").asDouble()).as(e.toString()).isPositive();
      }
    }

    Map<String, Object> config = RunFiles.readJsonMap(dir.resolve(ParityTraining.CONFIG_FILE));
    assertThat(config)
        .containsKeys(
            "experiment",
            "setup",
            "paper",
            "deviations",
            "settings",
            "training",
            "parameters",
            "last_layer",
            "engine",
            "djl_version",
            "device",
            "result");
    assertThat((String) config.get("last_layer")).contains("classifier");
    @SuppressWarnings("unchecked")
    Map<String, Object> settings = (Map<String, Object>) config.get("settings");
    assertThat(settings.keySet()).containsExactlyElementsOf(Experiment.MODULAR.defaults().keys());
    assertThat(settings.get("op")).isEqualTo("add");

    for (String png : List.of(RunPlots.LOSS_PNG, RunPlots.ACCURACY_PNG)) {
      BufferedImage img = ImageIO.read(dir.resolve(png).toFile());
      assertThat(img).as(png).isNotNull();
    }
    assertThat(Files.readString(dir.resolve(RunReport.REPORT_FILE)))
        .contains("# Run report: modular");
  }

  @Test
  void aResumedRunContinuesFromItsCheckpoint(@TempDir Path tmp) throws Exception {
    Path cut = tmp.resolve("cut");
    assertThat(run(cut, 130, "checkpoint_every=100").code()).isZero();
    List<StepRecord> before = RunLog.readRecords(cut.resolve(RunLog.METRICS_FILE));
    // killed mid-line after step 130: the checkpoint is at 100
    Files.writeString(
        cut.resolve(RunLog.METRICS_FILE),
        "{\"step\":131,\"train_lo",
        StandardCharsets.UTF_8,
        StandardOpenOption.APPEND);
    RunCommandTest.Outcome o =
        RunCommandTest.executeInNewJvm(
            tmp.resolve("resume-jvm"),
            "run",
            "--resume",
            cut.toString(),
            "--steps",
            "160",
            "--no-progress");
    assertThat(o.code()).as(o.err()).isZero();
    assertThat(o.out()).contains("modular: 60 steps");

    List<StepRecord> after = RunLog.readRecords(cut.resolve(RunLog.METRICS_FILE));
    assertThat(after).hasSize(160);
    for (int i = 0; i < 160; i++) {
      assertThat(after.get(i).step()).isEqualTo(i + 1);
    }
    // the records up to the checkpoint are kept as they were
    assertThat(after.subList(0, 100)).isEqualTo(before.subList(0, 100));
    // Steps 101-105 again from the checkpoint's parameters, optimizer state and data position.
    // Loss 101 is a forward pass of the loaded parameters on the same batch: equal to 1e-5.
    // The updates agree to about 3e-4 relative, not bit for bit (transformer runs on this CPU
    // repeat to about that precision, see the issue 5 note), so 101-105 are compared at 1e-3
    // (losses) and 1e-2 (update norms): an optimizer state that was not restored makes update
    // 101 a fresh Adam's first, about 20 times larger here.
    assertThat(after.get(100).trainLoss())
        .isCloseTo(before.get(100).trainLoss(), within(1e-5 * before.get(100).trainLoss()));
    for (int i = 100; i < 105; i++) {
      StepRecord x = before.get(i);
      StepRecord y = after.get(i);
      assertThat(y.trainLoss())
          .as("loss at %d", i + 1)
          .isCloseTo(x.trainLoss(), within(1e-3 * x.trainLoss()));
      double nx = x.norm(StepRecord.LAST_LAYER).getAsDouble();
      assertThat(y.norm(StepRecord.LAST_LAYER).getAsDouble()).isCloseTo(nx, within(1e-5 * nx));
      double ux = x.updateNorm().getAsDouble();
      assertThat(y.updateNorm().getAsDouble())
          .as("update at %d", i + 1)
          .isCloseTo(ux, within(1e-2 * ux));
    }
    List<JsonNode> events = RunLog.readEvents(cut.resolve(RunLog.EVENTS_FILE));
    assertThat(steps(events, FeatureChange.TYPE)).containsExactly(40L, 80L, 120L, 160L);
  }

  /** The set-ups of the paper's appendices, a few steps each through the command line. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "optimizer=adamw weight_decay=1", // App. C.1
        "tau=0.25", // App. C.2
        "optimizer=sgd lr=0.01", // App. B.2
        "norm=pre eps=1e-5", // pre-LN; App. E's larger eps
        "op=s5_conj fraction=0.3 eval_every=20", // App. B.3: a permutation operation
        "op=div_odd_else_sub fraction=0.8"
      })
  void everyAppendixSetUpRuns(String sets, @TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("run");
    List<String> args =
        new ArrayList<>(
            List.of(
                "run",
                "modular",
                "--steps",
                "20",
                "--no-progress",
                "--out",
                dir.toString(),
                "--set",
                "p=7",
                "eval_every=10",
                "feature_every=10"));
    args.addAll(List.of(sets.split(" ")));
    RunCommandTest.Outcome o = RunCommandTest.execute(args.toArray(String[]::new));
    assertThat(o.code()).as(o.err()).isZero();
    List<StepRecord> records = RunLog.readRecords(dir.resolve(RunLog.METRICS_FILE));
    assertThat(records).hasSize(20);
    assertThat(records.get(19).trainLoss()).isFinite();
    assertThat(records.get(19).testAccuracy()).isPresent();
    Map<String, Object> config = RunFiles.readJsonMap(dir.resolve(ParityTraining.CONFIG_FILE));
    @SuppressWarnings("unchecked")
    Map<String, Object> settings = (Map<String, Object>) config.get("settings");
    for (String kv : sets.split(" ")) {
      String key = kv.substring(0, kv.indexOf('='));
      Object expected = Experiment.MODULAR.defaults().with(List.of(kv)).values().get(key);
      assertThat(String.valueOf(settings.get(key))).as(key).isEqualTo(String.valueOf(expected));
    }
  }

  @Test
  void badSettingsNameTheValueAndWhatWasExpected(@TempDir Path tmp) throws Exception {
    RunCommandTest.Outcome op = run(tmp.resolve("a"), 10, "op=pow");
    assertThat(op.code()).isNotZero();
    assertThat(op.err()).contains("pow").contains("div").contains("s5_mul");
    RunCommandTest.Outcome prime = run(tmp.resolve("b"), 10, "p=8");
    assertThat(prime.code()).isNotZero();
    assertThat(prime.err()).contains("prime").contains("8");
    RunCommandTest.Outcome wd = run(tmp.resolve("c"), 10, "weight_decay=0.1");
    assertThat(wd.code()).isNotZero();
    assertThat(wd.err()).contains("adamw");
    assertThat(tmp.resolve("a")).doesNotExist();
  }

  private static List<Long> steps(List<JsonNode> events, String type) {
    return events.stream()
        .filter(e -> e.path("type").asText().equals(type))
        .map(e -> e.get("step").asLong())
        .collect(Collectors.toList());
  }
}
