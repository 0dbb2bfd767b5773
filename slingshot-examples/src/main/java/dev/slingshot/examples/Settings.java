package dev.slingshot.examples;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.StringJoiner;

/**
 * The hyperparameters of one experiment run: a fixed, ordered set of typed keys with defaults, each
 * overridable once by {@code --set key=value}. Unknown keys and invalid values are refused with a
 * message that lists what is valid.
 */
final class Settings {

  /** The type of a setting's value, which also fixes how its text is parsed. */
  enum Kind {
    INT,
    LONG,
    DOUBLE,
    CHOICE,
    INT_LIST
  }

  /**
   * One settable key.
   *
   * @param key the name used with {@code --set}
   * @param kind its type
   * @param defaultValue the value when not set
   * @param min the smallest allowed number (inclusive) for numeric kinds, or each list element
   * @param max the largest allowed number (inclusive)
   * @param choices the allowed values of a {@link Kind#CHOICE}
   * @param doc one line for {@code slingshot list}
   */
  record Key(
      String key,
      Kind kind,
      Object defaultValue,
      double min,
      double max,
      List<String> choices,
      String doc) {

    static Key ofInt(String key, int def, int min, int max, String doc) {
      return new Key(key, Kind.INT, def, min, max, List.of(), doc);
    }

    static Key ofLong(String key, long def, long min, String doc) {
      return new Key(key, Kind.LONG, def, min, Long.MAX_VALUE, List.of(), doc);
    }

    static Key ofDouble(String key, double def, double min, double max, String doc) {
      return new Key(key, Kind.DOUBLE, def, min, max, List.of(), doc);
    }

    static Key ofChoice(String key, String def, List<String> choices, String doc) {
      return new Key(key, Kind.CHOICE, def, 0, 0, List.copyOf(choices), doc);
    }

    static Key ofIntList(String key, List<Integer> def, int min, int max, String doc) {
      return new Key(key, Kind.INT_LIST, List.copyOf(def), min, max, List.of(), doc);
    }

    /** What values are valid, for error messages and {@code list}. */
    String validRange() {
      return switch (kind) {
        case INT, LONG -> "an integer in [" + num(min) + ", " + num(max) + "]";
        case DOUBLE -> "a number in [" + min + ", " + max + "]";
        case CHOICE -> "one of " + String.join(", ", choices);
        case INT_LIST ->
            "comma-separated integers in [" + num(min) + ", " + num(max) + "], e.g. 256,256";
      };
    }

    private static String num(double v) {
      return v >= Long.MAX_VALUE ? "inf" : Long.toString((long) v);
    }

    Object parse(String text) {
      String t = text.trim();
      try {
        return switch (kind) {
          case INT -> check(Integer.parseInt(t));
          case LONG -> check(Long.parseLong(t));
          case DOUBLE -> check(Double.parseDouble(t));
          case CHOICE -> {
            String c = t.toLowerCase(Locale.ROOT);
            if (!choices.contains(c)) {
              throw invalid(text);
            }
            yield c;
          }
          case INT_LIST -> {
            List<Integer> out = new ArrayList<>();
            for (String part : t.split(",", -1)) {
              out.add(check(Integer.parseInt(part.trim())));
            }
            yield List.copyOf(out);
          }
        };
      } catch (NumberFormatException e) {
        throw invalid(text);
      }
    }

    private <N extends Number> N check(N n) {
      double v = n.doubleValue();
      if (!(v >= min && v <= max)) {
        throw invalid(String.valueOf(n));
      }
      return n;
    }

    private IllegalArgumentException invalid(String text) {
      return new IllegalArgumentException(
          "invalid value '" + text + "' for " + key + ": expected " + validRange());
    }

    static String format(Object value) {
      if (value instanceof List<?> l) {
        StringJoiner j = new StringJoiner(",");
        l.forEach(x -> j.add(String.valueOf(x)));
        return j.toString();
      }
      return String.valueOf(value);
    }
  }

  private final Map<String, Key> keys;
  private final Map<String, Object> values;

  private Settings(Map<String, Key> keys, Map<String, Object> values) {
    this.keys = keys;
    this.values = values;
  }

  /** The defaults of {@code keys}. */
  static Settings defaults(List<Key> keys) {
    Map<String, Key> k = new LinkedHashMap<>();
    Map<String, Object> v = new LinkedHashMap<>();
    for (Key key : keys) {
      if (k.put(key.key(), key) != null) {
        throw new IllegalStateException("duplicate setting " + key.key());
      }
      v.put(key.key(), key.defaultValue());
    }
    return new Settings(Collections.unmodifiableMap(k), v);
  }

  /**
   * These settings with {@code assignments} ({@code key=value} strings) applied in order.
   *
   * @throws IllegalArgumentException for a malformed assignment, an unknown key (the message lists
   *     the valid keys) or an invalid value (the message says what is valid)
   */
  Settings with(List<String> assignments) {
    Map<String, Object> v = new LinkedHashMap<>(values);
    for (String a : assignments) {
      int eq = a.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(
            "--set expects key=value, got '" + a + "'; valid keys: " + String.join(", ", keys()));
      }
      String key = a.substring(0, eq).trim();
      Key k = keys.get(key);
      if (k == null) {
        throw new IllegalArgumentException(
            "unknown setting '" + key + "'; valid keys: " + String.join(", ", keys()));
      }
      v.put(key, k.parse(a.substring(eq + 1)));
    }
    return new Settings(keys, v);
  }

  /** This with one value replaced (already typed), checked like {@code --set}. */
  Settings with(String key, Object value) {
    return with(List.of(key + "=" + Key.format(value)));
  }

  List<String> keys() {
    return List.copyOf(keys.keySet());
  }

  Map<String, Key> keyMap() {
    return keys;
  }

  /** Every value in key order (lists as {@code List<Integer>}). */
  Map<String, Object> values() {
    return Collections.unmodifiableMap(values);
  }

  int getInt(String key) {
    return ((Number) get(key)).intValue();
  }

  long getLong(String key) {
    return ((Number) get(key)).longValue();
  }

  double getDouble(String key) {
    return ((Number) get(key)).doubleValue();
  }

  String getString(String key) {
    return (String) get(key);
  }

  @SuppressWarnings("unchecked")
  List<Integer> getIntList(String key) {
    return (List<Integer>) get(key);
  }

  private Object get(String key) {
    Object v = values.get(key);
    if (v == null && !values.containsKey(key)) {
      throw new IllegalArgumentException("no setting " + key);
    }
    return Objects.requireNonNull(v, key);
  }
}
