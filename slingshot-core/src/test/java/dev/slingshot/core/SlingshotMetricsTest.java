package dev.slingshot.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SlingshotMetricsTest {

  record Probe(long step, Map<String, Double> values) implements Measurement {
    @Override
    public String type() {
      return "probe";
    }
  }

  @Test
  void gaugesAndCountersFollowTheMonitor() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    SlingshotMonitor monitor =
        SlingshotMetrics.monitor(
            registry,
            SlingshotMonitor.builder().rule(new SlingshotDetector()).build(),
            "run",
            "test");
    double[] curve = {0.5, 0.005, 0.3, 2.0, 0.005, Double.NaN, 0.2};
    for (int i = 0; i < curve.length; i++) {
      monitor.observe(StepRecord.builder(i + 1, curve[i]).norm("fc.weight", i).build());
    }
    monitor.onEvent(e -> {});

    assertThat(registry.get("slingshot.starts").tag("run", "test").counter().count()).isEqualTo(2);
    assertThat(registry.get("slingshot.ends").counter().count()).isEqualTo(1);
    assertThat(registry.get("slingshot.divergences").counter().count()).isEqualTo(1);
    assertThat(registry.get("slingshot.loss").gauge().value()).isEqualTo(0.2);
    assertThat(registry.get("slingshot.norm").tag("parameter", "fc.weight").gauge().value())
        .isEqualTo(6.0);
    assertThat(registry.getMeters())
        .extracting(m -> m.getId().getName())
        .allMatch(n -> n.startsWith("slingshot."));
  }

  @Test
  void measurementsBecomeGaugesAndOtherEventsAreCountedByType() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    SlingshotMonitor monitor =
        SlingshotMonitor.builder()
            .rule(
                r ->
                    r.step() == 2
                        ? java.util.List.of(new Probe(2, Map.of("lambda.max", 42.0)))
                        : java.util.List.of())
            .build();
    SlingshotMetrics.monitor(registry, monitor);
    monitor.observe(StepRecord.of(1, 0.1));
    monitor.observe(StepRecord.of(2, 0.1));
    assertThat(registry.get("slingshot.lambda.max").gauge().value()).isEqualTo(42.0);
    assertThat(registry.get("slingshot.events").tag("type", "probe").counter().count())
        .isEqualTo(1);
  }

  @Test
  void normTagsAreBounded() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    SlingshotMonitor monitor =
        SlingshotMetrics.monitor(registry, SlingshotMonitor.builder().build());
    StepRecord.Builder b = StepRecord.builder(1, 0.1);
    for (int i = 0; i < 100; i++) {
      b.norm("p" + i, i);
    }
    monitor.observe(b.build());
    assertThat(
            registry.getMeters().stream()
                .map(Meter::getId)
                .filter(id -> id.getName().equals("slingshot.norm")))
        .hasSize(SlingshotMetrics.MAX_PARAMETER_TAGS);
  }
}
