package dev.slingshot.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.slingshot.core.NormTracker.Config;
import dev.slingshot.core.NormTracker.CycleCompleted;
import dev.slingshot.core.NormTracker.NormCycle;
import dev.slingshot.core.NormTracker.Phase;
import dev.slingshot.core.NormTracker.PhaseChanged;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.LongToDoubleFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Piecewise norm curves with known phase boundaries in, phases and cycles out: the Slingshot Effect
 * of Thilak et al. §2 (growth, then plateau) and its weight-decay variant from the k-sparse parity
 * study (growth, then decay).
 */
class NormTrackerTest {

  private static final String W = "last_layer";

  /**
   * ln‖W‖ of a curve with known knees: flat to 1000, growth at 5·10⁻⁴/step to 2000, flat to 4000,
   * growth at 10⁻³/step to 4500, decay at −10⁻⁴/step (weight decay) to 6000, growth at 10⁻³/step to
   * 6300, flat to the end (8000).
   */
  private static double lnNorm(long s) {
    return 5e-4 * clamp(s - 1000, 1000)
        + 1e-3 * clamp(s - 4000, 500)
        - 1e-4 * clamp(s - 4500, 1500)
        + 1e-3 * clamp(s - 6000, 300);
  }

  private static double clamp(long x, long max) {
    return Math.max(0, Math.min(x, max));
  }

  private static final List<NormCycle> KNOWN =
      List.of(
          new NormCycle(W, 1000, 1.0, 2000, Math.exp(lnNorm(2000)), Phase.PLATEAU),
          new NormCycle(W, 4000, Math.exp(lnNorm(4000)), 4500, Math.exp(lnNorm(4500)), Phase.DECAY),
          new NormCycle(
              W, 6000, Math.exp(lnNorm(6000)), 6300, Math.exp(lnNorm(6300)), Phase.PLATEAU));

  private record Run(NormTracker tracker, List<SlingshotEvent> events) {
    List<PhaseChanged> changes() {
      return events.stream()
          .filter(PhaseChanged.class::isInstance)
          .map(PhaseChanged.class::cast)
          .toList();
    }

    List<String> transitions() {
      return changes().stream().map(c -> c.from() + "->" + c.to()).toList();
    }
  }

  private static Run run(NormTracker tracker, long[] steps, LongToDoubleFunction norm) {
    List<SlingshotEvent> events = new ArrayList<>();
    for (long s : steps) {
      events.addAll(
          tracker.observe(StepRecord.builder(s, 0.0).norm(W, norm.applyAsDouble(s)).build()));
    }
    return new Run(tracker, events);
  }

  private static long[] range(long from, long to, long every) {
    int n = (int) ((to - from) / every + 1);
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      out[i] = from + i * every;
    }
    return out;
  }

  private static final List<String> KNOWN_TRANSITIONS =
      List.of(
          "PLATEAU->GROWTH",
          "GROWTH->PLATEAU",
          "PLATEAU->GROWTH",
          "GROWTH->DECAY",
          "DECAY->GROWTH",
          "GROWTH->PLATEAU");

  @Test
  void aNoiseFreeCurveGivesTheKneesExactly() {
    Run r = run(new NormTracker(), range(0, 8000, 1), s -> Math.exp(lnNorm(s)));

    assertThat(r.transitions()).isEqualTo(KNOWN_TRANSITIONS);
    assertThat(r.tracker().cycles()).isEqualTo(KNOWN);
    assertThat(r.tracker().cycles(W)).isEqualTo(KNOWN);
    assertThat(r.tracker().phase(W)).contains(Phase.PLATEAU);
    // Events come when a change is confirmed: after the knee, within a window plus the dwell.
    long[] knees = {1000, 2000, 4000, 4500, 6000, 6300};
    List<PhaseChanged> changes = r.changes();
    for (int i = 0; i < knees.length; i++) {
      assertThat(changes.get(i).step())
          .isBetween(
              knees[i] + Config.DEFAULT_MIN_DWELL,
              knees[i] + Config.DEFAULT_WINDOW + Config.DEFAULT_MIN_DWELL);
    }
  }

  @Test
  void eachCycleIsReportedOnceWithThePhaseChangeThatEndsIt() {
    Run r = run(new NormTracker(), range(0, 8000, 1), s -> Math.exp(lnNorm(s)));
    List<CycleCompleted> done =
        r.events().stream()
            .filter(CycleCompleted.class::isInstance)
            .map(CycleCompleted.class::cast)
            .toList();
    assertThat(done).extracting(CycleCompleted::cycle).isEqualTo(KNOWN);
    for (CycleCompleted c : done) {
      int i = r.events().indexOf(c);
      assertThat(r.events().get(i - 1))
          .isInstanceOfSatisfying(
              PhaseChanged.class,
              p -> {
                assertThat(p.step()).isEqualTo(c.step());
                assertThat(p.from()).isEqualTo(Phase.GROWTH);
                assertThat(p.to()).isEqualTo(c.cycle().endPhase());
                assertThat(p.type()).isEqualTo("norm_phase_change");
              });
      assertThat(c.type()).isEqualTo("norm_cycle");
      assertThat(c.parameter()).isEqualTo(W);
    }
    NormCycle first = KNOWN.get(0);
    assertThat(first.growthSteps()).isEqualTo(1000);
    assertThat(first.growthFactor()).isCloseTo(Math.exp(0.5), within(1e-12));
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3})
  void noiseMovesTheKneesByLessThanAWindow(long seed) {
    Random rnd = new Random(seed);
    double sigma = 2e-3; // 0.2% multiplicative noise per record
    Run r =
        run(
            new NormTracker(),
            range(0, 8000, 1),
            s -> Math.exp(lnNorm(s) + sigma * rnd.nextGaussian()));

    assertThat(r.transitions()).isEqualTo(KNOWN_TRANSITIONS);
    List<NormCycle> cycles = r.tracker().cycles();
    assertThat(cycles).hasSize(KNOWN.size());
    for (int i = 0; i < cycles.size(); i++) {
      NormCycle got = cycles.get(i);
      NormCycle want = KNOWN.get(i);
      assertThat(got.growthStartStep())
          .isCloseTo(want.growthStartStep(), within(Config.DEFAULT_WINDOW));
      assertThat(got.transitionStep())
          .isCloseTo(want.transitionStep(), within(Config.DEFAULT_WINDOW));
      assertThat(got.transitionNorm())
          .isCloseTo(want.transitionNorm(), within(want.transitionNorm() * 0.01));
      assertThat(got.growthStartNorm())
          .isCloseTo(want.growthStartNorm(), within(want.growthStartNorm() * 0.01));
      assertThat(got.endPhase()).isEqualTo(want.endPhase());
    }
  }

  @ParameterizedTest
  @ValueSource(longs = {7, 10, 50})
  void sparseLoggingFindsTheKneesOnItsGrid(long every) {
    Run r = run(new NormTracker(), range(0, 8000, every), s -> Math.exp(lnNorm(s)));

    assertThat(r.transitions()).isEqualTo(KNOWN_TRANSITIONS);
    List<NormCycle> cycles = r.tracker().cycles();
    assertThat(cycles).hasSize(KNOWN.size());
    for (int i = 0; i < cycles.size(); i++) {
      assertThat(cycles.get(i).growthStartStep())
          .isCloseTo(KNOWN.get(i).growthStartStep(), within(every));
      assertThat(cycles.get(i).transitionStep())
          .isCloseTo(KNOWN.get(i).transitionStep(), within(every));
      assertThat(cycles.get(i).endPhase()).isEqualTo(KNOWN.get(i).endPhase());
    }
  }

  @Test
  void irregularStepsMeasureTheSameRate() {
    Random rnd = new Random(42);
    List<Long> steps = new ArrayList<>();
    for (long s = 0; s <= 3000; s += 1 + rnd.nextInt(30)) {
      steps.add(s);
    }
    double g = 3e-4;
    NormTracker t = new NormTracker();
    for (long s : steps) {
      t.observe(StepRecord.builder(s, 0).norm(W, 2.0 * Math.exp(g * s)).build());
    }
    assertThat(t.rate(W).orElseThrow()).isCloseTo(g, within(1e-12));
    assertThat(t.phase(W)).contains(Phase.GROWTH);
  }

  @Test
  void theRateIsUnknownUntilTheWindowIsHalfCovered() {
    NormTracker t = new NormTracker(Config.ofDefaults().withWindow(100));
    t.observe(StepRecord.builder(0, 0).norm(W, 1).build());
    assertThat(t.rate(W)).isEmpty();
    assertThat(t.phase(W)).contains(Phase.PLATEAU);
    t.observe(StepRecord.builder(49, 0).norm(W, Math.exp(49e-3)).build());
    assertThat(t.rate(W)).isEmpty();
    t.observe(StepRecord.builder(50, 0).norm(W, Math.exp(50e-3)).build());
    assertThat(t.rate(W).orElseThrow()).isCloseTo(1e-3, within(1e-12));
  }

  @Test
  void largeStepNumbersAndLongRunsKeepTheRateExact() {
    NormTracker t = new NormTracker(Config.ofDefaults().withWindow(1000));
    long base = 1_000_000_000_000L;
    double g = -7e-5;
    for (long i = 0; i <= 300_000; i++) {
      t.observe(StepRecord.builder(base + i, 0).norm(W, 5.0 * Math.exp(g * i)).build());
    }
    assertThat(t.rate(W).orElseThrow()).isCloseTo(g, within(1e-11));
    assertThat(t.phase(W)).contains(Phase.DECAY);
  }

  @Test
  void weightDecayBetweenSlingshotsIsDecayNotNoise() {
    // AdamW's saw-tooth (k-sparse parity study): the norm shrinks at lr·wd = 10⁻⁴ per step and
    // jumps by 30% within 100 steps at each slingshot (steps 2000, 5000, 8000).
    LongToDoubleFunction norm =
        s -> {
          double ln = -1e-4 * s;
          for (long jump : new long[] {2000, 5000, 8000}) {
            ln += Math.log(1.3) * clamp(s - jump, 100) / 100.0;
          }
          return 4.0 * Math.exp(ln);
        };
    Run r = run(new NormTracker(), range(0, 10_000, 1), norm);

    assertThat(r.transitions())
        .containsExactly(
            "PLATEAU->DECAY",
            "DECAY->GROWTH",
            "GROWTH->DECAY",
            "DECAY->GROWTH",
            "GROWTH->DECAY",
            "DECAY->GROWTH",
            "GROWTH->DECAY");
    assertThat(r.tracker().cycles())
        .extracting(NormCycle::growthStartStep, NormCycle::transitionStep, NormCycle::endPhase)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(2000L, 2100L, Phase.DECAY),
            org.assertj.core.groups.Tuple.tuple(5000L, 5100L, Phase.DECAY),
            org.assertj.core.groups.Tuple.tuple(8000L, 8100L, Phase.DECAY));
    NormCycle c = r.tracker().cycles().get(0);
    assertThat(c.transitionNorm()).isCloseTo(norm.applyAsDouble(2100), within(1e-12));
    assertThat(c.growthFactor()).isCloseTo(1.3 * Math.exp(-1e-2), within(1e-9));
  }

  @Test
  void hysteresisAndDwellKeepANoisyPlateauStill() {
    Random rnd = new Random(7);
    double sigma = 1e-2; // 1% noise per record on a flat norm
    long[] steps = range(0, 20_000, 1);
    Run calm = run(new NormTracker(), steps, s -> 3.0 * Math.exp(sigma * rnd.nextGaussian()));
    assertThat(calm.changes()).isEmpty();
    assertThat(calm.tracker().phase(W)).contains(Phase.PLATEAU);

    // The same noise with a thin band and no dwell flips the phase again and again.
    Random again = new Random(7);
    Config jumpy =
        Config.ofDefaults()
            .withGrowthThresholds(5e-6, 4e-6)
            .withDecayThresholds(-5e-6, -4e-6)
            .withMinDwell(0);
    Run flips =
        run(new NormTracker(jumpy), steps, s -> 3.0 * Math.exp(sigma * again.nextGaussian()));
    assertThat(flips.changes().size()).isGreaterThan(20);
  }

  @Test
  void aNoisyPlateauBetweenTheThresholdsDoesNotLeaveGrowth() {
    // Growth at 10⁻⁴/step, then a slow creep at 3·10⁻⁵/step: above growthExit, so still GROWTH.
    LongToDoubleFunction norm = s -> Math.exp(1e-4 * clamp(s, 2000) + 3e-5 * clamp(s - 2000, 5000));
    Run r = run(new NormTracker(), range(0, 7000, 1), norm);
    assertThat(r.transitions()).containsExactly("PLATEAU->GROWTH");
    assertThat(r.tracker().cycles()).isEmpty();
  }

  @Test
  void aStepThatGoesBackThrows() {
    NormTracker t = new NormTracker();
    t.observe(StepRecord.builder(10, 0).norm(W, 1).build());
    assertThatThrownBy(() -> t.observe(StepRecord.builder(9, 0).norm(W, 1).build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("step 9 came after step 10");
    assertThatThrownBy(() -> t.observe(StepRecord.builder(10, 0).norm(W, 1).build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("step 10 came after step 10");
  }

  @Test
  void nonFiniteAndNonPositiveNormsAreSkippedAndCounted() {
    NormTracker t = new NormTracker(Config.ofDefaults().withWindow(10).withMinDwell(0));
    double[] bad = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -1.0};
    long s = 0;
    for (long i = 0; i <= 20; i++) {
      t.observe(StepRecord.builder(s++, 0).norm(W, Math.exp(1e-3 * i)).build());
      if (i < bad.length) {
        assertThat(t.observe(StepRecord.builder(s++, 0).norm(W, bad[(int) i]).build())).isEmpty();
      }
    }
    assertThat(t.skipped(W)).isEqualTo(bad.length);
    assertThat(t.skipped("other")).isZero();
    assertThat(t.rate(W)).isPresent();
  }

  @Test
  void byDefaultEveryNormIsFollowedInOrderOfFirstAppearance() {
    NormTracker t = new NormTracker();
    t.observe(StepRecord.builder(1, 0).norm("head", 1).build());
    t.observe(StepRecord.builder(2, 0).norm("embed", 1).norm("head", 1).build());
    assertThat(t.parameters()).containsExactly("head", "embed");
    assertThat(t.phase("embed")).contains(Phase.PLATEAU);
    assertThat(t.phase("unknown")).isEmpty();
    assertThat(t.rate("unknown")).isEmpty();
    assertThat(t.cycles("unknown")).isEmpty();
  }

  @Test
  void namedNormsAreTheOnlyOnesFollowedAndRecordsWithoutThemAreSkipped() {
    NormTracker t = new NormTracker(Config.ofDefaults().withParameters("head", "mlp.0"));
    long[] steps = range(0, 4000, 1);
    List<SlingshotEvent> events = new ArrayList<>();
    for (long s : steps) {
      StepRecord.Builder b = StepRecord.builder(s, 0).norm("embed", Math.exp(1e-3 * s));
      if (s % 2 == 0) {
        b.norm("head", Math.exp(lnNorm(s)));
      }
      events.addAll(t.observe(b.build()));
    }
    assertThat(t.parameters()).containsExactly("head", "mlp.0");
    assertThat(t.phase("embed")).isEmpty();
    assertThat(t.phase("mlp.0")).isEmpty();
    assertThat(t.cycles("head")).hasSize(1);
    assertThat(events)
        .allSatisfy(e -> assertThat(e).isInstanceOfAny(PhaseChanged.class, CycleCompleted.class));
    assertThat(
            events.stream()
                .filter(PhaseChanged.class::isInstance)
                .map(e -> ((PhaseChanged) e).parameter()))
        .containsOnly("head");
  }

  @Test
  void theDefaultsAreTheDocumentedOnes() {
    Config c = Config.ofDefaults();
    assertThat(c.window()).isEqualTo(200);
    assertThat(c.growthEnter()).isEqualTo(5e-5);
    assertThat(c.growthExit()).isEqualTo(2e-5);
    assertThat(c.decayEnter()).isEqualTo(-5e-5);
    assertThat(c.decayExit()).isEqualTo(-2e-5);
    assertThat(c.minDwell()).isEqualTo(200);
    assertThat(c.parameters()).isEmpty();
    assertThat(new NormTracker().config()).isEqualTo(c);
  }

  @Test
  void invalidConfigurationsNameTheBadValue() {
    Config d = Config.ofDefaults();
    assertThatThrownBy(() -> d.withWindow(1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("window must be at least 2 steps, was 1");
    assertThatThrownBy(() -> d.withMinDwell(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("was -1");
    assertThatThrownBy(() -> d.withGrowthThresholds(1e-5, 2e-5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("growthExit=2.0E-5")
        .hasMessageContaining("growthEnter=1.0E-5");
    assertThatThrownBy(() -> d.withGrowthThresholds(Double.NaN, 2e-5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("growthEnter=NaN");
    assertThatThrownBy(() -> d.withGrowthThresholds(-1e-5, -2e-5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("growthEnter=-1.0E-5");
    assertThatThrownBy(() -> d.withDecayThresholds(-1e-5, -2e-5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("decayEnter=-1.0E-5");
    assertThatThrownBy(() -> d.withDecayThresholds(-5e-5, 3e-5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("decayExit=3.0E-5");
    assertThatThrownBy(() -> d.withParameters("head", " "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("blank");
    assertThatThrownBy(() -> d.withParameters("head", "head"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'head' is listed twice");
  }
}
