package dev.slingshot.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.slingshot.core.EffectiveStepSize;
import dev.slingshot.core.Eigenpair;
import dev.slingshot.core.HessianVectorProduct;
import dev.slingshot.core.Lanczos;
import dev.slingshot.core.PreconditionedSharpness;
import dev.slingshot.core.UpdateSharpness;
import java.util.List;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.function.Supplier;

/**
 * Second-order probes of a DJL model on the device where it lives: exact Hessian-vector products,
 * λmax by warm-started Lanczos, update sharpness (Thilak et al. 2022, App. D), Adam's effective
 * step size against {@code 2/λmax} (App. A.6.1, Fig. 16) and the preconditioned sharpness against
 * Adam's stability threshold (Cohen et al. 2022). Only scalars are read back; no parameter tensor
 * is copied to the host, and the parameters' {@code .grad} (the gradients of the coming optimizer
 * step) are never touched.
 *
 * <p>Curvature comes from a {@link HessianVectorProduct} over parameter lists:
 *
 * <ul>
 *   <li>{@link #exact(NDArray, NDList)}: on the PyTorch engine, by double backward through a
 *       TorchScript module that calls {@code torch.autograd.grad}; the loss must carry its autograd
 *       graph ({@link #lossWithGraph}); any number of products may be taken on one graph;
 *   <li>{@link #finiteDifferences(Supplier, NDList)}: any engine, central differences of gradients
 *       (an approximation; see its documentation for the accuracy).
 * </ul>
 *
 * <pre>{@code
 * try (HessianProbe probe = HessianProbe.create(model.getNDManager())) {
 *   NDList params = ...;                                   // the model's parameter arrays
 *   NDArray loss = HessianProbe.lossWithGraph(() -> lossOf(model, probeBatch));
 *   HessianVectorProduct<NDList> h = probe.exact(loss, params);
 *   HessianProbe.LambdaMax top = probe.lambdaMax(h, params);          // warm-started next time
 *   OptionalDouble sharp = probe.updateSharpness(h, update);          // uᵀHu/‖u‖²
 *   List<EffectiveStepSize.Stats> steps =
 *       probe.effectiveStepSize(names, secondMoments, adam, top.value());
 * }
 * }</pre>
 *
 * <p>Vectors returned by a product are attached to the manager of its argument; the probe's own
 * scratch vectors live in per-call sub-managers of the manager it was created with, closed before
 * each method returns. Not thread-safe: one probe per training loop.
 */
public final class HessianProbe implements AutoCloseable {

  private final NDManager manager;
  private final Lanczos lanczos;
  private TorchScriptHvp torchScript;
  private NDList warmStart;
  private NDList warmStartPreconditioned;

  private HessianProbe(NDManager manager, Lanczos lanczos) {
    this.manager = manager.newSubManager();
    this.lanczos = Objects.requireNonNull(lanczos, "lanczos");
  }

  /** A probe with {@link Lanczos#ofDefaults()} whose memory lives under {@code manager}. */
  public static HessianProbe create(NDManager manager) {
    return create(manager, Lanczos.ofDefaults());
  }

  /** A probe whose λmax iterations use {@code lanczos} (tolerance, iteration cap, seed). */
  public static HessianProbe create(NDManager manager, Lanczos lanczos) {
    return new HessianProbe(manager, lanczos);
  }

  /** Whether {@link #exact} is available for arrays of {@code manager} (the PyTorch engine). */
  public static boolean supportsExact(NDManager manager) {
    return manager instanceof PtNDManager;
  }

  /**
   * Runs {@code forward} with autograd recording, so the returned loss keeps the graph an exact
   * product needs. On PyTorch this switches grad mode on for the call (and restores it), without
   * opening a {@link GradientCollector}, so it also works while none may be opened; on other
   * engines it opens one.
   */
  public static NDArray lossWithGraph(Supplier<NDArray> forward) {
    Engine engine = Engine.getInstance();
    if ("PyTorch".equals(engine.getEngineName())) {
      boolean was = JniUtils.isGradMode();
      JniUtils.setGradMode(true);
      try {
        return forward.get();
      } finally {
        JniUtils.setGradMode(was);
      }
    }
    try (GradientCollector ignored = engine.newGradientCollector()) {
      return forward.get();
    }
  }

  /**
   * The exact Hessian-vector product of {@code loss} (a scalar with its autograd graph) with
   * respect to {@code params} (the model's own parameter arrays, requiring gradients), on the
   * PyTorch engine. The product never reads or writes {@code .grad}; its results are attached to
   * the manager of the vector it is applied to.
   *
   * <p>The first product computes the gradient with its own autograd graph and keeps it; every
   * product is then one backward through that gradient (a double backward), so further products on
   * the same loss skip the first-order backward. The kept gradient is attached to the manager of
   * {@code loss} (and registered with the {@code NDScope} open at the first product): it lives no
   * longer than the loss does, and as long as it, so take products on a loss in a scope or manager
   * you close.
   *
   * @throws UnsupportedOperationException on another engine (use {@link #finiteDifferences})
   */
  public HessianVectorProduct<NDList> exact(NDArray loss, NDList params) {
    if (!reuseGradientGraph()) {
      TorchScriptHvp ts = torchScript();
      return v -> ts.hvp(loss, params, v, v.get(0).getManager());
    }
    return new GradientGraphHvp(torchScript(), loss, params);
  }

  /**
   * The exact product that builds the gradient graph of {@code loss} once, at its first product,
   * and reuses it for every further one; {@link GradientGraphHvp#close} releases it.
   */
  GradientGraphHvp exactReusingGradient(NDArray loss, NDList params) {
    return new GradientGraphHvp(torchScript(), loss, params);
  }

  /**
   * Internal switch for benchmarks: {@code -Dslingshot.hvp.reuseGradient=false} makes {@link
   * #exact} recompute the gradient graph on every product (the single-module route).
   */
  static final String REUSE_GRADIENT_PROPERTY = "slingshot.hvp.reuseGradient";

  private static boolean reuseGradientGraph() {
    return !"false".equals(System.getProperty(REUSE_GRADIENT_PROPERTY));
  }

  /**
   * The finite-difference product for any engine: {@code loss} recomputes the loss of the current
   * parameters (it is called twice per product, inside a gradient collector the product opens); the
   * parameters move by {@code 1e-2} (float32) or {@code 1e-5} (float64) in norm. Parameters and
   * their gradients are restored exactly afterwards.
   */
  public HessianVectorProduct<NDList> finiteDifferences(Supplier<NDArray> loss, NDList params) {
    double step =
        params.get(0).getDataType() == DataType.FLOAT64
            ? FiniteDifferenceHvp.DEFAULT_STEP_FLOAT64
            : FiniteDifferenceHvp.DEFAULT_STEP_FLOAT32;
    return finiteDifferences(loss, params, step);
  }

  /** {@link #finiteDifferences(Supplier, NDList)} with the perturbation norm {@code step}. */
  public HessianVectorProduct<NDList> finiteDifferences(
      Supplier<NDArray> loss, NDList params, double step) {
    return new FiniteDifferenceHvp(loss, params, step);
  }

  /** {@code H·v} (exact), attached to the manager of {@code v}. */
  public NDList hessianVectorProduct(NDArray loss, NDList params, NDList v) {
    return torchScript().hvp(loss, params, v, v.get(0).getManager()); // one product: one module
  }

  /**
   * λmax of the Hessian by Lanczos, warm-started from the eigenvector of this probe's previous call
   * (when the parameter shapes match; cold otherwise).
   *
   * @param params the parameter arrays (for shapes, dtypes and devices of the vectors)
   */
  public LambdaMax lambdaMax(HessianVectorProduct<NDList> hvp, NDList params) {
    try (NDManager scratch = manager.newSubManager()) {
      NDListVectorSpace space = new NDListVectorSpace(scratch);
      NDList warm = matches(warmStart, params) ? warmStart : null;
      Eigenpair<NDList> top = lanczos.topEigenpair(space, hvp, params, warm);
      warmStart = keep(top.vector(), warmStart);
      return LambdaMax.of(top);
    }
  }

  /** λmax of the exact Hessian of {@code loss}. */
  public LambdaMax lambdaMax(NDArray loss, NDList params) {
    try (GradientGraphHvp h = exactReusingGradient(loss, params)) {
      return lambdaMax(h, params);
    }
  }

  /** Forgets the warm-start eigenvectors (the next λmax starts from a random vector). */
  public void resetWarmStart() {
    warmStart = keep(null, warmStart);
    warmStartPreconditioned = keep(null, warmStartPreconditioned);
  }

  /**
   * Update sharpness {@code uᵀHu/‖u‖²} along {@code update} (the parameter change {@code θ_{t+1} −
   * θ_t} of the step; one tensor per parameter), with one product; empty when the update is zero.
   */
  public OptionalDouble updateSharpness(HessianVectorProduct<NDList> hvp, NDList update) {
    try (NDManager scratch = manager.newSubManager()) {
      return UpdateSharpness.measure(new NDListVectorSpace(scratch), hvp, update);
    }
  }

  /** Update sharpness with the exact Hessian of {@code loss}. */
  public OptionalDouble updateSharpness(NDArray loss, NDList params, NDList update) {
    try (NDManager scratch = manager.newSubManager()) {
      return UpdateSharpness.measure(
          new NDListVectorSpace(scratch),
          v -> torchScript().hvp(loss, params, v, v.get(0).getManager()),
          update);
    }
  }

  /**
   * Per parameter tensor, the distribution of Adam's effective step against {@code 2/λmax} ({@link
   * EffectiveStepSize}), computed on the device: five scalars per tensor come back.
   *
   * @param names the parameter names, in the order of {@code secondMoments}
   * @param secondMoments Adam's second moments {@code v}, one tensor per parameter
   * @param adam hyperparameters and the update count {@code t} that {@code v} belongs to
   * @param lambdaMax λmax of the Hessian (e.g. from {@link #lambdaMax})
   */
  public List<EffectiveStepSize.Stats> effectiveStepSize(
      List<String> names, NDList secondMoments, EffectiveStepSize.Adam adam, double lambdaMax) {
    if (names.size() != secondMoments.size()) {
      throw new IllegalArgumentException(
          names.size() + " names for " + secondMoments.size() + " second-moment tensors");
    }
    double threshold = EffectiveStepSize.threshold(lambdaMax);
    try (NDManager scratch = manager.newSubManager()) {
      AdamSteps.Fused fused = AdamSteps.fused(names, secondMoments, adam, threshold, scratch);
      return fused != null
          ? fused.stats()
          : AdamSteps.of(names, secondMoments, adam, scratch).stats(names, threshold);
    }
  }

  /**
   * Preconditioned sharpness λmax(P⁻¹H) against Adam's threshold {@code (2+2β1)/((1−β1)·η)} ({@link
   * PreconditionedSharpness}), by Lanczos on {@code D^½HD^½} with {@code D = P⁻¹ = diag(step)/η},
   * warm-started from this probe's previous call.
   *
   * @param secondMoments Adam's second moments {@code v}, one tensor per parameter
   */
  public PreconditionedSharpness.Result preconditionedSharpness(
      HessianVectorProduct<NDList> hvp, NDList secondMoments, EffectiveStepSize.Adam adam) {
    try (NDManager scratch = manager.newSubManager()) {
      NDListVectorSpace space = new NDListVectorSpace(scratch);
      NDList sqrtD = new NDList(secondMoments.size());
      for (NDArray v : secondMoments) {
        NDArray d;
        try (NDScope scope = new NDScope()) {
          d = steps(v, adam).divi(adam.learningRate()).sqrt();
          NDScope.unregister(d);
        }
        d.attach(scratch);
        sqrtD.add(d);
      }
      NDList warm = matches(warmStartPreconditioned, sqrtD) ? warmStartPreconditioned : null;
      Eigenpair<NDList> top =
          PreconditionedSharpness.topEigenpair(lanczos, space, hvp, sqrtD, warm);
      warmStartPreconditioned = keep(top.vector(), warmStartPreconditioned);
      return PreconditionedSharpness.result(top, adam);
    }
  }

  /** {@code numerator / (sqrtVScale·√v + ε)} on the device, in v's dtype. */
  private static NDArray steps(NDArray v, EffectiveStepSize.Adam adam) {
    NDArray denominator = v.sqrt().muli(adam.sqrtVScale()).addi(adam.epsilon());
    return NDArrays.div(adam.numerator(), denominator);
  }

  /** Moves {@code vector} (may be null) to the probe's manager and closes {@code previous}. */
  private NDList keep(NDList vector, NDList previous) {
    if (previous != null && previous != vector) {
      previous.close();
    }
    if (vector != null) {
      vector.attach(manager);
      NDScope.unregister(vector); // kept across calls: a caller's NDScope must not close it
    }
    return vector;
  }

  private static boolean matches(NDList vector, NDList like) {
    if (vector == null || vector.size() != like.size()) {
      return false;
    }
    for (int i = 0; i < like.size(); i++) {
      NDArray a = vector.get(i);
      NDArray b = like.get(i);
      if (!a.getShape().equals(b.getShape())
          || a.getDataType() != b.getDataType()
          || !a.getDevice().equals(b.getDevice())) {
        return false;
      }
    }
    return true;
  }

  private TorchScriptHvp torchScript() {
    if (torchScript == null) {
      torchScript = new TorchScriptHvp(manager);
    }
    return torchScript;
  }

  /** Gradient and {@code H·v} in one call (exact route), for tests and benchmarks. */
  NDList gradientAndHvp(NDArray loss, NDList params, NDList v) {
    return torchScript().gradientAndHvp(loss, params, v, v.get(0).getManager());
  }

  /** Releases the warm-start vectors and the TorchScript modules. */
  @Override
  public void close() {
    resetWarmStart();
    if (torchScript != null) {
      torchScript.close();
      torchScript = null;
    }
    manager.close();
  }

  /**
   * λmax of the Hessian (loss units per parameter unit squared) and what finding it cost.
   *
   * @param value the estimate of the largest eigenvalue
   * @param iterations Hessian-vector products used
   * @param converged whether the tolerance was reached before the iteration cap
   * @param errorEstimate estimated absolute error of {@code value}
   * @param warmStarted whether the iteration started from the previous eigenvector
   */
  public record LambdaMax(
      double value, int iterations, boolean converged, double errorEstimate, boolean warmStarted) {

    static LambdaMax of(Eigenpair<?> e) {
      return new LambdaMax(
          e.value(), e.iterations(), e.converged(), e.errorEstimate(), e.warmStarted());
    }

    /** The classical step-size bound {@code 2/λmax} (+∞ when λmax ≤ 0). */
    public double stepBound() {
      return EffectiveStepSize.threshold(value);
    }
  }
}
