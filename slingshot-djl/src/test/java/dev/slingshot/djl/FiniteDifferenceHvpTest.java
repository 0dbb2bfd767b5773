package dev.slingshot.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.slingshot.core.HessianVectorProduct;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The finite-difference fallback: its accuracy, and that it leaves parameters and gradients. */
class FiniteDifferenceHvpTest {

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
  void exactUpToRoundingOnAQuadraticAndRestoresParametersAndGradients() {
    for (DataType dtype : new DataType[] {DataType.FLOAT64, DataType.FLOAT32}) {
      try (Quadratic q = new Quadratic(root, dtype, ExactHvpTest.spectrum(), 5);
          HessianProbe probe = HessianProbe.create(root)) {
        q.backward();
        List<double[]> grads = ExactHvpTest.gradients(q.params);
        double[] theta = Quadratic.flatten(q.params);

        HessianVectorProduct<NDList> fd = probe.finiteDifferences(q::forward, q.params);
        NDList v = q.randomVector(3, dtype);
        NDList hv = fd.apply(v);
        double err = Quadratic.relativeError(Quadratic.flatten(hv), q.times(v));
        System.out.printf("finite differences, quadratic %s: relative error %.2e%n", dtype, err);

        assertThat(err).isLessThanOrEqualTo(dtype == DataType.FLOAT64 ? 1e-9 : 1e-3);
        assertThat(Quadratic.flatten(q.params)).containsExactly(theta);
        List<double[]> after = ExactHvpTest.gradients(q.params);
        for (int i = 0; i < grads.size(); i++) {
          assertThat(after.get(i)).containsExactly(grads.get(i));
        }
      }
    }
  }

  /** The documented accuracy on the PyTorch fixtures (float32). */
  @Test
  void accuracyOnTheFixtures() {
    double tanh = fixtureError("mlp_tanh");
    double attention = fixtureError("attention");
    double relu = fixtureError("mlp_relu");
    System.out.printf(
        "finite differences (step 1e-2, float32) vs PyTorch: tanh MLP %.2e, attention %.2e,"
            + " ReLU MLP %.2e relative error%n",
        tanh, attention, relu);
    assertThat(tanh).isLessThan(1e-3);
    assertThat(attention).isLessThan(1e-3);
  }

  private static double fixtureError(String model) {
    try (HvpFixture f = new HvpFixture(root, model);
        HessianProbe probe = HessianProbe.create(root)) {
      try (ai.djl.training.GradientCollector c = root.getEngine().newGradientCollector()) {
        c.backward(f.forward());
      }
      NDList hv = probe.finiteDifferences(f::forward, f.params).apply(f.v);
      return Quadratic.relativeError(Quadratic.flatten(hv), f.reference("hv"));
    }
  }

  @Test
  void aZeroVectorGivesZero() {
    try (Quadratic q = new Quadratic(root, DataType.FLOAT32, ExactHvpTest.spectrum(), 5);
        HessianProbe probe = HessianProbe.create(root)) {
      q.backward();
      NDList zero = new NDList();
      for (NDArray p : q.params) {
        zero.add(p.zerosLike());
      }
      assertThat(Quadratic.flatten(probe.finiteDifferences(q::forward, q.params).apply(zero)))
          .containsOnly(0.0);
    }
  }
}
