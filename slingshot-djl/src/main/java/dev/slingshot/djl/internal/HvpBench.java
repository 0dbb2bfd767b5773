package dev.slingshot.djl.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.slingshot.core.HessianVectorProduct;
import dev.slingshot.core.Lanczos;
import dev.slingshot.djl.HessianProbe;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The measurements behind {@code ./slingshot bench hvp|eigen} (internal: no compatibility promise).
 * One method per reported figure:
 *
 * <ul>
 *   <li>{@link #hvpOverGradRatio()} ({@code hvp_over_grad_ratio}): one exact Hessian-vector product
 *       (a forward with graph plus the TorchScript double backward) over one forward and backward,
 *       on a 128-512-512-10 ReLU MLP with batch 256, medians of interleaved repetitions;
 *   <li>{@link #lambdaHvpsWarm()} ({@code lambda_hvps_warm}): mean Hessian-vector products per
 *       warm-started λmax (tolerance 1e-3) while that MLP trains with Adam, probed every 16 steps;
 *   <li>{@link #probeNativeGrowthBytesPerCall(int)} ({@code probe_native_growth_bytes_per_call}):
 *       the trend of the process's resident memory outside the JVM's pools per exact Hessian-vector
 *       product (each on a fresh forward), after a warm-up of 3,000 calls, 9,000 on a GPU (a
 *       forward-only loop, without any probe, grows the allocator's footprint for its first ~3,000
 *       calls and then stays flat; measuring earlier reads that warm-up as growth).
 * </ul>
 *
 * Run {@code main} for all three (set {@code -Dai.djl.offline=true}); {@code main growth [calls]}
 * prints the memory benchmark checkpoint by checkpoint.
 */
public final class HvpBench {

  /** Layer widths of the ratio and λmax benchmark MLP. */
  public static final int[] MLP = {128, 512, 512, 10};

  /** Batch of the ratio and λmax benchmarks. */
  static final int BATCH = 256;

  /** Layer widths of the memory benchmark MLP (small, so 10,000 calls take seconds). */
  static final int[] MEMORY_MLP = {64, 128, 128, 10};

  /**
   * Calls before the memory benchmark starts measuring on the CPU: even without probes, the native
   * allocator's footprint grows over the first ~3,000 forward passes of a fresh process, then stays
   * flat.
   */
  static final int WARM_UP_CALLS = 3000;

  /**
   * The same on a GPU: on an H100 (PyTorch 2.11) resident memory rose by 107 MB between calls 3,000
   * and 6,000, was back down at 9,000, and from there to 33,000 moved by 3 bytes per call ({@code
   * docs/gpu/h100-2026-11-26-hvp-growth-30000.txt}); after 3,000 calls the benchmark read that
   * warm-up as 920 bytes per call.
   */
  static final int WARM_UP_CALLS_GPU = 9000;

  private HvpBench() {}

  /**
   * Median milliseconds of one forward+backward, one exact HVP with its forward, and one HVP on a
   * retained graph (what each further Lanczos iteration costs).
   */
  public record Timings(double forwardBackwardMs, double hvpMs, double hvpOnGraphMs) {

    /** {@code hvpMs / forwardBackwardMs}. */
    public double ratio() {
      return hvpMs / forwardBackwardMs;
    }

    /** {@code hvpOnGraphMs / forwardBackwardMs}. */
    public double onGraphRatio() {
      return hvpOnGraphMs / forwardBackwardMs;
    }
  }

  /** The figure {@code hvp_over_grad_ratio} (30 interleaved repetitions after a warm-up). */
  public static double hvpOverGradRatio() {
    return timings(30).ratio();
  }

  /** Interleaved timings on the 128-512-512-10 MLP, batch 256. */
  public static Timings timings(int repetitions) {
    try (BenchMlp mlp = new BenchMlp(MLP, BATCH, 1e-3f, 1);
        NDManager m = NDManager.newBaseManager();
        HessianProbe probe = HessianProbe.create(m)) {
      NDList v = mlp.randomDirection(m, 2);
      NDList batch = mlp.batch(0, BATCH);
      double[] fb = new double[repetitions];
      double[] hv = new double[repetitions];
      double[] hg = new double[repetitions];
      // Each timed segment ends when the device's queued work is done (DeviceSync: on a GPU the
      // calls return before their kernels have run).
      for (int r = -10; r < repetitions; r++) { // 10 warm-up rounds
        DeviceSync.await(m);
        long t0 = System.nanoTime();
        try (NDScope scope = new NDScope()) {
          mlp.forwardBackward(batch);
          DeviceSync.await(m);
        }
        long t1 = System.nanoTime();
        try (NDScope scope = new NDScope()) {
          NDArray loss = HessianProbe.lossWithGraph(() -> mlp.loss(batch));
          probe.exact(loss, mlp.params).apply(v).close();
          DeviceSync.await(m);
        }
        long t2 = System.nanoTime();
        long t3;
        long t4;
        try (NDScope scope = new NDScope()) {
          NDArray loss = HessianProbe.lossWithGraph(() -> mlp.loss(batch));
          HessianVectorProduct<NDList> h = probe.exact(loss, mlp.params);
          h.apply(v).close();
          DeviceSync.await(m);
          t3 = System.nanoTime();
          h.apply(v).close();
          DeviceSync.await(m);
          t4 = System.nanoTime();
        }
        if (r >= 0) {
          fb[r] = (t1 - t0) / 1e6;
          hv[r] = (t2 - t1) / 1e6;
          hg[r] = (t4 - t3) / 1e6;
        }
      }
      return new Timings(median(fb), median(hv), median(hg));
    }
  }

  /**
   * Warm versus cold λmax while the 128-512-512-10 MLP trains with Adam (lr 1e-3, batch 256 from a
   * 2,048-sample teacher data set): every {@code every} steps, λmax of the loss on a fixed probe
   * batch to tolerance 1e-3, warm-started from the previous probe's eigenvector, then cold (random
   * start), then a reference to 1e-7 for the error.
   *
   * @param warmHvps HVPs of each warm call after the first (which is cold)
   * @param coldHvps HVPs of each cold call
   * @param lambda reference λmax per probe
   * @param maxRelativeError largest relative error of the warm results against the references
   */
  public record LambdaRun(
      int[] warmHvps, int[] coldHvps, double[] lambda, double maxRelativeError) {

    /** Mean HVPs per warm-started call. */
    public double meanWarm() {
      return Arrays.stream(warmHvps).average().orElse(Double.NaN);
    }

    /** Mean HVPs per cold call. */
    public double meanCold() {
      return Arrays.stream(coldHvps).average().orElse(Double.NaN);
    }

    /** Largest HVPs of a warm-started call. */
    public int maxWarm() {
      return Arrays.stream(warmHvps).max().orElse(0);
    }
  }

  /** The figure {@code lambda_hvps_warm}: mean HVPs per warm λmax over 8 probes, 16 steps apart. */
  public static double lambdaHvpsWarm() {
    return lambdaRun(MLP, 9, 16).meanWarm();
  }

  /**
   * See {@link LambdaRun}; {@code probes} probes (the first one cold), {@code every} steps apart.
   */
  public static LambdaRun lambdaRun(int[] layers, int probes, int every) {
    Lanczos tolerance = Lanczos.custom().tolerance(1e-3).build();
    Lanczos reference = Lanczos.custom().tolerance(1e-7).maxIterations(300).build();
    int samples = 2048;
    try (BenchMlp mlp = new BenchMlp(layers, samples, 1e-3f, 3);
        NDManager m = NDManager.newBaseManager();
        HessianProbe warm = HessianProbe.create(m, tolerance);
        HessianProbe cold = HessianProbe.create(m, tolerance);
        HessianProbe exact = HessianProbe.create(m, reference)) {
      NDList probeBatch = mlp.batch(0, BATCH);
      List<Integer> warmHvps = new ArrayList<>();
      List<Integer> coldHvps = new ArrayList<>();
      double[] lambda = new double[probes];
      double maxError = 0;
      int step = 0;
      for (int p = 0; p < probes; p++) {
        try (NDScope scope = new NDScope()) {
          NDArray loss = HessianProbe.lossWithGraph(() -> mlp.loss(probeBatch));
          HessianVectorProduct<NDList> h = warm.exact(loss, mlp.params);
          HessianProbe.LambdaMax w = warm.lambdaMax(h, mlp.params);
          cold.resetWarmStart();
          HessianProbe.LambdaMax c = cold.lambdaMax(h, mlp.params);
          exact.resetWarmStart();
          HessianProbe.LambdaMax ref = exact.lambdaMax(h, mlp.params);
          lambda[p] = ref.value();
          if (Boolean.getBoolean("slingshot.bench.verbose")) {
            System.out.printf(
                "probe %d: ref %.6g (%d, conv %s) warm %.6g (%d) cold %.6g (%d)%n",
                p,
                ref.value(),
                ref.iterations(),
                ref.converged(),
                w.value(),
                w.iterations(),
                c.value(),
                c.iterations());
          }
          coldHvps.add(c.iterations());
          if (p > 0) {
            warmHvps.add(w.iterations());
            maxError = Math.max(maxError, Math.abs(w.value() - ref.value()) / ref.value());
          }
        }
        for (int s = 0; s < every; s++, step++) {
          int from = (step * BATCH) % samples;
          try (NDScope scope = new NDScope()) {
            mlp.forwardBackward(mlp.batch(from, BATCH));
          }
          mlp.trainer.step(); // outside the scope: Adam creates its moments on the first step
        }
      }
      return new LambdaRun(
          warmHvps.stream().mapToInt(Integer::intValue).toArray(),
          coldHvps.stream().mapToInt(Integer::intValue).toArray(),
          lambda,
          maxError);
    }
  }

  /**
   * The figure {@code probe_native_growth_bytes_per_call}: growth of VmRSS minus the committed Java
   * heap ({@link #nativeBytes()}) per exact HVP (each on a fresh forward with graph, results
   * closed).
   */
  public static double probeNativeGrowthBytesPerCall(int calls) {
    return probeNativeGrowth(calls).slope();
  }

  /**
   * Native resident memory {@code bytes[i]} after {@code at[i]} calls (or probes) of a memory
   * benchmark.
   */
  record Growth(long[] at, double[] bytes) {

    /** The Theil-Sen slope through the checkpoints: bytes per call (or probe). */
    double slope() {
      return theilSenSlope(at, bytes);
    }

    /** Prints each checkpoint, then the slope as {@code figure}. */
    void print(String unit, String figure) {
      for (int i = 0; i < at.length; i++) {
        System.out.printf("%s %d native resident %.0f bytes%n", unit, at[i], bytes[i]);
      }
      System.out.printf("%s %.1f%n", figure, slope());
    }
  }

  /** {@link #probeNativeGrowthBytesPerCall}'s checkpoints. */
  static Growth probeNativeGrowth(int calls) {
    try (BenchMlp mlp = new BenchMlp(MEMORY_MLP, 64, 1e-3f, 5);
        NDManager m = NDManager.newBaseManager();
        HessianProbe probe = HessianProbe.create(m)) {
      NDList v = mlp.randomDirection(m, 6);
      NDList batch = mlp.batch(0, 64);
      mlp.forwardBackward(batch);
      Runnable call =
          () -> {
            try (NDScope scope = new NDScope()) {
              NDArray loss = HessianProbe.lossWithGraph(() -> mlp.loss(batch));
              probe.exact(loss, mlp.params).apply(v).close();
            }
          };
      int warmUp = m.getDevice().isGpu() ? WARM_UP_CALLS_GPU : WARM_UP_CALLS;
      for (int i = 0; i < warmUp; i++) {
        call.run();
      }
      int checkpoints = 11;
      long[] at = new long[checkpoints];
      double[] bytes = new double[checkpoints];
      int done = 0;
      for (int c = 0; c < checkpoints; c++) {
        long target = (long) calls * c / (checkpoints - 1);
        for (; done < target; done++) {
          call.run();
        }
        at[c] = done;
        bytes[c] = nativeBytes();
      }
      return new Growth(at, bytes);
    }
  }

  /**
   * The median of the slopes between every pair of points: a linear trend that one step in the
   * allocator's footprint does not move (a leak is a steady trend).
   */
  static double theilSenSlope(long[] x, double[] y) {
    List<Double> slopes = new ArrayList<>();
    for (int i = 0; i < x.length; i++) {
      for (int j = i + 1; j < x.length; j++) {
        if (x[j] != x[i]) {
          slopes.add((y[j] - y[i]) / (x[j] - x[i]));
        }
      }
    }
    return median(slopes.stream().mapToDouble(Double::doubleValue).toArray());
  }

  /**
   * Resident memory outside the JVM's own pools: VmRSS minus the committed size of every JVM memory
   * pool (heap, code cache, metaspace), after a full collection, so the JVM growing its heap or
   * compiling code does not read as native growth. What remains is mostly the native allocator.
   */
  static long nativeBytes() {
    System.gc();
    long jvm = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      jvm += pool.getUsage().getCommitted();
    }
    return residentBytes() - jvm;
  }

  /** The resident set size of this process (VmRSS), in bytes; -1 where /proc is unavailable. */
  public static long residentBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          String kb = line.substring(6).trim().split("\\s+")[0];
          return Long.parseLong(kb) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  private static double median(double[] values) {
    double[] s = values.clone();
    Arrays.sort(s);
    int n = s.length;
    return (s[(n - 1) / 2] + s[n / 2]) / 2;
  }

  /** The switch that makes {@code HessianProbe.exact} recompute the gradient graph per product. */
  static final String REUSE_PROPERTY = "slingshot.hvp.reuseGradient";

  /**
   * Old route (gradient graph recomputed by every product, {@code hvp.pt}) against the new one
   * (gradient graph built once per loss, {@code grad_graph.pt} + {@code hvp_from_grad.pt}) on the
   * 128-512-512-10 MLP, batch 256, interleaved in this process, medians in milliseconds: index 0
   * old, 1 new.
   *
   * @param forwardBackwardMs one forward and backward
   * @param hvpMs one product including its own forward with graph
   * @param extraProductMs one further product on a loss that already had one
   * @param probeMs a forward plus {@code products} products on it (a probe's worth)
   * @param products products per simulated probe
   */
  public record ReuseTimings(
      double[] forwardBackwardMs,
      double[] hvpMs,
      double[] extraProductMs,
      double[] probeMs,
      int products) {}

  /** See {@link ReuseTimings}. */
  public static ReuseTimings reuseTimings(int repetitions, int products) {
    String before = System.getProperty(REUSE_PROPERTY);
    try (BenchMlp mlp = new BenchMlp(MLP, BATCH, 1e-3f, 1);
        NDManager m = NDManager.newBaseManager();
        HessianProbe probe = HessianProbe.create(m)) {
      NDList v = mlp.randomDirection(m, 2);
      NDList batch = mlp.batch(0, BATCH);
      double[][] fb = new double[2][repetitions];
      double[][] hv = new double[2][repetitions];
      double[][] extra = new double[2][repetitions];
      double[][] pr = new double[2][repetitions];
      for (int r = -5; r < repetitions; r++) {
        for (int k = 0; k < 2; k++) {
          int route = (r & 1) == 0 ? k : 1 - k; // alternate which route goes first
          System.setProperty(REUSE_PROPERTY, route == 1 ? "true" : "false");
          long t0 = System.nanoTime();
          try (NDScope scope = new NDScope()) {
            mlp.forwardBackward(batch);
          }
          long t1 = System.nanoTime();
          try (NDScope scope = new NDScope()) {
            NDArray loss = HessianProbe.lossWithGraph(() -> mlp.loss(batch));
            probe.exact(loss, mlp.params).apply(v).close();
          }
          long t2 = System.nanoTime();
          long t3;
          long t4;
          try (NDScope scope = new NDScope()) {
            NDArray loss = HessianProbe.lossWithGraph(() -> mlp.loss(batch));
            HessianVectorProduct<NDList> h = probe.exact(loss, mlp.params);
            h.apply(v).close();
            t3 = System.nanoTime();
            h.apply(v).close();
            t4 = System.nanoTime();
          }
          long t5 = System.nanoTime();
          try (NDScope scope = new NDScope()) {
            NDArray loss = HessianProbe.lossWithGraph(() -> mlp.loss(batch));
            HessianVectorProduct<NDList> h = probe.exact(loss, mlp.params);
            for (int i = 0; i < products; i++) {
              h.apply(v).close();
            }
          }
          long t6 = System.nanoTime();
          if (r >= 0) {
            fb[route][r] = (t1 - t0) / 1e6;
            hv[route][r] = (t2 - t1) / 1e6;
            extra[route][r] = (t4 - t3) / 1e6;
            pr[route][r] = (t6 - t5) / 1e6;
          }
        }
      }
      return new ReuseTimings(
          new double[] {median(fb[0]), median(fb[1])},
          new double[] {median(hv[0]), median(hv[1])},
          new double[] {median(extra[0]), median(extra[1])},
          new double[] {median(pr[0]), median(pr[1])},
          products);
    } finally {
      if (before == null) {
        System.clearProperty(REUSE_PROPERTY);
      } else {
        System.setProperty(REUSE_PROPERTY, before);
      }
    }
  }

  /**
   * {@code HvpBench reuse [repetitions] [probe16Steps] [probe16Rounds] [memoryCalls]}: the old and
   * new routes side by side ({@link #reuseTimings}, {@link OverheadBench#probe16MlpRatio} with each
   * route, in the order old, new, new, old, and the native growth per call of each).
   */
  static void reuseMain(String[] args) {
    int reps = args.length > 1 ? Integer.parseInt(args[1]) : 15;
    int steps = args.length > 2 ? Integer.parseInt(args[2]) : 160;
    int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 20;
    int calls = args.length > 4 ? Integer.parseInt(args[4]) : 3000;
    ReuseTimings t = reuseTimings(reps, 7);
    String[] name = {"old", "new"};
    for (int k = 0; k < 2; k++) {
      System.out.printf(
          "%s: forward_backward_ms %.3f hvp_ms %.3f hvp_over_grad_ratio %.3f extra_product_ms %.3f"
              + " probe_%d_products_ms %.3f%n",
          name[k],
          t.forwardBackwardMs()[k],
          t.hvpMs()[k],
          t.hvpMs()[k] / t.forwardBackwardMs()[k],
          t.extraProductMs()[k],
          t.products(),
          t.probeMs()[k]);
    }
    String orderArg = args.length > 5 ? args[5] : "0110";
    int[] order = orderArg.chars().map(c -> c - '0').toArray();
    for (int k : order) {
      System.setProperty(REUSE_PROPERTY, k == 1 ? "true" : "false");
      OverheadBench.Result r = OverheadBench.probe16Mlp(steps, rounds);
      System.out.printf(
          "%s: overhead_probe16_mlp_ratio %.4f (median chunk %.4f; plain %.4f ms/step, probes %.4f"
              + " ms/step)%n",
          name[k], r.ratio(), r.medianChunkRatio(), r.plainMsPerStep(), r.instrumentedMsPerStep());
    }
    if (calls > 0) {
      for (int k : new int[] {0, 1}) {
        System.setProperty(REUSE_PROPERTY, k == 1 ? "true" : "false");
        System.out.printf(
            "%s: probe_native_growth_bytes_per_call %.1f (%d calls after warm-up)%n",
            name[k], probeNativeGrowthBytesPerCall(calls), calls);
      }
    }
    System.clearProperty(REUSE_PROPERTY);
  }

  /** Prints every figure; {@code args[0]} overrides the memory benchmark's call count (10,000). */
  public static void main(String[] args) {
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    if (args.length > 0 && args[0].equals("reuse")) {
      reuseMain(args);
      return;
    }
    if (args.length > 0 && args[0].equals("growth")) {
      probeNativeGrowth(args.length > 1 ? Integer.parseInt(args[1]) : 10_000)
          .print("calls", "probe_native_growth_bytes_per_call");
      return;
    }
    int calls = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    Map<String, Object> out = new LinkedHashMap<>();
    Timings t = timings(30);
    out.put("forward_backward_ms", t.forwardBackwardMs());
    out.put("hvp_ms", t.hvpMs());
    out.put("hvp_on_graph_ms", t.hvpOnGraphMs());
    out.put("hvp_over_grad_ratio", t.ratio());
    out.put("hvp_on_graph_over_grad_ratio", t.onGraphRatio());
    LambdaRun l = lambdaRun(MLP, 9, 16);
    out.put("lambda_hvps_warm", l.meanWarm());
    out.put("lambda_hvps_warm_max", l.maxWarm());
    out.put("lambda_hvps_cold", l.meanCold());
    out.put("lambda_warm_max_relative_error", l.maxRelativeError());
    out.put("lambda_warm_calls", Arrays.toString(l.warmHvps()));
    out.put("lambda_cold_calls", Arrays.toString(l.coldHvps()));
    out.put("lambda_values", Arrays.toString(l.lambda()));
    out.put("probe_native_growth_bytes_per_call", probeNativeGrowthBytesPerCall(calls));
    out.forEach((k, val) -> System.out.println(k + " = " + val));
  }
}
