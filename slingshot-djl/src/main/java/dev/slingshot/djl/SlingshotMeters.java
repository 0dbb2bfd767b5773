package dev.slingshot.djl;

import dev.slingshot.core.SlingshotMetrics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Objects;

/**
 * Binds an attached run to Micrometer, tagged {@code run=<name>}: core's {@link SlingshotMetrics}
 * for the run's monitor (loss, weight norms, update norm, {@code slingshot.update_ratio}, the
 * cosine distances from initialisation, slingshot starts and ends, divergences, optimizer-state
 * resets, probe measurements), plus the adapter's own health counters {@code slingshot.steps} and
 * {@code slingshot.internal.failures}. Micrometer is an optional dependency: this class is the only
 * one in slingshot-djl that needs it, and only when used.
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
    SlingshotMetrics.of(slingshot.monitor(), tags).bindTo(registry);
    FunctionCounter.builder(SlingshotMetrics.PREFIX + "steps", slingshot, Slingshot::steps)
        .tags(tags)
        .description("optimizer updates seen")
        .register(registry);
    FunctionCounter.builder(
            SlingshotMetrics.PREFIX + "internal.failures", slingshot, Slingshot::internalFailures)
        .tags(tags)
        .description("internal diagnostic failures (logged; training went on)")
        .register(registry);
  }
}
