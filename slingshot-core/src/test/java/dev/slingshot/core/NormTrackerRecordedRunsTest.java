package dev.slingshot.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slingshot.core.NormTracker.NormCycle;
import dev.slingshot.core.NormTracker.Phase;
import dev.slingshot.core.NormTracker.PhaseChanged;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The default {@link NormTracker.Config} on the three recorded k-sparse parity runs (see {@code
 * scripts/fixtures/record_runs.py}): the growth phases end where the loss spikes of the {@link
 * SlingshotDetector} begin. Measured with the defaults (transition step − nearest interval start):
 *
 * <pre>
 * run                  fit   cycles after fit: transition step, end phase, distance to the nearest
 *                            interval start / to the start of its episode
 * parity_hinge_adamw   1300  4034 D +55/+160, 5002 D +105/+298, 7429 D +60/+166, 9916 D +58/+193,
 *                            11785 D +72/+233, 12940 D +46/+201, 14851 D +151/+255,
 *                            17490 D +83/+183, 19285 D +194/+236
 * parity_ce_adamw       500  22950 D +11/+62, 45484 D +2/+37
 * parity_adam_thilak    400  28220 P −20/−20
 * </pre>
 *
 * </pre>
 *
 * Each run also has one initial cycle, the growth from initialisation that began before the model
 * fitted its training set (transitions 2863, 4130, 4940), which ends in PLATEAU.
 */
class NormTrackerRecordedRunsTest {

  /** A transition lies within [−50, +250] steps of a detector interval start. */
  private static final long BEFORE_SPIKE = 50;

  private static final long AFTER_SPIKE = 250;

  /** A sustained slingshot episode is followed by a transition within 350 steps of its start. */
  private static final long AFTER_EPISODE = 350;

  static Stream<Arguments> runs() {
    return Stream.of(
        Arguments.of("parity_hinge_adamw", 9, Phase.DECAY, 20),
        Arguments.of("parity_ce_adamw", 2, Phase.DECAY, 8),
        Arguments.of("parity_adam_thilak", 1, Phase.PLATEAU, 4));
  }

  private record Replay(
      SlingshotDetector detector, NormTracker tracker, List<PhaseChanged> changes) {
    long fit() {
      return detector.fitStep().orElseThrow();
    }

    List<NormCycle> cyclesAfterFit() {
      return tracker.cycles().stream().filter(c -> c.growthStartStep() >= fit()).toList();
    }

    List<SlingshotEpisode> episodesAfterFit() {
      return detector.episodes().stream().filter(e -> e.startStep() >= fit()).toList();
    }
  }

  private static Replay replay(List<StepRecord> records) {
    SlingshotDetector detector = new SlingshotDetector();
    NormTracker tracker = new NormTracker();
    SlingshotMonitor monitor = SlingshotMonitor.builder().rule(detector).rule(tracker).build();
    List<PhaseChanged> changes = new ArrayList<>();
    monitor.onEvent(
        e -> {
          if (e instanceof PhaseChanged p) {
            changes.add(p);
          }
        });
    for (StepRecord r : records) {
      monitor.observe(r);
    }
    return new Replay(detector, tracker, changes);
  }

  private static long distanceToNearestStart(long step, List<SlingshotInterval> intervals) {
    long best = Long.MAX_VALUE;
    for (SlingshotInterval i : intervals) {
      long d = step - i.startStep();
      if (Math.abs(d) < Math.abs(best)) {
        best = d;
      }
    }
    return best;
  }

  @ParameterizedTest
  @MethodSource("runs")
  void growthGivesWayWhereTheLossSpikes(
      String run, int cyclesAfterFit, Phase endPhase, int phaseChanges) {
    Replay r = replay(RecordedRun.load(run));

    List<NormCycle> cycles = r.cyclesAfterFit();
    assertThat(cycles).hasSize(cyclesAfterFit);
    for (NormCycle c : cycles) {
      assertThat(distanceToNearestStart(c.transitionStep(), r.detector().intervals()))
          .as("%s: transition at %d vs the nearest slingshot start", run, c.transitionStep())
          .isBetween(-BEFORE_SPIKE, AFTER_SPIKE);
      assertThat(c.endPhase()).as("%s: end phase of %s", run, c).isEqualTo(endPhase);
      assertThat(c.growthFactor()).isGreaterThan(1.05);
    }
    assertThat(r.changes()).hasSize(phaseChanges);
  }

  @ParameterizedTest
  @MethodSource("runs")
  void everySustainedSlingshotEndsAGrowthPhase(String run) {
    Replay r = replay(RecordedRun.load(run));
    List<NormCycle> cycles = r.cyclesAfterFit();
    List<SlingshotInterval> intervals = r.detector().intervals();
    int matched = 0;
    for (SlingshotEpisode e : r.episodesAfterFit()) {
      boolean hit =
          cycles.stream()
              .anyMatch(
                  c ->
                      c.transitionStep() >= e.startStep() - BEFORE_SPIKE
                          && c.transitionStep() <= e.startStep() + AFTER_EPISODE);
      if (hit) {
        matched++;
      } else {
        // Unmatched episodes are loss blips of one or two steps with no norm jump.
        long steps =
            intervals.stream()
                .filter(
                    i ->
                        i.startStep() >= e.startStep()
                            && i.startStep() <= e.endStep().orElse(Long.MAX_VALUE))
                .mapToLong(i -> i.length().orElse(Long.MAX_VALUE))
                .sum();
        assertThat(steps).as("%s: unmatched episode %s", run, e).isLessThanOrEqualTo(2);
      }
    }
    assertThat(matched).isEqualTo(cycles.size());
  }

  @ParameterizedTest
  @MethodSource("runs")
  void theInitialFitIsOneCycleEndingInAPlateau(String run) {
    Replay r = replay(RecordedRun.load(run));
    List<NormCycle> initial =
        r.tracker().cycles().stream().filter(c -> c.growthStartStep() < r.fit()).toList();
    assertThat(initial).hasSize(1);
    assertThat(initial.get(0).endPhase()).isEqualTo(Phase.PLATEAU);
    assertThat(initial.get(0).transitionStep()).isBetween(2_000L, 6_000L);
  }

  @Test
  void theHingeRunCountsMatchTheEpisodesBesideThreeBlips() {
    Replay r = replay(RecordedRun.load("parity_hinge_adamw"));
    assertThat(r.episodesAfterFit()).hasSize(12);
    assertThat(r.cyclesAfterFit()).hasSize(9);
    assertThat(r.cyclesAfterFit())
        .extracting(NormCycle::transitionStep)
        .containsExactly(4034L, 5002L, 7429L, 9916L, 11785L, 12940L, 14851L, 17490L, 19285L);
  }

  @Test
  void loggingEveryTenthStepFindsTheSameCycles() {
    List<StepRecord> all = RecordedRun.load("parity_hinge_adamw");
    List<StepRecord> sparse = all.stream().filter(s -> s.step() % 10 == 0).toList();
    List<NormCycle> dense = replay(all).cyclesAfterFit();
    Replay thinned = replay(sparse);
    List<NormCycle> cycles =
        thinned.tracker().cycles().stream().filter(c -> c.growthStartStep() >= 1300).toList();
    assertThat(cycles).hasSameSizeAs(dense);
    for (int i = 0; i < cycles.size(); i++) {
      // Within the window; one flat-topped peak (14851) moves by 101 steps, its norm by 0.1%.
      assertThat(cycles.get(i).transitionStep())
          .isCloseTo(dense.get(i).transitionStep(), org.assertj.core.data.Offset.offset(200L));
      assertThat(cycles.get(i).transitionNorm())
          .isCloseTo(
              dense.get(i).transitionNorm(),
              org.assertj.core.data.Offset.offset(dense.get(i).transitionNorm() * 0.005));
      assertThat(cycles.get(i).endPhase()).isEqualTo(dense.get(i).endPhase());
    }
  }
}
