package dev.slingshot.core;

/**
 * Something a rule saw at one training step: a slingshot interval starting or ending, a divergent
 * loss, a change of norm phase, a reset decision. Events are immutable values; the rules that emit
 * them are pure, so replaying the same {@link StepRecord}s gives the same events.
 */
public interface SlingshotEvent {

  /** The training step of the record that produced this event. */
  long step();

  /**
   * A short, stable, lowercase name of the event type, used in logs and metrics (e.g. {@code
   * slingshot_start}).
   */
  String type();
}
