package dev.slingshot.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.slingshot.core.HessianVectorProduct;

/**
 * Exact Hessian-vector products on one loss that build the first-order gradient graph once: the
 * first product computes {@code g = ∇L} with its autograd graph ({@code grad_graph.pt}), every
 * product (the first included) is one backward through {@code g} ({@code hvp_from_grad.pt}). A
 * product on a retained gradient costs one double backward instead of a backward plus a double
 * backward.
 *
 * <p>The gradient arrays are attached to the loss's manager (and registered with the {@code
 * NDScope} open at the first product, like any array), so they never outlive the loss's manager;
 * {@link #close} releases them, and with them the graph they hold, earlier. A gradient found
 * released (an inner scope closed it) is computed again. Results are attached to the manager of the
 * vector a product is applied to. Not thread-safe.
 */
final class GradientGraphHvp implements HessianVectorProduct<NDList>, AutoCloseable {

  private final TorchScriptHvp torchScript;
  private final NDArray loss;
  private final NDList params;
  private NDList gradient;
  private TorchScriptHvp.FlatProducts flatProducts;
  private NDList flatGradient;

  GradientGraphHvp(TorchScriptHvp torchScript, NDArray loss, NDList params) {
    this.torchScript = torchScript;
    this.loss = loss;
    this.params = params;
  }

  @Override
  public NDList apply(NDList v) {
    return torchScript.hvpFromGradient(gradient(), params, v, v.get(0).getManager());
  }

  /**
   * The same products on flat vectors (the parameters' coordinates concatenated in order), on the
   * same retained gradient graph; the module splits the vector and concatenates the result ({@link
   * TorchScriptHvp#hvpFromGradientFlat}). Results are attached to the manager of the vector.
   */
  HessianVectorProduct<NDArray> flat() {
    return v -> flatProducts().apply(v);
  }

  /** The flat products on the current gradient graph (built at the first call). */
  TorchScriptHvp.FlatProducts flatProducts() {
    NDList g = gradient();
    if (flatProducts == null || flatGradient != g) {
      closeFlat();
      flatProducts = torchScript.flatProducts(g, params);
      flatGradient = g;
    }
    return flatProducts;
  }

  private void closeFlat() {
    if (flatProducts != null) {
      flatProducts.close();
      flatProducts = null;
      flatGradient = null;
    }
  }

  private NDList gradient() {
    if (gradient == null || released(gradient)) {
      gradient = torchScript.gradientGraph(loss, params, loss.getManager());
    }
    return gradient;
  }

  /**
   * Whether a gradient graph is currently held, as arrays or as TorchScript values made from them
   * for flat products (for tests).
   */
  boolean holdsGradient() {
    return (gradient != null && !released(gradient)) || flatProducts != null;
  }

  private static boolean released(NDList arrays) {
    for (NDArray a : arrays) {
      if (a.isReleased()) {
        return true;
      }
    }
    return false;
  }

  /** Releases the gradient graph; a later product builds it again. */
  @Override
  public void close() {
    closeFlat();
    if (gradient != null) {
      gradient.close();
      gradient = null;
    }
  }
}
