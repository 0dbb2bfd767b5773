package dev.slingshot.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.listener.TrainingListener.BatchData;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import dev.slingshot.core.Lanczos;
import dev.slingshot.core.ProbeSchedule;
import dev.slingshot.core.RunLog;
import dev.slingshot.djl.internal.OverheadBench;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The second-order probes on the monitor's schedule, end to end. */
class ProbesTest {

  private static final List<String> ALL_KEYS =
      List.of(
          ProbeMeasurement.UPDATE_SHARPNESS,
          ProbeMeasurement.LAMBDA_MAX,
          ProbeMeasurement.LAMBDA_ITERATIONS,
          ProbeMeasurement.EFFECTIVE_STEP_FRACTION,
          ProbeMeasurement.EFFECTIVE_STEP_MAX,
          ProbeMeasurement.PRECONDITIONED_SHARPNESS,
          ProbeMeasurement.PRECONDITIONED_THRESHOLD);

  @Test
  void probesRunOnTheScheduledStepsAndReachTheRunLogAndTheGauges(@TempDir Path dir)
      throws Exception {
    try (Model model = Fixtures.mlp();
        NDManager manager = NDManager.newBaseManager()) {
      Slingshot slingshot =
          Slingshot.attach(
              adamConfig(Loss.softmaxCrossEntropyLoss(), 0.01f),
              SlingshotOptions.custom().probes(ProbeSchedule.everySteps(4)).failFast(true).build());
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      SlingshotMeters.monitor(registry, slingshot, "probes");
      List<ProbeMeasurement> seen = probesOf(slingshot);
      try (RunLog log = RunLog.attach(slingshot.monitor(), dir);
          Trainer trainer = Fixtures.trainer(model, slingshot.config(), Fixtures.IN, 1)) {
        Fixtures.train(trainer, Fixtures.data(manager, 64, Fixtures.IN, 16, 1), 12);
      }
      // Due at 4, 8 and 12; step 12 has no next batch to probe on (no fixed batch): dropped.
      assertThat(seen).extracting(ProbeMeasurement::step).containsExactly(4L, 8L);
      assertThat(slingshot.probeRuns()).isEqualTo(2);
      assertThat(slingshot.internalFailures()).isZero();
      for (ProbeMeasurement m : seen) {
        assertThat(m.values().keySet()).containsExactlyInAnyOrderElementsOf(ALL_KEYS);
        assertThat(m.values().values()).allMatch(Double::isFinite);
        assertThat(m.type()).isEqualTo("probe");
        assertThat(m.batch()).isEqualTo("current");
        assertThat(m.notes()).isEmpty();
        assertThat(m.effectiveSteps())
            .extracting(s -> s.name())
            .containsExactly(
                "01Linear_weight", "01Linear_bias", "03Linear_weight", "03Linear_bias");
        assertThat(m.value(ProbeMeasurement.LAMBDA_MAX).getAsDouble()).isPositive();
        assertThat(m.value(ProbeMeasurement.PRECONDITIONED_THRESHOLD).getAsDouble())
            .isCloseTo(38 / 0.01, within(1e-6 * 3800)); // lr is the float 0.01f
      }
      assertThat(seen.get(1).lambdaWarmStarted()).isTrue();
      assertThat(slingshot.lastProbe()).isSameAs(seen.get(1));
      assertThat(registry.get("slingshot.lambda.max").tag("run", "probes").gauge().value())
          .isEqualTo(seen.get(1).values().get(ProbeMeasurement.LAMBDA_MAX));
      assertThat(registry.get("slingshot.sharpness.update").gauge().value())
          .isEqualTo(seen.get(1).values().get(ProbeMeasurement.UPDATE_SHARPNESS));
      List<String> lines = Files.readAllLines(dir.resolve(RunLog.EVENTS_FILE));
      List<String> probes = lines.stream().filter(l -> l.contains("\"type\":\"probe\"")).toList();
      assertThat(probes).hasSize(2);
      assertThat(probes.get(0))
          .startsWith("{\"step\":4,")
          .contains("\"lambda.max\":")
          .contains("\"sharpness.update\":")
          .contains("\"effective_steps\":[{\"name\":\"01Linear_weight\"");
    }
  }

  /**
   * A probe leaves no array behind: with every quantity probed at every step, the arrays that the
   * trainer's manager holds (with its sub-managers, where the adapter keeps its buffers and warm
   * starts) are as many after 240 probes as after 40. A probe that kept a Ritz vector, a step
   * vector or a gradient would add at least one array per probe.
   */
  @Test
  void probesLeaveNoArrayBehind() {
    try (Model model = Fixtures.mlp();
        NDManager manager = NDManager.newBaseManager()) {
      Slingshot slingshot =
          Slingshot.attach(
              adamConfig(Loss.softmaxCrossEntropyLoss(), 0.01f),
              SlingshotOptions.custom().probes(ProbeSchedule.everySteps(1)).failFast(true).build());
      try (Trainer trainer = Fixtures.trainer(model, slingshot.config(), Fixtures.IN, 1)) {
        ArrayDataset data = Fixtures.data(manager, 64, Fixtures.IN, 16, 1);
        Fixtures.train(trainer, data, 41);
        int after40 = trainer.getManager().getManagedArrays().size();
        long probes40 = slingshot.probeRuns();
        Fixtures.train(trainer, data, 200);
        int after240 = trainer.getManager().getManagedArrays().size();
        assertThat(slingshot.probeRuns() - probes40).isEqualTo(200);
        assertThat(slingshot.internalFailures()).isZero();
        assertThat(after240).isEqualTo(after40);
      }
    }
  }

  @Test
  void aFixedProbeBatchProbesTheLastStepAtCloseAndOtherOptimizersGetNotes() {
    try (Model model = Fixtures.mlp();
        NDManager manager = NDManager.newBaseManager()) {
      NDArray x = manager.randomNormal(new Shape(8, Fixtures.IN));
      NDArray y = manager.create(new float[] {0, 1, 0, 1, 1, 0, 1, 0});
      Slingshot slingshot =
          Slingshot.attach(
              new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                  .optOptimizer(
                      Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.1f)).build()),
              SlingshotOptions.custom()
                  .probes(ProbeSchedule.everySteps(4))
                  .probeBatch(new NDList(x), new NDList(y))
                  .failFast(true)
                  .build());
      List<ProbeMeasurement> seen = probesOf(slingshot);
      trainTestMlp(model, slingshot, manager, 12);
      assertThat(seen).extracting(ProbeMeasurement::step).containsExactly(4L, 8L, 12L);
      assertThat(x.isReleased()).isFalse();
      for (ProbeMeasurement m : seen) {
        assertThat(m.batch()).isEqualTo("fixed");
        assertThat(m.values().keySet())
            .containsExactlyInAnyOrder(
                ProbeMeasurement.UPDATE_SHARPNESS,
                ProbeMeasurement.LAMBDA_MAX,
                ProbeMeasurement.LAMBDA_ITERATIONS);
        assertThat(m.notes()).singleElement().asString().contains("Sgd");
        assertThat(m.effectiveSteps()).isEmpty();
      }
    }
  }

  /**
   * Linear regression with DJL's L2Loss, ½·mean((Xw + b − y)²): the Hessian in (w, b) is ZᵀZ/n with
   * Z = [X 1], the same at every θ. λmax, the update sharpness along the update taken, Adam's
   * effective steps and the preconditioned sharpness are checked against the analytic Hessian on
   * the host and Adam's state read back in the test.
   */
  @Test
  void agreesWithTheAnalyticHessianOfLinearRegression() {
    int n = 32;
    int in = 4;
    Random r = new Random(7);
    float[] x = new float[n * in];
    float[] y = new float[n];
    for (int i = 0; i < n; i++) {
      double s = 0.3;
      for (int j = 0; j < in; j++) {
        x[i * in + j] = (float) (r.nextGaussian() * (j + 1));
        s += x[i * in + j] * (j - 1.5);
      }
      y[i] = (float) (s + 0.1 * r.nextGaussian());
    }
    double[][] h = new double[in + 1][in + 1];
    for (int i = 0; i < n; i++) {
      double[] z = new double[in + 1];
      for (int j = 0; j < in; j++) {
        z[j] = x[i * in + j];
      }
      z[in] = 1;
      for (int a = 0; a <= in; a++) {
        for (int b = 0; b <= in; b++) {
          h[a][b] += z[a] * z[b] / n;
        }
      }
    }
    double lambdaMax = topEigenvalue(h);
    try (Model model = Model.newInstance("linreg");
        NDManager manager = NDManager.newBaseManager()) {
      model.setBlock(Linear.builder().setUnits(1).build());
      ArrayDataset data =
          new ArrayDataset.Builder()
              .setData(manager.create(x, new Shape(n, in)))
              .optLabels(manager.create(y, new Shape(n, 1)))
              .setSampling(n, false) // full batch: the probe batch is the whole data set
              .build();
      float lr = 0.05f;
      Slingshot slingshot =
          Slingshot.attach(
              adamConfig(Loss.l2Loss(), lr),
              SlingshotOptions.custom()
                  .probes(ProbeSchedule.everySteps(3))
                  .lanczos(Lanczos.custom().tolerance(1e-7).build())
                  .preconditionedLanczos(Lanczos.custom().tolerance(1e-7).build())
                  .failFast(true)
                  .build());
      Snapshots snap = new Snapshots(model, slingshot);
      List<ProbeMeasurement> seen = new ArrayList<>();
      List<String> untouched = new ArrayList<>();
      slingshot.onEvent(
          e -> {
            if (e instanceof ProbeMeasurement m) {
              seen.add(m);
              untouched.add(snap.compareWithBefore(m.step() + 1));
            }
          });
      try (Trainer trainer = Fixtures.trainer(model, slingshot.config(), in, 3)) {
        Fixtures.train(trainer, data, 10);
      }
      assertThat(seen).extracting(ProbeMeasurement::step).containsExactly(3L, 6L, 9L);
      assertThat(untouched).containsOnly("");
      for (ProbeMeasurement m : seen) {
        long t = m.step();
        assertThat(m.value(ProbeMeasurement.LAMBDA_MAX).getAsDouble())
            .isCloseTo(lambdaMax, within(1e-5 * lambdaMax));
        assertThat(m.lambdaConverged()).isTrue();

        // u_t = θ_t − θ_{t−1}: the parameters seen at the batches of steps t + 1 and t.
        double[] u = minus(snap.params.get(t + 1), snap.params.get(t));
        double expected = dot(u, times(h, u)) / dot(u, u);
        assertThat(m.value(ProbeMeasurement.UPDATE_SHARPNESS).getAsDouble())
            .isCloseTo(expected, within(1e-4 * Math.abs(expected)));

        // Effective step of update t from Adam's v_t (after update t), DJL semantics, written out.
        double[] v = snap.variances.get(t + 1);
        double[] m1 = snap.means.get(t + 1);
        double c = lr * Math.sqrt(1 - Math.pow(0.999, t)) / (1 - Math.pow(0.9, t));
        double[] step = new double[v.length];
        double max = 0;
        int above = 0;
        for (int i = 0; i < v.length; i++) {
          step[i] = c / (Math.sqrt(v[i]) + 1e-8);
          max = Math.max(max, step[i]);
          above += step[i] > 2 / lambdaMax ? 1 : 0;
        }
        // That is the step Adam applied: u_t = −step ⊙ m_t (no weight decay).
        double[] predicted = new double[u.length];
        for (int i = 0; i < u.length; i++) {
          predicted[i] = -step[i] * m1[i];
        }
        assertThat(norm(minus(u, predicted)) / norm(u)).isLessThan(1e-3);
        assertThat(m.value(ProbeMeasurement.EFFECTIVE_STEP_MAX).getAsDouble())
            .isCloseTo(max, within(1e-5 * max));
        assertThat(m.value(ProbeMeasurement.EFFECTIVE_STEP_FRACTION).getAsDouble())
            .isEqualTo((double) above / v.length);

        // λmax(D^½ H D^½) with D = step/lr.
        double[][] p = new double[in + 1][in + 1];
        for (int a = 0; a <= in; a++) {
          for (int b = 0; b <= in; b++) {
            p[a][b] = Math.sqrt(step[a] / lr) * h[a][b] * Math.sqrt(step[b] / lr);
          }
        }
        double pre = topEigenvalue(p);
        assertThat(m.value(ProbeMeasurement.PRECONDITIONED_SHARPNESS).getAsDouble())
            .isCloseTo(pre, within(1e-4 * pre));
      }
    }
  }

  /**
   * The preconditioned sharpness runs Lanczos with settings of its own: along the same training
   * run, a tight tolerance there leaves λmax as it was bit for bit, takes more products, and lands
   * within the default tolerance's bound (1%) of the default's value.
   */
  @Test
  void thePreconditionedSharpnessHasItsOwnLanczosSettings() {
    SlingshotOptions defaults = SlingshotOptions.ofDefaults();
    assertThat(defaults.lanczos().tolerance()).isEqualTo(Lanczos.DEFAULT_TOLERANCE);
    assertThat(defaults.preconditionedLanczos().tolerance())
        .isEqualTo(SlingshotOptions.DEFAULT_PRECONDITIONED_TOLERANCE)
        .isEqualTo(1e-2);
    assertThat(defaults.preconditionedLanczos().maxIterations())
        .isEqualTo(Lanczos.DEFAULT_MAX_ITERATIONS);
    assertThatThrownBy(() -> SlingshotOptions.custom().preconditionedLanczos(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("preconditioned");

    List<ProbeMeasurement> byDefault = adamProbes(SlingshotOptions.custom());
    List<ProbeMeasurement> tight =
        adamProbes(
            SlingshotOptions.custom()
                .preconditionedLanczos(Lanczos.custom().tolerance(1e-7).build()));
    assertThat(byDefault).extracting(ProbeMeasurement::step).containsExactly(4L, 8L, 12L);
    assertThat(tight).extracting(ProbeMeasurement::step).containsExactly(4L, 8L, 12L);
    int fewer = 0;
    for (int i = 0; i < byDefault.size(); i++) {
      ProbeMeasurement d = byDefault.get(i);
      ProbeMeasurement t = tight.get(i);
      assertThat(d.value(ProbeMeasurement.LAMBDA_MAX))
          .isEqualTo(t.value(ProbeMeasurement.LAMBDA_MAX));
      double reference = t.value(ProbeMeasurement.PRECONDITIONED_SHARPNESS).getAsDouble();
      assertThat(d.value(ProbeMeasurement.PRECONDITIONED_SHARPNESS).getAsDouble())
          .isCloseTo(reference, within(1e-2 * reference));
      assertThat(d.preconditionedIterations()).isLessThanOrEqualTo(t.preconditionedIterations());
      fewer += d.preconditionedIterations() < t.preconditionedIterations() ? 1 : 0;
    }
    assertThat(fewer).isPositive();
  }

  /**
   * The probes of 13 steps of the test MLP with Adam and {@code options}, a probe every 4 steps
   * (the probe of step 12 runs at the batch of step 13).
   */
  private static List<ProbeMeasurement> adamProbes(SlingshotOptions.Builder options) {
    try (Model model = Fixtures.mlp();
        NDManager manager = NDManager.newBaseManager()) {
      Slingshot slingshot =
          Slingshot.attach(
              adamConfig(Loss.softmaxCrossEntropyLoss(), 0.01f),
              options.probes(ProbeSchedule.everySteps(4)).failFast(true).build());
      List<ProbeMeasurement> seen = probesOf(slingshot);
      trainTestMlp(model, slingshot, manager, 13);
      return seen;
    }
  }

  /** The probe measurements {@code slingshot} publishes from now on, in order. */
  private static List<ProbeMeasurement> probesOf(Slingshot slingshot) {
    List<ProbeMeasurement> seen = new ArrayList<>();
    slingshot.onEvent(
        e -> {
          if (e instanceof ProbeMeasurement m) {
            seen.add(m);
          }
        });
    return seen;
  }

  /**
   * Trains the test MLP {@code steps} steps on the seeded test data, attached to {@code slingshot}.
   */
  private static void trainTestMlp(Model model, Slingshot slingshot, NDManager manager, int steps) {
    try (Trainer trainer = Fixtures.trainer(model, slingshot.config(), Fixtures.IN, 1)) {
      Fixtures.train(trainer, Fixtures.data(manager, 64, Fixtures.IN, 16, 1), steps);
    }
  }

  @Test
  void aFailingProbeIsCountedAndTrainingGoesOnUnlessFailFast() {
    for (boolean failFast : new boolean[] {false, true}) {
      try (Model model = Fixtures.mlp();
          NDManager manager = NDManager.newBaseManager()) {
        NDArray wrong = manager.zeros(new Shape(4, Fixtures.IN + 3));
        Slingshot slingshot =
            Slingshot.attach(
                adamConfig(Loss.softmaxCrossEntropyLoss(), 0.01f),
                SlingshotOptions.custom()
                    .probes(ProbeSchedule.everySteps(2))
                    .probeBatch(new NDList(wrong), new NDList(manager.zeros(new Shape(4))))
                    .failFast(failFast)
                    .build());
        ArrayDataset data = Fixtures.data(manager, 64, Fixtures.IN, 16, 1);
        try (Trainer trainer = Fixtures.trainer(model, slingshot.config(), Fixtures.IN, 1)) {
          if (failFast) {
            assertThatThrownBy(() -> Fixtures.train(trainer, data, 5))
                .isInstanceOf(RuntimeException.class);
          } else {
            Fixtures.train(trainer, data, 5);
            assertThat(slingshot.steps()).isEqualTo(5);
            assertThat(slingshot.internalFailures()).isEqualTo(2);
            assertThat(slingshot.probeRuns()).isZero();
            assertThat(slingshot.lastProbe()).isNull();
          }
        }
      }
    }
  }

  @Test
  void optionsRejectAProbeScheduleNextToAMonitor() {
    SlingshotOptions.Builder b =
        SlingshotOptions.custom().monitor(dev.slingshot.core.SlingshotMonitor.builder().build());
    assertThatThrownBy(() -> b.probes(ProbeSchedule.everySteps(2)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("monitor");
    assertThatThrownBy(() -> SlingshotOptions.custom().probeQuantities())
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(SlingshotOptions.ofDefaults().probeQuantities())
        .containsExactlyInAnyOrder(ProbeQuantity.values());
  }

  @Test
  void probe16BenchRuns() {
    OverheadBench.Result r = OverheadBench.probe16Mlp(16, 2);
    assertThat(r.ratio()).isPositive().isFinite();
    // Two timed chunks of 16 steps on each side: two probes, each at least one product per
    // Lanczos run.
    assertThat(r.probes()).isEqualTo(2);
    assertThat(r.probe().millis()).isPositive().isFinite();
    assertThat(r.probe().lambdaIterations()).isGreaterThanOrEqualTo(1);
    assertThat(r.probe().preconditionedIterations()).isGreaterThanOrEqualTo(1);
    assertThat(OverheadBench.mlp(10, 2).probes()).isZero();
  }

  /** The benchmarks train on the same data in every run (so their probes take the same steps). */
  @Test
  void benchDataIsTheSameEveryTime() {
    try (NDManager manager = NDManager.newBaseManager()) {
      ArrayDataset a = OverheadBench.mlpData(manager, 40, 2, 32);
      manager.randomNormal(new Shape(100)); // moves the engine's generator on
      ArrayDataset b = OverheadBench.mlpData(manager, 40, 2, 32);
      for (int i = 0; i < 2; i++) {
        NDArray x = a.get(manager, i).getData().singletonOrThrow();
        NDArray y = b.get(manager, i).getData().singletonOrThrow();
        assertThat(y.toFloatArray()).containsExactly(x.toFloatArray());
        assertThat(b.get(manager, i).getLabels().singletonOrThrow().toFloatArray())
            .containsExactly(a.get(manager, i).getLabels().singletonOrThrow().toFloatArray());
      }
      // Not a constant: rows differ.
      assertThat(a.get(manager, 0).getData().singletonOrThrow().toFloatArray())
          .isNotEqualTo(a.get(manager, 1).getData().singletonOrThrow().toFloatArray());
    }
  }

  private static DefaultTrainingConfig adamConfig(Loss loss, float lr) {
    return new DefaultTrainingConfig(loss)
        .optOptimizer(Optimizer.adam().optLearningRateTracker(Tracker.fixed(lr)).build());
  }

  /**
   * Host copies, at every training batch (before the built-in probe runs), of the parameters, their
   * gradients and Adam's state, keyed by the coming step; and the comparison after a probe.
   */
  private static final class Snapshots {
    final Map<Long, double[]> params = new HashMap<>();
    final Map<Long, double[]> grads = new HashMap<>();
    final Map<Long, double[]> means = new HashMap<>();
    final Map<Long, double[]> variances = new HashMap<>();
    private final Model model;
    private final Optimizer optimizer;

    Snapshots(Model model, Slingshot slingshot) {
      this.model = model;
      this.optimizer = ((InstrumentedOptimizer) slingshot.config().getOptimizer()).delegate();
      slingshot.addProbe(
          new ScheduledProbe() {
            @Override
            public boolean due(long step) {
              return true;
            }

            @Override
            public void run(Trainer trainer, BatchData batch, long step) {
              params.put(step, hostParams());
              grads.put(step, hostGrads());
              means.put(step, adamState("means"));
              variances.put(step, adamState("variances"));
            }
          });
    }

    /** Empty when parameters, gradients and Adam's state are bit-identical to the snapshot. */
    String compareWithBefore(long coming) {
      StringBuilder diff = new StringBuilder();
      if (!java.util.Arrays.equals(params.get(coming), hostParams())) {
        diff.append("params ");
      }
      if (!java.util.Arrays.equals(grads.get(coming), hostGrads())) {
        diff.append("grads ");
      }
      if (!java.util.Arrays.equals(means.get(coming), adamState("means"))
          || !java.util.Arrays.equals(variances.get(coming), adamState("variances"))) {
        diff.append("optimizer state");
      }
      return diff.toString();
    }

    private double[] hostParams() {
      List<Double> out = new ArrayList<>();
      for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
        for (float f : p.getValue().getArray().toFloatArray()) {
          out.add((double) f);
        }
      }
      return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private double[] hostGrads() {
      List<Double> out = new ArrayList<>();
      for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
        try (NDArray g = p.getValue().getArray().getGradient()) {
          for (float f : g.toFloatArray()) {
            out.add((double) f);
          }
        }
      }
      return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private double[] adamState(String field) {
      try {
        Field f = optimizer.getClass().getDeclaredField(field);
        f.setAccessible(true);
        Map<?, ?> state = (Map<?, ?>) f.get(optimizer);
        List<Double> out = new ArrayList<>();
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
          Map<?, ?> perDevice = (Map<?, ?>) state.get(p.getValue().getId());
          if (perDevice == null) {
            continue;
          }
          for (Object a : perDevice.values()) {
            for (float x : ((NDArray) a).toFloatArray()) {
              out.add((double) x);
            }
          }
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** The largest eigenvalue of a small symmetric matrix, by cyclic Jacobi rotations. */
  static double topEigenvalue(double[][] matrix) {
    int n = matrix.length;
    double[][] a = new double[n][];
    for (int i = 0; i < n; i++) {
      a[i] = matrix[i].clone();
    }
    for (int sweep = 0; sweep < 100; sweep++) {
      double off = 0;
      for (int p = 0; p < n; p++) {
        for (int q = p + 1; q < n; q++) {
          off += a[p][q] * a[p][q];
        }
      }
      if (off < 1e-30) {
        break;
      }
      for (int p = 0; p < n; p++) {
        for (int q = p + 1; q < n; q++) {
          if (a[p][q] == 0) {
            continue;
          }
          double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
          double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          if (theta == 0) {
            t = 1;
          }
          double c = 1 / Math.sqrt(t * t + 1);
          double s = t * c;
          for (int k = 0; k < n; k++) {
            double akp = a[k][p];
            double akq = a[k][q];
            a[k][p] = c * akp - s * akq;
            a[k][q] = s * akp + c * akq;
          }
          for (int k = 0; k < n; k++) {
            double apk = a[p][k];
            double aqk = a[q][k];
            a[p][k] = c * apk - s * aqk;
            a[q][k] = s * apk + c * aqk;
          }
        }
      }
    }
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) {
      max = Math.max(max, a[i][i]);
    }
    return max;
  }

  private static double[] times(double[][] a, double[] u) {
    double[] out = new double[u.length];
    for (int i = 0; i < u.length; i++) {
      for (int j = 0; j < u.length; j++) {
        out[i] += a[i][j] * u[j];
      }
    }
    return out;
  }

  private static double[] minus(double[] a, double[] b) {
    double[] out = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = a[i] - b[i];
    }
    return out;
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  private static double norm(double[] a) {
    return Math.sqrt(dot(a, a));
  }
}
