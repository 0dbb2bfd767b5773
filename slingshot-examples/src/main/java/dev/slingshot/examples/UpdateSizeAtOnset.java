package dev.slingshot.examples;

import dev.slingshot.core.SlingshotEpisode;
import dev.slingshot.core.StepRecord;
import dev.slingshot.djl.StepMetrics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The per-coordinate update size at each slingshot onset, against the k-sparse parity study's
 * prediction (Sec. 1.1, Step 4 of its explanation): when AdamW's parameters, after a stretch of
 * (near-)zero gradients in which both moments decayed, hit the wall of the zero-loss basin, the
 * moments become m ≈ (1−β1)g and v ≈ (1−β2)g², so every coordinate with a gradient moves by about
 * γ(1−β1)/√(1−β2) = √10·γ for β = (0.9, 0.999), a factor √10 more than a typical step.
 *
 * <p>The measured quantity is ‖u‖<sub>∞</sub>/γ, the largest absolute coordinate of the applied
 * update (the adapter's {@value #KEY} metric, {@link StepMetrics#updateMaxAbs()}) over the learning
 * rate, read from the run's records alone:
 *
 * <ul>
 *   <li>at the onset step of each slingshot episode after the fit (the first minibatch loss above
 *       the rule's {@code high}: update t is the one taken with that high-loss gradient), and the
 *       largest over the onset and the {@value #AFTER} steps after it (where the gradient keeps its
 *       sign and the update keeps growing);
 *   <li>the first step in the {@value #LOOKBACK} steps before the onset at which it reached the
 *       prediction (the wall is hit before the loss is high enough for the rule to fire);
 *   <li>for contrast, its median over the steps after the fit that are more than the episode merge
 *       gap away from every episode ("between slingshots").
 * </ul>
 *
 * With the same gradient sign k steps in a row from m = v = 0, update k is γ(1−β1<sup>k</sup>)/
 * √(1−β2<sup>k</sup>) (bias corrections ≈ 1 late in training): the prediction at k = 1, and at most
 * {@link #envelope} (6.57γ at k = 12 for the default betas), which bounds what a sign-steady wall
 * hit can produce.
 */
final class UpdateSizeAtOnset {

  /** The record metric read: ‖u‖<sub>∞</sub> of the step's update. */
  static final String KEY = StepMetrics.UPDATE_MAX_ABS;

  /** Steps after the onset included in the maximum. */
  static final int AFTER = 3;

  /** Steps before the onset searched for the first step that reached the prediction. */
  static final int LOOKBACK = 50;

  /** One slingshot episode's onset. */
  record Onset(
      long step,
      double peakLoss,
      OptionalDouble atOnset,
      OptionalDouble max,
      OptionalLong maxStep,
      OptionalLong firstReached) {}

  final double lr;
  final double beta1;
  final double beta2;
  final List<Onset> onsets;
  final OptionalDouble medianBetween;
  final int stepsBetween;

  private UpdateSizeAtOnset(
      double lr,
      double beta1,
      double beta2,
      List<Onset> onsets,
      OptionalDouble medianBetween,
      int stepsBetween) {
    this.lr = lr;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.onsets = onsets;
    this.medianBetween = medianBetween;
    this.stepsBetween = stepsBetween;
  }

  /** The prediction (1−β1)/√(1−β2) in units of the learning rate. */
  double prediction() {
    return prediction(beta1, beta2);
  }

  static double prediction(double beta1, double beta2) {
    return (1 - beta1) / Math.sqrt(1 - beta2);
  }

  /**
   * The k-th update of a sign-steady gradient from m = v = 0:
   * (1−β1<sup>k</sup>)/√(1−β2<sup>k</sup>).
   */
  static double steady(double beta1, double beta2, int k) {
    return (1 - Math.pow(beta1, k)) / Math.sqrt(1 - Math.pow(beta2, k));
  }

  /**
   * The largest {@link #steady} over k ≥ 1 (for Adam's usual betas it rises, peaks, then falls).
   */
  static double envelope(double beta1, double beta2) {
    return steady(beta1, beta2, envelopeStep(beta1, beta2));
  }

  /** The k ≤ 100,000 that reaches {@link #envelope}. */
  static int envelopeStep(double beta1, double beta2) {
    double best = 0;
    int at = 1;
    for (int k = 1; k <= 100_000; k++) {
      double v = steady(beta1, beta2, k);
      if (v > best) {
        best = v;
        at = k;
      } else if (v < best * 0.5) {
        break;
      }
    }
    return at;
  }

  /**
   * The analysis of {@code run}, or empty when it does not apply: the run's optimizer is not Adam
   * or AdamW, config.json lacks lr or the betas, or no record carries {@value #KEY}.
   */
  static Optional<UpdateSizeAtOnset> of(RunAnalysis run) {
    if (!(run.config.get("settings") instanceof Map<?, ?> s)) {
      return Optional.empty();
    }
    Object optimizer = s.get("optimizer");
    if (!("adam".equals(optimizer) || "adamw".equals(optimizer))
        || !(s.get("lr") instanceof Number lrValue)
        || !(s.get("beta1") instanceof Number b1)
        || !(s.get("beta2") instanceof Number b2)) {
      return Optional.empty();
    }
    double lr = lrValue.doubleValue();
    if (!(lr > 0) || run.records.stream().noneMatch(r -> r.metrics().containsKey(KEY))) {
      return Optional.empty();
    }
    double beta1 = b1.doubleValue();
    double beta2 = b2.doubleValue();
    double prediction = prediction(beta1, beta2);
    List<Onset> onsets = new ArrayList<>();
    for (SlingshotEpisode e : run.episodes) {
      if (e.beforeFit()) {
        continue;
      }
      long t = e.startStep();
      OptionalDouble at = ratio(run, t, lr);
      double max = Double.NaN;
      long maxStep = -1;
      for (long u = t; u <= t + AFTER; u++) {
        OptionalDouble v = ratio(run, u, lr);
        if (v.isPresent() && !(v.getAsDouble() <= max)) {
          max = v.getAsDouble();
          maxStep = u;
        }
      }
      OptionalLong first = OptionalLong.empty();
      for (long u = t - LOOKBACK; u <= t + AFTER; u++) {
        OptionalDouble v = ratio(run, u, lr);
        if (v.isPresent() && v.getAsDouble() >= prediction) {
          first = OptionalLong.of(u);
          break;
        }
      }
      onsets.add(
          new Onset(
              t,
              e.peakLoss(),
              at,
              Double.isNaN(max) ? OptionalDouble.empty() : OptionalDouble.of(max),
              maxStep < 0 ? OptionalLong.empty() : OptionalLong.of(maxStep),
              first));
    }
    List<Double> between = new ArrayList<>();
    long fit = run.fitStep.isPresent() ? run.fitStep.getAsLong() : Long.MAX_VALUE;
    long gap = run.detectorConfig.mergeGap();
    long last = run.lastStep();
    for (StepRecord r : run.records) {
      Double v = r.metrics().get(KEY);
      if (v == null || !Double.isFinite(v) || r.step() <= fit || nearEpisode(run, r.step(), gap)) {
        continue;
      }
      between.add(v / lr);
    }
    OptionalDouble median = median(between);
    return Optional.of(
        new UpdateSizeAtOnset(lr, beta1, beta2, List.copyOf(onsets), median, between.size()));
  }

  /**
   * Whether {@code step} lies within {@code gap} steps of an episode (open ones run to the end).
   */
  private static boolean nearEpisode(RunAnalysis run, long step, long gap) {
    for (SlingshotEpisode e : run.episodes) {
      long end = e.endStep().orElse(Long.MAX_VALUE / 2);
      if (step >= e.startStep() - gap && step <= end + gap) {
        return true;
      }
    }
    return false;
  }

  /** ‖u‖∞/lr of the record at exactly {@code step}, when it has one. */
  private static OptionalDouble ratio(RunAnalysis run, long step, double lr) {
    int i = run.indexAtOrBefore(step);
    if (i < 0 || run.records.get(i).step() != step) {
      return OptionalDouble.empty();
    }
    Double v = run.records.get(i).metrics().get(KEY);
    return v == null || !Double.isFinite(v) ? OptionalDouble.empty() : OptionalDouble.of(v / lr);
  }

  static OptionalDouble median(List<Double> values) {
    if (values.isEmpty()) {
      return OptionalDouble.empty();
    }
    double[] a = values.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(a);
    int n = a.length;
    return OptionalDouble.of(n % 2 == 1 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2);
  }
}
