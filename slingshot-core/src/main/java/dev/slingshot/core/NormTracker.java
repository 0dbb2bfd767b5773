package dev.slingshot.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * Follows named weight norms ‖W‖ (the last layer's weight first) through the phases of the
 * Slingshot Effect: Thilak et al. 2022, §2 and Figure 2, define one Slingshot Effect as "the full
 * cycle starting from the norm growth phase, and ending in the norm plateau phase"; the k-sparse
 * parity study shows that with decoupled weight decay (AdamW) the norm <em>shrinks</em> between
 * slingshots instead of holding still, and that each slingshot is a sudden norm increase.
 *
 * <p><b>Growth rate.</b> For each followed norm the rate is the least-squares slope of {@code ln
 * ‖W‖} against the step number over the records of the last {@link Config#window()} steps (steps
 * {@code s − window} to {@code s}), in units of 1/step (a rate of 10⁻⁴ is 1% growth per 100 steps).
 * Slopes are taken by step, so sparse logging (every N steps) measures the same rate. The rate is
 * unknown until the window holds at least two records spanning at least half the window.
 *
 * <p><b>Phases.</b> Every norm starts in {@link Phase#PLATEAU}. With hysteresis, the rate must
 * exceed {@code growthEnter} to enter {@link Phase#GROWTH} and fall below {@code growthExit} to
 * leave it; likewise it must fall below {@code decayEnter} to enter {@link Phase#DECAY} and rise
 * above {@code decayExit} to leave it. A change is confirmed only after its condition has held on
 * every record for at least {@link Config#minDwell()} steps; the phase it goes to is the one the
 * rate indicates at the confirming record. A {@link PhaseChanged} event is raised at the confirming
 * record, so events lag the change by about half a window plus the dwell.
 *
 * <p><b>Cycles.</b> When GROWTH gives way to PLATEAU or DECAY a {@link NormCycle} is completed and
 * reported with a {@link CycleCompleted} event. The cycle's steps are back-dated to where the norm
 * actually turned, like the marks of Figure 2: its transition is the first record of the growth
 * phase whose norm is within the noise band of the phase's highest norm, and its growth start the
 * last record, from one window before the growth condition first held, whose norm is within the
 * noise band of the lowest. The noise band is three standard deviations of ln‖W‖ about its local
 * trend (estimated from each record's distance to the line through its neighbours), so on a smooth
 * curve these are exactly the peak before a decay, the knee before a plateau, and the trough or
 * knee before the growth.
 *
 * <p>A record without a followed norm is skipped for that norm; a non-finite or non-positive norm
 * (whose logarithm is undefined) is skipped and counted ({@link #skipped(String)}). Steps may be
 * sparse but must increase. Pure and deterministic, not thread-safe: feed it from one thread.
 */
public final class NormTracker implements SlingshotRule {

  /**
   * The phase of a weight norm (Thilak et al. §2: growth and plateau; with weight decay: decay).
   */
  public enum Phase {
    /** The norm grows faster than {@code growthEnter} per step (until it slows below exit). */
    GROWTH,
    /** The norm holds still within the hysteresis band. */
    PLATEAU,
    /** The norm shrinks, as it does between slingshots under decoupled weight decay (AdamW). */
    DECAY
  }

  private final Config config;
  private final Map<String, Track> tracks = new LinkedHashMap<>();
  private final List<NormCycle> cycles = new ArrayList<>();
  private long lastStep = Long.MIN_VALUE;

  /** A tracker with the {@linkplain Config#ofDefaults() default} configuration. */
  public NormTracker() {
    this(Config.ofDefaults());
  }

  public NormTracker(Config config) {
    this.config = Objects.requireNonNull(config, "config");
    for (String name : config.parameters()) {
      tracks.put(name, new Track(name));
    }
  }

  @Override
  public List<SlingshotEvent> observe(StepRecord record) {
    long step = record.step();
    if (step <= lastStep) {
      throw new IllegalArgumentException(
          "steps must increase: step " + step + " came after step " + lastStep);
    }
    lastStep = step;
    List<SlingshotEvent> events = null;
    if (config.parameters().isEmpty()) {
      for (Map.Entry<String, Double> e : record.norms().entrySet()) {
        Track t = tracks.computeIfAbsent(e.getKey(), Track::new);
        events = t.observe(step, e.getValue(), events);
      }
    } else {
      Map<String, Double> norms = record.norms();
      for (Track t : tracks.values()) {
        Double v = norms.get(t.name);
        if (v != null) {
          events = t.observe(step, v, events);
        }
      }
    }
    return events == null ? List.of() : events;
  }

  /** The configuration in force. */
  public Config config() {
    return config;
  }

  /** The names of the norms followed so far, in the order they are reported. */
  public Set<String> parameters() {
    return Collections.unmodifiableSet(tracks.keySet());
  }

  /** The current phase of the named norm; empty if the tracker has never seen it. */
  public Optional<Phase> phase(String name) {
    Track t = tracks.get(name);
    return t == null || t.count == 0 ? Optional.empty() : Optional.of(t.phase);
  }

  /** The latest growth rate of the named norm, d ln‖W‖ / d step (1/step); empty until known. */
  public OptionalDouble rate(String name) {
    Track t = tracks.get(name);
    return t == null || Double.isNaN(t.rate) ? OptionalDouble.empty() : OptionalDouble.of(t.rate);
  }

  /** How many records carried a non-finite or non-positive value of the named norm. */
  public long skipped(String name) {
    Track t = tracks.get(name);
    return t == null ? 0 : t.skipped;
  }

  /** The completed cycles of the named norm, in order. */
  public List<NormCycle> cycles(String name) {
    Track t = tracks.get(name);
    return t == null ? List.of() : Collections.unmodifiableList(t.cycles);
  }

  /** Every completed cycle of every norm, in the order they were completed. */
  public List<NormCycle> cycles() {
    return Collections.unmodifiableList(cycles);
  }

  /** The state of one followed norm: a ring buffer of recent records and the rate's sums. */
  private final class Track {
    final String name;
    final List<NormCycle> cycles = new ArrayList<>();
    Phase phase = Phase.PLATEAU;
    double rate = Double.NaN;
    long skipped;

    // Ring buffer of records (absolute indices, masked); [head, tail) are kept, [win, tail) are
    // the records of the rate window.
    long[] steps = new long[64];
    double[] logs = new double[64];
    double[] values = new double[64];
    long head;
    long win;
    long tail;
    long count;

    // Least-squares sums over [win, tail), x = step − ref.
    long ref;
    double n;
    double sx;
    double sy;
    double sxx;
    double sxy;
    long removedSinceRebuild;

    boolean pending;
    long pendingStep;

    long growthStartStep;
    double growthStartNorm;
    long peakStep;
    double peakNorm;

    Track(String name) {
      this.name = name;
    }

    List<SlingshotEvent> observe(long step, double norm, List<SlingshotEvent> events) {
      if (!Double.isFinite(norm) || !(norm > 0)) {
        skipped++;
        return events;
      }
      count++;
      append(step, norm);
      if (phase == Phase.GROWTH && norm > peakNorm) {
        peakNorm = norm;
        peakStep = step;
      }
      long from = step - config.window;
      while (steps[idx(win)] < from) {
        remove(win++);
      }
      long keepFrom = (pending ? pendingStep : step) - config.window;
      while (head < win && steps[idx(head)] < keepFrom) {
        head++;
      }
      long span = step - steps[idx(win)];
      if (tail - win < 2 || 2 * span < config.window) {
        return events;
      }
      rate = slope();
      Phase target = target(rate);
      if (target == phase) {
        pending = false;
        return events;
      }
      if (!pending) {
        pending = true;
        pendingStep = step;
      }
      if (step - pendingStep < config.minDwell) {
        return events;
      }
      Phase previous = phase;
      phase = target;
      pending = false;
      events = add(events, new PhaseChanged(step, name, previous, target, norm, rate));
      if (target == Phase.GROWTH) {
        startGrowth(pendingStep - config.window);
      } else if (previous == Phase.GROWTH) {
        NormCycle c = endGrowth(pendingStep - config.window, target);
        cycles.add(c);
        NormTracker.this.cycles.add(c);
        events = add(events, new CycleCompleted(step, name, c));
      }
      return events;
    }

    /** The phase the rate points to from the current phase, with hysteresis. */
    private Phase target(double r) {
      return switch (phase) {
        case GROWTH ->
            r < config.growthExit
                ? (r < config.decayEnter ? Phase.DECAY : Phase.PLATEAU)
                : Phase.GROWTH;
        case PLATEAU ->
            r > config.growthEnter
                ? Phase.GROWTH
                : (r < config.decayEnter ? Phase.DECAY : Phase.PLATEAU);
        case DECAY ->
            r > config.decayExit
                ? (r > config.growthEnter ? Phase.GROWTH : Phase.PLATEAU)
                : Phase.DECAY;
      };
    }

    /**
     * Back-dates the growth start: the last record since {@code from} whose norm is within the
     * noise band of the lowest one. Resets the peak to the highest norm since then.
     */
    private void startGrowth(long from) {
      long i = firstAtOrAfter(from);
      long lo = i;
      for (long j = i; j < tail; j++) {
        if (values[idx(j)] <= values[idx(lo)]) {
          lo = j;
        }
      }
      double ceiling = logs[idx(lo)] + noiseBand(i);
      long start = lo;
      for (long j = lo + 1; j < tail; j++) {
        if (logs[idx(j)] <= ceiling) {
          start = j;
        }
      }
      growthStartStep = steps[idx(start)];
      growthStartNorm = values[idx(start)];
      peakStep = growthStartStep;
      peakNorm = growthStartNorm;
      for (long j = start; j < tail; j++) {
        if (values[idx(j)] > peakNorm) {
          peakNorm = values[idx(j)];
          peakStep = steps[idx(j)];
        }
      }
    }

    /**
     * The growth's end: the first record since {@code from} whose norm is within the noise band of
     * the growth's peak (the peak itself on a smooth curve).
     */
    private NormCycle endGrowth(long from, Phase endPhase) {
      long i = firstAtOrAfter(from);
      long step = peakStep;
      double norm = peakNorm;
      if (steps[idx(i)] <= peakStep) {
        double floor = Math.log(peakNorm) - noiseBand(i);
        for (long j = i; j < tail && steps[idx(j)] < peakStep; j++) {
          if (steps[idx(j)] >= growthStartStep && logs[idx(j)] >= floor) {
            step = steps[idx(j)];
            norm = values[idx(j)];
            break;
          }
        }
      }
      return new NormCycle(name, growthStartStep, growthStartNorm, step, norm, endPhase);
    }

    private long firstAtOrAfter(long step) {
      long i = head;
      while (i < tail - 1 && steps[idx(i)] < step) {
        i++;
      }
      return i;
    }

    /**
     * Three standard deviations of the measurement noise of ln‖W‖ over the records [from, tail),
     * estimated from each record's distance to the line through its two neighbours (which removes
     * any locally linear trend); 0 on a smooth curve.
     */
    private double noiseBand(long from) {
      double sum = 0;
      int n = 0;
      for (long j = from + 1; j < tail - 1; j++) {
        double s0 = steps[idx(j - 1)];
        double s1 = steps[idx(j)];
        double s2 = steps[idx(j + 1)];
        double a = (s2 - s1) / (s2 - s0);
        double b = (s1 - s0) / (s2 - s0);
        double r = logs[idx(j)] - (a * logs[idx(j - 1)] + b * logs[idx(j + 1)]);
        sum += r * r / (1 + a * a + b * b);
        n++;
      }
      return n == 0 ? 0 : 3 * Math.sqrt(sum / n);
    }

    private int idx(long i) {
      return (int) (i & (steps.length - 1));
    }

    private void append(long step, double norm) {
      if (tail - head == steps.length) {
        grow();
      }
      int k = idx(tail++);
      steps[k] = step;
      values[k] = norm;
      logs[k] = Math.log(norm);
      if (tail - win == 1) {
        ref = step;
      }
      double x = step - ref;
      n++;
      sx += x;
      sy += logs[k];
      sxx += x * x;
      sxy += x * logs[k];
    }

    private void remove(long i) {
      int k = idx(i);
      double x = steps[k] - ref;
      n--;
      sx -= x;
      sy -= logs[k];
      sxx -= x * x;
      sxy -= x * logs[k];
      if (++removedSinceRebuild > tail - i) {
        rebuild(i + 1);
      }
    }

    /** Recomputes the sums over [from, tail) with a fresh reference step, against drift. */
    private void rebuild(long from) {
      removedSinceRebuild = 0;
      n = sx = sy = sxx = sxy = 0;
      ref = from < tail ? steps[idx(from)] : 0;
      for (long j = from; j < tail; j++) {
        int k = idx(j);
        double x = steps[k] - ref;
        n++;
        sx += x;
        sy += logs[k];
        sxx += x * x;
        sxy += x * logs[k];
      }
    }

    private double slope() {
      double vx = n * sxx - sx * sx;
      return (n * sxy - sx * sy) / vx;
    }

    private void grow() {
      int len = steps.length;
      long[] s2 = new long[len * 2];
      double[] l2 = new double[len * 2];
      double[] v2 = new double[len * 2];
      for (long j = head; j < tail; j++) {
        int k = (int) ((j - head));
        s2[k] = steps[idx(j)];
        l2[k] = logs[idx(j)];
        v2[k] = values[idx(j)];
      }
      tail -= head;
      win -= head;
      head = 0;
      steps = s2;
      logs = l2;
      values = v2;
    }
  }

  private static List<SlingshotEvent> add(List<SlingshotEvent> events, SlingshotEvent e) {
    List<SlingshotEvent> out = events == null ? new ArrayList<>(2) : events;
    out.add(e);
    return out;
  }

  /**
   * The tracker's window, hysteresis thresholds, dwell and followed norms.
   *
   * <p>Rates are in 1/step (d ln‖W‖ / d step). The defaults were chosen on the three recorded
   * k-sparse parity runs in {@code slingshot-core/src/test/resources/fixtures/runs} (AdamW with
   * hinge and cross-entropy loss, and Adam without weight decay as in Thilak et al. App. A.6);
   * there, weight decay shrinks the norm at about −10⁻⁴/step between slingshots, a slingshot grows
   * it at 10⁻³/step or more (hinge) or accelerates it past 5·10⁻⁵/step before the loss spike
   * (cross-entropy, Adam), and plateaus move by less than 10⁻⁵/step. With these defaults every
   * growth phase after the model first fitted its training set ends between 20 steps before and 200
   * steps after the start of a loss-spike interval, ends in DECAY on the AdamW runs and in PLATEAU
   * on the Adam run, and no phase flips back and forth; a shorter dwell (50–100 steps) finds the
   * same transitions but lets a brief drop after the spike read as DECAY on the Adam run (see
   * {@code NormTrackerRecordedRunsTest}).
   *
   * @param window the rate is the slope over the records of the last {@code window} steps
   * @param growthEnter the rate above which a norm enters GROWTH (1/step, positive)
   * @param growthExit the rate below which a norm leaves GROWTH ({@code < growthEnter})
   * @param decayEnter the rate below which a norm enters DECAY (1/step, negative)
   * @param decayExit the rate above which a norm leaves DECAY ({@code > decayEnter}, {@code <=
   *     growthExit})
   * @param minDwell a phase change is confirmed only after its condition held for this many steps
   * @param parameters the names of the norms to follow, in reporting order (the last layer's weight
   *     first); empty: every norm the records carry, in order of first appearance
   */
  public record Config(
      long window,
      double growthEnter,
      double growthExit,
      double decayEnter,
      double decayExit,
      long minDwell,
      List<String> parameters) {

    /** Default rate window, 200 steps. */
    public static final long DEFAULT_WINDOW = 200;

    /** Default GROWTH entry rate, 5·10⁻⁵/step (0.5% per 100 steps). */
    public static final double DEFAULT_GROWTH_ENTER = 5e-5;

    /** Default GROWTH exit rate, 2·10⁻⁵/step. */
    public static final double DEFAULT_GROWTH_EXIT = 2e-5;

    /** Default DECAY entry rate, −5·10⁻⁵/step (half the decay of AdamW with lr·wd = 10⁻⁴). */
    public static final double DEFAULT_DECAY_ENTER = -5e-5;

    /** Default DECAY exit rate, −2·10⁻⁵/step. */
    public static final double DEFAULT_DECAY_EXIT = -2e-5;

    /** Default dwell, 200 steps. */
    public static final long DEFAULT_MIN_DWELL = 200;

    public Config {
      if (window < 2) {
        throw new IllegalArgumentException("window must be at least 2 steps, was " + window);
      }
      if (!Double.isFinite(growthEnter)
          || !Double.isFinite(growthExit)
          || !Double.isFinite(decayEnter)
          || !Double.isFinite(decayExit)
          || !(growthEnter > 0)
          || !(decayEnter < 0)
          || !(decayEnter < decayExit)
          || !(decayExit <= growthExit)
          || !(growthExit < growthEnter)) {
        throw new IllegalArgumentException(
            "rate thresholds must be finite with decayEnter < decayExit <= growthExit <"
                + " growthEnter, decayEnter < 0 < growthEnter; were decayEnter="
                + decayEnter
                + ", decayExit="
                + decayExit
                + ", growthExit="
                + growthExit
                + ", growthEnter="
                + growthEnter);
      }
      if (minDwell < 0) {
        throw new IllegalArgumentException("minimum dwell must be >= 0 steps, was " + minDwell);
      }
      Objects.requireNonNull(parameters, "parameters");
      Set<String> seen = new HashSet<>();
      for (String p : parameters) {
        if (p == null || p.isBlank()) {
          throw new IllegalArgumentException(
              "parameter names must not be blank, were " + parameters);
        }
        if (!seen.add(p)) {
          throw new IllegalArgumentException(
              "parameter name '" + p + "' is listed twice in " + parameters);
        }
      }
      parameters = List.copyOf(parameters);
    }

    /** The defaults, following every norm the records carry. */
    public static Config ofDefaults() {
      return new Config(
          DEFAULT_WINDOW,
          DEFAULT_GROWTH_ENTER,
          DEFAULT_GROWTH_EXIT,
          DEFAULT_DECAY_ENTER,
          DEFAULT_DECAY_EXIT,
          DEFAULT_MIN_DWELL,
          List.of());
    }

    /** This configuration with another rate window (steps). */
    public Config withWindow(long steps) {
      return new Config(
          steps, growthEnter, growthExit, decayEnter, decayExit, minDwell, parameters);
    }

    /** This configuration with other GROWTH thresholds (1/step). */
    public Config withGrowthThresholds(double enter, double exit) {
      return new Config(window, enter, exit, decayEnter, decayExit, minDwell, parameters);
    }

    /** This configuration with other DECAY thresholds (1/step, negative). */
    public Config withDecayThresholds(double enter, double exit) {
      return new Config(window, growthEnter, growthExit, enter, exit, minDwell, parameters);
    }

    /** This configuration with another minimum dwell (steps). */
    public Config withMinDwell(long steps) {
      return new Config(window, growthEnter, growthExit, decayEnter, decayExit, steps, parameters);
    }

    /** This configuration following only the named norms, in this order. */
    public Config withParameters(String... names) {
      return new Config(
          window, growthEnter, growthExit, decayEnter, decayExit, minDwell, List.of(names));
    }
  }

  /**
   * One Slingshot Effect of one norm (Thilak et al. §2): a growth phase and the step where it gave
   * way to a plateau or, under weight decay, to decay. The steps are back-dated to where the norm
   * turned (see {@link NormTracker}); the events that report them come later.
   *
   * @param parameter the norm's name
   * @param growthStartStep the record at which the growth began (the last lowest norm before it)
   * @param growthStartNorm the norm there
   * @param transitionStep the record at which the growth ended (the first highest norm of it)
   * @param transitionNorm the norm there, the top of the cycle
   * @param endPhase the phase the growth gave way to, {@link Phase#PLATEAU} or {@link Phase#DECAY}
   */
  public record NormCycle(
      String parameter,
      long growthStartStep,
      double growthStartNorm,
      long transitionStep,
      double transitionNorm,
      Phase endPhase) {

    /** {@code transitionNorm / growthStartNorm}. */
    public double growthFactor() {
      return transitionNorm / growthStartNorm;
    }

    /** {@code transitionStep − growthStartStep}. */
    public long growthSteps() {
      return transitionStep - growthStartStep;
    }
  }

  /**
   * The phase of a norm changed, confirmed at {@code step}.
   *
   * @param parameter the norm's name
   * @param norm the norm at {@code step}
   * @param rate the growth rate at {@code step} (1/step)
   */
  public record PhaseChanged(
      long step, String parameter, Phase from, Phase to, double norm, double rate)
      implements SlingshotEvent {
    @Override
    public String type() {
      return "norm_phase_change";
    }
  }

  /** A growth phase ended at {@code step}, completing {@code cycle}. */
  public record CycleCompleted(long step, String parameter, NormCycle cycle)
      implements SlingshotEvent {
    @Override
    public String type() {
      return "norm_cycle";
    }
  }
}
