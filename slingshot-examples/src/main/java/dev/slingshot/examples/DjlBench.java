package dev.slingshot.examples;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.loss.Loss;
import dev.slingshot.djl.SlingshotOptions;
import dev.slingshot.djl.internal.HvpBench;
import dev.slingshot.djl.internal.OverheadBench;
import java.util.LinkedHashMap;
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

  static Map<String, Double> overhead(boolean quick) {
    Map<String, Double> f = new LinkedHashMap<>();
    int steps = quick ? 20 : 200;
    int chunks = quick ? 2 : 20;
    withThreads(1);
    OverheadBench.Result mlp = OverheadBench.mlp(steps, chunks);
    f.put("overhead_cheap_mlp_ratio", mlp.ratio());
    f.put("plain_mlp_ms_per_step", mlp.plainMsPerStep());
    OverheadBench.Result probes = OverheadBench.probe16Mlp(quick ? 32 : 160, chunks);
    f.put("overhead_probe16_mlp_ratio", probes.ratio());
    withThreads(2);
    OverheadBench.Result transformer = transformer(quick ? 2 : 10, quick ? 2 : 10);
    f.put("overhead_cheap_transformer_ratio", transformer.ratio());
    f.put("plain_transformer_ms_per_step", transformer.plainMsPerStep());
    return f;
  }

  /**
   * The cheap tier on the paper's transformer (2 layers, width 128, 4 heads; division p=97, batch
   * 512, Adam with warm-up), 2 PyTorch threads.
   */
  static OverheadBench.Result transformer(int chunkSteps, int chunks) {
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
          () ->
              new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                  .optOptimizer(ModularTraining.optimizer(c)),
          SlingshotOptions.ofDefaults(),
          chunkSteps,
          chunks);
    }
  }

  static Map<String, Double> hvp(boolean quick) {
    Map<String, Double> f = new LinkedHashMap<>();
    withThreads(1);
    HvpBench.Timings t = HvpBench.timings(quick ? 3 : 30);
    f.put("hvp_over_grad_ratio", t.ratio());
    f.put("hvp_on_graph_over_grad_ratio", t.onGraphRatio());
    f.put("forward_backward_ms", t.forwardBackwardMs());
    f.put(
        "probe_native_growth_bytes_per_call",
        HvpBench.probeNativeGrowthBytesPerCall(quick ? 200 : 10_000));
    return f;
  }

  static Map<String, Double> eigen(boolean quick) {
    Map<String, Double> f = new LinkedHashMap<>();
    withThreads(1);
    HvpBench.LambdaRun run = HvpBench.lambdaRun(HvpBench.MLP, quick ? 3 : 9, 16);
    f.put("lambda_hvps_warm", run.meanWarm());
    f.put("lambda_hvps_warm_max", (double) run.maxWarm());
    f.put("lambda_hvps_cold", run.meanCold());
    f.put("lambda_warm_max_relative_error", run.maxRelativeError());
    return f;
  }

  static void withThreads(int n) {
    JniUtils.setNumThreads(n);
  }
}
