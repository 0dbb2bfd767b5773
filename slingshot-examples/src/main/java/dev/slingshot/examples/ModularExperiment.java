package dev.slingshot.examples;

import ai.djl.nn.Parameter;
import dev.slingshot.core.NormTracker;
import dev.slingshot.core.ProbeSchedule;
import dev.slingshot.core.RunLog;
import dev.slingshot.core.SlingshotDetector;
import dev.slingshot.core.SlingshotMonitor;
import dev.slingshot.core.StepRecord;
import dev.slingshot.djl.ProbeQuantity;
import dev.slingshot.djl.SlingshotOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code modular} experiment of {@code slingshot run}: Thilak et al.'s transformer on one of
 * Power et al.'s algorithmic datasets ({@link ModularTraining}), instrumented by the slingshot-djl
 * adapter and recorded in a run directory like the parity experiments: {@code config.json}, {@code
 * metrics.jsonl} (one record per step), {@code events.jsonl} (slingshot intervals, norm phases,
 * feature changes, probes), a checkpoint every {@code checkpoint_every} steps, plots and {@code
 * report.md}.
 *
 * <p>Before the run proper, the time per step is measured over its first {@value #TIMED_STEPS}
 * steps and an estimate of the whole run's duration on this device is printed.
 */
final class ModularExperiment {

  /** Steps timed at the start for the run-time estimate. */
  static final int TIMED_STEPS = 20;

  private ModularExperiment() {}

  /**
   * The training configuration of the experiment's defaults (the paper's Fig. 2 set-up) with {@code
   * assignments} ({@code "p=7"}, {@code "op=add"}, ...) applied.
   */
  static ModularTraining.Config config(String... assignments) {
    return config(Experiment.MODULAR.defaults().with(List.of(assignments)));
  }

  /** The training configuration a run's settings describe. */
  static ModularTraining.Config config(Settings s) {
    double tau = s.getDouble("tau");
    return new ModularTraining.Config(
        ModularArithmetic.Operation.parse(s.getString("op")),
        s.getInt("p"),
        s.getDouble("fraction"),
        s.getLong("seed"),
        s.getInt("batch"),
        ModularTraining.OptimizerKind.valueOf(s.getString("optimizer").toUpperCase(Locale.ROOT)),
        (float) s.getDouble("lr"),
        s.getInt("warmup"),
        (float) s.getDouble("beta1"),
        (float) s.getDouble("beta2"),
        (float) s.getDouble("eps"),
        (float) s.getDouble("weight_decay"),
        (float) s.getDouble("momentum"),
        s.getLong("steps"),
        s.getInt("eval_every"),
        s.getInt("feature_every"),
        ModularTraining.Config.PROBE_SIZE,
        DecoderLayer.Norm.valueOf(s.getString("norm").toUpperCase(Locale.ROOT)),
        tau == 0 ? Double.NaN : tau,
        s.getInt("width"),
        s.getInt("heads"),
        s.getInt("layers"));
  }

  /**
   * The probe schedule of the settings: none when {@code sharpness_every} is 0; otherwise every
   * {@code sharpness_every} steps, plus every step for {@code sharpness_dense} steps from each
   * norm-phase change and slingshot interval boundary (Fig. 3's dense sampling around the
   * transitions).
   */
  static ProbeSchedule probeSchedule(Settings s) {
    long every = s.getLong("sharpness_every");
    if (every == 0) {
      return ProbeSchedule.never();
    }
    long dense = s.getLong("sharpness_dense");
    ProbeSchedule base = ProbeSchedule.everySteps(every);
    return dense == 0 ? base : ProbeSchedule.denseNearTransitions(base, dense);
  }

  /** Trains (or, from {@code checkpoint}, continues) the run of {@code s} in {@code dir}. */
  static ParityTraining.Result train(
      Experiment experiment,
      Settings s,
      Path dir,
      ParityTraining.Progress progress,
      TrainingCheckpoint.Info checkpoint)
      throws IOException {
    PrintStream err = System.err;
    ParityTraining.configureEngine(defaultThreads());
    ModularTraining.Config config = config(s);
    Files.createDirectories(dir);
    long start = checkpoint == null ? 0 : checkpoint.step();
    long steps = s.getLong("steps");
    long checkpointEvery = s.getLong("checkpoint_every");

    SlingshotDetector detector = Experiment.detector(s);
    SlingshotMonitor monitor =
        SlingshotMonitor.builder()
            .rule(detector)
            .rule(new NormTracker())
            .resetPolicy(ParityTraining.resetPolicy(s))
            .probeSchedule(probeSchedule(s))
            .build();
    if (checkpoint != null) {
      // replay the records up to the checkpoint into the fresh monitor (see ParityTraining)
      for (StepRecord r : RunLog.readRecords(dir.resolve(RunLog.METRICS_FILE))) {
        monitor.observe(r);
      }
    }
    SlingshotOptions.Builder options =
        SlingshotOptions.custom()
            .monitor(monitor)
            .measureEvery(s.getInt("measure_every"))
            .cosineDistanceEvery(s.getInt("cosine_every"))
            .probeQuantities(probeQuantities(s))
            .failFast(true);

    Instant started = Instant.now();
    long done = start;
    try (ModularTraining training = new ModularTraining(config, true, options, checkpoint)) {
      Map<String, Parameter> named = new LinkedHashMap<>();
      training.network().getParameters().forEach(p -> named.put(p.getKey(), p.getValue()));
      if (checkpoint == null) {
        writeConfig(dir, experiment, s, training, named);
      }
      try (RunLog log = checkpoint == null ? RunLog.create(dir) : RunLog.append(dir)) {
        monitor.onRecord(log::record);
        monitor.onEvent(log::event);
        long timedFrom = System.nanoTime();
        for (long step = start + 1; step <= steps; step++) {
          training.train(1);
          StepRecord r = training.slingshot().lastRecord();
          if (r == null || r.step() != step) {
            throw new IllegalStateException("the adapter recorded no record for step " + step);
          }
          done = step;
          if (step == start + TIMED_STEPS && step < steps) {
            estimate(err, training, System.nanoTime() - timedFrom, steps - step);
          }
          if (checkpointEvery > 0 && step % checkpointEvery == 0) {
            TrainingCheckpoint.save(dir, step, training.network(), training.optimizer(), named);
          }
          progress.update(
              step,
              r.trainLoss(),
              RunAnalysis.lastLayerNorm(r).orElse(Double.NaN),
              RunAnalysis.lateEpisodes(detector.episodes()));
        }
      }
    } finally {
      progress.close();
    }
    Duration elapsed = Duration.between(started, Instant.now());
    ParityTraining.writeResult(dir, done, done - start, elapsed);
    RunReport.write(dir);
    return new ParityTraining.Result(
        done - start,
        elapsed,
        RunAnalysis.lateEpisodes(detector.episodes()),
        detector.intervals().size());
  }

  /**
   * PyTorch threads when the user set none: the cores, at most 4 (the transformer's matrices are
   * small; more threads stop paying). A sweep's worker processes run with one each.
   */
  static int defaultThreads() {
    return Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
  }

  private static ProbeQuantity[] probeQuantities(Settings s) {
    return s.getString("probes").equals("all")
        ? ProbeQuantity.values()
        : new ProbeQuantity[] {ProbeQuantity.UPDATE_SHARPNESS};
  }

  /** Prints the measured time per step and what the remaining steps will take at that rate. */
  private static void estimate(
      PrintStream err, ModularTraining training, long nanos, long remaining) {
    double ms = nanos / 1e6 / TIMED_STEPS;
    Duration left = Duration.ofMillis((long) (ms * remaining));
    err.printf(
        Locale.ROOT,
        "%nslingshot: %.1f ms/step over the first %d steps on %s (%s threads): the remaining %,d"
            + " steps will take about %s (evaluations and probes add to that)%n",
        ms,
        TIMED_STEPS,
        training.trainer().getDevices()[0],
        System.getProperty("ai.djl.pytorch.num_threads", "default"),
        remaining,
        human(left));
    err.flush();
  }

  static String human(Duration d) {
    long h = d.toHours();
    long m = d.toMinutesPart();
    return h > 0
        ? h + " h " + m + " min"
        : d.toMinutes() > 0 ? m + " min" : d.toSecondsPart() + " s";
  }

  private static void writeConfig(
      Path dir, Experiment e, Settings s, ModularTraining training, Map<String, Parameter> named)
      throws IOException {
    Map<String, Object> c = RunFiles.configHead(e, s);
    Map<String, Object> seeds = new LinkedHashMap<>();
    seeds.put(
        "split", "java.util.Random(seed): a shuffle of all equations, the first fraction train");
    seeds.put("batches", "java.util.Random(seed + 1): a permutation per epoch");
    seeds.put("init", "libtorch manual_seed " + (int) s.getLong("seed"));
    c.put("random", seeds);
    c.put("training", training.config().describe());
    c.put("train_size", training.split().train().size());
    c.put("validation_size", training.split().validation().size());
    List<String> shapes = new ArrayList<>();
    long count = 0;
    for (Map.Entry<String, Parameter> p : named.entrySet()) {
      shapes.add(p.getKey() + " " + p.getValue().getArray().getShape());
      count += p.getValue().getArray().getShape().size();
    }
    c.put("parameters", count);
    c.put("parameter_shapes", shapes);
    c.put("last_layer", training.slingshot().lastLayerParameter());
    c.put("probes", probeSchedule(s).describe() + " " + List.of(probeQuantities(s)));
    RunFiles.putEnvironment(c, training.trainer());
    c.put(
        "records",
        "metrics.jsonl: one record per step; train_loss is the minibatch loss before the update;"
            + " norms (last_layer = the classifier weight) and update_norm after it, every"
            + " measure_every steps; full_train_loss, train_acc, test_loss (validation),"
            + " test_acc every eval_every steps and at the last step, after that step's update;"
            + " events.jsonl: feature_change every feature_every steps, probes, slingshot"
            + " intervals, norm phases");
    RunFiles.writeJson(dir.resolve(ParityTraining.CONFIG_FILE), c);
  }
}
