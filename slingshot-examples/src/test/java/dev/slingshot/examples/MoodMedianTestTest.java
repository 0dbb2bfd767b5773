package dev.slingshot.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Mood's median test on tables worked out by hand. */
class MoodMedianTestTest {

  @Test
  void twoSeparatedGroups() {
    // Pooled median 5.5; table above [0, 5], below [5, 0]; expected 2.5 everywhere:
    // chi2 = 4 * 2.5^2 / 2.5 = 10, 1 dof, p = P(chi2_1 >= 10) = 0.0015654
    MoodMedianTest.Result r =
        MoodMedianTest.test(new double[] {1, 2, 3, 4, 5}, new double[] {6, 7, 8, 9, 10});
    assertThat(r.grandMedian()).isEqualTo(5.5);
    assertThat(r.above()).containsExactly(0, 5);
    assertThat(r.atOrBelow()).containsExactly(5, 0);
    assertThat(r.statistic()).isCloseTo(10, within(1e-12));
    assertThat(r.degreesOfFreedom()).isEqualTo(1);
    assertThat(r.pValue()).isCloseTo(0.0015654, within(1e-6));
  }

  @Test
  void threeGroupsWithTiesAtTheMedianCountedBelow() {
    // Pooled 1,2,3,3,4,5,5,6,7: median 4. Above [0, 1, 3], at-or-below [3, 2, 0].
    // Expected above 4*3/9 = 4/3, below 5*3/9 = 5/3 per group:
    // chi2 = (16/9 + 1/9 + 25/9) / (4/3) + (16/9 + 1/9 + 25/9) / (5/3) = 3.5 + 2.8 = 6.3
    // 2 dof: p = exp(-6.3 / 2) = 0.0428521
    MoodMedianTest.Result r =
        MoodMedianTest.test(new double[] {1, 2, 3}, new double[] {3, 4, 5}, new double[] {5, 6, 7});
    assertThat(r.grandMedian()).isEqualTo(4);
    assertThat(r.above()).containsExactly(0, 1, 3);
    assertThat(r.atOrBelow()).containsExactly(3, 2, 0);
    assertThat(r.statistic()).isCloseTo(6.3, within(1e-12));
    assertThat(r.degreesOfFreedom()).isEqualTo(2);
    assertThat(r.pValue()).isCloseTo(Math.exp(-3.15), within(1e-9));
  }

  @Test
  void identicalGroupsGiveNoEvidence() {
    MoodMedianTest.Result r =
        MoodMedianTest.test(new double[] {1, 2, 3, 4}, new double[] {1, 2, 3, 4});
    assertThat(r.statistic()).isZero();
    assertThat(r.pValue()).isCloseTo(1, within(1e-12));
  }

  @Test
  void degenerateInputsAreRefused() {
    assertThatThrownBy(() -> MoodMedianTest.test(new double[] {1}))
        .hasMessageContaining("at least 2 groups");
    assertThatThrownBy(() -> MoodMedianTest.test(new double[] {1}, new double[] {}))
        .hasMessageContaining("at least one value");
    assertThatThrownBy(() -> MoodMedianTest.test(new double[] {2, 2}, new double[] {2}))
        .hasMessageContaining("one side of the pooled median");
  }
}
