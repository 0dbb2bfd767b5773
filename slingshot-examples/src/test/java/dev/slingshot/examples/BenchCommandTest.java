package dev.slingshot.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class BenchCommandTest {

  @TempDir Path dir;

  /**
   * Runs {@code bench <target> --quick --json}, checks that it succeeds and prints every figure
   * named, and returns the figures it wrote.
   */
  private JsonNode quick(String target, String... names) throws Exception {
    CommandLine cli = Slingshot.commandLine();
    StringWriter out = new StringWriter();
    cli.setOut(new PrintWriter(out));
    Path json = dir.resolve(target + ".json");
    int code = cli.execute("bench", target, "--quick", "--json", json.toString());
    assertThat(code).isZero();
    JsonNode figures = new ObjectMapper().readTree(json.toFile());
    for (String name : names) {
      assertThat(out.toString()).contains(name);
      assertThat(figures.get(name).asDouble()).as(name).isFinite();
    }
    return figures;
  }

  @Test
  void monitorBenchPrintsATableAndWritesJson() throws Exception {
    JsonNode figures = quick("monitor", "monitor_records_per_second");
    assertThat(figures.get("monitor_records_per_second").asDouble()).isPositive();
  }

  /** The monitor's JVM has a fixed heap touched at start; the others keep the JVM's defaults. */
  @Test
  void theMonitorRunsInAJvmWithAFixedPreTouchedHeap() {
    BenchCommand bench = new BenchCommand();
    bench.quick = true;
    List<String> monitor = bench.command(BenchCommand.Target.monitor, dir.resolve("m.json"));
    assertThat(monitor)
        .containsSubsequence("-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch")
        .contains("-D" + BenchCommand.CHILD + "=true")
        .endsWith("bench", "monitor", "--json", dir.resolve("m.json").toString(), "--quick");
    assertThat(bench.command(BenchCommand.Target.overhead, dir.resolve("o.json")))
        .doesNotContain("-XX:+AlwaysPreTouch")
        .contains("-D" + BenchCommand.CHILD + "=true");
    assertThat(BenchCommand.monitorHeap(false))
        .containsExactly("-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch");
  }

  /** {@code bench all} runs each benchmark in a JVM of its own and merges their figures. */
  @Test
  void quickAllMergesTheFiguresOfEachBenchmark() throws Exception {
    JsonNode figures =
        quick(
            "all",
            "monitor_records_per_second",
            "overhead_probe16_mlp_ratio",
            "probe_full_native_growth_bytes_per_probe",
            "lambda_hvps_warm");
    assertThat(figures.get("monitor_records_per_second").asDouble()).isPositive();
  }

  @Test
  void quickOverheadBenchWritesEveryOverheadFigure() throws Exception {
    String[] names = {
      "overhead_cheap_mlp_ratio",
      "overhead_probe16_mlp_ratio",
      "plain_probe16_mlp_ms_per_step",
      "probe16_mlp_probe_ms",
      "probe16_mlp_lambda_iterations",
      "probe16_mlp_preconditioned_iterations",
      "overhead_cheap_transformer_ratio",
      "overhead_probe16_transformer_ratio"
    };
    JsonNode figures = quick("overhead", names);
    for (String name : names) {
      assertThat(figures.get(name).asDouble()).as(name).isPositive();
    }
  }

  @Test
  void anUnknownBenchmarkIsAUsageError() {
    CommandLine cli = Slingshot.commandLine();
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err));
    assertThat(cli.execute("bench", "everything")).isEqualTo(2);
    assertThat(err.toString()).contains("everything").contains("monitor");
  }
}
