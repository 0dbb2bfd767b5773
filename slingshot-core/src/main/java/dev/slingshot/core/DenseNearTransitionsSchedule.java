package dev.slingshot.core;

import java.util.List;

/** {@link ProbeSchedule#denseNearTransitions(ProbeSchedule, long)}. */
final class DenseNearTransitionsSchedule implements ProbeSchedule {
  private final ProbeSchedule base;
  private final long k;
  private long lastStep = Long.MIN_VALUE;
  private long denseUntil = Long.MIN_VALUE; // exclusive

  DenseNearTransitionsSchedule(ProbeSchedule base, long k) {
    this.base = base;
    this.k = k;
  }

  @Override
  public boolean isDue(long step, List<SlingshotEvent> eventsAtStep) {
    if (step <= lastStep) {
      throw new IllegalArgumentException(
          "steps must increase: step " + step + " came after step " + lastStep);
    }
    lastStep = step;
    boolean due = base.isDue(step, eventsAtStep);
    for (SlingshotEvent e : eventsAtStep) {
      if (isTransition(e)) {
        long until = saturatedAdd(e.step(), k);
        if (until > denseUntil) {
          denseUntil = until;
        }
      }
    }
    return due || step < denseUntil;
  }

  /** A norm-phase change, or a slingshot interval starting or ending. */
  static boolean isTransition(SlingshotEvent e) {
    return e instanceof NormTracker.PhaseChanged
        || e instanceof SlingshotDetector.IntervalStarted
        || e instanceof SlingshotDetector.IntervalEnded;
  }

  private static long saturatedAdd(long a, long b) {
    long r = a + b;
    return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
  }

  @Override
  public String describe() {
    return "dense-" + k + "-steps-near-transitions(" + base.describe() + ")";
  }
}
