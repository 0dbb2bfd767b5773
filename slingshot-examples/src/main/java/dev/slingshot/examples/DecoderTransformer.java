package dev.slingshot.examples;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.training.initializer.UniformInitializer;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The decoder-only transformer of Thilak et al. (2022), App. B (after Power et al.): learned token
 * and position embeddings, {@code layers} {@link DecoderLayer}s of width d with causal
 * self-attention, and a bias-free linear {@link #classifier()} (the "last layer" whose weight norm
 * the paper tracks) applied to the output at the last position.
 *
 * <p>Input: token ids {@code (batch, sequence)} (int32). Output: logits {@code (batch, classes)}.
 * With {@link DecoderLayer.Norm#POST} (the default, as in Power et al.'s code and Vaswani et al.'s
 * decoder) each layer ends in a LayerNorm, so the last layer's LayerNorm is the final one; with
 * {@link DecoderLayer.Norm#PRE} a final LayerNorm is added before the classifier.
 *
 * <p>With a {@linkplain Config#temperature() temperature} τ the classifier is the normalised one of
 * App. C.2: logits = cos(w_k, f(x)) / τ. Initialisation follows PyTorch's module defaults
 * (embeddings N(0, 1), linear weights U(±1/√fan_in), LayerNorm γ = 1, β = 0) so that a PyTorch
 * re-implementation with default modules starts from the same distribution.
 *
 * <p>Only the last position is classified, so by default ({@link Config#lastPositionOnly()}) the
 * last layer computes keys and values for every position but queries, attention output,
 * feed-forward and LayerNorms only for the last one: the same logits and gradients as the textbook
 * computation (tested), with about 28% fewer FLOPs per step. {@link #layerOutputs} always computes
 * every position.
 */
final class DecoderTransformer extends AbstractBlock {

  /** The classifier's name; its weight is the paper's "last layer". */
  static final String CLASSIFIER = "classifier";

  /** The architecture. */
  record Config(
      int vocabulary,
      int classes,
      int sequenceLength,
      int width,
      int heads,
      int layers,
      int feedForwardMultiplier,
      DecoderLayer.Norm norm,
      double temperature,
      boolean lastPositionOnly) {

    /** The paper's model: 2 layers, width 128, 4 heads, feed-forward 4d, post-LayerNorm. */
    static Config paper(int vocabulary, int classes, int sequenceLength) {
      return new Config(
          vocabulary,
          classes,
          sequenceLength,
          128,
          4,
          2,
          4,
          DecoderLayer.Norm.POST,
          Double.NaN,
          true);
    }

    Config {
      require(vocabulary > 0, "vocabulary", vocabulary);
      require(classes > 0, "classes", classes);
      require(sequenceLength > 0, "sequence length", sequenceLength);
      require(width > 0, "width", width);
      require(heads > 0 && width % heads == 0, "heads (must divide the width)", heads);
      require(layers > 0, "layers", layers);
      require(feedForwardMultiplier > 0, "feed-forward multiplier", feedForwardMultiplier);
      require(norm != null, "norm", norm);
      require(Double.isNaN(temperature) || temperature > 0, "temperature", temperature);
    }

    Config withNorm(DecoderLayer.Norm n) {
      return new Config(
          vocabulary,
          classes,
          sequenceLength,
          width,
          heads,
          layers,
          feedForwardMultiplier,
          n,
          temperature,
          lastPositionOnly);
    }

    Config withTemperature(double t) {
      return new Config(
          vocabulary,
          classes,
          sequenceLength,
          width,
          heads,
          layers,
          feedForwardMultiplier,
          norm,
          t,
          lastPositionOnly);
    }

    Config withSize(int w, int h, int l) {
      return new Config(
          vocabulary,
          classes,
          sequenceLength,
          w,
          h,
          l,
          feedForwardMultiplier,
          norm,
          temperature,
          lastPositionOnly);
    }

    /** With {@code false} the last layer computes every position (the textbook computation). */
    Config withLastPositionOnly(boolean only) {
      return new Config(
          vocabulary,
          classes,
          sequenceLength,
          width,
          heads,
          layers,
          feedForwardMultiplier,
          norm,
          temperature,
          only);
    }

    boolean normalisedClassifier() {
      return !Double.isNaN(temperature);
    }

    private static void require(boolean ok, String what, Object value) {
      if (!ok) {
        throw new IllegalArgumentException(
            String.format(Locale.ROOT, "invalid %s: %s", what, value));
      }
    }
  }

  private final Config config;
  private final Parameter tokenEmbedding;
  private final Parameter positionEmbedding;
  private final List<DecoderLayer> layers = new ArrayList<>();
  private final LayerNorm finalNorm;
  private final Linear classifier;

  DecoderTransformer(Config config) {
    this.config = config;
    this.tokenEmbedding =
        addParameter(
            Parameter.builder()
                .setName("token_embedding")
                .setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(config.vocabulary(), config.width()))
                .optInitializer(new NormalInitializer(1f))
                .build());
    this.positionEmbedding =
        addParameter(
            Parameter.builder()
                .setName("position_embedding")
                .setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(config.sequenceLength(), config.width()))
                .optInitializer(new NormalInitializer(1f))
                .build());
    for (int i = 0; i < config.layers(); i++) {
      layers.add(
          addChildBlock(
              "layer" + (i + 1),
              new DecoderLayer(
                  config.width(),
                  config.heads(),
                  config.sequenceLength(),
                  config.feedForwardMultiplier(),
                  config.norm())));
    }
    this.finalNorm =
        config.norm() == DecoderLayer.Norm.PRE
            ? addChildBlock("final_norm", DecoderLayer.layerNorm())
            : null;
    this.classifier =
        addChildBlock(
            CLASSIFIER, Linear.builder().setUnits(config.classes()).optBias(false).build());
    classifier.setInitializer(
        new UniformInitializer((float) (1 / Math.sqrt(config.width()))), Parameter.Type.WEIGHT);
  }

  Config config() {
    return config;
  }

  /** The last layer. */
  Linear classifier() {
    return classifier;
  }

  /** The classifier's weight {@code (classes, d)}. */
  Parameter classifierWeight() {
    return classifier.getParameters().get("weight");
  }

  /** The parameters before the classifier (the "representation" of App. B.1). */
  List<Parameter> representationParameters() {
    List<Parameter> out = new ArrayList<>();
    getParameters()
        .forEach(
            p -> {
              if (p.getValue() != classifierWeight()) {
                out.add(p.getValue());
              }
            });
    return out;
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    return new NDList(run(ps, inputs.singletonOrThrow(), training, null));
  }

  /**
   * The output of every decoder layer, {@code (batch, sequence, d)} each, for the feature-change
   * measurement of Fig. 2e-f (forward in inference mode).
   */
  NDList layerOutputs(ParameterStore ps, NDArray tokens) {
    List<NDArray> out = new ArrayList<>(layers.size());
    run(ps, tokens, false, out);
    return new NDList(out);
  }

  private NDArray run(ParameterStore ps, NDArray tokens, boolean training, List<NDArray> collect) {
    long length = tokens.getShape().get(1);
    NDArray table = ps.getValue(tokenEmbedding, tokens.getDevice(), training);
    NDArray h = Embedding.embedding(tokens, table, SparseFormat.DENSE).singletonOrThrow();
    NDArray positions = ps.getValue(positionEmbedding, tokens.getDevice(), training);
    if (length != config.sequenceLength()) {
      positions = positions.get(new NDIndex(":{}", length));
    }
    h = h.add(positions);
    for (int i = 0; i < layers.size(); i++) {
      // Only the last position is classified: the last layer computes only that position unless
      // every position's features are wanted (same values, about 28% fewer FLOPs in total).
      boolean lastOnly = collect == null && config.lastPositionOnly() && i == layers.size() - 1;
      h = layers.get(i).forward(ps, h, training, lastOnly);
      if (collect != null) {
        collect.add(h);
      }
    }
    if (collect != null) {
      return h;
    }
    if (finalNorm != null) {
      h = finalNorm.forward(ps, new NDList(h), training).singletonOrThrow();
    }
    NDArray last = h.get(new NDIndex(":, -1, :"));
    if (!config.normalisedClassifier()) {
      return classifier.forward(ps, new NDList(last), training).singletonOrThrow();
    }
    // An op's result joins its first operand's manager: start from a transposed view moved to the
    // step's manager so that nothing derived from the weight outlives the step.
    NDArray wt = ps.getValue(classifierWeight(), last.getDevice(), training).transpose();
    wt.attach(last.getManager());
    NDArray f = last.div(last.norm(new int[] {-1}, true).add(1e-12f));
    NDArray wn = wt.div(wt.norm(new int[] {0}, true).add(1e-12f));
    return f.matMul(wn).divi((float) config.temperature());
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {new Shape(inputShapes[0].get(0), config.classes())};
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape hidden = new Shape(inputShapes[0].get(0), inputShapes[0].get(1), config.width());
    for (DecoderLayer layer : layers) {
      layer.initialize(manager, dataType, hidden);
    }
    if (finalNorm != null) {
      finalNorm.initialize(manager, dataType, hidden);
    }
    classifier.initialize(manager, dataType, new Shape(inputShapes[0].get(0), config.width()));
  }
}
