package dev.slingshot.examples;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
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
      "config.json, metrics.jsonl, events.jsonl, loss.png, accuracy.png, report.md,",
      "and checkpoint/ every checkpoint_every steps. 'run --resume DIR' continues a run",
      "from its last checkpoint."
    })
final class RunCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "EXPERIMENT",
      description = "parity, parity-adamw, ... (not with --resume)")
  String experiment;

  @Option(
      names = "--resume",
      paramLabel = "DIR",
      description =
          "Continue the run in DIR from its last checkpoint to its step count (or --steps);"
              + " metrics.jsonl and events.jsonl are cut back to the checkpoint first")
  Path resume;

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
    if (resume != null) {
      return resume();
    }
    if (experiment == null) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "missing EXPERIMENT (or --resume DIR); see 'slingshot list'");
    }
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
    summary(e.id(), r, dir);
    return 0;
  }

  private Integer resume() throws IOException {
    if (experiment != null || !sets.isEmpty() || seed != null || out != null) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--resume DIR continues a run with its own settings: only --steps and --no-progress"
              + " may go with it");
    }
    PrintWriter err = spec.commandLine().getErr();
    ParityTraining.Result r;
    String id;
    Path configFile = resume.resolve(ParityTraining.CONFIG_FILE);
    if (!java.nio.file.Files.isRegularFile(configFile)) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), resume + " is not a run directory (no " + configFile + ")");
    }
    try {
      java.util.Map<String, Object> config = RunFiles.readJsonMap(configFile);
      id = String.valueOf(config.get("experiment"));
      long total =
          steps != null
              ? steps
              : ((Number) ((java.util.Map<?, ?>) config.get("settings")).get("steps")).longValue();
      err.println("slingshot: resuming " + id + " in " + resume);
      err.flush();
      ParityTraining.Progress progress =
          noProgress ? ParityTraining.Progress.NONE : new ProgressDisplay(id, total);
      r = ParityTraining.resume(resume, steps, progress);
    } catch (IllegalArgumentException ex) {
      throw new CommandLine.ParameterException(spec.commandLine(), ex.getMessage(), ex);
    }
    summary(id, r, resume);
    return 0;
  }

  private void summary(String id, ParityTraining.Result r, Path dir) {
    PrintWriter o = spec.commandLine().getOut();
    o.printf(
        Locale.ROOT,
        "%s: %d steps in %.1f s (%.3f ms/step); %d slingshot episode(s) after the fit, %d rule"
            + " interval(s)%n",
        id,
        r.steps(),
        r.elapsed().toMillis() / 1000.0,
        r.msPerStep(),
        r.episodes(),
        r.intervals());
    o.println("run directory: " + dir);
    for (String f : Experiment.named(id).files()) {
      if (Files.exists(dir.resolve(f))) { // a plot that could not be drawn is not listed
        o.println("  " + dir.resolve(f));
      }
    }
    o.flush();
  }

  static Path defaultDir(Experiment e) {
    String t = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    return Path.of("runs", e.id() + "-" + t);
  }
}
