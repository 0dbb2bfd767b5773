package dev.slingshot.examples;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code slingshot plot DIR}: regenerates a run directory's plots and report from its records. */
@Command(
    name = "plot",
    mixinStandardHelpOptions = true,
    description = {
      "Regenerates loss.png, accuracy.png (and sharpness.png, features.png when the run has",
      "probes or feature measurements) and report.md of a run directory from its",
      "config.json, metrics.jsonl and events.jsonl alone (also for a killed run)."
    })
final class PlotCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DIR", description = "A run directory")
  Path dir;

  @Override
  public Integer call() throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "not a directory: " + dir);
    }
    RunReport.Written written;
    try {
      written = RunReport.write(dir);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    RunAnalysis run = written.run();
    PrintWriter o = spec.commandLine().getOut();
    o.println(
        run.experiment()
            + ": "
            + run.records.size()
            + " records, "
            + run.episodes.size()
            + " slingshot episode(s) ("
            + RunAnalysis.lateEpisodes(run.episodes)
            + " after the fit), "
            + run.intervals.size()
            + " rule interval(s)");
    if (written.plotFailure().isEmpty()) {
      for (String png : RunPlots.files(run)) {
        o.println("  " + dir.resolve(png));
      }
    }
    o.println("  " + dir.resolve(RunReport.REPORT_FILE));
    o.flush();
    return written.plotFailure().isEmpty() ? 0 : 1; // drawing the plots is this command's job
  }
}
