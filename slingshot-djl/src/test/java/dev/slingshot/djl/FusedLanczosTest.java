package dev.slingshot.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.slingshot.core.Eigenpair;
import dev.slingshot.core.Lanczos;
import dev.slingshot.core.PreconditionedSharpness;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The Lanczos iteration in one TorchScript call ({@code lanczos.pt}) against core's {@link Lanczos}
 * on the same products, the same start vector and the same settings: ½θᵀAθ + bᵀθ with a known
 * spectrum (top eigenvalue 6), of A itself and of D^½AD^½.
 */
class FusedLanczosTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource({"FLOAT32, 1e-5", "FLOAT64, 1e-10"})
  void takesTheStepsOfCoreLanczos(DataType dtype, double tolerance) {
    assertThat(TorchScriptHvp.convertsListsOnce()).isTrue();
    try (Graph g = new Graph(dtype, ExactHvpTest.spectrum(), 11)) {
      TorchScriptHvp.FlatProducts fused = g.h.flatProducts();
      assertThat(fused.fusesLanczos()).isTrue();
      Lanczos settings = Lanczos.custom().tolerance(1e-6).build();
      NDArray like = g.m.zeros(new ai.djl.ndarray.types.Shape(g.q.n), dtype);
      NDArray start = g.space.randomLike(like, settings.seed());

      Eigenpair<NDArray> core = settings.topEigenpair(g.space, g.h.flat(), like, null);
      Eigenpair<NDArray> one = fused.lanczos(settings, start, null, false, g.m);
      assertThat(one.value()).isCloseTo(6, within(6 * tolerance));
      assertThat(one.value()).isCloseTo(core.value(), within(6 * tolerance));
      assertThat(one.iterations()).isBetween(core.iterations() - 1, core.iterations() + 1);
      assertThat(one.converged()).isTrue();
      assertThat(one.warmStarted()).isFalse();
      assertThat(one.errorEstimate()).isLessThanOrEqualTo(1e-6 * one.value());
      assertThat(one.vector().getShape()).isEqualTo(like.getShape());
      assertThat(one.vector().getDataType()).isEqualTo(dtype);
      assertThat(g.space.norm(one.vector())).isCloseTo(1, within(1e-5));
      // |cos| between the two Ritz vectors: the same eigenvector up to sign.
      assertThat(Math.abs(g.space.dot(one.vector(), core.vector()))).isCloseTo(1, within(1e-4));

      Eigenpair<NDArray> warm = fused.lanczos(settings, one.vector(), null, true, g.m);
      assertThat(warm.iterations()).isLessThanOrEqualTo(2);
      assertThat(warm.warmStarted()).isTrue();
      assertThat(warm.value()).isCloseTo(6, within(6 * tolerance));

      Eigenpair<NDArray> capped =
          fused.lanczos(Lanczos.custom().maxIterations(2).build(), start, null, false, g.m);
      assertThat(capped.iterations()).isEqualTo(2);
      assertThat(capped.converged()).isFalse();

      // D^½ A D^½ with a spread of D over three decades.
      double[] dv = new double[g.q.n];
      for (int i = 0; i < dv.length; i++) {
        dv[i] = Math.pow(10, -1.5 + 3.0 * i / (dv.length - 1));
      }
      NDArray sqrtD = g.m.create(dv).toType(dtype, false);
      Eigenpair<NDArray> corePre =
          PreconditionedSharpness.topEigenpair(settings, g.space, g.h.flat(), sqrtD, null);
      Eigenpair<NDArray> pre =
          fused.lanczos(settings, g.space.randomLike(sqrtD, settings.seed()), sqrtD, false, g.m);
      assertThat(pre.value())
          .isCloseTo(corePre.value(), within(Math.abs(corePre.value()) * 10 * tolerance));
      assertThat(pre.iterations()).isBetween(corePre.iterations() - 1, corePre.iterations() + 1);
      assertThat(pre.value())
          .isCloseTo(topOfScaled(g.q.a, dv), within(Math.abs(pre.value()) * 1e-4));
    }
  }

  /**
   * Two distinct eigenvalues (3 once, 1 on the rest): every Krylov space is invariant after two
   * products, so both iterations stop at the second with λ = 3, the fused one through its closed
   * form for the 2×2 tridiagonal matrix, core's through its general solver.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource({"FLOAT32, 1e-6", "FLOAT64, 1e-12"})
  void stopsAtTheSecondProductOnTwoEigenvalues(DataType dtype, double tolerance) {
    double[] spectrum = new double[23];
    java.util.Arrays.fill(spectrum, 1);
    spectrum[0] = 3;
    try (Graph g = new Graph(dtype, spectrum, 5)) {
      Lanczos settings = Lanczos.custom().tolerance(1e-4).build();
      NDArray like = g.m.zeros(new ai.djl.ndarray.types.Shape(g.q.n), dtype);
      NDArray start = g.space.randomLike(like, settings.seed());
      Eigenpair<NDArray> core = settings.topEigenpair(g.space, g.h.flat(), like, null);
      Eigenpair<NDArray> fused = g.h.flatProducts().lanczos(settings, start, null, false, g.m);
      assertThat(core.iterations()).isEqualTo(2);
      assertThat(fused.iterations()).isEqualTo(2);
      assertThat(fused.converged()).isTrue();
      assertThat(fused.value()).isCloseTo(3, within(3 * tolerance));
      assertThat(fused.value()).isCloseTo(core.value(), within(3 * tolerance));
      assertThat(Math.abs(g.space.dot(fused.vector(), core.vector()))).isCloseTo(1, within(1e-4));
    }
  }

  /**
   * The update sharpness taken in the same call as λmax: uᵀAu/‖u‖² against the host's arithmetic on
   * A, the same eigenpair as without it, and none for a zero update.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource({"FLOAT32, 1e-5", "FLOAT64, 1e-12"})
  void takesTheUpdateSharpnessInTheSameCall(DataType dtype, double tolerance) {
    try (Graph g = new Graph(dtype, ExactHvpTest.spectrum(), 11)) {
      TorchScriptHvp.FlatProducts fused = g.h.flatProducts();
      Lanczos settings = Lanczos.custom().tolerance(1e-6).build();
      double[] u = new double[g.q.n];
      for (int i = 0; i < u.length; i++) {
        u[i] = Math.sin(1.0 + 0.7 * i);
      }
      double uAu = 0;
      double uu = 0;
      for (int i = 0; i < u.length; i++) {
        uu += u[i] * u[i];
        for (int j = 0; j < u.length; j++) {
          uAu += u[i] * g.q.a[i][j] * u[j];
        }
      }
      NDArray update = g.m.create(u).toType(dtype, false);
      NDArray start = g.space.randomLike(update, settings.seed());
      TorchScriptHvp.TopAndUpdate both =
          fused.lanczosWithUpdate(settings, start, false, update, g.m);
      Eigenpair<NDArray> alone = fused.lanczos(settings, start, null, false, g.m);
      assertThat(both.updateSharpness()).isPresent();
      assertThat(both.updateSharpness().getAsDouble())
          .isCloseTo(uAu / uu, within(Math.abs(uAu / uu) * tolerance * 10));
      assertThat(both.top().value()).isEqualTo(alone.value());
      assertThat(both.top().iterations()).isEqualTo(alone.iterations());

      NDArray zero = g.m.zeros(update.getShape(), dtype);
      assertThat(fused.lanczosWithUpdate(settings, start, false, zero, g.m).updateSharpness())
          .isEmpty();
    }
  }

  /**
   * Adam's effective steps and the preconditioned Lanczos in one call: the same statistics as
   * {@link AdamSteps#fused} and the same eigenpair as {@link TorchScriptHvp.FlatProducts#lanczos}
   * with the D^½ that call gives, in two calls.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource({"FLOAT32", "FLOAT64"})
  void takesEffectiveStepsAndThePreconditionedLanczosInOneCall(DataType dtype) {
    try (Graph g = new Graph(dtype, ExactHvpTest.spectrum(), 11)) {
      TorchScriptHvp.FlatProducts fused = g.h.flatProducts();
      Lanczos settings = Lanczos.custom().tolerance(1e-6).build();
      ai.djl.ndarray.NDList v = new ai.djl.ndarray.NDList();
      java.util.List<String> names = new java.util.ArrayList<>();
      for (int i = 0; i < Quadratic.SHAPES.length; i++) {
        v.add(g.m.randomUniform(1e-6f, 1e-3f, Quadratic.SHAPES[i]).toType(dtype, false));
        names.add("p" + i);
      }
      dev.slingshot.core.EffectiveStepSize.Adam adam =
          dev.slingshot.core.EffectiveStepSize.Adam.djl(1e-3, 0.9, 0.999, 1e-8, 50);
      double bound = 0.5;
      NDArray start =
          g.space.randomLike(g.m.zeros(new ai.djl.ndarray.types.Shape(g.q.n), dtype), 3);

      TorchScriptHvp.AdamTop one =
          fused.preconditioned(settings, start, false, names, v, adam, bound, g.m);
      AdamSteps.Fused steps = AdamSteps.fused(names, v, adam, bound, g.m);
      Eigenpair<NDArray> two = fused.lanczos(settings, start, steps.sqrtD(), false, g.m);
      assertThat(one.steps()).isEqualTo(steps.stats());
      assertThat(one.top().value()).isEqualTo(two.value());
      assertThat(one.top().iterations()).isEqualTo(two.iterations());
      assertThat(one.top().converged()).isTrue();
    }
  }

  /** ½θᵀAθ + bᵀθ with its gradient graph and the flat vector space of its parameters. */
  private static final class Graph implements AutoCloseable {
    final NDManager m = NDManager.newBaseManager();
    final Quadratic q;
    final HessianProbe probe;
    final GradientGraphHvp h;
    final FlatVectorSpace space;

    Graph(DataType dtype, double[] spectrum, long seed) {
      q = new Quadratic(m, dtype, spectrum, seed);
      probe = HessianProbe.create(m);
      h = probe.exactReusingGradient(q.loss(), q.params);
      space = new FlatVectorSpace(m, Quadratic.SHAPES);
    }

    @Override
    public void close() {
      h.close();
      probe.close();
      q.close();
      m.close();
    }
  }

  /** λmax(D^½ A D^½) on the host, by plain power iteration on the shifted matrix. */
  private static double topOfScaled(double[][] a, double[] d) {
    int n = d.length;
    double[][] s = new double[n][n];
    double shift = 0;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        s[i][j] = d[i] * a[i][j] * d[j];
      }
      double row = 0;
      for (int j = 0; j < n; j++) {
        row += Math.abs(s[i][j]);
      }
      shift = Math.max(shift, row); // ≥ |λ| for every eigenvalue (Gershgorin)
    }
    double[] x = new double[n];
    java.util.Arrays.fill(x, 1);
    double lambda = 0;
    for (int it = 0; it < 200_000; it++) {
      double[] y = new double[n];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          y[i] += s[i][j] * x[j];
        }
        y[i] += shift * x[i];
      }
      double norm = 0;
      for (double v : y) {
        norm += v * v;
      }
      norm = Math.sqrt(norm);
      double next = norm - shift;
      for (int i = 0; i < n; i++) {
        x[i] = y[i] / norm;
      }
      if (Math.abs(next - lambda) < 1e-13 * Math.abs(next)) {
        return next;
      }
      lambda = next;
    }
    return lambda;
  }
}
