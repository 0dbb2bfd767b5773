package dev.slingshot.djl;

import dev.slingshot.core.StepRecord;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * The cheap-tier measurements of one optimizer step, as the adapter fed them to the monitor.
 *
 * <p>Step numbering: step {@code t} is the {@code t}-th optimizer update since the attachment
 * (1-based). Its {@code loss} is the minibatch loss of the forward pass that produced update {@code
 * t} (computed at θ<sub>t−1</sub>, as every training log reports it); every norm is of
 * θ<sub>t</sub>, the parameters after update {@code t}; {@code updateNorm} is ‖θ<sub>t</sub> −
 * θ<sub>t−1</sub>‖ over all trainable parameters and {@code updateRatio} is that divided by
 * ‖θ<sub>t</sub>‖; {@code updateMaxAbs} is ‖θ<sub>t</sub> − θ<sub>t−1</sub>‖<sub>∞</sub>, the
 * largest absolute change of any single coordinate. Measured steps are every {@link
 * SlingshotOptions#measureEvery()} steps (default every step); records of the other steps carry the
 * loss only.
 *
 * @param step the optimizer update count (1-based)
 * @param loss the minibatch training loss (may be NaN or infinite)
 * @param updateNorm ‖Δθ‖, Euclidean over all trainable parameters
 * @param updateRatio ‖Δθ‖ / ‖θ<sub>t</sub>‖
 * @param updateMaxAbs ‖Δθ‖<sub>∞</sub>: the largest absolute coordinate of the applied update, in
 *     the parameters' units. The k-sparse parity study (Sec. 1.1, Step 4 of its explanation)
 *     predicts that when AdamW's parameters hit the wall of the zero-loss basin after a stretch of
 *     zero gradients, each coordinate with a gradient moves by about γ(1−β1)/√(1−β2), i.e. √10·γ
 *     for β = (0.9, 0.999): ‖Δθ‖<sub>∞</sub>/γ at a slingshot's onset tests that prediction
 * @param paramNorm ‖θ<sub>t</sub>‖ over all trainable parameters
 * @param lastLayerNorm the Frobenius norm of the last-layer weight (Thilak et al. Fig. 1)
 * @param groupNorms the Euclidean norm of each parameter group, in group order
 * @param reprCosineDistance 1 − ⟨θ,θ₀⟩/(‖θ‖‖θ₀‖) over the representation parameters (all but the
 *     last layer block), on the scheduled steps only (Thilak et al. App. B.1)
 * @param clfCosineDistance the same over the classifier parameters (the last layer block)
 */
public record StepMetrics(
    long step,
    double loss,
    double updateNorm,
    double updateRatio,
    double updateMaxAbs,
    double paramNorm,
    double lastLayerNorm,
    Map<String, Double> groupNorms,
    OptionalDouble reprCosineDistance,
    OptionalDouble clfCosineDistance) {

  /** Key of the last-layer weight norm in {@link dev.slingshot.core.StepRecord#norms()}. */
  public static final String LAST_LAYER = "last_layer";

  /** Key of ‖θ‖ over all trainable parameters in {@link dev.slingshot.core.StepRecord#norms()}. */
  public static final String PARAMS = "params";

  /** Prefix of the group norms' keys in {@link dev.slingshot.core.StepRecord#norms()}. */
  public static final String GROUP_PREFIX = "group/";

  /** {@link StepRecord#metrics()} key of ‖Δθ‖/‖θ‖. */
  public static final String UPDATE_RATIO = "update_ratio";

  /**
   * {@link StepRecord#metrics()} key of ‖Δθ‖<sub>∞</sub>, the largest absolute coordinate of the
   * update (see {@link #updateMaxAbs()}).
   */
  public static final String UPDATE_MAX_ABS = "update_max_abs";

  /** {@link StepRecord#metrics()} key of the representation parameters' cosine distance. */
  public static final String COSINE_REPRESENTATION = "cosine_distance.representation";

  /** {@link StepRecord#metrics()} key of the classifier parameters' cosine distance. */
  public static final String COSINE_CLASSIFIER = "cosine_distance.classifier";

  public StepMetrics {
    groupNorms = Collections.unmodifiableMap(new LinkedHashMap<>(groupNorms));
  }
}
