package dev.slingshot.examples;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code slingshot run EXPERIMENT}: trains one named experiment into a run directory. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a named experiment (see 'slingshot list') and writes a run directory:",
      "config.json, metrics.jsonl, events.jsonl, loss.png, accuracy.png, report.md."
    })
final class RunCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "EXPERIMENT", description = "parity, parity-adamw, ...")
  String experiment;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      arity = "1..*",
      description = "Override a setting (repeatable), e.g. --set eps=1e-6 lr=0.002")
  List<String> sets = new ArrayList<>();

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description = "Run directory (default runs/<experiment>-<time>)")
  Path out;

  @Option(
      names = "--seed",
      description = "Seed for data, shuffling and init (same as --set seed=N)")
  Long seed;

  @Option(names = "--steps", description = "Optimizer steps (same as --set steps=N)")
  Long steps;

  @Option(names = "--no-progress", description = "No progress bar")
  boolean noProgress;

  @Override
  public Integer call() throws IOException {
    Experiment e;
    Settings s;
    try {
      e = Experiment.named(experiment);
      List<String> all = new ArrayList<>(sets);
      if (seed != null) {
        all.add("seed=" + seed);
      }
      if (steps != null) {
        all.add("steps=" + steps);
      }
      s = e.defaults().with(all);
      e.validate(s);
    } catch (IllegalArgumentException ex) {
      throw new CommandLine.ParameterException(spec.commandLine(), ex.getMessage(), ex);
    }
    Path dir = out != null ? out : defaultDir(e);
    PrintWriter err = spec.commandLine().getErr();
    err.println("slingshot: " + e.id() + " -> " + dir);
    err.flush();
    ParityTraining.Progress progress =
        noProgress ? ParityTraining.Progress.NONE : new ProgressDisplay(e.id(), s.getLong("steps"));
    ParityTraining.Result r = e.train(s, dir, progress);
    PrintWriter o = spec.commandLine().getOut();
    o.printf(
        Locale.ROOT,
        "%s: %d steps in %.1f s (%.3f ms/step); %d slingshot episode(s) after the fit, %d rule"
            + " interval(s)%n",
        e.id(),
        r.steps(),
        r.elapsed().toMillis() / 1000.0,
        r.msPerStep(),
        r.episodes(),
        r.intervals());
    o.println("run directory: " + dir);
    for (String f : e.files()) {
      o.println("  " + dir.resolve(f));
    }
    o.flush();
    return 0;
  }

  static Path defaultDir(Experiment e) {
    String t = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    return Path.of("runs", e.id() + "-" + t);
  }
}
