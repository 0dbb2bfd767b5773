package dev.slingshot.djl.internal;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A ReLU MLP (DJL {@code Linear} layers) with a synthetic teacher-labelled data set, for the
 * second-order benchmarks. Its parameters are the model's own arrays (requiring gradients); the
 * data set and the initial parameters are fixed by a seed, so every run measures the same products.
 */
final class BenchMlp implements AutoCloseable {

  final Model model;
  final Trainer trainer;
  final NDList params = new NDList();
  final List<String> names = new ArrayList<>();
  final NDArray x;
  final NDArray y;
  private final NDManager manager;

  /**
   * @param layers widths, input first (e.g. 128, 512, 512, 10)
   * @param samples rows of the synthetic data set
   * @param learningRate the learning rate of the trainer's Adam
   * @param seed the data set's seed, and the engine's before the parameters are initialised
   */
  BenchMlp(int[] layers, int samples, float learningRate, long seed) {
    model = Model.newInstance("bench-mlp");
    manager = model.getNDManager().newSubManager();
    SequentialBlock block = new SequentialBlock();
    for (int i = 1; i < layers.length; i++) {
      block.add(Linear.builder().setUnits(layers[i]).build());
      if (i < layers.length - 1) {
        block.add(Activation.reluBlock());
      }
    }
    model.setBlock(block);
    trainer =
        model.newTrainer(
            new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                .optOptimizer(
                    Optimizer.adam().optLearningRateTracker(Tracker.fixed(learningRate)).build()));
    Engine.getInstance().setRandomSeed((int) seed);
    trainer.initialize(new Shape(1, layers[0]));
    for (Pair<String, Parameter> p : block.getParameters()) {
      names.add(p.getKey());
      params.add(p.getValue().getArray());
    }
    SplittableRandom r = new SplittableRandom(seed);
    int in = layers[0];
    int classes = layers[layers.length - 1];
    float[] xs = new float[samples * in];
    for (int i = 0; i < xs.length; i++) {
      xs[i] = (float) gaussian(r);
    }
    float[] teacher = new float[in * classes];
    for (int i = 0; i < teacher.length; i++) {
      teacher[i] = (float) gaussian(r);
    }
    float[] ys = new float[samples];
    for (int s = 0; s < samples; s++) {
      int best = 0;
      double bestScore = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < classes; c++) {
        double score = 0;
        for (int i = 0; i < in; i++) {
          score += xs[s * in + i] * teacher[i * classes + c];
        }
        if (score > bestScore) {
          bestScore = score;
          best = c;
        }
      }
      ys[s] = best;
    }
    x = manager.create(xs, new Shape(samples, in));
    y = manager.create(ys, new Shape(samples));
  }

  /** Rows {@code [from, from + size)} of the data set (views attached to the caller's scope). */
  NDList batch(int from, int size) {
    String range = from + ":" + (from + size);
    return new NDList(x.get(range), y.get(range));
  }

  /** The mean softmax cross-entropy of a batch (with graph when grad mode is on). */
  NDArray loss(NDList batch) {
    ParameterStore store = new ParameterStore(manager, false);
    NDArray logits =
        model.getBlock().forward(store, new NDList(batch.get(0)), true).singletonOrThrow();
    return trainer.getLoss().evaluate(new NDList(batch.get(1)), new NDList(logits));
  }

  /** One forward and backward pass (fills {@code .grad}). */
  void forwardBackward(NDList batch) {
    try (GradientCollector c = trainer.newGradientCollector()) {
      c.backward(loss(batch));
    }
  }

  long parameterCount() {
    long n = 0;
    for (NDArray p : params) {
      n += p.getShape().size();
    }
    return n;
  }

  /** A random direction (host-generated, seeded), one tensor per parameter, on {@code m}. */
  NDList randomDirection(NDManager m, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    NDList v = new NDList();
    for (NDArray p : params) {
      float[] f = new float[(int) p.getShape().size()];
      for (int i = 0; i < f.length; i++) {
        f[i] = (float) gaussian(r);
      }
      v.add(m.create(f, p.getShape()).toType(DataType.FLOAT32, false));
    }
    return v;
  }

  private static double gaussian(SplittableRandom r) {
    double u;
    double v;
    double s;
    do {
      u = 2 * r.nextDouble() - 1;
      v = 2 * r.nextDouble() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s == 0);
    return u * Math.sqrt(-2 * Math.log(s) / s);
  }

  @Override
  public void close() {
    trainer.close();
    manager.close();
    model.close();
  }
}
