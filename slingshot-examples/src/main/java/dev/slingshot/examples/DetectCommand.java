package dev.slingshot.examples;

import dev.slingshot.core.SlingshotDetector;
import dev.slingshot.core.SlingshotEpisode;
import dev.slingshot.core.SlingshotInterval;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code slingshot detect FILE}: runs the {@link SlingshotDetector} (the k-sparse parity study's
 * loss-threshold rule) over a training log written by any framework and prints the slingshot
 * intervals, or the episodes they merge into.
 *
 * <p>Exit codes: 0 on success; 2 ({@link CommandLine.ExitCode#USAGE}) when the command line asks
 * for something impossible (invalid thresholds or merge gap, a missing file or column); 1 when the
 * log's content is malformed (a non-numeric value, a malformed JSON line, a step that goes back).
 * It never touches DJL: analysing a log must not start an engine.
 */
@Command(
    name = "detect",
    mixinStandardHelpOptions = true,
    versionProvider = Slingshot.Version.class,
    sortOptions = false,
    description = {
      "Finds slingshot intervals in a training log (CSV with a header row, or JSONL).",
      "An interval starts when the training loss, after having gone below --low, exceeds --high,"
          + " and ends when it is back below --low (strict comparisons; NaN and -inf are skipped,"
          + " +inf counts as above --high).",
      "Rows with an empty loss cell are skipped; NaN/nan/Infinity/inf/-inf are read as numbers."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:success",
      "1:malformed log content (non-numeric value, malformed JSON line, step going back)",
      "2:usage error (invalid thresholds, missing file or column)"
    },
    footer = {
      "%nExamples:",
      "  slingshot detect examples/logs/sample.csv",
      "  slingshot detect metrics.jsonl --loss-column loss --episodes --format csv"
    })
final class DetectCommand implements Callable<Integer> {

  /** Output formats. */
  enum Format {
    JSON,
    CSV
  }

  @Spec CommandLine.Model.CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "FILE",
      description = "The log: .csv, .jsonl/.ndjson, or any file (JSONL if it starts with '{').")
  Path file;

  @Option(
      names = "--step-column",
      defaultValue = "step",
      paramLabel = "NAME",
      description = "Column (or JSON key) holding the step (default: ${DEFAULT-VALUE}).")
  String stepColumn;

  @Option(
      names = "--loss-column",
      defaultValue = "train_loss",
      paramLabel = "NAME",
      description = "Column holding the minibatch training loss (default: ${DEFAULT-VALUE}).")
  String lossColumn;

  @Option(
      names = "--full-train-loss-column",
      defaultValue = "full_train_loss",
      paramLabel = "NAME",
      description =
          "Column holding the full-train-set loss, used to mark intervals that began before the"
              + " model first fitted its training set; ignored if the log lacks it"
              + " (default: ${DEFAULT-VALUE}).")
  String fullTrainLossColumn;

  @Option(
      names = "--low",
      defaultValue = "" + SlingshotDetector.Config.DEFAULT_LOW,
      paramLabel = "LOSS",
      description =
          "Loss below which the rule arms and an interval ends (default: ${DEFAULT-VALUE}).")
  double low;

  @Option(
      names = "--high",
      defaultValue = "" + SlingshotDetector.Config.DEFAULT_HIGH,
      paramLabel = "LOSS",
      description =
          "Loss above which an armed rule starts an interval (default: ${DEFAULT-VALUE}).")
  double high;

  @Option(
      names = "--format",
      defaultValue = "json",
      paramLabel = "json|csv",
      converter = FormatConverter.class,
      description = "Output format: json (an array of objects) or csv (default: ${DEFAULT-VALUE}).")
  Format format;

  @Option(
      names = "--episodes",
      description =
          "Print episodes (intervals merged across gaps shorter than --merge-gap) instead of the"
              + " raw intervals.")
  boolean episodes;

  @Option(
      names = "--merge-gap",
      paramLabel = "STEPS",
      description =
          "With --episodes: merge intervals whose gap (next start - previous end) is shorter than"
              + " this many steps (default: "
              + SlingshotDetector.Config.DEFAULT_MERGE_GAP
              + ").")
  Long mergeGap;

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    if (mergeGap != null && !episodes) {
      return fail(err, "--merge-gap needs --episodes", true);
    }
    SlingshotDetector.Config config;
    try {
      config =
          new SlingshotDetector.Config(
              low, high, mergeGap == null ? SlingshotDetector.Config.DEFAULT_MERGE_GAP : mergeGap);
    } catch (IllegalArgumentException e) {
      return fail(err, "invalid options: " + e.getMessage(), true);
    }
    SlingshotDetector detector = new SlingshotDetector(config);
    LossLogReader reader = new LossLogReader(stepColumn, lossColumn, fullTrainLossColumn);
    try {
      reader.read(file, detector::observe);
    } catch (LossLogReader.LogException e) {
      return fail(err, e.getMessage(), e.usageError());
    }
    if (reader.truncatedLastLine() > 0) {
      err.println(
          "slingshot detect: note: skipped the malformed last line "
              + reader.truncatedLastLine()
              + " of "
              + file
              + " (a run killed while writing it)");
      err.flush();
    }
    PrintWriter out = spec.commandLine().getOut();
    List<String> rows = new ArrayList<>();
    if (episodes) {
      for (SlingshotEpisode e : detector.episodes()) {
        rows.add(
            format == Format.CSV
                ? csvRow(e.startStep(), e.endStep(), e.peakStep(), e.peakLoss())
                    + ","
                    + e.intervals()
                    + ","
                    + e.beforeFit()
                : jsonFields(e.startStep(), e.endStep(), e.peakStep(), e.peakLoss())
                    + ",\"intervals\":"
                    + e.intervals()
                    + ",\"before_fit\":"
                    + e.beforeFit());
      }
    } else {
      for (SlingshotInterval i : detector.intervals()) {
        rows.add(
            format == Format.CSV
                ? csvRow(i.startStep(), i.endStep(), i.peakStep(), i.peakLoss())
                : jsonFields(i.startStep(), i.endStep(), i.peakStep(), i.peakLoss()));
      }
    }
    if (format == Format.CSV) {
      out.println(
          episodes
              ? "start_step,end_step,peak_step,peak_loss,intervals,before_fit"
              : "start_step,end_step,peak_step,peak_loss");
      rows.forEach(out::println);
    } else if (rows.isEmpty()) {
      out.println("[]");
    } else {
      // a JSON array, one object per line, so that it reads well and diffs well
      out.println("[");
      for (int k = 0; k < rows.size(); k++) {
        out.println("  {" + rows.get(k) + (k + 1 < rows.size() ? "}," : "}"));
      }
      out.println("]");
    }
    out.flush();
    return CommandLine.ExitCode.OK;
  }

  private static int fail(PrintWriter err, String message, boolean usage) {
    err.println("slingshot detect: " + message);
    err.flush();
    return usage ? CommandLine.ExitCode.USAGE : CommandLine.ExitCode.SOFTWARE;
  }

  /**
   * The four common fields of a JSON object, without braces. Only numbers, null and booleans are
   * written, so no JSON library is needed (and none is loaded for CSV logs). A finite double's
   * {@link Double#toString} ({@code 0.5}, {@code 1.0E-5}) is valid JSON; an infinite peak (the only
   * non-finite one the rule records) is written as {@code null} with {@code "peak_is_infinite":
   * true}, since JSON has no infinity.
   */
  private static String jsonFields(long start, OptionalLong end, long peakStep, double peakLoss) {
    return "\"start_step\":"
        + start
        + ",\"end_step\":"
        + (end.isPresent() ? Long.toString(end.getAsLong()) : "null")
        + ",\"peak_step\":"
        + peakStep
        + (Double.isFinite(peakLoss)
            ? ",\"peak_loss\":" + peakLoss
            : ",\"peak_loss\":null,\"peak_is_infinite\":true");
  }

  private static String csvRow(long start, OptionalLong end, long peakStep, double peakLoss) {
    return start
        + ","
        + (end.isPresent() ? Long.toString(end.getAsLong()) : "")
        + ","
        + peakStep
        + ","
        + (peakLoss == Double.POSITIVE_INFINITY ? "inf" : Double.toString(peakLoss));
  }

  /** Accepts json and csv in any case. */
  static final class FormatConverter implements CommandLine.ITypeConverter<Format> {
    @Override
    public Format convert(String value) {
      try {
        return Format.valueOf(value.strip().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(
            "expected json or csv but was '" + value + "'");
      }
    }
  }
}
