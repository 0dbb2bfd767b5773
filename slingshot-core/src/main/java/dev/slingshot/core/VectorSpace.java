package dev.slingshot.core;

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

  /** {@code y ← y + alpha·x}, in place. */
  void axpy(double alpha, V x, V y);

  /** {@code x ← alpha·x}, in place. */
  void scale(double alpha, V x);

  /** {@code x ← x ⊙ d} (coordinate-wise product), in place: a diagonal preconditioner. */
  void multiply(V d, V x);

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
