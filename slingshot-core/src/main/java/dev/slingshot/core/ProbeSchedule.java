package dev.slingshot.core;

import java.util.List;
import java.util.Objects;

/**
 * Decides at which steps the expensive probes run: Hessian-vector products for the update sharpness
 * uᵀHu/‖u‖² of Thilak et al. §3 (Figure 3), Lanczos λmax, effective-step statistics. The cheap
 * quantities (loss, norms, update size) are measured every step; these cost one or more extra
 * backward passes each, so they run on a schedule.
 *
 * <p>Ask once per observed step, in increasing step order, passing the events that step's record
 * caused (for example {@link SlingshotMonitor.Observation#events()}). Schedules may keep state (the
 * {@linkplain #logarithmic(int) logarithmic} and {@linkplain #denseNearTransitions(ProbeSchedule,
 * long) dense} ones do): use one instance per run. The stateful ones throw {@link
 * IllegalArgumentException} when a step does not increase.
 */
@FunctionalInterface
public interface ProbeSchedule {

  /**
   * Whether the probes should run at {@code step}.
   *
   * @param step the training step just observed
   * @param eventsAtStep the events that step's record caused; empty when none
   */
  boolean isDue(long step, List<SlingshotEvent> eventsAtStep);

  /**
   * Whether {@link #isDue} could answer true at {@code step}, whatever that step's events turn out
   * to be. An adapter asks before the step runs, so that it prepares a probe (holds the step's
   * update for the update sharpness) only at steps that may be probed. Must not change the
   * schedule's state. The default, true, is always safe; a schedule that is due only at known steps
   * answers false at the others.
   */
  default boolean mayBeDue(long step) {
    return true;
  }

  /** A short description for logs and run configs. */
  default String describe() {
    return getClass().getSimpleName();
  }

  /** Never probes. */
  static ProbeSchedule never() {
    return new Named("never", new AtKnownSteps(s -> false));
  }

  /** Probes at the steps that are multiples of {@code n} (0, n, 2n, ...). */
  static ProbeSchedule everySteps(long n) {
    if (n <= 0) {
      throw new IllegalArgumentException(
          "probe period must be a positive number of steps, was " + n);
    }
    return new Named("every-" + n + "-steps", new AtKnownSteps(s -> s % n == 0));
  }

  /**
   * About {@code perDecade} probes per decade of steps, evenly spaced in log step: due at step
   * {@code s >= 1} when {@code floor(perDecade · log10 s)} is larger than at the last due step;
   * step 1 (the first step at or after 1 that is asked) is due. Steps below 1 are never due. {@code
   * logarithmic(1)} probes at 1, 10, 100, ...; {@code logarithmic(2)} at 1, 4, 10, 32, 100, 317,
   * ...
   */
  static ProbeSchedule logarithmic(int perDecade) {
    if (perDecade <= 0) {
      throw new IllegalArgumentException(
          "probes per decade must be a positive number, was " + perDecade);
    }
    return new LogarithmicSchedule(perDecade);
  }

  /**
   * Whatever {@code base} says, plus every step for the {@code k} steps that start at a transition:
   * a {@link NormTracker.PhaseChanged} event, or a {@link SlingshotDetector.IntervalStarted} or
   * {@link SlingshotDetector.IntervalEnded} event (steps {@code e} to {@code e + k − 1} for an
   * event at step {@code e}; windows of several events overlap). The base schedule is asked at
   * every step, so its own state stays in step with the run. Note that a {@code PhaseChanged} event
   * comes when the change is confirmed, about half a window plus the dwell after the norm turned;
   * the detector's events come at the loss spike itself.
   */
  static ProbeSchedule denseNearTransitions(ProbeSchedule base, long k) {
    Objects.requireNonNull(base, "base schedule");
    if (k <= 0) {
      throw new IllegalArgumentException(
          "dense window must be a positive number of steps, was " + k);
    }
    return new DenseNearTransitionsSchedule(base, k);
  }

  /** A schedule with a name, for {@link #describe()}. */
  record Named(String describe, ProbeSchedule schedule) implements ProbeSchedule {
    public Named {
      Objects.requireNonNull(describe, "description");
      Objects.requireNonNull(schedule, "schedule");
    }

    @Override
    public boolean isDue(long step, List<SlingshotEvent> eventsAtStep) {
      return schedule.isDue(step, eventsAtStep);
    }

    @Override
    public boolean mayBeDue(long step) {
      return schedule.mayBeDue(step);
    }
  }
}
