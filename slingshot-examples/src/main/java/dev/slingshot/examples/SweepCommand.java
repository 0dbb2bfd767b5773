package dev.slingshot.examples;

import dev.slingshot.core.SlingshotEpisode;
import dev.slingshot.core.StepRecord;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code slingshot sweep EXPERIMENT --grid key=v1,v2 ...}: runs the cartesian product of the grids,
 * one run directory per point, each in its own worker JVM (DJL allows one open gradient collector
 * per process, so runs cannot share a JVM), at most {@code --parallel} at a time, each with one
 * PyTorch thread. Then writes {@code summary.csv}, {@code summary.md} and {@code summary.png} in
 * the style of Thilak et al. 2022, Figs. 4 and 19: per point, the late slingshot episodes, the best
 * validation (test) accuracy and its step, the final one, and whether generalization came late (the
 * best accuracy first reached after the first slingshot that followed the fit).
 */
@Command(
    name = "sweep",
    mixinStandardHelpOptions = true,
    description = {
      "Runs an experiment over a grid of settings (cartesian product), one run directory per",
      "point, in parallel worker processes; writes summary.csv, summary.md and summary.png."
    })
final class SweepCommand implements Callable<Integer> {

  static final String CSV = "summary.csv";
  static final String MD = "summary.md";
  static final String PNG = "summary.png";

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "EXPERIMENT", description = "synthetic, parity, ...")
  String experiment;

  @Option(
      names = "--grid",
      paramLabel = "KEY=V1,V2,...",
      required = true,
      description =
          "A setting and its values (repeatable; the points are the cartesian product). Values of"
              + " a list setting such as hidden are separated by ';', e.g. hidden=128,128;256,256")
  List<String> grids = new ArrayList<>();

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      arity = "1..*",
      description = "A setting for every point (repeatable)")
  List<String> sets = new ArrayList<>();

  @Option(names = "--parallel", description = "Worker processes at a time (default: cores)")
  Integer parallel;

  @Option(names = "--out", paramLabel = "DIR", description = "Sweep directory")
  Path out;

  @Option(names = "--steps", description = "Optimizer steps per point (same as --set steps=N)")
  Long steps;

  @Option(names = "--seed", description = "Seed for every point (same as --set seed=N)")
  Long seed;

  /** One grid point: its assignments for the grid keys, and its directory name. */
  record Point(int index, Map<String, String> values, String name) {
    List<String> assignments() {
      List<String> a = new ArrayList<>();
      values.forEach((k, v) -> a.add(k + "=" + v));
      return a;
    }
  }

  /** What one point's run directory says. */
  record Outcome(
      Point point,
      int exitCode,
      long steps,
      int lateEpisodes,
      long firstLateSlingshot,
      double bestAccuracy,
      long bestStep,
      double finalAccuracy,
      boolean lateGeneralization,
      double[][] runningBest) {

    boolean ok() {
      return exitCode == 0;
    }
  }

  @Override
  public Integer call() throws Exception {
    Experiment e;
    List<String> common = new ArrayList<>(sets);
    if (steps != null) {
      common.add("steps=" + steps);
    }
    if (seed != null) {
      common.add("seed=" + seed);
    }
    List<Point> points;
    try {
      e = Experiment.named(experiment);
      if (!e.hasStepRecords()) {
        throw new IllegalArgumentException(
            e.id()
                + " runs its own grid and writes no step records: use 'slingshot run "
                + e.id()
                + "'");
      }
      points = points(e, grids);
      for (Point p : points) {
        List<String> all = new ArrayList<>(common);
        all.addAll(p.assignments());
        e.validate(e.defaults().with(all));
      }
      if (parallel != null && parallel < 1) {
        throw new IllegalArgumentException("--parallel must be at least 1, got " + parallel);
      }
    } catch (IllegalArgumentException ex) {
      throw new CommandLine.ParameterException(spec.commandLine(), ex.getMessage(), ex);
    }
    Path dir = out != null ? out : defaultDir(e);
    Files.createDirectories(dir);
    int workers =
        Math.min(
            points.size(),
            parallel != null ? parallel : Runtime.getRuntime().availableProcessors());
    PrintWriter err = spec.commandLine().getErr();
    err.printf(
        Locale.ROOT,
        "slingshot sweep: %s, %d point(s), %d worker process(es) -> %s%n",
        e.id(),
        points.size(),
        workers,
        dir);
    err.flush();
    ExecutorService pool = Executors.newFixedThreadPool(workers);
    List<Future<Integer>> codes = new ArrayList<>();
    for (Point p : points) {
      codes.add(pool.submit(() -> runPoint(e, p, common, dir, points.size(), err)));
    }
    pool.shutdown();
    List<Outcome> outcomes = new ArrayList<>();
    for (int i = 0; i < points.size(); i++) {
      int code = codes.get(i).get();
      outcomes.add(outcome(points.get(i), code, dir.resolve(points.get(i).name())));
    }
    pool.awaitTermination(1, TimeUnit.MINUTES);
    List<String> keys = new ArrayList<>(points.get(0).values().keySet());
    Files.writeString(dir.resolve(CSV), csv(keys, outcomes), StandardCharsets.UTF_8);
    Files.writeString(dir.resolve(MD), markdown(e, keys, common, outcomes), StandardCharsets.UTF_8);
    plot(e, outcomes, dir.resolve(PNG));
    PrintWriter o = spec.commandLine().getOut();
    long failed = outcomes.stream().filter(x -> !x.ok()).count();
    o.printf(Locale.ROOT, "%s sweep: %d point(s), %d failed%n", e.id(), outcomes.size(), failed);
    for (String f : List.of(CSV, MD, PNG)) {
      o.println("  " + dir.resolve(f));
    }
    o.flush();
    return failed == 0 ? 0 : 1;
  }

  /** The cartesian product of the grids, the first grid varying slowest. */
  static List<Point> points(Experiment e, List<String> grids) {
    Map<String, List<String>> axes = new LinkedHashMap<>();
    Map<String, Settings.Key> keys = e.defaults().keyMap();
    for (String g : grids) {
      int eq = g.indexOf('=');
      if (eq <= 0 || eq == g.length() - 1) {
        throw new IllegalArgumentException("--grid expects key=v1,v2,..., got '" + g + "'");
      }
      String key = g.substring(0, eq).trim();
      Settings.Key k = keys.get(key);
      if (k == null) {
        throw new IllegalArgumentException(
            "unknown setting '" + key + "'; valid keys: " + String.join(", ", keys.keySet()));
      }
      if (axes.containsKey(key)) {
        throw new IllegalArgumentException("--grid " + key + " given twice");
      }
      String sep = k.kind() == Settings.Kind.INT_LIST ? ";" : ",";
      List<String> values = new ArrayList<>();
      for (String v : g.substring(eq + 1).split(sep, -1)) {
        k.parse(v); // refuse invalid values before anything runs
        values.add(v.trim());
      }
      axes.put(key, values);
    }
    List<Map<String, String>> combos = new ArrayList<>();
    combos.add(new LinkedHashMap<>());
    for (Map.Entry<String, List<String>> axis : axes.entrySet()) {
      List<Map<String, String>> next = new ArrayList<>();
      for (Map<String, String> c : combos) {
        for (String v : axis.getValue()) {
          Map<String, String> m = new LinkedHashMap<>(c);
          m.put(axis.getKey(), v);
          next.add(m);
        }
      }
      combos = next;
    }
    List<Point> points = new ArrayList<>();
    int width = Integer.toString(combos.size()).length();
    for (int i = 0; i < combos.size(); i++) {
      StringBuilder name =
          new StringBuilder(String.format(Locale.ROOT, "p%0" + width + "d", i + 1));
      combos.get(i).forEach((k, v) -> name.append('_').append(k).append('=').append(v));
      String safe = name.toString().replaceAll("[^A-Za-z0-9_.=+-]", "-");
      points.add(new Point(i + 1, combos.get(i), safe));
    }
    return points;
  }

  private int runPoint(
      Experiment e, Point p, List<String> common, Path dir, int total, PrintWriter err)
      throws IOException, InterruptedException {
    Path pointDir = dir.resolve(p.name());
    Files.createDirectories(pointDir);
    List<String> options = new ArrayList<>();
    String dataDir = System.getProperty(FashionMnist.DIR_PROPERTY);
    if (dataDir != null) {
      options.add("-D" + FashionMnist.DIR_PROPERTY + "=" + dataDir);
    }
    options.add("-Dai.djl.offline=true");
    options.add("-Dai.djl.pytorch.num_threads=1");
    options.add("-Dai.djl.pytorch.num_interop_threads=1");
    options.add("-Djava.awt.headless=true");
    List<String> cmd = Slingshot.inNewJvm(options);
    cmd.add("run");
    cmd.add(e.id());
    cmd.add("--no-progress");
    cmd.add("--out");
    cmd.add(pointDir.toString());
    List<String> all = new ArrayList<>(common);
    all.addAll(p.assignments());
    if (!all.isEmpty()) {
      cmd.add("--set");
      cmd.addAll(all);
    }
    long start = System.nanoTime();
    Process proc =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(pointDir.resolve("run.log").toFile())
            .start();
    int code = proc.waitFor();
    synchronized (err) {
      err.printf(
          Locale.ROOT,
          "  [%d/%d] %s: %s in %.0f s%n",
          p.index(),
          total,
          String.join(" ", p.assignments()),
          code == 0
              ? "done"
              : "FAILED (exit " + code + ", see " + pointDir.resolve("run.log") + ")",
          (System.nanoTime() - start) / 1e9);
      err.flush();
    }
    return code;
  }

  /** Reads one point's run directory (a failed point without records gives NaNs). */
  static Outcome outcome(Point p, int code, Path pointDir) throws IOException {
    if (!Files.isRegularFile(pointDir.resolve(dev.slingshot.core.RunLog.METRICS_FILE))) {
      return new Outcome(
          p, code == 0 ? -1 : code, 0, 0, -1, Double.NaN, -1, Double.NaN, false, new double[2][0]);
    }
    RunAnalysis run = RunAnalysis.read(pointDir);
    long firstLate = -1;
    for (SlingshotEpisode ep : run.episodes) {
      if (!ep.beforeFit()) {
        firstLate = ep.startStep();
        break;
      }
    }
    StepRecord best = run.bestTest();
    StepRecord last = run.lastEval();
    List<double[]> curve = new ArrayList<>();
    double max = Double.NEGATIVE_INFINITY;
    for (StepRecord r : run.records) {
      if (r.testAccuracy().isPresent()) {
        max = Math.max(max, r.testAccuracy().getAsDouble());
        curve.add(new double[] {r.step(), max});
      }
    }
    double[][] xy = new double[2][curve.size()];
    for (int i = 0; i < curve.size(); i++) {
      xy[0][i] = curve.get(i)[0];
      xy[1][i] = curve.get(i)[1];
    }
    return new Outcome(
        p,
        code,
        run.lastStep(),
        RunAnalysis.lateEpisodes(run.episodes),
        firstLate,
        best == null ? Double.NaN : best.testAccuracy().getAsDouble(),
        best == null ? -1 : best.step(),
        last == null ? Double.NaN : last.testAccuracy().getAsDouble(),
        best != null && firstLate > 0 && best.step() > firstLate,
        xy);
  }

  static String csv(List<String> keys, List<Outcome> outcomes) {
    StringBuilder b = new StringBuilder("point,");
    keys.forEach(k -> b.append(k).append(','));
    b.append(
        "status,steps,late_slingshot_episodes,first_late_slingshot_step,best_val_acc,"
            + "best_val_acc_step,final_val_acc,late_generalization,run_dir\n");
    for (Outcome o : outcomes) {
      b.append(o.point().index()).append(',');
      keys.forEach(k -> b.append(quote(o.point().values().get(k))).append(','));
      b.append(o.ok() ? "ok" : "failed").append(',');
      b.append(o.steps()).append(',');
      b.append(o.lateEpisodes()).append(',');
      b.append(o.firstLateSlingshot() < 0 ? "" : Long.toString(o.firstLateSlingshot())).append(',');
      b.append(num(o.bestAccuracy())).append(',');
      b.append(o.bestStep() < 0 ? "" : Long.toString(o.bestStep())).append(',');
      b.append(num(o.finalAccuracy())).append(',');
      b.append(o.lateGeneralization()).append(',');
      b.append(o.point().name()).append('\n');
    }
    return b.toString();
  }

  static String markdown(
      Experiment e, List<String> keys, List<String> common, List<Outcome> outcomes) {
    StringBuilder b = new StringBuilder("# Sweep: ").append(e.id()).append("\n\n");
    b.append("Set-up: ").append(e.setup()).append(".  \n");
    b.append("Reproduces: ").append(e.paper()).append(".  \n");
    b.append("Grid: ").append(String.join(" x ", keys)).append(" (").append(outcomes.size());
    b.append(" points)");
    if (!common.isEmpty()) {
      b.append("; every point: ").append(String.join(" ", common));
    }
    b.append(".\n\n![summary](").append(PNG).append(")\n\n");
    b.append("| # | ");
    keys.forEach(k -> b.append(k).append(" | "));
    b.append(
        "status | steps | slingshots after fit | first at | best val acc (step) | final val acc |"
            + " generalization late? |\n|");
    for (int i = 0; i < keys.size() + 8; i++) {
      b.append("---|");
    }
    b.append('\n');
    for (Outcome o : outcomes) {
      b.append("| ").append(o.point().index()).append(" | ");
      keys.forEach(k -> b.append(o.point().values().get(k)).append(" | "));
      b.append(o.ok() ? "ok" : "failed (exit " + o.exitCode() + ")").append(" | ");
      b.append(o.steps()).append(" | ");
      b.append(o.lateEpisodes()).append(" | ");
      b.append(o.firstLateSlingshot() < 0 ? "–" : Long.toString(o.firstLateSlingshot()));
      b.append(" | ").append(num(o.bestAccuracy()));
      b.append(o.bestStep() < 0 ? "" : " (" + o.bestStep() + ")").append(" | ");
      b.append(num(o.finalAccuracy())).append(" | ");
      b.append(o.lateGeneralization() ? "yes" : "no").append(" |\n");
    }
    b.append(
        "\nSlingshots after fit: episodes of the parity study's loss-spike rule that began after"
            + " the training set was fitted (see each run's report.md). Validation accuracy is"
            + " each run's test_acc (App. A.9's validation set). Generalization late: the best"
            + " validation accuracy was first reached after the first such slingshot. Each point's"
            + " run directory is named after it; its run.log holds the worker's output.\n");
    return b.toString();
  }

  /** Fig. 19's style: the best validation accuracy so far against steps, green with slingshots. */
  static void plot(Experiment e, List<Outcome> outcomes, Path file) throws IOException {
    System.setProperty("java.awt.headless", "true");
    XYChart chart =
        new XYChartBuilder()
            .width(1200)
            .height(620)
            .title(
                e.id()
                    + " sweep: best validation accuracy so far; green: slingshot(s) after the fit,"
                    + " red: none; marker: the best")
            .xAxisTitle("step")
            .yAxisTitle("max validation accuracy so far")
            .build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setXAxisDecimalPattern("#,###");
    boolean any = false;
    int i = 0;
    for (Outcome o : outcomes) {
      if (o.runningBest()[0].length == 0) {
        continue;
      }
      any = true;
      boolean sling = o.lateEpisodes() > 0;
      float shade = outcomes.size() <= 1 ? 0 : (float) i++ / (outcomes.size() - 1);
      Color c =
          sling
              ? new Color(20, (int) (160 - 80 * shade), 40)
              : new Color((int) (220 - 80 * shade), 30, 30);
      String label =
          String.join(" ", o.point().assignments())
              + (sling ? " (" + o.lateEpisodes() + " slingshots)" : " (no slingshot)");
      XYSeries s = chart.addSeries(label, o.runningBest()[0], o.runningBest()[1]);
      s.setMarker(SeriesMarkers.NONE);
      s.setLineColor(c);
      s.setLineStyle(new BasicStroke(1.8f));
      XYSeries best =
          chart.addSeries(
              "best " + o.point().index(),
              new double[] {o.bestStep()},
              new double[] {o.bestAccuracy()});
      best.setMarker(SeriesMarkers.DIAMOND);
      best.setMarkerColor(c);
      best.setShowInLegend(false);
    }
    if (!any) {
      chart.addSeries("no evaluations", new double[] {0}, new double[] {0});
    }
    String name = file.toString();
    BitmapEncoder.saveBitmap(
        chart, name.substring(0, name.length() - 4), BitmapEncoder.BitmapFormat.PNG);
  }

  private static String num(double v) {
    return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.4f", v);
  }

  private static String quote(String v) {
    return v.contains(",") ? "\"" + v + "\"" : v;
  }

  static Path defaultDir(Experiment e) {
    String t = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    return Path.of("runs", "sweep-" + e.id() + "-" + t);
  }
}
