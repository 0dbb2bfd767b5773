package dev.slingshot.examples;

import dev.slingshot.core.RunLog;
import dev.slingshot.core.SlingshotEpisode;
import dev.slingshot.core.StepRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * The parity study's statistics over many runs (seeds): the change in test loss across each late
 * slingshot episode against the change across equal-length control intervals without one, compared
 * with {@link MoodMedianTest}.
 *
 * <p>An interval's change is {@code test_loss(first evaluation at or after its end) −
 * test_loss(last evaluation before its start)}; its window is the span between those two
 * evaluations. Each late episode that ended gets one control of the same length placed uniformly at
 * random (seeded) after the fit in the same run, redrawn until its window overlaps no episode's
 * window (up to 1000 draws; a run without room gives no control for that episode).
 */
final class SlingshotStatistics {

  /** One interval's change in test loss. */
  record Change(Path run, long start, long end, double before, double after) {
    double delta() {
      return after - before;
    }
  }

  /** Both groups and the test (null when either group is empty or the test is undefined). */
  record Summary(List<Change> slingshots, List<Change> controls, MoodMedianTest.Result test) {}

  private SlingshotStatistics() {}

  /** Run directories under {@code paths}: each path itself or its immediate subdirectories. */
  static List<Path> runDirs(List<Path> paths) throws IOException {
    List<Path> out = new ArrayList<>();
    for (Path p : paths) {
      if (Files.isRegularFile(p.resolve(RunLog.METRICS_FILE))) {
        out.add(p);
      } else if (Files.isDirectory(p)) {
        try (Stream<Path> s = Files.list(p)) {
          s.filter(d -> Files.isRegularFile(d.resolve(RunLog.METRICS_FILE)))
              .sorted()
              .forEach(out::add);
        }
      }
    }
    return out;
  }

  static Summary collect(List<Path> runs, long seed) throws IOException {
    List<Change> sl = new ArrayList<>();
    List<Change> co = new ArrayList<>();
    SplittableRandom random = new SplittableRandom(seed);
    for (Path dir : runs) {
      RunAnalysis run = RunAnalysis.read(dir);
      if (run.fitStep.isEmpty()) {
        continue;
      }
      List<long[]> windows = new ArrayList<>();
      for (SlingshotEpisode e : run.episodes) {
        long end = e.endStep().orElse(run.lastStep());
        windows.add(window(run, e.startStep(), end));
      }
      for (SlingshotEpisode e : run.episodes) {
        if (e.beforeFit() || e.endStep().isEmpty()) {
          continue;
        }
        Change c = change(run, dir, e.startStep(), e.endStep().getAsLong());
        if (c == null) {
          continue;
        }
        sl.add(c);
        long length = Math.max(1, e.endStep().getAsLong() - e.startStep());
        long lo = run.fitStep.getAsLong() + 1;
        long hi = run.lastStep() - length;
        for (int t = 0; t < 1000 && hi > lo; t++) {
          long s = lo + random.nextLong(hi - lo);
          long[] w = window(run, s, s + length);
          if (w == null || overlapsAny(w, windows)) {
            continue;
          }
          Change control = change(run, dir, s, s + length);
          if (control != null) {
            co.add(control);
            break;
          }
        }
      }
    }
    MoodMedianTest.Result test = null;
    if (!sl.isEmpty() && !co.isEmpty()) {
      try {
        test = MoodMedianTest.test(deltas(sl), deltas(co));
      } catch (IllegalArgumentException e) {
        test = null; // every value on one side of the median
      }
    }
    return new Summary(List.copyOf(sl), List.copyOf(co), test);
  }

  static double[] deltas(List<Change> cs) {
    return cs.stream().mapToDouble(Change::delta).toArray();
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    int n = s.length;
    return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }

  private static long[] window(RunAnalysis run, long start, long end) {
    StepRecord before = run.evalBefore(start);
    StepRecord after = run.evalAtOrAfter(end);
    return before == null || after == null ? null : new long[] {before.step(), after.step()};
  }

  private static boolean overlapsAny(long[] w, List<long[]> windows) {
    for (long[] o : windows) {
      if (o != null && w[0] <= o[1] && o[0] <= w[1]) {
        return true;
      }
    }
    return false;
  }

  private static Change change(RunAnalysis run, Path dir, long start, long end) {
    StepRecord before = run.evalBefore(start);
    StepRecord after = run.evalAtOrAfter(end);
    if (before == null || after == null) {
      return null;
    }
    double b = before.testLoss().orElse(Double.NaN);
    double a = after.testLoss().orElse(Double.NaN);
    return Double.isFinite(a) && Double.isFinite(b) ? new Change(dir, start, end, b, a) : null;
  }

  static String markdown(Summary s, int runs) {
    StringBuilder b = new StringBuilder("# Slingshot statistics\n\n");
    b.append(
        String.format(
            Locale.ROOT,
            "%d run(s); %d late slingshot episode(s), %d control interval(s) of equal length.%n%n",
            runs,
            s.slingshots().size(),
            s.controls().size()));
    b.append("| group | n | median change in test loss |\n|---|---|---|\n");
    b.append(
        String.format(
            Locale.ROOT,
            "| across slingshots | %d | %.4g |%n| controls (no slingshot) | %d | %.4g |%n%n",
            s.slingshots().size(),
            median(deltas(s.slingshots())),
            s.controls().size(),
            median(deltas(s.controls()))));
    if (s.test() == null) {
      b.append("Mood's median test: not defined (a group is empty or all values tie).\n");
    } else {
      b.append(
          String.format(
              Locale.ROOT,
              "Mood's median test: pooled median %.4g; above it %s (slingshots, controls), at or"
                  + " below %s; chi-square %.4f with %d dof, p = %.4g.%n",
              s.test().grandMedian(),
              Arrays.toString(s.test().above()),
              Arrays.toString(s.test().atOrBelow()),
              s.test().statistic(),
              s.test().degreesOfFreedom(),
              s.test().pValue()));
    }
    b.append("\n| group | run | start | end | test loss before | after | change |\n");
    b.append("|---|---|---|---|---|---|---|\n");
    for (List<Change> g : List.of(s.slingshots(), s.controls())) {
      for (Change c : g) {
        b.append(
            String.format(
                Locale.ROOT,
                "| %s | %s | %d | %d | %.4g | %.4g | %.4g |%n",
                g == s.slingshots() ? "slingshot" : "control",
                c.run().getFileName(),
                c.start(),
                c.end(),
                c.before(),
                c.after(),
                c.delta()));
      }
    }
    return b.toString();
  }
}
