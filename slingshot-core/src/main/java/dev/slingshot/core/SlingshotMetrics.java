package dev.slingshot.core;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Publishes a {@link SlingshotMonitor} to Micrometer: gauges for the training loss, the update norm
 * and the followed weight norms, counters for slingshot interval starts and ends, divergences and
 * every other event type, and a gauge per {@link Measurement} value. Every meter name starts with
 * {@code slingshot.} (so {@code MeterFilter.denyNameStartsWith("slingshot")} switches them all
 * off); tags are bounded: {@code parameter} takes at most {@link #MAX_PARAMETER_TAGS} names, {@code
 * type} one value per event type; at most {@link #MAX_VALUE_GAUGES} value gauges.
 *
 * <p>Instrumenting is one line: {@code SlingshotMetrics.monitor(registry, monitor)}. Micrometer is
 * an optional dependency of slingshot-core; only this class needs it.
 */
public final class SlingshotMetrics implements MeterBinder {

  /** The common prefix of every meter. */
  public static final String PREFIX = "slingshot.";

  /** At most this many weight norms get a {@code slingshot.norm} gauge. */
  public static final int MAX_PARAMETER_TAGS = 16;

  /** At most this many {@link StepRecord#metrics()} and {@link Measurement} keys get a gauge. */
  public static final int MAX_VALUE_GAUGES = 32;

  private final SlingshotMonitor monitor;
  private final Iterable<Tag> tags;
  private final AtomicReference<MeterRegistry> registry = new AtomicReference<>();
  private final Map<String, double[]> norms = new ConcurrentHashMap<>();
  private final Map<String, double[]> values = new ConcurrentHashMap<>();
  private final Map<String, Counter> eventCounters = new ConcurrentHashMap<>();
  private volatile double loss = Double.NaN;
  private volatile double updateNorm = Double.NaN;

  private SlingshotMetrics(SlingshotMonitor monitor, Iterable<Tag> tags) {
    this.monitor = Objects.requireNonNull(monitor, "monitor");
    this.tags = Tags.of(tags);
    monitor.onRecord(this::onRecord);
    monitor.onEvent(this::onEvent);
  }

  /** A binder for {@code monitor}; call {@link #bindTo(MeterRegistry)} to register the meters. */
  public static SlingshotMetrics of(SlingshotMonitor monitor, Iterable<Tag> tags) {
    return new SlingshotMetrics(monitor, tags);
  }

  /** Binds {@code monitor}'s meters to {@code registry} and returns the monitor unchanged. */
  public static SlingshotMonitor monitor(
      MeterRegistry registry, SlingshotMonitor monitor, String... tags) {
    of(monitor, Tags.of(tags)).bindTo(registry);
    return monitor;
  }

  @Override
  public void bindTo(MeterRegistry r) {
    if (!registry.compareAndSet(null, r)) {
      throw new IllegalStateException("already bound to " + registry.get());
    }
    Gauge.builder(PREFIX + "loss", this, m -> m.loss)
        .tags(tags)
        .description("training loss of the last observed minibatch")
        .register(r);
    Gauge.builder(PREFIX + "update.norm", this, m -> m.updateNorm)
        .tags(tags)
        .description("norm of the last optimizer update, ||delta theta||")
        .register(r);
    counter(r, "slingshot_start", PREFIX + "starts", "slingshot intervals started");
    counter(r, "slingshot_end", PREFIX + "ends", "slingshot intervals ended");
    counter(r, "divergence", PREFIX + "divergences", "non-finite training losses");
    counter(r, "state_reset", PREFIX + "resets", "optimizer state resets");
    norms.keySet().forEach(this::registerNorm);
    values.keySet().forEach(this::registerValue);
  }

  private void counter(MeterRegistry r, String type, String name, String description) {
    eventCounters.computeIfAbsent(
        type, t -> Counter.builder(name).tags(tags).description(description).register(r));
  }

  private void onRecord(StepRecord record) {
    loss = record.trainLoss();
    record.updateNorm().ifPresent(v -> updateNorm = v);
    for (Map.Entry<String, Double> e : record.norms().entrySet()) {
      double[] cell = norms.get(e.getKey());
      if (cell == null) {
        if (norms.size() >= MAX_PARAMETER_TAGS) {
          continue;
        }
        cell = norms.computeIfAbsent(e.getKey(), k -> new double[] {Double.NaN});
        registerNorm(e.getKey());
      }
      cell[0] = e.getValue();
    }
    for (Map.Entry<String, Double> e : record.metrics().entrySet()) {
      setValue(e.getKey(), e.getValue());
    }
  }

  private void setValue(String key, double value) {
    double[] cell = values.get(key);
    if (cell == null) {
      if (values.size() >= MAX_VALUE_GAUGES) {
        return;
      }
      cell = values.computeIfAbsent(key, k -> new double[] {Double.NaN});
      registerValue(key);
    }
    cell[0] = value;
  }

  private void onEvent(SlingshotEvent event) {
    MeterRegistry r = registry.get();
    if (r != null) {
      eventCounters
          .computeIfAbsent(
              event.type(),
              t ->
                  Counter.builder(PREFIX + "events")
                      .tags(Tags.of(tags).and("type", t))
                      .description("slingshot events by type")
                      .register(r))
          .increment();
    }
    if (event instanceof Measurement m) {
      for (Map.Entry<String, Double> e : m.values().entrySet()) {
        setValue(e.getKey(), e.getValue());
      }
    }
  }

  private void registerNorm(String name) {
    MeterRegistry r = registry.get();
    if (r != null) {
      double[] cell = norms.get(name);
      Gauge.builder(PREFIX + "norm", cell, c -> c[0])
          .tags(Tags.of(tags).and("parameter", name))
          .description("Frobenius norm of a followed weight tensor")
          .strongReference(true)
          .register(r);
    }
  }

  private void registerValue(String key) {
    MeterRegistry r = registry.get();
    if (r != null) {
      double[] cell = values.get(key);
      Gauge.builder(PREFIX + key, cell, c -> c[0])
          .tags(tags)
          .description("slingshot measurement " + key)
          .strongReference(true)
          .register(r);
    }
  }

  /** The monitor this binder publishes. */
  public SlingshotMonitor monitor() {
    return monitor;
  }
}
