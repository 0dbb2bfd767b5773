package dev.slingshot.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Exact Hessian-vector products on the PyTorch engine through two tiny TorchScript modules shipped
 * as resources ({@code hvp.pt}, {@code hvp_grad.pt}; built by {@code
 * scripts/torchscript/make_hvp_module.py}). Their {@code forward(loss, params: List[Tensor], v:
 * List[Tensor])} calls {@code torch.autograd.grad} twice (the first with {@code create_graph}),
 * both with {@code retain_graph}: several products can be taken on one loss graph, {@code .grad} is
 * never read or written, and every tensor stays on the loss's device.
 *
 * <p>DJL groups the arrays named {@code "params[]"} and {@code "v[]"} into list arguments; the
 * arrays' Java-side names are set for the call and restored afterwards. The call must run with
 * {@code isTrain = true} (the other overload runs in inference mode, where autograd is off).
 */
final class TorchScriptHvp implements AutoCloseable {

  private final PtSymbolBlock hvp;
  private final PtSymbolBlock hvpGrad;

  TorchScriptHvp(NDManager manager) {
    if (!(manager instanceof PtNDManager)) {
      throw new UnsupportedOperationException(
          "exact Hessian-vector products need the PyTorch engine, this manager belongs to "
              + manager.getEngine().getEngineName()
              + "; use HessianProbe.finiteDifferences instead");
    }
    this.hvp = load((PtNDManager) manager, "hvp.pt");
    this.hvpGrad = load((PtNDManager) manager, "hvp_grad.pt");
  }

  private static PtSymbolBlock load(PtNDManager manager, String resource) {
    try (InputStream in = TorchScriptHvp.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing resource dev/slingshot/djl/" + resource);
      }
      return JniUtils.loadModule(manager, in, true, false);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot load dev/slingshot/djl/" + resource, e);
    }
  }

  /**
   * {@code H·v} per parameter tensor, attached to {@code target}.
   *
   * @throws IllegalArgumentException if the loss is not a scalar or the lists do not match
   */
  NDList hvp(NDArray loss, NDList params, NDList v, NDManager target) {
    return run(hvp, loss, params, v, target);
  }

  /**
   * The gradient list followed by the {@code H·v} list (2·n tensors), attached to {@code target}.
   */
  NDList gradientAndHvp(NDArray loss, NDList params, NDList v, NDManager target) {
    return run(hvpGrad, loss, params, v, target);
  }

  private static NDList run(
      PtSymbolBlock module, NDArray loss, NDList params, NDList v, NDManager target) {
    check(loss, params, v);
    NDList inputs = new NDList(1 + 2 * params.size());
    inputs.add(loss);
    inputs.addAll(params);
    inputs.addAll(v);
    String[] names = new String[inputs.size()];
    for (int i = 0; i < inputs.size(); i++) {
      names[i] = inputs.get(i).getName();
    }
    NDList out;
    try {
      loss.setName(null);
      for (int i = 0; i < params.size(); i++) {
        params.get(i).setName("params[]");
        v.get(i).setName("v[]");
      }
      out = IValueUtils.forward(module, inputs, true);
    } finally {
      for (int i = 0; i < inputs.size(); i++) {
        inputs.get(i).setName(names[i]);
      }
    }
    out.attach(target);
    return out;
  }

  private static void check(NDArray loss, NDList params, NDList v) {
    if (loss.getShape().size() != 1) {
      throw new IllegalArgumentException("loss must be a scalar, has shape " + loss.getShape());
    }
    if (!(loss instanceof PtNDArray)) {
      throw new IllegalArgumentException("loss must be a PyTorch array, was " + loss.getClass());
    }
    // No check that the loss carries a graph: DJL's requiresGrad() is false for every non-leaf and
    // reading grad_fn of a tensor without one crashes the JVM. A loss without graph yields zeros.
    if (params.isEmpty() || params.size() != v.size()) {
      throw new IllegalArgumentException(
          "need one vector tensor per parameter tensor, got "
              + params.size()
              + " parameters and "
              + v.size()
              + " vector tensors");
    }
    for (int i = 0; i < params.size(); i++) {
      if (!params.get(i).getShape().equals(v.get(i).getShape())) {
        throw new IllegalArgumentException(
            "tensor "
                + i
                + ": parameter shape "
                + params.get(i).getShape()
                + " but vector shape "
                + v.get(i).getShape());
      }
    }
  }

  @Override
  public void close() {
    hvp.close();
    hvpGrad.close();
  }
}
