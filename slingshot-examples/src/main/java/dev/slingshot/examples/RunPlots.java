package dev.slingshot.examples;

import dev.slingshot.core.SlingshotEpisode;
import dev.slingshot.core.SlingshotInterval;
import dev.slingshot.core.StepRecord;
import dev.slingshot.djl.ProbeMeasurement;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.function.Function;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Annotation;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Draws a run's figures headless with XChart, in the style of Thilak et al.'s Figures 1-2: {@code
 * loss.png} (minibatch training loss, full-train and test loss on a log axis, the last-layer norm
 * on a second axis, slingshot episodes shaded) and {@code accuracy.png} (train and test accuracy
 * with the same shading). When the run has them, also {@code sharpness.png} (the second-order
 * probes against 2/lr, App. A.6.1 and Fig. 16) and {@code features.png} (cosine distance from
 * initialisation, App. B.1, and the relative feature change, §2 and Fig. 2e-f).
 */
final class RunPlots {

  /** Losses below this are drawn at it: a log axis cannot show float32's exact zeros. */
  static final double LOSS_FLOOR = 1e-8;

  /** At most this many points per per-step series (max per bucket, so spikes survive). */
  static final int MAX_POINTS = 2000;

  static final String LOSS_PNG = "loss.png";
  static final String ACCURACY_PNG = "accuracy.png";
  static final String SHARPNESS_PNG = "sharpness.png";
  static final String FEATURES_PNG = "features.png";

  /** Probe value keys, as {@code dev.slingshot.djl.ProbeMeasurement} writes them. */
  static final String UPDATE_SHARPNESS = ProbeMeasurement.UPDATE_SHARPNESS;

  static final String LAMBDA_MAX = ProbeMeasurement.LAMBDA_MAX;
  static final String EFFECTIVE_STEP_FRACTION = ProbeMeasurement.EFFECTIVE_STEP_FRACTION;
  static final String EFFECTIVE_STEP_MAX = ProbeMeasurement.EFFECTIVE_STEP_MAX;
  static final String PRECONDITIONED = ProbeMeasurement.PRECONDITIONED_SHARPNESS;
  static final String PRECONDITIONED_THRESHOLD = ProbeMeasurement.PRECONDITIONED_THRESHOLD;

  /** Prefix of the cosine-distance keys in a record's metrics (the adapter's App. B.1 values). */
  static final String COSINE_PREFIX = "cosine_distance";

  /** Height of one panel of a multi-panel figure. */
  private static final int PANEL_HEIGHT = 460;

  private static final int WIDTH = 1400;
  private static final int HEIGHT = 620;
  private static final Color EPISODE = new Color(255, 140, 0, 60);
  private static final Color INTERVAL = new Color(200, 40, 40, 90);
  private static final Color TRAIN = new Color(31, 119, 180);
  private static final Color FULL_TRAIN = new Color(23, 190, 207);
  private static final Color TEST = new Color(214, 39, 40);
  private static final Color NORM = new Color(44, 160, 44);
  private static final Color LAMBDA = new Color(148, 103, 189);
  private static final Color GUIDE = new Color(90, 90, 90);
  private static final Color PRECOND = new Color(140, 86, 75);
  private static final Color[] PALETTE = {
    new Color(31, 119, 180),
    new Color(214, 39, 40),
    new Color(44, 160, 44),
    new Color(148, 103, 189),
    new Color(255, 127, 14),
    new Color(23, 190, 207)
  };

  private RunPlots() {}

  /** Writes every figure the run has data for; returns their file names, in report order. */
  static List<String> write(RunAnalysis run) throws IOException {
    System.setProperty("java.awt.headless", "true");
    save(lossChart(run), run.dir.resolve(LOSS_PNG));
    save(accuracyChart(run), run.dir.resolve(ACCURACY_PNG));
    if (hasProbes(run)) {
      save(sharpnessCharts(run), run.dir.resolve(SHARPNESS_PNG));
    }
    if (hasFeatures(run)) {
      save(featureCharts(run), run.dir.resolve(FEATURES_PNG));
    }
    return files(run);
  }

  /** The figures {@link #write} draws for {@code run}. */
  static List<String> files(RunAnalysis run) {
    List<String> files = new ArrayList<>(List.of(LOSS_PNG, ACCURACY_PNG));
    if (hasProbes(run)) {
      files.add(SHARPNESS_PNG);
    }
    if (hasFeatures(run)) {
      files.add(FEATURES_PNG);
    }
    return List.copyOf(files);
  }

  /** Whether events.jsonl holds probe events: then sharpness.png is drawn. */
  static boolean hasProbes(RunAnalysis run) {
    return !run.probes.isEmpty();
  }

  /** Whether records carry cosine distances or events.jsonl feature changes: features.png. */
  static boolean hasFeatures(RunAnalysis run) {
    return !run.featureChanges.isEmpty() || !cosineKeys(run).isEmpty();
  }

  private static void save(XYChart chart, Path file) throws IOException {
    String name = file.toString();
    BitmapEncoder.saveBitmap(
        chart, name.substring(0, name.length() - 4), BitmapEncoder.BitmapFormat.PNG);
  }

  /** Panels stacked in one PNG, all as wide as one chart. */
  private static void save(List<XYChart> panels, Path file) throws IOException {
    if (panels.size() == 1) {
      save(panels.get(0), file);
      return;
    }
    String name = file.toString();
    BitmapEncoder.saveBitmap(
        panels,
        panels.size(),
        1,
        name.substring(0, name.length() - 4),
        BitmapEncoder.BitmapFormat.PNG);
  }

  /**
   * The second-order probes (Thilak et al. App. A.6.1, Fig. 16): on top, on a log axis, the update
   * sharpness uᵀHu/‖u‖² (its positive values: a log axis cannot show the others, and the legend
   * counts them), λmax of the Hessian and the line 2/lr (gradient descent's stability limit; lr
   * from config.json), and when measured the preconditioned sharpness λmax(P⁻¹H) with Adam's
   * threshold (2+2β1)/((1−β1)·lr); in the middle, on a log axis, Adam's largest per-coordinate
   * effective step against 2/λmax (the paper's Fig. 16b-d draws a few coordinates' steps against
   * it); below, the fraction of all coordinates whose effective step exceeds 2/λmax. Slingshot
   * episodes shaded in all three.
   */
  static List<XYChart> sharpnessCharts(RunAnalysis run) {
    List<RunAnalysis.Measured> ps = run.probes;
    XYChart top = base(run, "curvature (log)", PANEL_HEIGHT);
    top.setTitle(
        title(run)
            + ": second-order probes ("
            + ps.size()
            + "); shaded: slingshot episodes (orange), rule intervals (red)");
    top.getStyler().setYAxisLogarithmic(true);
    top.getStyler().setYAxisLogarithmicDecadeOnly(true);
    top.getStyler().setMarkerSize(4);
    double[][] sharp = probePoints(ps, UPDATE_SHARPNESS, true);
    long nonPositive = ps.stream().filter(p -> p.value(UPDATE_SHARPNESS).orElse(1) <= 0).count();
    if (sharp[0].length > 0) {
      String name =
          "update sharpness uᵀHu/‖u‖²"
              + (nonPositive > 0
                  ? " ("
                      + nonPositive
                      + (nonPositive == 1 ? " value" : " values")
                      + " ≤ 0 not drawn)"
                  : "");
      probeStyle(top.addSeries(name, sharp[0], sharp[1]), TRAIN);
    }
    double[][] lambda = probePoints(ps, LAMBDA_MAX, true);
    if (lambda[0].length > 0) {
      probeStyle(top.addSeries("λmax(H)", lambda[0], lambda[1]), LAMBDA);
    }
    double[][] pre = probePoints(ps, PRECONDITIONED, true);
    if (pre[0].length > 0) {
      probeStyle(top.addSeries("preconditioned sharpness λmax(P⁻¹H)", pre[0], pre[1]), PRECOND);
      double[][] thr = probePoints(ps, PRECONDITIONED_THRESHOLD, true);
      if (thr[0].length > 0) {
        guide(top, "(2+2β1)/((1−β1)·lr)", run, thr[1][thr[1].length - 1], PRECOND);
      }
    }
    OptionalDouble lr = run.learningRate();
    if (lr.isPresent() && lr.getAsDouble() > 0) {
      guide(top, "2/lr = " + trim(2 / lr.getAsDouble()), run, 2 / lr.getAsDouble(), GUIDE);
    }
    if (top.getSeriesCollection().isEmpty()) {
      top.addSeries("no positive curvature values", new double[] {0}, new double[] {1});
    }
    shade(top, run);

    XYChart middle = base(run, "step size (log)", PANEL_HEIGHT);
    middle.setTitle(
        "Adam's largest per-coordinate effective step lr·√(1−β2^t)/(1−β1^t)/(√v+ε) against"
            + " the largest stable step 2/λmax (Fig. 16b-d)");
    middle.getStyler().setYAxisLogarithmic(true);
    middle.getStyler().setYAxisLogarithmicDecadeOnly(true);
    middle.getStyler().setMarkerSize(4);
    double[][] effMax = probePoints(ps, EFFECTIVE_STEP_MAX, true);
    if (effMax[0].length > 0) {
      probeStyle(middle.addSeries("largest effective step", effMax[0], effMax[1]), TEST);
    }
    if (lambda[0].length > 0) {
      double[] limit = new double[lambda[1].length];
      for (int i = 0; i < limit.length; i++) {
        limit[i] = 2 / lambda[1][i];
      }
      probeStyle(middle.addSeries("2/λmax", lambda[0], limit), LAMBDA);
    }
    if (middle.getSeriesCollection().isEmpty()) {
      middle.addSeries("no step-size values", new double[] {0}, new double[] {1});
    }
    shade(middle, run);

    XYChart bottom = base(run, "fraction", PANEL_HEIGHT);
    bottom.setTitle("fraction of coordinates whose effective step exceeds 2/λmax");
    bottom.getStyler().setYAxisMin(0.0).setYAxisMax(1.0);
    bottom.getStyler().setMarkerSize(4);
    double[][] frac = probePoints(ps, EFFECTIVE_STEP_FRACTION, false);
    if (frac[0].length > 0) {
      probeStyle(bottom.addSeries("fraction above 2/λmax", frac[0], frac[1]), TEST);
    } else {
      bottom.addSeries(
          "no effective-step values (the optimizer has no second moments)",
          new double[] {0},
          new double[] {0});
    }
    shade(bottom, run);
    return List.of(top, middle, bottom);
  }

  /**
   * Feature learning (Thilak et al. App. B.1 and Fig. 2e-f): the cosine distance from
   * initialisation 1 − ⟨θ,θ₀⟩/(‖θ‖‖θ₀‖) of each parameter set the records carry (keys starting with
   * {@value #COSINE_PREFIX}), and on a log axis the relative feature change ‖h_{t+1} − h_t‖/‖h_t‖
   * per layer from {@code feature_change} events; one panel each, whichever exist.
   */
  static List<XYChart> featureCharts(RunAnalysis run) {
    List<XYChart> panels = new ArrayList<>();
    List<String> keys = cosineKeys(run);
    if (!keys.isEmpty()) {
      XYChart c = base(run, "cosine distance from init", PANEL_HEIGHT);
      c.setTitle(title(run) + ": cosine distance from initialisation; shaded: slingshot episodes");
      int i = 0;
      for (String key : keys) {
        double[][] pts = bucketMax(withMetric(run.records, key), r -> metric(r, key));
        if (pts[0].length > 0) {
          String label =
              key.startsWith(COSINE_PREFIX + ".") ? key.substring(COSINE_PREFIX.length() + 1) : key;
          style(c.addSeries(label, pts[0], pts[1]), PALETTE[i++ % PALETTE.length], 1.6f);
        }
      }
      shade(c, run);
      panels.add(c);
    }
    if (!run.featureChanges.isEmpty()) {
      XYChart f = base(run, "relative feature change (log)", PANEL_HEIGHT);
      f.setTitle(
          title(run)
              + ": relative feature change ‖h(t+1) − h(t)‖/‖h(t)‖ per layer; shaded: slingshot"
              + " episodes");
      f.getStyler().setYAxisLogarithmic(true);
      f.getStyler().setYAxisLogarithmicDecadeOnly(true);
      List<String> layers = new ArrayList<>();
      for (RunAnalysis.Measured m : run.featureChanges) {
        for (String k : m.values().keySet()) {
          if (!layers.contains(k)) {
            layers.add(k);
          }
        }
      }
      int i = 0;
      for (String key : layers) {
        double[][] pts = probePoints(run.featureChanges, key, true);
        if (pts[0].length > 0) {
          String label =
              key.startsWith("feature.change.") ? key.substring("feature.change.".length()) : key;
          style(f.addSeries(label, pts[0], pts[1]), PALETTE[i++ % PALETTE.length], 1.4f);
        }
      }
      if (f.getSeriesCollection().isEmpty()) {
        f.addSeries("no positive values", new double[] {0}, new double[] {1});
      }
      shade(f, run);
      panels.add(f);
    }
    return panels;
  }

  /** The record metric keys starting with {@value #COSINE_PREFIX}, in first-seen order. */
  static List<String> cosineKeys(RunAnalysis run) {
    List<String> keys = new ArrayList<>();
    for (StepRecord r : run.records) {
      for (String k : r.metrics().keySet()) {
        if (k.startsWith(COSINE_PREFIX) && !keys.contains(k)) {
          keys.add(k);
        }
      }
    }
    return keys;
  }

  private static List<StepRecord> withMetric(List<StepRecord> rs, String key) {
    List<StepRecord> out = new ArrayList<>();
    for (StepRecord r : rs) {
      if (r.metrics().containsKey(key)) {
        out.add(r);
      }
    }
    return out;
  }

  private static OptionalDouble metric(StepRecord r, String key) {
    Double v = r.metrics().get(key);
    return v == null ? OptionalDouble.empty() : OptionalDouble.of(v);
  }

  /** (steps, values) of the events that have {@code key}: finite, and positive if asked. */
  static double[][] probePoints(List<RunAnalysis.Measured> ms, String key, boolean positive) {
    List<double[]> out = new ArrayList<>();
    for (RunAnalysis.Measured m : ms) {
      OptionalDouble v = m.value(key);
      if (v.isPresent() && (!positive || v.getAsDouble() > 0)) {
        out.add(new double[] {m.step(), v.getAsDouble()});
      }
    }
    return unzip(out);
  }

  /** A horizontal line at {@code y} across the run. */
  private static void guide(XYChart chart, String name, RunAnalysis run, double y, Color c) {
    XYSeries s =
        chart.addSeries(name, new double[] {0, Math.max(1, run.lastStep())}, new double[] {y, y});
    s.setMarker(SeriesMarkers.NONE);
    s.setLineColor(c);
    s.setLineStyle(
        new BasicStroke(
            1.4f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {8f, 5f}, 0f));
  }

  private static void probeStyle(XYSeries s, Color c) {
    s.setMarker(SeriesMarkers.CIRCLE);
    s.setMarkerColor(c);
    s.setLineColor(c);
    s.setLineStyle(new BasicStroke(1.0f));
  }

  static XYChart lossChart(RunAnalysis run) {
    XYChart chart = base(run, "loss (log; values < 1e-8, incl. exact 0, drawn at 1e-8)");
    chart.setTitle(
        title(run)
            + ": loss and last-layer norm; shaded: slingshot episodes (orange), rule intervals"
            + " (red)");
    chart.getStyler().setYAxisLogarithmic(true);
    chart.getStyler().setYAxisLogarithmicDecadeOnly(false);
    chart.setCustomYAxisTickLabelsFormatter(RunPlots::logTick);
    List<StepRecord> rs = run.records;
    double[][] train = bucketMax(rs, r -> OptionalDouble.of(floor(r.trainLoss())));
    if (train[0].length > 0) {
      XYSeries s = chart.addSeries("train loss (minibatch; max per bucket)", train[0], train[1]);
      style(s, TRAIN, 0.8f);
    }
    double[][] full = points(rs, r -> floorOpt(r.fullTrainLoss()));
    if (full[0].length > 0) {
      style(chart.addSeries("train loss (full set)", full[0], full[1]), FULL_TRAIN, 1.6f);
    }
    double[][] test = points(rs, r -> floorOpt(r.testLoss()));
    if (test[0].length > 0) {
      style(chart.addSeries("test loss", test[0], test[1]), TEST, 1.8f);
    }
    double[][] norm = bucketMax(rs, RunAnalysis::lastLayerNorm);
    if (norm[0].length > 0) {
      XYSeries s = chart.addSeries("last-layer weight norm (right axis)", norm[0], norm[1]);
      style(s, NORM, 1.8f);
      s.setYAxisGroup(1);
      chart.setYAxisGroupTitle(1, "last-layer ||W|| (log)");
      chart.getStyler().setYAxisGroupPosition(1, Styler.YAxisPosition.Right);
    }
    if (train[0].length == 0) {
      chart.addSeries("no records", new double[] {0}, new double[] {1});
    }
    shade(chart, run);
    return chart;
  }

  static XYChart accuracyChart(RunAnalysis run) {
    XYChart chart = base(run, "accuracy");
    chart.setTitle(title(run) + ": accuracy; shaded: slingshot episodes");
    chart.getStyler().setYAxisMin(0.0).setYAxisMax(1.02);
    double[][] train = points(run.records, StepRecord::trainAccuracy);
    double[][] test = points(run.records, StepRecord::testAccuracy);
    if (train[0].length > 0) {
      style(chart.addSeries("train accuracy (full set)", train[0], train[1]), TRAIN, 1.8f);
    }
    if (test[0].length > 0) {
      style(chart.addSeries("test accuracy", test[0], test[1]), TEST, 1.8f);
    }
    if (train[0].length == 0 && test[0].length == 0) {
      chart.addSeries("no evaluations", new double[] {0}, new double[] {0});
    }
    shade(chart, run);
    return chart;
  }

  private static XYChart base(RunAnalysis run, String yTitle) {
    return base(run, yTitle, HEIGHT);
  }

  private static XYChart base(RunAnalysis run, String yTitle, int height) {
    XYChart chart =
        new XYChartBuilder()
            .width(WIDTH)
            .height(height)
            .xAxisTitle("step")
            .yAxisTitle(yTitle)
            .build();
    XYStyler st = chart.getStyler();
    st.setLegendPosition(Styler.LegendPosition.OutsideS);
    st.setLegendLayout(Styler.LegendLayout.Horizontal);
    st.setXAxisMin(0.0);
    st.setXAxisTickMarkSpacingHint(110);
    st.setXAxisMax((double) Math.max(1, run.lastStep()));
    chart.getStyler().setChartTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
    chart.getStyler().setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    chart.getStyler().setPlotGridLinesColor(new Color(225, 225, 225));
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setLegendBackgroundColor(new Color(255, 255, 255, 200));
    chart.getStyler().setXAxisDecimalPattern("#,###");
    st.setAntiAlias(true);
    return chart;
  }

  /**
   * Labels on the shared log y axes: every decade (1e-8 ... 10) on the loss axis, and 1-9 times a
   * decade between 0.1 and 100 (where the norm lives), so both axes read without clutter.
   */
  static String logTick(double v) {
    if (!(v > 0)) {
      return "";
    }
    double e = Math.log10(v);
    long d = Math.round(e);
    if (Math.abs(e - d) < 1e-9) {
      return d >= -2 && d <= 2 ? trim(v) : "1e" + d;
    }
    double mantissa = v / Math.pow(10, Math.floor(e));
    long m = Math.round(mantissa);
    if (v >= 0.1 && v < 100 && Math.abs(mantissa - m) < 1e-6 && (m == 2 || m == 5)) {
      return trim(v);
    }
    return "";
  }

  private static String trim(double v) {
    String s = String.format(java.util.Locale.ROOT, "%.2f", v);
    s = s.replaceAll("0+$", "");
    return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
  }

  private static String title(RunAnalysis run) {
    return run.experiment() + " (" + run.lastStep() + " steps)";
  }

  private static void style(XYSeries s, Color c, float width) {
    s.setMarker(SeriesMarkers.NONE);
    s.setLineColor(c);
    s.setLineStyle(new BasicStroke(width));
  }

  private static double floor(double v) {
    return Double.isNaN(v) ? v : Math.max(v, LOSS_FLOOR);
  }

  private static OptionalDouble floorOpt(OptionalDouble v) {
    return v.isPresent() ? OptionalDouble.of(floor(v.getAsDouble())) : v;
  }

  /** Every record that has the value, as (steps, values). */
  static double[][] points(List<StepRecord> rs, Function<StepRecord, OptionalDouble> f) {
    List<double[]> out = new ArrayList<>();
    for (StepRecord r : rs) {
      OptionalDouble v = f.apply(r);
      if (v.isPresent() && Double.isFinite(v.getAsDouble())) {
        out.add(new double[] {r.step(), v.getAsDouble()});
      }
    }
    return unzip(out);
  }

  /**
   * The series downsampled to at most {@link #MAX_POINTS} points: the maximum of each bucket of
   * consecutive records at the bucket's first step, so that one-step spikes survive.
   */
  static double[][] bucketMax(List<StepRecord> rs, Function<StepRecord, OptionalDouble> f) {
    int bucket = Math.max(1, (rs.size() + MAX_POINTS - 1) / MAX_POINTS);
    List<double[]> out = new ArrayList<>();
    for (int i = 0; i < rs.size(); i += bucket) {
      double max = Double.NaN;
      long step = rs.get(i).step();
      for (int j = i; j < Math.min(rs.size(), i + bucket); j++) {
        OptionalDouble v = f.apply(rs.get(j));
        if (v.isPresent() && Double.isFinite(v.getAsDouble()) && !(v.getAsDouble() <= max)) {
          max = v.getAsDouble();
        }
      }
      if (!Double.isNaN(max)) {
        out.add(new double[] {step, max});
      }
    }
    return unzip(out);
  }

  private static double[][] unzip(List<double[]> pts) {
    double[] x = new double[pts.size()];
    double[] y = new double[pts.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = pts.get(i)[0];
      y[i] = pts.get(i)[1];
    }
    return new double[][] {x, y};
  }

  private static void shade(XYChart chart, RunAnalysis run) {
    long last = run.lastStep();
    List<long[]> episodes = new ArrayList<>();
    for (SlingshotEpisode e : run.episodes) {
      episodes.add(new long[] {e.startStep(), e.endStep().orElse(last)});
    }
    List<long[]> intervals = new ArrayList<>();
    for (SlingshotInterval i : run.intervals) {
      intervals.add(new long[] {i.startStep(), i.endStep().orElse(last)});
    }
    chart.addAnnotation(new Shading(episodes, EPISODE, 6));
    chart.addAnnotation(new Shading(intervals, INTERVAL, 2));
  }

  /** Translucent vertical bands over the plot area, at least {@code minWidth} pixels wide. */
  private static final class Shading extends Annotation {
    private final List<long[]> spans;
    private final Color color;
    private final int minWidth;

    Shading(List<long[]> spans, Color color, int minWidth) {
      super(false);
      this.spans = spans;
      this.color = color;
      this.minWidth = minWidth;
    }

    @Override
    public void paint(Graphics2D g) {
      if (!isVisible || spans.isEmpty()) {
        return;
      }
      int top = getYAxisScreenValueForMax();
      int bottom = getYAxisScreenValueForMin();
      int left = getXAxisScreenValueForMin();
      int right = getXAxisScreenValueForMax();
      int y0 = Math.min(top, bottom);
      int h = Math.abs(bottom - top);
      g.setColor(color);
      for (long[] s : spans) {
        int x0 = getXAxisScreenValue(s[0]);
        int x1 = getXAxisScreenValue(s[1]);
        int w = Math.max(minWidth, x1 - x0);
        int x = x1 - x0 < minWidth ? (x0 + x1) / 2 - minWidth / 2 : x0;
        x = Math.max(left, x);
        w = Math.min(w, right - x);
        if (w > 0) {
          g.fill(new Rectangle(x, y0, w, h));
        }
      }
      bounds = new Rectangle(left, y0, right - left, h);
    }
  }
}
