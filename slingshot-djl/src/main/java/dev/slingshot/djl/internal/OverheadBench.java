package dev.slingshot.djl.internal;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.TrainingConfig;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.TranslateException;
import dev.slingshot.core.Lanczos;
import dev.slingshot.core.ProbeSchedule;
import dev.slingshot.djl.ProbeMeasurement;
import dev.slingshot.djl.ProbeQuantity;
import dev.slingshot.djl.Slingshot;
import dev.slingshot.djl.SlingshotOptions;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Internal, not API: the cheap-tier overhead benchmark behind {@code ./slingshot bench overhead}.
 * One process trains two identical models, one plain and one instrumented with {@link
 * Slingshot#attach}, alternating chunks of steps (and which goes first) so that both see the same
 * machine state; the ratio is instrumented time over plain time for the same number of steps. Run
 * with {@code -Dai.djl.pytorch.num_threads=1} for the MLP.
 */
public final class OverheadBench {

  private OverheadBench() {}

  /**
   * The figures of one run.
   *
   * @param plainMsPerStep median over chunks of the plain run's milliseconds per step
   * @param instrumentedMsPerStep the same for the instrumented run
   * @param ratio total instrumented time over total plain time
   * @param medianChunkRatio the median over chunks of the per-chunk ratio
   * @param probes the second-order probes that ran in the timed chunks
   * @param probe their means over the timed chunks (all NaN without probes)
   */
  public record Result(
      double plainMsPerStep,
      double instrumentedMsPerStep,
      double ratio,
      double medianChunkRatio,
      long probes,
      ProbeMeans probe) {}

  /**
   * Means over the second-order probes of a comparison's timed chunks: what a probe cost, and the
   * Hessian-vector products that decide it. The MLP comparisons train a fixed workload (seeded data
   * and models, a warm-up of 15,000 steps with no time limit), so two of their runs on one machine
   * take the same products and differ only in how fast the machine ran them.
   *
   * @param millis the probe's wall-clock milliseconds ({@link
   *     dev.slingshot.djl.ProbeMeasurement#millis})
   * @param lambdaIterations the Lanczos iterations of λmax (one product each)
   * @param preconditionedIterations the Lanczos iterations of the preconditioned sharpness
   */
  public record ProbeMeans(
      double millis, double lambdaIterations, double preconditionedIterations) {

    static final ProbeMeans NONE = new ProbeMeans(Double.NaN, Double.NaN, Double.NaN);
  }

  /**
   * The cheap-tier overhead on the MLP: 40-128-2, ReLU, batch 32, AdamW, softmax cross
   * entropy, on the CPU.
   *
   * @param chunkSteps steps per timed chunk
   * @param chunks how many chunk pairs (plain and instrumented) to time
   */
  public static Result mlp(int chunkSteps, int chunks) {
    return mlp(chunkSteps, chunks, SlingshotOptions.ofDefaults());
  }

  /** The probe interval of {@link #probe16Mlp}: every second-order probe every 16 steps. */
  public static final int PROBE_EVERY = 16;

  /**
   * The probe-tier overhead on the same MLP ({@link #mlp(int, int)}): the instrumented run has the
   * default cheap tier plus every second-order probe ({@link dev.slingshot.djl.ProbeQuantity}:
   * update sharpness, λmax, effective step size, preconditioned sharpness) every {@value
   * #PROBE_EVERY} steps on the current batch, with the default Lanczos settings. Use a chunk length
   * that is a multiple of {@value #PROBE_EVERY} so every chunk holds the same number of probes.
   *
   * @param chunkSteps steps per timed chunk
   * @param chunks how many chunk pairs (plain and instrumented) to time
   */
  public static Result probe16Mlp(int chunkSteps, int chunks) {
    return mlp(chunkSteps, chunks, probe16Options());
  }

  /**
   * {@code overhead_probe16_mlp_ratio}: instrumented-with-probes time over plain time for the same
   * steps, interleaved in this process ({@link #probe16Mlp}, total time ratio).
   *
   * @param steps steps per timed chunk (a multiple of {@value #PROBE_EVERY} is best)
   * @param rounds how many chunk pairs to time
   */
  public static double probe16MlpRatio(int steps, int rounds) {
    return probe16Mlp(steps, rounds).ratio();
  }

  /**
   * The options of the probe tier: the default cheap tier plus every second-order probe every
   * {@value #PROBE_EVERY} steps on the current batch, default Lanczos settings.
   */
  public static SlingshotOptions probe16Options() {
    return probe16Builder().build();
  }

  /** {@link #probe16Options}, still open to more settings. */
  static SlingshotOptions.Builder probe16Builder() {
    return SlingshotOptions.custom().probes(ProbeSchedule.everySteps(PROBE_EVERY));
  }

  /** {@link #mlp(int, int)} with the given options for the instrumented run. */
  public static Result mlp(int chunkSteps, int chunks, SlingshotOptions options) {
    return mlp(chunkSteps, chunks, options, 0).result();
  }

  /**
   * The MLP comparison ({@link #compare}), each timed step timed on its own when {@code period >
   * 0}.
   */
  private static Timed mlp(int chunkSteps, int chunks, SlingshotOptions options, int period) {
    try (NDManager manager = NDManager.newBaseManager()) {
      ArrayDataset data = mlpData(manager, 40, 2, 32);
      return compare(
          () -> mlpBlock(128, 2),
          new Shape(1, 40),
          data,
          OverheadBench::config,
          options,
          chunkSteps,
          chunks,
          period);
    }
  }

  /**
   * Native memory growth per whole probe, in bytes: the MLP of {@link #mlp(int, int)} trained with
   * every second-order probe at every step (on the current batch), native resident memory ({@link
   * HvpBench#nativeBytes}) read at 11 checkpoints over {@code probes} probes after 200 warm-up
   * steps; the Theil-Sen slope. Covers what {@code probe_native_growth_bytes_per_call} does not:
   * the gradient graph, the TorchScript values made from it and the fused Lanczos of each probe.
   *
   * @throws IllegalStateException if a probe failed or fewer probes ran than asked
   */
  public static double probeNativeGrowthBytesPerProbe(int probes) {
    return probeNativeGrowth(probes).slope();
  }

  static HvpBench.Growth probeNativeGrowth(int probes) {
    try (NDManager manager = NDManager.newBaseManager();
        Model model = Model.newInstance("bench-probe-memory")) {
      ArrayDataset data = mlpData(manager, 40, 2, 32);
      model.setBlock(mlpBlock(128, 2));
      Slingshot slingshot =
          Slingshot.attach(
              config(), SlingshotOptions.custom().probes(ProbeSchedule.everySteps(1)).build());
      try (Trainer trainer = trainer(model, slingshot.config(), new Shape(1, 40))) {
        Loop loop = new Loop(trainer, data);
        loop.run(200);
        long first = slingshot.probeRuns();
        int checkpoints = 11;
        long[] at = new long[checkpoints];
        double[] bytes = new double[checkpoints];
        int done = 0;
        for (int c = 0; c < checkpoints; c++) {
          int target = probes * c / (checkpoints - 1);
          loop.run(target - done);
          done = target;
          at[c] = done;
          bytes[c] = HvpBench.nativeBytes();
        }
        if (slingshot.internalFailures() > 0 || slingshot.probeRuns() - first < probes) {
          throw new IllegalStateException(
              (slingshot.probeRuns() - first)
                  + " probes ran of "
                  + probes
                  + ", "
                  + slingshot.internalFailures()
                  + " internal failures");
        }
        return new HvpBench.Growth(at, bytes);
      }
    }
  }

  /**
   * The plain (uninstrumented) MLP of {@link #mlp(int, int)} alone, trained {@code steps} steps:
   * its µs per step over each whole block of {@code block} steps, in order (a last partial block is
   * not timed). Shows how the plain step's speed moves within one JVM (see the README's
   * Benchmarks).
   *
   * @throws IllegalArgumentException if {@code block} is not positive or exceeds {@code steps}
   */
  public static long[] plainBlocks(int steps, int block) {
    if (block <= 0 || block > steps) {
      throw new IllegalArgumentException(
          "block must be between 1 and steps (" + steps + "), was " + block);
    }
    try (NDManager manager = NDManager.newBaseManager();
        Model model = Model.newInstance("bench-plain-blocks")) {
      ArrayDataset data = mlpData(manager, 40, 2, 32);
      model.setBlock(mlpBlock(128, 2));
      try (Trainer trainer = trainer(model, config(), new Shape(1, 40))) {
        Loop loop = new Loop(trainer, data);
        long[] micros = new long[steps / block];
        for (int b = 0; b < micros.length; b++) {
          micros[b] = Math.round(loop.run(block) / block * 1e6);
        }
        return micros;
      }
    }
  }

  /**
   * The overhead of {@link Slingshot#attach} on any model: two identical models (same seed) train
   * on {@code data}, one plain and one instrumented, alternating timed chunks of {@code chunkSteps}
   * steps (and which goes first); the ratio is instrumented over plain time for the same steps.
   *
   * @param block makes a fresh, uninitialised block (called twice)
   * @param inputShape the shape to initialise the block with
   * @param config makes the training config (called twice; the optimizer must be fresh)
   */
  public static Result compare(
      Supplier<Block> block,
      Shape inputShape,
      ArrayDataset data,
      Supplier<TrainingConfig> config,
      SlingshotOptions options,
      int chunkSteps,
      int chunks) {
    return compare(block, inputShape, data, config, options, chunkSteps, chunks, 0).result();
  }

  /**
   * Where the instrumented MLP's extra time goes within the cycle of its tiers: the instrumented
   * step's mean µs at each position of a cycle of {@code period} steps, beside the plain step's
   * mean µs, from one {@link #mlp(int, int, SlingshotOptions)} comparison with every timed step
   * timed on its own. Position {@code p} holds the steps {@code t} (counted from 1) with {@code (t
   * - 1) % period == p}: with {@link #probe16Options()} and a period of {@value #PROBE_EVERY}, the
   * probe of step {@code 16k} runs in the next batch's callback, at position 0; with the default
   * options and a period of 10, the norms are measured at position 9. The cycle's overhead is the
   * sum over its positions less {@code period} plain steps.
   *
   * @param instrumentedMicros the instrumented step's mean µs at each position
   * @param plainMicros the plain step's mean µs over the same timed chunks
   */
  public record Cycle(double[] instrumentedMicros, double plainMicros) {

    /** The instrumented run's extra µs over one whole cycle. */
    public double overheadMicros() {
      return Arrays.stream(instrumentedMicros).sum() - instrumentedMicros.length * plainMicros;
    }
  }

  /**
   * {@link Cycle} of the MLP comparison with {@code options}; see there.
   *
   * @throws IllegalArgumentException if {@code period} is not positive or {@code chunkSteps} is not
   *     a multiple of it (every position must be timed as often)
   */
  public static Cycle mlpCycle(SlingshotOptions options, int period, int chunkSteps, int chunks) {
    if (period <= 0 || chunkSteps % period != 0) {
      throw new IllegalArgumentException(
          "the period must be positive and divide the chunk's "
              + chunkSteps
              + " steps, was "
              + period);
    }
    return mlp(chunkSteps, chunks, options, period).cycle();
  }

  /** A comparison's figures, and its {@link Cycle} when asked for (else null). */
  private record Timed(Result result, Cycle cycle) {}

  /** {@link #compare}, with each timed step timed on its own when {@code period} is positive. */
  private static Timed compare(
      Supplier<Block> block,
      Shape inputShape,
      ArrayDataset data,
      Supplier<TrainingConfig> config,
      SlingshotOptions options,
      int chunkSteps,
      int chunks,
      int period) {
    try (Model plainModel = Model.newInstance("bench-plain");
        Model instModel = Model.newInstance("bench-instrumented")) {
      plainModel.setBlock(block.get());
      instModel.setBlock(block.get());
      Slingshot slingshot = Slingshot.attach(config.get(), options);
      // Sums over the timed chunks' probes: count, ms, λmax and preconditioned iterations.
      double[] probes = new double[4];
      boolean[] timing = new boolean[1];
      slingshot.onEvent(
          e -> {
            if (timing[0] && e instanceof ProbeMeasurement m) {
              probes[0]++;
              probes[1] += m.millis();
              probes[2] += m.value(ProbeMeasurement.LAMBDA_ITERATIONS).orElse(Double.NaN);
              probes[3] += m.preconditionedIterations();
            }
          });
      try (Trainer plain = trainer(plainModel, config.get(), inputShape);
          Trainer inst = trainer(instModel, slingshot.config(), inputShape)) {
        Loop p = new Loop(plain, data);
        Loop q = new Loop(inst, data);
        warmUp(p, q, chunkSteps, (long) chunkSteps * chunks);
        timing[0] = true;
        if (period > 0) {
          p.timeEachStep(period);
          q.timeEachStep(period);
        }
        double[] pt = new double[chunks];
        double[] qt = new double[chunks];
        double[] ratios = new double[chunks];
        double sumP = 0;
        double sumQ = 0;
        for (int c = 0; c < chunks; c++) {
          if (c % 2 == 0) {
            pt[c] = p.run(chunkSteps);
            qt[c] = q.run(chunkSteps);
          } else {
            qt[c] = q.run(chunkSteps);
            pt[c] = p.run(chunkSteps);
          }
          sumP += pt[c];
          sumQ += qt[c];
          ratios[c] = qt[c] / pt[c];
        }
        if (slingshot.internalFailures() > 0) {
          throw new IllegalStateException("diagnostics failed during the benchmark");
        }
        timing[0] = false;
        long n = (long) probes[0];
        Result result =
            new Result(
                median(pt) / chunkSteps * 1e3,
                median(qt) / chunkSteps * 1e3,
                sumQ / sumP,
                median(ratios),
                n,
                n == 0
                    ? ProbeMeans.NONE
                    : new ProbeMeans(probes[1] / n, probes[2] / n, probes[3] / n));
        return new Timed(
            result,
            period > 0
                ? new Cycle(q.meanMicros(), Arrays.stream(p.meanMicros()).average().orElseThrow())
                : null);
      }
    }
  }

  /**
   * Untimed warm-up of a full benchmark (at least {@value #FULL_WARMUP_FROM} timed steps): {@value
   * #WARMUP_STEPS} steps of each loop, however long they take, so that the timed chunks always
   * train the same stretch of the same run: the probes' iteration counts, and with them the probe
   * tier's cost, change along training, and a warm-up capped in seconds (20 s until now) ended
   * earlier in training on a slower run. DJL's own training step reaches its steady speed only
   * after about 12,500 steps: on the 2-core CPU the plain 40-128-2 MLP step took 368-396 µs per
   * step before and 229-286 µs after, in three runs ({@link #plainBlocks}, one PyTorch thread).
   * Until then its Java garbage fills the young generation for the first time, and on that virtual
   * machine the first write to a page costs about 12.5 µs; with {@code -XX:+AlwaysPreTouch} the
   * step is at speed from its third block (see the README's Benchmarks). A ratio taken before that
   * divides by a step that no long training run sees.
   */
  static final int WARMUP_STEPS = 15_000;

  /** Timed steps from which a comparison is a full benchmark, with the full warm-up. */
  static final int FULL_WARMUP_FROM = 1_000;

  /** Warm-up of shorter comparisons (smoke tests, the CPU transformer): steps, or seconds. */
  static final int SHORT_WARMUP_STEPS = 2_000;

  static final double SHORT_WARMUP_SECONDS = 3;

  /**
   * Runs both loops untimed, alternating chunks (at least one chunk each): {@link #WARMUP_STEPS}
   * steps before a full benchmark of {@code timedSteps} steps; before a shorter one, {@link
   * #SHORT_WARMUP_STEPS} steps or {@link #SHORT_WARMUP_SECONDS} s, whichever comes first (a
   * transformer step takes tens of milliseconds on the CPU). The instrumented loop's measured-step
   * code runs once every {@code measureEvery} steps, so the JIT compiles it ten times later than
   * the per-step code.
   */
  private static void warmUp(Loop p, Loop q, int chunkSteps, long timedSteps) {
    boolean full = timedSteps >= FULL_WARMUP_FROM;
    int target = full ? WARMUP_STEPS : SHORT_WARMUP_STEPS;
    double seconds = full ? Double.POSITIVE_INFINITY : SHORT_WARMUP_SECONDS;
    long start = System.nanoTime();
    int steps = 0;
    do {
      p.run(chunkSteps);
      q.run(chunkSteps);
      steps += chunkSteps;
    } while (steps < target && (System.nanoTime() - start) / 1e9 < seconds);
  }

  /**
   * The probes along the probe16 benchmark's training run with {@code options} for the probes: the
   * instrumented MLP of {@link #probe16Mlp} on its own (the same data, seeds and optimizer, no
   * plain twin, nothing timed), trained {@code warmUp} steps and then {@code steps} more; the probe
   * measurements of those last steps, in order. The probes leave training untouched, so runs with
   * other Lanczos settings see the same parameters at the same steps.
   */
  static List<ProbeMeasurement> probe16Run(SlingshotOptions options, int warmUp, int steps) {
    try (NDManager manager = NDManager.newBaseManager();
        Model model = Model.newInstance("bench-probe-values")) {
      ArrayDataset data = mlpData(manager, 40, 2, 32);
      model.setBlock(mlpBlock(128, 2));
      Slingshot slingshot = Slingshot.attach(config(), options);
      List<ProbeMeasurement> seen = new ArrayList<>();
      slingshot.onEvent(
          e -> {
            if (e instanceof ProbeMeasurement m
                && m.step() > warmUp
                && m.step() <= warmUp + steps) {
              seen.add(m);
            }
          });
      try (Trainer trainer = trainer(model, slingshot.config(), new Shape(1, 40))) {
        // One step more: a probe due at the last step runs at the next batch.
        new Loop(trainer, data).run(warmUp + steps + 1);
      }
      if (slingshot.internalFailures() > 0) {
        throw new IllegalStateException("diagnostics failed during the run");
      }
      return seen;
    }
  }

  /**
   * How far one probe value of a run lies from a reference run's, probe by probe: relative errors
   * |x − ref|/|ref|, and the mean Lanczos iterations the run took for it.
   *
   * @param higher probes whose value lies above the reference's (a Ritz value is at most λmax in
   *     exact arithmetic: a value above a converged reference is rounding)
   * @param identical probes whose value equals the reference's bit for bit
   */
  record Agreement(
      int probes,
      double meanIterations,
      double medianError,
      double maxError,
      int aboveOnePerMille,
      int higher,
      int identical) {

    static Agreement of(
        List<ProbeMeasurement> run,
        List<ProbeMeasurement> reference,
        String key,
        ToDoubleFunction<ProbeMeasurement> iterations) {
      if (run.size() != reference.size()) {
        throw new IllegalStateException(
            run.size() + " probes against " + reference.size() + " in the reference run");
      }
      int n = run.size();
      double[] errors = new double[n];
      double sumIterations = 0;
      int above = 0;
      int higher = 0;
      int identical = 0;
      for (int i = 0; i < n; i++) {
        ProbeMeasurement m = run.get(i);
        ProbeMeasurement r = reference.get(i);
        if (m.step() != r.step()) {
          throw new IllegalStateException("probe at step " + m.step() + " against " + r.step());
        }
        double x = m.value(key).orElse(Double.NaN);
        double ref = r.value(key).orElse(Double.NaN);
        errors[i] = Math.abs(x - ref) / Math.abs(ref);
        above += errors[i] > 1e-3 ? 1 : 0;
        higher += x > ref ? 1 : 0;
        identical += x == ref ? 1 : 0;
        sumIterations += iterations.applyAsDouble(m);
      }
      return new Agreement(
          n,
          sumIterations / n,
          median(errors),
          Arrays.stream(errors).max().orElse(Double.NaN),
          above,
          higher,
          identical);
    }

    @Override
    public String toString() {
      return String.format(
          "%d probes, %.2f iterations on average; relative error against the reference: median"
              + " %.2g, max %.2g, %d above 1e-3; %d values above the reference's",
          probes, meanIterations, medianError, maxError, aboveOnePerMille, higher);
    }
  }

  /**
   * Prints how the default tolerances compare with tighter ones along the probe16 benchmark's run
   * ({@link #probe16Run}, {@value #WARMUP_STEPS} steps then {@code steps}): λmax at its default
   * tolerance, and the preconditioned sharpness at its default ({@value
   * SlingshotOptions#DEFAULT_PRECONDITIONED_TOLERANCE}) and at λmax's (1e-3), each against a
   * reference run with both at 1e-6. The update sharpness, one product along the update whatever
   * the settings, shows whether the runs trained the same parameters.
   */
  static void printAccuracy(int warmUp, int steps) {
    SlingshotOptions defaults = probe16Options();
    Lanczos tight = Lanczos.custom().tolerance(1e-6).maxIterations(300).build();
    List<ProbeMeasurement> run = probe16Run(defaults, warmUp, steps);
    List<ProbeMeasurement> oneTolerance =
        probe16Run(
            probe16Builder().preconditionedLanczos(defaults.lanczos()).build(), warmUp, steps);
    List<ProbeMeasurement> reference =
        probe16Run(
            probe16Builder().lanczos(tight).preconditionedLanczos(tight).build(), warmUp, steps);
    ToDoubleFunction<ProbeMeasurement> lambdaIterations =
        m -> m.value(ProbeMeasurement.LAMBDA_ITERATIONS).orElse(Double.NaN);
    ToDoubleFunction<ProbeMeasurement> preIterations = ProbeMeasurement::preconditionedIterations;
    String lambda = ProbeMeasurement.LAMBDA_MAX;
    String pre = ProbeMeasurement.PRECONDITIONED_SHARPNESS;
    System.out.printf(
        "probe16 MLP after %d steps, %d more steps; reference: tolerance 1e-6 for both%n",
        warmUp, steps);
    System.out.printf(
        "λmax, tolerance %.0e: %s; identical in the run with the preconditioned sharpness at"
            + " %.0e: %d of %d%n",
        defaults.lanczos().tolerance(),
        Agreement.of(run, reference, lambda, lambdaIterations),
        defaults.lanczos().tolerance(),
        Agreement.of(oneTolerance, run, lambda, lambdaIterations).identical(),
        run.size());
    System.out.printf(
        "preconditioned sharpness, tolerance %.0e (default): %s%n",
        defaults.preconditionedLanczos().tolerance(),
        Agreement.of(run, reference, pre, preIterations));
    System.out.printf(
        "preconditioned sharpness, tolerance %.0e: %s%n",
        defaults.lanczos().tolerance(), Agreement.of(oneTolerance, reference, pre, preIterations));
    // The update sharpness is one product along the update, whatever the Lanczos settings: equal
    // bit for bit only if the runs trained the same parameters.
    System.out.printf(
        "reference: %.2f λmax and %.2f preconditioned iterations on average; update sharpness"
            + " identical to the default run's: %d of %d%n",
        reference.stream().mapToDouble(lambdaIterations).average().orElse(Double.NaN),
        reference.stream().mapToDouble(preIterations).average().orElse(Double.NaN),
        Agreement.of(run, reference, ProbeMeasurement.UPDATE_SHARPNESS, preIterations).identical(),
        run.size());
  }

  /** The engine's random seed for {@link #mlpData}. */
  static final int DATA_SEED = 1;

  /**
   * 16 batches of random inputs and class labels for the benchmark MLP, the same in every run:
   * drawn after seeding the engine with {@value #DATA_SEED}. Unseeded, every run trained on other
   * data, and its probes took other numbers of products: 4.0 to 7.0 preconditioned Lanczos
   * iterations a probe, on average, in three runs of {@code OverheadBench probe16} on the 2-core
   * CPU, and the probe ratio read 1.98 at 4.0 and 2.13-2.17 at 6.5-7.0.
   */
  public static ArrayDataset mlpData(NDManager manager, int in, int out, int batch) {
    Engine.getInstance().setRandomSeed(DATA_SEED);
    return new ArrayDataset.Builder()
        .setData(manager.randomNormal(new Shape(batch * 16L, in)))
        .optLabels(
            manager.randomInteger(
                0, out, new Shape(batch * 16L), ai.djl.ndarray.types.DataType.FLOAT32))
        .setSampling(batch, false)
        .build();
  }

  private static TrainingConfig config() {
    return new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
        .optOptimizer(
            Optimizer.adamW()
                .optLearningRateTracker(Tracker.fixed(1e-3f))
                .optWeightDecays(0.01f)
                .build());
  }

  private static Block mlpBlock(int hidden, int out) {
    return new SequentialBlock()
        .add(Linear.builder().setUnits(hidden).build())
        .add(Activation::relu)
        .add(Linear.builder().setUnits(out).build());
  }

  private static Trainer trainer(Model model, TrainingConfig config, Shape inputShape) {
    Engine.getInstance().setRandomSeed(1);
    Trainer trainer = model.newTrainer(config);
    trainer.initialize(inputShape);
    return trainer;
  }

  private static double median(double[] xs) {
    double[] s = xs.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }

  /** Trains in an endless loop over the dataset, timing chunks of steps. */
  private static final class Loop {
    private final Trainer trainer;
    private final ArrayDataset data;
    private Iterator<Batch> it;
    private long count;
    private long[] nanos;
    private long[] timed;

    Loop(Trainer trainer, ArrayDataset data) {
      this.trainer = trainer;
      this.data = data;
    }

    /** From now on, times each step on its own, summed by position in a cycle of {@code period}. */
    void timeEachStep(int period) {
      nanos = new long[period];
      timed = new long[period];
    }

    /** The mean µs per step at each position of the cycle ({@link #timeEachStep}). */
    double[] meanMicros() {
      double[] mean = new double[nanos.length];
      for (int i = 0; i < mean.length; i++) {
        mean[i] = nanos[i] / 1e3 / timed[i];
      }
      return mean;
    }

    /**
     * Trains {@code steps} steps and returns the seconds taken, up to the end of the device's work
     * ({@link DeviceSync}: on a GPU the plain loop reads nothing back and would otherwise leave its
     * queued work to the next timed chunk).
     */
    double run(int steps) {
      long t0 = System.nanoTime();
      for (int i = 0; i < steps; i++) {
        long s0 = nanos != null ? System.nanoTime() : 0;
        Batch batch = next();
        EasyTrain.trainBatch(trainer, batch);
        trainer.step();
        batch.close();
        if (nanos != null) {
          // Each step's own time: on a GPU, without a sync per step, this is the host's side only.
          int at = (int) (count % nanos.length);
          nanos[at] += System.nanoTime() - s0;
          timed[at]++;
        }
        count++;
      }
      DeviceSync.await(trainer.getManager());
      return (System.nanoTime() - t0) / 1e9;
    }

    private Batch next() {
      try {
        if (it == null || !it.hasNext()) {
          it = trainer.iterateDataset(data).iterator();
        }
        return it.next();
      } catch (IOException | TranslateException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /**
   * Prints the MLP figures: {@code OverheadBench [chunkSteps] [chunks] [measureEvery]}, or {@code
   * OverheadBench probe16 [chunkSteps] [chunks]} for the probe tier, or {@code OverheadBench probes
   * EVERY all|QUANTITY[,QUANTITY...] [chunks]} for probes of those {@link ProbeQuantity quantities}
   * every EVERY steps (chunks of 10 × EVERY steps), or {@code OverheadBench growth [probes]} for
   * native memory over whole probes, checkpoint by checkpoint, or {@code OverheadBench blocks
   * [steps] [block]} for the plain MLP's speed block by block ({@link #plainBlocks}), or {@code
   * OverheadBench cycle [probe16|cheap] [chunkSteps] [chunks]} for the instrumented step's time by
   * position in its tiers' cycle ({@link #mlpCycle}), or {@code OverheadBench accuracy [steps]} for
   * the probes' default tolerances against tighter ones ({@link #printAccuracy}).
   */
  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("blocks")) {
      int steps = args.length > 1 ? Integer.parseInt(args[1]) : 50_000;
      int block = args.length > 2 ? Integer.parseInt(args[2]) : 2_500;
      StringBuilder line = new StringBuilder("plain MLP µs/step per " + block + "-step block:");
      for (long micros : plainBlocks(steps, block)) {
        line.append(' ').append(micros);
      }
      System.out.println(line);
      return;
    }
    if (args.length > 0 && args[0].equals("cycle")) {
      boolean probes = args.length < 2 || args[1].equals("probe16");
      if (!probes && !args[1].equals("cheap")) {
        throw new IllegalArgumentException("cycle takes probe16 or cheap, was " + args[1]);
      }
      int period = probes ? PROBE_EVERY : SlingshotOptions.ofDefaults().measureEvery();
      int steps = args.length > 2 ? Integer.parseInt(args[2]) : 160;
      int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 20;
      Cycle c =
          mlpCycle(
              probes ? probe16Options() : SlingshotOptions.ofDefaults(), period, steps, rounds);
      StringBuilder line =
          new StringBuilder(
              String.format(
                  "%s MLP, %d x %d steps; plain step %.1f µs; instrumented µs by position:",
                  probes ? "probe16" : "cheap", rounds, steps, c.plainMicros()));
      for (double micros : c.instrumentedMicros()) {
        line.append(String.format(" %.0f", micros));
      }
      line.append(
          String.format(
              "; overhead %.0f µs per %d steps (ratio %.3f)",
              c.overheadMicros(), period, 1 + c.overheadMicros() / (period * c.plainMicros())));
      System.out.println(line);
      return;
    }
    if (args.length > 0 && args[0].equals("accuracy")) {
      printAccuracy(WARMUP_STEPS, args.length > 1 ? Integer.parseInt(args[1]) : 3200);
      return;
    }
    if (args.length > 0 && args[0].equals("growth")) {
      probeNativeGrowth(args.length > 1 ? Integer.parseInt(args[1]) : 2_000)
          .print("probes", "probe_full_native_growth_bytes_per_probe");
      return;
    }
    if (args.length > 0 && args[0].equals("probe16")) {
      int steps = args.length > 1 ? Integer.parseInt(args[1]) : 160;
      int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
      printProbes("overhead_probe16_mlp_ratio", probe16Mlp(steps, rounds), rounds, steps);
      return;
    }
    if (args.length > 0 && args[0].equals("probes")) {
      if (args.length < 3) {
        throw new IllegalArgumentException(
            "usage: OverheadBench probes EVERY all|QUANTITY[,QUANTITY...] [chunks]");
      }
      int every = Integer.parseInt(args[1]);
      int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 20;
      SlingshotOptions.Builder b =
          SlingshotOptions.custom().probes(ProbeSchedule.everySteps(every));
      if (!args[2].equals("all")) {
        b.probeQuantities(
            Arrays.stream(args[2].split(","))
                .map(OverheadBench::quantity)
                .toArray(ProbeQuantity[]::new));
      }
      int steps = 10 * every;
      printProbes(
          "probes every " + every + " (" + args[2] + ") MLP ratio",
          mlp(steps, rounds, b.build()),
          rounds,
          steps);
      return;
    }
    int chunkSteps = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    int chunks = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    int every = args.length > 2 ? Integer.parseInt(args[2]) : 1;
    Result r = mlp(chunkSteps, chunks, SlingshotOptions.custom().measureEvery(every).build());
    System.out.printf(
        "overhead_cheap_mlp_ratio %.4f (measureEvery %d; median chunk ratio %.4f; plain %.4f"
            + " ms/step, instrumented %.4f ms/step; %d x %d steps)%n",
        r.ratio(),
        every,
        r.medianChunkRatio(),
        r.plainMsPerStep(),
        r.instrumentedMsPerStep(),
        chunks,
        chunkSteps);
  }

  /** The quantity named {@code name} (any case). */
  static ProbeQuantity quantity(String name) {
    try {
      return ProbeQuantity.valueOf(name.trim().toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown probe quantity '"
              + name
              + "'; expected all or one or more of "
              + Arrays.toString(ProbeQuantity.values())
              + ", separated by commas",
          e);
    }
  }

  /** Prints a probe comparison's ratio and its probes' means. */
  private static void printProbes(String label, Result r, int rounds, int steps) {
    System.out.printf(
        "%s %.4f (median chunk ratio %.4f; plain %.4f ms/step, with probes %.4f ms/step; %d x %d"
            + " steps; %d probes: %.3f ms, %.2f λmax and %.2f preconditioned Lanczos iterations on"
            + " average)%n",
        label,
        r.ratio(),
        r.medianChunkRatio(),
        r.plainMsPerStep(),
        r.instrumentedMsPerStep(),
        rounds,
        steps,
        r.probes(),
        r.probe().millis(),
        r.probe().lambdaIterations(),
        r.probe().preconditionedIterations());
  }
}
