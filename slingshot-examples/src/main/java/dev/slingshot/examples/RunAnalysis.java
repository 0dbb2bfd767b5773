package dev.slingshot.examples;

import com.fasterxml.jackson.databind.JsonNode;
import dev.slingshot.core.RunLog;
import dev.slingshot.core.SlingshotDetector;
import dev.slingshot.core.SlingshotEpisode;
import dev.slingshot.core.SlingshotInterval;
import dev.slingshot.core.StepRecord;
import dev.slingshot.djl.ProbeMeasurement;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * What a run directory says, recomputed from its records alone: the {@link SlingshotDetector}
 * replayed over {@code metrics.jsonl} with the thresholds in {@code config.json}, the episodes, and
 * for each episode the last-layer norm and the test metrics before and after it. The replay is the
 * source of truth for plots and reports; {@code events.jsonl} is cross-checked against it.
 */
final class RunAnalysis {

  /** The event type of the adapter's second-order probes ({@code ProbeMeasurement.TYPE}). */
  static final String PROBE = ProbeMeasurement.TYPE;

  /** The event type of the transformer's relative feature change ({@link FeatureChange#TYPE}). */
  static final String FEATURE_CHANGE = FeatureChange.TYPE;

  final Path dir;
  final Map<String, Object> config;
  final List<StepRecord> records;
  final SlingshotDetector.Config detectorConfig;
  final List<SlingshotInterval> intervals;
  final List<SlingshotEpisode> episodes;
  final OptionalLong fitStep;

  /** Start steps of {@code slingshot_start} events in events.jsonl (empty if the file is gone). */
  final List<Long> loggedStarts;

  /** Steps of the optimizer-state resets ({@code state_reset} events) in events.jsonl. */
  List<Long> resets = List.of();

  /**
   * The second-order probes' events ({@code probe}: update sharpness, λmax, effective step,
   * preconditioned sharpness; see {@code dev.slingshot.djl.ProbeMeasurement}) in events.jsonl.
   */
  List<Measured> probes = List.of();

  /**
   * The transformer's relative feature change events ({@code feature_change}, one value per layer;
   * Thilak et al. §2, Fig. 2e-f) in events.jsonl.
   */
  List<Measured> featureChanges = List.of();

  /**
   * A measurement event of events.jsonl: its step and its numeric {@code values}.
   *
   * @param step the step the values refer to
   * @param values by key, in file order (non-numeric values are left out)
   */
  record Measured(long step, Map<String, Double> values) {
    /** The value under {@code key}, when present and finite. */
    OptionalDouble value(String key) {
      Double v = values.get(key);
      return v == null || !Double.isFinite(v) ? OptionalDouble.empty() : OptionalDouble.of(v);
    }
  }

  private RunAnalysis(
      Path dir,
      Map<String, Object> config,
      List<StepRecord> records,
      SlingshotDetector.Config detectorConfig,
      List<Long> loggedStarts) {
    this.dir = dir;
    this.config = config;
    this.records = records;
    this.detectorConfig = detectorConfig;
    SlingshotDetector d = new SlingshotDetector(detectorConfig);
    records.forEach(d::observe);
    this.intervals = d.intervals();
    this.episodes = d.episodes();
    this.fitStep = d.fitStep();
    this.loggedStarts = loggedStarts;
  }

  /** Reads a run directory (config.json optional: defaults are used without it). */
  static RunAnalysis read(Path dir) throws IOException {
    Path metrics = dir.resolve(RunLog.METRICS_FILE);
    if (!Files.isRegularFile(metrics)) {
      throw new IllegalArgumentException("no " + RunLog.METRICS_FILE + " in " + dir);
    }
    Path configFile = dir.resolve(ParityTraining.CONFIG_FILE);
    Map<String, Object> config =
        Files.isRegularFile(configFile) ? RunFiles.readJsonMap(configFile) : Map.of();
    SlingshotDetector.Config dc = SlingshotDetector.Config.ofDefaults();
    if (config.get("settings") instanceof Map<?, ?> s
        && s.get("detector_low") instanceof Number low
        && s.get("detector_high") instanceof Number high
        && s.get("merge_gap") instanceof Number gap) {
      dc = new SlingshotDetector.Config(low.doubleValue(), high.doubleValue(), gap.longValue());
    }
    List<StepRecord> records = RunLog.readRecords(metrics);
    List<Long> starts = new ArrayList<>();
    List<Long> resets = new ArrayList<>();
    List<Measured> probes = new ArrayList<>();
    List<Measured> features = new ArrayList<>();
    Path events = dir.resolve(RunLog.EVENTS_FILE);
    if (Files.isRegularFile(events)) {
      for (JsonNode e : RunLog.readEvents(events)) {
        String type = e.path("type").asText();
        switch (type) {
          case "slingshot_start" -> starts.add(e.path("step").asLong());
          case "state_reset" -> resets.add(e.path("step").asLong());
          case PROBE -> probes.add(measured(e));
          case FEATURE_CHANGE -> features.add(measured(e));
          default -> {}
        }
      }
    }
    RunAnalysis run =
        new RunAnalysis(dir, config, records, dc, Collections.unmodifiableList(starts));
    run.resets = Collections.unmodifiableList(resets);
    run.probes = Collections.unmodifiableList(probes);
    run.featureChanges = Collections.unmodifiableList(features);
    return run;
  }

  private static Measured measured(JsonNode e) {
    Map<String, Double> values = new LinkedHashMap<>();
    JsonNode v = e.path("values");
    for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      if (f.getValue().isNumber()) {
        values.put(f.getKey(), f.getValue().asDouble());
      }
    }
    return new Measured(e.path("step").asLong(), Collections.unmodifiableMap(values));
  }

  /**
   * The learning rate in config.json's settings ({@code lr}), or empty (runs that record it
   * elsewhere, or none).
   */
  OptionalDouble learningRate() {
    if (config.get("settings") instanceof Map<?, ?> s && s.get("lr") instanceof Number lr) {
      return OptionalDouble.of(lr.doubleValue());
    }
    return OptionalDouble.empty();
  }

  /** Episodes that began after the model fitted its training set. */
  static int lateEpisodes(List<SlingshotEpisode> episodes) {
    int n = 0;
    for (SlingshotEpisode e : episodes) {
      if (!e.beforeFit()) {
        n++;
      }
    }
    return n;
  }

  /**
   * Whether events.jsonl's interval starts equal the replayed detector's (a killed run may lag).
   */
  boolean eventsAgree() {
    List<Long> replayed = intervals.stream().map(SlingshotInterval::startStep).toList();
    return replayed.equals(loggedStarts);
  }

  String experiment() {
    Object e = config.get("experiment");
    return e == null ? dir.getFileName().toString() : e.toString();
  }

  long lastStep() {
    return records.isEmpty() ? 0 : records.get(records.size() - 1).step();
  }

  /** The index of the last record with step ≤ {@code step}, or −1. */
  int indexAtOrBefore(long step) {
    int lo = 0;
    int hi = records.size() - 1;
    int ans = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (records.get(mid).step() <= step) {
        ans = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return ans;
  }

  OptionalDouble lastLayerNorm(int index) {
    return index < 0 ? OptionalDouble.empty() : lastLayerNorm(records.get(index));
  }

  /** The last record before {@code step} (exclusive) that has test metrics. */
  StepRecord evalBefore(long step) {
    for (int i = indexAtOrBefore(step - 1); i >= 0; i--) {
      if (records.get(i).testAccuracy().isPresent()) {
        return records.get(i);
      }
    }
    return null;
  }

  /** The first record at or after {@code step} that has test metrics. */
  StepRecord evalAtOrAfter(long step) {
    int i = Math.max(0, indexAtOrBefore(step - 1) + 1);
    for (; i < records.size(); i++) {
      if (records.get(i).testAccuracy().isPresent()) {
        return records.get(i);
      }
    }
    return null;
  }

  /** The largest last-layer norm over records with step in [from, to]. */
  OptionalDouble maxNorm(long from, long to) {
    double max = Double.NaN;
    for (int i = Math.max(0, indexAtOrBefore(from - 1) + 1); i < records.size(); i++) {
      StepRecord r = records.get(i);
      if (r.step() > to) {
        break;
      }
      OptionalDouble v = lastLayerNorm(r);
      if (v.isPresent() && !(v.getAsDouble() <= max)) {
        max = v.getAsDouble();
      }
    }
    return Double.isNaN(max) ? OptionalDouble.empty() : OptionalDouble.of(max);
  }

  /** The best test accuracy and its first step, if any record has one. */
  StepRecord bestTest() {
    StepRecord best = null;
    for (StepRecord r : records) {
      if (r.testAccuracy().isPresent()
          && (best == null || r.testAccuracy().getAsDouble() > best.testAccuracy().getAsDouble())) {
        best = r;
      }
    }
    return best;
  }

  /** The last record with test metrics. */
  StepRecord lastEval() {
    for (int i = records.size() - 1; i >= 0; i--) {
      if (records.get(i).testAccuracy().isPresent()) {
        return records.get(i);
      }
    }
    return null;
  }

  /**
   * The last layer's weight norm of a record: {@link StepRecord#LAST_LAYER}, or for runs written
   * before that name was recorded, the transformer's {@code classifier.weight}.
   */
  static OptionalDouble lastLayerNorm(StepRecord r) {
    OptionalDouble v = r.norm(StepRecord.LAST_LAYER);
    return v.isPresent() ? v : r.norm("classifier.weight");
  }
}
