package dev.slingshot.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.slingshot.core.NormTracker.NormCycle;
import dev.slingshot.core.NormTracker.Phase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class ProbeScheduleTest {

  private static List<Long> dueSteps(ProbeSchedule schedule, long[] steps) {
    return dueSteps(schedule, steps, Map.of());
  }

  private static List<Long> dueSteps(
      ProbeSchedule schedule, long[] steps, Map<Long, List<SlingshotEvent>> events) {
    List<Long> due = new ArrayList<>();
    for (long s : steps) {
      if (schedule.isDue(s, events.getOrDefault(s, List.of()))) {
        due.add(s);
      }
    }
    return due;
  }

  private static long[] closed(long from, long to) {
    return LongStream.rangeClosed(from, to).toArray();
  }

  @Test
  void neverIsNeverDue() {
    ProbeSchedule never = ProbeSchedule.never();
    assertThat(dueSteps(never, closed(0, 1000))).isEmpty();
    assertThat(never.describe()).isEqualTo("never");
  }

  @Test
  void everyStepsIsDueAtMultiples() {
    assertThat(dueSteps(ProbeSchedule.everySteps(25), closed(0, 100)))
        .containsExactly(0L, 25L, 50L, 75L, 100L);
    assertThat(dueSteps(ProbeSchedule.everySteps(1), closed(5, 8))).containsExactly(5L, 6L, 7L, 8L);
    // Logged every 10 steps: only the logged multiples of 25 are due.
    assertThat(
            dueSteps(
                ProbeSchedule.everySteps(25),
                LongStream.rangeClosed(0, 10).map(i -> 10 * i).toArray()))
        .containsExactly(0L, 50L, 100L);
    assertThat(ProbeSchedule.everySteps(25).describe()).isEqualTo("every-25-steps");
  }

  @Test
  void logarithmicIsEvenInLogStep() {
    assertThat(dueSteps(ProbeSchedule.logarithmic(1), closed(0, 10_000)))
        .containsExactly(1L, 10L, 100L, 1000L, 10_000L);
    assertThat(dueSteps(ProbeSchedule.logarithmic(2), closed(1, 1000)))
        .containsExactly(1L, 4L, 10L, 32L, 100L, 317L, 1000L);
    assertThat(dueSteps(ProbeSchedule.logarithmic(3), closed(1, 100)))
        .containsExactly(1L, 3L, 5L, 10L, 22L, 47L, 100L);
    assertThat(ProbeSchedule.logarithmic(3).describe()).isEqualTo("logarithmic-3-per-decade");
  }

  @Test
  void logarithmicOnSparseStepsIsDueWhenTheDecadeBucketGrows() {
    assertThat(
            dueSteps(ProbeSchedule.logarithmic(1), new long[] {0, 5, 9, 15, 95, 150, 2000, 3000}))
        .containsExactly(5L, 15L, 150L, 2000L);
  }

  @Test
  void aboutPerDecadeProbesPerDecade() {
    List<Long> due = dueSteps(ProbeSchedule.logarithmic(10), closed(1, 1_000_000));
    // 10 per decade over 6 decades, plus step 1; small steps share buckets at most.
    assertThat(due).hasSizeBetween(55, 61);
    assertThat(due).contains(1L, 10L, 100L, 1000L, 10_000L, 100_000L, 1_000_000L);
  }

  /**
   * mayBeDue, asked before isDue at each step, is exact for the schedules that depend on the step
   * alone or on their own past answers, and never false where isDue then says true.
   */
  @Test
  void mayBeDueIsExactForStepSchedulesAndSafeForTheOthers() {
    ProbeSchedule dense = ProbeSchedule.denseNearTransitions(ProbeSchedule.everySteps(50), 5);
    Map<Long, List<SlingshotEvent>> events =
        Map.of(
            120L,
            List.of(new SlingshotDetector.IntervalStarted(120, 3.0, false)),
            300L,
            List.of(new SlingshotDetector.IntervalStarted(300, 2.0, false)));
    ProbeSchedule custom = (s, e) -> s % 7 == 3;
    // Each schedule with whether mayBeDue must be exact (false wherever isDue is false).
    Map<ProbeSchedule, Boolean> schedules =
        Map.of(
            ProbeSchedule.never(),
            true,
            ProbeSchedule.everySteps(16),
            true,
            ProbeSchedule.logarithmic(3),
            true,
            dense,
            false,
            custom,
            false);
    for (Map.Entry<ProbeSchedule, Boolean> entry : schedules.entrySet()) {
      ProbeSchedule schedule = entry.getKey();
      boolean exact = entry.getValue();
      for (long s = 0; s <= 1000; s++) {
        boolean may = schedule.mayBeDue(s);
        boolean due = schedule.isDue(s, events.getOrDefault(s, List.of()));
        if (due) {
          assertThat(may).as("%s at %d", schedule.describe(), s).isTrue();
        } else if (exact) {
          assertThat(may).as("%s at %d", schedule.describe(), s).isFalse();
        }
      }
    }
    assertThat(dense.mayBeDue(1001)).isTrue(); // any step may start a transition window
    assertThat(custom.mayBeDue(5)).isTrue(); // the safe default
  }

  @Test
  void statefulSchedulesRejectAStepThatGoesBack() {
    ProbeSchedule log = ProbeSchedule.logarithmic(2);
    log.isDue(10, List.of());
    assertThatThrownBy(() -> log.isDue(10, List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("step 10 came after step 10");
    ProbeSchedule dense = ProbeSchedule.denseNearTransitions(ProbeSchedule.never(), 5);
    dense.isDue(10, List.of());
    assertThatThrownBy(() -> dense.isDue(9, List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("step 9 came after step 10");
  }

  @Test
  void denseNearTransitionsProbesEveryStepForKStepsFromEachTransition() {
    NormCycle cycle = new NormCycle("w", 100, 1.0, 150, 2.0, Phase.PLATEAU);
    Map<Long, List<SlingshotEvent>> events =
        Map.of(
            203L,
            List.of(
                new NormTracker.PhaseChanged(203, "w", Phase.GROWTH, Phase.PLATEAU, 2.0, 0.0),
                new NormTracker.CycleCompleted(203, "w", cycle)),
            250L,
            List.of(new SlingshotDetector.IntervalStarted(250, 0.5, false)),
            252L,
            List.of(
                new SlingshotDetector.IntervalEnded(
                    252, new SlingshotInterval(250, OptionalLong.of(252), 250, 0.5, false))),
            330L,
            List.of(new SlingshotDetector.Divergence(330, Double.NaN)),
            360L,
            List.of(new NormTracker.CycleCompleted(360, "w", cycle)));
    ProbeSchedule s = ProbeSchedule.denseNearTransitions(ProbeSchedule.everySteps(100), 5);

    assertThat(dueSteps(s, closed(0, 400), events))
        .containsExactly(
            0L, 100L, 200L, 203L, 204L, 205L, 206L, 207L, 250L, 251L, 252L, 253L, 254L, 255L, 256L,
            300L, 400L);
    assertThat(s.describe()).isEqualTo("dense-5-steps-near-transitions(every-100-steps)");
  }

  @Test
  void denseNearTransitionsKeepsAskingTheBase() {
    Map<Long, List<SlingshotEvent>> events =
        Map.of(5L, List.of(new SlingshotDetector.IntervalStarted(5, 0.5, false)));
    ProbeSchedule s = ProbeSchedule.denseNearTransitions(ProbeSchedule.logarithmic(1), 3);
    assertThat(dueSteps(s, closed(1, 200), events)).containsExactly(1L, 5L, 6L, 7L, 10L, 100L);
  }

  @Test
  void denseNearTransitionsOnSparseSteps() {
    // Logged every 10 steps: the window covers steps e .. e+k-1, whichever of them are observed.
    Map<Long, List<SlingshotEvent>> events =
        Map.of(20L, List.of(new SlingshotDetector.IntervalStarted(20, 0.5, false)));
    ProbeSchedule s = ProbeSchedule.denseNearTransitions(ProbeSchedule.never(), 25);
    long[] steps = LongStream.rangeClosed(0, 10).map(i -> 10 * i).toArray();
    assertThat(dueSteps(s, steps, events)).containsExactly(20L, 30L, 40L);
  }

  @Test
  void denseNearTransitionsFollowsTheRulesOfARealMonitor() {
    SlingshotMonitor monitor = SlingshotMonitor.builder().rule(new SlingshotDetector()).build();
    ProbeSchedule s = ProbeSchedule.denseNearTransitions(ProbeSchedule.never(), 2);
    double[] losses = {0.5, 0.005, 0.003, 0.4, 0.2, 0.001, 0.002, 0.002};
    List<Long> due = new ArrayList<>();
    for (int i = 0; i < losses.length; i++) {
      SlingshotMonitor.Observation o = monitor.observe(StepRecord.of(i, losses[i]));
      if (s.isDue(i, o.events())) {
        due.add((long) i);
      }
    }
    // Interval starts at 3 (0.4 after 0.003), ends at 5 (0.001).
    assertThat(due).containsExactly(3L, 4L, 5L, 6L);
  }

  @Test
  void invalidArgumentsAreRefusedWithTheValue() {
    assertThatThrownBy(() -> ProbeSchedule.everySteps(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("probe period must be a positive number of steps, was 0");
    assertThatThrownBy(() -> ProbeSchedule.everySteps(-3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("was -3");
    assertThatThrownBy(() -> ProbeSchedule.logarithmic(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("probes per decade must be a positive number, was 0");
    assertThatThrownBy(() -> ProbeSchedule.denseNearTransitions(ProbeSchedule.never(), 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dense window must be a positive number of steps, was 0");
    assertThatThrownBy(() -> ProbeSchedule.denseNearTransitions(null, 5))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("base schedule");
  }

  @Test
  void aLambdaIsASchedule() {
    ProbeSchedule odd = (step, events) -> step % 2 == 1;
    assertThat(dueSteps(odd, closed(0, 5))).containsExactly(1L, 3L, 5L);
    assertThat(new ProbeSchedule.Named("odd", odd).describe()).isEqualTo("odd");
  }
}
