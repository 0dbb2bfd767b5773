package dev.slingshot.examples;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code slingshot} command line: analyse logs, run the papers' experiments, benchmark. */
@Command(
    name = "slingshot",
    mixinStandardHelpOptions = true,
    versionProvider = Slingshot.Version.class,
    description = "Diagnostics for the Slingshot Mechanism of adaptive optimizers.",
    subcommands = {
      CommandLine.HelpCommand.class,
      DetectCommand.class,
      RunCommand.class,
      SweepCommand.class,
      StatsCommand.class,
      ListCommand.class,
      PlotCommand.class,
      BenchCommand.class,
      DoctorCommand.class
    })
public final class Slingshot implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The configured picocli command line (tests execute it in-process). */
  public static CommandLine commandLine() {
    return new CommandLine(new Slingshot());
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Slingshot.class.getPackage().getImplementationVersion();
      return new String[] {"slingshot " + (v == null ? "(development build)" : v)};
    }
  }
}
