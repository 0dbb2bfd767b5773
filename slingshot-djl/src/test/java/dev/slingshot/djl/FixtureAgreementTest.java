package dev.slingshot.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Agreement with an independent implementation: PyTorch 1.13's {@code
 * torch.autograd.functional.hvp} on MLPs with ReLU and tanh and on a causal self-attention layer,
 * float32, to 1e-5 relative (loss, gradient and H·v).
 */
class FixtureAgreementTest {

  private static NDManager root;

  @BeforeAll
  static void start() {
    root = NDManager.newBaseManager();
  }

  @AfterAll
  static void stop() {
    root.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"mlp_relu", "mlp_tanh", "attention"})
  void exactHvpAgreesWithPyTorch(String model) {
    try (HvpFixture f = new HvpFixture(root, model);
        HessianProbe probe = HessianProbe.create(root)) {
      NDArray loss = HessianProbe.lossWithGraph(f::forward);
      double lossError =
          Math.abs(loss.getFloat() - f.json.get("loss").asDouble()) / f.json.get("loss").asDouble();

      NDList both = probe.gradientAndHvp(loss, f.params, f.v);
      int n = f.params.size();
      NDList grad = new NDList(both.subList(0, n));
      NDList hvFromPair = new NDList(both.subList(n, 2 * n));
      NDList hv = probe.hessianVectorProduct(loss, f.params, f.v);
      NDList hvReused;
      NDList hvReusedAgain;
      // The loss's graph must survive a garbage collection (see HvpFixture's scalar operands).
      collectAndOverwriteFreedMemory();
      try (GradientGraphHvp h = probe.exactReusingGradient(loss, f.params)) {
        hvReused = h.apply(f.v);
        hvReusedAgain = h.apply(f.v); // on the retained gradient graph
      }

      double gradError = Quadratic.relativeError(Quadratic.flatten(grad), f.reference("grad"));
      double hvError = Quadratic.relativeError(Quadratic.flatten(hv), f.reference("hv"));
      double hv64Error = Quadratic.relativeError(Quadratic.flatten(hv), f.reference("hv_float64"));
      double reusedError = Quadratic.relativeError(Quadratic.flatten(hvReused), f.reference("hv"));
      double againError =
          Quadratic.relativeError(Quadratic.flatten(hvReusedAgain), Quadratic.flatten(hvReused));
      double pairError =
          Quadratic.relativeError(Quadratic.flatten(hvFromPair), Quadratic.flatten(hv));
      System.out.printf(
          "fixture %s: loss %.2e, grad %.2e, hv %.2e (vs float64 reference %.2e) relative error%n",
          model, lossError, gradError, hvError, hv64Error);
      System.out.printf(
          "fixture %s: gradient-graph route hv %.2e relative error, vs single module %.2e%n",
          model,
          reusedError,
          Quadratic.relativeError(Quadratic.flatten(hvReused), Quadratic.flatten(hv)));

      assertThat(lossError).isLessThanOrEqualTo(1e-5);
      assertThat(gradError).isLessThanOrEqualTo(1e-5);
      assertThat(hvError).isLessThanOrEqualTo(1e-5);
      assertThat(hv64Error).isLessThanOrEqualTo(1e-5);
      assertThat(pairError).isZero();
      assertThat(reusedError).isLessThanOrEqualTo(1e-5);
      assertThat(againError).isZero();
    }
  }

  /**
   * A garbage collection, then direct buffers filled with 0xFF bytes (a NaN in float32), so that
   * memory freed by the collection and still read by a tensor shows up as NaN.
   */
  private static void collectAndOverwriteFreedMemory() {
    System.gc();
    ByteBuffer[] buffers = new ByteBuffer[64];
    for (int i = 0; i < buffers.length; i++) {
      buffers[i] = ByteBuffer.allocateDirect(4096);
      while (buffers[i].hasRemaining()) {
        buffers[i].put((byte) 0xFF);
      }
    }
  }
}
