package dev.slingshot.core;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A run's record on disk: {@code metrics.jsonl} (one {@link StepRecord} per line) and {@code
 * events.jsonl} (one {@link SlingshotEvent} per line), each line flushed as it is written so that a
 * run killed with {@code kill -9} keeps everything it recorded.
 *
 * <p>Field names are snake_case ({@code step}, {@code train_loss}, {@code full_train_loss}, {@code
 * train_acc}, {@code test_loss}, {@code test_acc}, {@code update_norm}, {@code norms}, {@code
 * metrics}); events carry {@code step}, {@code type} and their own fields. Non-finite numbers are
 * written as the bare tokens {@code NaN}, {@code Infinity} and {@code -Infinity}, as Python's
 * {@code json} module writes and reads them. The readers tolerate a truncated last line.
 *
 * <p>A write failure (full disk, closed stream) is logged once and counted; it never throws into
 * the training loop.
 */
public final class RunLog implements AutoCloseable {

  /** The metrics file name in a run directory. */
  public static final String METRICS_FILE = "metrics.jsonl";

  /** The events file name in a run directory. */
  public static final String EVENTS_FILE = "events.jsonl";

  private static final Logger LOG = LoggerFactory.getLogger(RunLog.class);

  static final ObjectMapper JSON = mapper();

  private final Path directory;
  private final Writer metrics;
  private final Writer events;
  private long failures;

  private RunLog(Path directory, boolean append) throws IOException {
    this.directory = directory;
    Files.createDirectories(directory);
    this.metrics = open(directory.resolve(METRICS_FILE), append);
    this.events = open(directory.resolve(EVENTS_FILE), append);
  }

  /**
   * Creates (or truncates) {@code metrics.jsonl} and {@code events.jsonl} in {@code directory}.
   *
   * @throws UncheckedIOException if the directory or files cannot be created
   */
  public static RunLog create(Path directory) {
    try {
      return new RunLog(directory, false);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create run log in " + directory, e);
    }
  }

  /** Opens the files in {@code directory} for appending (a resumed run). */
  public static RunLog append(Path directory) {
    try {
      return new RunLog(directory, true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open run log in " + directory, e);
    }
  }

  /** Creates a run log in {@code directory} and subscribes it to every record and event. */
  public static RunLog attach(SlingshotMonitor monitor, Path directory) {
    RunLog log = create(directory);
    monitor.onRecord(log::record);
    monitor.onEvent(log::event);
    return log;
  }

  private static Writer open(Path file, boolean append) throws IOException {
    return new BufferedWriter(
        Files.newBufferedWriter(
            file,
            StandardCharsets.UTF_8,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING));
  }

  /** Appends one record to {@code metrics.jsonl} and flushes. */
  public synchronized void record(StepRecord record) {
    write(metrics, toJson(record));
  }

  /** Appends one event to {@code events.jsonl} and flushes. */
  public synchronized void event(SlingshotEvent event) {
    write(events, toJson(event));
  }

  private void write(Writer w, String line) {
    try {
      w.write(line);
      w.write('\n');
      w.flush();
    } catch (IOException e) {
      if (failures++ == 0) {
        LOG.error("cannot write the run log in {}; training goes on", directory, e);
      }
    }
  }

  /** How many writes failed (each was skipped; the first was logged). */
  public synchronized long failures() {
    return failures;
  }

  /** The run directory. */
  public Path directory() {
    return directory;
  }

  @Override
  public synchronized void close() {
    try {
      metrics.close();
    } catch (IOException e) {
      LOG.warn("closing {}", METRICS_FILE, e);
    }
    try {
      events.close();
    } catch (IOException e) {
      LOG.warn("closing {}", EVENTS_FILE, e);
    }
  }

  /** One record as a single JSON line (no newline). */
  public static String toJson(StepRecord r) {
    ObjectNode n = JSON.createObjectNode();
    n.put("step", r.step());
    n.put("train_loss", r.trainLoss());
    put(n, "full_train_loss", r.fullTrainLoss());
    put(n, "train_acc", r.trainAccuracy());
    put(n, "test_loss", r.testLoss());
    put(n, "test_acc", r.testAccuracy());
    put(n, "update_norm", r.updateNorm());
    if (!r.norms().isEmpty()) {
      ObjectNode norms = n.putObject("norms");
      r.norms().forEach(norms::put);
    }
    if (!r.metrics().isEmpty()) {
      ObjectNode metrics = n.putObject("metrics");
      r.metrics().forEach(metrics::put);
    }
    return stringify(n);
  }

  /** One event as a single JSON line: {@code step}, {@code type}, then the event's own fields. */
  public static String toJson(SlingshotEvent e) {
    ObjectNode n = JSON.createObjectNode();
    n.put("step", e.step());
    n.put("type", e.type());
    JsonNode fields = JSON.valueToTree(e);
    if (fields instanceof ObjectNode o) {
      o.remove("step");
      n.setAll(o);
    }
    return stringify(n);
  }

  private static void put(ObjectNode n, String field, OptionalDouble v) {
    if (v.isPresent()) {
      n.put(field, v.getAsDouble());
    }
  }

  private static String stringify(JsonNode n) {
    try {
      return JSON.writeValueAsString(n);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise " + n, e);
    }
  }

  /**
   * Reads a {@code metrics.jsonl} file. A truncated or malformed last line (a run killed while
   * writing) is skipped with a warning; a malformed line before the last is an error.
   *
   * @throws IllegalArgumentException naming the file and line for a malformed line or a missing
   *     {@code step}/{@code train_loss}
   */
  public static List<StepRecord> readRecords(Path file) throws IOException {
    List<StepRecord> out = new ArrayList<>();
    for (Line line : readLines(file)) {
      JsonNode n = line.node();
      JsonNode step = n.get("step");
      JsonNode loss = n.get("train_loss");
      if (step == null || !step.canConvertToLong() || loss == null || !loss.isNumber()) {
        throw new IllegalArgumentException(
            file + ":" + line.number() + ": expected numeric 'step' and 'train_loss', got " + n);
      }
      StepRecord.Builder b = StepRecord.builder(step.asLong(), loss.asDouble());
      opt(n, "full_train_loss").ifPresent(b::fullTrainLoss);
      opt(n, "train_acc").ifPresent(b::trainAccuracy);
      opt(n, "test_loss").ifPresent(b::testLoss);
      opt(n, "test_acc").ifPresent(b::testAccuracy);
      opt(n, "update_norm").ifPresent(b::updateNorm);
      JsonNode norms = n.get("norms");
      if (norms != null && norms.isObject()) {
        for (Iterator<Map.Entry<String, JsonNode>> it = norms.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          if (e.getValue().isNumber()) {
            b.norm(e.getKey(), e.getValue().asDouble());
          }
        }
      }
      JsonNode metrics = n.get("metrics");
      if (metrics != null && metrics.isObject()) {
        for (Iterator<Map.Entry<String, JsonNode>> it = metrics.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          if (e.getValue().isNumber()) {
            b.metric(e.getKey(), e.getValue().asDouble());
          }
        }
      }
      out.add(b.build());
    }
    return out;
  }

  /**
   * Reads an {@code events.jsonl} file as JSON objects (each has {@code step} and {@code type}),
   * tolerating a truncated last line like {@link #readRecords(Path)}.
   */
  public static List<JsonNode> readEvents(Path file) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (Line line : readLines(file)) {
      out.add(line.node());
    }
    return out;
  }

  private static OptionalDouble opt(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v != null && v.isNumber() ? OptionalDouble.of(v.asDouble()) : OptionalDouble.empty();
  }

  private record Line(int number, JsonNode node) {}

  private static List<Line> readLines(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    List<Line> out = new ArrayList<>(lines.size());
    int last = lines.size();
    while (last > 0 && lines.get(last - 1).isBlank()) {
      last--;
    }
    for (int i = 0; i < last; i++) {
      String s = lines.get(i);
      if (s.isBlank()) {
        continue;
      }
      try {
        JsonNode n = JSON.readTree(s);
        if (!n.isObject()) {
          throw new IllegalArgumentException(file + ":" + (i + 1) + ": not a JSON object: " + s);
        }
        out.add(new Line(i + 1, n));
      } catch (JsonProcessingException e) {
        if (i == last - 1) {
          LOG.warn("{}:{}: skipping a truncated last line", file, i + 1);
        } else {
          throw new IllegalArgumentException(
              file + ":" + (i + 1) + ": malformed JSON: " + e.getOriginalMessage(), e);
        }
      }
    }
    return out;
  }

  private static ObjectMapper mapper() {
    SimpleModule optionals = new SimpleModule("slingshot-optionals");
    optionals.addSerializer(
        OptionalLong.class,
        new StdSerializer<>(OptionalLong.class) {
          @Override
          public void serialize(OptionalLong v, JsonGenerator g, SerializerProvider p)
              throws IOException {
            if (v.isPresent()) {
              g.writeNumber(v.getAsLong());
            } else {
              g.writeNull();
            }
          }
        });
    optionals.addSerializer(
        OptionalDouble.class,
        new StdSerializer<>(OptionalDouble.class) {
          @Override
          public void serialize(OptionalDouble v, JsonGenerator g, SerializerProvider p)
              throws IOException {
            if (v.isPresent()) {
              g.writeNumber(v.getAsDouble());
            } else {
              g.writeNull();
            }
          }
        });
    return JsonMapper.builder()
        .disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
        .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
        .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
        .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .addModule(optionals)
        .build();
  }
}
