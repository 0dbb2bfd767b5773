package dev.slingshot.djl;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Map;
import java.util.Objects;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;

/**
 * Binds a {@link Slingshot}'s {@linkplain Slingshot#gauges() gauges} and {@linkplain
 * Slingshot#counters() counters} to a Micrometer registry, tagged {@code run=<name>}. Micrometer is
 * an optional dependency: this class is the only one that needs it, and only when used.
 */
public final class SlingshotMeters implements MeterBinder {

  private final Slingshot slingshot;
  private final Tags tags;

  public SlingshotMeters(Slingshot slingshot, String run) {
    this.slingshot = Objects.requireNonNull(slingshot, "slingshot");
    this.tags = Tags.of(Tag.of("run", Objects.requireNonNull(run, "run")));
  }

  /** Binds and returns {@code slingshot} unchanged, so instrumenting stays one line. */
  public static Slingshot monitor(MeterRegistry registry, Slingshot slingshot, String run) {
    new SlingshotMeters(slingshot, run).bindTo(registry);
    return slingshot;
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    for (Map.Entry<String, DoubleSupplier> g : slingshot.gauges().entrySet()) {
      DoubleSupplier s = g.getValue();
      Gauge.builder(g.getKey(), slingshot, x -> s.getAsDouble())
          .tags(tags)
          .description("slingshot cheap tier: " + g.getKey())
          .register(registry);
    }
    for (Map.Entry<String, LongSupplier> c : slingshot.counters().entrySet()) {
      LongSupplier s = c.getValue();
      FunctionCounter.builder(c.getKey(), slingshot, x -> s.getAsLong())
          .tags(tags)
          .description("slingshot: " + c.getKey())
          .register(registry);
    }
  }
}
