package dev.slingshot.core;

import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Decides when an optimizer's state (Adam's moments and step count) should be reset, the
 * intervention that the k-sparse parity study shows mitigates slingshots (its Fig. 10: AdamW's
 * decaying second moment is what makes the late updates large). Core decides; an adapter executes
 * the reset before the next optimizer update, so that update equals a fresh optimizer's first one.
 */
@FunctionalInterface
public interface StateResetPolicy {

  /**
   * Whether to reset the optimizer state before the update that follows {@code record}.
   *
   * @param record the step just observed
   * @param events the events that record caused (e.g. a {@link SlingshotDetector} interval start)
   */
  boolean shouldReset(StepRecord record, List<SlingshotEvent> events);

  /** A short description for logs and run configs. */
  default String describe() {
    return getClass().getSimpleName();
  }

  /** Never resets (the default: diagnostics do not change training). */
  static StateResetPolicy never() {
    return new Named("never", (r, e) -> false);
  }

  /**
   * Resets when a slingshot interval starts (the first step with loss above the detector's {@code
   * high} threshold after the loss had gone below {@code low}), so the very next update is taken
   * with fresh moments.
   */
  static StateResetPolicy atSlingshotOnset() {
    return new Named(
        "at-slingshot-onset",
        (r, events) -> {
          for (SlingshotEvent e : events) {
            if (e instanceof SlingshotDetector.IntervalStarted) {
              return true;
            }
          }
          return false;
        });
  }

  /**
   * Resets at the onset of each slingshot episode only: at an interval start that begins at least
   * {@code mergeGap} steps after the previous interval ended (so the burst of raw intervals that
   * one physical spike makes on minibatch losses resets once), optionally skipping intervals that
   * start before the model first fitted its training set. Stateful: use one instance per run.
   */
  static StateResetPolicy atEpisodeOnset(long mergeGap, boolean skipBeforeFit) {
    if (mergeGap < 0) {
      throw new IllegalArgumentException("merge gap must be >= 0 steps, was " + mergeGap);
    }
    long[] lastEnd = {Long.MIN_VALUE};
    return new Named(
        "at-episode-onset(gap=" + mergeGap + (skipBeforeFit ? ", after fit" : "") + ")",
        (r, events) -> {
          boolean reset = false;
          for (SlingshotEvent e : events) {
            if (e instanceof SlingshotDetector.IntervalStarted s
                && !(skipBeforeFit && s.beforeFit())
                && (lastEnd[0] == Long.MIN_VALUE || s.step() - lastEnd[0] >= mergeGap)) {
              reset = true;
            } else if (e instanceof SlingshotDetector.IntervalEnded end) {
              lastEnd[0] = end.step();
            }
          }
          return reset;
        });
  }

  /** Resets every {@code steps} steps (at steps that are multiples of {@code steps}). */
  static StateResetPolicy periodically(long steps) {
    if (steps <= 0) {
      throw new IllegalArgumentException("reset period must be positive, was " + steps);
    }
    return new Named("every-" + steps + "-steps", (r, e) -> r.step() % steps == 0);
  }

  /** Resets whenever {@code predicate} holds for the observed record. */
  static StateResetPolicy when(String description, Predicate<? super StepRecord> predicate) {
    Objects.requireNonNull(predicate, "predicate");
    return new Named(description, (r, e) -> predicate.test(r));
  }

  /** A policy with a name, for {@link #describe()}. */
  record Named(String describe, StateResetPolicy policy) implements StateResetPolicy {
    public Named {
      Objects.requireNonNull(describe, "description");
      Objects.requireNonNull(policy, "policy");
    }

    @Override
    public boolean shouldReset(StepRecord record, List<SlingshotEvent> events) {
      return policy.shouldReset(record, events);
    }
  }
}
