package dev.slingshot.examples;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.slingshot.core.Measurement;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The relative feature change of Thilak et al. (2022), §2 and Fig. 2e-f: for each decoder layer l,
 * ‖h^l_{t+1} − h^l_t‖ / ‖h^l_t‖, where h^l_t is the layer's output on a fixed probe batch before
 * the t-th update and h^l_{t+1} after it (Frobenius norms over the whole probe batch).
 * Dimensionless.
 *
 * <p>Use: {@link #before(NDManager)} just before {@code trainer.step()}, {@link #after(long,
 * NDList)} just after, both in a scope that lives across the step; the outputs stay on the device
 * and the L ratios are read back in one transfer.
 */
final class FeatureChange {

  /** The event type in {@code events.jsonl}. */
  static final String TYPE = "feature_change";

  /** The key of layer l (1-based) in {@link Measured#values()}. */
  static String key(int layer) {
    return "feature.change.layer" + layer;
  }

  private final DecoderTransformer model;
  private final int[] probe;
  private final Shape shape;
  private final ParameterStore parameters;

  /**
   * @param probe the fixed probe tokens, row-major, {@code sequence} per example
   * @param parameters an inference parameter store
   */
  FeatureChange(DecoderTransformer model, int[] probe, int sequence, ParameterStore parameters) {
    this.model = model;
    this.probe = probe.clone();
    this.shape = new Shape(probe.length / sequence, sequence);
    this.parameters = parameters;
  }

  /** The probe's size in examples. */
  long size() {
    return shape.get(0);
  }

  /** The layer outputs h_t; they and all temporaries belong to {@code scope}. */
  NDList before(NDManager scope) {
    return model.layerOutputs(parameters, scope.create(probe, shape));
  }

  /** The ratios for the update that moved the weights since {@code before} was taken. */
  Measured after(long step, NDList before) {
    NDList after = model.layerOutputs(parameters, before.head().getManager().create(probe, shape));
    NDList ratios = new NDList(after.size());
    for (int i = 0; i < after.size(); i++) {
      NDArray h = before.get(i);
      ratios.add(after.get(i).sub(h).norm().div(h.norm()));
    }
    float[] values = NDArrays.stack(ratios).toType(DataType.FLOAT32, false).toFloatArray();
    ratios.close();
    after.close();
    Map<String, Double> out = new LinkedHashMap<>();
    for (int i = 0; i < values.length; i++) {
      out.put(key(i + 1), (double) values[i]);
    }
    return new Measured(step, Collections.unmodifiableMap(out));
  }

  /** One feature-change measurement, logged as an event of type {@value #TYPE}. */
  record Measured(long step, Map<String, Double> values) implements Measurement {
    @Override
    public String type() {
      return TYPE;
    }
  }
}
