package dev.slingshot.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DecoderTransformerTest {

  private static final int VOCAB = 99;
  private static final int CLASSES = 97;

  @ParameterizedTest
  @EnumSource(DecoderLayer.Norm.class)
  void shapesAndParameterCount(DecoderLayer.Norm norm) {
    try (NDManager manager = NDManager.newBaseManager()) {
      DecoderTransformer net =
          model(manager, DecoderTransformer.Config.paper(VOCAB, CLASSES, 4).withNorm(norm));
      ParameterStore ps = new ParameterStore(manager, false);
      NDArray x = manager.randomInteger(0, VOCAB, new Shape(6, 4), DataType.INT32);
      NDArray logits = net.forward(ps, new NDList(x), false).singletonOrThrow();
      assertThat(logits.getShape()).isEqualTo(new Shape(6, CLASSES));
      assertThat(logits.getDataType()).isEqualTo(DataType.FLOAT32);
      NDList layers = net.layerOutputs(ps, x);
      assertThat(layers).hasSize(2);
      assertThat(layers.get(0).getShape()).isEqualTo(new Shape(6, 4, 128));
      assertThat(net.classifierWeight().getArray().getShape()).isEqualTo(new Shape(CLASSES, 128));

      long count = 0;
      for (var p : net.getParameters()) {
        count += p.getValue().getArray().size();
      }
      // embeddings (99 + 4) x 128; per layer: qkv 3·128², out 128², ffn 2·4·128², 2 LayerNorms
      // (2·2·128); classifier 97 x 128; pre-LN adds a final LayerNorm.
      long perLayer = 3L * 128 * 128 + 128 * 128 + 8L * 128 * 128 + 4 * 128;
      long expected =
          103L * 128 + 2 * perLayer + 97L * 128 + (norm == DecoderLayer.Norm.PRE ? 256 : 0);
      assertThat(count).isEqualTo(expected);
    }
  }

  /** Changing a later token leaves every earlier position's output unchanged, in every layer. */
  @ParameterizedTest
  @EnumSource(DecoderLayer.Norm.class)
  void attentionIsCausal(DecoderLayer.Norm norm) {
    try (NDManager manager = NDManager.newBaseManager()) {
      DecoderTransformer net =
          model(manager, DecoderTransformer.Config.paper(VOCAB, CLASSES, 4).withNorm(norm));
      ParameterStore ps = new ParameterStore(manager, false);
      int[] a = {5, 97, 11, 98, 3, 97, 40, 98};
      int[] b = a.clone();
      b[2] = 60; // first sequence: change position 2
      b[4 + 3] = 7; // second sequence: change position 3
      NDList ha = net.layerOutputs(ps, manager.create(a, new Shape(2, 4)));
      NDList hb = net.layerOutputs(ps, manager.create(b, new Shape(2, 4)));
      for (int l = 0; l < 2; l++) {
        NDArray x = ha.get(l);
        NDArray y = hb.get(l);
        assertThat(maxAbs(x.get(new NDIndex("0, :2, :")), y.get(new NDIndex("0, :2, :")))).isZero();
        assertThat(maxAbs(x.get(new NDIndex("0, 2:, :")), y.get(new NDIndex("0, 2:, :"))))
            .isGreaterThan(1e-3f);
        assertThat(maxAbs(x.get(new NDIndex("1, :3, :")), y.get(new NDIndex("1, :3, :")))).isZero();
        assertThat(maxAbs(x.get(new NDIndex("1, 3, :")), y.get(new NDIndex("1, 3, :"))))
            .isGreaterThan(1e-3f);
      }
    }
  }

  /** Computing only the classified position in the last layer gives the textbook logits. */
  @ParameterizedTest
  @EnumSource(DecoderLayer.Norm.class)
  void lastPositionShortcutEqualsTheFullComputation(DecoderLayer.Norm norm) {
    try (NDManager manager = NDManager.newBaseManager()) {
      DecoderTransformer.Config config =
          DecoderTransformer.Config.paper(VOCAB, CLASSES, 4).withNorm(norm);
      DecoderTransformer fast = model(manager, config);
      DecoderTransformer full = model(manager, config.withLastPositionOnly(false));
      var source = fast.getParameters().values().iterator();
      for (var p : full.getParameters().values()) {
        p.getArray().set(source.next().getArray().toFloatArray());
      }
      ParameterStore ps = new ParameterStore(manager, false);
      NDArray x = manager.randomInteger(0, VOCAB, new Shape(16, 4), DataType.INT32);
      NDArray a = fast.forward(ps, new NDList(x), false).singletonOrThrow();
      NDArray b = full.forward(ps, new NDList(x), false).singletonOrThrow();
      assertThat(maxAbs(a, b)).isLessThan(1e-5f);
      if (norm == DecoderLayer.Norm.PRE) {
        return; // a final LayerNorm sits between the last layer and the classifier
      }
      // post-LN: the last row of the last layer's full output is what the classifier sees
      NDArray lastRow = fast.layerOutputs(ps, x).get(1).get(new NDIndex(":, -1, :"));
      NDArray w = fast.classifierWeight().getArray();
      assertThat(maxAbs(lastRow.matMul(w.transpose()), a)).isLessThan(1e-4f);
    }
  }

  @Test
  void normalisedClassifierIsBoundedByOneOverTemperature() {
    try (NDManager manager = NDManager.newBaseManager()) {
      DecoderTransformer net =
          model(manager, DecoderTransformer.Config.paper(VOCAB, CLASSES, 4).withTemperature(0.25));
      ParameterStore ps = new ParameterStore(manager, false);
      NDArray x = manager.randomInteger(0, VOCAB, new Shape(8, 4), DataType.INT32);
      NDArray logits = net.forward(ps, new NDList(x), false).singletonOrThrow();
      assertThat(logits.abs().max().getFloat()).isLessThanOrEqualTo(4f + 1e-4f);
      // cos(w_0, f) · τ recovered from the raw weight and the last-position feature
      NDArray f = net.layerOutputs(ps, x).get(1).get(new NDIndex(":, -1, :"));
      NDArray w0 = net.classifierWeight().getArray().get(0);
      float cos = f.get(0).dot(w0).getFloat() / (f.get(0).norm().getFloat() * w0.norm().getFloat());
      assertThat(logits.getFloat(0, 0)).isCloseTo(cos / 0.25f, within(1e-4f));
    }
  }

  static DecoderTransformer model(NDManager manager, DecoderTransformer.Config config) {
    DecoderTransformer net = new DecoderTransformer(config);
    net.initialize(manager, DataType.FLOAT32, new Shape(1, config.sequenceLength()));
    return net;
  }

  private static float maxAbs(NDArray x, NDArray y) {
    return x.sub(y).abs().max().getFloat();
  }
}
