package dev.slingshot.core;

import java.util.OptionalLong;

/**
 * One physical slingshot: consecutive {@link SlingshotInterval}s merged across gaps shorter than
 * {@link SlingshotDetector.Config#mergeGap()}. On per-step minibatch losses a single loss spike
 * shows up as several rule intervals (the loss dips below {@code low} and jumps back while the
 * model recovers); an episode counts it once.
 *
 * @param startStep the start of the first merged interval
 * @param endStep the end of the last merged interval, empty if it is still open
 * @param peakStep the first step at which the episode's peak loss was reached
 * @param peakLoss the largest peak among the merged intervals
 * @param intervals how many rule intervals were merged
 * @param beforeFit whether the first merged interval began before the model fitted its training set
 */
public record SlingshotEpisode(
    long startStep,
    OptionalLong endStep,
    long peakStep,
    double peakLoss,
    int intervals,
    boolean beforeFit) {

  /** Whether the log ended inside this episode. */
  public boolean isOpen() {
    return endStep.isEmpty();
  }
}
