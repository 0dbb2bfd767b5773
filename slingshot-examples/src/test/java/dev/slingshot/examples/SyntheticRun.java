package dev.slingshot.examples;

import dev.slingshot.core.RunLog;
import dev.slingshot.core.SlingshotDetector;
import dev.slingshot.core.SlingshotMonitor;
import dev.slingshot.core.StepRecord;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A hand-made run directory shaped like the paper's Figure 1: the loss falls to exact zeros by step
 * 2000, one late slingshot (three rule intervals at 6000-6009) lifts the norm and the test
 * accuracy, then zeros again.
 */
final class SyntheticRun {

  static final int STEPS = 10_000;

  private SyntheticRun() {}

  static void write(Path dir, boolean finished) throws Exception {
    SlingshotMonitor monitor = SlingshotMonitor.builder().rule(new SlingshotDetector()).build();
    try (RunLog log = RunLog.attach(monitor, dir)) {
      for (int step = 1; step <= STEPS; step++) {
        double loss;
        if (step < 2000) {
          loss = 0.7 * Math.exp(-step / 200.0);
        } else if (step == 6000 || step == 6004 || step == 6008) {
          loss = 3.0;
        } else if (step > 6000 && step < 6010) {
          loss = step % 4 == 1 ? 1e-3 : 0.5;
        } else {
          loss = 0.0;
        }
        double norm = step < 6000 ? 2.0 + step * 1e-5 : 4.0 + step * 1e-5;
        StepRecord.Builder r =
            StepRecord.builder(step, loss)
                .norm(ParityTraining.LAST_LAYER, norm)
                .updateNorm(loss > 0.1 ? 1.0 : 1e-3);
        if (step % 100 == 0) {
          double acc = step < 6000 ? 0.55 : 0.95;
          r.fullTrainLoss(Math.max(loss, 1e-9))
              .trainAccuracy(1.0)
              .testLoss(1 - acc)
              .testAccuracy(acc);
        }
        monitor.observe(r.build());
      }
    }
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("experiment", "synthetic-test");
    config.put("settings", Experiment.PARITY.defaults().values());
    if (finished) {
      config.put(
          "result", Map.of("steps_completed", STEPS, "wall_seconds", 1.0, "ms_per_step", 0.1));
    }
    RunFiles.writeJson(dir.resolve(ParityTraining.CONFIG_FILE), config);
  }
}
