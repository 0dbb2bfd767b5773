package dev.slingshot.examples;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code slingshot stats DIR...}: the parity study's statistics over run directories (or sweep
 * directories holding them, e.g. {@code sweep parity-adamw --grid seed=1,2,...}): the change in
 * test loss across late slingshots against equal-length intervals without one, with Mood's median
 * test. See {@link SlingshotStatistics}.
 */
@Command(
    name = "stats",
    mixinStandardHelpOptions = true,
    description = {
      "Change in test loss across late slingshots vs equal-length control intervals, over run",
      "directories (or sweep directories), with Mood's median test; prints markdown."
    })
final class StatsCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "DIR", arity = "1..*", description = "Run or sweep directories")
  List<Path> dirs;

  @Option(names = "--seed", description = "Seed for placing the control intervals (default 0)")
  long seed;

  @Option(names = "--out", paramLabel = "FILE", description = "Also write the markdown here")
  Path out;

  @Override
  public Integer call() throws IOException {
    List<Path> runs = SlingshotStatistics.runDirs(dirs);
    if (runs.isEmpty()) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "no run directories (with metrics.jsonl) in " + dirs);
    }
    String md = SlingshotStatistics.markdown(SlingshotStatistics.collect(runs, seed), runs.size());
    if (out != null) {
      Files.writeString(out, md, StandardCharsets.UTF_8);
    }
    PrintWriter o = spec.commandLine().getOut();
    o.print(md);
    o.flush();
    return 0;
  }
}
