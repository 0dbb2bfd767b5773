package dev.slingshot.core;

import java.util.List;

/** {@link ProbeSchedule#logarithmic(int)}. */
final class LogarithmicSchedule implements ProbeSchedule {
  private final int perDecade;
  private long lastStep = Long.MIN_VALUE;
  private long lastBucket = Long.MIN_VALUE;

  LogarithmicSchedule(int perDecade) {
    this.perDecade = perDecade;
  }

  @Override
  public boolean isDue(long step, List<SlingshotEvent> eventsAtStep) {
    if (step <= lastStep) {
      throw new IllegalArgumentException(
          "steps must increase: step " + step + " came after step " + lastStep);
    }
    lastStep = step;
    if (step < 1) {
      return false;
    }
    long bucket = (long) Math.floor(perDecade * Math.log10(step));
    if (bucket > lastBucket) {
      lastBucket = bucket;
      return true;
    }
    return false;
  }

  /** Exact: asked before {@link #isDue} for the same step, the bucket comparison is the same. */
  @Override
  public boolean mayBeDue(long step) {
    return step >= 1
        && step > lastStep
        && (long) Math.floor(perDecade * Math.log10(step)) > lastBucket;
  }

  @Override
  public String describe() {
    return "logarithmic-" + perDecade + "-per-decade";
  }
}
