package dev.slingshot.examples;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code slingshot list}: the experiments, the paper set-up each follows, and its deviations. */
@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    description = "Describes each experiment of 'slingshot run': set-up, paper figure, deviations.")
final class ListCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Option(names = "--settings", description = "Also list every setting and default")
  boolean settings = true;

  @Override
  public Integer call() {
    PrintWriter o = spec.commandLine().getOut();
    o.print(describe(settings));
    o.flush();
    return 0;
  }

  static String describe(boolean withSettings) {
    StringBuilder b = new StringBuilder();
    for (Experiment e : Experiment.values()) {
      Settings s = e.defaults();
      b.append(e.id()).append('\n');
      b.append("  set-up:      ").append(e.setup()).append('\n');
      b.append("  reproduces:  ").append(e.paper()).append('\n');
      b.append("  default:     ")
          .append(s.getLong("steps"))
          .append(" steps, seed ")
          .append(s.getLong("seed"))
          .append('\n');
      b.append("  deviations:\n");
      for (String d : e.deviations()) {
        b.append("    - ").append(d).append('\n');
      }
      if (withSettings) {
        b.append("  settings (--set key=value):\n");
        for (Settings.Key k : s.keyMap().values()) {
          b.append(
              String.format(
                  "    %-14s %-14s %s; %s%n",
                  k.key(), Settings.Key.format(s.values().get(k.key())), k.doc(), k.validRange()));
        }
      }
      b.append('\n');
    }
    b.append(
        "Not built yet (issue 4): parity-reset, synthetic, optimizers, toy-quadratic, sweep.\n");
    return b.toString();
  }
}
