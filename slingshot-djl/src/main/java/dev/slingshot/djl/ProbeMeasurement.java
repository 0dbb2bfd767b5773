package dev.slingshot.djl;

import dev.slingshot.core.EffectiveStepSize;
import dev.slingshot.core.Measurement;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * One run of the scheduled second-order probes of {@link Slingshot#attach}, published to the
 * monitor as a {@link Measurement} of type {@value #TYPE} (so a {@code RunLog} writes it to {@code
 * events.jsonl} and {@code SlingshotMetrics} turns each value into a gauge {@code
 * slingshot.<key>}).
 *
 * <p>Everything refers to step {@code t} = {@link #step()}: the parameters θ<sub>t</sub> after
 * update {@code t}, the update u<sub>t</sub> = θ<sub>t</sub> − θ<sub>t−1</sub>, and the optimizer
 * state after update {@code t} (see {@link SlingshotOptions.Builder#probes} for the exact
 * definitions). {@link #values()} holds only the quantities that were computed, under these keys:
 *
 * <ul>
 *   <li>{@value #UPDATE_SHARPNESS}: u<sub>t</sub>ᵀH<sub>t</sub>u<sub>t</sub>/‖u<sub>t</sub>‖²;
 *   <li>{@value #LAMBDA_MAX}: λmax(H<sub>t</sub>); {@value #LAMBDA_ITERATIONS}: the Hessian-vector
 *       products Lanczos used;
 *   <li>{@value #EFFECTIVE_STEP_FRACTION}: the fraction of all coordinates whose Adam effective
 *       step exceeds 2/λmax; {@value #EFFECTIVE_STEP_MAX}: the largest effective step;
 *   <li>{@value #PRECONDITIONED_SHARPNESS}: λmax(P⁻¹H<sub>t</sub>); {@value
 *       #PRECONDITIONED_THRESHOLD}: Adam's threshold (2+2β1)/((1−β1)·η).
 * </ul>
 *
 * @param step the step {@code t} probed
 * @param values the measured values by key (only those computed; never NaN)
 * @param batch {@code "current"} (the training batch of step {@code t + 1}) or {@code "fixed"}
 * @param lambdaConverged whether the λmax Lanczos iteration reached its tolerance (false when λmax
 *     was not computed)
 * @param lambdaWarmStarted whether it started from the previous probe's eigenvector
 * @param preconditionedIterations the Hessian-vector products the preconditioned sharpness took (0
 *     when it was not computed)
 * @param effectiveSteps per parameter tensor, the distribution of the effective step against 2/λmax
 *     (empty when not computed)
 * @param notes why a requested quantity is missing (e.g. the optimizer has no second moments);
 *     empty when all were computed
 * @param millis the probe's wall-clock time in milliseconds
 */
public record ProbeMeasurement(
    long step,
    Map<String, Double> values,
    String batch,
    boolean lambdaConverged,
    boolean lambdaWarmStarted,
    int preconditionedIterations,
    List<EffectiveStepSize.Stats> effectiveSteps,
    List<String> notes,
    double millis)
    implements Measurement {

  /** The event type. */
  public static final String TYPE = "probe";

  /** Key of the update sharpness uᵀHu/‖u‖². */
  public static final String UPDATE_SHARPNESS = "sharpness.update";

  /** Key of λmax of the Hessian. */
  public static final String LAMBDA_MAX = "lambda.max";

  /** Key of the Hessian-vector products that λmax took. */
  public static final String LAMBDA_ITERATIONS = "lambda.iterations";

  /** Key of the fraction of all coordinates whose effective step exceeds 2/λmax. */
  public static final String EFFECTIVE_STEP_FRACTION = "effective_step.fraction_above";

  /** Key of the largest effective step over all coordinates. */
  public static final String EFFECTIVE_STEP_MAX = "effective_step.max";

  /** Key of the preconditioned sharpness λmax(P⁻¹H). */
  public static final String PRECONDITIONED_SHARPNESS = "sharpness.preconditioned";

  /** Key of Adam's stability threshold (2+2β1)/((1−β1)·η). */
  public static final String PRECONDITIONED_THRESHOLD = "sharpness.preconditioned.threshold";

  /** Copies the collections. */
  public ProbeMeasurement {
    Objects.requireNonNull(batch, "batch");
    values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    effectiveSteps = List.copyOf(effectiveSteps);
    notes = List.copyOf(notes);
  }

  @Override
  public String type() {
    return TYPE;
  }

  /** The value under {@code key}, or empty when it was not computed. */
  public OptionalDouble value(String key) {
    Double v = values.get(key);
    return v == null ? OptionalDouble.empty() : OptionalDouble.of(v);
  }
}
