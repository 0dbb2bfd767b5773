package dev.slingshot.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code slingshot bench [monitor|overhead|hvp|eigen|all] [--json FILE]}: runs the project's
 * benchmarks in one process, prints a table of figures and optionally writes them as one JSON
 * object of name to number. Every ratio is taken side by side in this process (instrumented over
 * plain time for the same steps, interleaved), never against figures from another run.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Run the benchmarks and print their figures (ratios taken in one run).",
    footer = {
      "",
      "Figures:",
      "  monitor   monitor_records_per_second (every cheap rule on)",
      "  overhead  overhead_cheap_mlp_ratio, overhead_cheap_transformer_ratio,",
      "            overhead_probe16_mlp_ratio, overhead_probe16_transformer_ratio",
      "            (instrumented / plain time, same steps; probe16: every second-order",
      "            probe every 16 steps; on a GPU each timed chunk ends when its work ran)",
      "  hvp       hvp_over_grad_ratio (128-512-512-10 MLP, batch 256),",
      "            probe_native_growth_bytes_per_call (10,000 HVP calls after warm-up),",
      "            probe_full_native_growth_bytes_per_probe (2,000 whole probes, MLP)",
      "  eigen     lambda_hvps_warm, lambda_hvps_cold (HVPs per lambda_max to 1e-3)"
    })
final class BenchCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      defaultValue = "all",
      description = "Which benchmark: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  Target target;

  @Option(
      names = "--json",
      paramLabel = "FILE",
      description = "Also write the figures as one JSON object of name to number.")
  Path json;

  @Option(
      names = "--quick",
      description = "Far fewer repetitions: a smoke test of the harness; the figures are noise.")
  boolean quick;

  enum Target {
    monitor,
    overhead,
    hvp,
    eigen,
    all
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Map<String, Double> figures = new LinkedHashMap<>();
    boolean all = target == Target.all;
    if (all || target == Target.monitor) {
      figures.putAll(MonitorBench.run(quick));
    }
    if (all || target == Target.overhead || target == Target.hvp || target == Target.eigen) {
      DjlBench.prepare();
    }
    if (all || target == Target.overhead) {
      figures.putAll(DjlBench.overhead(quick));
    }
    if (all || target == Target.hvp) {
      figures.putAll(DjlBench.hvp(quick));
    }
    if (all || target == Target.eigen) {
      figures.putAll(DjlBench.eigen(quick));
    }
    out.println(table(figures));
    out.flush();
    if (json != null) {
      ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
      Path parent = json.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.writeString(json, m.writeValueAsString(figures) + System.lineSeparator());
    }
    return 0;
  }

  static String table(Map<String, Double> figures) {
    int w = figures.keySet().stream().mapToInt(String::length).max().orElse(6);
    List<String> rows = new ArrayList<>();
    rows.add(String.format(Locale.ROOT, "%-" + w + "s  %s", "figure", "value"));
    figures.forEach((k, v) -> rows.add(String.format(Locale.ROOT, "%-" + w + "s  %.4g", k, v)));
    return String.join(System.lineSeparator(), rows);
  }
}
