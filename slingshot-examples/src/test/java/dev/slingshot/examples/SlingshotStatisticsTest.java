package dev.slingshot.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SlingshotStatisticsTest {

  @Test
  void slingshotsAndControlsAreComparedWithMoodsMedianTest(@TempDir Path tmp) throws Exception {
    // Two hand-made runs, each with one late slingshot at 6000-6009 across which the test loss
    // falls from 0.45 to 0.05 (SyntheticRun); elsewhere it is flat, so every control changes by 0.
    SyntheticRun.write(tmp.resolve("a"), true);
    SyntheticRun.write(tmp.resolve("b"), true);
    List<Path> runs = SlingshotStatistics.runDirs(List.of(tmp));
    assertThat(runs).hasSize(2);
    SlingshotStatistics.Summary s = SlingshotStatistics.collect(runs, 1);
    assertThat(s.slingshots()).hasSize(2);
    assertThat(s.controls()).hasSize(2);
    for (SlingshotStatistics.Change c : s.slingshots()) {
      assertThat(c.start()).isEqualTo(6000);
      assertThat(c.delta()).isCloseTo(-0.4, within(1e-9));
    }
    for (SlingshotStatistics.Change c : s.controls()) {
      assertThat(c.end() - c.start()).isEqualTo(9);
      assertThat(c.delta()).isZero();
    }
    // Pooled -0.4, -0.4, 0, 0: median -0.2; above [0, 2], below [2, 0]; chi2 = 4, p = 0.0455
    assertThat(s.test().statistic()).isCloseTo(4, within(1e-12));
    assertThat(s.test().pValue()).isCloseTo(0.0455003, within(1e-6));

    RunCommandTest.Outcome o = RunCommandTest.execute("stats", tmp.toString());
    assertThat(o.code()).as(o.err()).isZero();
    assertThat(o.out()).contains("2 late slingshot episode(s), 2 control interval(s)");
    assertThat(o.out()).contains("chi-square 4.0000 with 1 dof");
  }
}
