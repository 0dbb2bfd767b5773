package dev.slingshot.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * λmax, the largest eigenvalue of a Hessian, by the Lanczos iteration with full
 * re-orthogonalisation, using only Hessian-vector products. The curvature scale behind the
 * step-size bound {@code 2/λmax} that the effective step size is compared with (Thilak et al. 2022,
 * App. A.6.1, Fig. 16) and, applied to the preconditioned Hessian, the preconditioned sharpness of
 * Cohen et al. 2022 (see {@link PreconditionedSharpness}).
 *
 * <p>Each iteration costs one {@link HessianVectorProduct}, a full re-orthogonalisation against the
 * {@code k} Lanczos vectors so far (two Gram-Schmidt passes, {@link VectorSpace#orthogonalize}) and
 * a norm; the iteration keeps {@code k + 2} vectors of the parameters' size. It stops when the
 * estimated error of the top Ritz value ({@link Eigenpair#errorEstimate()}) is at most {@code
 * tolerance · |λ|}, when the Krylov space becomes invariant (then the value is exact up to
 * rounding), or at the iteration cap. Warm starting from the previous call's eigenvector makes a
 * slowly changing Hessian cost a few products instead of tens.
 *
 * <p>Lanczos finds the largest <em>algebraic</em> eigenvalue (not the largest in magnitude, as
 * power iteration would): the one that limits the step size.
 *
 * <pre>{@code
 * Lanczos lanczos = Lanczos.custom().tolerance(1e-3).maxIterations(50).build();
 * Eigenpair<V> top = lanczos.topEigenpair(space, hvp, params, previous);   // previous may be null
 * }</pre>
 */
public final class Lanczos {

  /** Default relative tolerance on λmax. */
  public static final double DEFAULT_TOLERANCE = 1e-3;

  /** Default cap on iterations (Hessian-vector products). */
  public static final int DEFAULT_MAX_ITERATIONS = 64;

  /** Default seed of the random start vector. */
  public static final long DEFAULT_SEED = 0x5EEDL;

  private static final Lanczos DEFAULTS = custom().build();

  private final double tolerance;
  private final int maxIterations;
  private final long seed;

  private Lanczos(Builder b) {
    this.tolerance = b.tolerance;
    this.maxIterations = b.maxIterations;
    this.seed = b.seed;
  }

  /** Tolerance 1e-3 relative, at most 64 iterations, seed {@value #DEFAULT_SEED}. */
  public static Lanczos ofDefaults() {
    return DEFAULTS;
  }

  /** A builder starting from the defaults. */
  public static Builder custom() {
    return new Builder();
  }

  /** A builder starting from {@code base}'s settings. */
  public static Builder from(Lanczos base) {
    return new Builder()
        .tolerance(base.tolerance)
        .maxIterations(base.maxIterations)
        .seed(base.seed);
  }

  /** The relative tolerance on λmax. */
  public double tolerance() {
    return tolerance;
  }

  /** The cap on iterations. */
  public int maxIterations() {
    return maxIterations;
  }

  /** The seed of random start vectors. */
  public long seed() {
    return seed;
  }

  /** The top eigenpair from a random start shaped like {@code like}. */
  public <V> Eigenpair<V> topEigenpair(VectorSpace<V> space, HessianVectorProduct<V> hvp, V like) {
    return topEigenpair(space, hvp, like, null);
  }

  /**
   * The top eigenpair, warm-started from {@code warmStart} (typically the previous call's {@link
   * Eigenpair#vector()}; not modified) or from a random vector shaped like {@code like} when it is
   * null, zero or not finite.
   */
  public <V> Eigenpair<V> topEigenpair(
      VectorSpace<V> space, HessianVectorProduct<V> hvp, V like, V warmStart) {
    List<V> basis = new ArrayList<>();
    V w = null;
    boolean warm = false;
    try {
      V q = null;
      if (warmStart != null) {
        q = space.copy(warmStart);
        double n = space.normalize(q);
        warm = n > 0 && Double.isFinite(n);
        if (!warm) {
          space.close(q);
          q = null;
        }
      }
      if (q == null) {
        q = space.randomLike(like, seed);
        space.normalize(q);
      }
      basis.add(q);
      double[] alpha = new double[maxIterations];
      double[] beta = new double[maxIterations];
      SymmetricEigen eig = null;
      double error = Double.POSITIVE_INFINITY;
      boolean converged = false;
      int k = 0;
      while (k < maxIterations) {
        w = hvp.apply(basis.get(k));
        // Full re-orthogonalisation against every Lanczos vector so far. Its first pass removes
        // α_k q_k and β_{k−1} q_{k−1}, the three-term recurrence (the other coefficients vanish in
        // exact arithmetic); α_k = q_kᵀ H q_k is its last coefficient.
        alpha[k] = space.orthogonalize(w, basis)[k];
        beta[k] = space.normalize(w); // q_{k+1} if the iteration goes on
        k++;
        eig = SymmetricEigen.ofTridiagonal(alpha, beta, k);
        double theta = eig.values[0];
        double residual = Math.abs(beta[k - 1] * eig.vectors[0][k - 1]);
        error = residual;
        boolean invariant = beta[k - 1] <= 1e-12 * Math.max(Math.abs(theta), Double.MIN_NORMAL);
        if (error <= tolerance * Math.abs(theta) || invariant || !Double.isFinite(theta)) {
          converged = Double.isFinite(theta);
          break;
        }
        if (k < maxIterations) {
          basis.add(w);
          w = null;
        }
      }
      // Ritz vector y = Σ s_j q_j of the top Ritz value.
      V y = space.combination(Arrays.copyOf(eig.vectors[0], k), basis);
      space.normalize(y);
      return new Eigenpair<>(eig.values[0], y, k, converged, error, warm);
    } finally {
      space.close(w);
      for (V v : basis) {
        space.close(v);
      }
    }
  }

  @Override
  public String toString() {
    return "Lanczos[tolerance=" + tolerance + ", maxIterations=" + maxIterations + "]";
  }

  /** Builds a {@link Lanczos}; every setter checks its argument. */
  public static final class Builder {
    private double tolerance = DEFAULT_TOLERANCE;
    private int maxIterations = DEFAULT_MAX_ITERATIONS;
    private long seed = DEFAULT_SEED;

    private Builder() {}

    /** Relative tolerance on λmax, in (0, 1). */
    public Builder tolerance(double tolerance) {
      if (!(tolerance > 0 && tolerance < 1)) {
        throw new IllegalArgumentException("tolerance must be in (0, 1), was " + tolerance);
      }
      this.tolerance = tolerance;
      return this;
    }

    /** Cap on iterations (= Hessian-vector products), at least 1. */
    public Builder maxIterations(int maxIterations) {
      if (maxIterations < 1) {
        throw new IllegalArgumentException(
            "maxIterations must be at least 1, was " + maxIterations);
      }
      this.maxIterations = maxIterations;
      return this;
    }

    /** Seed of random start vectors. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** The configured {@link Lanczos}. */
    public Lanczos build() {
      return new Lanczos(this);
    }
  }
}
