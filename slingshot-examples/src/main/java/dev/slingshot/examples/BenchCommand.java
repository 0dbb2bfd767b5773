package dev.slingshot.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code slingshot bench [monitor|...|all] [--json FILE]}: runs the project's benchmarks in one
 * process, prints a table of figures and optionally writes them as one JSON object of name to
 * number. Ratios are taken side by side in the same process (instrumented over plain time for the
 * same work), never compared with figures from another run.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Run the benchmarks and print their figures (ratios taken in one run).")
final class BenchCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

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
      description = "Fewer repetitions (for smoke tests; the figures are noisier).")
  boolean quick;

  enum Target {
    monitor,
    all
  }

  @Override
  public Integer call() throws Exception {
    java.io.PrintWriter out = spec.commandLine().getOut();
    Map<String, Double> figures = new LinkedHashMap<>();
    if (target == Target.monitor || target == Target.all) {
      figures.putAll(MonitorBench.run(quick));
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
    figures.forEach((k, v) -> rows.add(String.format(Locale.ROOT, "%-" + w + "s  %.6g", k, v)));
    return String.join(System.lineSeparator(), rows);
  }
}
