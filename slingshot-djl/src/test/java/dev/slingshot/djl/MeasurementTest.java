package dev.slingshot.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The cheap tier's numbers against the same quantities computed independently on the host. */
class MeasurementTest {

  private static final double TOL = 1e-5;

  @Test
  void normsUpdateNormLossAndCosineDistanceMatchHostComputations() throws Exception {
    try (Model model = Fixtures.mlp();
        NDManager manager = NDManager.newBaseManager()) {
      ArrayDataset data = Fixtures.data(manager, 32, Fixtures.IN, 16, 2);
      Slingshot slingshot =
          Slingshot.attach(
              new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                  .optOptimizer(
                      Optimizer.adamW().optLearningRateTracker(Tracker.fixed(0.05f)).build()),
              SlingshotOptions.custom()
                  .measureEvery(1)
                  .cosineDistanceEvery(3)
                  .failFast(true)
                  .build());
      try (Trainer trainer = Fixtures.trainer(model, slingshot.config(), Fixtures.IN, 3)) {
        Map<String, float[]> theta0 = Fixtures.hostParams(model);
        Fixtures.train(trainer, data, 2);
        Batch batch = trainer.iterateDataset(data).iterator().next();
        try (batch) {
          EasyTrain.trainBatch(trainer, batch);
          Map<String, float[]> before = Fixtures.hostParams(model);
          NDList x = batch.getData();
          double expectedLoss;
          try (NDArray l =
              Loss.softmaxCrossEntropyLoss().evaluate(batch.getLabels(), trainer.evaluate(x))) {
            expectedLoss = l.getFloat();
          }
          trainer.step();
          Map<String, float[]> after = Fixtures.hostParams(model);

          StepMetrics m = slingshot.lastMetrics();
          assertThat(m.step()).isEqualTo(3);
          assertThat(m.loss()).isCloseTo(expectedLoss, within(1e-6));
          double du = 0;
          double na = 0;
          for (String name : before.keySet()) {
            du += sq(Fixtures.diffNorm(after.get(name), before.get(name)));
            na += sq(Fixtures.norm(after.get(name)));
          }
          assertThat(m.updateNorm()).isCloseTo(Math.sqrt(du), within(TOL * Math.sqrt(du)));
          assertThat(m.updateRatio())
              .isCloseTo(Math.sqrt(du) / Math.sqrt(na), within(TOL * m.updateRatio()));
          assertThat(m.paramNorm()).isCloseTo(Math.sqrt(na), within(TOL * Math.sqrt(na)));
          double last = Fixtures.norm(after.get("03Linear_weight"));
          assertThat(m.lastLayerNorm()).isCloseTo(last, within(TOL * last));
          assertThat(slingshot.lastRecord().norm(StepMetrics.LAST_LAYER).getAsDouble())
              .isEqualTo(m.lastLayerNorm());
          double g1 =
              Math.hypot(
                  Fixtures.norm(after.get("01Linear_weight")),
                  Fixtures.norm(after.get("01Linear_bias")));
          assertThat(m.groupNorms().get("01Linear")).isCloseTo(g1, within(TOL * g1));

          double reprExpected = cosineDistance(after, theta0, "01Linear");
          double clfExpected = cosineDistance(after, theta0, "03Linear");
          assertThat(m.reprCosineDistance().getAsDouble())
              .isCloseTo(reprExpected, within(1e-6 + 1e-4 * Math.abs(reprExpected)));
          assertThat(m.clfCosineDistance().getAsDouble())
              .isCloseTo(clfExpected, within(1e-6 + 1e-4 * Math.abs(clfExpected)));
          assertThat(clfExpected).isPositive();
        }
      }
    }
  }

  /**
   * ‖Δθ‖<sub>∞</sub> of one plain SGD step on a zero-initialised linear model, whose gradient is
   * known in closed form: with W = 0 and b = 0 the prediction is 0, so DJL's L2 loss ½·mean over
   * the n·m outputs of (ŷ − y)² has ∂/∂W<sub>oj</sub> = −Σ<sub>i</sub> y<sub>io</sub>x<sub>ij</sub>
   * /(n·m) and ∂/∂b<sub>o</sub> = −Σ<sub>i</sub> y<sub>io</sub>/(n·m); the update is −lr·g. With
   * {@code sign} = −1 every coordinate of the update flips, so the largest move is once a rise and
   * once a fall (the adapter reads max and −min of the update).
   */
  @ParameterizedTest
  @ValueSource(ints = {1, -1})
  void updateMaxAbsIsTheLargestCoordinateOfAKnownSgdStep(int sign) {
    float lr = 0.1f;
    float[][] x = {{1, 2, -1}, {0.5f, -1, 3}};
    float[][] y = {{sign * 1f, sign * -0.5f}, {sign * 2f, sign * 0.25f}};
    int n = x.length;
    int in = x[0].length;
    int out = y[0].length;
    double expected = 0;
    double expectedNorm = 0;
    for (int o = 0; o < out; o++) {
      double gb = 0;
      for (int i = 0; i < n; i++) {
        gb -= y[i][o] / (double) (n * out);
      }
      expected = Math.max(expected, Math.abs(lr * gb));
      expectedNorm += sq(lr * gb);
      for (int j = 0; j < in; j++) {
        double g = 0;
        for (int i = 0; i < n; i++) {
          g -= y[i][o] * x[i][j] / (double) (n * out);
        }
        expected = Math.max(expected, Math.abs(lr * g));
        expectedNorm += sq(lr * g);
      }
    }
    // the largest gradient coordinate is W[0][2] = -(1*(-1) + 2*3)/4 * sign = -1.25 sign
    assertThat(expected).isCloseTo(0.125, within(1e-7)); // lr is the float 0.1f

    try (Model model = Model.newInstance("linear");
        NDManager manager = NDManager.newBaseManager()) {
      Linear linear = Linear.builder().setUnits(out).build();
      linear.setInitializer(new ConstantInitializer(0), Parameter.Type.WEIGHT);
      linear.setInitializer(new ConstantInitializer(0), Parameter.Type.BIAS);
      model.setBlock(linear);
      float[] xs = new float[n * in];
      float[] ys = new float[n * out];
      for (int i = 0; i < n; i++) {
        System.arraycopy(x[i], 0, xs, i * in, in);
        System.arraycopy(y[i], 0, ys, i * out, out);
      }
      ArrayDataset data =
          new ArrayDataset.Builder()
              .setData(manager.create(xs, new Shape(n, in)))
              .optLabels(manager.create(ys, new Shape(n, out)))
              .setSampling(n, false)
              .build();
      Slingshot slingshot =
          Slingshot.attach(
              new DefaultTrainingConfig(Loss.l2Loss())
                  .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(lr)).build()),
              SlingshotOptions.custom().measureEvery(1).failFast(true).build());
      try (Trainer trainer = Fixtures.trainer(model, slingshot.config(), in, 0)) {
        Fixtures.train(trainer, data, 1);
      }
      StepMetrics m = slingshot.lastMetrics();
      assertThat(m.step()).isEqualTo(1);
      assertThat(m.updateMaxAbs()).isCloseTo(expected, within(1e-6 * expected));
      assertThat(m.updateNorm())
          .isCloseTo(Math.sqrt(expectedNorm), within(1e-6 * Math.sqrt(expectedNorm)));
      assertThat(slingshot.lastRecord().metrics())
          .containsEntry(StepMetrics.UPDATE_MAX_ABS, m.updateMaxAbs());
      // that coordinate moves up by lr*1.25 when sign = 1 (its gradient is negative), else down
      float w02 = Fixtures.array(model, "weight").toFloatArray()[2];
      assertThat((double) w02).isCloseTo(sign * expected, within(1e-6));
    }
  }

  @Test
  void lastLayerAndGroupsAreSelectableByName() {
    try (Model model = Fixtures.mlp();
        NDManager manager = NDManager.newBaseManager()) {
      ArrayDataset data = Fixtures.data(manager, 32, Fixtures.IN, 16, 2);
      Slingshot slingshot =
          Slingshot.attach(
              new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                  .optOptimizer(Optimizer.adam().build()),
              SlingshotOptions.custom()
                  .measureEvery(1)
                  .lastLayer("01Linear_weight")
                  .group("weights", "01Linear_weight", "03Linear_weight")
                  .failFast(true)
                  .build());
      try (Trainer trainer = Fixtures.trainer(model, slingshot.config(), Fixtures.IN, 3)) {
        Fixtures.train(trainer, data, 1);
        Map<String, float[]> p = Fixtures.hostParams(model);
        StepMetrics m = slingshot.lastMetrics();
        assertThat(slingshot.lastLayerParameter()).isEqualTo("01Linear_weight");
        double w1 = Fixtures.norm(p.get("01Linear_weight"));
        assertThat(m.lastLayerNorm()).isCloseTo(w1, within(TOL * w1));
        double g = Math.hypot(w1, Fixtures.norm(p.get("03Linear_weight")));
        assertThat(m.groupNorms()).containsOnlyKeys("weights");
        assertThat(m.groupNorms().get("weights")).isCloseTo(g, within(TOL * g));
      }
    }
  }

  @Test
  void aWrongLastLayerNameListsTheModelsParameterNames() {
    try (Model model = Fixtures.mlp()) {
      Slingshot slingshot =
          Slingshot.attach(
              new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                  .optOptimizer(Optimizer.adam().build()),
              SlingshotOptions.custom().lastLayer("classifier.weight").build());
      assertThatThrownBy(() -> model.newTrainer(slingshot.config()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("classifier.weight")
          .hasMessageContaining("[01Linear_weight, 01Linear_bias, 03Linear_weight, 03Linear_bias]");
    }
  }

  private static double cosineDistance(
      Map<String, float[]> now, Map<String, float[]> init, String prefix) {
    double dot = 0;
    double n = 0;
    double n0 = 0;
    for (String name : now.keySet()) {
      if (name.startsWith(prefix)) {
        float[] a = now.get(name);
        float[] b = init.get(name);
        for (int i = 0; i < a.length; i++) {
          dot += (double) a[i] * b[i];
          n += (double) a[i] * a[i];
          n0 += (double) b[i] * b[i];
        }
      }
    }
    return 1 - dot / Math.sqrt(n * n0);
  }

  private static double sq(double x) {
    return x * x;
  }
}
