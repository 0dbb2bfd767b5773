package dev.slingshot.examples;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import dev.slingshot.core.StepRecord;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Streams {@link StepRecord}s (step, training loss and, when logged, full-train loss) out of a
 * training log that some other framework wrote: a CSV file with a header row, or JSONL (one JSON
 * object per line).
 *
 * <p>Conventions, chosen for logs written by Python, numpy, pandas and Java:
 *
 * <ul>
 *   <li>the format is JSONL for the extensions {@code .jsonl} and {@code .ndjson}, CSV for {@code
 *       .csv}, and otherwise JSONL when the first non-blank character is <code>{</code>;
 *   <li>a row whose loss cell is empty or missing (JSON {@code null} or an absent key) is skipped:
 *       logs often write some columns every N steps only;
 *   <li>non-finite numbers may be spelled {@code NaN}, {@code nan}, {@code Infinity}, {@code inf},
 *       with an optional sign, in any case; in JSONL also as the bare tokens {@code NaN}, {@code
 *       Infinity} and {@code -Infinity} that Python's {@code json.dumps} writes;
 *   <li>steps are integers (a float that is an exact integer, such as pandas' {@code 100.0}, is
 *       accepted) and must increase from one kept row to the next;
 *   <li>CSV is the simple dialect: comma-separated, no quoted fields (a quote is reported as an
 *       error rather than misread).
 * </ul>
 *
 * <p>A JSONL log's last line cut short (a run killed with {@code kill -9} while writing it) is
 * skipped and reported by {@link #truncatedLastLine()}; a malformed line before the last is an
 * error.
 *
 * <p>Every problem is a {@link LogException} naming the line, the column and the value. An instance
 * reads one file (it remembers the previous step to check that steps increase).
 */
final class LossLogReader {

  /** The two log formats. */
  enum Format {
    CSV,
    JSONL
  }

  /** Jackson is loaded only when a JSONL log is read: CSV runs and other commands skip it. */
  private static final class Json {
    static final JsonFactory FACTORY =
        JsonFactory.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();
  }

  private final String stepColumn;
  private final String lossColumn;
  private final String fullTrainLossColumn;

  private long previousStep;
  private long previousStepLine;
  private long rows;

  /**
   * @param stepColumn the column holding the step (required)
   * @param lossColumn the column holding the training loss (required)
   * @param fullTrainLossColumn the column holding the full-train loss; ignored when the log lacks
   *     it; may be null
   */
  LossLogReader(String stepColumn, String lossColumn, String fullTrainLossColumn) {
    this.stepColumn = stepColumn;
    this.lossColumn = lossColumn;
    this.fullTrainLossColumn = fullTrainLossColumn;
  }

  /** A problem with the log or with how it was asked to be read; the message is for the user. */
  static final class LogException extends Exception {
    private final boolean usageError;

    LogException(String message, boolean usageError) {
      super(message);
      this.usageError = usageError;
    }

    /**
     * True when the command line asked for something the log cannot give (a missing file or
     * column), false when the log's content is malformed.
     */
    boolean usageError() {
      return usageError;
    }
  }

  /** How many records were passed on so far. */
  long rows() {
    return rows;
  }

  // The line number of a JSONL log's malformed last line that was skipped, or 0.
  private long truncatedLastLine;

  /**
   * The line number of the skipped malformed last line of a JSONL log (a run killed while writing
   * it), or 0 when every line was read.
   */
  long truncatedLastLine() {
    return truncatedLastLine;
  }

  private static boolean onlyBlankLinesFollow(BufferedReader in) throws IOException {
    for (String rest = in.readLine(); rest != null; rest = in.readLine()) {
      if (!rest.isBlank()) {
        return false;
      }
    }
    return true;
  }

  /** The format a file is read as: by extension, else by its first non-blank character. */
  static Format formatOf(Path file, String firstNonBlankLine) {
    String name = file.getFileName() == null ? "" : file.getFileName().toString();
    String lower = name.toLowerCase(Locale.ROOT);
    if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson")) {
      return Format.JSONL;
    }
    if (lower.endsWith(".csv")) {
      return Format.CSV;
    }
    return firstNonBlankLine != null && firstNonBlankLine.strip().startsWith("{")
        ? Format.JSONL
        : Format.CSV;
  }

  /**
   * Reads {@code file} and passes each record to {@code sink}, in file order.
   *
   * @throws LogException when the file is missing or unreadable, a column is missing, or a value is
   *     malformed
   */
  void read(Path file, Consumer<StepRecord> sink) throws LogException {
    if (!Files.exists(file)) {
      throw new LogException("no such file: " + file, true);
    }
    if (Files.isDirectory(file)) {
      throw new LogException(file + " is a directory, not a log file", true);
    }
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      long lineNo = 0;
      do {
        line = in.readLine();
        lineNo++;
      } while (line != null && line.isBlank());
      if (line == null) {
        throw new LogException(file + " is empty: expected a CSV header or JSON lines", false);
      }
      if (lineNo == 1 && !line.isEmpty() && line.charAt(0) == '\uFEFF') {
        line = line.substring(1);
      }
      if (formatOf(file, line) == Format.JSONL) {
        readJsonl(file, in, line, lineNo, sink);
      } else {
        readCsv(file, in, line, lineNo, sink);
      }
    } catch (CharacterCodingException e) {
      throw new LogException(file + " is not UTF-8 text (" + e + ")", false);
    } catch (IOException e) {
      throw new LogException("cannot read " + file + ": " + e, true);
    }
  }

  private void readCsv(
      Path file, BufferedReader in, String header, long headerLine, Consumer<StepRecord> sink)
      throws IOException, LogException {
    if (header.indexOf('"') >= 0) {
      throw new LogException(
          "line " + headerLine + ": quoted CSV fields are not supported (header: " + header + ")",
          false);
    }
    List<String> columns = new ArrayList<>();
    for (String c : header.split(",", -1)) {
      columns.add(c.strip());
    }
    int stepIdx = columns.indexOf(stepColumn);
    int lossIdx = columns.indexOf(lossColumn);
    int fullIdx = fullTrainLossColumn == null ? -1 : columns.indexOf(fullTrainLossColumn);
    for (var required : List.of(stepColumn, lossColumn)) {
      if (!columns.contains(required)) {
        throw new LogException(
            "column '"
                + required
                + "' not found in the header of "
                + file
                + "; its columns are: "
                + String.join(", ", columns),
            true);
      }
    }
    csvStep = stepIdx;
    csvLoss = lossIdx;
    csvFull = fullIdx;
    csvWidth = columns.size();
    String line;
    long lineNo = headerLine;
    while ((line = in.readLine()) != null) {
      lineNo++;
      if (!line.isBlank()) {
        csvRow(line, lineNo, sink);
      }
    }
  }

  // Column positions of the CSV being read; -1 when absent.
  private int csvStep;
  private int csvLoss;
  private int csvFull;
  private int csvWidth;

  /** One CSV row; kept small so that the JIT compiles it early (it runs once per row). */
  private void csvRow(String line, long lineNo, Consumer<StepRecord> sink) throws LogException {
    if (line.indexOf('"') >= 0) {
      throw new LogException(
          "line " + lineNo + ": quoted CSV fields are not supported: " + line, false);
    }
    String stepCell = "";
    String lossCell = "";
    String fullCell = "";
    int field = 0;
    int start = 0;
    while (true) {
      int comma = line.indexOf(',', start);
      int end = comma < 0 ? line.length() : comma;
      if (field == csvLoss) {
        lossCell = line.substring(start, end);
      } else if (field == csvStep) {
        stepCell = line.substring(start, end);
      } else if (field == csvFull) {
        fullCell = line.substring(start, end);
      } else if (field >= csvWidth && !line.substring(start, end).isBlank()) {
        throw tooManyFields(line, lineNo);
      }
      if (comma < 0) {
        break;
      }
      field++;
      start = comma + 1;
    }
    lossCell = lossCell.strip();
    if (lossCell.isEmpty()) {
      return;
    }
    double loss = number(lossCell, lineNo, lossColumn);
    StepRecord.Builder b = StepRecord.builder(step(stepCell.strip(), lineNo), loss);
    fullCell = fullCell.strip();
    if (!fullCell.isEmpty()) {
      b.fullTrainLoss(number(fullCell, lineNo, fullTrainLossColumn));
    }
    emit(b.build(), lineNo, sink);
  }

  private LogException tooManyFields(String line, long lineNo) {
    int fields = 1;
    for (int i = line.indexOf(','); i >= 0; i = line.indexOf(',', i + 1)) {
      fields++;
    }
    return new LogException(
        "line "
            + lineNo
            + " has "
            + fields
            + " fields but the header has "
            + csvWidth
            + " columns: "
            + line,
        false);
  }

  // What the JSONL being read has shown so far (for the missing-column message).
  private boolean sawStepKey;
  private boolean sawLossKey;
  private final Set<String> keysSeen = new LinkedHashSet<>();

  private void readJsonl(
      Path file, BufferedReader in, String first, long firstLine, Consumer<StepRecord> sink)
      throws IOException, LogException {
    String line = first;
    long lineNo = firstLine;
    for (; line != null; line = in.readLine(), lineNo++) {
      if (!line.isBlank()) {
        try (JsonParser p = Json.FACTORY.createParser(line)) {
          jsonLine(p, lineNo, sink);
        } catch (JsonProcessingException e) {
          // A run killed mid-write (kill -9) leaves its last line cut short: skip that line only
          // (cut short: the parser ran out of input, or the line does not end its object) when
          // nothing but blank lines follows; a malformed line anywhere else is an error.
          boolean cutShort = e instanceof JsonEOFException || !line.stripTrailing().endsWith("}");
          if (cutShort && onlyBlankLinesFollow(in)) {
            truncatedLastLine = lineNo;
            break;
          }
          throw new LogException(
              "line " + lineNo + ": malformed JSON: " + e.getOriginalMessage(), false);
        }
      }
    }
    if (!sawStepKey) {
      throw missingKey(file, stepColumn);
    }
    if (!sawLossKey) {
      throw missingKey(file, lossColumn);
    }
  }

  /**
   * One JSON line, read with Jackson's streaming parser (no tree): only the step, loss and
   * full-train-loss values are looked at; everything else is skipped.
   */
  private void jsonLine(JsonParser p, long lineNo, Consumer<StepRecord> sink)
      throws IOException, LogException {
    if (p.nextToken() != JsonToken.START_OBJECT) {
      throw new LogException(
          "line " + lineNo + ": malformed JSON line: expected one JSON object per line", false);
    }
    String stepText = null; // the step as written, when it is not a plain integer
    long step = 0;
    boolean hasStep = false;
    double loss = 0;
    boolean hasLoss = false;
    double full = 0;
    boolean hasFull = false;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken t = p.nextToken();
      if (!sawStepKey || !sawLossKey) {
        if (keysSeen.size() < 100) {
          keysSeen.add(name);
        }
      }
      if (name.equals(lossColumn)) {
        sawLossKey = true;
        hasLoss = jsonNumber(p, t, lineNo, lossColumn);
        loss = hasLoss ? value : 0;
      } else if (name.equals(stepColumn)) {
        sawStepKey = true;
        hasStep = t != JsonToken.VALUE_NULL;
        if (t == JsonToken.VALUE_NUMBER_INT
            && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
          step = p.getLongValue();
          stepText = null;
        } else if (t.isScalarValue() && t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
          stepText = t == JsonToken.VALUE_NULL ? "" : p.getText().strip();
          hasStep = !stepText.isEmpty();
        } else {
          throw notNumeric(lineNo, stepColumn, describe(p, t));
        }
      } else if (name.equals(fullTrainLossColumn)) {
        hasFull = jsonNumber(p, t, lineNo, fullTrainLossColumn);
        full = hasFull ? value : 0;
      } else {
        p.skipChildren();
      }
    }
    if (p.nextToken() != null) {
      throw new LogException(
          "line " + lineNo + ": malformed JSON line: more than one JSON value on the line", false);
    }
    if (!hasLoss) {
      return;
    }
    if (!hasStep || stepText != null) {
      step = step(hasStep ? stepText : "", lineNo);
    }
    StepRecord.Builder b = StepRecord.builder(step, loss);
    if (hasFull) {
      b.fullTrainLoss(full);
    }
    emit(b.build(), lineNo, sink);
  }

  /** The number {@link #jsonNumber} read last. */
  private double value;

  /**
   * Reads a JSON value as a number into {@link #value}: a JSON number (including the bare {@code
   * NaN}/{@code Infinity} tokens), or a string holding one ({@code "nan"}, {@code "-inf"}, {@code
   * "0.5"}).
   *
   * @return false when the value is missing ({@code null} or an empty string)
   */
  private boolean jsonNumber(JsonParser p, JsonToken t, long lineNo, String column)
      throws IOException, LogException {
    switch (t) {
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
        value = p.getDoubleValue();
        return true;
      }
      case VALUE_NULL -> {
        return false;
      }
      case VALUE_STRING -> {
        String text = p.getText().strip();
        if (text.isEmpty()) {
          return false;
        }
        value = number(text, lineNo, column);
        return true;
      }
      default -> throw notNumeric(lineNo, column, describe(p, t));
    }
  }

  /** A short rendering of a non-numeric JSON value for an error message. */
  private static String describe(JsonParser p, JsonToken t) throws IOException {
    if (t == JsonToken.START_OBJECT) {
      return "{...}";
    }
    if (t == JsonToken.START_ARRAY) {
      return "[...]";
    }
    return p.getText();
  }

  private LogException missingKey(Path file, String column) {
    return new LogException(
        "column '"
            + column
            + "' not found in any line of "
            + file
            + "; the keys seen are: "
            + String.join(", ", keysSeen),
        true);
  }

  private void emit(StepRecord record, long lineNo, Consumer<StepRecord> sink) throws LogException {
    if (rows > 0 && record.step() <= previousStep) {
      throw new LogException(
          "line "
              + lineNo
              + ": step "
              + record.step()
              + " does not come after step "
              + previousStep
              + " (line "
              + previousStepLine
              + "); steps must increase",
          false);
    }
    previousStep = record.step();
    previousStepLine = lineNo;
    rows++;
    sink.accept(record);
  }

  private long step(String cell, long lineNo) throws LogException {
    if (cell.isEmpty()) {
      throw new LogException(
          "line "
              + lineNo
              + ": column '"
              + stepColumn
              + "' is empty or missing on a row with a loss",
          false);
    }
    try {
      return Long.parseLong(cell);
    } catch (NumberFormatException notAnInteger) {
      double v;
      try {
        v = parseNumber(cell);
      } catch (NumberFormatException e) {
        throw notNumeric(lineNo, stepColumn, cell);
      }
      if (v == Math.rint(v) && Math.abs(v) < 0x1p63) {
        return (long) v;
      }
      throw new LogException(
          "line "
              + lineNo
              + ": column '"
              + stepColumn
              + "' must hold an integer step, got '"
              + cell
              + "'",
          false);
    }
  }

  private static double number(String cell, long lineNo, String column) throws LogException {
    try {
      return parseNumber(cell);
    } catch (NumberFormatException e) {
      throw notNumeric(lineNo, column, cell);
    }
  }

  private static LogException notNumeric(long lineNo, String column, String value) {
    return new LogException(
        "line " + lineNo + ": column '" + column + "' holds a non-numeric value: '" + value + "'",
        false);
  }

  /**
   * Parses a decimal number, or a non-finite value as Java, Python or numpy spell it ({@code NaN},
   * {@code nan}, {@code Infinity}, {@code inf}, optionally signed, any case). No regular
   * expressions: this runs once per row.
   *
   * @param s a stripped, non-empty string
   * @throws NumberFormatException when {@code s} is not a number
   */
  static double parseNumber(String s) {
    int len = s.length();
    char c0 = s.charAt(0);
    int i = c0 == '+' || c0 == '-' ? 1 : 0;
    boolean negative = c0 == '-';
    int rest = len - i;
    if (rest == 3 && s.regionMatches(true, i, "nan", 0, 3)) {
      return Double.NaN;
    }
    if ((rest == 3 && s.regionMatches(true, i, "inf", 0, 3))
        || (rest == 8 && s.regionMatches(true, i, "infinity", 0, 8))) {
      return negative ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
    }
    char last = s.charAt(len - 1);
    if (!(last >= '0' && last <= '9') && last != '.') {
      // Double.parseDouble would accept Java's type suffixes ("1d", "2f"); a log never means them.
      throw new NumberFormatException(s);
    }
    return Double.parseDouble(s);
  }
}
