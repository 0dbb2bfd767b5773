package dev.slingshot.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
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
 * benchmarks (each of {@code all}, and the monitor always, in a JVM of its own), prints a table of
 * figures and optionally writes them as one JSON object of name to number. Every ratio is taken
 * side by side in this process (instrumented over plain time for the same steps, interleaved),
 * never against figures from another run.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Run the benchmarks and print their figures (ratios taken in one run).",
    footer = {
      "",
      "Figures:",
      "  monitor   monitor_records_per_second (every cheap rule on; in a JVM of its own",
      "            with a fixed 2 GB heap touched at start)",
      "  overhead  overhead_cheap_mlp_ratio, overhead_cheap_transformer_ratio,",
      "            overhead_probe16_mlp_ratio, overhead_probe16_transformer_ratio",
      "            (instrumented / plain time, same steps; probe16: every",
      "            second-order probe every 16 steps; on a GPU each timed chunk",
      "            ends when its work ran; on a GPU also",
      "            overhead_cheap_transformer_evaluator_ratio: both trainers with",
      "            DJL's EvaluatorTrainingListener, which reads the loss every step);",
      "            probe16_mlp_probe_ms, probe16_mlp_lambda_iterations and",
      "            probe16_mlp_preconditioned_iterations: the timed probes' means",
      "            (the MLP workload is seeded: the iterations are the same in every",
      "            run)",
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
    if (target == Target.all) {
      for (Target t : List.of(Target.monitor, Target.overhead, Target.hvp, Target.eigen)) {
        figures.putAll(inFreshJvm(t));
      }
    } else if (target == Target.monitor) {
      figures.putAll(Boolean.getBoolean(CHILD) ? MonitorBench.run(quick) : inFreshJvm(target));
    } else {
      DjlBench.prepare();
      figures.putAll(
          switch (target) {
            case overhead -> DjlBench.overhead(quick);
            case hvp -> DjlBench.hvp(quick);
            default -> DjlBench.eigen(quick);
          });
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

  /**
   * Runs {@code slingshot bench <t>} in a new JVM (this one's Java, class path and JVM options) and
   * returns its figures; its output goes to this process's standard error. One JVM per benchmark,
   * because in one process each left the next one's timings skewed: run before the overhead
   * benchmark, the monitor benchmark made its plain MLP steps 2-3x slower (0.82 against 0.26-0.39
   * ms a step), which flattered the probe ratio (1.7 against 2.2); run after the DJL benchmarks, it
   * measured 0.8 million records/s against 1.3-1.7 alone.
   */
  private Map<String, Double> inFreshJvm(Target t) throws Exception {
    Path figures = Files.createTempFile("slingshot-bench-" + t, ".json");
    try {
      Process p =
          new ProcessBuilder(command(t, figures))
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      // Its own table goes to standard error: standard output gets the merged one only.
      p.getInputStream().transferTo(System.err);
      int code = p.waitFor();
      if (code != 0) {
        throw new IllegalStateException("bench " + t + " exited with " + code);
      }
      Map<String, Double> read = new LinkedHashMap<>();
      new ObjectMapper()
          .readTree(figures.toFile())
          .fields()
          .forEachRemaining(e -> read.put(e.getKey(), e.getValue().asDouble()));
      return read;
    } finally {
      Files.deleteIfExists(figures);
    }
  }

  /** The system property that marks a benchmark's own JVM (started by {@link #inFreshJvm}). */
  static final String CHILD = "slingshot.bench.child";

  /**
   * The command line of {@code bench <t>}'s own JVM: this one's Java, JVM options and class path,
   * then, for the monitor, a fixed heap touched at start ({@link #monitorHeap}).
   */
  List<String> command(Target t, Path figures) {
    List<String> options =
        new ArrayList<>(ManagementFactory.getRuntimeMXBean().getInputArguments());
    if (t == Target.monitor) {
      options.addAll(monitorHeap(quick));
    }
    options.add("-D" + CHILD + "=true");
    List<String> command = Slingshot.inNewJvm(options);
    command.add("bench");
    command.add(t.name());
    command.add("--json");
    command.add(figures.toString());
    if (quick) {
      command.add("--quick");
    }
    return command;
  }

  /**
   * The monitor benchmark's heap: fixed, and every page touched when the JVM starts. The benchmark
   * keeps its curve (2 million records, about 670 MB) and makes 240-300 bytes of garbage per
   * record; with the JVM's default sizing the heap kept growing during the timed rounds, and the
   * first touch of each new page of young generation (the kernel zeroing it) cost more than the
   * monitor itself: on the 2-core CPU rounds of one JVM swung between 0.5 and 7.9 million records
   * per second, and three runs read 0.71-0.95 million against 4.2-5.5 million with this heap (see
   * the README's Benchmarks). Options given to the JVM before these are overridden.
   */
  static List<String> monitorHeap(boolean quick) {
    String size = quick ? "512m" : "2g";
    return List.of("-Xms" + size, "-Xmx" + size, "-XX:+AlwaysPreTouch");
  }

  static String table(Map<String, Double> figures) {
    int w = figures.keySet().stream().mapToInt(String::length).max().orElse(6);
    List<String> rows = new ArrayList<>();
    rows.add(String.format(Locale.ROOT, "%-" + w + "s  %s", "figure", "value"));
    figures.forEach((k, v) -> rows.add(String.format(Locale.ROOT, "%-" + w + "s  %.4g", k, v)));
    return String.join(System.lineSeparator(), rows);
  }
}
