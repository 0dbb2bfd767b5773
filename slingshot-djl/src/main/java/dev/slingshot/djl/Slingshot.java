package dev.slingshot.djl;

import ai.djl.training.TrainingConfig;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import dev.slingshot.core.SlingshotDetector;
import dev.slingshot.core.SlingshotEvent;
import dev.slingshot.core.SlingshotInterval;
import dev.slingshot.core.SlingshotMonitor;
import dev.slingshot.core.SlingshotRule;
import dev.slingshot.core.StateReset;
import dev.slingshot.core.StepRecord;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Attaches the slingshot diagnostics (Thilak et al. 2022) to a DJL training run in one line, and is
 * the handle to what they see.
 *
 * <pre>{@code
 * Slingshot slingshot = Slingshot.attach(config, SlingshotOptions.ofDefaults());
 * try (Trainer trainer = model.newTrainer(slingshot.config())) { ... EasyTrain.fit(...) ... }
 * slingshot.intervals();
 * }</pre>
 *
 * <p>{@link #config()} is the user's config with three things instrumented: the optimizer is
 * wrapped by a delegating optimizer that sees each weight just before and after the user's
 * optimizer updates it; the loss is wrapped so that the loss the training loop computes for
 * backward is seen without computing it again; and a training listener is appended. Any {@link
 * Optimizer} (DJL's Adam, AdamW, RmsProp, Sgd, Nag, Adagrad, Adadelta or a user-written one), any
 * block and any device work: the cheap tier (every step) computes a few norms on the device and
 * reads them back in one transfer of a few scalars; no parameter tensor is ever copied to the host.
 *
 * <p>Every step {@code t} (the {@code t}-th optimizer update) produces a {@link StepRecord} fed to
 * the {@link SlingshotMonitor} with the minibatch loss of batch {@code t}; on measured steps (step
 * 1 and every {@link SlingshotOptions#measureEvery()} steps) it also has ‖Δθ‖ of update {@code t}
 * and under {@link StepRecord#norms()} the keys {@value StepMetrics#LAST_LAYER}, {@value
 * StepMetrics#PARAMS} and {@value StepMetrics#GROUP_PREFIX}{@code <group>} (norms of the parameters
 * after update {@code t}), and under {@link StepRecord#metrics()} {@value StepMetrics#UPDATE_RATIO}
 * and {@value StepMetrics#UPDATE_MAX_ABS} (‖Δθ‖<sub>∞</sub>, the largest per-coordinate move, the
 * parity study's Step 4 quantity); {@link #onStep} gets the same step as {@link StepMetrics}, with
 * the cosine distances from initialisation. The record of step {@code t} is complete at the end of
 * {@code trainer.step()} of step {@code t}; a state reset that the monitor's policy asks for then
 * takes effect before update {@code t + 1}.
 *
 * <p>With {@link SlingshotOptions.Builder#probes} the expensive tier runs on a schedule: when the
 * record of step {@code t} is due, update sharpness, λmax, Adam's effective step against 2/λmax and
 * the preconditioned sharpness are measured at θ<sub>t</sub> along the update of step {@code t}, at
 * the training batch of step {@code t + 1} (before its update), published as a {@link
 * ProbeMeasurement} and kept in {@link #lastProbe()}.
 *
 * <p>The diagnostics never stop training: an internal failure is logged (SLF4J) and counted in
 * {@link #internalFailures()}, and that step's record is skipped, unless {@link
 * SlingshotOptions.Builder#failFast} is set. A NaN loss is a measurement: the monitor records it as
 * a divergence. Not thread-safe, like DJL's {@code Trainer}; one handle per training run.
 */
public final class Slingshot {

  private final Instrumentation instrumentation;
  private final TrainingConfig config;

  private Slingshot(Instrumentation instrumentation, TrainingConfig config) {
    this.instrumentation = instrumentation;
    this.config = config;
  }

  /**
   * {@link #attach(TrainingConfig, SlingshotOptions)} with {@link SlingshotOptions#ofDefaults()}.
   */
  public static Slingshot attach(TrainingConfig config) {
    return attach(config, SlingshotOptions.ofDefaults());
  }

  /**
   * Instruments {@code config}; create the trainer from {@link #config()}. The given config is not
   * changed. A wrong {@link SlingshotOptions.Builder#lastLayer last-layer name} or group fails with
   * an {@link IllegalArgumentException} when the trainer is created (that is when the model's
   * parameters are known), listing the model's parameter names.
   *
   * @throws IllegalArgumentException if the config has no optimizer or no loss
   */
  public static Slingshot attach(TrainingConfig config, SlingshotOptions options) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(options, "options");
    Optimizer optimizer = config.getOptimizer();
    if (optimizer == null) {
      throw new IllegalArgumentException("the training config has no optimizer");
    }
    if (optimizer instanceof InstrumentedOptimizer) {
      throw new IllegalArgumentException("the training config is already instrumented");
    }
    Loss loss = config.getLossFunction();
    if (loss == null) {
      throw new IllegalArgumentException("the training config has no loss");
    }
    Instrumentation inst = new Instrumentation(options, options.newMonitor(), optimizer);
    Loss instrumentedLoss = options.captureLoss() ? new CapturingLoss(loss, inst) : loss;
    TrainingConfig instrumented =
        new InstrumentedConfig(
            config,
            new InstrumentedOptimizer(optimizer, inst),
            instrumentedLoss,
            new SlingshotListener(inst));
    return new Slingshot(inst, instrumented);
  }

  /** The instrumented config: pass it to {@code model.newTrainer}. */
  public TrainingConfig config() {
    return config;
  }

  /** The monitor the records feed (its rules, reset policy and last record). */
  public SlingshotMonitor monitor() {
    return instrumentation.monitor();
  }

  /**
   * The slingshot intervals found so far by the first {@link SlingshotDetector} among the monitor's
   * rules (empty if it has none).
   */
  public List<SlingshotInterval> intervals() {
    for (SlingshotRule rule : monitor().rules()) {
      if (rule instanceof SlingshotDetector d) {
        return d.intervals();
      }
    }
    return List.of();
  }

  /**
   * Subscribes to every event: the monitor's rules' events and the adapter's {@link StateReset}s.
   */
  public Slingshot onEvent(Consumer<? super SlingshotEvent> subscriber) {
    Objects.requireNonNull(subscriber, "subscriber");
    monitor().onEvent(subscriber);
    return this;
  }

  /** Subscribes to every step's cheap-tier measurements. */
  public Slingshot onStep(Consumer<? super StepMetrics> subscriber) {
    instrumentation.onStep(Objects.requireNonNull(subscriber, "subscriber"));
    return this;
  }

  /** The last step's measurements, or null before the first step completes. */
  public StepMetrics lastMetrics() {
    return instrumentation.lastMetrics();
  }

  /** The last record fed to the monitor, or null before the first. */
  public StepRecord lastRecord() {
    return instrumentation.lastRecord();
  }

  /** The last step's update norm ‖Δθ‖, or NaN before the first step. */
  public double lastUpdateNorm() {
    StepMetrics m = lastMetrics();
    return m == null ? Double.NaN : m.updateNorm();
  }

  /**
   * The last second-order probe's result (also published to the monitor as a {@link
   * dev.slingshot.core.Measurement} of type {@value ProbeMeasurement#TYPE}), or null before the
   * first; see {@link SlingshotOptions.Builder#probes}.
   */
  public ProbeMeasurement lastProbe() {
    return instrumentation.lastProbe();
  }

  /** How many second-order probes ran to completion (failed ones count as internal failures). */
  public long probeRuns() {
    return instrumentation.probeRuns();
  }

  /**
   * The step number of the last optimizer update seen: the updates seen since the trainer was
   * created, plus {@link SlingshotOptions#firstStep()} − 1.
   */
  public long steps() {
    return instrumentation.steps();
  }

  /** How many optimizer-state resets the reset policy caused. */
  public long resets() {
    return instrumentation.resets();
  }

  /** The resets, in order. */
  public List<StateReset> resetEvents() {
    return instrumentation.resetEvents();
  }

  /**
   * How many internal failures of the diagnostics were logged and skipped (including subscribers
   * that threw).
   */
  public long internalFailures() {
    return instrumentation.failures() + monitor().subscriberFailures();
  }

  /** Steps without a record (no batch loss was seen, or the step's diagnostics failed). */
  public long skippedRecords() {
    return instrumentation.skippedRecords();
  }

  /**
   * The full name of the parameter measured as the last layer (e.g. {@code "03Linear_weight"}), or
   * null before the trainer is created.
   */
  public String lastLayerParameter() {
    return instrumentation.lastLayerName();
  }

  /** Adds a probe run on its own schedule (the seam for the second-order tier). */
  void addProbe(ScheduledProbe probe) {
    instrumentation.addProbe(Objects.requireNonNull(probe, "probe"));
  }

  Instrumentation instrumentation() {
    return instrumentation;
  }
}
