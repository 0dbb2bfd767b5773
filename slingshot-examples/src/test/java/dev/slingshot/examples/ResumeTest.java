package dev.slingshot.examples;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import com.fasterxml.jackson.databind.JsonNode;
import dev.slingshot.core.RunLog;
import dev.slingshot.core.StepRecord;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run --resume}: a run stopped after its step-200 checkpoint (with records beyond it and a
 * line cut by {@code kill -9}) and resumed ends where an uninterrupted run ends.
 */
class ResumeTest {

  static final double TOLERANCE = 1e-5;

  private static RunCommandTest.Outcome run(Path dir, int steps) {
    return RunCommandTest.execute(
        "run",
        "parity-reset",
        "--steps",
        Integer.toString(steps),
        "--seed",
        "5",
        "--no-progress",
        "--out",
        dir.toString(),
        "--set",
        "train_size=200",
        "test_size=300",
        "eval_every=50",
        "checkpoint_every=100",
        // resets at 70, 140, 210, 280: on both sides of the checkpoint at 200
        "reset=periodic",
        "reset_every=70");
  }

  @Test
  void aResumedRunEndsWhereAnUninterruptedRunEnds(@TempDir Path tmp) throws Exception {
    Path whole = tmp.resolve("whole");
    Path cut = tmp.resolve("cut");
    assertThat(run(whole, 300).code()).isZero();
    // Stopped at step 250: the checkpoint is at 200, records 201-250 and a torn line follow it.
    assertThat(run(cut, 250).code()).isZero();
    Files.writeString(
        cut.resolve(RunLog.METRICS_FILE),
        "{\"step\":251,\"train_lo",
        StandardCharsets.UTF_8,
        StandardOpenOption.APPEND);
    assertThat(TrainingCheckpoint.find(cut).orElseThrow().step()).isEqualTo(200);

    RunCommandTest.Outcome o =
        RunCommandTest.execute(
            "run", "--resume", cut.toString(), "--steps", "300", "--no-progress");
    assertThat(o.code()).as(o.err()).isZero();
    assertThat(o.out()).contains("parity-reset: 100 steps");

    List<StepRecord> a = RunLog.readRecords(whole.resolve(RunLog.METRICS_FILE));
    List<StepRecord> b = RunLog.readRecords(cut.resolve(RunLog.METRICS_FILE));
    assertThat(b).hasSize(300);
    for (int i = 0; i < 300; i++) {
      assertAgree(a.get(i), b.get(i));
    }
    assertThat(eventLines(cut)).isEqualTo(eventLines(whole));
    assertThat(eventLines(cut)).filteredOn(l -> l.contains("state_reset")).hasSize(4);

    Map<String, float[]> pa = parameters(whole);
    Map<String, float[]> pb = parameters(cut);
    assertThat(pb.keySet()).isEqualTo(pa.keySet());
    for (String name : pa.keySet()) {
      float[] x = pa.get(name);
      float[] y = pb.get(name);
      assertThat(y).hasSameSizeAs(x);
      for (int i = 0; i < x.length; i++) {
        assertThat(relative(x[i], y[i])).as("%s[%d]", name, i).isLessThanOrEqualTo(TOLERANCE);
      }
    }
    Map<String, Object> config = RunFiles.readJsonMap(cut.resolve(ParityTraining.CONFIG_FILE));
    assertThat(config).containsKeys("resumed", "result");
    assertThat(Files.readString(cut.resolve(RunReport.REPORT_FILE)))
        .contains("## Resets")
        .contains("- resets: 4, after steps 70, 140, 210, 280");
  }

  @Test
  void resumeWithoutACheckpointSaysSo(@TempDir Path tmp) {
    Path dir = tmp.resolve("short");
    RunCommandTest.Outcome first =
        RunCommandTest.execute(
            "run",
            "parity-hinge",
            "--steps",
            "20",
            "--no-progress",
            "--out",
            dir.toString(),
            "--set",
            "train_size=64",
            "test_size=64",
            "eval_every=10");
    assertThat(first.code()).as(first.err()).isZero();
    RunCommandTest.Outcome o = RunCommandTest.execute("run", "--resume", dir.toString());
    assertThat(o.code()).isEqualTo(2);
    assertThat(o.err()).contains("no checkpoint in");
    assertThat(RunCommandTest.execute("run", "--resume", tmp.resolve("nope").toString()).err())
        .contains("not a run directory");
    assertThat(RunCommandTest.execute("run").err()).contains("missing EXPERIMENT");
  }

  private static void assertAgree(StepRecord x, StepRecord y) {
    assertThat(y.step()).isEqualTo(x.step());
    String at = "step " + x.step();
    assertThat(relative(x.trainLoss(), y.trainLoss())).as(at).isLessThanOrEqualTo(TOLERANCE);
    assertOpt(x.updateNorm(), y.updateNorm(), at);
    assertOpt(x.testLoss(), y.testLoss(), at);
    assertOpt(x.testAccuracy(), y.testAccuracy(), at);
    assertOpt(x.fullTrainLoss(), y.fullTrainLoss(), at);
    assertThat(y.norms().keySet()).as(at).isEqualTo(x.norms().keySet());
    for (String k : x.norms().keySet()) {
      assertThat(relative(x.norms().get(k), y.norms().get(k))).as(at + " " + k).isLessThan(1e-5);
    }
  }

  private static void assertOpt(OptionalDouble x, OptionalDouble y, String at) {
    assertThat(y.isPresent()).as(at).isEqualTo(x.isPresent());
    if (x.isPresent()) {
      assertThat(relative(x.getAsDouble(), y.getAsDouble())).as(at).isLessThan(TOLERANCE);
    }
  }

  private static double relative(double x, double y) {
    double scale = Math.max(Math.abs(x), Math.abs(y));
    return scale == 0 ? 0 : Math.abs(x - y) / scale;
  }

  private static List<String> eventLines(Path dir) throws Exception {
    List<String> out = new ArrayList<>();
    for (JsonNode n : RunLog.readEvents(dir.resolve(RunLog.EVENTS_FILE))) {
      out.add(RunFiles.JSON.writeValueAsString(n));
    }
    return out;
  }

  /** The checkpoint's parameters, read back by DJL into a block of the run's shape. */
  private static Map<String, float[]> parameters(Path dir) throws Exception {
    ParityTraining.configureEngine();
    SequentialBlock block = new SequentialBlock();
    block.add(Linear.builder().setUnits(128).build());
    block.add(Activation.reluBlock());
    block.add(Linear.builder().setUnits(2).build());
    Map<String, float[]> out = new LinkedHashMap<>();
    try (Model model = Model.newInstance("check", Engine.getInstance().defaultDevice(), "PyTorch");
        InputStream in =
            Files.newInputStream(
                dir.resolve(TrainingCheckpoint.DIR).resolve(TrainingCheckpoint.PARAMETERS_FILE));
        DataInputStream dis = new DataInputStream(new BufferedInputStream(in))) {
      model.setBlock(block);
      block.loadParameters(model.getNDManager(), dis);
      for (var p : block.getParameters()) {
        Parameter param = p.getValue();
        out.put(p.getKey(), param.getArray().toFloatArray());
      }
    }
    return out;
  }
}
