package dev.slingshot.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** App. D: the sign-like update converges exactly when ||A|| < 2 eps / mu. */
class ToyQuadraticTest {

  private static Settings defaults() {
    return Experiment.TOY_QUADRATIC.defaults();
  }

  @Test
  void convergenceIsPredictedExactlyByTheSpectralNormBound() {
    List<ToyQuadratic.Row> rows = ToyQuadratic.grid(defaults());
    assertThat(rows).hasSize(2 * ToyQuadratic.EPS_RATIOS.length);
    for (ToyQuadratic.Row r : rows) {
      assertThat(r.observed()).as("%s eps=%s", r.problem(), r.eps()).isEqualTo(r.predicted());
    }
    assertThat(rows).anyMatch(ToyQuadratic.Row::predicted).anyMatch(r -> !r.predicted());
  }

  @Test
  void belowTheBoundADiagonalQuadraticSettlesIntoTheOneDimensionalTwoCycle() {
    // Only the top eigenvalue (10) violates 2 eps/mu = 9 at eps = 0.9 eps*: the 2-cycle
    // x -> -x of x - mu a x / (a|x| + eps) has |x| = mu/2 - eps/a = 0.005 - 0.0045 = 5e-4.
    Settings s = defaults();
    ToyQuadratic.Problem diag = ToyQuadratic.problems(8, 10, 10, 0).get(0);
    double eps = 0.9 * 0.01 * 10 / 2;
    double[] e = ToyQuadratic.iterate(diag, 0.01, eps, s.getLong("steps"));
    assertThat(Math.abs(e[0])).isCloseTo(0.01 / 2 - eps / 10, within(1e-12));
    for (int i = 1; i < e.length; i++) {
      assertThat(Math.abs(e[i])).isLessThan(1e-12);
    }
  }

  @Test
  void theSpectrumRunsFromTheNormDownByTheConditionNumber() {
    double[] l = ToyQuadratic.spectrum(5, 8, 16);
    assertThat(l[0]).isEqualTo(8);
    assertThat(l[4]).isCloseTo(0.5, within(1e-12));
  }

  @Test
  void runWritesTheTableThePlotAndTheConfig(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("toy");
    RunCommandTest.Outcome o =
        RunCommandTest.execute(
            "run", "toy-quadratic", "--steps", "3000", "--no-progress", "--out", dir.toString());
    assertThat(o.code()).as(o.err()).isZero();
    for (String f : Experiment.TOY_QUADRATIC.files()) {
      assertThat(dir.resolve(f)).as(f).isRegularFile();
      assertThat(o.out()).contains(dir.resolve(f).toString());
    }
    String report = Files.readString(dir.resolve(RunReport.REPORT_FILE));
    assertThat(report).contains("agree on 24 of 24 grid points");
    assertThat(report).contains("| predicted converge? | observed converge? |");
    assertThat(ImageIO.read(dir.resolve(ToyQuadratic.PLOT_PNG).toFile())).isNotNull();
    Map<String, Object> config = RunFiles.readJsonMap(dir.resolve(ParityTraining.CONFIG_FILE));
    assertThat((List<?>) config.get("rows")).hasSize(24);
  }
}
