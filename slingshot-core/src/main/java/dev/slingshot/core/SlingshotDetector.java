package dev.slingshot.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalLong;

/**
 * The loss-threshold interval rule of the k-sparse parity study ("Slingshot mechanism on k-sparse
 * parity", its definition of a slingshot interval): an interval starts when the training loss,
 * after having gone below {@code low} (default 10⁻²), exceeds {@code high} (default 10⁻¹), and ends
 * when the loss is back below {@code low}.
 *
 * <p>Exact conventions, so results compare across tools:
 *
 * <ul>
 *   <li>comparisons are strict: {@code loss < low} arms the rule, {@code loss > high} starts an
 *       interval; a loss exactly at a threshold does neither;
 *   <li>the start step is the first step above {@code high} while armed; the end step is the first
 *       later step below {@code low}, and that step re-arms the rule;
 *   <li>the peak is the maximum over [start, end), its step the first that reaches it;
 *   <li>an interval still open when the run ends has no end step;
 *   <li>a NaN or −∞ loss is recorded as a {@link Divergence} and otherwise skipped: it never arms,
 *       starts or ends anything; +∞ counts as above {@code high} and is also recorded;
 *   <li>steps may be sparse (logged every N) but must increase.
 * </ul>
 *
 * <p>Besides the raw intervals the detector reports {@linkplain #episodes() episodes} (intervals
 * merged across short gaps) and marks intervals that began before the model first fitted its
 * training set (the first record whose {@linkplain StepRecord#fullTrainLoss() full-train loss} is
 * below {@code low}), since the rule also fires while the model is still first fitting.
 */
public final class SlingshotDetector implements SlingshotRule {

  /** The rule's state: waiting for the loss to go below {@code low}, armed, or in an interval. */
  public enum State {
    UNARMED,
    ARMED,
    IN_INTERVAL
  }

  private final Config config;
  private State state = State.UNARMED;
  private long lastStep = Long.MIN_VALUE;
  private boolean sawFullTrainLoss;
  private long fitStep = Long.MIN_VALUE;
  private long openStart;
  private long openPeakStep;
  private double openPeak;
  private final List<SlingshotInterval> closed = new ArrayList<>();
  private final List<Divergence> divergences = new ArrayList<>();

  /** A detector with the study's thresholds ({@code low} 10⁻², {@code high} 10⁻¹). */
  public SlingshotDetector() {
    this(Config.ofDefaults());
  }

  public SlingshotDetector(Config config) {
    this.config = java.util.Objects.requireNonNull(config, "config");
  }

  /**
   * Convenience for a curve without other measurements: same as {@code observe(of(step, loss))}.
   */
  public List<SlingshotEvent> observe(long step, double trainLoss) {
    return observe(StepRecord.of(step, trainLoss));
  }

  @Override
  public List<SlingshotEvent> observe(StepRecord record) {
    long step = record.step();
    if (step <= lastStep) {
      throw new IllegalArgumentException(
          "steps must increase: step " + step + " came after step " + lastStep);
    }
    lastStep = step;
    var full = record.fullTrainLoss();
    if (full.isPresent()) {
      sawFullTrainLoss = true;
      if (fitStep == Long.MIN_VALUE && full.getAsDouble() < config.low) {
        fitStep = step;
      }
    }
    double loss = record.trainLoss();
    if (Double.isNaN(loss) || loss == Double.NEGATIVE_INFINITY) {
      Divergence d = new Divergence(step, loss);
      divergences.add(d);
      return List.of(d);
    }
    List<SlingshotEvent> events = List.of();
    if (loss == Double.POSITIVE_INFINITY) {
      Divergence d = new Divergence(step, loss);
      divergences.add(d);
      events = new ArrayList<>(2);
      events.add(d);
    }
    switch (state) {
      case UNARMED -> {
        if (loss < config.low) {
          state = State.ARMED;
        }
      }
      case ARMED -> {
        if (loss > config.high) {
          state = State.IN_INTERVAL;
          openStart = step;
          openPeak = loss;
          openPeakStep = step;
          events = append(events, new IntervalStarted(step, loss, sawFullTrainLoss && !fitted()));
        }
      }
      case IN_INTERVAL -> {
        if (loss < config.low) {
          state = State.ARMED;
          SlingshotInterval interval =
              new SlingshotInterval(
                  openStart, OptionalLong.of(step), openPeakStep, openPeak, false);
          closed.add(interval);
          events = append(events, new IntervalEnded(step, withFit(interval)));
        } else if (loss > openPeak) {
          openPeak = loss;
          openPeakStep = step;
        }
      }
    }
    return events;
  }

  private static List<SlingshotEvent> append(List<SlingshotEvent> events, SlingshotEvent e) {
    if (events.isEmpty()) {
      return List.of(e);
    }
    events.add(e);
    return events;
  }

  private boolean fitted() {
    return fitStep != Long.MIN_VALUE;
  }

  /**
   * The beforeFit flag as known now: true iff full-train losses exist and none fit before start.
   */
  private SlingshotInterval withFit(SlingshotInterval i) {
    boolean before = sawFullTrainLoss && (!fitted() || i.startStep() < fitStep);
    return before == i.beforeFit()
        ? i
        : new SlingshotInterval(i.startStep(), i.endStep(), i.peakStep(), i.peakLoss(), before);
  }

  /** The rule's current state. */
  public State state() {
    return state;
  }

  /** The configuration in force. */
  public Config config() {
    return config;
  }

  /** The step at which the full-train loss first went below {@code low}, if it has. */
  public OptionalLong fitStep() {
    return fitted() ? OptionalLong.of(fitStep) : OptionalLong.empty();
  }

  /**
   * Every interval so far, in order, the open one (if any) last with no end step. The {@code
   * beforeFit} flags use everything observed so far.
   */
  public List<SlingshotInterval> intervals() {
    List<SlingshotInterval> all = new ArrayList<>(closed.size() + 1);
    for (SlingshotInterval i : closed) {
      all.add(withFit(i));
    }
    if (state == State.IN_INTERVAL) {
      all.add(
          withFit(
              new SlingshotInterval(
                  openStart, OptionalLong.empty(), openPeakStep, openPeak, false)));
    }
    return Collections.unmodifiableList(all);
  }

  /** The intervals merged into episodes across gaps shorter than {@link Config#mergeGap()}. */
  public List<SlingshotEpisode> episodes() {
    return episodes(intervals(), config.mergeGap);
  }

  /**
   * Merges consecutive intervals into episodes: interval {@code b} joins the episode of the
   * interval {@code a} before it when {@code b.start − a.end < mergeGap}. A {@code mergeGap} of 0
   * makes every interval its own episode.
   */
  public static List<SlingshotEpisode> episodes(List<SlingshotInterval> intervals, long mergeGap) {
    if (mergeGap < 0) {
      throw new IllegalArgumentException("merge gap must be >= 0 steps, was " + mergeGap);
    }
    List<SlingshotEpisode> out = new ArrayList<>();
    SlingshotEpisode cur = null;
    for (SlingshotInterval i : intervals) {
      if (cur != null
          && cur.endStep().isPresent()
          && i.startStep() - cur.endStep().getAsLong() < mergeGap) {
        boolean higher = i.peakLoss() > cur.peakLoss();
        cur =
            new SlingshotEpisode(
                cur.startStep(),
                i.endStep(),
                higher ? i.peakStep() : cur.peakStep(),
                higher ? i.peakLoss() : cur.peakLoss(),
                cur.intervals() + 1,
                cur.beforeFit());
      } else {
        if (cur != null) {
          out.add(cur);
        }
        cur =
            new SlingshotEpisode(
                i.startStep(), i.endStep(), i.peakStep(), i.peakLoss(), 1, i.beforeFit());
      }
    }
    if (cur != null) {
      out.add(cur);
    }
    return Collections.unmodifiableList(out);
  }

  /** Every divergent loss seen (NaN, −∞, +∞), in order. */
  public List<Divergence> divergences() {
    return Collections.unmodifiableList(divergences);
  }

  /**
   * Thresholds of the rule and the episode merge gap.
   *
   * @param low the loss below which the rule arms and an interval ends (default 10⁻²)
   * @param high the loss above which an armed rule starts an interval (default 10⁻¹)
   * @param mergeGap intervals closer than this many steps form one {@link SlingshotEpisode}
   */
  public record Config(double low, double high, long mergeGap) {

    /** The study's {@code low} threshold, 10⁻². */
    public static final double DEFAULT_LOW = 1e-2;

    /** The study's {@code high} threshold, 10⁻¹. */
    public static final double DEFAULT_HIGH = 1e-1;

    /**
     * Default episode merge gap in steps, measured on the three recorded k-sparse parity runs in
     * {@code slingshot-core/src/test/resources/fixtures/runs} (hinge and cross-entropy with AdamW,
     * Thilak et al.'s Adam setting; see {@code scripts/fixtures/README.md}). After the model has
     * fitted its training set, the gaps between consecutive intervals (next start − previous end)
     * form two groups with nothing in between: at most 165 steps (the loss re-crossing the
     * thresholds within one burst; at most 97 inside the large slingshots, at most 9 in the
     * cross-entropy run) and at least 460 steps (separate events: isolated one-step blips 460 and
     * 474 steps apart, bursts 724 to 22,506 steps apart). Every gap in (165, 460] gives the same
     * episodes on these runs; 250 lies near the middle of that range on a log scale (√(165·460) ≈
     * 275), leaving room on both sides for runs with other time scales or logs written every few
     * steps. {@code SlingshotDetectorRecordedRunsTest} checks the measurement.
     */
    public static final long DEFAULT_MERGE_GAP = 250;

    public Config {
      if (!Double.isFinite(low) || !Double.isFinite(high) || !(low > 0) || !(low < high)) {
        throw new IllegalArgumentException(
            "thresholds must be finite with 0 < low < high, were low=" + low + " and high=" + high);
      }
      if (mergeGap < 0) {
        throw new IllegalArgumentException("merge gap must be >= 0 steps, was " + mergeGap);
      }
    }

    /** The study's thresholds and the default merge gap. */
    public static Config ofDefaults() {
      return new Config(DEFAULT_LOW, DEFAULT_HIGH, DEFAULT_MERGE_GAP);
    }

    /** These thresholds with another merge gap. */
    public Config withMergeGap(long gap) {
      return new Config(low, high, gap);
    }
  }

  /**
   * An interval started: the loss exceeded {@code high} after having been below {@code low}.
   *
   * @param loss the loss at the start step
   * @param beforeFit whether, as far as known at this step, the model had not yet fitted its
   *     training set (full-train losses were logged and none was below {@code low} yet)
   */
  public record IntervalStarted(long step, double loss, boolean beforeFit)
      implements SlingshotEvent {
    @Override
    public String type() {
      return "slingshot_start";
    }
  }

  /** An interval ended: the loss went back below {@code low} at {@code step}. */
  public record IntervalEnded(long step, SlingshotInterval interval) implements SlingshotEvent {
    @Override
    public String type() {
      return "slingshot_end";
    }
  }

  /** A non-finite training loss (NaN, −∞ or +∞) at {@code step}. */
  public record Divergence(long step, double loss) implements SlingshotEvent {
    @Override
    public String type() {
      return "divergence";
    }
  }
}
