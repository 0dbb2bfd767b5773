package dev.slingshot.examples;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
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
    return f;
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
