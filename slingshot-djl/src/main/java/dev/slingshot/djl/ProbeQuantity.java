package dev.slingshot.djl;

/**
 * The second-order quantities that the scheduled probes of {@link Slingshot#attach} compute (see
 * {@link SlingshotOptions.Builder#probes}); each is published under fixed keys of a {@link
 * ProbeMeasurement}.
 */
public enum ProbeQuantity {
  /**
   * Update sharpness {@code uᵀHu/‖u‖²} along the update of the probed step (Thilak et al. 2022,
   * App. D "curvature metric"): one Hessian-vector product. Key {@value
   * ProbeMeasurement#UPDATE_SHARPNESS}.
   */
  UPDATE_SHARPNESS,
  /**
   * λmax of the Hessian by warm-started Lanczos. Keys {@value ProbeMeasurement#LAMBDA_MAX} and
   * {@value ProbeMeasurement#LAMBDA_ITERATIONS}.
   */
  LAMBDA_MAX,
  /**
   * Adam's per-coordinate effective step against {@code 2/λmax} (App. A.6.1, Fig. 16), from the
   * optimizer's second moments; needs λmax, which is then computed and published too. Only for
   * DJL's {@code Adam} and {@code AdamW}. Keys {@value ProbeMeasurement#EFFECTIVE_STEP_FRACTION}
   * and {@value ProbeMeasurement#EFFECTIVE_STEP_MAX}; per-tensor statistics in {@link
   * ProbeMeasurement#effectiveSteps()}.
   */
  EFFECTIVE_STEP_SIZE,
  /**
   * Preconditioned sharpness λmax(P⁻¹H) against Adam's stability threshold {@code
   * (2+2β1)/((1−β1)·η)} (Cohen et al. 2022), by warm-started Lanczos. Only for DJL's {@code Adam}
   * and {@code AdamW}. Keys {@value ProbeMeasurement#PRECONDITIONED_SHARPNESS} and {@value
   * ProbeMeasurement#PRECONDITIONED_THRESHOLD}.
   */
  PRECONDITIONED_SHARPNESS
}
