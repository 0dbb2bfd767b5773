package dev.slingshot.examples;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

  /**
   * The start of a command line that runs this command line in a new JVM: this JVM's {@code java},
   * then {@code options}, this class path and this class; the caller adds the subcommand and its
   * arguments.
   */
  static List<String> inNewJvm(List<String> options) {
    List<String> command = new ArrayList<>();
    command.add(
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(options);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Slingshot.class.getName());
    return command;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Slingshot.class.getPackage().getImplementationVersion();
      return new String[] {"slingshot " + (v == null ? "(development build)" : v)};
    }
  }
}
