package dev.slingshot.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.slingshot.core.RunLog;
import dev.slingshot.core.SlingshotDetector;
import dev.slingshot.core.SlingshotMonitor;
import dev.slingshot.core.StepRecord;
import dev.slingshot.djl.ProbeMeasurement;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;

/** The probe and feature figures, drawn from hand-made run directories. */
class RunPlotsTest {

  static final int STEPS = 4000;

  /** λmax at step s of the hand-made probes: 10·2^(s/1000), so 2/λmax halves every 1000 steps. */
  static double lambda(long s) {
    return 10 * Math.pow(2, s / 1000.0);
  }

  /**
   * A run with one late slingshot at 3000, a probe event every 500 steps (update sharpness negative
   * at 1500, so one value is left off the log axis), cosine distances every 100 steps and feature
   * changes of two layers every 200 steps.
   */
  static void writeRun(Path dir, boolean probes, boolean features) throws Exception {
    SlingshotMonitor monitor = SlingshotMonitor.builder().rule(new SlingshotDetector()).build();
    try (RunLog log = RunLog.attach(monitor, dir)) {
      for (int step = 1; step <= STEPS; step++) {
        double loss = step < 300 ? 0.7 * Math.exp(-step / 50.0) : step == 3000 ? 2.0 : 0.0;
        StepRecord.Builder r =
            StepRecord.builder(step, loss).norm(ParityTraining.LAST_LAYER, 2.0).updateNorm(0.1);
        if (step % 100 == 0) {
          r.fullTrainLoss(Math.max(loss, 1e-9)).trainAccuracy(1.0).testLoss(0.1).testAccuracy(0.9);
          if (features) {
            r.metric("cosine_distance.representation", step * 1e-5);
            r.metric("cosine_distance.classifier", step * 2e-5);
          }
        }
        monitor.observe(r.build());
        if (probes && step % 500 == 0) {
          Map<String, Double> v = new LinkedHashMap<>();
          v.put(ProbeMeasurement.UPDATE_SHARPNESS, step == 1500 ? -0.5 : 0.01 * step);
          v.put(ProbeMeasurement.LAMBDA_MAX, lambda(step));
          v.put(ProbeMeasurement.LAMBDA_ITERATIONS, 8.0);
          v.put(ProbeMeasurement.EFFECTIVE_STEP_FRACTION, step / (double) STEPS);
          v.put(ProbeMeasurement.EFFECTIVE_STEP_MAX, 0.01 * step);
          monitor.publish(
              new ProbeMeasurement(
                  step, v, "current", true, step > 500, 0, List.of(), List.of(), 3.0));
        }
        if (features && step % 200 == 0) {
          monitor.publish(
              new FeatureChange.Measured(
                  step,
                  Map.of(FeatureChange.key(1), 1e-3 * step, FeatureChange.key(2), 1e-4 * step)));
        }
      }
    }
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("experiment", "plots-test");
    config.put("settings", Experiment.PARITY_ADAMW.defaults().values()); // lr 0.01
    RunFiles.writeJson(dir.resolve(ParityTraining.CONFIG_FILE), config);
  }

  @Test
  void probeEventsGiveASharpnessFigureWithTwoOverLr(@TempDir Path dir) throws Exception {
    writeRun(dir, true, false);
    RunAnalysis run = RunReport.write(dir).run();
    assertThat(run.probes).hasSize(STEPS / 500);
    assertThat(run.probes.get(2).value(ProbeMeasurement.LAMBDA_MAX).getAsDouble())
        .isCloseTo(lambda(1500), within(1e-9));
    assertThat(RunPlots.files(run))
        .containsExactly(RunPlots.LOSS_PNG, RunPlots.ACCURACY_PNG, RunPlots.SHARPNESS_PNG);
    assertThat(dir.resolve(RunPlots.FEATURES_PNG)).doesNotExist();
    BufferedImage img = ImageIO.read(dir.resolve(RunPlots.SHARPNESS_PNG).toFile());
    assertThat(img.getWidth()).isEqualTo(1400);
    assertThat(img.getHeight()).isGreaterThan(1200); // three panels

    List<XYChart> panels = RunPlots.sharpnessCharts(run);
    assertThat(panels).hasSize(3);
    XYSeries twoOverLr = series(panels.get(0), "2/lr = 200");
    assertThat(twoOverLr.getYData()).containsOnly(200.0);
    XYSeries sharp = series(panels.get(0), "update sharpness uᵀHu/‖u‖² (1 value ≤ 0 not drawn)");
    assertThat(sharp.getXData()).hasSize(STEPS / 500 - 1).doesNotContain(1500.0);
    XYSeries limit = series(panels.get(1), "2/λmax");
    for (int i = 0; i < limit.getXData().length; i++) {
      long step = (long) limit.getXData()[i];
      assertThat(limit.getYData()[i]).isCloseTo(2 / lambda(step), within(1e-12));
    }
    assertThat(series(panels.get(2), "fraction above 2/λmax").getYData())
        .containsExactly(0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0);

    String report = Files.readString(dir.resolve(RunReport.REPORT_FILE));
    assertThat(report)
        .contains("![sharpness](sharpness.png)")
        .contains("`loss.png`, `accuracy.png`, `sharpness.png`")
        .contains("from the 8 probe events")
        .doesNotContain("features.png");
  }

  @Test
  void cosineDistancesAndFeatureChangesGiveAFeaturesFigure(@TempDir Path dir) throws Exception {
    writeRun(dir, false, true);
    RunAnalysis run = RunReport.write(dir).run();
    assertThat(RunPlots.files(run))
        .containsExactly(RunPlots.LOSS_PNG, RunPlots.ACCURACY_PNG, RunPlots.FEATURES_PNG);
    assertThat(ImageIO.read(dir.resolve(RunPlots.FEATURES_PNG).toFile())).isNotNull();
    assertThat(run.featureChanges).hasSize(STEPS / 200);
    List<XYChart> panels = RunPlots.featureCharts(run);
    assertThat(panels).hasSize(2);
    assertThat(series(panels.get(0), "classifier").getYData()[0]).isCloseTo(2e-3, within(1e-12));
    assertThat(series(panels.get(0), "representation").getXData()).hasSize(STEPS / 100);
    assertThat(series(panels.get(1), "layer2").getYData()[0]).isCloseTo(0.02, within(1e-12));
    assertThat(Files.readString(dir.resolve(RunReport.REPORT_FILE)))
        .contains("![features](features.png)")
        .doesNotContain("sharpness.png");
  }

  @Test
  void aPlotThatCannotBeDrawnLosesNeitherTheReportNorTheRun(@TempDir Path dir) throws Exception {
    writeRun(dir, true, false);
    Files.createDirectory(dir.resolve(RunPlots.ACCURACY_PNG)); // the encoder cannot write there
    RunReport.Written w = RunReport.write(dir);
    assertThat(w.plotFailure()).isPresent();
    assertThat(w.plotFailure().get()).contains(RunPlots.ACCURACY_PNG);
    assertThat(w.run().probes).hasSize(STEPS / 500);
    String report = Files.readString(dir.resolve(RunReport.REPORT_FILE));
    assertThat(report)
        .contains("No figures: drawing the plots failed (")
        .contains("not drawn in this run")
        .contains("from the 8 probe events")
        .doesNotContain("![");

    // `slingshot plot DIR` says so with exit code 1; once the obstacle is gone it draws them all
    RunCommandTest.Outcome o = RunCommandTest.execute("plot", dir.toString());
    assertThat(o.code()).isEqualTo(1);
    assertThat(o.out()).doesNotContain(RunPlots.LOSS_PNG).contains(RunReport.REPORT_FILE);
    Files.delete(dir.resolve(RunPlots.ACCURACY_PNG));
    o = RunCommandTest.execute("plot", dir.toString());
    assertThat(o.code()).isZero();
    assertThat(ImageIO.read(dir.resolve(RunPlots.ACCURACY_PNG).toFile())).isNotNull();
    assertThat(Files.readString(dir.resolve(RunReport.REPORT_FILE)))
        .contains("![sharpness](sharpness.png)");
  }

  @Test
  void aRunWithoutProbesOrFeaturesHasOnlyTheTwoFigures(@TempDir Path dir) throws Exception {
    writeRun(dir, false, false);
    RunAnalysis run = RunReport.write(dir).run();
    assertThat(RunPlots.files(run)).containsExactly(RunPlots.LOSS_PNG, RunPlots.ACCURACY_PNG);
    assertThat(dir.resolve(RunPlots.SHARPNESS_PNG)).doesNotExist();
    assertThat(dir.resolve(RunPlots.FEATURES_PNG)).doesNotExist();
  }

  private static XYSeries series(XYChart chart, String name) {
    XYSeries s = chart.getSeries(name);
    assertThat(s)
        .as(
            "series '%s' among %s",
            name, chart.getSeriesCollection().stream().map(XYSeries::getName).toList())
        .isNotNull();
    return s;
  }
}
