package dev.slingshot.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slingshot.core.SlingshotDetector.Config;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The detector on loss curves recorded from real training runs (k-sparse parity, PyTorch; how they
 * were made is in {@code scripts/fixtures/README.md}). The expected intervals are the ones printed
 * by {@code scripts/fixtures/analyze_runs.py}, an independent Python implementation of the rule,
 * copied here verbatim from that README.
 */
class SlingshotDetectorRecordedRunsTest {

  /**
   * {@code parity_hinge_adamw.csv}: every step of 20,000; hinge loss is exactly 0 most of the time.
   */
  static final String HINGE_INTERVALS =
      "475-505, 515-523, 534-548, 555-559, 588-591, 602-608, 610-619, 643-650, 662-681, 692-698,"
          + " 765-766, 1062-1063, 1140-1142, 1175-1178, 1247-1252, 1260-1263, 1267-1268,"
          + " 1677-1678, 1843-1844, 2318-2319, 2779-2780, 3874-3875, 3979-3980, 4704-4705,"
          + " 4748-4749, 4751-4754, 4770-4771, 4787-4788, 4897-4898, 7263-7278, 7280-7292,"
          + " 7293-7297, 7304-7306, 7308-7309, 7314-7317, 7320-7321, 7326-7331, 7367-7368,"
          + " 7369-7370, 9723-9730, 9732-9733, 9734-9738, 9740-9743, 9745-9748, 9750-9752,"
          + " 9755-9761, 9858-9860, 11552-11553, 11713-11714, 12739-12740, 12805-12807,"
          + " 12874-12875, 12894-12895, 14596-14598, 14603-14605, 14607-14609, 14621-14627,"
          + " 14634-14635, 14638-14639, 14646-14648, 14654-14655, 14659-14661, 14664-14665,"
          + " 14671-14672, 14700-14701, 17307-17308, 17313-17314, 17319-17320, 17325-17326,"
          + " 17328-17331, 17334-17346, 17347-17355, 17357-17361, 17363-17364, 17379-17382,"
          + " 17385-17387, 17407-17408, 19049-19051, 19052-19056, 19064-19065, 19066-19068,"
          + " 19075-19076, 19091-19092";

  /** {@code parity_ce_adamw.csv}: every 10th step plus every step near each interval start. */
  static final String CE_INTERVALS =
      "22888-22889, 22891-22892, 22897-22901, 22902-22925, 22926-22928, 22932-22933, 22934-22935,"
          + " 22939-22941, 45447-45448, 45449-45481, 45482-45486, 45487-45492, 45496-45497,"
          + " 45506-45507, 45512-45513";

  /** {@code parity_adam_thilak.csv}: steps 10, 20, ..., 60000 (Thilak et al. App. A.6). */
  static final String THILAK_INTERVALS = "28240-28400";

  static SlingshotDetector replay(String run) throws IOException {
    return replay(run, Config.ofDefaults());
  }

  /** Feeds the recorded run (train loss, and full-train loss where evaluated) to a detector. */
  static SlingshotDetector replay(String run, Config config) throws IOException {
    SlingshotDetector d = new SlingshotDetector(config);
    String resource = "/fixtures/runs/" + run + ".csv";
    try (InputStream in =
            Objects.requireNonNull(
                SlingshotDetectorRecordedRunsTest.class.getResourceAsStream(resource), resource);
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      List<String> header = Arrays.asList(r.readLine().split(","));
      int step = header.indexOf("step");
      int loss = header.indexOf("train_loss");
      int full = header.indexOf("full_train_loss");
      String line;
      while ((line = r.readLine()) != null) {
        String[] cells = line.split(",", -1);
        StepRecord.Builder b =
            StepRecord.builder(Long.parseLong(cells[step]), Double.parseDouble(cells[loss]));
        if (!cells[full].isEmpty()) {
          b.fullTrainLoss(Double.parseDouble(cells[full]));
        }
        d.observe(b.build());
      }
    }
    return d;
  }

  static String startEnd(List<SlingshotInterval> intervals) {
    return intervals.stream()
        .map(
            i ->
                i.startStep()
                    + "-"
                    + (i.endStep().isPresent() ? Long.toString(i.endStep().getAsLong()) : "None"))
        .collect(Collectors.joining(", "));
  }

  @Test
  void hingeRunGivesThePythonAnalysisIntervals() throws IOException {
    SlingshotDetector d = replay("parity_hinge_adamw");
    assertThat(startEnd(d.intervals())).isEqualTo(HINGE_INTERVALS);
    assertThat(d.intervals()).hasSize(83);
    // the full-train loss first goes below 0.01 at the evaluation of step 1300: the 17 intervals
    // before it belong to the model's first fitting of its training set
    assertThat(d.fitStep()).hasValue(1300);
    assertThat(d.intervals().stream().filter(SlingshotInterval::beforeFit).count()).isEqualTo(17);
    assertThat(d.intervals().get(16).startStep()).isEqualTo(1267);
    assertThat(d.divergences()).isEmpty();
  }

  @Test
  void crossEntropyRunGivesThePythonAnalysisIntervalsAndTwoEpisodes() throws IOException {
    SlingshotDetector d = replay("parity_ce_adamw");
    assertThat(startEnd(d.intervals())).isEqualTo(CE_INTERVALS);
    assertThat(d.fitStep()).hasValue(500);
    List<SlingshotEpisode> episodes = d.episodes();
    assertThat(episodes).hasSize(2);
    assertThat(episodes.get(0).startStep()).isEqualTo(22888);
    assertThat(episodes.get(0).endStep()).hasValue(22941);
    assertThat(episodes.get(0).intervals()).isEqualTo(8);
    assertThat(episodes.get(0).peakLoss())
        .isCloseTo(2.3, org.assertj.core.data.Offset.offset(0.01));
    assertThat(episodes.get(1).startStep()).isEqualTo(45447);
    assertThat(episodes.get(1).endStep()).hasValue(45513);
    assertThat(episodes.get(1).intervals()).isEqualTo(7);
    assertThat(episodes.get(1).peakLoss())
        .isCloseTo(4.3, org.assertj.core.data.Offset.offset(0.01));
    assertThat(episodes).noneMatch(SlingshotEpisode::beforeFit);
  }

  @Test
  void thilakAdamRunGivesOneLateSlingshot() throws IOException {
    SlingshotDetector d = replay("parity_adam_thilak");
    assertThat(startEnd(d.intervals())).isEqualTo(THILAK_INTERVALS);
    SlingshotInterval i = d.intervals().get(0);
    assertThat(i.peakStep()).isEqualTo(28240);
    assertThat(i.peakLoss()).isEqualTo(6.26025); // "6.26" in the README
    assertThat(i.beforeFit()).isFalse();
    assertThat(d.fitStep()).hasValue(400);
  }

  /**
   * The measurement behind {@link Config#DEFAULT_MERGE_GAP}. After the model has fitted, the gaps
   * between consecutive raw intervals (next start − previous end) of the three runs fall into two
   * groups: at most 165 steps (re-crossings within one burst; 97 at most inside the large
   * slingshots) and at least 460 steps (separate events; separate slingshots are 724 to 22,506
   * steps apart). The default lies in the empty range between them.
   */
  @Test
  void theDefaultMergeGapLiesBetweenTheRecordedGapClusters() throws IOException {
    List<Long> gaps = new ArrayList<>();
    for (String run : List.of("parity_hinge_adamw", "parity_ce_adamw", "parity_adam_thilak")) {
      SlingshotDetector d = replay(run);
      List<SlingshotInterval> iv = d.intervals();
      for (int k = 1; k < iv.size(); k++) {
        if (!iv.get(k - 1).beforeFit()) {
          gaps.add(iv.get(k).startStep() - iv.get(k - 1).endStep().orElseThrow());
        }
      }
    }
    long within =
        gaps.stream()
            .filter(g -> g < Config.DEFAULT_MERGE_GAP)
            .mapToLong(g -> g)
            .max()
            .orElseThrow();
    long between =
        gaps.stream()
            .filter(g -> g >= Config.DEFAULT_MERGE_GAP)
            .mapToLong(g -> g)
            .min()
            .orElseThrow();
    assertThat(within).isEqualTo(165);
    assertThat(between).isEqualTo(460);
    assertThat(gaps).hasSize(65 + 14);
  }

  @Test
  void hingeRunEpisodesWithTheDefaultGap() throws IOException {
    SlingshotDetector d = replay("parity_hinge_adamw");
    String episodes =
        d.episodes().stream()
            .map(e -> e.startStep() + "-" + e.endStep().orElseThrow() + "(" + e.intervals() + ")")
            .collect(Collectors.joining(" "));
    assertThat(episodes)
        .isEqualTo(
            "475-766(11) 1062-1268(6) 1677-1844(2) 2318-2319(1) 2779-2780(1) 3874-3980(2)"
                + " 4704-4898(6) 7263-7370(10) 9723-9860(8) 11552-11714(2) 12739-12895(4)"
                + " 14596-14701(12) 17307-17408(12) 19049-19092(6)");
    // the four large slingshots of the run (peak minibatch loss above 0.3) are four episodes
    assertThat(d.episodes().stream().filter(e -> e.peakLoss() > 0.3).map(e -> e.startStep()))
        .containsExactly(475L, 7263L, 9723L, 17307L);
  }
}
