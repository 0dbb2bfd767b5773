package dev.slingshot.examples;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.listener.EvaluatorTrainingListener;
import ai.djl.training.loss.Loss;
import dev.slingshot.core.Lanczos;
import dev.slingshot.core.ProbeSchedule;
import dev.slingshot.djl.SlingshotOptions;
import dev.slingshot.djl.internal.HvpBench;
import dev.slingshot.djl.internal.OverheadBench;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The DJL benchmarks of {@code slingshot bench}, kept out of {@link BenchCommand} so that picocli
 * can inspect the commands without loading DJL (the {@code detect} command must never start it).
 */
final class DjlBench {

  private DjlBench() {}

  /** Offline, one PyTorch thread unless the user chose otherwise. */
  static void prepare() {
    System.setProperty("ai.djl.offline", "true");
    if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
      System.setProperty("ai.djl.pytorch.num_threads", "1");
    }
    Engine.getEngine("PyTorch");
  }

  /**
   * The overhead figures. The transformer's chunks are longer on a GPU (its steps take milliseconds
   * there, tens of milliseconds on the CPU); on the CPU the cheap tier takes 30 chunks of 10 steps
   * (10 chunks gave ratios ±3% apart between runs). Each figure is also printed to standard error
   * as soon as it is measured ({@code bench: NAME = VALUE}), so that a run stopped by a time limit
   * still leaves the figures it had.
   */
  static Map<String, Double> overhead(boolean quick) {
    Map<String, Double> f = new LinkedHashMap<>();
    boolean gpu = Engine.getInstance().defaultDevice().isGpu();
    int steps = quick ? 20 : 200;
    int chunks = quick ? 2 : 20;
    withThreads(1);
    OverheadBench.Result mlp = OverheadBench.mlp(steps, chunks);
    put(f, "overhead_cheap_mlp_ratio", mlp.ratio());
    put(f, "plain_mlp_ms_per_step", mlp.plainMsPerStep());
    OverheadBench.Result probes = OverheadBench.probe16Mlp(quick ? 32 : 160, chunks);
    put(f, "overhead_probe16_mlp_ratio", probes.ratio());
    // The plain step of that comparison: the ratio moves with it (a probe costs about the same).
    put(f, "plain_probe16_mlp_ms_per_step", probes.plainMsPerStep());
    // What the probes of the timed chunks cost, and the products that decide it.
    put(f, "probe16_mlp_probe_ms", probes.probe().millis());
    put(f, "probe16_mlp_lambda_iterations", probes.probe().lambdaIterations());
    put(f, "probe16_mlp_preconditioned_iterations", probes.probe().preconditionedIterations());
    withThreads(2);
    OverheadBench.Result transformer =
        transformer(
            SlingshotOptions.ofDefaults(),
            false,
            quick ? 2 : gpu ? 50 : 10,
            quick ? 2 : gpu ? 10 : 30);
    put(f, "overhead_cheap_transformer_ratio", transformer.ratio());
    put(f, "plain_transformer_ms_per_step", transformer.plainMsPerStep());
    if (gpu && !quick) {
      // The cheap tier reads the batch loss back every step: on a GPU that waits for the step's
      // queued work, which the plain loop above never does. DJL's own EvaluatorTrainingListener
      // (in TrainingListener.Defaults) does the same read, through Loss.updateAccumulators: the
      // same comparison with it on both sides is the overhead a usual DJL loop sees.
      OverheadBench.Result evaluated = transformer(SlingshotOptions.ofDefaults(), true, 50, 10);
      put(f, "overhead_cheap_transformer_evaluator_ratio", evaluated.ratio());
      put(f, "plain_transformer_evaluator_ms_per_step", evaluated.plainMsPerStep());
    }
    // Chunks of whole probe periods, so that every chunk holds the same number of probes. A probe
    // of the transformer costs tens of HVPs (seconds on the CPU): the CPU measures two chunks.
    // --quick, a smoke test of the harness, probes every 4 steps with Lanczos capped at 4.
    int period = quick ? 4 : OverheadBench.PROBE_EVERY;
    SlingshotOptions probeOptions =
        quick
            ? SlingshotOptions.custom()
                .probes(ProbeSchedule.everySteps(period))
                .lanczos(Lanczos.custom().maxIterations(4).build())
                .build()
            : OverheadBench.probe16Options();
    OverheadBench.Result probed =
        transformer(
            probeOptions, false, gpu && !quick ? 4 * period : period, quick ? 1 : gpu ? 8 : 2);
    put(f, "overhead_probe16_transformer_ratio", probed.ratio());
    put(f, "probe16_transformer_ms_per_step", probed.instrumentedMsPerStep());
    return f;
  }

  /** {@code f.put(name, value)}, and the figure on standard error at once. */
  private static void put(Map<String, Double> f, String name, double value) {
    f.put(name, value);
    System.err.printf(Locale.ROOT, "bench: %s = %.6g%n", name, value);
    System.err.flush();
  }

  /**
   * The adapter with {@code options} on the paper's transformer (2 layers, width 128, 4 heads;
   * division p=97, batch 512, Adam with warm-up), 2 PyTorch threads, on DJL's default device:
   * instrumented over plain time for the same steps; with {@code evaluator}, both trainers have
   * DJL's {@link EvaluatorTrainingListener} (the batch loss read back every step).
   */
  static OverheadBench.Result transformer(
      SlingshotOptions options, boolean evaluator, int chunkSteps, int chunks) {
    ModularTraining.Config c = ModularExperiment.config();
    ModularArithmetic data = ModularArithmetic.of(c.operation(), c.modulus());
    ModularArithmetic.Subset train = data.split(c.trainFraction(), c.seed()).train();
    DecoderTransformer.Config mc =
        DecoderTransformer.Config.paper(
                data.vocabularySize(), data.elements(), ModularArithmetic.SEQUENCE_LENGTH)
            .withLastPositionOnly(true);
    try (NDManager m = NDManager.newBaseManager()) {
      ArrayDataset set =
          new ArrayDataset.Builder()
              .setData(
                  m.create(
                      train.tokens(), new Shape(train.size(), ModularArithmetic.SEQUENCE_LENGTH)))
              .optLabels(m.create(train.labels(), new Shape(train.size())))
              .setSampling(c.batchSize(), true)
              .build();
      return OverheadBench.compare(
          () -> new DecoderTransformer(mc),
          new Shape(c.batchSize(), ModularArithmetic.SEQUENCE_LENGTH),
          set,
          () -> {
            DefaultTrainingConfig config =
                new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                    .optOptimizer(ModularTraining.optimizer(c));
            return evaluator
                ? config.addTrainingListeners(new EvaluatorTrainingListener())
                : config;
          },
          options,
          chunkSteps,
          chunks);
    }
  }

  static Map<String, Double> hvp(boolean quick) {
    Map<String, Double> f = new LinkedHashMap<>();
    withThreads(1);
    HvpBench.Timings t = HvpBench.timings(quick ? 3 : 30);
    put(f, "hvp_over_grad_ratio", t.ratio());
    put(f, "hvp_on_graph_over_grad_ratio", t.onGraphRatio());
    put(f, "forward_backward_ms", t.forwardBackwardMs());
    put(
        f,
        "probe_native_growth_bytes_per_call",
        HvpBench.probeNativeGrowthBytesPerCall(quick ? 200 : 10_000));
    put(
        f,
        "probe_full_native_growth_bytes_per_probe",
        OverheadBench.probeNativeGrowthBytesPerProbe(quick ? 50 : 2_000));
    return f;
  }

  static Map<String, Double> eigen(boolean quick) {
    Map<String, Double> f = new LinkedHashMap<>();
    withThreads(1);
    HvpBench.LambdaRun run = HvpBench.lambdaRun(HvpBench.MLP, quick ? 3 : 9, 16);
    put(f, "lambda_hvps_warm", run.meanWarm());
    put(f, "lambda_hvps_warm_max", (double) run.maxWarm());
    put(f, "lambda_hvps_cold", run.meanCold());
    put(f, "lambda_warm_max_relative_error", run.maxRelativeError());
    return f;
  }

  static void withThreads(int n) {
    JniUtils.setNumThreads(n);
  }
}
