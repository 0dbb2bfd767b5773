package dev.slingshot.core;

/**
 * The map {@code v ↦ H·v} for the Hessian {@code H = ∇²L(θ)} of a loss at fixed parameters, the
 * only access to curvature that the probes need (the Hessian itself is never formed). An exact
 * implementation differentiates the gradient a second time (Pearlmutter's trick); a finite
 * difference of gradients is an approximation. Units: loss units per parameter unit squared, times
 * the units of {@code v}.
 *
 * @param <V> the vector type of a {@link VectorSpace}
 */
@FunctionalInterface
public interface HessianVectorProduct<V> {

  /**
   * Returns {@code H·v} as a new vector owned by the caller (release it with {@link
   * VectorSpace#close}); {@code v} is not modified.
   */
  V apply(V v);
}
