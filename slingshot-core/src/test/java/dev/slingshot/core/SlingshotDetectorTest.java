package dev.slingshot.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.slingshot.core.SlingshotDetector.Config;
import dev.slingshot.core.SlingshotDetector.Divergence;
import dev.slingshot.core.SlingshotDetector.IntervalEnded;
import dev.slingshot.core.SlingshotDetector.IntervalStarted;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The loss-threshold rule of the k-sparse parity study, curve in, intervals out: every case is a
 * short curve whose intervals are known by reading it, with the defaults {@code low} = 0.01 and
 * {@code high} = 0.1 unless said otherwise. Steps are the array indices unless said otherwise.
 */
class SlingshotDetectorTest {

  static final double NAN = Double.NaN;
  static final double INF = Double.POSITIVE_INFINITY;

  /** Feeds {@code losses} at steps 0, 1, 2, ... and returns the detector. */
  static SlingshotDetector run(double... losses) {
    return run(Config.ofDefaults(), losses);
  }

  static SlingshotDetector run(Config config, double... losses) {
    SlingshotDetector d = new SlingshotDetector(config);
    for (int i = 0; i < losses.length; i++) {
      d.observe(i, losses[i]);
    }
    return d;
  }

  static SlingshotInterval closed(long start, long end, long peakStep, double peak) {
    return new SlingshotInterval(start, OptionalLong.of(end), peakStep, peak, false);
  }

  static SlingshotInterval open(long start, long peakStep, double peak) {
    return new SlingshotInterval(start, OptionalLong.empty(), peakStep, peak, false);
  }

  @Nested
  class NoInterval {
    @Test
    void aCurveThatNeverGoesBelowLowNeverArms() {
      SlingshotDetector d = run(0.7, 0.5, 0.2, 0.05, 0.011, 0.9, 3.0, 0.02);
      assertThat(d.intervals()).isEmpty();
      assertThat(d.episodes()).isEmpty();
      assertThat(d.divergences()).isEmpty();
      assertThat(d.state()).isEqualTo(SlingshotDetector.State.UNARMED);
    }

    @Test
    void aCurveThatGoesBelowLowAndStaysBelowHighOnlyArms() {
      SlingshotDetector d = run(0.7, 0.005, 0.05, 0.1, 0.0);
      assertThat(d.intervals()).isEmpty();
      assertThat(d.state()).isEqualTo(SlingshotDetector.State.ARMED);
    }

    @Test
    void anEmptyCurveHasNothing() {
      SlingshotDetector d = new SlingshotDetector();
      assertThat(d.intervals()).isEmpty();
      assertThat(d.episodes()).isEmpty();
      assertThat(d.fitStep()).isEmpty();
    }
  }

  @Nested
  class Thresholds {
    @Test
    void aLossExactlyAtLowDoesNotArm() {
      SlingshotDetector d = run(0.5, 0.01, 0.01, 0.5, 0.9);
      assertThat(d.intervals()).isEmpty();
      assertThat(d.state()).isEqualTo(SlingshotDetector.State.UNARMED);
    }

    @Test
    void aLossExactlyAtHighDoesNotStart() {
      SlingshotDetector d = run(0.5, 0.009, 0.1, 0.1, 0.05);
      assertThat(d.intervals()).isEmpty();
      assertThat(d.state()).isEqualTo(SlingshotDetector.State.ARMED);
      d.observe(5, Math.nextUp(0.1));
      assertThat(d.intervals()).containsExactly(open(5, 5, Math.nextUp(0.1)));
    }

    @Test
    void aLossExactlyAtLowDoesNotEndAnInterval() {
      SlingshotDetector d = run(0.005, 0.5, 0.01, 0.01, Math.nextDown(0.01));
      assertThat(d.intervals()).containsExactly(closed(1, 4, 1, 0.5));
    }

    @Test
    void customThresholdsAreStrictToo() {
      Config c = new Config(0.25, 0.5, 0);
      SlingshotDetector d = run(c, 1.0, 0.25, 0.2, 0.5, 0.75, 0.3, 0.25, 0.1);
      assertThat(d.intervals()).containsExactly(closed(4, 7, 4, 0.75));
    }
  }

  @Nested
  class Intervals {
    @Test
    void oneIntervalWithItsEventsAtTheirSteps() {
      SlingshotDetector d = new SlingshotDetector();
      double[] losses = {0.5, 0.005, 0.2, 0.8, 0.3, 0.05, 0.005, 0.003};
      List<List<SlingshotEvent>> events = new ArrayList<>();
      for (int i = 0; i < losses.length; i++) {
        events.add(d.observe(i, losses[i]));
      }
      SlingshotInterval expected = closed(2, 6, 3, 0.8);
      assertThat(events)
          .containsExactly(
              List.of(),
              List.of(),
              List.of(new IntervalStarted(2, 0.2, false)),
              List.of(),
              List.of(),
              List.of(),
              List.of(new IntervalEnded(6, expected)),
              List.of());
      assertThat(d.intervals()).containsExactly(expected);
      assertThat(d.intervals().get(0).length()).hasValue(4);
      assertThat(d.state()).isEqualTo(SlingshotDetector.State.ARMED);
    }

    @Test
    void theEndStepReArmsSoTheNextStepCanStartAgain() {
      SlingshotDetector d = run(0.005, 0.2, 0.001, 0.3, 0.002);
      assertThat(d.intervals()).containsExactly(closed(1, 2, 1, 0.2), closed(3, 4, 3, 0.3));
    }

    @Test
    void theStartIsTheFirstStepAboveHighAndLaterHighValuesDoNotRestart() {
      SlingshotDetector d = run(0.005, 0.05, 0.11, 0.5, 0.09, 0.6, 0.001);
      assertThat(d.intervals()).containsExactly(closed(2, 6, 5, 0.6));
    }

    @Test
    void thePeakStepIsTheFirstThatReachesThePeak() {
      SlingshotDetector d = run(0.005, 0.5, 0.8, 0.8, 0.2, 0.8, 0.001);
      assertThat(d.intervals()).containsExactly(closed(1, 6, 2, 0.8));
    }

    @Test
    void anIntervalStillOpenAtTheEndHasNoEndStep() {
      SlingshotDetector d = run(0.005, 0.2, 0.7, 0.05, 0.02);
      assertThat(d.intervals()).containsExactly(open(1, 2, 0.7));
      assertThat(d.intervals().get(0).isOpen()).isTrue();
      assertThat(d.intervals().get(0).length()).isEmpty();
      assertThat(d.state()).isEqualTo(SlingshotDetector.State.IN_INTERVAL);
      assertThat(d.episodes())
          .containsExactly(new SlingshotEpisode(1, OptionalLong.empty(), 2, 0.7, 1, false));
    }

    @Test
    void sparseStepsReportTheLoggedSteps() {
      SlingshotDetector d = new SlingshotDetector();
      double[] losses = {0.6, 0.3, 0.008, 0.004, 0.4, 1.2, 0.09, 0.02, 0.009, 0.5};
      for (int i = 0; i < losses.length; i++) {
        d.observe(10L * i, losses[i]);
      }
      assertThat(d.intervals()).containsExactly(closed(40, 80, 50, 1.2), open(90, 90, 0.5));
    }

    @Test
    void largeAndNegativeStepsWork() {
      SlingshotDetector d = new SlingshotDetector();
      d.observe(-5, 0.001);
      d.observe(0, 0.2);
      d.observe(Long.MAX_VALUE - 1, 0.001);
      assertThat(d.intervals()).containsExactly(closed(0, Long.MAX_VALUE - 1, 0, 0.2));
    }
  }

  @Nested
  class NonFiniteLosses {
    @Test
    void nanInsideAnIntervalIsADivergenceAndChangesNothingElse() {
      SlingshotDetector with = run(0.005, 0.2, 0.9, NAN, 0.5, 0.005);
      SlingshotDetector without = new SlingshotDetector();
      without.observe(0, 0.005);
      without.observe(1, 0.2);
      without.observe(2, 0.9);
      without.observe(4, 0.5);
      without.observe(5, 0.005);
      assertThat(with.intervals()).containsExactly(closed(1, 5, 2, 0.9));
      assertThat(with.intervals()).isEqualTo(without.intervals());
      assertThat(with.divergences()).containsExactly(new Divergence(3, NAN));
    }

    @Test
    void nanOutsideAnIntervalNeitherArmsNorStarts() {
      SlingshotDetector d = new SlingshotDetector();
      assertThat(d.observe(0, NAN)).containsExactly(new Divergence(0, NAN));
      assertThat(d.state()).isEqualTo(SlingshotDetector.State.UNARMED);
      d.observe(1, 0.005);
      assertThat(d.observe(2, NAN)).containsExactly(new Divergence(2, NAN));
      assertThat(d.state()).isEqualTo(SlingshotDetector.State.ARMED);
      d.observe(3, 0.3);
      d.observe(4, 0.001);
      assertThat(d.intervals()).containsExactly(closed(3, 4, 3, 0.3));
      assertThat(d.divergences()).containsExactly(new Divergence(0, NAN), new Divergence(2, NAN));
    }

    @Test
    void nanNeverEndsAnInterval() {
      SlingshotDetector d = run(0.005, 0.2, NAN, NAN);
      assertThat(d.intervals()).containsExactly(open(1, 1, 0.2));
    }

    @Test
    void plusInfinityStartsAnIntervalWhenArmedIsItsPeakAndIsAlsoADivergence() {
      SlingshotDetector d = new SlingshotDetector();
      d.observe(0, 0.005);
      assertThat(d.observe(1, INF))
          .containsExactly(new Divergence(1, INF), new IntervalStarted(1, INF, false));
      d.observe(2, 0.5);
      d.observe(3, 0.001);
      assertThat(d.intervals()).containsExactly(closed(1, 3, 1, INF));
      assertThat(d.divergences()).containsExactly(new Divergence(1, INF));
    }

    @Test
    void plusInfinityInsideAnIntervalBecomesThePeak() {
      SlingshotDetector d = run(0.005, 0.2, 0.5, INF, INF, 0.3, 0.001);
      assertThat(d.intervals()).containsExactly(closed(1, 6, 3, INF));
      assertThat(d.divergences()).containsExactly(new Divergence(3, INF), new Divergence(4, INF));
    }

    @Test
    void plusInfinityWhenNotArmedIsOnlyADivergence() {
      SlingshotDetector d = new SlingshotDetector();
      assertThat(d.observe(0, INF)).containsExactly(new Divergence(0, INF));
      assertThat(d.intervals()).isEmpty();
      assertThat(d.state()).isEqualTo(SlingshotDetector.State.UNARMED);
    }

    @Test
    void minusInfinityIsSkippedLikeNanEvenThoughItIsBelowLow() {
      SlingshotDetector d = run(0.5, -INF, 0.3, 0.005, 0.2, -INF, 0.6);
      assertThat(d.intervals()).containsExactly(open(4, 6, 0.6));
      assertThat(d.divergences()).containsExactly(new Divergence(1, -INF), new Divergence(5, -INF));
    }
  }

  @Nested
  class Steps {
    @ParameterizedTest
    @CsvSource({"20, 15", "20, 20", "20, -3"})
    void aStepThatGoesBackOrRepeatsIsAnErrorNamingBothSteps(long first, long second) {
      SlingshotDetector d = new SlingshotDetector();
      d.observe(first, 0.005);
      assertThatThrownBy(() -> d.observe(second, 0.5))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("step " + second)
          .hasMessageContaining("step " + first);
      // the rejected record changed nothing
      assertThat(d.state()).isEqualTo(SlingshotDetector.State.ARMED);
      d.observe(first + 1, 0.5);
      assertThat(d.intervals()).containsExactly(open(first + 1, first + 1, 0.5));
    }
  }

  @Nested
  class Configuration {
    @ParameterizedTest
    @CsvSource({
      "NaN, 0.1",
      "0.01, NaN",
      "Infinity, 0.1",
      "0.01, Infinity",
      "-Infinity, 0.1",
      "0.0, 0.1",
      "-0.01, 0.1",
      "0.1, 0.1",
      "0.5, 0.1"
    })
    void invalidThresholdsAreRefusedWithTheirValues(double low, double high) {
      assertThatThrownBy(() -> new Config(low, high, 200))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("low=" + low)
          .hasMessageContaining("high=" + high);
    }

    @Test
    void aNegativeMergeGapIsRefused() {
      assertThatThrownBy(() -> new Config(0.01, 0.1, -1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("-1");
      assertThatThrownBy(() -> SlingshotDetector.episodes(List.of(), -7))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("-7");
    }

    @Test
    void defaultsAreTheStudysThresholds() {
      Config c = Config.ofDefaults();
      assertThat(c.low()).isEqualTo(0.01);
      assertThat(c.high()).isEqualTo(0.1);
      assertThat(c.mergeGap()).isEqualTo(Config.DEFAULT_MERGE_GAP);
      assertThat(c.withMergeGap(0)).isEqualTo(new Config(0.01, 0.1, 0));
      assertThat(new SlingshotDetector().config()).isEqualTo(c);
    }
  }

  @Nested
  class Episodes {
    // Four intervals: [10, 20) peak 0.5, [25, 30) peak 0.9, [60, 70) peak 0.3, [170, open) 0.2.
    final List<SlingshotInterval> intervals =
        List.of(
            closed(10, 20, 12, 0.5),
            closed(25, 30, 26, 0.9),
            closed(60, 70, 61, 0.3),
            open(170, 171, 0.2));

    @Test
    void intervalsCloserThanTheGapMerge() {
      assertThat(SlingshotDetector.episodes(intervals, 31))
          .containsExactly(
              new SlingshotEpisode(10, OptionalLong.of(70), 26, 0.9, 3, false),
              new SlingshotEpisode(170, OptionalLong.empty(), 171, 0.2, 1, false));
    }

    @Test
    void aGapEqualToTheMergeGapDoesNotMerge() {
      // gaps: 25 - 20 = 5, 60 - 30 = 30, 170 - 70 = 100
      assertThat(SlingshotDetector.episodes(intervals, 30))
          .containsExactly(
              new SlingshotEpisode(10, OptionalLong.of(30), 26, 0.9, 2, false),
              new SlingshotEpisode(60, OptionalLong.of(70), 61, 0.3, 1, false),
              new SlingshotEpisode(170, OptionalLong.empty(), 171, 0.2, 1, false));
      assertThat(SlingshotDetector.episodes(intervals, 101))
          .containsExactly(new SlingshotEpisode(10, OptionalLong.empty(), 26, 0.9, 4, false));
    }

    @Test
    void gapZeroKeepsEveryIntervalAlone() {
      SlingshotDetector d = run(Config.ofDefaults().withMergeGap(0), 0.005, 0.2, 0.001, 0.3, 0.0);
      assertThat(d.episodes())
          .containsExactly(
              new SlingshotEpisode(1, OptionalLong.of(2), 1, 0.2, 1, false),
              new SlingshotEpisode(3, OptionalLong.of(4), 3, 0.3, 1, false));
      assertThat(SlingshotDetector.episodes(intervals, 0)).hasSize(4);
      // a start one step after the previous end is a gap of 1 step: merged by a gap of 2, not 1
      assertThat(run(Config.ofDefaults().withMergeGap(1), 0.005, 0.2, 0.001, 0.3, 0.0).episodes())
          .hasSize(2);
      assertThat(run(Config.ofDefaults().withMergeGap(2), 0.005, 0.2, 0.001, 0.3, 0.0).episodes())
          .containsExactly(new SlingshotEpisode(1, OptionalLong.of(4), 3, 0.3, 2, false));
    }

    @Test
    void anEqualLaterPeakKeepsTheFirstPeakStep() {
      List<SlingshotInterval> two = List.of(closed(0, 5, 1, 0.4), closed(6, 9, 7, 0.4));
      assertThat(SlingshotDetector.episodes(two, 10))
          .containsExactly(new SlingshotEpisode(0, OptionalLong.of(9), 1, 0.4, 2, false));
    }

    @Test
    void theDetectorMergesWithItsConfiguredGap() {
      // a spike that re-crosses: [2, 4), [5, 7) (gap 1), then a separate one at [300, 302)
      SlingshotDetector d = new SlingshotDetector();
      double[] losses = {0.5, 0.005, 0.8, 0.2, 0.003, 0.4, 0.05, 0.002};
      for (int i = 0; i < losses.length; i++) {
        d.observe(i, losses[i]);
      }
      d.observe(300, 0.7);
      d.observe(301, 0.1);
      d.observe(302, 0.004);
      assertThat(d.intervals())
          .containsExactly(closed(2, 4, 2, 0.8), closed(5, 7, 5, 0.4), closed(300, 302, 300, 0.7));
      assertThat(d.episodes())
          .containsExactly(
              new SlingshotEpisode(2, OptionalLong.of(7), 2, 0.8, 2, false),
              new SlingshotEpisode(300, OptionalLong.of(302), 300, 0.7, 1, false));
    }
  }

  @Nested
  class BeforeFit {
    static StepRecord rec(long step, double loss, double fullTrainLoss) {
      return StepRecord.builder(step, loss).fullTrainLoss(fullTrainLoss).build();
    }

    @Test
    void intervalsThatBeginBeforeTheFullTrainLossFirstGoesBelowLowAreMarked() {
      SlingshotDetector d = new SlingshotDetector();
      assertThat(d.observe(rec(0, 0.6, 0.6))).isEmpty();
      d.observe(1, 0.005); // a lucky minibatch arms the rule while the model still misfits
      assertThat(d.observe(2, 0.3)).containsExactly(new IntervalStarted(2, 0.3, true));
      d.observe(3, 0.004);
      d.observe(rec(4, 0.003, 0.01)); // exactly at low: not fitted yet
      d.observe(rec(5, 0.002, 0.008)); // fitted here
      assertThat(d.observe(6, 0.4)).containsExactly(new IntervalStarted(6, 0.4, false));
      d.observe(7, 0.001);
      assertThat(d.fitStep()).hasValue(5);
      assertThat(d.intervals())
          .containsExactly(
              new SlingshotInterval(2, OptionalLong.of(3), 2, 0.3, true),
              new SlingshotInterval(6, OptionalLong.of(7), 6, 0.4, false));
      // as episodes: apart, each keeps its flag; merged, the episode has its first interval's
      assertThat(SlingshotDetector.episodes(d.intervals(), 0))
          .extracting(SlingshotEpisode::beforeFit)
          .containsExactly(true, false);
      assertThat(d.episodes())
          .containsExactly(new SlingshotEpisode(2, OptionalLong.of(7), 6, 0.4, 2, true));
    }

    @Test
    void theEndedEventCarriesTheFlagKnownAtItsStep() {
      SlingshotDetector d = new SlingshotDetector();
      d.observe(rec(0, 0.005, 0.5));
      d.observe(1, 0.2);
      assertThat(d.observe(2, 0.001))
          .containsExactly(
              new IntervalEnded(2, new SlingshotInterval(1, OptionalLong.of(2), 1, 0.2, true)));
    }

    @Test
    void anIntervalThatBeginsBeforeTheFitStepAndEndsAfterItStaysMarked() {
      SlingshotDetector d = new SlingshotDetector();
      d.observe(rec(0, 0.005, 0.5));
      d.observe(1, 0.2);
      d.observe(rec(2, 0.05, 0.001));
      d.observe(3, 0.001);
      assertThat(d.intervals())
          .containsExactly(new SlingshotInterval(1, OptionalLong.of(3), 1, 0.2, true));
    }

    @Test
    void withoutFullTrainLossesNothingIsMarked() {
      SlingshotDetector d = run(0.005, 0.2, 0.001);
      assertThat(d.intervals()).containsExactly(closed(1, 2, 1, 0.2));
      assertThat(d.fitStep()).isEmpty();
    }

    @Test
    void withFullTrainLossesThatNeverFitEverythingIsMarked() {
      SlingshotDetector d = new SlingshotDetector();
      d.observe(rec(0, 0.005, 0.4));
      d.observe(1, 0.2);
      d.observe(rec(2, 0.001, 0.3));
      d.observe(3, 0.6);
      assertThat(d.intervals())
          .containsExactly(
              new SlingshotInterval(1, OptionalLong.of(2), 1, 0.2, true),
              new SlingshotInterval(3, OptionalLong.empty(), 3, 0.6, true));
      assertThat(d.fitStep()).isEmpty();
    }

    @Test
    void theFitStepCountsEvenWhenTheMinibatchLossDiverged() {
      SlingshotDetector d = new SlingshotDetector();
      d.observe(rec(0, NAN, 0.001));
      assertThat(d.fitStep()).hasValue(0);
    }
  }

  @Nested
  class ResetPolicy {
    @Test
    void atSlingshotOnsetFiresOnTheStartStepOnly() {
      SlingshotMonitor monitor =
          SlingshotMonitor.builder()
              .rule(new SlingshotDetector())
              .resetPolicy(StateResetPolicy.atSlingshotOnset())
              .build();
      double[] losses = {0.5, INF, 0.005, 0.2, 0.9, NAN, 0.002, 0.001, INF, 0.3, 0.004};
      List<Long> resets = new ArrayList<>();
      for (int i = 0; i < losses.length; i++) {
        if (monitor.observe(StepRecord.of(i, losses[i])).resetDue()) {
          resets.add((long) i);
        }
      }
      assertThat(resets).containsExactly(3L, 8L);
      assertThat(monitor.resetPolicy().describe()).isEqualTo("at-slingshot-onset");
    }
  }
}
