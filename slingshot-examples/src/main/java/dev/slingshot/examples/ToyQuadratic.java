package dev.slingshot.examples;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Thilak et al. 2022, App. D, "A Toy Setting to relate Slingshot Effects and Loss Curvature": the
 * sign-like adaptive update
 *
 * <pre>
 *   x_{t+1} = x_t − μ · g / (|g| + ε),   g = A x_t + B   (element-wise)
 * </pre>
 *
 * on the quadratic {@code L(x) = ½ xᵀAx + Bᵀx + C} with A symmetric positive definite. The error
 * {@code e_t = x_t − x*} evolves as {@code e_{t+1} = (I − μ diag(1/(|Ae_t|+ε)) A) e_t}; the paper
 * states that {@code ‖A‖_s < 2ε/μ} makes this map a contraction, so the iterates converge to {@code
 * x* = −A⁻¹B}. Near x* the map is {@code I − (μ/ε)A}, whose eigenvalue {@code 1 − μλ_max/ε} is
 * below −1 when {@code ‖A‖_s > 2ε/μ}: then x* repels and the bounded steps (each coordinate moves
 * less than μ) settle into an oscillation around it (in one dimension, the 2-cycle {@code ±(μ/2 −
 * ε/a)}). So the condition decides convergence exactly, and this experiment shows it numerically
 * over a grid of ε around the critical {@code ε* = μ‖A‖_s/2}, for a diagonal A and a randomly
 * rotated one with the same spectrum.
 */
final class ToyQuadratic {

  static final String PLOT_PNG = "toy-quadratic.png";

  /** The grid: ε = ε* · ratio; no point at the marginal ratio 1. */
  static final double[] EPS_RATIOS = {0.1, 0.25, 0.5, 0.8, 0.9, 0.95, 1.05, 1.1, 1.25, 2, 4, 10};

  private ToyQuadratic() {}

  static List<Settings.Key> keys() {
    return List.of(
        Settings.Key.ofInt("dim", 8, 1, 1000, "dimension d of x"),
        Settings.Key.ofDouble("mu", 0.01, Double.MIN_VALUE, 100, "learning rate mu"),
        Settings.Key.ofDouble(
            "a_norm", 10, Double.MIN_VALUE, 1e6, "spectral norm of A (largest eigenvalue)"),
        Settings.Key.ofDouble("cond", 10, 1, 1e6, "condition number of A (spread of eigenvalues)"),
        Settings.Key.ofLong("steps", 20_000, 1, "iterations per grid point"),
        Settings.Key.ofDouble(
            "tol", 1e-8, Double.MIN_VALUE, 1, "converged: final ||x - x*|| below this"),
        Settings.Key.ofLong("seed", 0, Long.MIN_VALUE, "seed for B, x0 and the rotation"));
  }

  static List<String> files() {
    return List.of(ParityTraining.CONFIG_FILE, PLOT_PNG, RunReport.REPORT_FILE);
  }

  /** A quadratic {@code ½ xᵀAx + Bᵀx} and a start point. */
  record Problem(String name, double[][] a, double[] b, double[] xStar, double[] x0) {}

  /** One grid point's outcome. */
  record Row(
      String problem,
      double eps,
      double aNorm,
      double mu,
      boolean predicted,
      boolean observed,
      double finalError,
      double finalExcessLoss) {}

  /** The eigenvalues λ_max·cond^(−i/(d−1)), i = 0..d−1 (λ_max first). */
  static double[] spectrum(int d, double aNorm, double cond) {
    double[] l = new double[d];
    for (int i = 0; i < d; i++) {
      l[i] = d == 1 ? aNorm : aNorm * Math.pow(cond, -(double) i / (d - 1));
    }
    return l;
  }

  /** A diagonal A and a rotated Q·diag·Qᵀ (Q from Gram-Schmidt on a Gaussian matrix). */
  static List<Problem> problems(int d, double aNorm, double cond, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] l = spectrum(d, aNorm, cond);
    double[][] diag = new double[d][d];
    for (int i = 0; i < d; i++) {
      diag[i][i] = l[i];
    }
    double[][] q = orthogonal(d, r);
    double[][] rot = new double[d][d];
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        double s = 0;
        for (int k = 0; k < d; k++) {
          s += q[i][k] * l[k] * q[j][k];
        }
        rot[i][j] = s;
      }
    }
    List<Problem> out = new ArrayList<>();
    for (Object[] p : new Object[][] {{"diagonal", diag}, {"rotated", rot}}) {
      double[][] a = (double[][]) p[1];
      double[] xStar = new double[d];
      for (int i = 0; i < d; i++) {
        xStar[i] = SyntheticData.gaussian(r);
      }
      double[] b = matVec(a, xStar);
      for (int i = 0; i < d; i++) {
        b[i] = -b[i]; // B = −A x*, so x* = −A⁻¹B exactly
      }
      double[] u = new double[d];
      for (int i = 0; i < d; i++) {
        u[i] = SyntheticData.gaussian(r);
      }
      double nu = norm(u);
      double[] x0 = new double[d];
      for (int i = 0; i < d; i++) {
        x0[i] = xStar[i] + u[i] / nu; // ‖x0 − x*‖ = 1
      }
      out.add(new Problem((String) p[0], a, b, xStar, x0));
    }
    return out;
  }

  /**
   * Iterates App. D's update {@code steps} times from {@code p.x0} and returns the final error
   * vector {@code x_T − x*}.
   */
  static double[] iterate(Problem p, double mu, double eps, long steps) {
    int d = p.b().length;
    double[] x = p.x0().clone();
    double[] g = new double[d];
    for (long t = 0; t < steps; t++) {
      for (int i = 0; i < d; i++) {
        double s = p.b()[i];
        double[] row = p.a()[i];
        for (int j = 0; j < d; j++) {
          s += row[j] * x[j];
        }
        g[i] = s;
      }
      for (int i = 0; i < d; i++) {
        x[i] -= mu * g[i] / (Math.abs(g[i]) + eps);
      }
    }
    double[] e = new double[d];
    for (int i = 0; i < d; i++) {
      e[i] = x[i] - p.xStar()[i];
    }
    return e;
  }

  /** Every (problem, ε) grid point. */
  static List<Row> grid(Settings s) {
    double mu = s.getDouble("mu");
    double aNorm = s.getDouble("a_norm");
    double critical = mu * aNorm / 2;
    List<Row> rows = new ArrayList<>();
    for (Problem p : problems(s.getInt("dim"), aNorm, s.getDouble("cond"), s.getLong("seed"))) {
      for (double ratio : EPS_RATIOS) {
        double eps = critical * ratio;
        double[] e = iterate(p, mu, eps, s.getLong("steps"));
        double err = norm(e);
        double[] ae = matVec(p.a(), e);
        double excess = 0;
        for (int i = 0; i < e.length; i++) {
          excess += 0.5 * e[i] * ae[i];
        }
        rows.add(
            new Row(
                p.name(),
                eps,
                aNorm,
                mu,
                aNorm < 2 * eps / mu,
                err < s.getDouble("tol"),
                err,
                excess));
      }
    }
    return rows;
  }

  static ParityTraining.Result run(
      Experiment e, Settings s, Path dir, ParityTraining.Progress progress) throws IOException {
    Files.createDirectories(dir);
    System.setProperty("java.awt.headless", "true");
    Instant start = Instant.now();
    List<Row> rows;
    try {
      rows = grid(s);
      progress.update(s.getLong("steps"), 0, 0, 0);
    } finally {
      progress.close();
    }
    Duration elapsed = Duration.between(start, Instant.now());
    Map<String, Object> c = RunFiles.configHead(e, s);
    c.put("eps_ratios", EPS_RATIOS);
    c.put("dtype", "float64");
    c.put("java_version", System.getProperty("java.version"));
    c.put("slingshot_version", ParityTraining.version());
    List<Map<String, Object>> out = new ArrayList<>();
    for (Row r : rows) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("problem", r.problem());
      m.put("eps", r.eps());
      m.put("a_norm", r.aNorm());
      m.put("predicted_converges", r.predicted());
      m.put("observed_converges", r.observed());
      m.put("final_error", r.finalError());
      m.put("final_excess_loss", r.finalExcessLoss());
      out.add(m);
    }
    c.put("rows", out);
    c.put(
        "result",
        Map.of(
            "steps_completed",
            s.getLong("steps"),
            "wall_seconds",
            elapsed.toMillis() / 1000.0,
            "ms_per_step",
            elapsed.toNanos() / 1e6 / s.getLong("steps")));
    RunFiles.writeJson(dir.resolve(ParityTraining.CONFIG_FILE), c);
    plot(rows, s, dir.resolve(PLOT_PNG));
    Files.writeString(
        dir.resolve(RunReport.REPORT_FILE), markdown(e, s, rows), StandardCharsets.UTF_8);
    return new ParityTraining.Result(s.getLong("steps"), elapsed, 0, 0);
  }

  static String markdown(Experiment e, Settings s, List<Row> rows) {
    double mu = s.getDouble("mu");
    double aNorm = s.getDouble("a_norm");
    StringBuilder b = new StringBuilder("# Run report: ").append(e.id()).append("\n\n");
    b.append("Set-up: ").append(e.setup()).append(".  \n");
    b.append("Reproduces: ").append(e.paper()).append(".  \n");
    b.append(
        String.format(
            Locale.ROOT,
            "d = %d, eigenvalues of A from %s down to %s (condition number %s), mu = %s, %d"
                + " iterations from ||x0 - x*|| = 1, converged when ||x_T - x*|| < %s; the critical"
                + " eps* = mu ||A|| / 2 = %s.%n%n",
            s.getInt("dim"),
            g(aNorm),
            g(aNorm / s.getDouble("cond")),
            g(s.getDouble("cond")),
            g(mu),
            s.getLong("steps"),
            g(s.getDouble("tol")),
            g(mu * aNorm / 2)));
    b.append("![toy-quadratic](").append(PLOT_PNG).append(")\n\n");
    long agree = rows.stream().filter(r -> r.predicted() == r.observed()).count();
    b.append("Prediction (||A|| < 2 eps/mu) and observation agree on ")
        .append(agree)
        .append(" of ")
        .append(rows.size())
        .append(" grid points.\n\n");
    b.append(
        "| A | eps | eps/eps* | ‖A‖ | 2 eps/mu | predicted converge? | observed converge? |"
            + " final ‖x − x*‖ | final loss − min |\n");
    b.append("|---|---|---|---|---|---|---|---|---|\n");
    for (Row r : rows) {
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %s | %s | %s | %s | %s | %.3e | %.3e |%n",
              r.problem(),
              g(r.eps()),
              g(r.eps() / (mu * aNorm / 2)),
              g(r.aNorm()),
              g(2 * r.eps() / mu),
              r.predicted() ? "yes" : "no",
              r.observed() ? "yes" : "no",
              r.finalError(),
              r.finalExcessLoss()));
    }
    b.append(
        "\nBelow eps* the iterates do not converge but oscillate around x* with an amplitude of"
            + " order mu/2 - eps/lambda_max (the one-dimensional 2-cycle); above it they converge"
            + " geometrically. Smaller eps demands a flatter quadratic (smaller ||A||), the"
            + " paper's argument for why small eps forces Adam towards low-curvature regions.\n");
    return b.toString();
  }

  private static void plot(List<Row> rows, Settings s, Path file) throws IOException {
    XYChart chart =
        new XYChartBuilder()
            .width(1000)
            .height(560)
            .title("App. D toy quadratic: final ||x - x*|| after " + s.getLong("steps") + " steps")
            .xAxisTitle("eps (log)")
            .yAxisTitle("final ||x_T - x*|| (log; below 1e-16 drawn at 1e-16)")
            .build();
    chart.getStyler().setXAxisLogarithmic(true);
    chart.getStyler().setYAxisLogarithmic(true);
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    Color[] colors = {new Color(31, 119, 180), new Color(214, 39, 40)};
    int i = 0;
    for (String problem : List.of("diagonal", "rotated")) {
      List<Row> rs = rows.stream().filter(r -> r.problem().equals(problem)).toList();
      double[] x = rs.stream().mapToDouble(Row::eps).toArray();
      double[] y = rs.stream().mapToDouble(r -> Math.max(r.finalError(), 1e-16)).toArray();
      XYSeries series = chart.addSeries(problem + " A", x, y);
      series.setMarker(SeriesMarkers.CIRCLE);
      series.setLineColor(colors[i]);
      series.setMarkerColor(colors[i]);
      series.setLineStyle(new BasicStroke(1.5f));
      i++;
    }
    double critical = s.getDouble("mu") * s.getDouble("a_norm") / 2;
    AnnotationLine line = new AnnotationLine(critical, true, false);
    chart.getStyler().setAnnotationLineColor(new Color(44, 160, 44));
    chart.addAnnotation(line);
    XYSeries legend =
        chart.addSeries(
            "eps* = mu ||A|| / 2 (converges to the right of it)",
            new double[] {critical},
            new double[] {1e-16});
    legend.setMarker(SeriesMarkers.NONE);
    legend.setLineColor(new Color(44, 160, 44));
    String name = file.toString();
    BitmapEncoder.saveBitmap(
        chart, name.substring(0, name.length() - 4), BitmapEncoder.BitmapFormat.PNG);
  }

  private static String g(double v) {
    return String.format(Locale.ROOT, "%.4g", v);
  }

  private static double[] matVec(double[][] a, double[] v) {
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      double s = 0;
      for (int j = 0; j < v.length; j++) {
        s += a[i][j] * v[j];
      }
      out[i] = s;
    }
    return out;
  }

  private static double norm(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x * x;
    }
    return Math.sqrt(s);
  }

  private static double[][] orthogonal(int d, SplittableRandom r) {
    double[][] q = new double[d][d]; // columns q[.][k]
    for (int k = 0; k < d; k++) {
      double[] v = new double[d];
      for (int i = 0; i < d; i++) {
        v[i] = SyntheticData.gaussian(r);
      }
      for (int pass = 0; pass < 2; pass++) {
        for (int j = 0; j < k; j++) {
          double dot = 0;
          for (int i = 0; i < d; i++) {
            dot += v[i] * q[i][j];
          }
          for (int i = 0; i < d; i++) {
            v[i] -= dot * q[i][j];
          }
        }
      }
      double n = norm(v);
      for (int i = 0; i < d; i++) {
        q[i][k] = v[i] / n;
      }
    }
    return q;
  }
}
