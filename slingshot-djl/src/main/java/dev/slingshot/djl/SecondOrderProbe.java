package dev.slingshot.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import dev.slingshot.core.EffectiveStepSize;
import dev.slingshot.core.Eigenpair;
import dev.slingshot.core.HessianVectorProduct;
import dev.slingshot.core.Lanczos;
import dev.slingshot.core.PreconditionedSharpness;
import dev.slingshot.core.UpdateSharpness;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The expensive tier behind {@link SlingshotOptions.Builder#probes}: one run computes the requested
 * {@link ProbeQuantity quantities} at the current parameters on a probe batch and returns them as a
 * {@link ProbeMeasurement}. {@link Instrumentation} decides when it runs and which update it gets.
 *
 * <p>Every array the run creates (the batch copied to the parameters' device, the forward pass and
 * its graph, Hessian-vector products, Lanczos vectors, effective-step intermediates) lives in an
 * {@link NDScope} closed before the run returns; only the warm-start eigenvectors survive, in the
 * {@link HessianProbe}'s own manager. Parameters, their gradients and the optimizer state are only
 * read.
 */
final class SecondOrderProbe implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SecondOrderProbe.class);

  private final SlingshotOptions options;
  private final Set<ProbeQuantity> quantities;
  private final Optimizer optimizer;
  private final ParameterLayout layout;
  private final List<String> ids = new ArrayList<>();
  private final Set<String> loggedNotes = new HashSet<>();
  private HessianProbe hessian;
  private NDManager keep;
  private NDArray warmLambda;
  private NDArray warmPreconditioned;

  SecondOrderProbe(SlingshotOptions options, Optimizer optimizer, ParameterLayout layout) {
    this.options = options;
    this.quantities = options.probeQuantities();
    this.optimizer = optimizer;
    this.layout = layout;
    for (var p : layout.params) {
      ids.add(p.getId());
    }
  }

  /** Whether a fixed probe batch was configured. */
  boolean hasFixedBatch() {
    return options.probeInputs() != null;
  }

  /**
   * Probes step {@code t} at the current parameters.
   *
   * @param trainer the trainer (its block, parameter store and loss)
   * @param inputs the current batch's inputs, or null to use the fixed probe batch
   * @param labels the current batch's labels, or null to use the fixed probe batch
   * @param t the step probed
   * @param update the update of step {@code t} (either sign), flat over the trainable parameters in
   *     layout order, or null when it is not held
   */
  ProbeMeasurement run(Trainer trainer, NDList inputs, NDList labels, long t, NDArray update) {
    long start = System.nanoTime();
    String batchKind = "current";
    if (hasFixedBatch()) {
      inputs = options.probeInputs();
      labels = options.probeLabels();
      batchKind = "fixed";
    }
    if (inputs == null || labels == null) {
      throw new IllegalStateException("no probe batch at step " + t);
    }
    Map<String, Double> values = new LinkedHashMap<>();
    List<String> notes = new ArrayList<>();
    List<EffectiveStepSize.Stats> stats = List.of();
    boolean converged = false;
    boolean warm = false;
    int preconditionedIterations = 0;
    NDList params = new NDList(layout.params.size());
    Shape[] shapes = new Shape[layout.params.size()];
    long total = 0;
    for (var p : layout.params) {
      shapes[params.size()] = p.getArray().getShape();
      total += shapes[params.size()].size();
      params.add(p.getArray());
    }
    Device device = params.get(0).getDevice();
    Loss loss = trainer.getLoss();
    if (loss instanceof CapturingLoss c) {
      loss = c.delegate(); // the probe's loss must not be taken for the batch loss
    }
    Loss lossFn = loss;
    try (NDScope scope = new NDScope()) {
      NDList x = inputs.toDevice(device, false);
      NDList y = labels.toDevice(device, false);
      Supplier<NDArray> forward = () -> scalar(lossFn.evaluate(y, trainer.evaluate(x)));
      HessianProbe probe = hessian(trainer.getManager());
      HessianVectorProduct<NDList> perTensor;
      if (HessianProbe.supportsExact(params.get(0).getManager())) {
        // Builds the gradient graph at the first product and reuses it for all of this run's.
        perTensor = probe.exact(HessianProbe.lossWithGraph(forward), params);
      } else {
        note(notes, "finite-difference Hessian-vector products (no exact route on this engine)");
        perTensor = probe.finiteDifferences(forward, params);
      }
      try {
        // Lanczos and the Rayleigh quotients run on flat vectors: a few native calls per operation.
        FlatVectorSpace space = new FlatVectorSpace(keep, shapes);
        HessianVectorProduct<NDArray> h =
            perTensor instanceof GradientGraphHvp exact ? exact.flat() : space.hvp(perTensor);
        TorchScriptHvp.FlatProducts fused = fused(perTensor);
        boolean effective = quantities.contains(ProbeQuantity.EFFECTIVE_STEP_SIZE);
        boolean lambda = quantities.contains(ProbeQuantity.LAMBDA_MAX) || effective;
        boolean sharpness = quantities.contains(ProbeQuantity.UPDATE_SHARPNESS);
        if (sharpness && update == null) {
          note(notes, "the update of step " + t + " was not recorded; no update sharpness");
        }
        // With the fused Lanczos, the update's product rides along in the same call.
        NDArray foldUpdate =
            fused != null
                    && lambda
                    && sharpness
                    && update != null
                    && update.getDataType() == params.get(0).getDataType()
                ? update
                : null;
        if (sharpness && update != null && foldUpdate == null) {
          putUpdateSharpness(values, notes, t, UpdateSharpness.measure(space, h, update));
        }
        double lambdaMax = Double.NaN;
        if (lambda) {
          NDArray like = warmLambda != null ? warmLambda : update;
          if (like == null || like.getShape().size() != total) {
            like = keep.zeros(new Shape(total), params.get(0).getDataType(), device);
          }
          Eigenpair<NDArray> top;
          if (fused != null) {
            TorchScriptHvp.TopAndUpdate r =
                fusedTop(fused, space, like, matches(warmLambda, like), null, foldUpdate);
            if (foldUpdate != null) {
              putUpdateSharpness(values, notes, t, r.updateSharpness());
            }
            top = r.top();
          } else {
            top = options.lanczos().topEigenpair(space, h, like, matches(warmLambda, like));
          }
          warmLambda = keep(top.vector(), warmLambda);
          converged = top.converged();
          warm = top.warmStarted();
          values.put(ProbeMeasurement.LAMBDA_ITERATIONS, (double) top.iterations());
          if (Double.isFinite(top.value())) {
            lambdaMax = top.value();
            values.put(ProbeMeasurement.LAMBDA_MAX, lambdaMax);
          } else {
            note(notes, "λmax is not finite");
          }
        }
        boolean preconditioned = quantities.contains(ProbeQuantity.PRECONDITIONED_SHARPNESS);
        if (effective || preconditioned) {
          OptimizerState.AdamMoments am = null;
          try {
            am = OptimizerState.adamMoments(optimizer, ids, device);
          } catch (UnsupportedOperationException e) {
            note(notes, e.getMessage());
          }
          double bound =
              Double.isNaN(lambdaMax)
                  ? Double.POSITIVE_INFINITY
                  : EffectiveStepSize.threshold(lambdaMax);
          List<EffectiveStepSize.Stats> stepStats = null;
          Eigenpair<NDArray> preTop = null;
          boolean oneCall =
              am != null
                  && fused != null
                  && preconditioned
                  && AdamSteps.fusableSizes(layout.names, am.variances()) != null;
          if (oneCall) {
            // Effective steps, D^½ and the preconditioned Lanczos in one TorchScript call.
            DataType type = am.variances().get(0).getDataType();
            NDArray warmStart = matches(warmPreconditioned, total, type, device);
            NDArray q0 =
                warmStart != null
                    ? warmStart
                    : space.randomLike(
                        keep.zeros(new Shape(total), type, device),
                        options.preconditionedLanczos().seed());
            try {
              TorchScriptHvp.AdamTop r =
                  fused.preconditioned(
                      options.preconditionedLanczos(),
                      q0,
                      warmStart != null,
                      layout.names,
                      am.variances(),
                      am.adam(),
                      bound,
                      keep);
              stepStats = r.steps();
              preTop = r.top();
            } finally {
              if (q0 != warmStart) {
                q0.close();
              }
            }
          } else if (am != null) {
            // Effective steps and D^½ in one TorchScript call where available, else DJL
            // operations; then the preconditioned Lanczos on its own.
            AdamSteps.Fused fusedSteps =
                AdamSteps.fused(layout.names, am.variances(), am.adam(), bound, keep);
            AdamSteps steps =
                fusedSteps != null
                    ? null
                    : AdamSteps.of(layout.names, am.variances(), am.adam(), keep);
            if (effective && !Double.isNaN(lambdaMax)) {
              stepStats =
                  fusedSteps != null ? fusedSteps.stats() : steps.stats(layout.names, bound);
            }
            if (preconditioned) {
              NDArray d =
                  fusedSteps != null ? fusedSteps.sqrtD() : steps.sqrtD(am.adam().learningRate());
              preTop =
                  fused != null
                      ? fusedTop(fused, space, d, matches(warmPreconditioned, d), d, null).top()
                      : PreconditionedSharpness.topEigenpair(
                          options.preconditionedLanczos(),
                          space,
                          h,
                          d,
                          matches(warmPreconditioned, d));
            }
          }
          if (am != null && effective && !Double.isNaN(lambdaMax)) {
            stats = stepStats;
            double above = 0;
            long count = 0;
            double max = Double.NEGATIVE_INFINITY;
            for (EffectiveStepSize.Stats s : stats) {
              above += s.fractionAbove() * s.count();
              count += s.count();
              max = Math.max(max, s.max());
            }
            values.put(ProbeMeasurement.EFFECTIVE_STEP_FRACTION, above / count);
            values.put(ProbeMeasurement.EFFECTIVE_STEP_MAX, max);
          }
          if (am != null && preconditioned) {
            warmPreconditioned = keep(preTop.vector(), warmPreconditioned);
            PreconditionedSharpness.Result r = PreconditionedSharpness.result(preTop, am.adam());
            preconditionedIterations = r.iterations();
            if (Double.isFinite(r.value())) {
              values.put(ProbeMeasurement.PRECONDITIONED_SHARPNESS, r.value());
            } else {
              note(notes, "the preconditioned sharpness is not finite");
            }
            values.put(ProbeMeasurement.PRECONDITIONED_THRESHOLD, r.threshold());
          }
        }
      } finally {
        if (perTensor instanceof GradientGraphHvp g) {
          // The gradient graph built once for all products, and the TorchScript values made from
          // it: released here even when a quantity failed (the scope would close only the arrays).
          g.close();
        }
      }
    }
    return new ProbeMeasurement(
        t,
        values,
        batchKind,
        converged,
        warm,
        preconditionedIterations,
        stats,
        notes,
        (System.nanoTime() - start) / 1e6);
  }

  /**
   * The exact products' Lanczos in one TorchScript call, where available ({@link
   * TorchScriptHvp.FlatProducts#lanczos}); null sends the iteration through core's {@link
   * dev.slingshot.core.Lanczos} one vector operation at a time. Both take the same steps.
   */
  private static TorchScriptHvp.FlatProducts fused(HessianVectorProduct<NDList> perTensor) {
    if (perTensor instanceof GradientGraphHvp g && FUSED) {
      TorchScriptHvp.FlatProducts products = g.flatProducts();
      return products.fusesLanczos() ? products : null;
    }
    return null;
  }

  /**
   * Internal switch for benchmarks: {@code -Dslingshot.lanczos.fused=false} takes core's Lanczos
   * even where the fused one is available.
   */
  static final String FUSED_PROPERTY = "slingshot.lanczos.fused";

  private static final boolean FUSED = !"false".equals(System.getProperty(FUSED_PROPERTY));

  /**
   * The top eigenpair by the fused Lanczos, from {@code warm} when given, else from the seeded
   * random vector shaped like {@code like} that core's Lanczos would start from; with {@code
   * update} (of {@code H} only, {@code sqrtD} null), also its update sharpness from the same call.
   */
  private TorchScriptHvp.TopAndUpdate fusedTop(
      TorchScriptHvp.FlatProducts fused,
      FlatVectorSpace space,
      NDArray like,
      NDArray warm,
      NDArray sqrtD,
      NDArray update) {
    Lanczos settings = sqrtD == null ? options.lanczos() : options.preconditionedLanczos();
    NDArray start = warm != null ? warm : space.randomLike(like, settings.seed());
    try {
      return update != null
          ? fused.lanczosWithUpdate(settings, start, warm != null, update, keep)
          : new TorchScriptHvp.TopAndUpdate(
              fused.lanczos(settings, start, sqrtD, warm != null, keep), OptionalDouble.empty());
    } finally {
      if (start != warm) {
        start.close();
      }
    }
  }

  /** The update sharpness into {@code values}, or a note when the update has no direction. */
  private void putUpdateSharpness(
      Map<String, Double> values, List<String> notes, long t, OptionalDouble s) {
    if (s.isPresent()) {
      values.put(ProbeMeasurement.UPDATE_SHARPNESS, s.getAsDouble());
    } else {
      note(notes, "the update of step " + t + " is zero or not finite; no update sharpness");
    }
  }

  private static NDArray scalar(NDArray loss) {
    return loss.getShape().isScalar() ? loss : loss.mean();
  }

  private HessianProbe hessian(NDManager manager) {
    if (hessian == null) {
      hessian = HessianProbe.create(manager, options.lanczos());
      keep = manager.newSubManager();
    }
    return hessian;
  }

  /** {@code vector} if it can warm-start an iteration shaped like {@code like}, else null. */
  private static NDArray matches(NDArray vector, NDArray like) {
    return vector != null && vector.getShape().equals(like.getShape())
        ? matches(vector, like.getShape().size(), like.getDataType(), like.getDevice())
        : null;
  }

  /** {@code vector} if it is a flat vector of {@code size} coordinates of that type and device. */
  private static NDArray matches(NDArray vector, long size, DataType type, Device device) {
    return vector != null
            && vector.getShape().dimension() == 1
            && vector.getShape().size() == size
            && vector.getDataType() == type
            && vector.getDevice().equals(device)
        ? vector
        : null;
  }

  /** Keeps {@code vector} across runs (out of the run's scope) and closes {@code previous}. */
  private NDArray keep(NDArray vector, NDArray previous) {
    if (previous != null && previous != vector) {
      previous.close();
    }
    vector.attach(keep);
    NDScope.unregister(vector);
    return vector;
  }

  /** Adds a note to this measurement and logs each distinct note once per run. */
  private void note(List<String> notes, String note) {
    notes.add(note);
    String key = note.replaceAll("[0-9]+", "#");
    if (loggedNotes.add(key)) {
      LOG.info("slingshot probes: {}", note);
    }
  }

  @Override
  public void close() {
    if (hessian != null) {
      hessian.close();
      hessian = null;
    }
    if (keep != null) {
      keep.close(); // the warm-start vectors
      keep = null;
      warmLambda = null;
      warmPreconditioned = null;
    }
  }
}
