package dev.slingshot.core;

import java.util.Arrays;
import java.util.Objects;

/**
 * The effective step size of Adam, per coordinate, against the classical stability bound {@code
 * 2/λmax} (Thilak et al. 2022, App. A.6.1, Fig. 16): a slingshot starts where the effective step of
 * many coordinates exceeds {@code 2/λmax}, and slingshots stop once λmax has fallen far enough.
 *
 * <p>The effective step of coordinate {@code i} at update {@code t} (counted from 1) is the factor
 * that multiplies the first moment {@code m_i} in the update {@code θ_i ← θ_i − step_i·m_i}, in
 * parameter units per gradient unit:
 *
 * <ul>
 *   <li>{@link Semantics#DJL} (DJL's {@code Adam}/{@code AdamW}, ε added to the
 *       <em>uncorrected</em> √v): {@code lr·√(1−β2^t)/(1−β1^t) / (√v_i + ε)};
 *   <li>{@link Semantics#PYTORCH} ({@code torch.optim.Adam}): {@code lr/(1−β1^t) / (√(v_i/(1−β2^t))
 *       + ε)}.
 * </ul>
 *
 * Both are {@code numerator / (sqrtVScale·√v_i + ε)} ({@link Adam#numerator()}, {@link
 * Adam#sqrtVScale()}). In DJL's form ε acts like {@code ε/√(1−β2^t)} in PyTorch's: the two differ
 * where {@code √v} is comparable to ε, the late low-gradient regime where slingshots happen, so a
 * run should state which semantics it used.
 *
 * <p>For each parameter tensor the distribution of the step is summarised by {@link Stats} (min,
 * median, max, and the fraction of coordinates above {@code 2/λmax}).
 */
public final class EffectiveStepSize {

  private EffectiveStepSize() {}

  /** Where ε enters Adam's denominator. */
  public enum Semantics {
    /** DJL: {@code lr·√(1−β2^t)/(1−β1^t)·m/(√v+ε)}, ε added to the uncorrected √v. */
    DJL,
    /** PyTorch: {@code lr/(1−β1^t)·m/(√(v/(1−β2^t))+ε)}, ε added to the bias-corrected √v̂. */
    PYTORCH
  }

  /**
   * Adam's hyperparameters at one update.
   *
   * @param learningRate η at this update (after any schedule), positive
   * @param beta1 first-moment decay, in [0, 1)
   * @param beta2 second-moment decay, in [0, 1)
   * @param epsilon ε, non-negative
   * @param step the update count t of the update being measured, from 1
   * @param semantics where ε enters
   */
  public record Adam(
      double learningRate,
      double beta1,
      double beta2,
      double epsilon,
      long step,
      Semantics semantics) {

    /** Checks every argument. */
    public Adam {
      if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
        throw new IllegalArgumentException("learning rate must be positive, was " + learningRate);
      }
      if (!(beta1 >= 0 && beta1 < 1)) {
        throw new IllegalArgumentException("beta1 must be in [0, 1), was " + beta1);
      }
      if (!(beta2 >= 0 && beta2 < 1)) {
        throw new IllegalArgumentException("beta2 must be in [0, 1), was " + beta2);
      }
      if (!(epsilon >= 0) || !Double.isFinite(epsilon)) {
        throw new IllegalArgumentException("epsilon must be non-negative, was " + epsilon);
      }
      if (step < 1) {
        throw new IllegalArgumentException("step must be at least 1, was " + step);
      }
      Objects.requireNonNull(semantics, "semantics");
    }

    /** DJL semantics (DJL's defaults are lr 1e-3, β1 0.9, β2 0.999, ε 1e-8). */
    public static Adam djl(double learningRate, double beta1, double beta2, double eps, long step) {
      return new Adam(learningRate, beta1, beta2, eps, step, Semantics.DJL);
    }

    /** PyTorch semantics. */
    public static Adam pytorch(
        double learningRate, double beta1, double beta2, double eps, long step) {
      return new Adam(learningRate, beta1, beta2, eps, step, Semantics.PYTORCH);
    }

    /** This setting at another update count. */
    public Adam atStep(long t) {
      return new Adam(learningRate, beta1, beta2, epsilon, t, semantics);
    }

    /** The numerator of the step: {@code lr·√(1−β2^t)/(1−β1^t)} (DJL), {@code lr/(1−β1^t)}. */
    public double numerator() {
      double c1 = 1 - Math.pow(beta1, step);
      return semantics == Semantics.DJL
          ? learningRate * Math.sqrt(1 - Math.pow(beta2, step)) / c1
          : learningRate / c1;
    }

    /** The factor on √v in the denominator: 1 (DJL), {@code 1/√(1−β2^t)} (PyTorch). */
    public double sqrtVScale() {
      return semantics == Semantics.DJL ? 1.0 : 1 / Math.sqrt(1 - Math.pow(beta2, step));
    }

    /** The effective step of a coordinate with second moment {@code v} (≥ 0). */
    public double stepFor(double v) {
      return numerator() / (sqrtVScale() * Math.sqrt(v) + epsilon);
    }

    /**
     * Adam's stability threshold on the preconditioned sharpness, {@code (2+2β1)/((1−β1)·η)} (Cohen
     * et al. 2022): 38/η for β1 = 0.9.
     */
    public double stabilityThreshold() {
      return (2 + 2 * beta1) / ((1 - beta1) * learningRate);
    }
  }

  /**
   * The distribution of one parameter tensor's effective steps against {@code 2/λmax}.
   *
   * @param name the parameter's name
   * @param count number of coordinates
   * @param min smallest effective step (parameter units per gradient unit)
   * @param median median (mean of the two middle values for an even count)
   * @param max largest effective step
   * @param fractionAbove fraction of coordinates whose step exceeds {@code threshold}, in [0, 1]
   * @param threshold {@code 2/λmax} (+∞ when λmax ≤ 0)
   */
  public record Stats(
      String name,
      long count,
      double min,
      double median,
      double max,
      double fractionAbove,
      double threshold) {

    /** Whether the largest step exceeds the threshold. */
    public boolean anyAbove() {
      return max > threshold;
    }
  }

  /** The classical bound {@code 2/λmax}; +∞ when λmax ≤ 0 (no curvature limits the step). */
  public static double threshold(double lambdaMax) {
    if (Double.isNaN(lambdaMax)) {
      throw new IllegalArgumentException("lambdaMax must not be NaN");
    }
    return lambdaMax > 0 ? 2 / lambdaMax : Double.POSITIVE_INFINITY;
  }

  /** The per-coordinate effective steps of a tensor with second moments {@code v}. */
  public static double[] steps(double[] v, Adam adam) {
    double a = adam.numerator();
    double c = adam.sqrtVScale();
    double[] s = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      s[i] = a / (c * Math.sqrt(v[i]) + adam.epsilon());
    }
    return s;
  }

  /** The statistics of one tensor's effective steps, from its second moments {@code v}. */
  public static Stats of(String name, double[] v, Adam adam, double lambdaMax) {
    if (v.length == 0) {
      throw new IllegalArgumentException("parameter " + name + " has no coordinates");
    }
    double thr = threshold(lambdaMax);
    double[] s = steps(v, adam);
    long above = 0;
    for (double x : s) {
      if (x > thr) {
        above++;
      }
    }
    Arrays.sort(s);
    int n = s.length;
    double median = (s[(n - 1) / 2] + s[n / 2]) / 2;
    return new Stats(name, n, s[0], median, s[n - 1], (double) above / n, thr);
  }
}
