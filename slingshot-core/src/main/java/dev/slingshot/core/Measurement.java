package dev.slingshot.core;

import java.util.Map;

/**
 * An event that carries measured values, such as a second-order probe's result (update sharpness,
 * λmax, the fraction of effective steps above 2/λmax). {@link SlingshotMetrics} publishes each
 * value as a gauge {@code slingshot.<key>}; keys must come from a small fixed set so that meter
 * names stay bounded.
 */
public interface Measurement extends SlingshotEvent {

  /** The measured values by key (lowercase, dot-separated, e.g. {@code lambda.max}). */
  Map<String, Double> values();
}
