package dev.slingshot.examples;

import dev.slingshot.core.RunLog;
import dev.slingshot.core.SlingshotEpisode;
import dev.slingshot.core.SlingshotInterval;
import dev.slingshot.core.StepRecord;
import java.awt.AWTError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Writes a run's {@code report.md} and plots from the run directory alone (config.json,
 * metrics.jsonl, events.jsonl), so {@code slingshot plot DIR} regenerates them for any run,
 * including one killed mid-write.
 */
final class RunReport {

  static final String REPORT_FILE = "report.md";

  /** How far before an episode the report also reads the last-layer norm. */
  static final long NORM_LOOKBACK = 2000;

  private RunReport() {}

  /**
   * What {@link #write} produced: the analysis, and why the plots were not drawn when they were not
   * (the report is written either way).
   */
  record Written(RunAnalysis run, Optional<String> plotFailure) {}

  /**
   * Regenerates plots and report for {@code dir}. A failure to draw the plots (an unwritable file,
   * or Java 2D unable to render text: a JRE whose font library lacks a system dependency such as
   * libharfbuzz) does not lose the report: report.md is written without the figures and says why,
   * and a warning goes to standard error, so a finished training run still ends normally.
   */
  static Written write(Path dir) throws IOException {
    RunAnalysis run = RunAnalysis.read(dir);
    Optional<String> failure = Optional.empty();
    try {
      RunPlots.write(run);
    } catch (IOException | RuntimeException | LinkageError | AWTError e) {
      failure = Optional.of(e.getClass().getSimpleName() + ": " + e.getMessage());
      for (String png : RunPlots.files(run)) { // an empty file left by the failed encoder
        Path f = dir.resolve(png);
        if (Files.isRegularFile(f) && Files.size(f) == 0) {
          Files.delete(f);
        }
      }
      System.err.println(
          "slingshot: drawing the plots of "
              + dir
              + " failed ("
              + failure.get()
              + "); the records and report.md are complete, and `slingshot plot "
              + dir
              + "` draws the plots once that is mended");
      System.err.flush();
    }
    Files.writeString(
        dir.resolve(REPORT_FILE), markdown(run, failure.orElse(null)), StandardCharsets.UTF_8);
    return new Written(run, failure);
  }

  /** The report; with {@code plotFailure} it links no figure and says why there are none. */
  static String markdown(RunAnalysis run, String plotFailure) {
    StringBuilder b = new StringBuilder();
    Map<String, Object> c = run.config;
    b.append("# Run report: ").append(run.experiment()).append("\n\n");
    if (c.get("setup") != null) {
      b.append("Set-up: ").append(c.get("setup")).append(".  \n");
    }
    if (c.get("paper") != null) {
      b.append("Reproduces: ").append(c.get("paper")).append(".  \n");
    }
    if (c.get("optimizer") != null) {
      b.append("Optimizer: ").append(c.get("optimizer")).append(".  \n");
    }
    if (c.get("seed") != null) {
      b.append("Seed: ").append(c.get("seed")).append(".  \n");
    }
    b.append("\n");
    if (plotFailure != null) {
      b.append("No figures: drawing the plots failed (")
          .append(plotFailure)
          .append("). `slingshot plot DIR` draws them from the records.\n\n");
    } else {
      for (String png : RunPlots.files(run)) {
        b.append("![").append(png.substring(0, png.length() - 4)).append("](").append(png);
        b.append(")\n\n");
      }
    }

    b.append("## Summary\n\n");
    b.append("- steps recorded: ").append(run.records.size());
    b.append(" (last step ").append(run.lastStep()).append(")");
    if (c.get("result") instanceof Map<?, ?> r) {
      b.append("; wall time ")
          .append(fmt(((Number) r.get("wall_seconds")).doubleValue(), 1))
          .append(" s, ")
          .append(fmt(((Number) r.get("ms_per_step")).doubleValue(), 3))
          .append(" ms/step");
    } else {
      b.append("; the run did not finish (no result in config.json: killed or still running)");
    }
    b.append("\n");
    b.append("- fitted the training set (full-train loss < ")
        .append(run.detectorConfig.low())
        .append("): ")
        .append(run.fitStep.isPresent() ? "at step " + run.fitStep.getAsLong() : "not (or not yet)")
        .append("\n");
    StepRecord best = run.bestTest();
    StepRecord last = run.lastEval();
    if (best != null) {
      b.append("- best test accuracy ")
          .append(fmt(best.testAccuracy().getAsDouble(), 4))
          .append(" first at step ")
          .append(best.step())
          .append("; final test accuracy ")
          .append(fmt(last.testAccuracy().getAsDouble(), 4))
          .append(", final test loss ")
          .append(sci(last.testLoss()))
          .append(" (step ")
          .append(last.step())
          .append(")\n");
    }
    int late = RunAnalysis.lateEpisodes(run.episodes);
    b.append("- slingshot episodes: ")
        .append(run.episodes.size())
        .append(" (")
        .append(late)
        .append(" after the fit, ")
        .append(run.episodes.size() - late)
        .append(" while first fitting), from ")
        .append(run.intervals.size())
        .append(" rule intervals\n");
    b.append("- rule (the parity study's): an interval starts when the minibatch loss exceeds ")
        .append(run.detectorConfig.high())
        .append(" after having been below ")
        .append(run.detectorConfig.low())
        .append(", and ends when it is back below ")
        .append(run.detectorConfig.low())
        .append("; intervals closer than ")
        .append(run.detectorConfig.mergeGap())
        .append(" steps form one episode\n");
    if (!run.eventsAgree()) {
      b.append("- note: events.jsonl lists ")
          .append(run.loggedStarts.size())
          .append(" interval starts, the replay over metrics.jsonl ")
          .append(run.intervals.size())
          .append(" (a killed run may have lost its last lines); this report uses the replay\n");
    }
    b.append("\n## Slingshot episodes\n\n");
    if (run.episodes.isEmpty()) {
      b.append("None detected.\n");
    } else {
      b.append(
          "| # | steps | intervals | peak loss (step) | last-layer norm before → after (max) |"
              + " test acc before → after | test loss before → after | phase | norm "
              + NORM_LOOKBACK
              + " steps before |\n");
      b.append("|---|---|---|---|---|---|---|---|---|\n");
      int i = 1;
      for (SlingshotEpisode e : run.episodes) {
        long end = e.endStep().orElse(run.lastStep());
        b.append("| ").append(i++).append(" | ");
        b.append(e.startStep()).append("–").append(e.endStep().isPresent() ? end : "open");
        b.append(" | ").append(e.intervals());
        b.append(" | ").append(sci(e.peakLoss())).append(" (").append(e.peakStep()).append(")");
        b.append(" | ").append(normChange(run, e.startStep(), end));
        StepRecord before = run.evalBefore(e.startStep());
        StepRecord after = e.endStep().isPresent() ? run.evalAtOrAfter(end) : run.lastEval();
        b.append(" | ").append(change(before, after, true));
        b.append(" | ").append(change(before, after, false));
        b.append(" | ").append(e.beforeFit() ? "fitting" : "late");
        b.append(" | ")
            .append(opt(run.lastLayerNorm(run.indexAtOrBefore(e.startStep() - NORM_LOOKBACK)), 3));
        b.append(" |\n");
      }
      b.append(
          "\nNorm before: at the step before the episode; after: at its end step; max: the"
              + " largest over the episode. Test metrics: the last evaluation before the"
              + " episode and the first at or after its end (step in brackets). The last"
              + " column is the norm "
              + NORM_LOOKBACK
              + " steps before the episode: with cross-entropy the norm grows fast in the steps"
              + " leading to a slingshot (so 'before' is already high); with hinge loss it"
              + " jumps during it.\n");
    }
    resets(run, b);
    UpdateSizeAtOnset.of(run).ifPresent(u -> updateSize(u, b));
    b.append("\n## Rule intervals\n\n");
    if (run.intervals.isEmpty()) {
      b.append("None.\n");
    } else {
      b.append("| # | start | end | length | peak loss (step) | norm before → after | phase |\n");
      b.append("|---|---|---|---|---|---|---|\n");
      int i = 1;
      for (SlingshotInterval iv : run.intervals) {
        long end = iv.endStep().orElse(run.lastStep());
        b.append("| ").append(i++);
        b.append(" | ").append(iv.startStep());
        b.append(" | ").append(iv.endStep().isPresent() ? Long.toString(end) : "open");
        b.append(" | ").append(iv.length().isPresent() ? iv.length().getAsLong() : "");
        b.append(" | ").append(sci(iv.peakLoss())).append(" (").append(iv.peakStep()).append(")");
        b.append(" | ").append(normPair(run, iv.startStep(), end));
        b.append(" | ").append(iv.beforeFit() ? "fitting" : "late");
        b.append(" |\n");
      }
    }
    b.append("\n## Files\n\n");
    b.append("- `config.json`: every setting, seeds, engine, versions, optimizer semantics\n");
    b.append("- `")
        .append(RunLog.METRICS_FILE)
        .append("`: one record per step (minibatch loss, last-layer norm, update norm ‖u‖ and")
        .append(" its largest coordinate ‖u‖∞;")
        .append(" evaluations every eval_every steps)\n");
    b.append("- `")
        .append(RunLog.EVENTS_FILE)
        .append("`: the detector's events as they fired")
        .append(run.probes.isEmpty() ? "" : ", and the second-order probes' measurements")
        .append("\n");
    b.append("- ");
    List<String> plots = RunPlots.files(run);
    for (int i = 0; i < plots.size(); i++) {
      b.append(i == 0 ? "" : ", ").append('`').append(plots.get(i)).append('`');
    }
    b.append(
        plotFailure == null
            ? ": the figures above (regenerate with `./slingshot plot DIR`)"
            : ": not drawn in this run (see the top; draw them with `./slingshot plot DIR`)");
    if (RunPlots.hasProbes(run)) {
      b.append("; `")
          .append(RunPlots.SHARPNESS_PNG)
          .append("` from the ")
          .append(run.probes.size())
          .append(" probe events (update sharpness and λmax against 2/lr, effective steps above")
          .append(" 2/λmax: Thilak et al. App. A.6.1, Fig. 16)");
    }
    if (RunPlots.hasFeatures(run)) {
      b.append("; `")
          .append(RunPlots.FEATURES_PNG)
          .append("`: cosine distance from initialisation and relative feature change (Thilak")
          .append(" et al. App. B.1, Fig. 2e-f)");
    }
    b.append("\n");
    return b.toString();
  }

  /**
   * The "Resets" section, when the run's reset policy is not {@code never} or events.jsonl has
   * resets: where they happened and the loss spikes that remained, to set against a run of the same
   * seed without resets (the parity study's Fig. 10).
   */
  private static void resets(RunAnalysis run, StringBuilder b) {
    Object policy = null;
    if (run.config.get("settings") instanceof Map<?, ?> s) {
      policy = s.get("reset");
    }
    if (run.resets.isEmpty() && (policy == null || "never".equals(policy))) {
      return;
    }
    b.append("\n## Resets\n\n");
    b.append("- policy: ").append(policy == null ? "unknown" : policy);
    if ("periodic".equals(policy) && run.config.get("settings") instanceof Map<?, ?> s) {
      b.append(" every ").append(s.get("reset_every")).append(" steps");
    }
    if ("episode_onset".equals(policy)) {
      b.append(
          " (AdamW's moments and update counts are discarded after the first step of each"
              + " slingshot episode after the fit, so every later update of the episode starts"
              + " from a fresh optimizer's first step)");
    }
    b.append("\n- resets: ").append(run.resets.size());
    if (!run.resets.isEmpty()) {
      b.append(", after steps ");
      int shown = Math.min(run.resets.size(), 40);
      for (int i = 0; i < shown; i++) {
        b.append(i == 0 ? "" : ", ").append(run.resets.get(i));
      }
      if (shown < run.resets.size()) {
        b.append(", ... (").append(run.resets.size() - shown).append(" more in events.jsonl)");
      }
    }
    b.append("\n");
    List<Double> peaks = new ArrayList<>();
    for (SlingshotEpisode e : run.episodes) {
      if (!e.beforeFit()) {
        peaks.add(e.peakLoss());
      }
    }
    b.append("- loss spikes after the fit: ").append(peaks.size()).append(" episode(s)");
    if (!peaks.isEmpty()) {
      List<Double> sorted = peaks.stream().sorted().toList();
      b.append("; peak minibatch loss: largest ")
          .append(sci(sorted.get(sorted.size() - 1)))
          .append(", median ")
          .append(sci(sorted.get(sorted.size() / 2)))
          .append(", smallest ")
          .append(sci(sorted.get(0)));
    }
    b.append("\n");
    b.append(
        "- to see what the resets change, compare with a run of the same experiment and seed"
            + " without resets (`parity-adamw`, or `--set reset=never`): its episode count and"
            + " peak losses\n");
  }

  /**
   * The "Update size at slingshot onset" section: ‖u‖∞/lr at each late episode's onset against the
   * parity study's (1−β1)/√(1−β2) (see {@link UpdateSizeAtOnset}).
   */
  static void updateSize(UpdateSizeAtOnset u, StringBuilder b) {
    double p = u.prediction();
    b.append("\n## Update size at slingshot onset\n\n");
    b.append(
            "The parity study (Sec. 1.1, Step 4) predicts that when AdamW's parameters hit the wall")
        .append(" of the zero-loss basin, each coordinate moves by about lr·(1−β1)/√(1−β2) = ")
        .append(fmt(p, 3))
        .append("·lr (β1 = ")
        .append(u.beta1)
        .append(", β2 = ")
        .append(u.beta2)
        .append("; √10 ≈ 3.162 for the defaults). Measured: ‖u‖∞, the largest absolute")
        .append(" coordinate of the applied update (`metrics.")
        .append(UpdateSizeAtOnset.KEY)
        .append("`), over lr = ")
        .append(u.lr)
        .append(".\n\n");
    if (u.onsets.isEmpty()) {
      b.append("No slingshot episode after the fit.\n");
    } else {
      b.append(
          "| # | onset step | peak loss | ‖u‖∞/lr at onset | ÷ prediction | max ‖u‖∞/lr, onset to"
              + " onset+"
              + UpdateSizeAtOnset.AFTER
              + " (step) | ÷ prediction | first step ≥ prediction (onset − "
              + UpdateSizeAtOnset.LOOKBACK
              + " on) |\n");
      b.append("|---|---|---|---|---|---|---|---|\n");
      int i = 1;
      for (UpdateSizeAtOnset.Onset o : u.onsets) {
        b.append("| ").append(i++);
        b.append(" | ").append(o.step());
        b.append(" | ").append(sci(o.peakLoss()));
        b.append(" | ").append(opt(o.atOnset(), 2));
        b.append(" | ").append(ratio(o.atOnset(), p));
        b.append(" | ").append(opt(o.max(), 2));
        if (o.maxStep().isPresent()) {
          b.append(" (").append(o.maxStep().getAsLong()).append(")");
        }
        b.append(" | ").append(ratio(o.max(), p));
        b.append(" | ");
        if (o.firstReached().isPresent()) {
          long d = o.firstReached().getAsLong() - o.step();
          b.append(o.firstReached().getAsLong())
              .append(" (")
              .append(d == 0 ? "onset" : (d > 0 ? "+" : "") + d)
              .append(d == -UpdateSizeAtOnset.LOOKBACK ? " or earlier" : "")
              .append(")");
        } else {
          b.append("not reached");
        }
        b.append(" |\n");
      }
    }
    b.append("\n- between slingshots (after the fit, more than the merge gap away from every")
        .append(" episode; ")
        .append(u.stepsBetween)
        .append(" steps): median ‖u‖∞/lr ")
        .append(opt(u.medianBetween, 3))
        .append(
            u.medianBetween.isPresent()
                ? " (" + ratio(u.medianBetween, p) + " of the prediction)"
                : "")
        .append("\n");
    int k = UpdateSizeAtOnset.envelopeStep(u.beta1, u.beta2);
    b.append("- with the same gradient sign k steps in a row from m = v = 0, update k is")
        .append(" lr·(1−β1^k)/√(1−β2^k): ")
        .append(fmt(UpdateSizeAtOnset.steady(u.beta1, u.beta2, 1), 2))
        .append(", ")
        .append(fmt(UpdateSizeAtOnset.steady(u.beta1, u.beta2, 2), 2))
        .append(", ")
        .append(fmt(UpdateSizeAtOnset.steady(u.beta1, u.beta2, 3), 2))
        .append(" ·lr for k = 1, 2, 3, at most ")
        .append(fmt(UpdateSizeAtOnset.envelope(u.beta1, u.beta2), 2))
        .append("·lr (k = ")
        .append(k)
        .append("): values above the prediction at the onset mean that the wall was hit a few")
        .append(" steps before the loss rose above the rule's threshold\n");
  }

  private static String ratio(OptionalDouble v, double prediction) {
    return v.isPresent() ? fmt(v.getAsDouble() / prediction, 2) + "×" : "–";
  }

  private static String normChange(RunAnalysis run, long start, long end) {
    OptionalDouble max = run.maxNorm(start, end);
    return normPair(run, start, end)
        + (max.isPresent() ? " (" + fmt(max.getAsDouble(), 3) + ")" : "");
  }

  private static String normPair(RunAnalysis run, long start, long end) {
    OptionalDouble before = run.lastLayerNorm(run.indexAtOrBefore(start - 1));
    OptionalDouble after = run.lastLayerNorm(run.indexAtOrBefore(end));
    return opt(before, 3) + " → " + opt(after, 3);
  }

  private static String change(StepRecord before, StepRecord after, boolean accuracy) {
    return side(before, accuracy) + " → " + side(after, accuracy);
  }

  private static String side(StepRecord r, boolean accuracy) {
    if (r == null) {
      return "–";
    }
    return (accuracy ? fmt(r.testAccuracy().getAsDouble(), 4) : sci(r.testLoss()))
        + " ("
        + r.step()
        + ")";
  }

  private static String opt(OptionalDouble v, int digits) {
    return v.isPresent() ? fmt(v.getAsDouble(), digits) : "–";
  }

  static String fmt(double v, int digits) {
    return String.format(Locale.ROOT, "%." + digits + "f", v);
  }

  static String sci(double v) {
    return String.format(Locale.ROOT, "%.3g", v);
  }

  private static String sci(OptionalDouble v) {
    return v.isPresent() ? sci(v.getAsDouble()) : "–";
  }

  static List<String> files() {
    return List.of(
        ParityTraining.CONFIG_FILE,
        RunLog.METRICS_FILE,
        RunLog.EVENTS_FILE,
        RunPlots.LOSS_PNG,
        RunPlots.ACCURACY_PNG,
        REPORT_FILE);
  }
}
