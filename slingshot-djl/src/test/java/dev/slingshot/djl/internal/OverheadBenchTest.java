package dev.slingshot.djl.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.slingshot.core.Lanczos;
import dev.slingshot.djl.ProbeMeasurement;
import dev.slingshot.djl.ProbeQuantity;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;

class OverheadBenchTest {

  /** {@code OverheadBench probes EVERY QUANTITIES} takes the quantities' names in any case. */
  @Test
  void probeQuantitiesAreNamedInAnyCase() {
    assertThat(OverheadBench.quantity("lambda_max")).isEqualTo(ProbeQuantity.LAMBDA_MAX);
    assertThat(OverheadBench.quantity(" Update_Sharpness "))
        .isEqualTo(ProbeQuantity.UPDATE_SHARPNESS);
    assertThatThrownBy(() -> OverheadBench.quantity("lambda"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'lambda'")
        .hasMessageContaining("PRECONDITIONED_SHARPNESS");
  }

  /**
   * {@code OverheadBench accuracy} compares runs probe by probe: the same steps in every run, λmax
   * bit for bit the same when only the preconditioned sharpness's settings differ, and a run
   * against itself agrees exactly.
   */
  @Test
  void probeRunsWithOtherSettingsProbeTheSameSteps() {
    List<ProbeMeasurement> run = OverheadBench.probe16Run(OverheadBench.probe16Options(), 32, 64);
    List<ProbeMeasurement> other =
        OverheadBench.probe16Run(
            OverheadBench.probe16Builder().preconditionedLanczos(Lanczos.ofDefaults()).build(),
            32,
            64);
    assertThat(run).extracting(ProbeMeasurement::step).containsExactly(48L, 64L, 80L, 96L);
    ToDoubleFunction<ProbeMeasurement> iterations = ProbeMeasurement::preconditionedIterations;
    OverheadBench.Agreement lambda =
        OverheadBench.Agreement.of(other, run, ProbeMeasurement.LAMBDA_MAX, iterations);
    assertThat(lambda.identical()).isEqualTo(4);
    assertThat(lambda.maxError()).isZero();
    OverheadBench.Agreement self =
        OverheadBench.Agreement.of(run, run, ProbeMeasurement.PRECONDITIONED_SHARPNESS, iterations);
    assertThat(self.identical()).isEqualTo(4);
    assertThat(self.higher()).isZero();
    assertThat(self.meanIterations())
        .isEqualTo(run.stream().mapToDouble(iterations).average().getAsDouble());
    OverheadBench.Agreement pre =
        OverheadBench.Agreement.of(
            run, other, ProbeMeasurement.PRECONDITIONED_SHARPNESS, iterations);
    assertThat(pre.maxError()).isLessThan(1e-2);
    assertThatThrownBy(
            () ->
                OverheadBench.Agreement.of(
                    run.subList(0, 3), run, ProbeMeasurement.LAMBDA_MAX, iterations))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("3 probes against 4");
  }

  /**
   * {@code OverheadBench accuracy} on a short run: three runs that probe the same parameters (the
   * update sharpness, one product whatever the settings, bit for bit the same), each setting's
   * line.
   */
  @Test
  void accuracyPrintsEachSettingAgainstTheSameParameters() {
    PrintStream out = System.out;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
      OverheadBench.printAccuracy(32, 64);
    } finally {
      System.setOut(out);
    }
    String printed = bytes.toString(StandardCharsets.UTF_8);
    assertThat(printed)
        .contains("λmax, tolerance 1e-03: 4 probes")
        .contains("preconditioned sharpness, tolerance 1e-02 (default): 4 probes")
        .contains("preconditioned sharpness, tolerance 1e-03: 4 probes")
        .contains("identical in the run with the preconditioned sharpness at 1e-03: 4 of 4")
        .contains("update sharpness identical to the default run's: 4 of 4");
  }
}
