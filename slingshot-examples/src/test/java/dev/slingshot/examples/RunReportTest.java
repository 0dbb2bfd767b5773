package dev.slingshot.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.slingshot.core.RunLog;
import dev.slingshot.core.SlingshotDetector;
import dev.slingshot.core.SlingshotMonitor;
import dev.slingshot.core.StepRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report's sections on hand-made run directories whose answers are known. */
class RunReportTest {

  static final double LR = 0.01;

  /**
   * A parity-adamw-shaped run: fitted at step 300, one late slingshot at 6000-6009; ‖u‖∞ is 0.05
   * while fitting, 0.02 within the merge gap of the episode, rising through lr·√10 at step 5995 to
   * 0.06 at 6002, and otherwise 0.001 (two steps in three) or 0.003.
   */
  static double updateMaxAbs(long step) {
    if (step <= 300) {
      return 0.05;
    }
    if (step >= 5995 && step <= 6003) {
      return switch ((int) step) {
        case 5995 -> 0.0317;
        case 6000 -> 0.045;
        case 6001 -> 0.05;
        case 6002 -> 0.06;
        case 6003 -> 0.055;
        default -> 0.035;
      };
    }
    if (step >= 5750 && step <= 6259) {
      return 0.02;
    }
    return step % 3 == 0 ? 0.003 : 0.001;
  }

  static void writeRun(Path dir, String optimizer, boolean withMetric) throws Exception {
    SlingshotMonitor monitor = SlingshotMonitor.builder().rule(new SlingshotDetector()).build();
    try (RunLog log = RunLog.attach(monitor, dir)) {
      for (int step = 1; step <= 10_000; step++) {
        double loss;
        if (step < 500) {
          loss = 0.7 * Math.exp(-step / 50.0);
        } else if (step == 6000 || step == 6004 || step == 6008) {
          loss = 3.0;
        } else if (step > 6000 && step < 6010) {
          loss = step % 4 == 1 ? 1e-3 : 0.5;
        } else {
          loss = 0.0;
        }
        StepRecord.Builder r =
            StepRecord.builder(step, loss).norm(ParityTraining.LAST_LAYER, 2.0).updateNorm(0.1);
        if (withMetric) {
          r.metric(UpdateSizeAtOnset.KEY, updateMaxAbs(step));
        }
        if (step % 100 == 0) {
          r.fullTrainLoss(Math.max(loss, 1e-9)).trainAccuracy(1.0).testLoss(0.1).testAccuracy(0.9);
        }
        monitor.observe(r.build());
      }
    }
    Map<String, Object> settings = new LinkedHashMap<>(Experiment.PARITY_ADAMW.defaults().values());
    settings.put("optimizer", optimizer);
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("experiment", "update-size-test");
    config.put("settings", settings);
    RunFiles.writeJson(dir.resolve(ParityTraining.CONFIG_FILE), config);
  }

  @Test
  void updateSizeAtOnsetAgainstTheParityStudysPrediction(@TempDir Path dir) throws Exception {
    writeRun(dir, "adamw", true);
    RunAnalysis run = RunReport.write(dir).run();
    assertThat(run.fitStep).hasValue(300);

    UpdateSizeAtOnset u = UpdateSizeAtOnset.of(run).orElseThrow();
    assertThat(u.prediction()).isCloseTo(Math.sqrt(10), within(1e-12));
    assertThat(u.onsets).hasSize(1);
    UpdateSizeAtOnset.Onset o = u.onsets.get(0);
    assertThat(o.step()).isEqualTo(6000);
    assertThat(o.atOnset().getAsDouble()).isCloseTo(4.5, within(1e-9));
    assertThat(o.max().getAsDouble()).isCloseTo(6.0, within(1e-9));
    assertThat(o.maxStep()).hasValue(6002);
    assertThat(o.firstReached()).hasValue(5995);

    // between slingshots: steps 301..5749 and 6260..10000, computed here from the definition
    List<Double> between = new ArrayList<>();
    for (long s = 301; s <= 10_000; s++) {
      if (s < 5750 || s > 6259) {
        between.add(updateMaxAbs(s) / LR);
      }
    }
    between.sort(null);
    double median =
        between.size() % 2 == 1
            ? between.get(between.size() / 2)
            : (between.get(between.size() / 2 - 1) + between.get(between.size() / 2)) / 2;
    assertThat(u.stepsBetween).isEqualTo(between.size());
    assertThat(u.medianBetween.getAsDouble()).isCloseTo(median, within(1e-12));
    assertThat(median).isCloseTo(0.1, within(1e-12));

    String report = Files.readString(dir.resolve(RunReport.REPORT_FILE));
    assertThat(report)
        .contains("## Update size at slingshot onset")
        .contains("= 3.162·lr (β1 = 0.9, β2 = 0.999")
        // 4.5/√10 = 1.423, 6/√10 = 1.897
        .contains("| 1 | 6000 | 3.00 | 4.50 | 1.42× | 6.00 (6002) | 1.90× | 5995 (-5) |")
        .contains("median ‖u‖∞/lr 0.100 (0.03× of the prediction)")
        .contains("3.16, 4.25, 4.95 ·lr for k = 1, 2, 3, at most 6.57·lr (k = 12)");
  }

  @Test
  void theSignSteadyEnvelopeMatchesADirectSum() {
    // m and v after k equal gradients g = 1 from zero, summed term by term
    double b1 = 0.9;
    double b2 = 0.999;
    double best = 0;
    int bestK = 0;
    double m = 0;
    double v = 0;
    for (int k = 1; k <= 500; k++) {
      m = b1 * m + (1 - b1);
      v = b2 * v + (1 - b2);
      double step = m / Math.sqrt(v);
      assertThat(UpdateSizeAtOnset.steady(b1, b2, k)).isCloseTo(step, within(1e-12));
      if (step > best) {
        best = step;
        bestK = k;
      }
    }
    assertThat(UpdateSizeAtOnset.envelope(b1, b2)).isCloseTo(best, within(1e-12));
    assertThat(UpdateSizeAtOnset.envelopeStep(b1, b2)).isEqualTo(bestK).isEqualTo(12);
    assertThat(UpdateSizeAtOnset.prediction(0.9, 0.95))
        .isCloseTo(0.1 / Math.sqrt(0.05), within(1e-12));
  }

  @Test
  void noUpdateSizeSectionWithoutTheMetricOrForOtherOptimizers(@TempDir Path tmp) throws Exception {
    Path old = tmp.resolve("old");
    writeRun(old, "adamw", false);
    RunReport.write(old);
    assertThat(Files.readString(old.resolve(RunReport.REPORT_FILE)))
        .contains("## Slingshot episodes")
        .doesNotContain("## Update size at slingshot onset");
    Path rms = tmp.resolve("rmsprop");
    writeRun(rms, "rmsprop", true);
    RunReport.write(rms);
    assertThat(Files.readString(rms.resolve(RunReport.REPORT_FILE)))
        .doesNotContain("## Update size at slingshot onset");
  }
}
