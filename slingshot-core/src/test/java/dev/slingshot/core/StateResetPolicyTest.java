package dev.slingshot.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * When the optimizer state is reset: the k-sparse parity study's intervention (its Fig. 10) resets
 * AdamW's moments right before a slingshot.
 */
class StateResetPolicyTest {

  /** A loss curve with two slingshots: intervals start at steps 3 and 8 and end at 5 and 10. */
  private static final double[] LOSSES = {
    0.6, 0.05, 0.004, 0.9, 0.3, 0.002, 0.001, Double.NaN, 2.0, 0.05, 0.003, 0.002
  };

  private static List<Long> resets(StateResetPolicy policy) {
    SlingshotMonitor monitor =
        SlingshotMonitor.builder().rule(new SlingshotDetector()).resetPolicy(policy).build();
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < LOSSES.length; i++) {
      if (monitor.observe(StepRecord.of(i, LOSSES[i])).resetDue()) {
        out.add((long) i);
      }
    }
    return out;
  }

  @Test
  void neverResets() {
    assertThat(resets(StateResetPolicy.never())).isEmpty();
    assertThat(StateResetPolicy.never().describe()).isEqualTo("never");
  }

  @Test
  void atSlingshotOnsetResetsWhenAnIntervalStarts() {
    assertThat(resets(StateResetPolicy.atSlingshotOnset())).containsExactly(3L, 8L);
    assertThat(StateResetPolicy.atSlingshotOnset().describe()).isEqualTo("at-slingshot-onset");
  }

  @Test
  void atSlingshotOnsetIgnoresEndsAndDivergences() {
    StateResetPolicy p = StateResetPolicy.atSlingshotOnset();
    StepRecord r = StepRecord.of(5, 0.001);
    assertThat(
            p.shouldReset(
                r,
                List.of(
                    new SlingshotDetector.IntervalEnded(
                        5, new SlingshotInterval(3, OptionalLong.of(5), 3, 0.9, false)),
                    new SlingshotDetector.Divergence(5, Double.NaN))))
        .isFalse();
    assertThat(p.shouldReset(r, List.of())).isFalse();
    assertThat(
            p.shouldReset(
                r,
                List.of(
                    new SlingshotDetector.Divergence(5, Double.POSITIVE_INFINITY),
                    new SlingshotDetector.IntervalStarted(5, Double.POSITIVE_INFINITY, false))))
        .isTrue();
  }

  @Test
  void periodicallyResetsAtMultiplesOfThePeriod() {
    assertThat(resets(StateResetPolicy.periodically(4))).containsExactly(0L, 4L, 8L);
    assertThat(resets(StateResetPolicy.periodically(1))).hasSize(LOSSES.length);
    assertThat(StateResetPolicy.periodically(4).describe()).isEqualTo("every-4-steps");
  }

  @Test
  void anInvalidPeriodIsRefusedWithTheValue() {
    assertThatThrownBy(() -> StateResetPolicy.periodically(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("reset period must be positive, was 0");
    assertThatThrownBy(() -> StateResetPolicy.periodically(-10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("reset period must be positive, was -10");
  }

  @Test
  void whenResetsWhereThePredicateHolds() {
    StateResetPolicy p = StateResetPolicy.when("loss above 1", r -> r.trainLoss() > 1);
    assertThat(resets(p)).containsExactly(8L);
    assertThat(p.describe()).isEqualTo("loss above 1");
  }

  @Test
  void whenSeesTheWholeRecord() {
    StateResetPolicy p = StateResetPolicy.when("large update", r -> r.updateNorm().orElse(0) > 0.1);
    assertThat(p.shouldReset(StepRecord.builder(1, 0).updateNorm(0.5).build(), List.of())).isTrue();
    assertThat(p.shouldReset(StepRecord.builder(2, 0).updateNorm(0.01).build(), List.of()))
        .isFalse();
    assertThat(p.shouldReset(StepRecord.of(3, 0), List.of())).isFalse();
  }

  @Test
  void nullsAreRefused() {
    assertThatThrownBy(() -> StateResetPolicy.when("x", null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("predicate");
    assertThatThrownBy(() -> StateResetPolicy.when(null, r -> true))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("description");
  }

  @Test
  void aLambdaIsAPolicyAndTheMonitorUsesIt() {
    StateResetPolicy odd = (r, e) -> r.step() % 2 == 1;
    assertThat(resets(odd)).containsExactly(1L, 3L, 5L, 7L, 9L, 11L);
    assertThat(odd.describe()).isNotBlank();
    assertThat(SlingshotMonitor.builder().build().resetPolicy().describe()).isEqualTo("never");
  }
}
