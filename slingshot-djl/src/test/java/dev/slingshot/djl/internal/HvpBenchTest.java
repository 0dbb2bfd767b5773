package dev.slingshot.djl.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Short runs of the benchmark figures, with the bars where a short run can check them. */
class HvpBenchTest {

  /**
   * 2,000 exact HVPs (each on a fresh forward) after warm-up: under 1 KiB of RSS growth per call.
   */
  @Test
  void nativeMemoryStaysFlatOverRepeatedProducts() {
    double perCall = HvpBench.probeNativeGrowthBytesPerCall(2000);
    System.out.printf("native growth over 2,000 exact HVPs: %.1f bytes/call%n", perCall);
    assertThat(perCall).isLessThan(1024);
  }

  /** While an MLP trains with Adam, warm-started λmax to 1e-3 takes at most 20 HVPs. */
  @Test
  void warmStartedLambdaMaxWithinTwentyProducts() {
    HvpBench.LambdaRun run = HvpBench.lambdaRun(new int[] {32, 64, 64, 10}, 6, 16);
    System.out.printf(
        "lambda_max while training 32-64-64-10: warm %s (mean %.2f), cold %s (mean %.2f),"
            + " max warm relative error %.2e, lambda %s%n",
        Arrays.toString(run.warmHvps()),
        run.meanWarm(),
        Arrays.toString(run.coldHvps()),
        run.meanCold(),
        run.maxRelativeError(),
        Arrays.toString(run.lambda()));
    assertThat(run.maxWarm()).isLessThanOrEqualTo(20);
    assertThat(run.maxRelativeError()).isLessThanOrEqualTo(1e-3);
    assertThat(run.meanWarm()).isLessThan(run.meanCold());
  }

  @Test
  void residentMemoryIsReadable() {
    assertThat(HvpBench.residentBytes()).isPositive();
  }
}
