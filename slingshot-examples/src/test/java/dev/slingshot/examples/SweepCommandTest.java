package dev.slingshot.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.slingshot.core.RunLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SweepCommandTest {

  @Test
  void theGridIsTheCartesianProductFirstKeySlowest() {
    List<SweepCommand.Point> ps =
        SweepCommand.points(Experiment.SYNTHETIC, List.of("beta1=0,0.9", "beta2=0.95,0.99,0.999"));
    assertThat(ps).hasSize(6);
    assertThat(ps.get(0).assignments()).containsExactly("beta1=0", "beta2=0.95");
    assertThat(ps.get(1).assignments()).containsExactly("beta1=0", "beta2=0.99");
    assertThat(ps.get(5).assignments()).containsExactly("beta1=0.9", "beta2=0.999");
    assertThat(ps.get(5).name()).isEqualTo("p6_beta1=0.9_beta2=0.999");
  }

  @Test
  void listSettingsSeparateTheirValuesWithSemicolons() {
    List<SweepCommand.Point> ps =
        SweepCommand.points(Experiment.SYNTHETIC, List.of("hidden=64,64;128,128,128"));
    assertThat(ps)
        .extracting(p -> p.values().get("hidden"))
        .containsExactly("64,64", "128,128,128");
    assertThat(ps.get(0).name()).isEqualTo("p1_hidden=64-64");
  }

  @Test
  void badGridsAreRefusedBeforeAnythingRuns() {
    assertThatThrownBy(() -> SweepCommand.points(Experiment.SYNTHETIC, List.of("epsilon=1")))
        .hasMessageContaining("unknown setting 'epsilon'")
        .hasMessageContaining("eps");
    assertThatThrownBy(() -> SweepCommand.points(Experiment.SYNTHETIC, List.of("eps=1e-8,big")))
        .hasMessageContaining("invalid value 'big' for eps");
    assertThatThrownBy(() -> SweepCommand.points(Experiment.SYNTHETIC, List.of("eps")))
        .hasMessageContaining("--grid expects key=v1,v2");
    RunCommandTest.Outcome o = RunCommandTest.execute("sweep", "toy-quadratic", "--grid", "mu=1");
    assertThat(o.code()).isEqualTo(2);
    assertThat(o.err()).contains("use 'slingshot run toy-quadratic'");
    o =
        RunCommandTest.execute(
            "sweep", "synthetic", "--grid", "batch=500", "--set", "train_size=64");
    assertThat(o.code()).isEqualTo(2);
    assertThat(o.err()).contains("batch=500 must not exceed train_size=64");
  }

  @Test
  void aTwoPointSweepWritesEveryRunAndTheSummaries(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("sweep");
    RunCommandTest.Outcome o =
        RunCommandTest.execute(
            "sweep",
            "synthetic",
            "--grid",
            "eps=1e-8,1e-6",
            "--parallel",
            "2",
            "--steps",
            "120",
            "--out",
            dir.toString(),
            "--set",
            "train_size=64",
            "test_size=64",
            "batch=32",
            "hidden=32,32,32",
            "eval_every=40");
    assertThat(o.code()).as(o.err()).isZero();
    assertThat(o.out()).contains("synthetic sweep: 2 point(s), 0 failed");
    for (String name : List.of("p1_eps=1e-8", "p2_eps=1e-6")) {
      Path run = dir.resolve(name);
      for (String f : RunReport.files()) {
        assertThat(run.resolve(f)).as(name + "/" + f).isRegularFile();
      }
      assertThat(RunLog.readRecords(run.resolve(RunLog.METRICS_FILE))).hasSize(120);
    }
    List<String> csv = Files.readAllLines(dir.resolve(SweepCommand.CSV));
    assertThat(csv).hasSize(3);
    assertThat(csv.get(0))
        .startsWith("point,eps,status,steps,late_slingshot_episodes,")
        .contains("best_val_acc,best_val_acc_step,final_val_acc,late_generalization");
    assertThat(csv.get(1)).startsWith("1,1e-8,ok,120,");
    assertThat(csv.get(2)).startsWith("2,1e-6,ok,120,").endsWith(",p2_eps=1e-6");
    String md = Files.readString(dir.resolve(SweepCommand.MD));
    assertThat(md).contains("# Sweep: synthetic").contains("| 2 | 1e-6 | ok | 120 |");
    assertThat(ImageIO.read(dir.resolve(SweepCommand.PNG).toFile())).isNotNull();
  }
}
