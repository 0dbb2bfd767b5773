package dev.slingshot.core;

import java.util.OptionalLong;

/**
 * One interval of the loss-threshold rule of the k-sparse parity study ("Slingshot mechanism on
 * k-sparse parity", the definition above its Fig. 11): it starts at the first step whose training
 * loss exceeds {@code high} after the loss had gone below {@code low}, and ends at the first later
 * step whose loss is below {@code low}.
 *
 * @param startStep the first step above {@code high} while the rule was armed
 * @param endStep the first later step below {@code low} (exclusive end), or {@link
 *     OptionalLong#empty()} when the log ends inside the interval
 * @param peakStep the first step in [start, end) at which the peak loss was reached
 * @param peakLoss the maximum training loss over [start, end); may be {@code +∞}
 * @param beforeFit whether the interval began before the model first fitted its training set (the
 *     first record whose full-train loss is below {@code low}); false when no record carried a
 *     full-train loss
 */
public record SlingshotInterval(
    long startStep, OptionalLong endStep, long peakStep, double peakLoss, boolean beforeFit) {

  /** Whether the log ended inside this interval. */
  public boolean isOpen() {
    return endStep.isEmpty();
  }

  /** {@code end − start} in steps, when the interval is closed. */
  public OptionalLong length() {
    return endStep.isPresent()
        ? OptionalLong.of(endStep.getAsLong() - startStep)
        : OptionalLong.empty();
  }
}
