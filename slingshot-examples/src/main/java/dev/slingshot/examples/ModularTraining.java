package dev.slingshot.examples;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.slingshot.core.StepRecord;
import dev.slingshot.djl.Slingshot;
import dev.slingshot.djl.SlingshotOptions;
import dev.slingshot.djl.internal.DeviceSync;
import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Trains the {@link DecoderTransformer} on one {@link ModularArithmetic} dataset as in Thilak et
 * al. (2022), §2 and App. B: Adam (no weight decay), learning rate 10⁻³ with a linear warm-up over
 * the first 10 updates (lr_t = lr · min(1, t/10), t = 1, 2, …), β = (0.9, 0.98), cross-entropy on
 * the answer token, minibatches of 512 (App. B.2: "10 steps per epoch" on the 50/50 division
 * split); AdamW with weight decay (App. C.1) and SGD with momentum (App. B.2) are the alternatives.
 *
 * <p><b>ε semantics.</b> DJL's Adam adds ε to the bias-<i>un</i>corrected √v (ENVIRONMENT.md): in
 * PyTorch's parameterisation that is ε/√(1−β₂^t). With β₂ = 0.98 the factor is 7.1 at t = 1, 1.02
 * at t = 100 and 1 + 10⁻⁹ at t = 1000, so after the first few hundred updates, long before the
 * late-training regime where slingshots happen, the two conventions coincide.
 *
 * <p><b>Each step</b> t (1-based) of an instrumented run, the slingshot-djl adapter ({@link
 * Slingshot#attach}) records the minibatch loss of batch t (before update t), the classifier
 * weight's norm (the "last layer", Fig. 2a), the per-block norms, the update norm after update t
 * and, on its schedules, the cosine distance from initialisation and the second-order probes. Every
 * {@code evalEvery} steps (and at the last step) the full training and validation sets are
 * evaluated after update t and the record carries their loss and accuracy (full_train_loss = train
 * loss over the whole training set); every {@code featureEvery} steps the {@link FeatureChange} of
 * update t is measured on a fixed probe of the first {@code probeSize} training equations and
 * published to the monitor. A plain run (no adapter) only trains, for benchmarks.
 */
final class ModularTraining implements AutoCloseable {

  /** The optimizer families of the paper. */
  enum OptimizerKind {
    /** Adam, L2 weight decay 0 (the paper's default). */
    ADAM,
    /** AdamW, decoupled weight decay (App. C.1). */
    ADAMW,
    /** SGD with momentum (App. B.2). */
    SGD
  }

  /** Every hyperparameter of one training run. */
  record Config(
      ModularArithmetic.Operation operation,
      int modulus,
      double trainFraction,
      long seed,
      int batchSize,
      OptimizerKind optimizer,
      float learningRate,
      int warmUpSteps,
      float beta1,
      float beta2,
      float epsilon,
      float weightDecay,
      float momentum,
      long steps,
      int evalEvery,
      int featureEvery,
      int probeSize,
      DecoderLayer.Norm norm,
      double temperature,
      int width,
      int heads,
      int layers) {

    /** Equations in the fixed probe batch of the feature change. */
    static final int PROBE_SIZE = 256;

    static final float MIN_EPSILON = 1e-8f;
    static final float MAX_EPSILON = 1e-4f;

    Config {
      if (operation == null || optimizer == null || norm == null) {
        throw new IllegalArgumentException("operation, optimizer and norm must be set");
      }
      if (!(trainFraction >= ModularArithmetic.MIN_TRAIN_FRACTION
          && trainFraction <= ModularArithmetic.MAX_TRAIN_FRACTION)) {
        throw new IllegalArgumentException(
            "train fraction must be in [0.3, 0.8], got " + trainFraction);
      }
      require(batchSize > 0, "batch size", batchSize);
      require(learningRate > 0, "learning rate", learningRate);
      require(warmUpSteps >= 0, "warm-up steps", warmUpSteps);
      require(beta1 >= 0 && beta1 < 1, "beta1", beta1);
      require(beta2 >= 0 && beta2 < 1, "beta2", beta2);
      // Compare in float with a relative margin so that 1e-8 and 1e-4 parsed from text are in.
      require(
          epsilon >= MIN_EPSILON * 0.999f && epsilon <= MAX_EPSILON * 1.001f,
          "epsilon (must be in [1e-8, 1e-4])",
          epsilon);
      require(weightDecay >= 0, "weight decay", weightDecay);
      require(momentum >= 0 && momentum < 1, "momentum", momentum);
      require(steps > 0, "steps", steps);
      require(evalEvery > 0, "eval interval", evalEvery);
      require(featureEvery >= 0, "feature-change interval (0 = off)", featureEvery);
      require(probeSize > 0, "probe size", probeSize);
      require(width > 0 && heads > 0 && width % heads == 0, "width/heads", width + "/" + heads);
      require(layers > 0, "layers", layers);
      if (optimizer == OptimizerKind.ADAM && weightDecay != 0) {
        throw new IllegalArgumentException(
            "Adam runs without weight decay in the paper; use AdamW (optimizer=adamw) for weight"
                + " decay "
                + weightDecay);
      }
    }

    private static void require(boolean ok, String what, Object value) {
      if (!ok) {
        throw new IllegalArgumentException(
            String.format(Locale.ROOT, "invalid %s: %s", what, value));
      }
    }

    /** Every hyperparameter by name, for {@code config.json}. */
    Map<String, Object> describe() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("experiment", "modular");
      m.put("operation", operation.id());
      m.put("formula", operation.formula());
      m.put("modulus", operation.onPermutations() ? null : modulus);
      m.put("train_fraction", trainFraction);
      m.put("seed", seed);
      m.put("batch_size", batchSize);
      m.put("optimizer", optimizer.name().toLowerCase(Locale.ROOT));
      m.put("learning_rate", learningRate);
      m.put("warmup_steps", warmUpSteps);
      m.put("warmup", "linear: lr_t = lr * min(1, t / warmup_steps), t = 1, 2, ...");
      if (optimizer != OptimizerKind.SGD) {
        m.put("beta1", beta1);
        m.put("beta2", beta2);
        m.put("epsilon", epsilon);
        m.put("epsilon_semantics", "djl: w -= lr*sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps)");
      } else {
        m.put("momentum", momentum);
      }
      m.put("weight_decay", weightDecay);
      m.put("steps", steps);
      m.put("eval_every", evalEvery);
      m.put("feature_every", featureEvery);
      m.put("probe_size", probeSize);
      m.put("loss", "cross-entropy on the answer token");
      m.put("model", "decoder-only transformer, causal attention");
      m.put("layers", layers);
      m.put("width", width);
      m.put("heads", heads);
      m.put("feed_forward", 4 * width);
      m.put("norm", norm.name().toLowerCase(Locale.ROOT) + "-layernorm");
      m.put("classifier", Double.isNaN(temperature) ? "linear, no bias" : "cosine / tau");
      if (!Double.isNaN(temperature)) {
        m.put("temperature", temperature);
      }
      m.put("dtype", "float32");
      return m;
    }
  }

  /** Loss and accuracy over a whole set. */
  record Evaluation(double loss, double accuracy) {}

  private final Config config;
  private final ModularArithmetic data;
  private final ModularArithmetic.Split split;
  private final NDManager manager;
  private final Model model;
  private final DecoderTransformer net;
  private final Optimizer optimizer;
  private final Slingshot slingshot;
  private final Trainer trainer;
  private final Device device;
  private final ParameterStore inference;
  private final Loss evaluationLoss = Loss.softmaxCrossEntropyLoss();
  private final FeatureChange featureChange;
  private final Random sampling;
  private int[] order;
  private int cursor;

  /** The training set on the model's device, uploaded once: (N, 4) tokens and (N) labels. */
  private NDArray deviceTokens;

  private NDArray deviceLabels;

  /** 0, 1, 2, 3 (int64) on the device: the token positions of a row, for the gather. */
  private NDArray devicePositions;

  /** The current epoch's permutation on the device (int64), uploaded once per epoch. */
  private NDArray deviceOrder;

  private boolean orderUploaded;
  private long step;

  /** A plain, uninstrumented run from step 0 whose last layer computes only the answer position. */
  ModularTraining(Config config) throws IOException {
    this(config, true, null, null);
  }

  /**
   * A training run.
   *
   * @param lastPositionOnly whether the last layer computes only the classified position ({@code
   *     false}: every position, the textbook computation with the same values; for benchmarks)
   * @param instrumentation the slingshot-djl adapter's options for this run, or {@code null} for a
   *     plain run (benchmarks); the run sets the classifier weight as the last layer, its first
   *     step, and a record enricher that adds the evaluations every {@link Config#evalEvery()}
   *     steps
   * @param checkpoint a checkpoint to continue from (its parameters, optimizer state and step; the
   *     data order is replayed to that step), or {@code null} to start from the initialisation
   * @throws IOException when the checkpoint cannot be read
   */
  ModularTraining(
      Config config,
      boolean lastPositionOnly,
      SlingshotOptions.Builder instrumentation,
      TrainingCheckpoint.Info checkpoint)
      throws IOException {
    long startStep = checkpoint == null ? 0 : checkpoint.step();
    this.config = config;
    this.data = ModularArithmetic.of(config.operation(), config.modulus());
    this.split = data.split(config.trainFraction(), config.seed());
    this.model = Model.newInstance("modular-" + config.operation().id());
    this.manager = model.getNDManager();
    DecoderTransformer.Config mc =
        DecoderTransformer.Config.paper(
                data.vocabularySize(), data.elements(), ModularArithmetic.SEQUENCE_LENGTH)
            .withSize(config.width(), config.heads(), config.layers())
            .withNorm(config.norm())
            .withTemperature(config.temperature())
            .withLastPositionOnly(lastPositionOnly);
    this.net = new DecoderTransformer(mc);
    model.setBlock(net);
    // Parameter initialisation draws from the engine's generator: seed it for repeatable runs.
    Engine.getInstance().setRandomSeed((int) config.seed());
    if (checkpoint != null) {
      // before the trainer exists: its parameter store keeps the arrays it first sees
      TrainingCheckpoint.loadParameters(checkpoint, net, manager);
    }
    this.optimizer = optimizer(config);
    DefaultTrainingConfig tc =
        new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
            .optOptimizer(optimizer)
            .optDevices(new Device[] {manager.getDevice()});
    if (instrumentation == null) {
      this.slingshot = null;
      this.trainer = model.newTrainer(tc);
    } else {
      long last = config.steps();
      int every = config.evalEvery();
      instrumentation
          .lastLayer(parameterName(net, net.classifierWeight()))
          .firstStep(startStep + 1)
          .recordEnricher(
              (record, t) -> {
                if (t % every == 0 || t == last) {
                  evaluateInto(record);
                }
              });
      this.slingshot = Slingshot.attach(tc, instrumentation.build());
      this.trainer = model.newTrainer(slingshot.config());
    }
    trainer.initialize(new Shape(config.batchSize(), ModularArithmetic.SEQUENCE_LENGTH));
    this.device = trainer.getDevices()[0];
    if (checkpoint != null) {
      Map<String, Parameter> named = new LinkedHashMap<>();
      net.getParameters().forEach(p -> named.put(p.getKey(), p.getValue()));
      TrainingCheckpoint.restoreOptimizer(checkpoint, optimizer, named);
      TrainingCheckpoint.skipFirstStepGradientCheck(trainer);
    }
    this.inference = new ParameterStore(manager, false);
    int probe = Math.min(config.probeSize(), split.train().size());
    this.featureChange =
        new FeatureChange(
            net,
            Arrays.copyOf(split.train().tokens(), probe * ModularArithmetic.SEQUENCE_LENGTH),
            ModularArithmetic.SEQUENCE_LENGTH,
            inference);
    this.sampling = new Random(config.seed() + 1);
    // The data order is a function of (seed, step): stand where a run of startStep updates stood.
    for (long t = 0; t < startStep; t++) {
      nextBatch();
    }
    this.step = startStep;
  }

  /** The full name of {@code p} in {@code block.getParameters()} ({@code "classifier_weight"}). */
  static String parameterName(ai.djl.nn.Block block, Parameter p) {
    for (var e : block.getParameters()) {
      if (e.getValue() == p) {
        return e.getKey();
      }
    }
    throw new IllegalStateException(p.getName() + " is not a parameter of the block");
  }

  /** The optimizer of {@code config}, with the linear warm-up. */
  static Optimizer optimizer(Config c) {
    float lr = c.learningRate();
    int warm = c.warmUpSteps();
    Tracker schedule = t -> warm == 0 ? lr : lr * Math.min(1f, (float) t / warm);
    return switch (c.optimizer()) {
      case ADAM ->
          Optimizer.adam()
              .optLearningRateTracker(schedule)
              .optBeta1(c.beta1())
              .optBeta2(c.beta2())
              .optEpsilon(c.epsilon())
              .optWeightDecays(0f)
              .build();
      case ADAMW ->
          Optimizer.adamW()
              .optLearningRateTracker(schedule)
              .optBeta1(c.beta1())
              .optBeta2(c.beta2())
              .optEpsilon(c.epsilon())
              .optWeightDecays(c.weightDecay())
              .build();
      case SGD ->
          Optimizer.sgd()
              .setLearningRateTracker(schedule)
              .optMomentum(c.momentum())
              .optWeightDecays(c.weightDecay())
              .build();
    };
  }

  Config config() {
    return config;
  }

  ModularArithmetic data() {
    return data;
  }

  ModularArithmetic.Split split() {
    return split;
  }

  DecoderTransformer network() {
    return net;
  }

  Trainer trainer() {
    return trainer;
  }

  /** The optimizer the trainer steps (unwrapped: its state is what a checkpoint saves). */
  Optimizer optimizer() {
    return optimizer;
  }

  /** The adapter of an instrumented run; {@code null} for a plain one. */
  Slingshot slingshot() {
    return slingshot;
  }

  /** Updates done so far. */
  long step() {
    return step;
  }

  /** The device the run trains on (DJL's default device: the first GPU when DJL sees one). */
  Device device() {
    return device;
  }

  /**
   * Returns when the device has run every step queued so far: on a GPU, {@link #train} returns as
   * soon as the work is queued (a plain run reads nothing back), so timings end with this.
   */
  void awaitDevice() {
    DeviceSync.await(manager);
  }

  /**
   * Runs {@code n} more steps. An instrumented run's adapter measures each and feeds its monitor
   * (one {@link StepRecord} per step, the evaluations in it every {@link Config#evalEvery()} steps
   * and at the last one); every {@link Config#featureEvery()} steps the {@link FeatureChange} of
   * the update is published to the same monitor as a measurement event.
   */
  void train(long n) {
    long end = step + n;
    while (step < end) {
      step++;
      trainStep();
    }
  }

  private void trainStep() {
    boolean features =
        slingshot != null && config.featureEvery() > 0 && step % config.featureEvery() == 0;
    try (NDManager scope = manager.newSubManager()) {
      NDList before = features ? featureChange.before(scope) : null;
      int[] slice = nextBatch();
      NDList data = deviceBatch(slice, scope);
      NDArray x = data.get(0);
      NDList labels = new NDList(data.get(1));
      HandLoop.step(trainer, scope, x, labels, slice[1], step, config.steps());
      if (features) {
        slingshot.monitor().publish(featureChange.after(step, before));
      }
    }
  }

  /** The full-train and validation loss and accuracy of the current weights, into the record. */
  private void evaluateInto(StepRecord.Builder record) {
    try (NDManager scope = manager.newSubManager()) {
      Evaluation train = evaluate(split.train(), scope);
      Evaluation validation = evaluate(split.validation(), scope);
      record
          .fullTrainLoss(train.loss())
          .trainAccuracy(train.accuracy())
          .testLoss(validation.loss())
          .testAccuracy(validation.accuracy());
    }
  }

  /** Loss and accuracy of the current weights over {@code set}, in inference mode. */
  Evaluation evaluate(ModularArithmetic.Subset set, NDManager parent) {
    final int chunk = 1024;
    int n = set.size();
    double lossSum = 0;
    double correct = 0;
    try (NDManager scope = parent.newSubManager()) {
      for (int from = 0; from < n; from += chunk) {
        int to = Math.min(n, from + chunk);
        int len = ModularArithmetic.SEQUENCE_LENGTH;
        NDArray x =
            scope.create(
                Arrays.copyOfRange(set.tokens(), from * len, to * len), new Shape(to - from, len));
        NDArray y = scope.create(Arrays.copyOfRange(set.labels(), from, to), new Shape(to - from));
        NDArray logits = net.forward(inference, new NDList(x), false).singletonOrThrow();
        NDArray meanLoss = evaluationLoss.evaluate(new NDList(y), new NDList(logits));
        NDArray hits = logits.argMax(-1).toType(DataType.INT32, false).eq(y).sum();
        float[] v =
            meanLoss
                .mul(to - from)
                .reshape(1)
                .concat(hits.toType(DataType.FLOAT32, false).reshape(1))
                .toFloatArray();
        lossSum += v[0];
        correct += v[1];
      }
    }
    return new Evaluation(lossSum / n, correct / n);
  }

  /**
   * The next minibatch as a slice {@code [from, from + size)} of the epoch's permutation {@link
   * #order} (Power et al.'s iterator: consecutive slices of a per-epoch permutation, the last one
   * short); draws a new permutation when the epoch is done.
   */
  private int[] nextBatch() {
    int n = split.train().size();
    if (order == null || cursor >= n) {
      order = new int[n];
      for (int i = 0; i < n; i++) {
        order[i] = i;
      }
      for (int i = n - 1; i > 0; i--) {
        int j = sampling.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      cursor = 0;
      orderUploaded = false;
    }
    int size = Math.min(config.batchSize(), n - cursor);
    int[] slice = {cursor, size};
    cursor += size;
    return slice;
  }

  /**
   * The minibatch {@code slice} gathered on the device from the training set there: the data
   * crosses to the device once per run and the permutation once per epoch, not two arrays per step
   * (each upload from host memory waits for the device's queue on a GPU).
   */
  private NDList deviceBatch(int[] slice, NDManager scope) {
    int len = ModularArithmetic.SEQUENCE_LENGTH;
    if (deviceTokens == null) {
      ModularArithmetic.Subset train = split.train();
      deviceTokens = manager.create(train.tokens(), new Shape(train.size(), len));
      deviceLabels = manager.create(train.labels(), new Shape(train.size()));
      devicePositions = manager.arange(0L, (long) len, 1L, DataType.INT64);
    }
    if (!orderUploaded) {
      if (deviceOrder != null) {
        deviceOrder.close();
      }
      long[] o = new long[order.length];
      for (int i = 0; i < o.length; i++) {
        o[i] = order[i];
      }
      deviceOrder = manager.create(o);
      orderUploaded = true;
    }
    NDArray rows = deviceOrder.get(new NDIndex("{}:{}", slice[0], slice[0] + slice[1]));
    rows.attach(scope);
    // flat indices into the (N, 4) token matrix: row * 4 + position
    NDArray flat = rows.expandDims(1).mul(len).add(devicePositions);
    NDArray x = deviceTokens.take(scope, flat);
    NDArray y = deviceLabels.take(scope, rows);
    return new NDList(x, y);
  }

  @Override
  public void close() {
    trainer.close();
    model.close();
  }
}
