package dev.slingshot.core;

/**
 * The top eigenpair of a Hessian as found by {@link Lanczos}: λmax, the sharpness that the
 * classical step-size bound {@code η < 2/λmax} refers to (Thilak et al. 2022, App. A.6.1; Cohen et
 * al. 2021), in loss units per parameter unit squared.
 *
 * @param value the largest (algebraic) Ritz value, the estimate of λmax
 * @param vector its unit Ritz vector, owned by the caller (release with {@link VectorSpace#close});
 *     pass it as the warm start of the next call
 * @param iterations the Hessian-vector products used (one per Lanczos iteration)
 * @param converged whether {@link #errorEstimate} reached the tolerance before the iteration cap
 * @param errorEstimate a bound on the absolute error of {@link #value}: the Ritz residual {@code r
 *     = ‖H y − θ y‖} (some eigenvalue lies within {@code r} of {@code θ})
 * @param warmStarted whether the iteration started from a supplied vector rather than a random one
 * @param <V> the vector type
 */
public record Eigenpair<V>(
    double value,
    V vector,
    int iterations,
    boolean converged,
    double errorEstimate,
    boolean warmStarted) {}
