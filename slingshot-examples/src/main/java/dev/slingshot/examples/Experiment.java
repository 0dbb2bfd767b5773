package dev.slingshot.examples;

import dev.slingshot.core.SlingshotDetector;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The named experiments of {@code slingshot run}: each is a paper's set-up (which one, which
 * figure) plus its default {@link Settings} and every known deviation from the paper.
 */
enum Experiment {
  PARITY(
      "parity",
      "(n=50, k=3) sparse parity, 3-layer ReLU MLP 50-256-256-2, cross-entropy, Adam lr 0.004,"
          + " eps 1e-8, batch 32",
      "Thilak et al. 2022, App. A.6 (Figs. 6 and 13; --set eps=1e-7 / 1e-6 for Figs. 14-15,"
          + " --set lr=0.003 / 0.002 for the other panels)",
      List.of(
          "Hidden width 256 is our choice: the paper says '3 layer MLP' and gives no width.",
          "DJL Adam adds eps to the uncorrected sqrt(v) (PyTorch adds it to the bias-corrected"
              + " one): DJL's eps 1e-8 equals PyTorch's eps 1e-8/sqrt(1-beta2^t), 31.6x at t=1"
              + " and 1.0x after ~10,000 steps.",
          "The parity labels use the first k input coordinates (indices 0..k-1); the paper"
              + " draws a random size-k subset, which is equivalent up to a permutation of the"
              + " inputs.",
          "Minibatches: the 1000 training samples are reshuffled each epoch and cut into 31"
              + " batches of 32 (the last 8 dropped), as in the recorded PyTorch run.",
          "Default length 60,000 steps so that the run fits in 10 minutes on a 2-core CPU; the"
              + " paper's figures run longer.",
          "Init: PyTorch's nn.Linear default (weights and biases U(-1/sqrt(fan_in),"
              + " 1/sqrt(fan_in))), drawn from libtorch's generator seeded with --seed; DJL's"
              + " default (Xavier) is not used."),
      defaults(50, 3, 1000, 8000, List.of(256, 256), "cross_entropy", "adam", 0.004, 0.0, 60_000)),

  PARITY_ADAMW(
      "parity-adamw",
      "(n=40, k=3) sparse parity, one hidden ReLU layer 40-128-2, cross-entropy, AdamW lr 1e-2,"
          + " weight decay 1e-2, batch 32",
      "'Slingshot mechanism on k-sparse parity' (the parity study), Sec. 1.1 and 2.2",
      List.of(
          "The study does not give its data set sizes or batch size: 1000 train / 1000 test"
              + " and batch 32 are ours (as in the recorded PyTorch run).",
          "DJL AdamW adds eps to the uncorrected sqrt(v) (see `parity`).",
          "The parity labels use the first k input coordinates (indices 0..k-1).",
          "Init: PyTorch's nn.Linear default, as in `parity`."),
      defaults(40, 3, 1000, 1000, List.of(128), "cross_entropy", "adamw", 0.01, 0.01, 60_000)),

  PARITY_HINGE(
      "parity-hinge",
      "(n=40, k=3) sparse parity, one hidden ReLU layer 40-128-1, hinge loss max(0, 1 - y*f(x))"
          + " with y = +-1, AdamW lr 1e-2, weight decay 1e-2, batch 32",
      "'Slingshot mechanism on k-sparse parity' (the parity study), Sec. 2.1",
      List.of(
          "Data set sizes and batch size as in `parity-adamw` (ours; the study gives none).",
          "DJL AdamW adds eps to the uncorrected sqrt(v) (see `parity`).",
          "The parity labels use the first k input coordinates (indices 0..k-1).",
          "Init: PyTorch's nn.Linear default, as in `parity`."),
      defaults(40, 3, 1000, 1000, List.of(128), "hinge", "adamw", 0.01, 0.01, 20_000)),

  PARITY_RESET(
      "parity-reset",
      "parity-adamw (n=40, k=3, 40-128-2, cross-entropy, AdamW lr 1e-2, weight decay 1e-2, batch"
          + " 32) with AdamW's state (moments and update counts) reset at the onset of each"
          + " slingshot episode after the fit",
      "'Slingshot mechanism on k-sparse parity' (the parity study), Sec. 2.3 and Fig. 10",
      List.of(
          "The study resets AdamW's state 'right before a slingshot', which only hindsight"
              + " knows; we reset online, when the detector's rule sees an episode begin (the"
              + " first minibatch loss above detector_high after the fit, at least merge_gap steps"
              + " after the previous interval): the update of that step was taken with the old"
              + " state, the following ones (where the study's Step 5 compounds the jump) with a"
              + " fresh state. --set reset=periodic reset_every=N resets every N steps instead.",
          "A reset discards the first and second moments and sets the update counts to 0, so the"
              + " next update equals a fresh AdamW's first one (bias correction included).",
          "Everything else as in `parity-adamw`; compare with a `parity-adamw` run of the same"
              + " seed."),
      withDefault(
          defaults(40, 3, 1000, 1000, List.of(128), "cross_entropy", "adamw", 0.01, 0.01, 60_000),
          "reset",
          "episode_onset")),

  SYNTHETIC(
      "synthetic",
      "128-dim synthetic data, 3 informative dims, 8 classes at the vertices of a cube, 256 train"
          + " + 256 validation samples; 4-layer MLP 128-256-256-256-8, cross-entropy, Adam lr 1e-3,"
          + " betas (0.9, 0.95), eps 1e-8, batch 128",
      "Thilak et al. 2022, App. A.9 (Fig. 18; sweeps over eps for Fig. 19 and over beta1, beta2"
          + " for Figs. 20-21: ./slingshot sweep synthetic --grid eps=...)",
      List.of(
          "Data generated in Java, not by scikit-learn: class c's centre is (bit j of c ? +1 : -1)"
              + " in the 3 informative dims plus N(0,1) noise, the other 125 dims N(0,1), classes"
              + " balanced; no per-cluster random covariance, no 1% label flips, informative dims"
              + " first (scikit-learn's make_classification defaults, which the paper used with"
              + " unstated arguments, differ in these).",
          "Hidden width 256 is our choice: the paper says '4-layer fully-connected network' and"
              + " gives no width (4 layers = 3 hidden layers + the classifier).",
          "The paper's runs were in JAX (optax Adam: eps added to the bias-corrected sqrt(v));"
              + " DJL Adam adds eps to the uncorrected sqrt(v): DJL's eps equals"
              + " eps/sqrt(1-beta2^t) in JAX/PyTorch terms (4.5x at t=1 with beta2 0.95, 1.0x"
              + " after ~100 steps).",
          "Init: PyTorch's nn.Linear default (uniform +-1/sqrt(fan_in)); JAX/Flax's default is"
              + " LeCun normal weights and zero biases.",
          "Default length 100,000 steps (50,000 epochs of 2 batches); Figs. 20-21 run past 60,000"
              + " epochs."),
      syntheticDefaults()),

  OPTIMIZERS(
      "optimizers",
      "200 Fashion-MNIST images, full batch; model (--set model=): 6-layer deep linear 784-256x5-10"
          + " (default), 2- or 3-layer ReLU MLP, or 1-layer linear; optimizer (--set optimizer=):"
          + " AdamW (default), Adam, RMSProp or SGD with Table 1's hyperparameters, lr 1e-3,"
          + " weight decay 0",
      "Thilak et al. 2022, App. A.4 (Fig. 11: linear, 2- and 3-layer MLPs, Adam), A.5 (Fig. 12a-b:"
          + " 6-layer linear, AdamW) and A.7 (Fig. 12c-f: RMSProp, GD; Table 1)",
      List.of(
          "Fashion-MNIST (Debian's dataset-fashion-mnist, 784 grey pixels) instead of CIFAR-10"
              + " (3072 colour pixels): no CIFAR package exists offline; the first 200 training"
              + " images (not a random subset) and the first 1000 t10k images as a test set.",
          "Hidden width 256 is our choice: the paper gives no widths.",
          "RMSProp is this project's DJL Optimizer with PyTorch's semantics (DJL's PyTorch engine"
              + " has no RMSProp): v = rho*v + (1-rho)*g^2, w -= lr*g/(sqrt(v)+eps), rho 0.95;"
              + " GD is full-batch heavy-ball momentum 0.9 with PyTorch's semantics.",
          "DJL Adam/AdamW add eps to the uncorrected sqrt(v) (see `parity`).",
          "Init: PyTorch's nn.Linear default (uniform +-1/sqrt(fan_in)).",
          "Default length 20,000 full-batch steps; the paper does not state its run lengths."),
      optimizersDefaults()),

  MODULAR(
      "modular",
      "Power et al.'s algorithmic datasets (--set op=div default; 17 operations, p=97, train"
          + " fraction 0.5), decoder-only transformer 2 layers x width 128 x 4 heads (post-LN,"
          + " causal), cross-entropy on the answer token, Adam lr 1e-3 with 10-step warm-up,"
          + " betas (0.9, 0.98), eps 1e-8, batch 512",
      "Thilak et al. 2022, Sec. 2 and App. B (Fig. 2: division; --set eps=... for Figs. 4 and"
          + " 50, optimizer=adamw weight_decay=... for App. C.1, tau=... for App. C.2,"
          + " optimizer=sgd lr=... for App. B.2, op=... fraction=... for App. B.3)",
      List.of(
          "Post-LayerNorm: the paper does not say where its LayerNorms sit; its reference for"
              + " the decoder-only transformer (Vaswani et al. 2017) is post-LN. --set norm=pre"
              + " for pre-LN.",
          "DJL Adam adds eps to the uncorrected sqrt(v): DJL's eps equals PyTorch's"
              + " eps/sqrt(1-beta2^t), 7.1x at t=1 with beta2 0.98 and 1.0x after ~1000 steps.",
          "Minibatches: consecutive slices of a per-epoch permutation of the training set, the"
              + " last one short (Power et al.'s iterator); evaluations after the step's update.",
          "Default length 100,000 steps; the paper's Adam runs are about 500,000 steps long"
              + " (App. B.2: SGD gets 1.5M, '3 times' Adam's).",
          "tau > 0 replaces the linear classifier by logits = cos(w, f(x))/tau (App. C.2); the"
              + " 'last layer' norm is then the norm of the unnormalised w."),
      modularDefaults()),

  TOY_QUADRATIC(
      "toy-quadratic",
      "App. D's sign-like adaptive update x <- x - mu*g/(|g|+eps), g = Ax+B, on a quadratic with"
          + " symmetric positive definite A (diagonal and randomly rotated), over a grid of eps",
      "Thilak et al. 2022, App. D: convergence exactly when ||A|| < 2 eps/mu",
      List.of(
          "The paper states ||A|| < 2 eps/mu as a sufficient condition (M_t a contraction); near"
              + " the optimum the map is I - (mu/eps) A, so the condition is also necessary for"
              + " convergence to x*: beyond it the iterates settle into a bounded oscillation."
              + " Grid points at exactly ||A|| = 2 eps/mu (marginal, ~1/sqrt(t) convergence) are"
              + " left out.",
          "Pure Java in float64: no DJL, no records per step; report.md holds the table."),
      ToyQuadratic.keys());

  private final String id;
  private final String setup;
  private final String paper;
  private final List<String> deviations;
  private final List<Settings.Key> keys;

  Experiment(
      String id, String setup, String paper, List<String> deviations, List<Settings.Key> keys) {
    this.id = id;
    this.setup = setup;
    this.paper = paper;
    this.deviations = deviations;
    this.keys = keys;
  }

  /** The name used on the command line. */
  String id() {
    return id;
  }

  /** One line: data, model, loss and optimizer. */
  String setup() {
    return setup;
  }

  /** The paper set-up and figure this reproduces. */
  String paper() {
    return paper;
  }

  /** Every known difference from the paper. */
  List<String> deviations() {
    return deviations;
  }

  /** The default settings. */
  Settings defaults() {
    return Settings.defaults(keys);
  }

  /** Cross-key checks that single-key parsing cannot do. */
  void validate(Settings s) {
    List<String> problems = new ArrayList<>();
    Map<String, Settings.Key> has = s.keyMap();
    if (has.containsKey("k") && s.getInt("k") > s.getInt("n")) {
      problems.add("k=" + s.getInt("k") + " must not exceed n=" + s.getInt("n"));
    }
    if (has.containsKey("informative") && s.getInt("informative") > s.getInt("dim")) {
      problems.add(
          "informative=" + s.getInt("informative") + " must not exceed dim=" + s.getInt("dim"));
    }
    if (has.containsKey("train_size") && s.getInt("batch") > s.getInt("train_size")) {
      problems.add(
          "batch=" + s.getInt("batch") + " must not exceed train_size=" + s.getInt("train_size"));
    }
    if (has.containsKey("detector_low")
        && !(s.getDouble("detector_low") < s.getDouble("detector_high"))) {
      problems.add("detector_low must be below detector_high");
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          "invalid settings for " + id + ": " + String.join("; ", problems));
    }
    if (this == OPTIMIZERS) {
      FashionMnist.requireFiles();
    }
    if (this == MODULAR) {
      try {
        ModularExperiment.config(s);
        ModularArithmetic.of(ModularArithmetic.Operation.parse(s.getString("op")), s.getInt("p"));
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException(
            "invalid settings for " + id + ": " + ex.getMessage(), ex);
      }
    }
  }

  /** Trains (or, for {@code toy-quadratic}, iterates) this experiment into {@code dir}. */
  ParityTraining.Result train(Settings s, Path dir, ParityTraining.Progress progress)
      throws IOException {
    return switch (this) {
      case SYNTHETIC, OPTIMIZERS -> ClassifierTraining.run(this, s, dir, progress);
      case TOY_QUADRATIC -> ToyQuadratic.run(this, s, dir, progress);
      case MODULAR -> ModularExperiment.train(this, s, dir, progress, null);
      default -> ParityTraining.run(this, s, dir, progress);
    };
  }

  /** The files a finished run of this experiment leaves in its directory. */
  List<String> files() {
    return this == TOY_QUADRATIC ? ToyQuadratic.files() : RunReport.files();
  }

  /** Whether a run writes per-step records that the detector, plots and sweeps can read. */
  boolean hasStepRecords() {
    return this != TOY_QUADRATIC;
  }

  /** The experiment called {@code name}, or an error that lists the valid names. */
  static Experiment named(String name) {
    for (Experiment e : values()) {
      if (e.id.equals(name.toLowerCase(Locale.ROOT))) {
        return e;
      }
    }
    throw new IllegalArgumentException(
        "unknown experiment '" + name + "'; valid experiments: " + names());
  }

  static String names() {
    return Arrays.stream(values()).map(Experiment::id).collect(Collectors.joining(", "));
  }

  /** {@code keys} with the default of {@code key} replaced. */
  private static List<Settings.Key> withDefault(List<Settings.Key> keys, String key, Object def) {
    List<Settings.Key> out = new ArrayList<>();
    for (Settings.Key k : keys) {
      out.add(
          k.key().equals(key)
              ? new Settings.Key(k.key(), k.kind(), def, k.min(), k.max(), k.choices(), k.doc())
              : k);
    }
    return List.copyOf(out);
  }

  private static List<Settings.Key> syntheticDefaults() {
    List<Settings.Key> k = new ArrayList<>();
    k.add(Settings.Key.ofInt("dim", 128, 1, 100_000, "input dimensions"));
    k.add(Settings.Key.ofInt("informative", 3, 1, 20, "informative dims; 2^informative classes"));
    k.add(Settings.Key.ofDouble("class_sep", 1.0, 0, 1000, "cube half-side: centres at +-sep"));
    k.add(Settings.Key.ofInt("train_size", 256, 1, 10_000_000, "training samples"));
    k.add(Settings.Key.ofInt("test_size", 256, 1, 10_000_000, "validation samples"));
    k.add(
        Settings.Key.ofIntList(
            "hidden", List.of(256, 256, 256), 1, 1_000_000, "hidden ReLU layer widths"));
    k.add(Settings.Key.ofChoice("optimizer", "adam", List.of("adam", "adamw"), "DJL optimizer"));
    k.add(Settings.Key.ofDouble("lr", 0.001, 0, 10, "learning rate"));
    k.add(Settings.Key.ofDouble("eps", 1e-8, 0, 1, "Adam epsilon (DJL semantics)"));
    k.add(Settings.Key.ofDouble("beta1", 0.9, 0, 0.999999, "first-moment decay"));
    k.add(Settings.Key.ofDouble("beta2", 0.95, 0, 0.999999, "second-moment decay"));
    k.add(
        Settings.Key.ofDouble(
            "weight_decay", 0, 0, 10, "Adam: L2 added to the gradient; AdamW: decoupled"));
    k.add(Settings.Key.ofInt("batch", 128, 1, 1_000_000, "minibatch size"));
    k.add(Settings.Key.ofLong("steps", 100_000, 1, "optimizer steps"));
    k.addAll(common());
    return List.copyOf(k);
  }

  private static List<Settings.Key> optimizersDefaults() {
    List<Settings.Key> k = new ArrayList<>();
    k.add(Settings.Key.ofInt("train_size", 200, 1, 60_000, "training images (full batch)"));
    k.add(Settings.Key.ofInt("test_size", 1000, 1, 10_000, "test images (t10k)"));
    k.add(
        Settings.Key.ofChoice(
            "inputs",
            "scaled",
            List.of("scaled", "standardized"),
            "pixels / 255, or standardized with Fashion-MNIST's mean and deviation"));
    k.add(
        Settings.Key.ofChoice(
            "model",
            "linear6",
            List.of("linear6", "mlp2", "mlp3", "linear1"),
            "6-layer deep linear (A.5, A.7), 2-/3-layer ReLU MLP or 1-layer linear (A.4)"));
    k.add(Settings.Key.ofInt("width", 256, 1, 1_000_000, "hidden layer width"));
    k.add(
        Settings.Key.ofChoice(
            "optimizer",
            "adamw",
            List.of("adamw", "adam", "rmsprop", "sgd"),
            "Table 1: AdamW/Adam, RMSProp or (momentum) SGD"));
    k.add(Settings.Key.ofDouble("lr", 0.001, 0, 10, "learning rate (Table 1: 1e-3)"));
    k.add(Settings.Key.ofDouble("eps", 1e-8, 0, 1, "Adam (DJL semantics) and RMSProp epsilon"));
    k.add(Settings.Key.ofDouble("beta1", 0.9, 0, 0.999999, "Adam first-moment decay"));
    k.add(Settings.Key.ofDouble("beta2", 0.95, 0, 0.999999, "Adam second-moment decay"));
    k.add(Settings.Key.ofDouble("rho", 0.95, 0, 0.999999, "RMSProp decay (PyTorch's alpha)"));
    k.add(Settings.Key.ofDouble("momentum", 0.9, 0, 0.999999, "SGD heavy-ball momentum"));
    k.add(Settings.Key.ofDouble("weight_decay", 0, 0, 10, "weight decay (Table 1: 0)"));
    k.add(Settings.Key.ofInt("batch", 200, 1, 1_000_000, "minibatch size (200: full batch)"));
    k.add(Settings.Key.ofLong("steps", 20_000, 1, "optimizer steps"));
    k.addAll(common());
    return List.copyOf(k);
  }

  private static List<Settings.Key> modularDefaults() {
    List<Settings.Key> k = new ArrayList<>();
    k.add(
        Settings.Key.ofChoice(
            "op",
            "div",
            List.of(ModularArithmetic.Operation.ids()),
            "the operation (App. B); div is the paper's Fig. 2"));
    k.add(Settings.Key.ofInt("p", 97, 2, 10_000, "prime modulus (ignored by the s5_* operations)"));
    k.add(Settings.Key.ofDouble("fraction", 0.5, 0.3, 0.8, "training fraction of all equations"));
    k.add(
        Settings.Key.ofChoice(
            "optimizer",
            "adam",
            List.of("adam", "adamw", "sgd"),
            "Adam (no weight decay), AdamW (App. C.1) or SGD with momentum (App. B.2)"));
    k.add(Settings.Key.ofDouble("lr", 1e-3, 0, 10, "peak learning rate"));
    k.add(Settings.Key.ofInt("warmup", 10, 0, 1_000_000, "linear warm-up steps"));
    k.add(Settings.Key.ofDouble("beta1", 0.9, 0, 0.999999, "first-moment decay"));
    k.add(Settings.Key.ofDouble("beta2", 0.98, 0, 0.999999, "second-moment decay"));
    k.add(Settings.Key.ofDouble("eps", 1e-8, 1e-8, 1e-4, "Adam epsilon (DJL semantics)"));
    k.add(
        Settings.Key.ofDouble(
            "weight_decay", 0, 0, 10, "AdamW: decoupled; SGD: L2 (Adam runs without)"));
    k.add(Settings.Key.ofDouble("momentum", 0.9, 0, 0.999999, "SGD momentum"));
    k.add(Settings.Key.ofInt("batch", 512, 1, 1_000_000, "minibatch size"));
    k.add(Settings.Key.ofLong("steps", 100_000, 1, "optimizer steps"));
    k.add(
        Settings.Key.ofDouble(
            "tau", 0, 0, 100, "0: linear classifier; > 0: cosine classifier / tau (App. C.2)"));
    k.add(Settings.Key.ofChoice("norm", "post", List.of("post", "pre"), "LayerNorm placement"));
    k.add(Settings.Key.ofInt("width", 128, 1, 100_000, "model width"));
    k.add(Settings.Key.ofInt("heads", 4, 1, 1024, "attention heads (must divide width)"));
    k.add(Settings.Key.ofInt("layers", 2, 1, 1024, "decoder layers"));
    k.add(
        Settings.Key.ofInt(
            "measure_every", 1, 1, Integer.MAX_VALUE, "norms and update norm period, in steps"));
    k.add(
        Settings.Key.ofInt(
            "cosine_every",
            100,
            0,
            Integer.MAX_VALUE,
            "cosine distance from init period (App. B.1; 0: off; a multiple of measure_every)"));
    k.add(
        Settings.Key.ofInt(
            "feature_every",
            100,
            0,
            Integer.MAX_VALUE,
            "feature change period on a fixed probe batch (Fig. 2e-f; 0: off)"));
    k.add(
        Settings.Key.ofLong(
            "sharpness_every",
            0,
            0,
            "update sharpness probe period (Fig. 3, App. D; 0: off): one Hessian-vector product"));
    k.add(
        Settings.Key.ofLong(
            "sharpness_dense",
            0,
            0,
            "also probe every step for this many steps from each norm-phase change and slingshot"
                + " boundary (needs sharpness_every > 0)"));
    k.add(
        Settings.Key.ofChoice(
            "probes",
            "sharpness",
            List.of("sharpness", "all"),
            "probe quantities: update sharpness, or also lambda_max, effective step and"
                + " preconditioned sharpness"));
    k.addAll(common());
    k.addAll(checkpointAndReset());
    return List.copyOf(k);
  }

  /** The keys every trained experiment shares: evaluation period, seed and detector rule. */
  private static List<Settings.Key> common() {
    return List.of(
        Settings.Key.ofInt(
            "eval_every", 100, 1, Integer.MAX_VALUE, "full-train and test evaluation period"),
        Settings.Key.ofLong("seed", 0, Long.MIN_VALUE, "data, shuffling and init seed"),
        Settings.Key.ofDouble(
            "detector_low",
            SlingshotDetector.Config.DEFAULT_LOW,
            Double.MIN_VALUE,
            1e9,
            "slingshot rule: arm below / end below this loss"),
        Settings.Key.ofDouble(
            "detector_high",
            SlingshotDetector.Config.DEFAULT_HIGH,
            Double.MIN_VALUE,
            1e9,
            "slingshot rule: start above this loss"),
        Settings.Key.ofLong(
            "merge_gap",
            SlingshotDetector.Config.DEFAULT_MERGE_GAP,
            0,
            "intervals closer than this many steps form one episode"));
  }

  private static List<Settings.Key> defaults(
      int n,
      int k,
      int train,
      int test,
      List<Integer> hidden,
      String loss,
      String optimizer,
      double lr,
      double wd,
      long steps) {
    List<Settings.Key> keys = new ArrayList<>();
    keys.addAll(
        List.of(
            Settings.Key.ofInt("n", n, 1, 100_000, "input bits"),
            Settings.Key.ofInt("k", k, 1, 100_000, "parity of the first k bits is the label"),
            Settings.Key.ofInt("train_size", train, 1, 10_000_000, "training samples"),
            Settings.Key.ofInt("test_size", test, 1, 10_000_000, "test samples"),
            Settings.Key.ofIntList("hidden", hidden, 1, 1_000_000, "hidden ReLU layer widths"),
            Settings.Key.ofChoice("loss", loss, List.of("cross_entropy", "hinge"), "training loss"),
            Settings.Key.ofChoice(
                "optimizer", optimizer, List.of("adam", "adamw"), "DJL optimizer"),
            Settings.Key.ofDouble("lr", lr, 0, 10, "learning rate"),
            Settings.Key.ofDouble("eps", 1e-8, 0, 1, "Adam epsilon (DJL semantics)"),
            Settings.Key.ofDouble("beta1", 0.9, 0, 0.999999, "first-moment decay"),
            Settings.Key.ofDouble("beta2", 0.999, 0, 0.999999, "second-moment decay"),
            Settings.Key.ofDouble(
                "weight_decay", wd, 0, 10, "Adam: L2 added to the gradient; AdamW: decoupled"),
            Settings.Key.ofInt("batch", 32, 1, 1_000_000, "minibatch size"),
            Settings.Key.ofLong("steps", steps, 1, "optimizer steps")));
    keys.addAll(common());
    keys.addAll(checkpointAndReset());
    return List.copyOf(keys);
  }

  /** Checkpoints for {@code run --resume} and the optimizer-state reset policy. */
  private static List<Settings.Key> checkpointAndReset() {
    return List.of(
        Settings.Key.ofLong(
            "checkpoint_every",
            5_000,
            0,
            "write DIR/checkpoint/ every this many steps, for run --resume (0: never)"),
        Settings.Key.ofChoice(
            "reset",
            "never",
            List.of("never", "episode_onset", "periodic"),
            "reset the optimizer state: never, at each slingshot episode onset after the fit,"
                + " or every reset_every steps"),
        Settings.Key.ofLong("reset_every", 1000, 1, "period of reset=periodic, in steps"),
        Settings.Key.ofLong(
            "probe_every",
            0,
            0,
            "second-order probes (update sharpness, lambda_max, Adam's effective step against"
                + " 2/lambda_max, preconditioned sharpness; Thilak et al. App. A.6.1) every this"
                + " many steps, on the next training batch (0: off); drawn in sharpness.png"),
        Settings.Key.ofLong(
            "probe_dense",
            0,
            0,
            "also probe every step for this many steps after each norm-phase change and each"
                + " slingshot interval start or end (0: off)"));
  }

  /**
   * The loss-threshold rule of the common settings {@code detector_low}, {@code detector_high} and
   * {@code merge_gap} (validated by {@link #validate}).
   */
  static SlingshotDetector detector(Settings s) {
    return new SlingshotDetector(
        new SlingshotDetector.Config(
            s.getDouble("detector_low"), s.getDouble("detector_high"), s.getLong("merge_gap")));
  }
}
