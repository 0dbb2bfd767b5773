package dev.slingshot.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.slingshot.core.EffectiveStepSize;
import dev.slingshot.core.Lanczos;
import dev.slingshot.core.PreconditionedSharpness;
import java.util.List;
import java.util.OptionalDouble;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The probes on the device agree with core's definitions on small analytic cases. */
class HessianProbeTest {

  private static NDManager root;

  @BeforeAll
  static void start() {
    root = NDManager.newBaseManager();
  }

  @AfterAll
  static void stop() {
    root.close();
  }

  @Test
  void updateSharpnessIsTheRayleighQuotientOfA() {
    try (Quadratic q = new Quadratic(root, DataType.FLOAT64, ExactHvpTest.spectrum(), 11);
        HessianProbe probe = HessianProbe.create(root)) {
      NDArray loss = q.loss();
      NDList u = q.randomVector(8, DataType.FLOAT64);
      double[] uf = Quadratic.flatten(u);
      double[] au = q.times(u);
      double expected = dot(uf, au) / dot(uf, uf);

      OptionalDouble s = probe.updateSharpness(loss, q.params, u);

      assertThat(s).isPresent();
      assertThat(s.getAsDouble()).isCloseTo(expected, within(1e-12 * Math.abs(expected)));
      assertThat(Quadratic.flatten(u)).containsExactly(uf);

      NDList zero = new NDList();
      for (NDArray p : q.params) {
        zero.add(p.zerosLike());
      }
      assertThat(probe.updateSharpness(loss, q.params, zero)).isEmpty();
    }
  }

  @Test
  void effectiveStepStatisticsOnTheDeviceMatchCore() {
    try (NDManager m = root.newSubManager();
        HessianProbe probe = HessianProbe.create(root)) {
      double[] v1 = {1, 0.25, 0.01, 1e-4, 1e-16, 4e-6};
      double[] v2 = {1e-10, 2e-6, 3e-2};
      NDList moments =
          new NDList(m.create(toFloats(v1), new Shape(2, 3)), m.create(toFloats(v2), new Shape(3)));
      for (EffectiveStepSize.Adam adam :
          new EffectiveStepSize.Adam[] {
            EffectiveStepSize.Adam.djl(0.004, 0.9, 0.999, 1e-8, 25),
            EffectiveStepSize.Adam.pytorch(0.004, 0.9, 0.999, 1e-8, 25)
          }) {
        double lambdaMax = 50;
        List<String> names = List.of("w", "b");
        // The public method (one TorchScript call here), and both internal routes by name.
        List<EffectiveStepSize.Stats> viaProbe =
            probe.effectiveStepSize(names, moments, adam, lambdaMax);
        List<EffectiveStepSize.Stats> viaModule =
            AdamSteps.fused(names, moments, adam, 0.04, m).stats();
        List<EffectiveStepSize.Stats> viaDjl =
            AdamSteps.of(names, moments, adam, m).stats(names, 0.04);
        for (List<EffectiveStepSize.Stats> stats : List.of(viaProbe, viaModule, viaDjl)) {
          double[][] vs = {v1, v2};
          for (int i = 0; i < 2; i++) {
            EffectiveStepSize.Stats want =
                EffectiveStepSize.of(i == 0 ? "w" : "b", roundToFloat(vs[i]), adam, lambdaMax);
            EffectiveStepSize.Stats got = stats.get(i);
            assertThat(got.name()).isEqualTo(want.name());
            assertThat(got.count()).isEqualTo(want.count());
            assertThat(got.min()).isCloseTo(want.min(), within(1e-6 * want.min()));
            assertThat(got.median()).isCloseTo(want.median(), within(1e-6 * want.median()));
            assertThat(got.max()).isCloseTo(want.max(), within(1e-6 * want.max()));
            assertThat(got.fractionAbove()).isEqualTo(want.fractionAbove());
            assertThat(got.threshold()).isEqualTo(0.04);
          }
        }
      }
      // One tensor alone (no split of the flat steps).
      EffectiveStepSize.Adam adam = EffectiveStepSize.Adam.djl(0.004, 0.9, 0.999, 1e-8, 25);
      EffectiveStepSize.Stats one =
          probe.effectiveStepSize(List.of("w"), new NDList(moments.get(0)), adam, 50).get(0);
      EffectiveStepSize.Stats wantOne = EffectiveStepSize.of("w", roundToFloat(v1), adam, 50);
      EffectiveStepSize.Stats oneDjl =
          AdamSteps.of(List.of("w"), new NDList(moments.get(0)), adam, m)
              .stats(List.of("w"), 0.04)
              .get(0);
      for (EffectiveStepSize.Stats got : List.of(one, oneDjl)) {
        assertThat(got.median()).isCloseTo(wantOne.median(), within(1e-6 * wantOne.median()));
        assertThat(got.min()).isCloseTo(wantOne.min(), within(1e-6 * wantOne.min()));
        assertThat(got.fractionAbove()).isEqualTo(wantOne.fractionAbove());
      }
      assertThatThrownBy(
              () ->
                  probe.effectiveStepSize(
                      List.of("w"), moments, EffectiveStepSize.Adam.djl(1, 0, 0, 0, 1), 1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("1 names for 2");
    }
  }

  /** Diagonal H = diag(h) (from ½Σ h_i θ_i²) and known v: λmax(P⁻¹H) = max_i h_i·step_i/η. */
  @Test
  void preconditionedSharpnessOnADiagonalHessian() {
    try (NDManager m = root.newSubManager();
        HessianProbe probe = HessianProbe.create(root, Lanczos.custom().tolerance(1e-8).build())) {
      float[] h = {50, 3, 0.5f, -1, 7, 0.1f};
      float[] v = {1e-2f, 1e-6f, 1e-8f, 1e-4f, 4e-4f, 1e-9f};
      NDArray theta = m.create(new float[] {1, -2, 0.5f, 3, 1, 2}, new Shape(2, 3));
      theta.setRequiresGradient(true);
      NDArray hArray = m.create(h, new Shape(2, 3));
      NDList params = new NDList(theta);
      NDArray loss = HessianProbe.lossWithGraph(() -> theta.square().mul(hArray).sum().mul(0.5));
      EffectiveStepSize.Adam adam = EffectiveStepSize.Adam.djl(0.004, 0.9, 0.999, 1e-8, 40);
      double expected = Double.NEGATIVE_INFINITY;
      for (int i = 0; i < h.length; i++) {
        expected = Math.max(expected, h[i] * adam.stepFor(v[i]) / 0.004);
      }

      PreconditionedSharpness.Result r =
          probe.preconditionedSharpness(
              probe.exact(loss, params), new NDList(m.create(v, new Shape(2, 3))), adam);

      assertThat(r.value()).isCloseTo(expected, within(1e-5 * expected));
      assertThat(r.threshold()).isCloseTo(38 / 0.004, within(1e-6));
      HessianProbe.LambdaMax top = probe.lambdaMax(loss, params);
      assertThat(top.value()).isCloseTo(50, within(1e-5 * 50));
    }
  }

  @Test
  void warmStartIsDroppedWhenTheParametersChangeShape() {
    try (Quadratic q = new Quadratic(root, DataType.FLOAT64, ExactHvpTest.spectrum(), 2);
        NDManager m = root.newSubManager();
        HessianProbe probe = HessianProbe.create(root)) {
      assertThat(probe.lambdaMax(q.loss(), q.params).warmStarted()).isFalse();
      assertThat(probe.lambdaMax(q.loss(), q.params).warmStarted()).isTrue();
      NDArray theta = m.create(new double[] {1, 2});
      theta.setRequiresGradient(true);
      NDArray loss = HessianProbe.lossWithGraph(() -> theta.square().sum());
      HessianProbe.LambdaMax other = probe.lambdaMax(loss, new NDList(theta));
      assertThat(other.warmStarted()).isFalse();
      assertThat(other.value()).isCloseTo(2, within(1e-9));
      probe.resetWarmStart();
      assertThat(probe.lambdaMax(loss, new NDList(theta)).warmStarted()).isFalse();
    }
  }

  private static float[] toFloats(double[] d) {
    float[] f = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      f[i] = (float) d[i];
    }
    return f;
  }

  private static double[] roundToFloat(double[] d) {
    double[] r = new double[d.length];
    for (int i = 0; i < d.length; i++) {
      r[i] = (float) d[i];
    }
    return r;
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}
