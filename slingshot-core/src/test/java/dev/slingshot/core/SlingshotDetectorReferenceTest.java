package dev.slingshot.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slingshot.core.SlingshotDetector.Config;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * An independent check of {@link SlingshotDetector}: a brute-force reference written from the
 * rule's definition with a different structure (index searches over the whole array instead of a
 * state machine fed one record at a time), compared on thousands of random curves that are dense in
 * the edge cases (values exactly at the thresholds, NaN, ±∞, long runs below {@code low}).
 */
class SlingshotDetectorReferenceTest {

  /** A value the rule may act on: NaN and −∞ are skipped by definition. */
  static boolean usable(double x) {
    return !Double.isNaN(x) && x != Double.NEGATIVE_INFINITY;
  }

  /** The first index in [from, n) whose usable loss is below {@code low}, or -1. */
  static int firstBelow(double[] loss, int from, double low) {
    for (int j = from; j < loss.length; j++) {
      if (usable(loss[j]) && loss[j] < low) {
        return j;
      }
    }
    return -1;
  }

  static int firstAbove(double[] loss, int from, double high) {
    for (int j = from; j < loss.length; j++) {
      if (usable(loss[j]) && loss[j] > high) {
        return j;
      }
    }
    return -1;
  }

  /**
   * The rule as an array scan: arm at the first value below low; start at the first later value
   * above high; end at the first later value below low, which is also the next arm point.
   */
  static List<SlingshotInterval> reference(long[] steps, double[] loss, double low, double high) {
    List<SlingshotInterval> out = new ArrayList<>();
    int arm = firstBelow(loss, 0, low);
    while (arm >= 0) {
      int start = firstAbove(loss, arm + 1, high);
      if (start < 0) {
        break;
      }
      int end = firstBelow(loss, start + 1, low);
      int stop = end < 0 ? loss.length : end;
      int peak = start;
      for (int j = start + 1; j < stop; j++) {
        if (usable(loss[j]) && loss[j] > loss[peak]) {
          peak = j;
        }
      }
      out.add(
          new SlingshotInterval(
              steps[start],
              end < 0 ? OptionalLong.empty() : OptionalLong.of(steps[end]),
              steps[peak],
              loss[peak],
              false));
      arm = end;
    }
    return out;
  }

  /** Episodes by grouping: a new group starts wherever the gap to the previous end is large. */
  static List<long[]> referenceEpisodes(List<SlingshotInterval> intervals, long gap) {
    List<long[]> groups = new ArrayList<>(); // {first index, last index}
    for (int k = 0; k < intervals.size(); k++) {
      boolean join =
          k > 0
              && intervals.get(k - 1).endStep().isPresent()
              && intervals.get(k).startStep() - intervals.get(k - 1).endStep().getAsLong() < gap;
      if (join) {
        groups.get(groups.size() - 1)[1] = k;
      } else {
        groups.add(new long[] {k, k});
      }
    }
    return groups;
  }

  static double draw(Random r, double low, double high) {
    int kind = r.nextInt(20);
    return switch (kind) {
      case 0 -> low;
      case 1 -> high;
      case 2 -> Double.NaN;
      case 3 -> Double.POSITIVE_INFINITY;
      case 4 -> Double.NEGATIVE_INFINITY;
      case 5 -> 0.0;
      case 6, 7, 8, 9 -> low * r.nextDouble(); // below low
      case 10, 11 -> low + (high - low) * r.nextDouble(); // between
      default -> Math.pow(10, -4 + 5 * r.nextDouble()); // 1e-4 .. 10, log-uniform
    };
  }

  @Test
  void theDetectorAgreesWithABruteForceScanOnRandomCurves() {
    Random r = new Random(20221005);
    double[][] thresholds = {{0.01, 0.1}, {0.01, 0.02}, {1e-3, 0.5}, {0.2, 0.3}};
    long[] gaps = {0, 1, 2, 5, 20, Config.DEFAULT_MERGE_GAP};
    int curves = 4000;
    int withIntervals = 0;
    int withOpen = 0;
    int withInfinitePeak = 0;
    for (int c = 0; c < curves; c++) {
      double[] t = thresholds[r.nextInt(thresholds.length)];
      double low = t[0];
      double high = t[1];
      int n = r.nextInt(80);
      long[] steps = new long[n];
      double[] loss = new double[n];
      long step = r.nextInt(3) - 1;
      for (int i = 0; i < n; i++) {
        step += 1 + (r.nextBoolean() ? 0 : r.nextInt(10));
        steps[i] = step;
        loss[i] = draw(r, low, high);
      }
      long gap = gaps[r.nextInt(gaps.length)];
      SlingshotDetector d = new SlingshotDetector(new Config(low, high, gap));
      int divergent = 0;
      for (int i = 0; i < n; i++) {
        d.observe(steps[i], loss[i]);
        divergent += Double.isFinite(loss[i]) ? 0 : 1;
      }
      List<SlingshotInterval> expected = reference(steps, loss, low, high);
      String curve = "curve " + c + " low=" + low + " high=" + high;
      assertThat(d.intervals()).as(curve).isEqualTo(expected);
      assertThat(d.divergences()).as(curve).hasSize(divergent);

      List<long[]> groups = referenceEpisodes(expected, gap);
      List<SlingshotEpisode> episodes = d.episodes();
      assertThat(episodes).as(curve).hasSize(groups.size());
      for (int g = 0; g < groups.size(); g++) {
        SlingshotInterval first = expected.get((int) groups.get(g)[0]);
        SlingshotInterval last = expected.get((int) groups.get(g)[1]);
        SlingshotEpisode e = episodes.get(g);
        assertThat(e.startStep()).as(curve).isEqualTo(first.startStep());
        assertThat(e.endStep()).as(curve).isEqualTo(last.endStep());
        assertThat(e.intervals()).as(curve).isEqualTo(groups.get(g)[1] - groups.get(g)[0] + 1);
        double peak =
            expected.subList((int) groups.get(g)[0], (int) groups.get(g)[1] + 1).stream()
                .mapToDouble(SlingshotInterval::peakLoss)
                .max()
                .orElseThrow();
        assertThat(e.peakLoss()).as(curve).isEqualTo(peak);
      }
      withIntervals += expected.isEmpty() ? 0 : 1;
      withOpen += !expected.isEmpty() && expected.get(expected.size() - 1).isOpen() ? 1 : 0;
      withInfinitePeak +=
          expected.stream().anyMatch(i -> i.peakLoss() == Double.POSITIVE_INFINITY) ? 1 : 0;
    }
    // the random curves do exercise the interesting cases
    assertThat(withIntervals).isGreaterThan(curves / 2);
    assertThat(withOpen).isGreaterThan(curves / 10);
    assertThat(withInfinitePeak).isGreaterThan(curves / 10);
  }
}
