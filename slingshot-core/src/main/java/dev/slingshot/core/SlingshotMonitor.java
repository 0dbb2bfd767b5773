package dev.slingshot.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the slingshot rules over a training run, one {@link StepRecord} at a time, and publishes the
 * events they raise to subscribers (a run log, a Micrometer binder, the user's own code).
 *
 * <p>The rules are pure: the same records give the same events. A subscriber that throws is logged
 * and skipped; it never stops the training loop that feeds the monitor. Not thread-safe: feed it
 * from the training thread.
 */
public final class SlingshotMonitor {

  private static final Logger LOG = LoggerFactory.getLogger(SlingshotMonitor.class);

  private final List<SlingshotRule> rules;
  private final StateResetPolicy resetPolicy;
  private final ProbeSchedule probeSchedule;
  private final List<Consumer<? super SlingshotEvent>> eventSubscribers =
      new CopyOnWriteArrayList<>();
  private final List<Consumer<? super StepRecord>> recordSubscribers = new CopyOnWriteArrayList<>();
  private StepRecord last;
  private long subscriberFailures;

  private SlingshotMonitor(Builder b) {
    this.rules = List.copyOf(b.rules);
    this.resetPolicy = b.resetPolicy;
    this.probeSchedule = b.probeSchedule;
  }

  /** Starts a monitor with no rules; add the ones you need. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Feeds one record to every rule, publishes the events, and says whether the reset policy asks
   * for an optimizer-state reset before the next update.
   *
   * @throws IllegalArgumentException if the step does not increase (the record is not applied)
   */
  public Observation observe(StepRecord record) {
    Objects.requireNonNull(record, "record");
    if (last != null && record.step() <= last.step()) {
      throw new IllegalArgumentException(
          "step " + record.step() + " does not increase (previous step was " + last.step() + ")");
    }
    List<SlingshotEvent> events = List.of();
    for (SlingshotRule rule : rules) {
      List<SlingshotEvent> e = rule.observe(record);
      if (!e.isEmpty()) {
        if (events.isEmpty()) {
          events = e;
        } else {
          List<SlingshotEvent> all = new ArrayList<>(events.size() + e.size());
          all.addAll(events);
          all.addAll(e);
          events = all;
        }
      }
    }
    last = record;
    boolean reset = resetPolicy.shouldReset(record, events);
    boolean probe = probeSchedule.isDue(record.step(), events);
    publish(recordSubscribers, record);
    for (SlingshotEvent event : events) {
      publish(eventSubscribers, event);
    }
    return new Observation(record, events, reset, probe);
  }

  /**
   * Publishes an event that no rule raised, such as an adapter's optimizer-state reset or a probe's
   * {@link Measurement}, to the event subscribers (a run log, a metrics binder), in the same stream
   * as the rules' events.
   */
  public void publish(SlingshotEvent event) {
    publish(eventSubscribers, Objects.requireNonNull(event, "event"));
  }

  /** Subscribes to every event, in the order the rules raise them. */
  public SlingshotMonitor onEvent(Consumer<? super SlingshotEvent> subscriber) {
    eventSubscribers.add(Objects.requireNonNull(subscriber, "subscriber"));
    return this;
  }

  /** Subscribes to every record, before the events that record caused. */
  public SlingshotMonitor onRecord(Consumer<? super StepRecord> subscriber) {
    recordSubscribers.add(Objects.requireNonNull(subscriber, "subscriber"));
    return this;
  }

  /** The last record observed, or null before the first. */
  public StepRecord lastRecord() {
    return last;
  }

  /** How many times a subscriber threw (each was logged and skipped). */
  public long subscriberFailures() {
    return subscriberFailures;
  }

  /** The reset policy in force. */
  public StateResetPolicy resetPolicy() {
    return resetPolicy;
  }

  /** The probe schedule in force. */
  public ProbeSchedule probeSchedule() {
    return probeSchedule;
  }

  /** The rules, in the order they run. */
  public List<SlingshotRule> rules() {
    return rules;
  }

  private <T> void publish(List<Consumer<? super T>> subscribers, T value) {
    for (Consumer<? super T> s : subscribers) {
      try {
        s.accept(value);
      } catch (RuntimeException e) {
        subscriberFailures++;
        LOG.warn("slingshot subscriber {} failed on {}; training goes on", s, value, e);
      }
    }
  }

  /**
   * What one record caused.
   *
   * @param record the record observed
   * @param events the events it caused, in order
   * @param resetDue whether the {@link StateResetPolicy} asks to reset the optimizer state before
   *     the next update
   * @param probeDue whether the {@link ProbeSchedule} asks for the expensive probes at this step
   */
  public record Observation(
      StepRecord record, List<SlingshotEvent> events, boolean resetDue, boolean probeDue) {}

  /** Configures a {@link SlingshotMonitor}. */
  public static final class Builder {
    private final List<SlingshotRule> rules = new ArrayList<>();
    private StateResetPolicy resetPolicy = StateResetPolicy.never();
    private ProbeSchedule probeSchedule = ProbeSchedule.never();

    private Builder() {}

    /** Adds a rule; rules run in the order added. */
    public Builder rule(SlingshotRule rule) {
      rules.add(Objects.requireNonNull(rule, "rule"));
      return this;
    }

    /** The optimizer-state reset policy (default {@link StateResetPolicy#never()}). */
    public Builder resetPolicy(StateResetPolicy policy) {
      this.resetPolicy = Objects.requireNonNull(policy, "reset policy");
      return this;
    }

    /** When the expensive probes run (default {@link ProbeSchedule#never()}). */
    public Builder probeSchedule(ProbeSchedule schedule) {
      this.probeSchedule = Objects.requireNonNull(schedule, "probe schedule");
      return this;
    }

    /**
     * The cheap rules with their defaults: a {@link SlingshotDetector} and a {@link NormTracker}
     * following every norm the records carry.
     */
    public Builder defaultRules() {
      return rule(new SlingshotDetector()).rule(new NormTracker());
    }

    public SlingshotMonitor build() {
      return new SlingshotMonitor(this);
    }
  }
}
