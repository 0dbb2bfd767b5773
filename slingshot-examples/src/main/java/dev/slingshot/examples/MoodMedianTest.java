package dev.slingshot.examples;

import java.util.Arrays;
import org.apache.commons.math3.distribution.ChiSquaredDistribution;

/**
 * Mood's median test: do k samples share one median? The pooled sample's median M splits every
 * group into the counts above M and at-or-below M (ties go below, as SciPy's {@code
 * median_test(ties="below")}); Pearson's chi-square statistic of that 2×k table has k − 1 degrees
 * of freedom under the null hypothesis. Used by the parity study's statistics (the change in test
 * loss across slingshot intervals against equal-length intervals without one). commons-math3 has no
 * median test; the chi-square tail comes from its {@link ChiSquaredDistribution}.
 *
 * <p>No continuity correction (SciPy applies Yates' correction when k = 2 unless {@code
 * correction=False}).
 */
final class MoodMedianTest {

  /**
   * The outcome.
   *
   * @param grandMedian the pooled median M
   * @param above per group, the count above M
   * @param atOrBelow per group, the count at or below M
   * @param statistic Pearson's chi-square of the 2×k table
   * @param degreesOfFreedom k − 1
   * @param pValue P(χ²_{k−1} ≥ statistic)
   */
  record Result(
      double grandMedian,
      long[] above,
      long[] atOrBelow,
      double statistic,
      int degreesOfFreedom,
      double pValue) {}

  private MoodMedianTest() {}

  static Result test(double[]... groups) {
    if (groups.length < 2) {
      throw new IllegalArgumentException("need at least 2 groups, got " + groups.length);
    }
    int n = 0;
    for (double[] g : groups) {
      if (g.length == 0) {
        throw new IllegalArgumentException("every group needs at least one value");
      }
      n += g.length;
    }
    double[] pooled = new double[n];
    int at = 0;
    for (double[] g : groups) {
      for (double v : g) {
        if (Double.isNaN(v)) {
          throw new IllegalArgumentException("NaN in a group");
        }
        pooled[at++] = v;
      }
    }
    Arrays.sort(pooled);
    double median = n % 2 == 1 ? pooled[n / 2] : (pooled[n / 2 - 1] + pooled[n / 2]) / 2;
    int k = groups.length;
    long[] above = new long[k];
    long[] below = new long[k];
    for (int i = 0; i < k; i++) {
      for (double v : groups[i]) {
        if (v > median) {
          above[i]++;
        } else {
          below[i]++;
        }
      }
    }
    long totalAbove = Arrays.stream(above).sum();
    long totalBelow = n - totalAbove;
    if (totalAbove == 0 || totalBelow == 0) {
      throw new IllegalArgumentException(
          "all values lie on one side of the pooled median " + median + ": the test is undefined");
    }
    double chi = 0;
    for (int i = 0; i < k; i++) {
      long col = above[i] + below[i];
      double ea = (double) totalAbove * col / n;
      double eb = (double) totalBelow * col / n;
      chi += (above[i] - ea) * (above[i] - ea) / ea + (below[i] - eb) * (below[i] - eb) / eb;
    }
    double p = 1 - new ChiSquaredDistribution(k - 1).cumulativeProbability(chi);
    return new Result(median, above, below, chi, k - 1, p);
  }
}
