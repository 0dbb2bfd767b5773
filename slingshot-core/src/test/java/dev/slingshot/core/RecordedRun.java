package dev.slingshot.core;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A recorded training run from {@code src/test/resources/fixtures/runs} (written by {@code
 * scripts/fixtures/record_runs.py}): columns {@code step, train_loss, full_train_loss, test_loss,
 * test_acc, last_layer_norm, update_norm}, empty where not measured. The last-layer norm is carried
 * as the norm named {@link #LAST_LAYER}.
 */
final class RecordedRun {

  static final String LAST_LAYER = "last_layer";

  private RecordedRun() {}

  static List<StepRecord> load(String name) {
    String path = "/fixtures/runs/" + name + ".csv";
    try (InputStream in = RecordedRun.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing test fixture " + path);
      }
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      List<String> header = Arrays.asList(r.readLine().split(",", -1));
      int step = header.indexOf("step");
      int loss = header.indexOf("train_loss");
      int full = header.indexOf("full_train_loss");
      int norm = header.indexOf("last_layer_norm");
      int update = header.indexOf("update_norm");
      List<StepRecord> out = new ArrayList<>();
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        if (line.isEmpty()) {
          continue;
        }
        String[] f = line.split(",", -1);
        StepRecord.Builder b =
            StepRecord.builder(Long.parseLong(f[step]), Double.parseDouble(f[loss]));
        if (!f[full].isEmpty()) {
          b.fullTrainLoss(Double.parseDouble(f[full]));
        }
        if (!f[update].isEmpty()) {
          b.updateNorm(Double.parseDouble(f[update]));
        }
        if (!f[norm].isEmpty()) {
          b.norm(LAST_LAYER, Double.parseDouble(f[norm]));
        }
        out.add(b.build());
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
