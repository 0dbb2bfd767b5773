package dev.slingshot.core;

import java.util.List;
import java.util.function.LongPredicate;

/**
 * A stateless {@link ProbeSchedule} that depends on the step alone, so {@link #mayBeDue} is exact
 * ({@link ProbeSchedule#never()}, {@link ProbeSchedule#everySteps(long)}).
 */
record AtKnownSteps(LongPredicate due) implements ProbeSchedule {

  @Override
  public boolean isDue(long step, List<SlingshotEvent> eventsAtStep) {
    return due.test(step);
  }

  @Override
  public boolean mayBeDue(long step) {
    return due.test(step);
  }
}
