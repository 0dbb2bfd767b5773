package dev.slingshot.examples;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.UniformInitializer;
import ai.djl.util.PairList;

/**
 * One decoder layer: causal self-attention and a ReLU feed-forward network of width 4d, each with a
 * residual connection and a {@link LayerNorm}. {@link Norm#POST} is {@code LN(x + f(x))} (Vaswani
 * et al.; Power et al.'s reference code), {@link Norm#PRE} is {@code x + f(LN(x))} (GPT-2).
 */
final class DecoderLayer extends AbstractBlock {

  /** Where the LayerNorm sits relative to the residual connection. */
  enum Norm {
    POST,
    PRE
  }

  private final Norm norm;
  private final CausalSelfAttention attention;
  private final LayerNorm attentionNorm;
  private final Linear hidden;
  private final Linear projection;
  private final LayerNorm feedForwardNorm;

  DecoderLayer(int width, int heads, int maxLength, int feedForwardMultiplier, Norm norm) {
    this.norm = norm;
    this.attention = addChildBlock("attention", new CausalSelfAttention(width, heads, maxLength));
    this.attentionNorm = addChildBlock("attention_norm", layerNorm());
    int ff = feedForwardMultiplier * width;
    this.hidden = addChildBlock("ffn_hidden", Linear.builder().setUnits(ff).optBias(false).build());
    this.projection =
        addChildBlock("ffn_output", Linear.builder().setUnits(width).optBias(false).build());
    this.feedForwardNorm = addChildBlock("ffn_norm", layerNorm());
    hidden.setInitializer(
        new UniformInitializer((float) (1 / Math.sqrt(width))), Parameter.Type.WEIGHT);
    projection.setInitializer(
        new UniformInitializer((float) (1 / Math.sqrt(ff))), Parameter.Type.WEIGHT);
  }

  static LayerNorm layerNorm() {
    // Normalises the last axis (d) of a (batch, sequence, d) input.
    return LayerNorm.builder().axis(2).build();
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    return new NDList(forward(ps, inputs.singletonOrThrow(), training, false));
  }

  /**
   * The layer's output {@code (B, S, d)}, or with {@code lastOnly} only its last position {@code
   * (B, 1, d)} (equal to the last row of the full output: positions before it only feed the last
   * one through the keys and values, which are still computed for all positions).
   */
  NDArray forward(ParameterStore ps, NDArray x, boolean training, boolean lastOnly) {
    NDArray residual = lastOnly ? x.get(new NDIndex(":, -1:, :")) : x;
    if (norm == Norm.POST) {
      NDArray a = residual.add(attention.attend(ps, x, training, lastOnly));
      a = attentionNorm.forward(ps, new NDList(a), training).singletonOrThrow();
      NDArray f = a.add(feedForward(ps, a, training));
      return feedForwardNorm.forward(ps, new NDList(f), training).singletonOrThrow();
    }
    NDArray normed = attentionNorm.forward(ps, new NDList(x), training).singletonOrThrow();
    NDArray a = residual.add(attention.attend(ps, normed, training, lastOnly));
    NDArray n = feedForwardNorm.forward(ps, new NDList(a), training).singletonOrThrow();
    return a.add(feedForward(ps, n, training));
  }

  private NDArray feedForward(ParameterStore ps, NDArray x, boolean training) {
    NDArray h = Activation.relu(hidden.forward(ps, new NDList(x), training).singletonOrThrow());
    return projection.forward(ps, new NDList(h), training).singletonOrThrow();
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    attention.initialize(manager, dataType, inputShapes);
    attentionNorm.initialize(manager, dataType, inputShapes);
    hidden.initialize(manager, dataType, inputShapes);
    Shape hiddenShape = hidden.getOutputShapes(inputShapes)[0];
    projection.initialize(manager, dataType, hiddenShape);
    feedForwardNorm.initialize(manager, dataType, inputShapes);
  }
}
