package dev.slingshot.examples;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.Trainer;
import ai.djl.training.initializer.UniformInitializer;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.slingshot.core.NormTracker;
import dev.slingshot.core.ProbeSchedule;
import dev.slingshot.core.RunLog;
import dev.slingshot.core.SlingshotDetector;
import dev.slingshot.core.SlingshotMonitor;
import dev.slingshot.core.StateResetPolicy;
import dev.slingshot.core.StepRecord;
import dev.slingshot.djl.SlingshotOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Trains one parity experiment and records it in a run directory: {@code config.json} first, then
 * one {@link StepRecord} per step through core's {@link RunLog} (flushed per line, so a killed run
 * keeps its records), then the plots and {@code report.md}.
 *
 * <p>The loop is plain DJL driven by hand (a {@link Trainer} over a {@link SequentialBlock} MLP,
 * one minibatch forward/backward per step, the training listeners notified as {@code
 * EasyTrain.trainBatch} does, {@code trainer.step()}), instrumented by the slingshot-djl adapter in
 * one line ({@link dev.slingshot.djl.Slingshot#attach}): it measures the loss, the last-layer norm
 * and the update norm every step, feeds the monitor (whose run log writes the files) and executes
 * the reset policy. Every {@code eval_every} steps the full training set and the test set are
 * evaluated after the update and put in that step's record by the adapter's record enricher.
 *
 * <p>Every {@code checkpoint_every} steps a {@link TrainingCheckpoint} is written; {@link #resume}
 * continues from the last one to the same result as an uninterrupted run.
 */
final class ParityTraining {

  /** The name of the last layer's weight norm in each record's {@code norms}. */
  static final String LAST_LAYER = StepRecord.LAST_LAYER;

  /** Config file name in a run directory. */
  static final String CONFIG_FILE = "config.json";

  private static final long SHUFFLE_SALT = 0x5DEECE66DL;

  /** What a finished (or stopped) run reports back. */
  record Result(long steps, Duration elapsed, int episodes, int intervals) {
    double msPerStep() {
      return steps == 0 ? 0 : elapsed.toNanos() / 1e6 / steps;
    }
  }

  /** Receives progress once per step (the command line's progress bar). */
  interface Progress extends AutoCloseable {
    void update(long step, double loss, double lastLayerNorm, int slingshots);

    @Override
    default void close() {}

    Progress NONE = (s, l, n, k) -> {};
  }

  private ParityTraining() {}

  /** Sets DJL's offline mode and one PyTorch thread, unless the user set them. */
  static void configureEngine() {
    configureEngine(1);
  }

  /** Sets DJL's offline mode and {@code threads} PyTorch threads, unless the user set them. */
  static void configureEngine(int threads) {
    setIfAbsent("ai.djl.offline", "true");
    setIfAbsent("ai.djl.pytorch.num_threads", Integer.toString(threads));
    setIfAbsent("ai.djl.pytorch.num_interop_threads", "1");
    System.setProperty("java.awt.headless", "true");
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }

  /** Runs {@code experiment} with {@code s} into {@code dir}. */
  static Result run(Experiment experiment, Settings s, Path dir, Progress progress)
      throws IOException {
    experiment.validate(s);
    return train(experiment, s, dir, progress, null);
  }

  /**
   * Continues the run in {@code dir} from its last checkpoint to its configured step count, or to
   * {@code steps} when given: truncates {@code metrics.jsonl} and {@code events.jsonl} after the
   * checkpoint's step and appends from there.
   *
   * @throws IllegalArgumentException when {@code dir} has no config.json or no checkpoint, or the
   *     run already has {@code steps} steps
   */
  static Result resume(Path dir, Long steps, Progress progress) throws IOException {
    Path configFile = dir.resolve(CONFIG_FILE);
    if (!Files.isRegularFile(configFile)) {
      throw new IllegalArgumentException(
          "no " + CONFIG_FILE + " in " + dir + ": not a run directory");
    }
    Map<String, Object> config = RunFiles.readJsonMap(configFile);
    Experiment experiment = Experiment.named(String.valueOf(config.get("experiment")));
    List<String> assignments = new ArrayList<>();
    if (config.get("settings") instanceof Map<?, ?> m) {
      m.forEach((k, v) -> assignments.add(k + "=" + Settings.Key.format(v)));
    }
    if (steps != null) {
      assignments.add("steps=" + steps);
    }
    Settings s = experiment.defaults().with(assignments);
    experiment.validate(s);
    TrainingCheckpoint.Info checkpoint =
        TrainingCheckpoint.find(dir)
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "no checkpoint in "
                            + dir
                            + " (checkpoints are written every checkpoint_every steps)"));
    if (checkpoint.step() >= s.getLong("steps")) {
      throw new IllegalArgumentException(
          "the checkpoint in "
              + dir
              + " is at step "
              + checkpoint.step()
              + ", the run has "
              + s.getLong("steps")
              + " steps: nothing to do (use --steps N to go on)");
    }
    TrainingCheckpoint.truncateLogs(dir, checkpoint);
    config.put("settings", s.values());
    List<Object> resumed = new ArrayList<>();
    if (config.get("resumed") instanceof List<?> l) {
      resumed.addAll(l);
    }
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("from_step", checkpoint.step());
    r.put("at", Instant.now().toString());
    resumed.add(r);
    config.put("resumed", resumed);
    config.remove("result");
    RunFiles.writeJson(configFile, config);
    return experiment == Experiment.MODULAR
        ? ModularExperiment.train(experiment, s, dir, progress, checkpoint)
        : train(experiment, s, dir, progress, checkpoint);
  }

  private static Result train(
      Experiment experiment,
      Settings s,
      Path dir,
      Progress progress,
      TrainingCheckpoint.Info checkpoint)
      throws IOException {
    configureEngine();
    Files.createDirectories(dir);
    long seed = s.getLong("seed");
    ParityData.Split data =
        ParityData.split(
            s.getInt("n"), s.getInt("k"), s.getInt("train_size"), s.getInt("test_size"), seed);
    ParityLoss loss = ParityLoss.named(s.getString("loss"));
    Engine engine = Engine.getInstance();
    engine.setRandomSeed(torchSeed(seed));

    SequentialBlock block = new SequentialBlock();
    int fanIn = s.getInt("n");
    List<Integer> widths = new ArrayList<>(s.getIntList("hidden"));
    widths.add(loss.outputs());
    for (int i = 0; i < widths.size(); i++) {
      Linear linear = Linear.builder().setUnits(widths.get(i)).build();
      // PyTorch's nn.Linear default: weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
      UniformInitializer init = new UniformInitializer((float) (1 / Math.sqrt(fanIn)));
      linear.setInitializer(init, Parameter.Type.WEIGHT);
      linear.setInitializer(init, Parameter.Type.BIAS);
      block.add(linear);
      if (i < widths.size() - 1) {
        block.add(Activation.reluBlock());
      }
      fanIn = widths.get(i);
    }

    int batch = s.getInt("batch");
    int n = s.getInt("n");
    long steps = s.getLong("steps");
    int evalEvery = s.getInt("eval_every");
    long checkpointEvery = s.getLong("checkpoint_every");
    long start = checkpoint == null ? 0 : checkpoint.step();

    SlingshotDetector detector = Experiment.detector(s);
    SlingshotMonitor.Builder monitorBuilder =
        SlingshotMonitor.builder()
            .rule(detector)
            .resetPolicy(resetPolicy(s))
            .probeSchedule(probeSchedule(s));
    if (s.keys().contains("probe_dense") && s.getLong("probe_dense") > 0) {
      // the norm-phase changes that the dense probe schedule reacts to
      monitorBuilder.rule(new NormTracker());
    }
    SlingshotMonitor monitor = monitorBuilder.build();
    if (checkpoint != null) {
      // The detector's and the reset policy's state: replay the records up to the checkpoint
      // (truncated to it already) into the fresh monitor before the run log subscribes, so no
      // event is written twice. A reset these records asked for is already in the optimizer state.
      for (StepRecord r : RunLog.readRecords(dir.resolve(RunLog.METRICS_FILE))) {
        monitor.observe(r);
      }
    }

    // The adapter measures every step (loss, last-layer norm, update norm) and executes the reset
    // policy; the evaluations join the same step's record through the record enricher, which runs
    // at the end of trainer.step(), after the update, as the hand-rolled loop evaluated.
    Optimizer optimizer = optimizer(s);
    Trainer[] trainerRef = new Trainer[1];
    SlingshotOptions options =
        HandLoop.evaluatedOptions(
                monitor,
                evalEvery,
                steps,
                (r, step) -> {
                  Trainer t = trainerRef[0];
                  Eval tr = evaluate(t, t.getManager(), data.train(), loss);
                  Eval te = evaluate(t, t.getManager(), data.test(), loss);
                  r.fullTrainLoss(tr.loss).trainAccuracy(tr.accuracy);
                  r.testLoss(te.loss).testAccuracy(te.accuracy);
                })
            .firstStep(start + 1)
            .build();
    dev.slingshot.djl.Slingshot slingshot =
        dev.slingshot.djl.Slingshot.attach(
            new DefaultTrainingConfig(loss).optOptimizer(optimizer), options);

    Instant started = Instant.now();
    long done = start;
    try (Model model = Model.newInstance(experiment.id(), engine.defaultDevice(), "PyTorch")) {
      model.setBlock(block);
      if (checkpoint != null) {
        TrainingCheckpoint.loadParameters(checkpoint, block, model.getNDManager());
      }
      try (Trainer trainer = model.newTrainer(slingshot.config())) {
        trainerRef[0] = trainer;
        trainer.initialize(new Shape(batch, n));
        Map<String, Parameter> named = new LinkedHashMap<>();
        block.getParameters().forEach(p -> named.put(p.getKey(), p.getValue()));
        List<Parameter> params = new ArrayList<>(named.values());
        if (checkpoint == null) {
          writeConfig(dir, experiment, s, trainer, params, loss);
        } else {
          TrainingCheckpoint.restoreOptimizer(checkpoint, optimizer, named);
          // DJL's Trainer refuses a first step whose gradients are all zero (a check for a missing
          // backward). A resumed hinge-loss run is often inside a zero-loss basin, where they are.
          TrainingCheckpoint.skipFirstStepGradientCheck(trainer);
        }
        NDManager manager = trainer.getManager();
        SplittableRandom shuffle = new SplittableRandom(seed ^ SHUFFLE_SALT);
        int perEpoch = data.train().size / batch;
        // The data order is a function of (seed, step): draw the permutations of the epochs that
        // began before the checkpoint (none for a fresh run), and stand where the run stood.
        long drawn = start / perEpoch + (start % perEpoch == 0 ? 0 : 1);
        int[] perm = null;
        for (long e = 0; e < drawn; e++) {
          perm = permutation(data.train().size, shuffle);
        }
        int pos = start % perEpoch == 0 ? perEpoch : (int) (start % perEpoch);
        float[] xb = new float[batch * n];
        try (RunLog log = checkpoint == null ? RunLog.create(dir) : RunLog.append(dir)) {
          monitor.onRecord(log::record);
          monitor.onEvent(log::event);
          for (long step = start + 1; step <= steps; step++) {
            if (perm == null || pos >= perEpoch) {
              perm = permutation(data.train().size, shuffle);
              pos = 0;
            }
            try (NDManager sub = manager.newSubManager()) {
              NDArray x = batchInputs(sub, data.train(), perm, pos, batch, xb);
              NDArray y = batchTargets(sub, data.train(), perm, pos, batch, loss.isHinge());
              pos++;
              HandLoop.step(trainer, sub, x, new NDList(y), batch, step, steps);
            }
            StepRecord r = slingshot.lastRecord();
            if (r == null || r.step() != step) {
              throw new IllegalStateException("the adapter recorded no record for step " + step);
            }
            done = step;
            if (checkpointEvery > 0 && step % checkpointEvery == 0) {
              TrainingCheckpoint.save(dir, step, block, optimizer, named);
            }
            progress.update(
                step,
                r.trainLoss(),
                r.norm(LAST_LAYER).orElse(Double.NaN),
                RunAnalysis.lateEpisodes(detector.episodes()));
          }
        }
      }
    } finally {
      progress.close();
    }
    Duration elapsed = Duration.between(started, Instant.now());
    writeResult(dir, done, done - start, elapsed);
    RunReport.write(dir);
    return new Result(
        done - start,
        elapsed,
        RunAnalysis.lateEpisodes(detector.episodes()),
        detector.intervals().size());
  }

  /** The reset policy a run's settings ask for (the {@code reset} key; never by default). */
  static StateResetPolicy resetPolicy(Settings s) {
    if (!s.keys().contains("reset")) {
      return StateResetPolicy.never();
    }
    return switch (s.getString("reset")) {
      case "episode_onset" -> StateResetPolicy.atEpisodeOnset(s.getLong("merge_gap"), true);
      case "periodic" -> StateResetPolicy.periodically(s.getLong("reset_every"));
      default -> StateResetPolicy.never();
    };
  }

  /**
   * The second-order probe schedule a run's settings ask for: {@code probe_every} N &gt; 0 probes
   * every N steps, {@code probe_dense} k &gt; 0 also every step for k steps after each norm-phase
   * change and slingshot interval start or end ({@link ProbeSchedule#denseNearTransitions}); never
   * by default. Each probe measures, at θ<sub>t</sub> on the training batch of step t + 1, the
   * update sharpness, λmax, Adam's effective step against 2/λmax and the preconditioned sharpness
   * (Thilak et al. App. A.6.1, Fig. 16; see {@code SlingshotOptions.Builder#probes}).
   */
  static ProbeSchedule probeSchedule(Settings s) {
    long every = s.keys().contains("probe_every") ? s.getLong("probe_every") : 0;
    long dense = s.keys().contains("probe_dense") ? s.getLong("probe_dense") : 0;
    ProbeSchedule base = every > 0 ? ProbeSchedule.everySteps(every) : ProbeSchedule.never();
    return dense > 0 ? ProbeSchedule.denseNearTransitions(base, dense) : base;
  }

  static int torchSeed(long seed) {
    return (int) (seed ^ (seed >>> 32)) & 0x7fffffff;
  }

  private static Optimizer optimizer(Settings s) {
    float lr = (float) s.getDouble("lr");
    float eps = (float) s.getDouble("eps");
    float b1 = (float) s.getDouble("beta1");
    float b2 = (float) s.getDouble("beta2");
    float wd = (float) s.getDouble("weight_decay");
    if (s.getString("optimizer").equals("adamw")) {
      return Optimizer.adamW()
          .optLearningRateTracker(Tracker.fixed(lr))
          .optBeta1(b1)
          .optBeta2(b2)
          .optEpsilon(eps)
          .optWeightDecays(wd)
          .build();
    }
    return Optimizer.adam()
        .optLearningRateTracker(Tracker.fixed(lr))
        .optBeta1(b1)
        .optBeta2(b2)
        .optEpsilon(eps)
        .optWeightDecays(wd)
        .build();
  }

  /** A seeded Fisher-Yates permutation of 0..size-1. */
  static int[] permutation(int size, SplittableRandom random) {
    int[] p = new int[size];
    for (int i = 0; i < size; i++) {
      p[i] = i;
    }
    for (int i = size - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  private static NDArray batchInputs(
      NDManager m, ParityData d, int[] perm, int pos, int batch, float[] buf) {
    for (int b = 0; b < batch; b++) {
      System.arraycopy(d.x, perm[pos * batch + b] * d.n, buf, b * d.n, d.n);
    }
    return m.create(buf, new Shape(batch, d.n));
  }

  private static NDArray batchTargets(
      NDManager m, ParityData d, int[] perm, int pos, int batch, boolean hinge) {
    if (hinge) {
      float[] y = new float[batch];
      for (int b = 0; b < batch; b++) {
        y[b] = d.sign[perm[pos * batch + b]];
      }
      return m.create(y);
    }
    long[] y = new long[batch];
    for (int b = 0; b < batch; b++) {
      y[b] = d.label[perm[pos * batch + b]];
    }
    return m.create(y);
  }

  private record Eval(double loss, double accuracy) {}

  private static Eval evaluate(Trainer trainer, NDManager manager, ParityData d, ParityLoss loss) {
    try (NDManager sub = manager.newSubManager()) {
      NDArray x = sub.create(d.x, new Shape(d.size, d.n));
      NDArray y = loss.isHinge() ? sub.create(d.sign) : sub.create(d.label);
      NDList pred = trainer.evaluate(new NDList(x));
      double l = loss.evaluate(new NDList(y), pred).getFloat();
      double a = loss.accuracy(y, pred.singletonOrThrow()).getFloat();
      return new Eval(l, a);
    }
  }

  private static void writeConfig(
      Path dir, Experiment e, Settings s, Trainer trainer, List<Parameter> params, ParityLoss loss)
      throws IOException {
    Map<String, Object> c = RunFiles.configHead(e, s);
    Map<String, Object> seeds = new LinkedHashMap<>();
    seeds.put("data", "java.util.SplittableRandom(seed): train set, then test set");
    seeds.put("shuffle", "java.util.SplittableRandom(seed ^ 0x5DEECE66D), Fisher-Yates per epoch");
    seeds.put("init", "libtorch manual_seed " + torchSeed(s.getLong("seed")));
    c.put("random", seeds);
    c.put(
        "data",
        "k-sparse parity: x uniform in {-1,+1}^n; label = parity of coordinates 0..k-1"
            + " (class 1 iff x_0*...*x_{k-1} = +1; hinge target y = that product)");
    c.put(
        "minibatches",
        "train set reshuffled each epoch, cut into floor(train_size/batch) batches, the rest"
            + " dropped");
    List<String> shapes = new ArrayList<>();
    long count = 0;
    for (Parameter p : params) {
      shapes.add(p.getName() + " " + p.getArray().getShape());
      count += p.getArray().getShape().size();
    }
    c.put("model", "MLP " + modelString(s, loss) + ", ReLU, PyTorch nn.Linear default init");
    c.put("parameters", count);
    c.put("parameter_shapes", shapes);
    c.put("loss", loss.isHinge() ? "hinge max(0, 1 - y*f(x)), mean" : "cross-entropy, mean");
    c.put("optimizer", optimizerString(s));
    c.put("probes", probeSchedule(s).describe());
    c.put(
        "optimizer_semantics",
        "DJL "
            + (s.getString("optimizer").equals("adamw") ? "AdamW" : "Adam")
            + ": w -= lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v)+eps), eps added to the"
            + " uncorrected sqrt(v) (PyTorch adds it to sqrt(v/(1-b2^t)));"
            + (s.getString("optimizer").equals("adamw")
                ? " decoupled weight decay w -= lr*wd*w before the moments"
                : " weight decay added to the gradient (L2)"));
    RunFiles.putEnvironment(c, trainer);
    c.put(
        "records",
        "metrics.jsonl: one record per step; train_loss is the minibatch loss before the"
            + " update; norms.last_layer and update_norm are measured after it; full_train_loss,"
            + " train_acc, test_loss, test_acc every eval_every steps (and at the last step),"
            + " after that step's update");
    RunFiles.writeJson(dir.resolve(CONFIG_FILE), c);
  }

  static String modelString(Settings s, ParityLoss loss) {
    StringBuilder b = new StringBuilder().append(s.getInt("n"));
    for (int h : s.getIntList("hidden")) {
      b.append('-').append(h);
    }
    return b.append('-').append(loss.outputs()).toString();
  }

  static String optimizerString(Settings s) {
    return (s.getString("optimizer").equals("adamw") ? "AdamW" : "Adam")
        + "(lr "
        + s.getDouble("lr")
        + ", betas ("
        + s.getDouble("beta1")
        + ", "
        + s.getDouble("beta2")
        + "), eps "
        + s.getDouble("eps")
        + ", weight decay "
        + s.getDouble("weight_decay")
        + "), batch "
        + s.getInt("batch");
  }

  static void writeResult(Path dir, long steps, long thisSession, Duration elapsed) {
    try {
      Map<String, Object> c = RunFiles.readJsonMap(dir.resolve(CONFIG_FILE));
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("steps_completed", steps);
      r.put("wall_seconds", elapsed.toMillis() / 1000.0);
      r.put("ms_per_step", thisSession == 0 ? 0 : elapsed.toNanos() / 1e6 / thisSession);
      r.put("finished", Instant.now().toString());
      c.put("result", r);
      RunFiles.writeJson(dir.resolve(CONFIG_FILE), c);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String version() {
    String v = ParityTraining.class.getPackage().getImplementationVersion();
    return v == null ? "development build" : v;
  }
}
