package dev.slingshot.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunLogTest {

  @TempDir Path dir;

  @Test
  void recordsAndEventsRoundTripThroughJsonl() throws IOException {
    SlingshotMonitor monitor = SlingshotMonitor.builder().rule(new SlingshotDetector()).build();
    List<StepRecord> written;
    try (RunLog log = RunLog.attach(monitor, dir)) {
      written =
          List.of(
              StepRecord.builder(1, 0.5).norm("fc.weight", 3.0).updateNorm(0.1).build(),
              StepRecord.builder(2, 0.001).fullTrainLoss(0.002).testAccuracy(0.5).build(),
              StepRecord.builder(3, Double.NaN).build(),
              StepRecord.builder(4, Double.POSITIVE_INFINITY).norm("fc.weight", 4.0).build(),
              StepRecord.of(5, 0.005));
      written.forEach(monitor::observe);
    }
    assertThat(RunLog.readRecords(dir.resolve(RunLog.METRICS_FILE))).isEqualTo(written);

    List<JsonNode> events = RunLog.readEvents(dir.resolve(RunLog.EVENTS_FILE));
    assertThat(events)
        .extracting(e -> e.get("type").asText())
        .containsExactly("divergence", "divergence", "slingshot_start", "slingshot_end");
    assertThat(events.get(0).get("loss").asDouble()).isNaN();
    JsonNode end = events.get(3);
    assertThat(end.get("step").asLong()).isEqualTo(5);
    assertThat(end.get("interval").get("start_step").asLong()).isEqualTo(4);
    assertThat(end.get("interval").get("end_step").asLong()).isEqualTo(5);
    assertThat(end.get("interval").get("peak_loss").asDouble()).isInfinite();
  }

  @Test
  void nonFiniteNumbersAreWrittenAsPythonDoes() {
    String line =
        RunLog.toJson(StepRecord.builder(7, Double.NaN).testLoss(Double.NEGATIVE_INFINITY).build());
    assertThat(line).isEqualTo("{\"step\":7,\"train_loss\":NaN,\"test_loss\":-Infinity}");
  }

  @Test
  void everyLineIsOnDiskBeforeTheLogIsClosed() throws IOException {
    RunLog log = RunLog.create(dir);
    log.record(StepRecord.of(1, 0.3));
    log.record(StepRecord.of(2, 0.2));
    // No close(): a killed run. The bytes must already be in the file.
    assertThat(RunLog.readRecords(dir.resolve(RunLog.METRICS_FILE))).hasSize(2);
    log.close();
  }

  @Test
  void aTruncatedLastLineIsSkipped() throws IOException {
    Path f = dir.resolve("metrics.jsonl");
    Files.writeString(
        f,
        "{\"step\":1,\"train_loss\":0.5}\n{\"step\":2,\"train_loss\":0.4}\n{\"step\":3,\"trai",
        StandardCharsets.UTF_8);
    assertThat(RunLog.readRecords(f)).extracting(StepRecord::step).containsExactly(1L, 2L);
  }

  @Test
  void aMalformedLineInTheMiddleIsAnErrorWithItsLineNumber() throws IOException {
    Path f = dir.resolve("metrics.jsonl");
    Files.writeString(
        f, "{\"step\":1,\"train_loss\":0.5}\n{oops\n{\"step\":3,\"train_loss\":0.4}\n");
    assertThatThrownBy(() -> RunLog.readRecords(f))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("metrics.jsonl:2");
  }

  @Test
  void aRecordWithoutLossIsAnErrorNamingTheField() throws IOException {
    Path f = dir.resolve("metrics.jsonl");
    Files.writeString(f, "{\"step\":1}\n");
    assertThatThrownBy(() -> RunLog.readRecords(f))
        .hasMessageContaining("train_loss")
        .hasMessageContaining(":1");
  }

  @Test
  void appendContinuesAnExistingLog() throws IOException {
    try (RunLog log = RunLog.create(dir)) {
      log.record(StepRecord.of(1, 0.3));
    }
    try (RunLog log = RunLog.append(dir)) {
      log.record(StepRecord.of(2, 0.2));
    }
    assertThat(RunLog.readRecords(dir.resolve(RunLog.METRICS_FILE)))
        .extracting(StepRecord::step)
        .containsExactly(1L, 2L);
  }

  @Test
  void aWriteFailureIsCountedNotThrown() {
    RunLog log = RunLog.create(dir);
    log.close();
    log.record(StepRecord.of(1, 0.3));
    log.record(StepRecord.of(2, 0.3));
    assertThat(log.failures()).isEqualTo(2);
  }
}
