package dev.slingshot.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.slingshot.core.RunLog;
import dev.slingshot.core.SlingshotDetector;
import dev.slingshot.core.SlingshotEpisode;
import dev.slingshot.core.SlingshotEvent;
import dev.slingshot.core.StepRecord;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import picocli.CommandLine;

/**
 * Every experiment at reduced size through the same code path as the full runs: the run directory
 * must be complete and consistent (not: slingshots must appear).
 */
class RunCommandTest {

  static final int STEPS = 300;
  static final int EVAL_EVERY = 100;

  record Outcome(int code, String out, String err) {}

  static Outcome execute(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Slingshot.commandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new Outcome(code, out.toString(), err.toString());
  }

  /**
   * Runs the command line in a new JVM, as a user (or a sweep's worker) runs it: one training run
   * per process. Used where a test compares runs bit for bit: two transformer runs in one JVM after
   * other models have trained there (with probes: TorchScript's graph executor is global state) are
   * not always identical, while separate processes are (see the issue 5 note).
   */
  static Outcome executeInNewJvm(Path workDir, String... args)
      throws java.io.IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("-Dai.djl.offline=true");
    cmd.add("-Dai.djl.pytorch.num_threads=1");
    cmd.add("-Dai.djl.pytorch.num_interop_threads=1");
    cmd.add("-Djava.awt.headless=true");
    cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
    cmd.add(Slingshot.class.getName());
    cmd.addAll(List.of(args));
    Files.createDirectories(workDir);
    Path out = Files.createTempFile(workDir, "out", ".txt");
    Path err = Files.createTempFile(workDir, "err", ".txt");
    Process p =
        new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    int code = p.waitFor();
    return new Outcome(code, Files.readString(out), Files.readString(err));
  }

  @BeforeAll
  static void fashionMnist(@TempDir Path tmp) throws Exception {
    FakeFashionMnist.useIfRealMissing(tmp);
  }

  @ParameterizedTest
  @EnumSource(
      value = Experiment.class,
      mode = EnumSource.Mode.EXCLUDE,
      names = {"TOY_QUADRATIC", "MODULAR"})
  void everyExperimentWritesACompleteConsistentRunDirectory(Experiment e, @TempDir Path tmp)
      throws Exception {
    Path dir = tmp.resolve("run");
    Outcome o =
        execute(
            "run",
            e.id(),
            "--steps",
            Integer.toString(STEPS),
            "--seed",
            "3",
            "--no-progress",
            "--out",
            dir.toString(),
            "--set",
            "train_size=200",
            "test_size=300",
            "eval_every=" + EVAL_EVERY);
    assertThat(o.code()).as(o.err()).isZero();
    assertThat(o.out()).contains(e.id() + ": " + STEPS + " steps");
    for (String f : RunReport.files()) {
      assertThat(dir.resolve(f)).as(f).isRegularFile();
    }

    // metrics.jsonl: one record per step, the right fields on the right steps.
    List<StepRecord> records = RunLog.readRecords(dir.resolve(RunLog.METRICS_FILE));
    assertThat(records).hasSize(STEPS);
    for (int i = 0; i < STEPS; i++) {
      StepRecord r = records.get(i);
      assertThat(r.step()).isEqualTo(i + 1);
      assertThat(r.trainLoss()).isFinite().isGreaterThanOrEqualTo(0);
      assertThat(r.norm(ParityTraining.LAST_LAYER)).isPresent();
      assertThat(r.norm(ParityTraining.LAST_LAYER).getAsDouble()).isPositive();
      assertThat(r.updateNorm()).isPresent();
      assertThat(r.updateNorm().getAsDouble()).isPositive();
      boolean eval = r.step() % EVAL_EVERY == 0;
      assertThat(r.testAccuracy().isPresent()).as("test_acc at %d", r.step()).isEqualTo(eval);
      assertThat(r.testLoss().isPresent()).isEqualTo(eval);
      assertThat(r.fullTrainLoss().isPresent()).isEqualTo(eval);
      assertThat(r.trainAccuracy().isPresent()).isEqualTo(eval);
      if (eval) {
        assertThat(r.testAccuracy().getAsDouble()).isBetween(0.0, 1.0);
        assertThat(r.trainAccuracy().getAsDouble()).isBetween(0.0, 1.0);
      }
    }

    // events.jsonl: exactly what the detector gives when replayed over metrics.jsonl.
    SlingshotDetector replay = new SlingshotDetector();
    List<String> expected = new ArrayList<>();
    for (StepRecord r : records) {
      for (SlingshotEvent ev : replay.observe(r)) {
        expected.add(RunLog.toJson(ev));
      }
    }
    List<String> logged = new ArrayList<>();
    for (JsonNode n : RunLog.readEvents(dir.resolve(RunLog.EVENTS_FILE))) {
      if (!"state_reset".equals(n.path("type").asText())) { // the adapter's, not the detector's
        logged.add(RunFiles.JSON.writeValueAsString(n));
      }
    }
    List<String> expectedNormalised = new ArrayList<>();
    for (String s : expected) {
      expectedNormalised.add(RunFiles.JSON.writeValueAsString(RunFiles.JSON.readTree(s)));
    }
    assertThat(logged).isEqualTo(expectedNormalised);

    // config.json: every setting and the provenance keys.
    Map<String, Object> config = RunFiles.readJsonMap(dir.resolve(ParityTraining.CONFIG_FILE));
    assertThat(config)
        .containsKeys(
            "experiment",
            "setup",
            "paper",
            "deviations",
            "settings",
            "seed",
            "random",
            "data",
            "model",
            "parameters",
            "loss",
            "optimizer",
            "optimizer_semantics",
            "dtype",
            "engine",
            "engine_version",
            "djl_version",
            "device",
            "java_version",
            "result");
    assertThat(config.get("experiment")).isEqualTo(e.id());
    assertThat(config.get("dtype")).isEqualTo("float32");
    assertThat(config.get("engine")).isEqualTo("PyTorch");
    assertThat(config.get("seed")).isEqualTo(3);
    @SuppressWarnings("unchecked")
    Map<String, Object> settings = (Map<String, Object>) config.get("settings");
    assertThat(settings.keySet()).containsExactlyElementsOf(e.defaults().keys());
    assertThat(settings.get("steps")).isEqualTo(STEPS);
    assertThat(settings.get("train_size")).isEqualTo(200);
    assertThat((String) config.get("optimizer_semantics")).contains("uncorrected sqrt(v)");

    // the plots decode; the report lists every episode.
    for (String png : List.of(RunPlots.LOSS_PNG, RunPlots.ACCURACY_PNG)) {
      BufferedImage img = ImageIO.read(dir.resolve(png).toFile());
      assertThat(img).as(png).isNotNull();
      assertThat(img.getWidth()).isGreaterThan(800);
    }
    String report = Files.readString(dir.resolve(RunReport.REPORT_FILE));
    assertThat(report).contains("# Run report: " + e.id()).contains("## Slingshot episodes");
    for (SlingshotEpisode ep : replay.episodes()) {
      assertThat(report).contains("| " + ep.startStep() + "–");
    }
    assertThat(report).doesNotContain("events.jsonl lists");
    if (e == Experiment.PARITY_RESET) {
      assertThat(report).contains("## Resets").contains("- policy: episode_onset");
    }
  }

  @Test
  void sameSeedGivesTheSameRun(@TempDir Path tmp) throws Exception {
    List<List<StepRecord>> runs = new ArrayList<>();
    for (String name : List.of("a", "b")) {
      Path dir = tmp.resolve(name);
      Outcome o =
          execute(
              "run",
              "parity-hinge",
              "--steps",
              "60",
              "--no-progress",
              "--out",
              dir.toString(),
              "--set",
              "train_size=64",
              "test_size=64",
              "eval_every=30");
      assertThat(o.code()).as(o.err()).isZero();
      runs.add(RunLog.readRecords(dir.resolve(RunLog.METRICS_FILE)));
    }
    assertThat(runs.get(0)).isEqualTo(runs.get(1));
  }

  @Test
  void probeEveryTurnsOnTheAdaptersProbesAndTheSharpnessFigure(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("probed");
    Outcome o =
        execute(
            "run",
            "parity-adamw",
            "--steps",
            "60",
            "--no-progress",
            "--out",
            dir.toString(),
            "--set",
            "train_size=64",
            "test_size=64",
            "eval_every=30",
            "probe_every=20");
    assertThat(o.code()).as(o.err()).isZero();
    List<JsonNode> probes = new ArrayList<>();
    for (JsonNode n : RunLog.readEvents(dir.resolve(RunLog.EVENTS_FILE))) {
      if ("probe".equals(n.path("type").asText())) {
        probes.add(n);
      }
    }
    // steps 20 and 40 are probed at the next batch; step 60 is the last, with no next batch
    assertThat(probes).extracting(n -> n.path("step").asLong()).containsExactly(20L, 40L);
    for (JsonNode p : probes) {
      assertThat(p.path("batch").asText()).isEqualTo("current");
      assertThat(p.path("values").path("lambda.max").asDouble()).isPositive();
      assertThat(p.path("values").has("sharpness.update")).isTrue();
      assertThat(p.path("values").has("effective_step.fraction_above")).isTrue();
      assertThat(p.path("values").has("sharpness.preconditioned")).isTrue();
    }
    assertThat(ImageIO.read(dir.resolve(RunPlots.SHARPNESS_PNG).toFile())).isNotNull();
    assertThat(Files.readString(dir.resolve(RunReport.REPORT_FILE)))
        .contains("![sharpness](sharpness.png)");
    Map<String, Object> config = RunFiles.readJsonMap(dir.resolve(ParityTraining.CONFIG_FILE));
    assertThat(config.get("probes")).isEqualTo("every-20-steps");
  }

  @Test
  void probeSettingsMapToTheCoresSchedules() {
    Settings s = Experiment.PARITY.defaults();
    assertThat(ParityTraining.probeSchedule(s).describe()).isEqualTo("never");
    assertThat(ParityTraining.probeSchedule(s.with(List.of("probe_every=500"))).describe())
        .isEqualTo("every-500-steps");
    assertThat(
            ParityTraining.probeSchedule(s.with(List.of("probe_every=500", "probe_dense=32")))
                .describe())
        .isEqualTo("dense-32-steps-near-transitions(every-500-steps)");
    assertThat(ParityTraining.probeSchedule(s.with(List.of("probe_dense=8"))).describe())
        .isEqualTo("dense-8-steps-near-transitions(never)");
    assertThat(execute("run", "parity", "--set", "probe_every=-1").err())
        .contains("invalid value '-1' for probe_every");
  }

  @Test
  void plotRegeneratesARunKilledMidLine(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("killed");
    SyntheticRun.write(dir, false);
    Files.writeString(
        dir.resolve(RunLog.METRICS_FILE),
        "{\"step\": 100001, \"train_lo",
        StandardCharsets.UTF_8,
        StandardOpenOption.APPEND);
    Outcome o = execute("plot", dir.toString());
    assertThat(o.code()).as(o.err()).isZero();
    assertThat(o.out()).contains(SyntheticRun.STEPS + " records");
    for (String png : List.of(RunPlots.LOSS_PNG, RunPlots.ACCURACY_PNG)) {
      assertThat(ImageIO.read(dir.resolve(png).toFile())).isNotNull();
    }
    String report = Files.readString(dir.resolve(RunReport.REPORT_FILE));
    assertThat(report).contains("the run did not finish");
    // the synthetic curve has one late slingshot at 6000-6009 (three intervals, one episode)
    assertThat(report).contains("| 1 | 6000–6009 | 3 |");
    assertThat(report).contains("| late |");
    assertThat(report).contains("1 after the fit");
  }

  @Test
  void unknownExperimentListsTheValidOnes() {
    Outcome o = execute("run", "parity-nope");
    assertThat(o.code()).isEqualTo(2);
    assertThat(o.err())
        .contains("unknown experiment 'parity-nope'")
        .contains("parity, parity-adamw, parity-hinge");
  }

  @Test
  void unknownSettingListsTheValidKeys() {
    Outcome o = execute("run", "parity", "--set", "learning_rate=0.1");
    assertThat(o.code()).isEqualTo(2);
    assertThat(o.err()).contains("unknown setting 'learning_rate'").contains("lr, eps, beta1");
  }

  @Test
  void invalidValuesSayWhatIsValid() {
    assertThat(execute("run", "parity", "--set", "lr=fast").err())
        .contains("invalid value 'fast' for lr: expected a number in [0.0, 10.0]");
    assertThat(execute("run", "parity", "--set", "loss=mse").err())
        .contains("invalid value 'mse' for loss: expected one of cross_entropy, hinge");
    assertThat(execute("run", "parity", "--set", "hidden=256,x").err())
        .contains("for hidden: expected comma-separated integers");
    assertThat(execute("run", "parity", "--set", "lr").err()).contains("--set expects key=value");
    assertThat(execute("run", "parity", "--set", "batch=2000").err())
        .contains("batch=2000 must not exceed train_size=1000");
    assertThat(execute("run", "parity", "--steps", "0").err())
        .contains("invalid value '0' for steps");
  }

  @Test
  void listDescribesEveryExperimentAndItsDeviations() {
    Outcome o = execute("list");
    assertThat(o.code()).isZero();
    for (Experiment e : Experiment.values()) {
      assertThat(o.out()).contains(e.id() + "\n").contains(e.paper());
      for (String d : e.deviations()) {
        assertThat(o.out()).contains(d);
      }
    }
    assertThat(o.out()).contains("App. A.6").contains("eps").contains("deviations:");
  }

  @Test
  void plotRefusesADirectoryWithoutMetrics(@TempDir Path tmp) {
    Outcome o = execute("plot", tmp.toString());
    assertThat(o.code()).isEqualTo(2);
    assertThat(o.err()).contains("no metrics.jsonl");
  }
}
