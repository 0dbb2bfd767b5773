package dev.slingshot.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** {@code slingshot detect}, run in-process through {@link Slingshot#commandLine()}. */
class DetectCommandTest {

  static final ObjectMapper JSON = new ObjectMapper();

  /** The sample logs shipped for users, at the repository root (tests run in the module). */
  static final Path SAMPLE_CSV = Path.of("..", "examples", "logs", "sample.csv");

  static final Path SAMPLE_JSONL = Path.of("..", "examples", "logs", "sample.jsonl");

  @TempDir Path dir;

  record Result(int exitCode, String out, String err) {
    JsonNode json() throws IOException {
      return JSON.readTree(out);
    }
  }

  static Result detect(Object... args) {
    CommandLine cl = Slingshot.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    String[] all = new String[args.length + 1];
    all[0] = "detect";
    for (int i = 0; i < args.length; i++) {
      all[i + 1] = args[i].toString();
    }
    int code = cl.execute(all);
    return new Result(code, out.toString(), err.toString());
  }

  Path write(String name, String... lines) throws IOException {
    return Files.writeString(dir.resolve(name), String.join("\n", lines) + "\n");
  }

  /** One interval as the JSON output writes it. */
  static String interval(long start, Long end, long peakStep, double peak) {
    return "{\"start_step\":"
        + start
        + ",\"end_step\":"
        + end
        + ",\"peak_step\":"
        + peakStep
        + ",\"peak_loss\":"
        + peak
        + "}";
  }

  static String infinite(long start, Long end, long peakStep) {
    return "{\"start_step\":"
        + start
        + ",\"end_step\":"
        + end
        + ",\"peak_step\":"
        + peakStep
        + ",\"peak_loss\":null,\"peak_is_infinite\":true}";
  }

  static JsonNode array(String... objects) throws IOException {
    return JSON.readTree("[" + String.join(",", objects) + "]");
  }

  static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      names.add(it.next());
    }
    return names;
  }

  @Nested
  class SampleLogs {
    // examples/logs/README.md: a spike while still fitting (330-360), a slingshot that re-crosses
    // (700-790, 810-850), a logged NaN at 1000, an empty loss at 1200, one open from 1500
    final JsonNode expected =
        array(
            interval(330, 360L, 330, 0.154093),
            interval(700, 790L, 720, 1.09533),
            interval(810, 850L, 810, 0.238794),
            interval(1500, null, 1530, 2.02985));

    SampleLogs() throws IOException {}

    @Test
    void theSampleCsvPrintsItsIntervals() throws IOException {
      Result r = detect(SAMPLE_CSV);
      assertThat(r.err()).isEmpty();
      assertThat(r.exitCode()).isZero();
      assertThat(r.json()).isEqualTo(expected);
      for (JsonNode o : r.json()) {
        assertThat(fieldNames(o))
            .containsExactly("start_step", "end_step", "peak_step", "peak_loss");
      }
    }

    @Test
    void theSampleJsonlPrintsTheSameIntervals() throws IOException {
      Result r = detect(SAMPLE_JSONL);
      assertThat(r.exitCode()).isZero();
      assertThat(r.json()).isEqualTo(expected);
      assertThat(r.out()).isEqualTo(detect(SAMPLE_CSV).out());
    }

    @Test
    void csvFormat() {
      Result r = detect(SAMPLE_JSONL, "--format", "csv");
      assertThat(r.exitCode()).isZero();
      assertThat(r.out().lines())
          .containsExactly(
              "start_step,end_step,peak_step,peak_loss",
              "330,360,330,0.154093",
              "700,790,720,1.09533",
              "810,850,810,0.238794",
              "1500,,1530,2.02985");
    }

    @Test
    void episodesMergeTheReCrossingAndMarkTheSpikeBeforeTheFit() throws IOException {
      Result r = detect(SAMPLE_CSV, "--episodes");
      assertThat(r.exitCode()).isZero();
      assertThat(r.json())
          .isEqualTo(
              JSON.readTree(
                  "[{\"start_step\":330,\"end_step\":360,\"peak_step\":330,\"peak_loss\":0.154093,"
                      + "\"intervals\":1,\"before_fit\":true},"
                      + "{\"start_step\":700,\"end_step\":850,\"peak_step\":720,"
                      + "\"peak_loss\":1.09533,\"intervals\":2,\"before_fit\":false},"
                      + "{\"start_step\":1500,\"end_step\":null,\"peak_step\":1530,"
                      + "\"peak_loss\":2.02985,\"intervals\":1,\"before_fit\":false}]"));
      assertThat(detect(SAMPLE_JSONL, "--episodes").json()).isEqualTo(r.json());
    }

    @Test
    void episodesAsCsvWithAMergeGap() {
      assertThat(detect(SAMPLE_CSV, "--episodes", "--merge-gap", "0", "--format", "CSV").out())
          .isEqualTo(
              String.join(
                  System.lineSeparator(),
                  "start_step,end_step,peak_step,peak_loss,intervals,before_fit",
                  "330,360,330,0.154093,1,true",
                  "700,790,720,1.09533,1,false",
                  "810,850,810,0.238794,1,false",
                  "1500,,1530,2.02985,1,false",
                  ""));
      // 700 - 360 = 340 < 400: the spike while fitting merges with the first slingshot
      assertThat(detect(SAMPLE_CSV, "--episodes", "--merge-gap", "400", "--format", "csv").out())
          .contains("330,850,720,1.09533,3,true");
    }

    @Test
    void otherThresholds() throws IOException {
      // with high = 1 only the two large spikes count
      Result r = detect(SAMPLE_CSV, "--high", "1", "--low", "0.01");
      assertThat(r.json())
          .isEqualTo(array(interval(720, 790L, 720, 1.09533), interval(1510, null, 1530, 2.02985)));
    }
  }

  @Nested
  class Reading {
    @Test
    void nonFiniteSpellingsInCsv() throws IOException {
      Path f =
          write(
              "spellings.csv",
              "step,train_loss",
              "0,0.005",
              "1,inf",
              "2,0.001",
              "3,+inf",
              "4,NaN",
              "5,nan",
              "6,-inf",
              "7,-Infinity",
              "8,0.002",
              "9,Infinity",
              "10,0.003",
              "11,+Infinity",
              "12,INF",
              "13,-NaN",
              "14,0.0",
              "15,0.5");
      Result r = detect(f);
      assertThat(r.err()).isEmpty();
      assertThat(r.json())
          .isEqualTo(
              array(
                  infinite(1, 2L, 1),
                  infinite(3, 8L, 3),
                  infinite(9, 10L, 9),
                  infinite(11, 14L, 11),
                  interval(15, null, 15, 0.5)));
      assertThat(detect(f, "--format", "csv").out().lines())
          .containsExactly(
              "start_step,end_step,peak_step,peak_loss",
              "1,2,1,inf",
              "3,8,3,inf",
              "9,10,9,inf",
              "11,14,11,inf",
              "15,,15,0.5");
    }

    @Test
    void nonFiniteSpellingsInJsonl() throws IOException {
      Path f =
          write(
              "spellings.jsonl",
              "{\"step\": 0, \"train_loss\": 0.005}",
              "{\"step\": 1, \"train_loss\": Infinity}",
              "{\"step\": 2, \"train_loss\": NaN}",
              "{\"step\": 3, \"train_loss\": -Infinity}",
              "{\"step\": 4, \"train_loss\": \"nan\"}",
              "{\"step\": 5, \"train_loss\": \"-inf\"}",
              "{\"step\": 6, \"train_loss\": 1e-3}",
              "{\"step\": 7, \"train_loss\": \"inf\"}",
              "{\"step\": 8, \"train_loss\": null}",
              "{\"step\": 9, \"train_loss\": 0}",
              "{\"step\": 10, \"train_loss\": \"0.25\"}");
      Result r = detect(f);
      assertThat(r.err()).isEmpty();
      assertThat(r.json())
          .isEqualTo(array(infinite(1, 6L, 1), infinite(7, 9L, 7), interval(10, null, 10, 0.25)));
    }

    @Test
    void rowsWithAnEmptyOrMissingLossAreSkipped() throws IOException {
      Path f =
          write(
              "sparse.csv",
              "step,train_loss,full_train_loss,test_acc",
              "10,0.005,,",
              "20,,0.5,0.5", // an evaluation-only row
              "20,0.3,,", // the same step again: the row above had no loss, so no conflict
              "25,  ,,", // blanks count as empty
              "",
              "30,0.001", // short row: the missing cells are empty
              "40,0.2,,");
      Result r = detect(f);
      assertThat(r.err()).isEmpty();
      assertThat(r.json())
          .isEqualTo(array(interval(20, 30L, 20, 0.3), interval(40, null, 40, 0.2)));
    }

    @Test
    void fullTrainLossColumnMarksIntervalsBeforeTheFit() throws IOException {
      Path f =
          write(
              "fit.csv",
              "step,train_loss,full",
              "1,0.005,0.4",
              "2,0.3,",
              "3,0.004,0.008",
              "4,0.6,");
      String eps = detect(f, "--episodes", "--merge-gap", "0", "--format", "csv").out();
      // the header lacks full_train_loss: nothing is marked
      assertThat(eps).contains("2,3,2,0.3,1,false").contains("4,,4,0.6,1,false");
      eps =
          detect(
                  f,
                  "--episodes",
                  "--merge-gap",
                  "0",
                  "--format",
                  "csv",
                  "--full-train-loss-column",
                  "full")
              .out();
      assertThat(eps).contains("2,3,2,0.3,1,true").contains("4,,4,0.6,1,false");
    }

    @Test
    void fullTrainLossInJsonl() throws IOException {
      Path f =
          write(
              "fit.jsonl",
              "{\"step\":1,\"train_loss\":0.005,\"full_train_loss\":0.4}",
              "{\"step\":2,\"train_loss\":0.3,\"full_train_loss\":null}",
              "{\"step\":3,\"train_loss\":0.004,\"full_train_loss\":\"0.008\"}",
              "{\"step\":4,\"train_loss\":0.6}");
      Result r = detect(f, "--episodes", "--merge-gap", "0");
      assertThat(r.json().get(0).get("before_fit").asBoolean()).isTrue();
      assertThat(r.json().get(1).get("before_fit").asBoolean()).isFalse();
    }

    @Test
    void customColumnNamesWhitespaceAndABom() throws IOException {
      Path f =
          write(
              "custom.csv",
              "\uFEFFiteration , loss",
              " 100 , 0.005 ",
              "200.0,0.5", // pandas writes integer columns with gaps as floats
              "3e2,1e-3");
      Result r = detect(f, "--step-column", "iteration", "--loss-column", "loss");
      assertThat(r.err()).isEmpty();
      assertThat(r.json()).isEqualTo(array(interval(200, 300L, 200, 0.5)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"log.jsonl", "log.ndjson", "log.txt", "log"})
    void jsonlIsRecognisedByExtensionOrByItsFirstCharacter(String name) throws IOException {
      Path f =
          write(
              name,
              "",
              "  {\"step\": 1, \"train_loss\": 0.001}",
              "{\"step\": 2, \"train_loss\": 0.5, \"note\": \"x\"}");
      Result r = detect(f);
      assertThat(r.err()).isEmpty();
      assertThat(r.json()).isEqualTo(array(interval(2, null, 2, 0.5)));
    }

    @Test
    void aCsvWithAnotherExtensionIsReadAsCsv() throws IOException {
      Path f = write("log.txt", "step,train_loss", "1,0.001", "2,0.5");
      assertThat(detect(f).json()).isEqualTo(array(interval(2, null, 2, 0.5)));
    }

    @Test
    void aLogWithoutIntervalsPrintsAnEmptyArray() throws IOException {
      assertThat(detect(write("none.csv", "step,train_loss")).out().strip()).isEqualTo("[]");
      assertThat(detect(write("flat.csv", "step,train_loss", "1,0.5")).out().strip())
          .isEqualTo("[]");
      assertThat(detect(write("none2.csv", "step,train_loss"), "--format", "csv").out().strip())
          .isEqualTo("start_step,end_step,peak_step,peak_loss");
    }

    @Test
    void aHundredThousandRowsAreReadQuickly() throws IOException {
      Path f = dir.resolve("big.csv");
      writeBigLog(f, 100_000);
      detect(f); // warm-up
      long t0 = System.nanoTime();
      Result r = detect(f, "--format", "csv");
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertThat(r.exitCode()).isZero();
      assertThat(r.out().lines().count()).isEqualTo(1 + 100);
      // a generous bound against accidental quadratic work; measured well under a second
      assertThat(ms).isLessThan(10_000);
    }
  }

  /**
   * A 100,000-row log like a real one: seven columns, evaluations every 100 steps, and a slingshot
   * every 1,000 steps (100 intervals).
   */
  static void writeBigLog(Path f, int rows) throws IOException {
    try (Writer w = Files.newBufferedWriter(f, StandardCharsets.UTF_8)) {
      w.write("step,train_loss,full_train_loss,test_loss,test_acc,last_layer_norm,update_norm\n");
      StringBuilder b = new StringBuilder(64);
      for (int s = 1; s <= rows; s++) {
        int phase = s % 1000;
        double loss = phase < 20 ? 0.5 + phase * 0.01 : 0.001 + 1e-6 * (s % 7);
        b.setLength(0);
        b.append(s).append(',').append((float) loss).append(',');
        if (s % 100 == 0) {
          b.append((float) loss).append(',').append((float) (2 * loss)).append(",0.99");
        } else {
          b.append(",,");
        }
        b.append(',').append((float) (1 + s * 1e-5)).append(",0.01\n");
        w.write(b.toString());
      }
    }
  }

  @Nested
  class Errors {
    @Test
    void aMissingFileIsNamed() {
      Result r = detect(dir.resolve("nope.csv"));
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.USAGE);
      assertThat(r.err()).contains("no such file").contains("nope.csv");
      assertThat(r.out()).isEmpty();
    }

    @Test
    void aDirectoryIsNotALog() {
      Result r = detect(dir);
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.USAGE);
      assertThat(r.err()).contains("is a directory");
    }

    @Test
    void aMissingCsvColumnIsNamedWithTheHeadersColumns() throws IOException {
      Path f = write("log.csv", "step,loss,acc", "1,0.5,0.1");
      Result r = detect(f);
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.USAGE);
      assertThat(r.err()).contains("'train_loss'").contains("step, loss, acc");
      r = detect(f, "--loss-column", "loss", "--step-column", "iter");
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.USAGE);
      assertThat(r.err()).contains("'iter'").contains("step, loss, acc");
    }

    @Test
    void aMissingJsonlKeyIsNamedWithTheKeysSeen() throws IOException {
      Path f = write("log.jsonl", "{\"step\":1,\"loss\":0.5}", "{\"step\":2,\"acc\":0.5}");
      Result r = detect(f);
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.USAGE);
      assertThat(r.err()).contains("'train_loss'").contains("step, loss, acc");
    }

    @Test
    void aNonNumericCsvValueGivesLineColumnAndValue() throws IOException {
      Path f = write("log.csv", "step,train_loss", "1,0.5", "2,0.4", "3,abc");
      Result r = detect(f);
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.SOFTWARE);
      assertThat(r.err()).contains("line 4").contains("'train_loss'").contains("'abc'");
      assertThat(r.out()).isEmpty();
    }

    @ParameterizedTest
    @CsvSource(
        delimiter = '|',
        value = {
          "1,0.5d | 'train_loss' | '0.5d'",
          "x,0.5 | 'step' | 'x'",
          "1,0.5,abc | 'full_train_loss' | 'abc'",
          "1,infinit | 'train_loss' | 'infinit'"
        })
    void otherNonNumericCsvValues(String row, String column, String value) throws IOException {
      Path f = write("log.csv", "step,train_loss,full_train_loss", row);
      Result r = detect(f);
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.SOFTWARE);
      assertThat(r.err()).contains("line 2").contains(column).contains(value);
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"abc\"", "true", "[0.5]", "{\"v\": 1}"})
    void aNonNumericJsonValueGivesLineColumnAndValue(String value) throws IOException {
      Path f =
          write(
              "log.jsonl",
              "{\"step\":1,\"train_loss\":0.5}",
              "{\"step\":2,\"train_loss\":" + value + "}");
      Result r = detect(f);
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.SOFTWARE);
      assertThat(r.err()).contains("line 2").contains("'train_loss'");
    }

    @Test
    void aTruncatedLastJsonLineIsSkippedWithANote() throws IOException {
      // what kill -9 leaves: the last record cut short, no newline
      Path f = dir.resolve("killed.jsonl");
      Files.writeString(
          f,
          "{\"step\":1,\"train_loss\":0.001}\n"
              + "{\"step\":2,\"train_loss\":0.5}\n"
              + "{\"step\":3,\"train_loss\":0.0001}\n"
              + "{\"step\":4,\"train_loss\":0.7,\"norms\":{\"last_la");
      Result r = detect(f);
      assertThat(r.exitCode()).as(r.err()).isZero();
      assertThat(r.err()).contains("skipped the malformed last line 4");
      assertThat(r.json()).isEqualTo(array(interval(2, 3L, 2, 0.5)));
      // a complete but malformed last line is still an error
      r = detect(write("bad.jsonl", "{\"step\":1,\"train_loss\":0.5}", "{\"step\":2,}"));
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.SOFTWARE);
      assertThat(r.err()).contains("line 2").contains("malformed JSON");
    }

    @Test
    void aMalformedJsonLineGivesItsLineNumber() throws IOException {
      Path f =
          write(
              "log.jsonl",
              "{\"step\":1,\"train_loss\":0.5}",
              "",
              "{\"step\":2,\"train_lo",
              "{\"step\":3,\"train_loss\":0.5}");
      Result r = detect(f);
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.SOFTWARE);
      assertThat(r.err()).contains("line 3").contains("malformed JSON");
      r = detect(write("array.jsonl", "{\"step\":1,\"train_loss\":0.5}", "[1, 2]"));
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.SOFTWARE);
      assertThat(r.err()).contains("line 2").contains("JSON object");
      r = detect(write("two.jsonl", "{\"step\":1,\"train_loss\":0.5} {\"step\":2}"));
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.SOFTWARE);
      assertThat(r.err()).contains("line 1").contains("malformed JSON");
    }

    @ParameterizedTest
    @CsvSource({"0.5, 0.1", "0.1, 0.1", "0, 0.1", "-1, 0.1", "NaN, 0.1", "0.01, Infinity"})
    void invalidThresholdsAreNamed(String low, String high) {
      Result r = detect(SAMPLE_CSV, "--low", low, "--high", high);
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.USAGE);
      assertThat(r.err())
          .contains("low=" + Double.parseDouble(low))
          .contains("high=" + Double.parseDouble(high));
      assertThat(r.out()).isEmpty();
    }

    @Test
    void unparsableOptionsAreUsageErrors() {
      assertThat(detect(SAMPLE_CSV, "--low", "abc").exitCode())
          .isEqualTo(CommandLine.ExitCode.USAGE);
      Result r = detect(SAMPLE_CSV, "--format", "xml");
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.USAGE);
      assertThat(r.err()).contains("expected json or csv but was 'xml'");
      assertThat(detect().exitCode()).isEqualTo(CommandLine.ExitCode.USAGE);
    }

    @Test
    void aMergeGapNeedsEpisodesAndMustNotBeNegative() {
      Result r = detect(SAMPLE_CSV, "--merge-gap", "10");
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.USAGE);
      assertThat(r.err()).contains("--merge-gap needs --episodes");
      r = detect(SAMPLE_CSV, "--episodes", "--merge-gap", "-5");
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.USAGE);
      assertThat(r.err()).contains("-5");
    }

    @Test
    void aStepThatGoesBackGivesTheLineAndBothSteps() throws IOException {
      Path f = write("log.csv", "step,train_loss", "10,0.5", "20,", "20,0.4", "", "15,0.3");
      Result r = detect(f);
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.SOFTWARE);
      assertThat(r.err())
          .contains("line 6")
          .contains("step 15")
          .contains("step 20")
          .contains("(line 4)");
      r =
          detect(
              write(
                  "log.jsonl",
                  "{\"step\":3,\"train_loss\":0.5}",
                  "{\"step\":3,\"train_loss\":0.5}"));
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.SOFTWARE);
      assertThat(r.err()).contains("line 2").contains("step 3 does not come after step 3");
    }

    @Test
    void quotedCsvFieldsAreRefusedRatherThanMisread() throws IOException {
      Result r = detect(write("q.csv", "step,train_loss,note", "1,0.5,\"a, b\""));
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.SOFTWARE);
      assertThat(r.err()).contains("line 2").contains("quoted CSV fields are not supported");
      r = detect(write("qh.csv", "\"step\",\"train_loss\"", "1,0.5"));
      assertThat(r.err()).contains("line 1").contains("quoted");
    }

    @Test
    void otherMalformedCsv() throws IOException {
      Result r = detect(write("wide.csv", "step,train_loss", "1,0.5,7"));
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.SOFTWARE);
      assertThat(r.err()).contains("line 2 has 3 fields but the header has 2 columns");
      // empty cells beyond the header (a trailing comma) are harmless
      assertThat(detect(write("trailing.csv", "step,train_loss", "1,0.001,", "2,0.5,,")).json())
          .isEqualTo(array(interval(2, null, 2, 0.5)));
      r = detect(write("nostep.csv", "step,train_loss", ",0.5"));
      assertThat(r.err()).contains("line 2").contains("'step' is empty");
      r = detect(write("frac.csv", "step,train_loss", "10.5,0.5"));
      assertThat(r.err()).contains("line 2").contains("integer step").contains("'10.5'");
      Path latin1 = dir.resolve("latin1.csv");
      Files.write(latin1, new byte[] {'s', 't', 'e', 'p', ',', 'l', (byte) 0xE9, '\n'});
      r = detect(latin1);
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.SOFTWARE);
      assertThat(r.err()).contains("is not UTF-8 text");
      r = detect(write("empty.csv", "", "  "));
      assertThat(r.exitCode()).isEqualTo(CommandLine.ExitCode.SOFTWARE);
      assertThat(r.err()).contains("is empty");
    }
  }

  /**
   * {@code detect} must not start (or even load) the DJL engine: a child JVM runs it with class
   * loading logged and no {@code ai.djl} class may appear. Subcommands that need DJL should keep
   * DJL types out of their fields and signatures, since picocli reflects on every subcommand.
   */
  @Test
  void detectLoadsNoDjlClass() throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process p =
        new ProcessBuilder(
                java.toString(),
                "-verbose:class",
                "-cp",
                System.getProperty("java.class.path"),
                Slingshot.class.getName(),
                "detect",
                SAMPLE_CSV.toString())
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(output).isZero();
    assertThat(output).contains(DetectCommand.class.getName()).contains("\"start_step\":1500");
    assertThat(output.lines().filter(l -> l.contains("ai.djl."))).isEmpty();
  }
}
