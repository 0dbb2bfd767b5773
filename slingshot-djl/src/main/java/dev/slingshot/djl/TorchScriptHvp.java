package dev.slingshot.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import dev.slingshot.core.EffectiveStepSize;
import dev.slingshot.core.Eigenpair;
import dev.slingshot.core.Lanczos;
import dev.slingshot.core.UpdateSharpness;
import java.util.List;
import java.util.OptionalDouble;

/**
 * Exact Hessian-vector products on the PyTorch engine through tiny TorchScript modules shipped as
 * resources ({@code hvp.pt}, {@code hvp_grad.pt}, and {@code grad_graph.pt} with {@code
 * hvp_from_grad.pt} or {@code hvp_from_grad_flat.pt} for many products on one gradient graph; built
 * by {@code scripts/torchscript/make_hvp_module.py}). Their {@code forward(loss, params:
 * List[Tensor], v: List[Tensor])} calls {@code torch.autograd.grad} twice (the first with {@code
 * create_graph}), both with {@code retain_graph}: several products can be taken on one loss graph,
 * {@code .grad} is never read or written, and every tensor stays on the loss's device.
 *
 * <p>DJL groups the arrays named {@code "params[]"} and {@code "v[]"} into list arguments; the
 * arrays' Java-side names are set for the call and restored afterwards. The call must run with
 * {@code isTrain = true} (the other overload runs in inference mode, where autograd is off).
 */
final class TorchScriptHvp implements AutoCloseable {

  private final PtSymbolBlock hvp;
  private final PtSymbolBlock hvpGrad;
  private final PtSymbolBlock gradGraph;
  private final PtSymbolBlock hvpFromGrad;
  private final PtSymbolBlock hvpFromGradFlat;
  private final PtSymbolBlock lanczos;
  private final PtSymbolBlock adamLanczos;

  TorchScriptHvp(NDManager manager) {
    if (!(manager instanceof PtNDManager)) {
      throw new UnsupportedOperationException(
          "exact Hessian-vector products need the PyTorch engine, this manager belongs to "
              + manager.getEngine().getEngineName()
              + "; use HessianProbe.finiteDifferences instead");
    }
    this.hvp = TorchScript.module("hvp.pt");
    this.hvpGrad = TorchScript.module("hvp_grad.pt");
    this.gradGraph = TorchScript.module("grad_graph.pt");
    this.hvpFromGrad = TorchScript.module("hvp_from_grad.pt");
    this.hvpFromGradFlat = TorchScript.module("hvp_from_grad_flat.pt");
    this.lanczos = TorchScript.module("lanczos.pt");
    this.adamLanczos = TorchScript.module("adam_lanczos.pt");
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

  /**
   * The gradient of {@code loss} with respect to {@code params} <em>with its autograd graph</em>
   * ({@code grad_graph.pt}: {@code create_graph} and {@code retain_graph}), one tensor per
   * parameter, attached to {@code target}. A parameter the loss does not reach gets zeros that do
   * not require grad. Hand the list to {@link #hvpFromGradient} for any number of products: the
   * first-order backward then runs once per loss instead of once per product. The returned arrays
   * keep the loss's graph (and their own) alive until they are closed.
   */
  NDList gradientGraph(NDArray loss, NDList params, NDManager target) {
    checkLoss(loss);
    if (params.isEmpty()) {
      throw new IllegalArgumentException("no parameters");
    }
    if (TorchScript.CALLS_READY_VALUES && target instanceof PtNDManager pm && allPt(params)) {
      // On ready values: no per-call grouping of named arrays into lists.
      try (IValue l = IValue.from((PtNDArray) loss);
          IValue ps = IValue.listFrom(TorchScript.pt(params))) {
        return new NDList(
            TorchScript.forwardList(gradGraph, new long[] {l.getHandle(), ps.getHandle()}, pm));
      }
    }
    NDList inputs = new NDList(1 + params.size());
    inputs.add(loss);
    inputs.addAll(params);
    return call(gradGraph, inputs, 1, LISTS_1, params.size(), target);
  }

  private static boolean allPt(NDList arrays) {
    for (NDArray a : arrays) {
      if (!(a instanceof PtNDArray)) {
        return false;
      }
    }
    return true;
  }

  /**
   * {@code H·v} per parameter tensor from a gradient list of {@link #gradientGraph} on the same
   * {@code params} ({@code hvp_from_grad.pt}), attached to {@code target}. The gradient graph is
   * retained: call again with another {@code v}.
   */
  NDList hvpFromGradient(NDList gradient, NDList params, NDList v, NDManager target) {
    checkLists(params, v);
    if (gradient.size() != params.size()) {
      throw new IllegalArgumentException(
          gradient.size() + " gradient tensors for " + params.size() + " parameters");
    }
    NDList inputs = new NDList(3 * params.size());
    inputs.addAll(gradient);
    inputs.addAll(params);
    inputs.addAll(v);
    return call(hvpFromGrad, inputs, 0, LISTS_3, params.size(), target);
  }

  /**
   * {@link #hvpFromGradient} for a flat {@code v} (the parameters' coordinates concatenated in
   * order), returning one flat vector attached to {@code target} ({@code hvp_from_grad_flat.pt}).
   * The module splits {@code v} and concatenates the result itself: on a small model the separate
   * native calls for that, from Java, cost about a third of a product.
   */
  NDArray hvpFromGradientFlat(NDList gradient, NDList params, NDArray v, NDManager target) {
    checkFlat(params, v);
    if (gradient.size() != params.size()) {
      throw new IllegalArgumentException(
          gradient.size() + " gradient tensors for " + params.size() + " parameters");
    }
    NDList inputs = new NDList(1 + 2 * params.size());
    inputs.add(v);
    inputs.addAll(gradient);
    inputs.addAll(params);
    return call(hvpFromGradFlat, inputs, 1, LISTS_G_PARAMS, params.size(), target)
        .singletonOrThrow();
  }

  /**
   * Products {@code H·v} on flat vectors with one gradient list, for many {@code v}: {@link
   * #hvpFromGradientFlat} with the module's list arguments (the gradient and the parameters)
   * converted to TorchScript values once, instead of at every product. DJL runs a method on ready
   * values only with autograd off (inference mode), so the products call DJL's native entry point
   * with autograd on by reflection; where that entry point is missing (another DJL version), each
   * product converts the lists again. Close to release the converted lists.
   */
  FlatProducts flatProducts(NDList gradient, NDList params) {
    return new FlatProducts(gradient, params);
  }

  /** Whether {@link #flatProducts} converts the list arguments once (DJL's entry point found). */
  static boolean convertsListsOnce() {
    return TorchScript.CALLS_READY_VALUES;
  }

  /**
   * The top eigenpair of {@link FlatProducts#lanczosWithUpdate} and the update sharpness (empty for
   * a zero or non-finite update, or none given).
   */
  record TopAndUpdate(Eigenpair<NDArray> top, OptionalDouble updateSharpness) {}

  /**
   * The top eigenpair of {@code D^½ H D^½} of {@link FlatProducts#preconditioned} and the
   * effective-step statistics per tensor.
   */
  record AdamTop(Eigenpair<NDArray> top, List<EffectiveStepSize.Stats> steps) {}

  /** See {@link #flatProducts}. */
  final class FlatProducts implements AutoCloseable {
    private final NDList gradient;
    private final NDList params;
    private IValue gradientList;
    private IValue paramsList;

    private FlatProducts(NDList gradient, NDList params) {
      this.gradient = gradient;
      this.params = params;
      if (TorchScript.CALLS_READY_VALUES) {
        gradientList = IValue.listFrom(TorchScript.pt(gradient));
        paramsList = IValue.listFrom(TorchScript.pt(params));
      }
    }

    /** {@code H·v} for a flat {@code v}, attached to the manager of {@code v}. */
    NDArray apply(NDArray v) {
      if (gradientList == null || !(v instanceof PtNDArray pv)) {
        return hvpFromGradientFlat(gradient, params, v, v.getManager());
      }
      checkFlat(params, v);
      try (IValue vv = IValue.from(pv)) {
        long[] args = {vv.getHandle(), gradientList.getHandle(), paramsList.getHandle()};
        return TorchScript.forward(hvpFromGradFlat, args, (PtNDManager) pv.getManager());
      }
    }

    /**
     * Whether {@link #lanczos} is available: the list arguments are converted once (DJL's entry
     * point found) and the vectors are PyTorch arrays.
     */
    boolean fusesLanczos() {
      return gradientList != null;
    }

    /**
     * The top eigenpair of {@code H} (with {@code sqrtD} null) or of {@code D^½ H D^½} by the whole
     * Lanczos iteration in one TorchScript call ({@code lanczos.pt}): the steps and stopping rule
     * of {@link Lanczos#topEigenpair}, every product on this gradient graph. Only when {@link
     * #fusesLanczos}.
     *
     * @param start the start vector, flat, nonzero (normalized by the call; not modified)
     * @param sqrtD the flat diagonal {@code D^½}, or null for {@code H} itself
     * @param warm whether {@code start} is a warm start (reported in the result)
     */
    Eigenpair<NDArray> lanczos(
        Lanczos settings, NDArray start, NDArray sqrtD, boolean warm, NDManager target) {
      return run(settings, start, sqrtD, warm, null, target).top();
    }

    /**
     * {@link #lanczos} of {@code H} and, in the same call, the update sharpness {@code uᵀHu/‖u‖²}
     * of the flat {@code update} ({@link UpdateSharpness#of}; one more product on the same graph,
     * none for a zero update): one call instead of two, and no inner products issued from Java.
     */
    TopAndUpdate lanczosWithUpdate(
        Lanczos settings, NDArray start, boolean warm, NDArray update, NDManager target) {
      checkFlat(params, update);
      return run(settings, start, null, warm, update, target);
    }

    /**
     * Adam's effective steps ({@link AdamSteps#fused}) and then the top eigenpair of {@code D^½ H
     * D^½} with the {@code D^½} they give ({@link #lanczos}), in one TorchScript call ({@code
     * adam_lanczos.pt}): the preconditioned sharpness and the effective-step statistics of a probe
     * without handing {@code D^½} back and forth. Only when {@link #fusesLanczos} and the second
     * moments are PyTorch arrays ({@link AdamSteps#fusableSizes}).
     *
     * @param start the start vector, flat, nonzero
     * @param threshold the effective-step bound {@code 2/λmax} (+∞ when unknown)
     */
    AdamTop preconditioned(
        Lanczos settings,
        NDArray start,
        boolean warm,
        List<String> names,
        NDList secondMoments,
        EffectiveStepSize.Adam adam,
        double threshold,
        NDManager target) {
      long[] sizes = AdamSteps.fusableSizes(names, secondMoments);
      if (sizes == null) {
        throw new IllegalArgumentException("the second moments are not all PyTorch arrays");
      }
      PtNDArray[] out;
      try (IValue q0 = IValue.from((PtNDArray) start);
          IValue tol = IValue.from(settings.tolerance());
          IValue cap = IValue.from((long) settings.maxIterations());
          AdamSteps.Values values = new AdamSteps.Values(secondMoments, adam, threshold)) {
        long[] v = values.handles();
        long[] args = new long[5 + v.length];
        args[0] = q0.getHandle();
        args[1] = tol.getHandle();
        args[2] = cap.getHandle();
        args[3] = gradientList.getHandle();
        args[4] = paramsList.getHandle();
        System.arraycopy(v, 0, args, 5, v.length);
        out = TorchScript.forwardList(adamLanczos, args, (PtNDManager) target);
      }
      double[] stats;
      double[] steps;
      try (NDArray s = out[1];
          NDArray a = out[2]) {
        stats = s.toDoubleArray();
        steps = a.toDoubleArray();
      }
      return new AdamTop(
          top(stats, out[0], warm), AdamSteps.statsOf(names, sizes, steps, threshold));
    }

    private TopAndUpdate run(
        Lanczos settings,
        NDArray start,
        NDArray sqrtD,
        boolean warm,
        NDArray update,
        NDManager target) {
      NDManager m = start.getManager();
      NDArray d = sqrtD != null ? sqrtD : m.zeros(new Shape(0), start.getDataType());
      NDArray u = update != null ? update : m.zeros(new Shape(0), start.getDataType());
      PtNDArray[] out;
      try (IValue q0 = IValue.from((PtNDArray) start);
          IValue dv = IValue.from((PtNDArray) d);
          IValue tol = IValue.from(settings.tolerance());
          IValue cap = IValue.from((long) settings.maxIterations());
          IValue uv = IValue.from((PtNDArray) u)) {
        long[] args = {
          q0.getHandle(),
          dv.getHandle(),
          tol.getHandle(),
          cap.getHandle(),
          gradientList.getHandle(),
          paramsList.getHandle(),
          uv.getHandle()
        };
        out = TorchScript.forwardList(lanczos, args, (PtNDManager) target);
      } finally {
        if (d != sqrtD) {
          d.close();
        }
        if (u != update) {
          u.close();
        }
      }
      double[] stats;
      try (NDArray s = out[1]) {
        stats = s.toDoubleArray();
      }
      return new TopAndUpdate(
          top(stats, out[0], warm),
          update == null ? OptionalDouble.empty() : UpdateSharpness.of(stats[4], stats[5]));
    }

    /**
     * The eigenpair a Lanczos module returned: its Ritz vector {@code y} and its statistics {@code
     * [θ, iterations, converged, error, ...]}.
     */
    private Eigenpair<NDArray> top(double[] stats, NDArray y, boolean warm) {
      return new Eigenpair<>(stats[0], y, (int) stats[1], stats[2] == 1.0, stats[3], warm);
    }

    @Override
    public void close() {
      if (gradientList != null) {
        gradientList.close();
        paramsList.close();
        gradientList = null;
        paramsList = null;
      }
    }
  }

  private static NDList run(
      PtSymbolBlock module, NDArray loss, NDList params, NDList v, NDManager target) {
    check(loss, params, v);
    NDList inputs = new NDList(1 + 2 * params.size());
    inputs.add(loss);
    inputs.addAll(params);
    inputs.addAll(v);
    return call(module, inputs, 1, LISTS_2, params.size(), target);
  }

  /**
   * Runs {@code module} on {@code inputs}: {@code lead} plain tensor arguments (the loss), then
   * {@code listNames.length} groups of {@code n} arrays, each group one {@code List[Tensor]}
   * argument in that order (DJL groups arrays named {@code "x[]"} by first appearance). Java-side
   * names are restored afterwards.
   */
  private static NDList call(
      PtSymbolBlock module, NDList inputs, int lead, String[] listNames, int n, NDManager target) {
    int groups = listNames.length;
    String[] names = new String[inputs.size()];
    for (int i = 0; i < inputs.size(); i++) {
      names[i] = inputs.get(i).getName();
    }
    NDList out;
    try {
      for (int i = 0; i < lead; i++) {
        inputs.get(i).setName(null);
      }
      for (int k = 0; k < groups; k++) {
        for (int i = 0; i < n; i++) {
          inputs.get(lead + k * n + i).setName(listNames[k]);
        }
      }
      out = TorchScript.withAutograd(() -> IValueUtils.forward(module, inputs, true));
    } finally {
      for (int i = 0; i < inputs.size(); i++) {
        inputs.get(i).setName(names[i]);
      }
    }
    out.attach(target);
    return out;
  }

  private static final String[] LISTS_1 = {"params[]"};
  private static final String[] LISTS_2 = {"params[]", "v[]"};
  private static final String[] LISTS_3 = {"g[]", "params[]", "v[]"};
  private static final String[] LISTS_G_PARAMS = {"g[]", "params[]"};

  private static void check(NDArray loss, NDList params, NDList v) {
    checkLoss(loss);
    checkLists(params, v);
  }

  private static void checkLoss(NDArray loss) {
    if (loss.getShape().size() != 1) {
      throw new IllegalArgumentException("loss must be a scalar, has shape " + loss.getShape());
    }
    if (!(loss instanceof PtNDArray)) {
      throw new IllegalArgumentException("loss must be a PyTorch array, was " + loss.getClass());
    }
    // No check that the loss carries a graph: DJL's requiresGrad() is false for every non-leaf and
    // reading grad_fn of a tensor without one crashes the JVM. A loss without graph yields zeros.
  }

  /** A flat vector must hold exactly the parameters' coordinates. */
  private static void checkFlat(NDList params, NDArray v) {
    long size = 0;
    for (NDArray p : params) {
      size += p.getShape().size();
    }
    if (v.getShape().dimension() != 1 || v.getShape().size() != size) {
      throw new IllegalArgumentException(
          "need a flat vector of the parameters' "
              + size
              + " coordinates, got shape "
              + v.getShape());
    }
  }

  private static void checkLists(NDList params, NDList v) {
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

  /** Nothing to release: the modules are shared by the process ({@link Modules}). */
  @Override
  public void close() {}
}
