package dev.slingshot.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import dev.slingshot.core.HessianVectorProduct;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Products on one loss through a gradient graph built once ({@code grad_graph.pt} then {@code
 * hvp_from_grad.pt}): the gradient arrays cross DJL's IValue boundary with their autograd graph
 * (otherwise every product would be zero), and H·v = A·v on ½θᵀAθ + bᵀθ.
 */
class GradientGraphHvpTest {

  private static NDManager root;

  @BeforeAll
  static void start() {
    root = NDManager.newBaseManager();
  }

  @AfterAll
  static void stop() {
    root.close();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"FLOAT32, 1e-6", "FLOAT64, 1e-12"})
  void productsOnOneGradientGraphAreATimesV(DataType dtype, double tolerance) {
    try (Quadratic q = new Quadratic(root, dtype, ExactHvpTest.spectrum(), 42);
        HessianProbe probe = HessianProbe.create(root)) {
      NDArray loss = q.loss();
      HessianVectorProduct<NDList> exact = probe.exact(loss, q.params);
      assertThat(exact).isInstanceOf(GradientGraphHvp.class);
      try (GradientGraphHvp h = (GradientGraphHvp) exact) {
        assertThat(h.holdsGradient()).isFalse(); // built lazily
        for (int call = 0; call < 5; call++) {
          NDList v = q.randomVector(100 + call, dtype);
          NDList hv = h.apply(v);
          assertThat(h.holdsGradient()).isTrue();
          assertThat(hv).hasSize(3);
          for (int i = 0; i < 3; i++) {
            assertThat(hv.get(i).getShape()).isEqualTo(q.params.get(i).getShape());
            assertThat(hv.get(i).getDataType()).isEqualTo(dtype);
            assertThat(hv.get(i).getManager()).isSameAs(v.get(0).getManager());
          }
          double err = Quadratic.relativeError(Quadratic.flatten(hv), q.times(v));
          System.out.printf(
              "gradient graph %s product %d: |Hv-Av|/|Av| = %.3g%n", dtype, call, err);
          assertThat(err).isLessThanOrEqualTo(tolerance);
          // Same as the single-module route, to rounding.
          try (NDList single = probe.hessianVectorProduct(loss, q.params, v)) {
            double diff = Quadratic.relativeError(Quadratic.flatten(hv), Quadratic.flatten(single));
            assertThat(diff).isLessThanOrEqualTo(tolerance);
          }
          hv.close();
          v.close();
        }
        h.close();
        assertThat(h.holdsGradient()).isFalse();
        NDList v = q.randomVector(7, dtype); // after close: built again
        try (NDList hv = h.apply(v)) {
          assertThat(Quadratic.relativeError(Quadratic.flatten(hv), q.times(v)))
              .isLessThanOrEqualTo(tolerance);
        }
        v.close();
      }
      assertThat(q.params.get(0).getName()).isNull(); // temporary call names restored
    }
  }

  /**
   * Products on flat vectors ({@code hvp_from_grad_flat.pt}): A·v, with the list arguments
   * converted once (DJL's native entry point found by reflection on this DJL version) and through
   * the per-call route, which must agree with it.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource({"FLOAT32, 1e-6", "FLOAT64, 1e-12"})
  void flatProductsAreATimesV(DataType dtype, double tolerance) {
    try (NDManager m = root.newSubManager();
        Quadratic q = new Quadratic(root, dtype, ExactHvpTest.spectrum(), 43);
        HessianProbe probe = HessianProbe.create(root);
        GradientGraphHvp h = probe.exactReusingGradient(q.loss(), q.params)) {
      FlatVectorSpace space = new FlatVectorSpace(m, Quadratic.SHAPES);
      HessianVectorProduct<NDArray> flat = h.flat();
      TorchScriptHvp ts = new TorchScriptHvp(m);
      for (int call = 0; call < 4; call++) {
        NDList v = q.randomVector(200 + call, dtype);
        NDArray fv = space.concat(v);
        NDArray hv = flat.apply(fv);
        assertThat(hv.getShape()).isEqualTo(fv.getShape());
        assertThat(hv.getDataType()).isEqualTo(dtype);
        assertThat(hv.getManager()).isSameAs(fv.getManager());
        double[] got = hv.toType(DataType.FLOAT64, false).toDoubleArray();
        assertThat(Quadratic.relativeError(got, q.times(v))).isLessThanOrEqualTo(tolerance);
        try (NDList g = ts.gradientGraph(q.loss(), q.params, m);
            NDArray again = ts.hvpFromGradientFlat(g, q.params, fv, m)) {
          double[] perCall = again.toType(DataType.FLOAT64, false).toDoubleArray();
          assertThat(Quadratic.relativeError(perCall, got)).isLessThanOrEqualTo(tolerance);
        }
        v.close();
      }
      assertThat(TorchScriptHvp.convertsListsOnce()).isTrue();
      assertThat(h.holdsGradient()).isTrue();
      h.close(); // releases the TorchScript values made from the gradient as well
      assertThat(h.holdsGradient()).isFalse();
      NDList v = q.randomVector(300, dtype);
      double[] again = flat.apply(space.concat(v)).toType(DataType.FLOAT64, false).toDoubleArray();
      assertThat(Quadratic.relativeError(again, q.times(v))).isLessThanOrEqualTo(tolerance);
      v.close();
      NDArray wrong = m.zeros(new ai.djl.ndarray.types.Shape(5), dtype);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> flat.apply(wrong))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("flat vector of the parameters' 23 coordinates");
    }
  }

  @Test
  void aGradientClosedByAnInnerScopeIsBuiltAgain() {
    try (Quadratic q = new Quadratic(root, DataType.FLOAT64, ExactHvpTest.spectrum(), 5);
        HessianProbe probe = HessianProbe.create(root);
        GradientGraphHvp h = probe.exactReusingGradient(q.loss(), q.params)) {
      NDList v = q.randomVector(3, DataType.FLOAT64);
      double[] first;
      try (NDScope scope = new NDScope()) {
        first = Quadratic.flatten(h.apply(v));
      } // closes the gradient built inside it
      assertThat(h.holdsGradient()).isFalse();
      double[] second = Quadratic.flatten(h.apply(v));
      assertThat(second).containsExactly(first);
      assertThat(Quadratic.relativeError(second, q.times(v))).isLessThanOrEqualTo(1e-12);
      v.close();
    }
  }

  @Test
  void gradientsOfTheComingStepAreUntouchedAndALossWithoutGraphGivesZero() {
    try (Quadratic q = new Quadratic(root, DataType.FLOAT32, ExactHvpTest.spectrum(), 7);
        HessianProbe probe = HessianProbe.create(root)) {
      q.backward();
      List<double[]> before = ExactHvpTest.gradients(q.params);
      try (GradientGraphHvp h = probe.exactReusingGradient(q.loss(), q.params)) {
        for (int call = 0; call < 4; call++) {
          NDList v = q.randomVector(call, DataType.FLOAT32);
          h.apply(v).close();
          v.close();
        }
      }
      List<double[]> after = ExactHvpTest.gradients(q.params);
      for (int i = 0; i < before.size(); i++) {
        assertThat(after.get(i)).containsExactly(before.get(i));
      }
      try (GradientGraphHvp h = probe.exactReusingGradient(q.forward(), q.params)) {
        NDList v = q.randomVector(1, DataType.FLOAT32);
        try (NDList zero = h.apply(v)) {
          assertThat(Quadratic.flatten(zero)).containsOnly(0.0);
        }
        v.close();
      }
    }
  }
}
