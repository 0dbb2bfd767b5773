package dev.slingshot.core;

import java.util.OptionalDouble;

/**
 * Update sharpness, the "curvature metric" of Thilak et al. 2022 (App. D, Fig. 3): the curvature of
 * the loss along the update the optimizer applies, {@code uᵀ H u / ‖u‖²}, with {@code H} the
 * Hessian of the loss at the current parameters and {@code u = θ_{t+1} − θ_t} the update of that
 * step. It lies between the smallest and largest Hessian eigenvalues; units are those of λmax (loss
 * per parameter unit squared). The paper sees it spike where the last-layer weight norm switches
 * from growth to plateau.
 *
 * <p>A zero (or non-finite) update has no direction: the measurement is absent ({@link
 * OptionalDouble#empty()}), never NaN.
 */
public final class UpdateSharpness {

  private UpdateSharpness() {}

  /**
   * {@code uᵀHu/‖u‖²} with one Hessian-vector product, or empty when {@code u} is zero or not
   * finite. {@code u} is not modified.
   */
  public static <V> OptionalDouble measure(
      VectorSpace<V> space, HessianVectorProduct<V> hvp, V update) {
    double uu = space.dot(update, update);
    if (!(uu > 0) || !Double.isFinite(uu)) {
      return OptionalDouble.empty();
    }
    V hu = hvp.apply(update);
    try {
      return of(space.dot(update, hu), uu);
    } finally {
      space.close(hu);
    }
  }

  /**
   * The ratio from its two inner products, {@code uHu = uᵀHu} and {@code uu = ‖u‖²}; empty when
   * {@code uu} is not positive or either is not finite.
   */
  public static OptionalDouble of(double uHu, double uu) {
    if (!(uu > 0) || !Double.isFinite(uu) || !Double.isFinite(uHu)) {
      return OptionalDouble.empty();
    }
    return OptionalDouble.of(uHu / uu);
  }
}
