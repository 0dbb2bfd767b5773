package dev.slingshot.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SlingshotMonitorTest {

  private static final double[] CURVE = {0.5, 0.005, 0.3, 2.0, 0.005, 0.2, 0.001};

  @Test
  void publishesTheDetectorsEventsInOrder() {
    List<String> seen = new ArrayList<>();
    SlingshotMonitor m = SlingshotMonitor.builder().rule(new SlingshotDetector()).build();
    m.onEvent(e -> seen.add(e.type() + "@" + e.step()));
    for (int i = 0; i < CURVE.length; i++) {
      m.observe(StepRecord.of(i + 1, CURVE[i]));
    }
    assertThat(seen)
        .containsExactly(
            "slingshot_start@3", "slingshot_end@5", "slingshot_start@6", "slingshot_end@7");
  }

  @Test
  void theResetPolicySeesTheEventsOfTheSameRecord() {
    SlingshotMonitor m =
        SlingshotMonitor.builder()
            .rule(new SlingshotDetector())
            .resetPolicy(StateResetPolicy.atSlingshotOnset())
            .build();
    List<Long> resets = new ArrayList<>();
    for (int i = 0; i < CURVE.length; i++) {
      if (m.observe(StepRecord.of(i + 1, CURVE[i])).resetDue()) {
        resets.add(i + 1L);
      }
    }
    assertThat(resets).containsExactly(3L, 6L);
  }

  @Test
  void aThrowingSubscriberIsCountedAndTheOthersStillRun() {
    List<SlingshotEvent> seen = new ArrayList<>();
    SlingshotMonitor m = SlingshotMonitor.builder().rule(new SlingshotDetector()).build();
    m.onEvent(
        e -> {
          throw new IllegalStateException("boom");
        });
    m.onEvent(seen::add);
    for (int i = 0; i < CURVE.length; i++) {
      m.observe(StepRecord.of(i + 1, CURVE[i]));
    }
    assertThat(seen).hasSize(4);
    assertThat(m.subscriberFailures()).isEqualTo(4);
  }

  @Test
  void aStepThatGoesBackIsRejectedBeforeAnyRuleSeesIt() {
    SlingshotDetector d = new SlingshotDetector();
    SlingshotMonitor m = SlingshotMonitor.builder().rule(d).build();
    m.observe(StepRecord.of(10, 0.001));
    assertThatThrownBy(() -> m.observe(StepRecord.of(9, 0.5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("9")
        .hasMessageContaining("10");
    assertThat(d.state()).isEqualTo(SlingshotDetector.State.ARMED);
    assertThat(m.lastRecord().step()).isEqualTo(10);
  }

  @Test
  void theProbeScheduleIsAskedWithTheEventsOfTheStep() {
    SlingshotMonitor m =
        SlingshotMonitor.builder()
            .rule(new SlingshotDetector())
            .probeSchedule(ProbeSchedule.denseNearTransitions(ProbeSchedule.never(), 2))
            .build();
    List<Long> probes = new ArrayList<>();
    for (int i = 0; i < CURVE.length; i++) {
      if (m.observe(StepRecord.of(i + 1, CURVE[i])).probeDue()) {
        probes.add(i + 1L);
      }
    }
    // Transitions at 3 (start), 5 (end), 6 (start), 7 (end): each opens a 2-step window.
    assertThat(probes).containsExactly(3L, 4L, 5L, 6L, 7L);
  }

  @Test
  void episodeOnsetResetsOncePerEpisodeAfterFitOnARecordedRun() {
    List<StepRecord> run = RecordedRun.load("parity_hinge_adamw");
    SlingshotDetector detector = new SlingshotDetector(SlingshotDetector.Config.ofDefaults());
    SlingshotMonitor m =
        SlingshotMonitor.builder()
            .rule(detector)
            .resetPolicy(StateResetPolicy.atEpisodeOnset(detector.config().mergeGap(), true))
            .build();
    List<Long> resets = new ArrayList<>();
    for (StepRecord r : run) {
      if (m.observe(r).resetDue()) {
        resets.add(r.step());
      }
    }
    long fit = detector.fitStep().orElseThrow();
    List<Long> episodeStarts =
        detector.episodes().stream()
            .filter(e -> e.startStep() >= fit)
            .map(SlingshotEpisode::startStep)
            .toList();
    assertThat(resets).isNotEmpty().isEqualTo(episodeStarts);
    assertThat(resets.size()).isLessThan(detector.intervals().size());
  }
}
