package dev.slingshot.core;

/**
 * Preconditioned sharpness {@code λmax(P⁻¹H)} of an adaptive optimizer against its stability
 * threshold (Cohen et al. 2022, "Adaptive gradient methods at the edge of stability"). Adam's
 * update is {@code θ ← θ − η·P⁻¹·m} with the diagonal preconditioner {@code P = (1−β1^t)·diag(√v̂ +
 * ε)}; the update is stable on a quadratic while {@code λmax(P⁻¹H) < (2+2β1)/((1−β1)·η)} (38/η for
 * β1 = 0.9), and Cohen et al. observe training hovering at that threshold.
 *
 * <p>Here {@code P⁻¹ = diag(step_i)/η} with {@code step_i} the {@link EffectiveStepSize} of
 * coordinate {@code i}, which covers both the DJL and the PyTorch placement of ε. Units: inverse
 * learning-rate units (compare with {@link EffectiveStepSize.Adam#stabilityThreshold()}).
 *
 * <p>{@code P⁻¹H} is not symmetric; its eigenvalues are those of the symmetric {@code D^½ H D^½}
 * with {@code D = P⁻¹}, which {@link #symmetrized} builds from Hessian-vector products so {@link
 * Lanczos} applies unchanged.
 */
public final class PreconditionedSharpness {

  private PreconditionedSharpness() {}

  /**
   * A measurement.
   *
   * @param value λmax(P⁻¹H), in inverse learning-rate units
   * @param threshold {@code (2+2β1)/((1−β1)·η)}
   * @param iterations Hessian-vector products used
   * @param converged whether Lanczos reached its tolerance
   */
  public record Result(double value, double threshold, int iterations, boolean converged) {

    /**
     * {@code value/threshold}: at or above 1 the optimizer is at (or past) its edge of stability.
     */
    public double ratio() {
      return value / threshold;
    }
  }

  /**
   * The symmetrised preconditioned Hessian {@code v ↦ D^½ H D^½ v}, given {@code sqrtD} = the
   * coordinate-wise square root of {@code P⁻¹} (see {@link #sqrtInversePreconditioner}).
   */
  public static <V> HessianVectorProduct<V> symmetrized(
      VectorSpace<V> space, HessianVectorProduct<V> hvp, V sqrtD) {
    return v -> {
      V x = space.copy(v);
      try {
        space.multiply(sqrtD, x);
        V hx = hvp.apply(x);
        space.multiply(sqrtD, hx);
        return hx;
      } finally {
        space.close(x);
      }
    };
  }

  /**
   * {@code √(step_i/η)} for second moments {@code v}: the diagonal that {@link #symmetrized} takes.
   */
  public static double[] sqrtInversePreconditioner(double[] v, EffectiveStepSize.Adam adam) {
    double[] s = EffectiveStepSize.steps(v, adam);
    for (int i = 0; i < s.length; i++) {
      s[i] = Math.sqrt(s[i] / adam.learningRate());
    }
    return s;
  }

  /**
   * λmax(P⁻¹H) by {@code lanczos}, warm-started from {@code warmStart} (a previous eigenvector of
   * the symmetrised operator, or null). The returned eigenpair's vector belongs to the caller.
   */
  public static <V> Eigenpair<V> topEigenpair(
      Lanczos lanczos, VectorSpace<V> space, HessianVectorProduct<V> hvp, V sqrtD, V warmStart) {
    return lanczos.topEigenpair(space, symmetrized(space, hvp, sqrtD), sqrtD, warmStart);
  }

  /** A {@link Result} from an eigenpair of the symmetrised operator. */
  public static Result result(Eigenpair<?> top, EffectiveStepSize.Adam adam) {
    return new Result(top.value(), adam.stabilityThreshold(), top.iterations(), top.converged());
  }
}
