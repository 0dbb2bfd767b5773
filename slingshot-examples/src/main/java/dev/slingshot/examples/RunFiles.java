package dev.slingshot.examples;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/** Small file helpers for run directories: pretty JSON written atomically. */
final class RunFiles {

  static final ObjectMapper JSON =
      JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

  private RunFiles() {}

  /** Writes {@code value} as pretty JSON through a temporary file, so readers never see half. */
  static void writeJson(Path file, Object value) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    JSON.writeValue(tmp.toFile(), value);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /**
   * The head of a run's {@code config.json}: the experiment, its paper set-up and deviations, every
   * setting and the seed.
   */
  static Map<String, Object> configHead(Experiment e, Settings s) {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("experiment", e.id());
    c.put("setup", e.setup());
    c.put("paper", e.paper());
    c.put("deviations", e.deviations());
    c.put("settings", s.values());
    c.put("seed", s.getLong("seed"));
    return c;
  }

  /**
   * Where a trained run ran, into its {@code config.json}: dtype, engine and its version, DJL's
   * version, device, PyTorch threads, Java, OS, slingshot's version and the start time.
   */
  static void putEnvironment(Map<String, Object> c, ai.djl.training.Trainer trainer) {
    ai.djl.engine.Engine engine = trainer.getManager().getEngine();
    c.put("dtype", "float32");
    c.put("engine", engine.getEngineName());
    c.put("engine_version", engine.getVersion());
    c.put("djl_version", ai.djl.engine.Engine.getDjlVersion());
    c.put("device", trainer.getDevices()[0].toString());
    c.put("pytorch_num_threads", System.getProperty("ai.djl.pytorch.num_threads"));
    c.put("java_version", System.getProperty("java.version"));
    c.put("java_vendor", System.getProperty("java.vendor"));
    c.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    c.put("slingshot_version", ParityTraining.version());
    c.put("started", java.time.Instant.now().toString());
  }

  /** Reads a JSON object as an ordered map. */
  static Map<String, Object> readJsonMap(Path file) throws IOException {
    return JSON.readValue(file.toFile(), new TypeReference<LinkedHashMap<String, Object>>() {});
  }
}
