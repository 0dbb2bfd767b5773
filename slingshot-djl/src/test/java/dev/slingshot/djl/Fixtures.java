package dev.slingshot.djl;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.TrainingConfig;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.translate.TranslateException;
import ai.djl.util.Pair;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Small deterministic models and data for the adapter's tests. */
final class Fixtures {

  static final int IN = 8;
  static final int HIDDEN = 16;
  static final int OUT = 2;

  private Fixtures() {}

  /** A {@code in-hidden-out} ReLU MLP: parameters 01Linear_*, 03Linear_*. */
  static Model mlp(int in, int hidden, int out) {
    Model model = Model.newInstance("mlp");
    model.setBlock(
        new SequentialBlock()
            .add(Linear.builder().setUnits(hidden).build())
            .add(Activation::relu)
            .add(Linear.builder().setUnits(out).build()));
    return model;
  }

  static Model mlp() {
    return mlp(IN, HIDDEN, OUT);
  }

  /** {@code n} points with {@code in} Gaussian features and a label from a fixed random plane. */
  static ArrayDataset data(NDManager manager, int n, int in, int batch, long seed) {
    Random r = new Random(seed);
    float[] x = new float[n * in];
    float[] y = new float[n];
    float[] plane = new float[in];
    for (int j = 0; j < in; j++) {
      plane[j] = (float) r.nextGaussian();
    }
    for (int i = 0; i < n; i++) {
      double s = 0;
      for (int j = 0; j < in; j++) {
        x[i * in + j] = (float) r.nextGaussian();
        s += x[i * in + j] * plane[j];
      }
      y[i] = s > 0 ? 1 : 0;
    }
    return new ArrayDataset.Builder()
        .setData(manager.create(x, new Shape(n, in)))
        .optLabels(manager.create(y, new Shape(n)))
        .setSampling(batch, false)
        .build();
  }

  /** Creates a trainer for {@code model} with a seeded initialisation. */
  static Trainer trainer(Model model, TrainingConfig config, int in, long seed) {
    Engine.getInstance().setRandomSeed((int) seed);
    Trainer trainer = model.newTrainer(config);
    trainer.initialize(new Shape(1, in));
    return trainer;
  }

  /** Trains {@code steps} steps, cycling over the dataset in order. */
  static void train(Trainer trainer, ArrayDataset data, int steps) {
    int done = 0;
    try {
      while (done < steps) {
        for (Batch batch : trainer.iterateDataset(data)) {
          try (batch) {
            EasyTrain.trainBatch(trainer, batch);
            trainer.step();
          }
          if (++done == steps) {
            return;
          }
        }
      }
    } catch (IOException | TranslateException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The model's parameters copied to the host (tests only). */
  static Map<String, float[]> hostParams(Model model) {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
      out.put(p.getKey(), p.getValue().getArray().toFloatArray());
    }
    return out;
  }

  static double norm(float[] a) {
    double s = 0;
    for (float v : a) {
      s += (double) v * v;
    }
    return Math.sqrt(s);
  }

  static double diffNorm(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      double d = (double) a[i] - b[i];
      s += d * d;
    }
    return Math.sqrt(s);
  }

  static NDArray array(Model model, String name) {
    return model.getBlock().getParameters().get(name).getArray();
  }
}
