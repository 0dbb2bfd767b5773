package dev.slingshot.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A fixture of {@code src/test/resources/fixtures/hvp/} (written by {@code
 * scripts/fixtures/make_hvp_fixtures.py} with PyTorch 1.13): parameters, inputs, labels, a
 * direction v and PyTorch's loss, gradient and {@code torch.autograd.functional.hvp}; the forward
 * is rebuilt here with DJL ops from the fixture's description.
 */
final class HvpFixture implements AutoCloseable {

  final String model;
  final JsonNode json;
  final NDManager manager;
  final List<String> names = new ArrayList<>();
  final NDList params = new NDList();
  final NDList v = new NDList();
  final NDArray x;
  final NDArray labels;

  /**
   * The forward's scalar operands, as arrays the fixture holds. DJL's operations with a number
   * operand ({@code maximum(0f)}, {@code div(2.83f)}) make the number a PyTorch tensor on a Java
   * direct buffer without copying it and close that array at once; the autograd graph keeps the
   * tensor, but not the buffer, which a garbage collection then frees. Products taken on that graph
   * after a collection read freed memory: 59 of 120 (40 rounds of the three fixtures, a forced
   * collection and the freed memory overwritten before the gradient-graph route) were wrong by
   * 30-90% or NaN, all of mlp_relu and attention (mlp_tanh has no number operand); with these
   * arrays, none of 60.
   */
  private final NDArray zero;

  private final NDArray scale;

  HvpFixture(NDManager parent, String model) {
    this.model = model;
    try (InputStream in =
        HvpFixture.class.getResourceAsStream("/fixtures/hvp/" + model + ".json")) {
      json = new ObjectMapper().readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    manager = parent.newSubManager();
    for (JsonNode p : json.get("params")) {
      names.add(p.get("name").asText());
      NDArray a = floats(p);
      a.setRequiresGradient(true);
      params.add(a);
    }
    for (JsonNode p : json.get("v")) {
      v.add(floats(p));
    }
    x = floats(json.get("inputs"));
    JsonNode l = json.get("labels");
    int[] lab = new int[l.get("data").size()];
    for (int i = 0; i < lab.length; i++) {
      lab[i] = l.get("data").get(i).asInt();
    }
    labels = manager.create(lab);
    zero = manager.create(0f);
    scale = manager.create(2.8284271247461903f);
  }

  private NDArray floats(JsonNode node) {
    JsonNode data = node.get("data");
    float[] f = new float[data.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) data.get(i).asDouble();
    }
    return manager.create(f, shape(node.get("shape")));
  }

  private static Shape shape(JsonNode s) {
    long[] dims = new long[s.size()];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = s.get(i).asLong();
    }
    return new Shape(dims);
  }

  /** The reference values of a per-parameter list field ("grad", "hv", "hv_float64"), flattened. */
  double[] reference(String field) {
    List<Double> out = new ArrayList<>();
    for (JsonNode p : json.get(field)) {
      for (JsonNode d : p.get("data")) {
        out.add(d.asDouble());
      }
    }
    return out.stream().mapToDouble(Double::doubleValue).toArray();
  }

  NDArray param(String name) {
    return params.get(names.indexOf(name));
  }

  /** Softmax cross-entropy with mean reduction: mean_r −log_softmax(logits)[r, label_r]. */
  private NDArray crossEntropy(NDArray logits) {
    NDArray oneHot = labels.oneHot((int) logits.getShape().get(1)).toType(DataType.FLOAT32, false);
    return logits.logSoftmax(-1).mul(oneHot).sum(new int[] {-1}).neg().mean();
  }

  /** {@code x·Wᵀ + b} in DJL's Linear layout (weight [out, in], bias [out]). */
  private NDArray linear(NDArray in, String layer) {
    return in.matMul(param(layer + ".weight").transpose()).add(param(layer + ".bias"));
  }

  /** The loss of the fixture's model at the current parameters (call with grad mode on). */
  NDArray forward() {
    switch (model) {
      case "mlp_relu":
        return mlp(true);
      case "mlp_tanh":
        return mlp(false);
      case "attention":
        return attention();
      default:
        throw new IllegalArgumentException(model);
    }
  }

  private NDArray mlp(boolean relu) {
    NDArray h1 = linear(x, "layer1");
    h1 = relu ? h1.maximum(zero) : h1.tanh();
    NDArray h2 = linear(h1, "layer2");
    h2 = relu ? h2.maximum(zero) : h2.tanh();
    return crossEntropy(linear(h2, "layer3"));
  }

  private NDArray attention() {
    NDArray q = linear(x, "query");
    NDArray k = linear(x, "key");
    NDArray val = linear(x, "value");
    NDArray scores = q.matMul(k.transpose(0, 2, 1)).div(scale);
    long seq = x.getShape().get(1);
    boolean[] above = new boolean[(int) (seq * seq)];
    for (int i = 0; i < seq; i++) {
      for (int j = i + 1; j < seq; j++) {
        above[(int) (i * seq + j)] = true;
      }
    }
    NDArray upper = manager.create(above, new Shape(seq, seq));
    NDArray masked =
        NDArrays.where(
            upper.broadcast(scores.getShape()), manager.full(scores.getShape(), -1e9f), scores);
    NDArray attn = masked.softmax(-1);
    NDArray out = linear(attn.matMul(val), "out");
    NDArray last = out.get(":, -1, :");
    return crossEntropy(linear(last, "classifier"));
  }

  @Override
  public void close() {
    manager.close();
  }
}
