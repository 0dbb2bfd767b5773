package dev.slingshot.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Exact Hessian-vector products on ½θᵀAθ + bᵀθ: H·v = A·v. */
class ExactHvpTest {

  private static NDManager root;

  @BeforeAll
  static void start() {
    root = NDManager.newBaseManager();
  }

  @AfterAll
  static void stop() {
    root.close();
  }

  static double[] spectrum() {
    double[] s = new double[23];
    for (int i = 0; i < s.length; i++) {
      s[i] = 1.5 - 0.1 * i; // 1.5 down to -0.7
    }
    s[0] = 6;
    s[1] = 4.5;
    return s;
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"FLOAT32, 1e-6", "FLOAT64, 1e-12"})
  void hessianTimesVectorIsATimesVector(DataType dtype, double tolerance) {
    try (Quadratic q = new Quadratic(root, dtype, spectrum(), 42);
        HessianProbe probe = HessianProbe.create(root)) {
      NDArray loss = q.loss();
      for (int call = 0; call < 3; call++) { // several products on one graph
        NDList v = q.randomVector(100 + call, dtype);
        NDList hv = probe.hessianVectorProduct(loss, q.params, v);
        assertThat(hv).hasSize(3);
        for (int i = 0; i < 3; i++) {
          assertThat(hv.get(i).getShape()).isEqualTo(q.params.get(i).getShape());
          assertThat(hv.get(i).getDataType()).isEqualTo(dtype);
          assertThat(hv.get(i).getManager()).isSameAs(v.get(0).getManager());
        }
        double err = Quadratic.relativeError(Quadratic.flatten(hv), q.times(v));
        System.out.printf("quadratic %s call %d: |Hv-Av|/|Av| = %.3g%n", dtype, call, err);
        assertThat(err).isLessThanOrEqualTo(tolerance);
        hv.close();
        v.close();
      }
    }
  }

  @Test
  void gradientsOfTheComingStepAreUntouched() {
    try (Quadratic q = new Quadratic(root, DataType.FLOAT32, spectrum(), 7);
        HessianProbe probe = HessianProbe.create(root)) {
      q.backward();
      List<double[]> before = gradients(q.params);
      float[] paramsBefore = q.params.get(1).toFloatArray();

      NDArray loss = q.loss();
      for (int call = 0; call < 5; call++) {
        NDList v = q.randomVector(call, DataType.FLOAT32);
        probe.hessianVectorProduct(loss, q.params, v).close();
        v.close();
      }
      probe.lambdaMax(loss, q.params);

      List<double[]> after = gradients(q.params);
      for (int i = 0; i < before.size(); i++) {
        assertThat(after.get(i)).containsExactly(before.get(i));
      }
      assertThat(q.params.get(1).toFloatArray()).containsExactly(paramsBefore);
      assertThat(q.params.get(0).getName()).isNull(); // temporary call names restored
    }
  }

  @Test
  void lambdaMaxOfTheDjlQuadraticAndItsWarmStart() {
    try (Quadratic q = new Quadratic(root, DataType.FLOAT64, spectrum(), 3);
        HessianProbe probe =
            HessianProbe.create(
                root, dev.slingshot.core.Lanczos.custom().tolerance(1e-6).build())) {
      NDArray loss = q.loss();
      HessianProbe.LambdaMax cold = probe.lambdaMax(loss, q.params);
      assertThat(cold.warmStarted()).isFalse();
      assertThat(cold.converged()).isTrue();
      assertThat(Math.abs(cold.value() - 6) / 6).isLessThanOrEqualTo(1e-6);
      assertThat(cold.stepBound()).isCloseTo(2 / 6.0, org.assertj.core.api.Assertions.within(1e-6));

      HessianProbe.LambdaMax warm = probe.lambdaMax(loss, q.params);
      System.out.printf(
          "DJL quadratic lambda_max: cold %d HVPs, warm %d HVPs%n",
          cold.iterations(), warm.iterations());
      assertThat(warm.warmStarted()).isTrue();
      assertThat(warm.iterations()).isLessThan(cold.iterations());
      assertThat(Math.abs(warm.value() - 6) / 6).isLessThanOrEqualTo(1e-6);
    }
  }

  @Test
  void aLossWithoutGraphHasNoCurvatureAndMismatchedVectorsAreRefused() {
    try (Quadratic q = new Quadratic(root, DataType.FLOAT32, spectrum(), 1);
        HessianProbe probe = HessianProbe.create(root)) {
      NDArray detached = q.forward(); // grad mode off: no graph
      NDList v = q.randomVector(1, DataType.FLOAT32);
      // DJL cannot tell whether a non-leaf carries a graph; without one the curvature is zero.
      try (NDList zero = probe.hessianVectorProduct(detached, q.params, v)) {
        assertThat(Quadratic.flatten(zero)).containsOnly(0.0);
      }
      NDArray loss = q.loss();
      NDList shortV = new NDList(v.get(0), v.get(1));
      assertThatThrownBy(() -> probe.hessianVectorProduct(loss, q.params, shortV))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("3 parameters and 2");
      NDList swapped = new NDList(v.get(1), v.get(0), v.get(2));
      assertThatThrownBy(() -> probe.hessianVectorProduct(loss, q.params, swapped))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("shape");
    }
  }

  static List<double[]> gradients(NDList params) {
    List<double[]> out = new ArrayList<>();
    for (NDArray p : params) {
      try (NDArray g = p.getGradient();
          NDArray g64 = g.toType(DataType.FLOAT64, true)) {
        out.add(g64.toDoubleArray());
      }
    }
    return out;
  }
}
