package dev.slingshot.examples;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.optimizer.Optimizer;
import dev.slingshot.core.RunLog;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * A run directory's checkpoint, {@code DIR/checkpoint/}: everything needed to continue the run as
 * if it had never stopped.
 *
 * <ul>
 *   <li>{@code parameters.params}: the model's parameters in DJL's own format ({@link
 *       Block#saveParameters}, float32, exact), loadable by {@code Model.load};
 *   <li>{@code optimizer.bin}: the optimizer's private state, read by reflection (ENVIRONMENT.md):
 *       every per-parameter array map ({@code AdamW}: {@code means}, {@code variances}) as exact
 *       float32, every per-parameter counter map ({@code updateCounts}, which drives the bias
 *       correction) and the global {@code numUpdate} / {@code beginNumUpdate}; parameters are named
 *       by their block name, not by DJL's per-run random ids;
 *   <li>{@code checkpoint.json}: the step, and the byte lengths of {@code metrics.jsonl} and {@code
 *       events.jsonl} at that step (both are flushed per line, so these are exact line boundaries:
 *       a resumed run truncates the files there and appends).
 * </ul>
 *
 * <p>The data order is not stored: it is a function of (seed, step), replayed on resume. The
 * detector's and the reset policy's state is not stored either: it is rebuilt by replaying {@code
 * metrics.jsonl} up to the checkpoint into a fresh monitor (its events suppressed).
 *
 * <p>A checkpoint is written into {@code checkpoint.tmp/} and renamed into place ({@code
 * checkpoint/} is first moved to {@code checkpoint.old/}, then deleted), so a run killed while
 * saving still has a complete checkpoint under one of the two names.
 */
final class TrainingCheckpoint {

  static final String DIR = "checkpoint";
  static final String STATE_FILE = "checkpoint.json";
  static final String PARAMETERS_FILE = "parameters.params";
  static final String OPTIMIZER_FILE = "optimizer.bin";

  private static final String TMP = DIR + ".tmp";
  private static final String OLD = DIR + ".old";
  private static final int MAGIC = 0x534C4F53; // "SLOS": slingshot optimizer state
  private static final int FORMAT = 1;

  /** What {@code checkpoint.json} says. */
  record Info(Path dir, long step, long metricsBytes, long eventsBytes) {}

  private TrainingCheckpoint() {}

  /**
   * Saves a checkpoint of step {@code step} into {@code runDir/checkpoint/}, atomically.
   *
   * @param parameters the parameters by their full names in the block ({@code 01Linear_weight}), in
   *     block order
   */
  static void save(
      Path runDir, long step, Block block, Optimizer optimizer, Map<String, Parameter> parameters)
      throws IOException {
    Path tmp = runDir.resolve(TMP);
    deleteTree(tmp);
    Files.createDirectories(tmp);
    try (FileOutputStream f = new FileOutputStream(tmp.resolve(PARAMETERS_FILE).toFile());
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(f))) {
      block.saveParameters(out);
      out.flush();
      f.getFD().sync();
    }
    try (FileOutputStream f = new FileOutputStream(tmp.resolve(OPTIMIZER_FILE).toFile());
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(f))) {
      writeOptimizer(out, optimizer, parameters);
      out.flush();
      f.getFD().sync();
    }
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("format", FORMAT);
    info.put("step", step);
    info.put("metrics_bytes", sizeOf(runDir.resolve(RunLog.METRICS_FILE)));
    info.put("events_bytes", sizeOf(runDir.resolve(RunLog.EVENTS_FILE)));
    info.put("optimizer", optimizer.getClass().getName());
    info.put(
        "data_order",
        "not stored: the epoch permutations are replayed from the seed up to this step");
    info.put(
        "monitor",
        "not stored: rebuilt by replaying metrics.jsonl up to this step into a fresh monitor");
    info.put("saved", Instant.now().toString());
    RunFiles.writeJson(tmp.resolve(STATE_FILE), info);

    Path dir = runDir.resolve(DIR);
    Path old = runDir.resolve(OLD);
    deleteTree(old);
    if (Files.exists(dir)) {
      Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE);
    }
    Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
    deleteTree(old);
  }

  /** The latest complete checkpoint of {@code runDir}, if any. */
  static Optional<Info> find(Path runDir) throws IOException {
    for (String name : List.of(DIR, OLD)) {
      Path d = runDir.resolve(name);
      Path state = d.resolve(STATE_FILE);
      if (Files.isRegularFile(state)
          && Files.isRegularFile(d.resolve(PARAMETERS_FILE))
          && Files.isRegularFile(d.resolve(OPTIMIZER_FILE))) {
        Map<String, Object> m = RunFiles.readJsonMap(state);
        return Optional.of(
            new Info(
                d,
                ((Number) m.get("step")).longValue(),
                ((Number) m.get("metrics_bytes")).longValue(),
                ((Number) m.get("events_bytes")).longValue()));
      }
    }
    return Optional.empty();
  }

  /**
   * Truncates {@code metrics.jsonl} and {@code events.jsonl} to their lengths at the checkpoint:
   * the records after it (and a line cut by {@code kill -9}) are dropped, the rest is untouched.
   */
  static void truncateLogs(Path runDir, Info info) throws IOException {
    truncate(runDir.resolve(RunLog.METRICS_FILE), info.metricsBytes());
    truncate(runDir.resolve(RunLog.EVENTS_FILE), info.eventsBytes());
  }

  private static void truncate(Path file, long bytes) throws IOException {
    if (!Files.exists(file)) {
      if (bytes == 0) {
        Files.createFile(file);
        return;
      }
      throw new IOException(file + " is missing; the checkpoint expects " + bytes + " bytes");
    }
    long size = Files.size(file);
    if (size < bytes) {
      throw new IOException(
          file + " has " + size + " bytes, fewer than the " + bytes + " the checkpoint saw");
    }
    try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
      c.truncate(bytes);
      c.force(true);
    }
  }

  /**
   * Loads the checkpoint's parameters into {@code block} before the trainer initialises it (DJL's
   * {@code Parameter.initialize} keeps a loaded array and only marks it for gradients).
   */
  static void loadParameters(Info info, Block block, NDManager manager) throws IOException {
    try (InputStream in = Files.newInputStream(info.dir().resolve(PARAMETERS_FILE));
        DataInputStream dis = new DataInputStream(new BufferedInputStream(in))) {
      block.loadParameters(manager, dis);
    } catch (MalformedModelException e) {
      throw new IOException("cannot read " + info.dir().resolve(PARAMETERS_FILE) + ": " + e, e);
    }
  }

  // ------------------------------------------------------------------ optimizer state

  private static void writeOptimizer(
      DataOutputStream out, Optimizer optimizer, Map<String, Parameter> parameters)
      throws IOException {
    Map<String, String> nameById = new LinkedHashMap<>();
    parameters.forEach((name, p) -> nameById.put(p.getId(), name));
    out.writeInt(MAGIC);
    out.writeInt(FORMAT);
    out.writeUTF(optimizer.getClass().getName());
    List<Field> fields = stateFields(optimizer.getClass());
    out.writeInt(fields.size());
    for (Field f : fields) {
      out.writeUTF(f.getDeclaringClass().getName() + "#" + f.getName());
      Object value = get(f, optimizer);
      if (f.getType() == int.class) {
        out.writeByte('I');
        out.writeInt((Integer) value);
        continue;
      }
      Map<?, ?> map = (Map<?, ?>) value;
      out.writeByte('M');
      // by parameter name, in block order: the same state gives the same bytes
      Map<String, Object> entries = new LinkedHashMap<>();
      for (Map.Entry<String, String> idName : nameById.entrySet()) {
        if (map != null && map.containsKey(idName.getKey())) {
          entries.put(idName.getValue(), map.get(idName.getKey()));
        }
      }
      if (map != null && entries.size() != map.size()) {
        throw new IllegalStateException(
            "optimizer state " + f.getName() + " has parameter ids the model does not have");
      }
      out.writeInt(entries.size());
      for (Map.Entry<String, Object> e : entries.entrySet()) {
        out.writeUTF(e.getKey());
        Object v = e.getValue();
        if (v instanceof Integer count) {
          out.writeByte('i');
          out.writeInt(count);
        } else if (v instanceof Map<?, ?> perDevice && perDevice.size() == 1) {
          NDArray a = (NDArray) perDevice.values().iterator().next();
          if (a.getDataType() != DataType.FLOAT32) {
            throw new IllegalStateException(
                "optimizer state " + f.getName() + " is " + a.getDataType() + ", not float32");
          }
          out.writeByte('a');
          long[] shape = a.getShape().getShape();
          out.writeInt(shape.length);
          for (long d : shape) {
            out.writeLong(d);
          }
          float[] data = a.toFloatArray();
          out.writeInt(data.length);
          for (float x : data) {
            out.writeFloat(x);
          }
        } else {
          throw new IllegalStateException(
              "optimizer state "
                  + f.getName()
                  + " holds "
                  + (v == null ? "null" : v.getClass().getName())
                  + "; only per-parameter counters and single-device arrays are checkpointed");
        }
      }
    }
  }

  /**
   * Restores the optimizer state saved in the checkpoint into a fresh {@code optimizer} of the same
   * class whose trainer has been created over {@code parameters} (same names and shapes).
   */
  static void restoreOptimizer(Info info, Optimizer optimizer, Map<String, Parameter> byName)
      throws IOException {
    Map<String, Field> fields = new LinkedHashMap<>();
    for (Field f : stateFields(optimizer.getClass())) {
      fields.put(f.getDeclaringClass().getName() + "#" + f.getName(), f);
    }
    Path file = info.dir().resolve(OPTIMIZER_FILE);
    try (InputStream in = Files.newInputStream(file);
        DataInputStream d = new DataInputStream(new BufferedInputStream(in))) {
      if (d.readInt() != MAGIC || d.readInt() != FORMAT) {
        throw new IOException(file + " is not a slingshot optimizer state (format " + FORMAT + ")");
      }
      String cls = d.readUTF();
      if (!cls.equals(optimizer.getClass().getName())) {
        throw new IOException(
            file + " holds the state of " + cls + ", not of " + optimizer.getClass().getName());
      }
      int n = d.readInt();
      for (int i = 0; i < n; i++) {
        String name = d.readUTF();
        Field f = fields.get(name);
        if (f == null) {
          throw new IOException(file + ": the optimizer has no state field " + name);
        }
        byte kind = d.readByte();
        if (kind == 'I') {
          set(f, optimizer, d.readInt());
          continue;
        }
        @SuppressWarnings("unchecked")
        Map<Object, Object> map = (Map<Object, Object>) get(f, optimizer);
        map.clear();
        int entries = d.readInt();
        for (int j = 0; j < entries; j++) {
          String pname = d.readUTF();
          Parameter p = byName.get(pname);
          if (p == null) {
            throw new IOException(file + ": the model has no parameter " + pname);
          }
          byte type = d.readByte();
          if (type == 'i') {
            map.put(p.getId(), d.readInt());
          } else {
            long[] shape = new long[d.readInt()];
            for (int k = 0; k < shape.length; k++) {
              shape[k] = d.readLong();
            }
            float[] data = new float[d.readInt()];
            for (int k = 0; k < data.length; k++) {
              data[k] = d.readFloat();
            }
            NDArray weight = p.getArray();
            if (!weight.getShape().equals(new Shape(shape))) {
              throw new IOException(
                  file
                      + ": state of "
                      + pname
                      + " has shape "
                      + new Shape(shape)
                      + ", the"
                      + " parameter "
                      + weight.getShape());
            }
            NDArray a = weight.getManager().create(data, new Shape(shape));
            Map<Device, NDArray> perDevice = new ConcurrentHashMap<>();
            perDevice.put(weight.getDevice(), a);
            map.put(p.getId(), perDevice);
          }
        }
      }
    }
  }

  /**
   * Turns off the sanity check that DJL's {@link ai.djl.training.Trainer} makes before its first
   * step (all gradients zero means the caller forgot backward), by setting its private {@code
   * gradientsChecked} flag: a resumed run may legitimately start with zero gradients (hinge loss
   * inside its zero-loss basin, the parity study's Sec. 2.1).
   */
  static void skipFirstStepGradientCheck(ai.djl.training.Trainer trainer) {
    try {
      Field f = ai.djl.training.Trainer.class.getDeclaredField("gradientsChecked");
      f.setAccessible(true);
      f.setBoolean(trainer, true);
    } catch (NoSuchFieldException | IllegalAccessException e) {
      throw new IllegalStateException("cannot skip DJL's first-step gradient check: " + e, e);
    }
  }

  /** The optimizer's state fields: every instance map field and Optimizer's two update counts. */
  private static List<Field> stateFields(Class<?> type) {
    List<Field> out = new ArrayList<>();
    for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (Modifier.isStatic(f.getModifiers())) {
          continue;
        }
        boolean counter =
            c == Optimizer.class
                && (f.getName().equals("numUpdate") || f.getName().equals("beginNumUpdate"));
        if (counter || Map.class.isAssignableFrom(f.getType())) {
          f.setAccessible(true);
          out.add(f);
        }
      }
    }
    return out;
  }

  private static Object get(Field f, Object target) {
    try {
      return f.get(target);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException("cannot read " + f, e);
    }
  }

  private static void set(Field f, Object target, int value) {
    try {
      f.setInt(target, value);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException("cannot write " + f, e);
    }
  }

  private static long sizeOf(Path file) throws IOException {
    return Files.exists(file) ? Files.size(file) : 0;
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
