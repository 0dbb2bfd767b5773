package dev.slingshot.examples;

import java.util.Arrays;
import java.util.Locale;

/**
 * Training-step throughput of the paper's transformer on modular division (p = 97, 50/50 split,
 * minibatch 512, Adam): the plain loop of {@link ModularTraining} (no adapter, so nothing is read
 * back per step; each batch is uploaded from the host), on DJL's default device (the first GPU when
 * DJL sees one, else the CPU). Each timed block ends when the device has run its steps. Prints one
 * line per timed block and a summary line {@code djl ms/step median=… min=… device=…}. Threads:
 * {@code -Dai.djl.pytorch.num_threads}.
 *
 * <p>Usage: {@code TransformerBench [warmupSteps=50] [blocks=5] [stepsPerBlock=40] [batch=512]
 * [last|full]}: {@code last} (the default, what training uses) computes only the classified
 * position in the last layer, {@code full} every position (same values). {@code
 * scripts/bench/transformer_speed.sh} runs it next to the same model in PyTorch.
 */
final class TransformerBench {

  private TransformerBench() {}

  public static void main(String[] args) throws java.io.IOException {
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    int warmup = args.length > 0 ? Integer.parseInt(args[0]) : 50;
    int blocks = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    int perBlock = args.length > 2 ? Integer.parseInt(args[2]) : 40;
    int batch = args.length > 3 ? Integer.parseInt(args[3]) : 512;
    String variant = args.length > 4 ? args[4] : "last";
    if (!variant.equals("last") && !variant.equals("full")) {
      throw new IllegalArgumentException("variant must be last or full, got " + variant);
    }
    ModularTraining.Config config =
        ModularExperiment.config(
            "steps=" + Long.MAX_VALUE,
            "batch=" + batch,
            "eval_every=" + Integer.MAX_VALUE,
            "feature_every=0");
    double[] ms = new double[blocks];
    String device;
    try (ModularTraining training =
        new ModularTraining(config, variant.equals("last"), null, null)) {
      device = training.device().toString();
      training.train(warmup);
      training.awaitDevice();
      for (int b = 0; b < blocks; b++) {
        long t0 = System.nanoTime();
        training.train(perBlock);
        training.awaitDevice();
        ms[b] = (System.nanoTime() - t0) / 1e6 / perBlock;
        System.out.printf(Locale.ROOT, "djl block %d: %.2f ms/step%n", b + 1, ms[b]);
      }
      System.out.printf(Locale.ROOT, "djl %d steps done on %s%n", training.step(), device);
    }
    double[] sorted = ms.clone();
    Arrays.sort(sorted);
    System.out.printf(
        Locale.ROOT,
        "djl %s ms/step median=%.2f min=%.2f threads=%s batch=%d steps/block=%d device=%s%n",
        variant,
        sorted[blocks / 2],
        sorted[0],
        System.getProperty("ai.djl.pytorch.num_threads", "default"),
        batch,
        perBlock,
        device);
  }
}
