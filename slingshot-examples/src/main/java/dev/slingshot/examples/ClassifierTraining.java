package dev.slingshot.examples;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.Trainer;
import ai.djl.training.initializer.UniformInitializer;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.slingshot.core.RunLog;
import dev.slingshot.core.SlingshotDetector;
import dev.slingshot.core.SlingshotMonitor;
import dev.slingshot.core.StepRecord;
import dev.slingshot.djl.SlingshotOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Trains the classification experiments ({@code synthetic}: Thilak et al. 2022, App. A.9; {@code
 * optimizers}: App. A.4, A.5, A.7) into a run directory with the same files and records as {@link
 * ParityTraining}: {@code config.json}, one {@link StepRecord} per step through core's {@link
 * RunLog}, then the plots and {@code report.md} from {@link RunReport}.
 *
 * <p>The loop is plain DJL driven by hand, instrumented by the slingshot-djl adapter ({@link
 * dev.slingshot.djl.Slingshot#attach}) exactly as in {@link ParityTraining}: the adapter measures
 * the minibatch loss, the last-layer norm (the final {@link Linear} weight), the update norm ‖u‖
 * and ‖u‖<sub>∞</sub> every step, whatever the optimizer (DJL's Adam and AdamW, this project's
 * {@link RmsProp} and {@link MomentumSgd}); evaluations join the same step's record through its
 * record enricher.
 *
 * <p>The model is a stack of {@link Linear} layers (ReLU between them, or none for the deep linear
 * model) with PyTorch's nn.Linear default init, trained on cross-entropy over the class logits with
 * minibatches cut from a per-epoch reshuffle (full batch when {@code batch = train_size}). The held
 * out set (App. A.9's validation set, Fashion-MNIST's test images) is recorded as {@code test_*}.
 */
final class ClassifierTraining {

  private static final long SHUFFLE_SALT = 0x5DEECE66DL;

  private ClassifierTraining() {}

  /** The layer widths after the input (the last is the class count) and whether ReLU separates. */
  record Architecture(List<Integer> widths, boolean relu, String description) {}

  static ClassifierData.Split data(Experiment e, Settings s) {
    return switch (e) {
      case SYNTHETIC ->
          SyntheticData.split(
              s.getInt("train_size"),
              s.getInt("test_size"),
              s.getInt("dim"),
              s.getInt("informative"),
              s.getDouble("class_sep"),
              s.getLong("seed"));
      case OPTIMIZERS ->
          FashionMnist.split(
              s.getInt("train_size"),
              s.getInt("test_size"),
              s.getString("inputs").equals("standardized"));
      default -> throw new IllegalArgumentException(e.id() + " is not a classification experiment");
    };
  }

  static Architecture architecture(Experiment e, Settings s, int inputs, int classes) {
    List<Integer> widths = new ArrayList<>();
    boolean relu = true;
    String kind = "MLP";
    if (e == Experiment.OPTIMIZERS) {
      String model = s.getString("model");
      int width = s.getInt("width");
      int hidden =
          switch (model) {
            case "linear6" -> 5;
            case "mlp2" -> 1;
            case "mlp3" -> 2;
            default -> 0; // linear1
          };
      for (int i = 0; i < hidden; i++) {
        widths.add(width);
      }
      relu = model.startsWith("mlp");
      kind = relu ? "MLP" : (hidden == 0 ? "linear model" : "deep linear model (no activations)");
    } else {
      widths.addAll(s.getIntList("hidden"));
    }
    widths.add(classes);
    StringBuilder b = new StringBuilder(kind).append(' ').append(inputs);
    widths.forEach(w -> b.append('-').append(w));
    if (relu && widths.size() > 1) {
      b.append(", ReLU");
    }
    return new Architecture(List.copyOf(widths), relu, b.toString());
  }

  /** Runs {@code experiment} with {@code s} into {@code dir}. */
  static ParityTraining.Result run(
      Experiment experiment, Settings s, Path dir, ParityTraining.Progress progress)
      throws IOException {
    experiment.validate(s);
    ParityTraining.configureEngine();
    ClassifierData.Split data = data(experiment, s);
    Files.createDirectories(dir);
    long seed = s.getLong("seed");
    int n = data.train().dim;
    Architecture arch = architecture(experiment, s, n, data.train().classes);
    ParityLoss loss = ParityLoss.crossEntropy();
    Engine engine = Engine.getInstance();
    engine.setRandomSeed(ParityTraining.torchSeed(seed));

    SequentialBlock block = new SequentialBlock();
    int fanIn = n;
    for (int i = 0; i < arch.widths().size(); i++) {
      Linear linear = Linear.builder().setUnits(arch.widths().get(i)).build();
      UniformInitializer init = new UniformInitializer((float) (1 / Math.sqrt(fanIn)));
      linear.setInitializer(init, Parameter.Type.WEIGHT);
      linear.setInitializer(init, Parameter.Type.BIAS);
      block.add(linear);
      if (arch.relu() && i < arch.widths().size() - 1) {
        block.add(Activation.reluBlock());
      }
      fanIn = arch.widths().get(i);
    }

    Optimizer optimizer = optimizer(s);
    int batch = s.getInt("batch");
    long steps = s.getLong("steps");
    int evalEvery = s.getInt("eval_every");
    SlingshotDetector detector = Experiment.detector(s);
    SlingshotMonitor monitor = SlingshotMonitor.builder().rule(detector).build();

    Trainer[] trainerRef = new Trainer[1];
    SlingshotOptions options =
        HandLoop.evaluatedOptions(
                monitor,
                evalEvery,
                steps,
                (r, step) -> {
                  Trainer t = trainerRef[0];
                  double[] tr = evaluate(t, t.getManager(), data.train(), loss);
                  double[] te = evaluate(t, t.getManager(), data.test(), loss);
                  r.fullTrainLoss(tr[0]).trainAccuracy(tr[1]);
                  r.testLoss(te[0]).testAccuracy(te[1]);
                })
            .build();
    dev.slingshot.djl.Slingshot slingshot =
        dev.slingshot.djl.Slingshot.attach(
            new DefaultTrainingConfig(loss).optOptimizer(optimizer), options);

    Instant start = Instant.now();
    long done = 0;
    try (Model model = Model.newInstance(experiment.id(), engine.defaultDevice(), "PyTorch")) {
      model.setBlock(block);
      try (Trainer trainer = model.newTrainer(slingshot.config())) {
        trainerRef[0] = trainer;
        trainer.initialize(new Shape(batch, n));
        List<Parameter> params = new ArrayList<>();
        block.getParameters().forEach(p -> params.add(p.getValue()));
        writeConfig(dir, experiment, s, trainer, params, arch, data);
        NDManager manager = trainer.getManager();
        SplittableRandom shuffle = new SplittableRandom(seed ^ SHUFFLE_SALT);
        int perEpoch = data.train().size / batch;
        int[] perm = null;
        int pos = 0;
        float[] xb = new float[batch * n];
        long[] yb = new long[batch];
        try (RunLog log = RunLog.attach(monitor, dir)) {
          for (long step = 1; step <= steps; step++) {
            if (perm == null || pos >= perEpoch) {
              perm = ParityTraining.permutation(data.train().size, shuffle);
              pos = 0;
            }
            try (NDManager sub = manager.newSubManager()) {
              ClassifierData d = data.train();
              for (int b = 0; b < batch; b++) {
                int row = perm[pos * batch + b];
                System.arraycopy(d.x, row * n, xb, b * n, n);
                yb[b] = d.label[row];
              }
              pos++;
              NDArray x = sub.create(xb, new Shape(batch, n));
              NDList labels = new NDList(sub.create(yb));
              HandLoop.step(trainer, sub, x, labels, batch, step, steps);
            }
            StepRecord r = slingshot.lastRecord();
            if (r == null || r.step() != step) {
              throw new IllegalStateException("the adapter recorded no record for step " + step);
            }
            done = step;
            progress.update(
                step,
                r.trainLoss(),
                r.norm(ParityTraining.LAST_LAYER).orElse(Double.NaN),
                RunAnalysis.lateEpisodes(detector.episodes()));
          }
        }
      }
    } finally {
      progress.close();
    }
    Duration elapsed = Duration.between(start, Instant.now());
    writeResult(dir, done, elapsed);
    RunReport.write(dir);
    return new ParityTraining.Result(
        done, elapsed, RunAnalysis.lateEpisodes(detector.episodes()), detector.intervals().size());
  }

  static Optimizer optimizer(Settings s) {
    float lr = (float) s.getDouble("lr");
    float eps = (float) s.getDouble("eps");
    float wd = (float) s.getDouble("weight_decay");
    return switch (s.getString("optimizer")) {
      case "adamw" ->
          Optimizer.adamW()
              .optLearningRateTracker(Tracker.fixed(lr))
              .optBeta1((float) s.getDouble("beta1"))
              .optBeta2((float) s.getDouble("beta2"))
              .optEpsilon(eps)
              .optWeightDecays(wd)
              .build();
      case "rmsprop" ->
          RmsProp.builder()
              .optLearningRate(lr)
              .optRho((float) s.getDouble("rho"))
              .optEpsilon(eps)
              .optWeightDecays(wd)
              .build();
      case "sgd" ->
          MomentumSgd.builder()
              .optLearningRate(lr)
              .optMomentum((float) s.getDouble("momentum"))
              .optWeightDecays(wd)
              .build();
      default ->
          Optimizer.adam()
              .optLearningRateTracker(Tracker.fixed(lr))
              .optBeta1((float) s.getDouble("beta1"))
              .optBeta2((float) s.getDouble("beta2"))
              .optEpsilon(eps)
              .optWeightDecays(wd)
              .build();
    };
  }

  static String optimizerString(Settings s) {
    String o = s.getString("optimizer");
    String common =
        "lr " + s.getDouble("lr") + ", weight decay " + s.getDouble("weight_decay") + "), batch ";
    return switch (o) {
          case "rmsprop" ->
              "RMSProp(rho " + s.getDouble("rho") + ", eps " + s.getDouble("eps") + ", " + common;
          case "sgd" -> "SGD(momentum " + s.getDouble("momentum") + ", " + common;
          default ->
              (o.equals("adamw") ? "AdamW" : "Adam")
                  + "(betas ("
                  + s.getDouble("beta1")
                  + ", "
                  + s.getDouble("beta2")
                  + "), eps "
                  + s.getDouble("eps")
                  + ", "
                  + common;
        }
        + s.getInt("batch");
  }

  static String semantics(Settings s) {
    return switch (s.getString("optimizer")) {
      case "rmsprop" ->
          "RmsProp (this project's DJL Optimizer, PyTorch RMSprop semantics, centered=False,"
              + " momentum 0): g += wd*w; v = rho*v + (1-rho)*g^2; w -= lr*g/(sqrt(v)+eps)";
      case "sgd" ->
          "MomentumSgd (this project's DJL Optimizer, PyTorch SGD semantics, dampening 0):"
              + " g += wd*w; b = g on the first step, else b = momentum*b + g; w -= lr*b";
      default ->
          "DJL "
              + (s.getString("optimizer").equals("adamw") ? "AdamW" : "Adam")
              + ": w -= lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v)+eps), eps added to the"
              + " uncorrected sqrt(v) (PyTorch adds it to sqrt(v/(1-b2^t)));"
              + (s.getString("optimizer").equals("adamw")
                  ? " decoupled weight decay w -= lr*wd*w before the moments"
                  : " weight decay added to the gradient (L2)");
    };
  }

  /** Mean cross-entropy and accuracy over a whole set. */
  private static double[] evaluate(
      Trainer trainer, NDManager manager, ClassifierData d, ParityLoss loss) {
    try (NDManager sub = manager.newSubManager()) {
      NDArray x = sub.create(d.x, new Shape(d.size, d.dim));
      NDArray y = sub.create(d.label);
      NDList pred = trainer.evaluate(new NDList(x));
      double l = loss.evaluate(new NDList(y), pred).getFloat();
      double a = loss.accuracy(y, pred.singletonOrThrow()).getFloat();
      return new double[] {l, a};
    }
  }

  private static void writeConfig(
      Path dir,
      Experiment e,
      Settings s,
      Trainer trainer,
      List<Parameter> params,
      Architecture arch,
      ClassifierData.Split data)
      throws IOException {
    Map<String, Object> c = RunFiles.configHead(e, s);
    Map<String, Object> seeds = new LinkedHashMap<>();
    seeds.put(
        "data",
        e == Experiment.SYNTHETIC
            ? "java.util.SplittableRandom(seed): train set, then validation set (Box-Muller)"
            : "none: the first train_size / test_size images of the IDX files");
    seeds.put("shuffle", "java.util.SplittableRandom(seed ^ 0x5DEECE66D), Fisher-Yates per epoch");
    seeds.put("init", "libtorch manual_seed " + ParityTraining.torchSeed(s.getLong("seed")));
    c.put("random", seeds);
    c.put(
        "data",
        e == Experiment.SYNTHETIC
            ? "synthetic (App. A.9.1): "
                + s.getInt("dim")
                + " dims, the first "
                + s.getInt("informative")
                + " informative: class c has centre ("
                + "bit j of c ? +sep : -sep) with sep "
                + s.getDouble("class_sep")
                + ", plus N(0,1) noise; the other dims N(0,1); classes balanced (i mod "
                + data.train().classes
                + "); test_* = the validation set"
            : "Fashion-MNIST from "
                + FashionMnist.dir()
                + ": first "
                + data.train().size
                + " train images, first "
                + data.test().size
                + " t10k images, 784 pixels / 255"
                + (s.getString("inputs").equals("standardized")
                    ? ", standardized (x - 0.2860) / 0.3530"
                    : "")
                + ", 10 classes; test_* = the t10k images");
    c.put(
        "minibatches",
        "train set reshuffled each epoch, cut into floor(train_size/batch) batches, the rest"
            + " dropped (batch = train_size: full batch)");
    List<String> shapes = new ArrayList<>();
    long count = 0;
    for (Parameter p : params) {
      shapes.add(p.getName() + " " + p.getArray().getShape());
      count += p.getArray().getShape().size();
    }
    c.put("model", arch.description() + ", PyTorch nn.Linear default init");
    c.put("parameters", count);
    c.put("parameter_shapes", shapes);
    c.put("loss", "cross-entropy over " + data.train().classes + " logits, mean");
    c.put("optimizer", optimizerString(s));
    c.put("optimizer_semantics", semantics(s));
    RunFiles.putEnvironment(c, trainer);
    c.put(
        "records",
        "metrics.jsonl: one record per step; train_loss is the minibatch loss before the"
            + " update; norms.last_layer and update_norm are measured after it; full_train_loss,"
            + " train_acc, test_loss, test_acc every eval_every steps (and at the last step),"
            + " after that step's update");
    RunFiles.writeJson(dir.resolve(ParityTraining.CONFIG_FILE), c);
  }

  private static void writeResult(Path dir, long steps, Duration elapsed) {
    try {
      Map<String, Object> c = RunFiles.readJsonMap(dir.resolve(ParityTraining.CONFIG_FILE));
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("steps_completed", steps);
      r.put("wall_seconds", elapsed.toMillis() / 1000.0);
      r.put("ms_per_step", steps == 0 ? 0 : elapsed.toNanos() / 1e6 / steps);
      r.put("finished", Instant.now().toString());
      c.put("result", r);
      RunFiles.writeJson(dir.resolve(ParityTraining.CONFIG_FILE), c);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
