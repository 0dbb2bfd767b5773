package dev.slingshot.examples;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.UniformInitializer;
import ai.djl.util.PairList;

/**
 * Multi-head self-attention with a causal mask: position i attends to positions 0..i only (the
 * "causal attention masking" of Thilak et al., App. B). Queries, keys and values come from one
 * bias-free {@link Linear} of width 3d (one matrix product instead of three), the heads are
 * combined by a bias-free output {@link Linear}; no dropout. Bias-free projections follow Power et
 * al.'s reference implementation.
 *
 * <p>Input and output: {@code (batch, sequence, d)}. DJL's {@code ScaledDotProductAttentionBlock}
 * does accept a mask as an extra input, but it has separate biased Q/K/V projections and dropout,
 * so this block is written from NDArray operations instead.
 */
final class CausalSelfAttention extends AbstractBlock {

  private final int width;
  private final int heads;
  private final int maxLength;
  private final Linear qkv;
  private final Linear output;
  private NDArray mask;

  CausalSelfAttention(int width, int heads, int maxLength) {
    if (width % heads != 0) {
      throw new IllegalArgumentException(
          "width " + width + " is not a multiple of the number of heads " + heads);
    }
    this.width = width;
    this.heads = heads;
    this.maxLength = maxLength;
    this.qkv = addChildBlock("qkv", Linear.builder().setUnits(3L * width).optBias(false).build());
    this.output = addChildBlock("output", Linear.builder().setUnits(width).optBias(false).build());
    // PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    float bound = (float) (1 / Math.sqrt(width));
    qkv.setInitializer(new UniformInitializer(bound), Parameter.Type.WEIGHT);
    output.setInitializer(new UniformInitializer(bound), Parameter.Type.WEIGHT);
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    return new NDList(attend(ps, inputs.singletonOrThrow(), training, false));
  }

  /**
   * Self-attention of {@code x} {@code (B, S, d)}; with {@code lastOnly} only the last position's
   * query is used and the output is {@code (B, 1, d)}: the same values as the last row of the full
   * output (the last position sees every position, so no mask is needed), at a quarter of the
   * query, score and output-projection cost.
   */
  NDArray attend(ParameterStore ps, NDArray x, boolean training, boolean lastOnly) {
    long batch = x.getShape().get(0);
    long length = x.getShape().get(1);
    long headWidth = width / heads;
    NDArray projected = qkv.forward(ps, new NDList(x), training).singletonOrThrow();
    // (B, S, 3, H, dh) -> (3, B, H, S, dh)
    NDArray split = projected.reshape(batch, length, 3, heads, headWidth).transpose(2, 0, 3, 1, 4);
    NDArray q = lastOnly ? split.get(new NDIndex("0, :, :, -1:, :")) : split.get(0);
    NDArray k = split.get(1);
    NDArray v = split.get(2);
    NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).muli(1.0 / Math.sqrt(headWidth));
    if (!lastOnly) {
      NDArray causal =
          length == maxLength ? mask : mask.get(new NDIndex(":{}, :{}", length, length));
      scores = scores.addi(causal.toDevice(scores.getDevice(), false));
    }
    long rows = lastOnly ? 1 : length;
    NDArray combined =
        scores.softmax(-1).matMul(v).transpose(0, 2, 1, 3).reshape(batch, rows, width);
    return output.forward(ps, new NDList(combined), training).singletonOrThrow();
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    qkv.initialize(manager, dataType, inputShapes);
    output.initialize(manager, dataType, inputShapes);
    float[] m = new float[maxLength * maxLength];
    for (int i = 0; i < maxLength; i++) {
      for (int j = i + 1; j < maxLength; j++) {
        m[i * maxLength + j] = Float.NEGATIVE_INFINITY;
      }
    }
    mask = manager.create(m, new Shape(maxLength, maxLength)).toType(dataType, false);
  }
}
