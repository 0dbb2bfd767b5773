package dev.slingshot.examples;

import dev.slingshot.core.ProbeSchedule;
import dev.slingshot.core.SlingshotMetrics;
import dev.slingshot.core.SlingshotMonitor;
import dev.slingshot.core.StateResetPolicy;
import dev.slingshot.core.StepRecord;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Throughput of the core monitor with every cheap rule on (the slingshot detector, the norm
 * tracker, a reset policy and the Micrometer binder), on a synthetic curve with slingshot-like
 * spikes. The bar: far above any training loop, over a million records per second.
 */
final class MonitorBench {

  private MonitorBench() {}

  static Map<String, Double> run(boolean quick) {
    int n = quick ? 200_000 : 2_000_000;
    StepRecord[] records = curve(n);
    int rounds = quick ? 3 : 7;
    double[] rates = new double[rounds];
    long sink = 0;
    for (int warm = 0; warm < 2; warm++) {
      sink += once(records);
    }
    for (int r = 0; r < rounds; r++) {
      long t0 = System.nanoTime();
      sink += once(records);
      rates[r] = n / ((System.nanoTime() - t0) / 1e9);
    }
    Arrays.sort(rates);
    if (sink == 42) {
      System.out.print("");
    }
    return Map.of("monitor_records_per_second", rates[rounds / 2]);
  }

  private static long once(StepRecord[] records) {
    SlingshotMonitor m = MonitorFactory.allCheapRules();
    SlingshotMetrics.monitor(new SimpleMeterRegistry(), m);
    long events = 0;
    for (StepRecord r : records) {
      events += m.observe(r).events().size();
    }
    return events;
  }

  /** A loss that fits, then spikes every 5,000 steps while the last-layer norm grows and stalls. */
  static StepRecord[] curve(int n) {
    SplittableRandom rnd = new SplittableRandom(7);
    StepRecord[] out = new StepRecord[n];
    double norm = 1.0;
    for (int i = 0; i < n; i++) {
      int phase = i % 5000;
      double loss = phase < 50 ? 0.5 * rnd.nextDouble() + 0.05 : 1e-4 * rnd.nextDouble();
      norm *= phase < 50 ? 1.0 : 1.0002;
      out[i] =
          StepRecord.builder(i + 1L, loss)
              .norm(StepRecord.LAST_LAYER, norm)
              .norm("hidden.weight", 3.0)
              .updateNorm(1e-3 * rnd.nextDouble())
              .build();
    }
    return out;
  }

  /** The detector, the norm tracker, an episode reset policy and a dense probe schedule. */
  static final class MonitorFactory {
    static SlingshotMonitor allCheapRules() {
      return SlingshotMonitor.builder()
          .defaultRules()
          .resetPolicy(StateResetPolicy.atEpisodeOnset(250, true))
          .probeSchedule(ProbeSchedule.denseNearTransitions(ProbeSchedule.everySteps(16), 32))
          .build();
    }
  }
}
