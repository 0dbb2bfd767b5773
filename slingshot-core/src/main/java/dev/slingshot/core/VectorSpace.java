package dev.slingshot.core;

import java.util.List;

/**
 * The few vector operations that the second-order probes need, over whatever holds a model's
 * parameters: plain {@code double[]} in tests, a list of device-resident tensors in an engine
 * adapter. Written once against this interface, {@link Lanczos}, {@link UpdateSharpness} and {@link
 * PreconditionedSharpness} never copy a parameter-sized vector to the host; only scalars ({@link
 * #dot}, {@link #norm}) come back.
 *
 * <p>Ownership: every vector this space returns ({@link #copy}, {@link #randomLike}) and every
 * vector a {@link HessianVectorProduct} returns belongs to the caller, who releases it with {@link
 * #close} (a no-op for heap arrays, freeing native memory for tensors). The in-place operations
 * ({@link #axpy}, {@link #scale}, {@link #multiply}) write into their last argument and allocate
 * nothing that outlives the call.
 *
 * @param <V> the vector type
 */
public interface VectorSpace<V> {

  /** The inner product {@code Σ a_i b_i}. */
  double dot(V a, V b);

  /** The Euclidean norm {@code √(x·x)}. */
  default double norm(V x) {
    return Math.sqrt(dot(x, x));
  }

  /**
   * Scales {@code x} to unit norm, in place, and returns the norm it had; leaves {@code x} as it is
   * when that norm is zero or not finite.
   */
  default double normalize(V x) {
    double n = norm(x);
    if (n > 0 && Double.isFinite(n)) {
      scale(1 / n, x);
    }
    return n;
  }

  /** {@code y ← y + alpha·x}, in place. */
  void axpy(double alpha, V x, V y);

  /** {@code x ← alpha·x}, in place. */
  void scale(double alpha, V x);

  /** {@code x ← x ⊙ d} (coordinate-wise product), in place: a diagonal preconditioner. */
  void multiply(V d, V x);

  /**
   * Removes from {@code w} its components along the orthonormal vectors {@code basis}, in place, by
   * classical Gram-Schmidt applied twice, which leaves {@code w} orthogonal to the basis to working
   * precision (Giraud et al. 2005, "twice is enough"): each pass takes {@code c_j = q_j·w} for
   * every {@code j}, then sets {@code w ← w − Σ_j c_j q_j}. The default takes one inner product and
   * one {@link #axpy} per basis vector and pass; a space of device arrays may do a pass in a few
   * calls.
   *
   * @return the coefficients {@code c_j} of the first pass, in the order of {@code basis}
   */
  default double[] orthogonalize(V w, List<V> basis) {
    double[] first = null;
    for (int pass = 0; pass < 2; pass++) {
      double[] c = new double[basis.size()];
      for (int j = 0; j < c.length; j++) {
        c[j] = dot(w, basis.get(j));
      }
      for (int j = 0; j < c.length; j++) {
        axpy(-c[j], basis.get(j), w);
      }
      if (first == null) {
        first = c;
      }
    }
    return first;
  }

  /**
   * A new vector {@code Σ_j c_j q_j} over the first {@code c.length} vectors of {@code basis} (a
   * Ritz vector, for example). The default copies, scales and takes one {@link #axpy} per vector.
   */
  default V combination(double[] c, List<V> basis) {
    if (c.length == 0 || c.length > basis.size()) {
      throw new IllegalArgumentException(
          c.length + " coefficients for a basis of " + basis.size() + " vectors");
    }
    V y = copy(basis.get(0));
    scale(c[0], y);
    for (int j = 1; j < c.length; j++) {
      axpy(c[j], basis.get(j), y);
    }
    return y;
  }

  /** A new vector equal to {@code x}. */
  V copy(V x);

  /**
   * A new vector shaped like {@code like} with independent standard normal coordinates drawn from a
   * generator seeded with {@code seed} (the engine's own random state is left alone, so a probe
   * never shifts a training run's random draws).
   */
  V randomLike(V like, long seed);

  /** Releases a vector this space or a Hessian-vector product returned; null is ignored. */
  void close(V x);

  /** The space of plain {@code double[]} vectors (heap arrays; {@link #close} does nothing). */
  static VectorSpace<double[]> ofDoubleArrays() {
    return DoubleArrayVectorSpace.INSTANCE;
  }
}
