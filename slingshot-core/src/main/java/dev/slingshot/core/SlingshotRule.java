package dev.slingshot.core;

import java.util.List;

/**
 * A pure, deterministic rule over the stream of {@link StepRecord}s: it keeps its own small state
 * and answers, for each record, the events that record caused ({@code List.of()} when none). The
 * {@link SlingshotDetector} and the {@link NormTracker} are rules; a {@link SlingshotMonitor} runs
 * several over one stream.
 */
public interface SlingshotRule {

  /**
   * Feeds one record. Records must come in increasing step order.
   *
   * @return the events this record caused, in the order they happened; never null
   * @throws IllegalArgumentException if the record's step does not increase
   */
  List<SlingshotEvent> observe(StepRecord record);
}
