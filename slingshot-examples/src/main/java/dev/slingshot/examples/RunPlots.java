package dev.slingshot.examples;

import dev.slingshot.core.SlingshotEpisode;
import dev.slingshot.core.SlingshotInterval;
import dev.slingshot.core.StepRecord;
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
 * with the same shading).
 */
final class RunPlots {

  /** Losses below this are drawn at it: a log axis cannot show float32's exact zeros. */
  static final double LOSS_FLOOR = 1e-8;

  /** At most this many points per per-step series (max per bucket, so spikes survive). */
  static final int MAX_POINTS = 2000;

  static final String LOSS_PNG = "loss.png";
  static final String ACCURACY_PNG = "accuracy.png";

  private static final int WIDTH = 1400;
  private static final int HEIGHT = 620;
  private static final Color EPISODE = new Color(255, 140, 0, 60);
  private static final Color INTERVAL = new Color(200, 40, 40, 90);
  private static final Color TRAIN = new Color(31, 119, 180);
  private static final Color FULL_TRAIN = new Color(23, 190, 207);
  private static final Color TEST = new Color(214, 39, 40);
  private static final Color NORM = new Color(44, 160, 44);

  private RunPlots() {}

  static void write(RunAnalysis run) throws IOException {
    System.setProperty("java.awt.headless", "true");
    save(lossChart(run), run.dir.resolve(LOSS_PNG));
    save(accuracyChart(run), run.dir.resolve(ACCURACY_PNG));
  }

  private static void save(XYChart chart, Path file) throws IOException {
    String name = file.toString();
    BitmapEncoder.saveBitmap(
        chart, name.substring(0, name.length() - 4), BitmapEncoder.BitmapFormat.PNG);
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
    double[][] norm = bucketMax(rs, r -> r.norm(ParityTraining.LAST_LAYER));
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
    XYChart chart =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
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
