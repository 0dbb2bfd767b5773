package dev.slingshot.djl;

import ai.djl.ndarray.NDList;
import dev.slingshot.core.Lanczos;
import dev.slingshot.core.ProbeSchedule;
import dev.slingshot.core.SlingshotDetector;
import dev.slingshot.core.SlingshotMonitor;
import dev.slingshot.core.StateResetPolicy;
import dev.slingshot.core.StepRecord;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.ObjLongConsumer;

/**
 * What {@link Slingshot#attach} measures and how it reacts. Immutable; build with {@link #custom()}
 * or take {@link #ofDefaults()}.
 *
 * <p>Defaults: a monitor running the {@link SlingshotDetector} with the k-sparse parity study's
 * thresholds and {@link StateResetPolicy#never()}; the loss every step and the norms and the update
 * norm every {@value #DEFAULT_MEASURE_EVERY} steps; the last layer is the weight of the final
 * {@code Linear} block in block order; one parameter group per top-level block; the cosine distance
 * from initialisation every {@value #DEFAULT_COSINE_EVERY} steps; no second-order probes ({@link
 * ProbeSchedule#never()}); internal failures logged and counted, never thrown.
 */
public final class SlingshotOptions {

  /**
   * Default period, in steps, of the norms and the update norm: 10, which keeps the cheap tier
   * within the 10% overhead bar on the 40-128-2 MLP (every step costs about 4K + 5 extra native
   * calls for K parameter tensors, a third more than DJL's own step on that MLP). The loss is read
   * every step whatever this period.
   */
  public static final int DEFAULT_MEASURE_EVERY = 10;

  /** Default period, in steps, of the cosine distance from initialisation. */
  public static final int DEFAULT_COSINE_EVERY = 100;

  /**
   * Default relative tolerance of the preconditioned sharpness's Lanczos iteration ({@link
   * Builder#preconditionedLanczos}): 1e-2, ten times λmax's {@value Lanczos#DEFAULT_TOLERANCE}.
   */
  public static final double DEFAULT_PRECONDITIONED_TOLERANCE = 1e-2;

  private static final Lanczos DEFAULT_PRECONDITIONED_LANCZOS =
      Lanczos.custom().tolerance(DEFAULT_PRECONDITIONED_TOLERANCE).build();

  private final SlingshotMonitor monitor;
  private final StateResetPolicy resetPolicy;
  private final String lastLayer;
  private final Map<String, List<String>> groups;
  private final int cosineEvery;
  private final int measureEvery;
  private final boolean failFast;
  private final boolean captureLoss;
  private final ProbeSchedule probes;
  private final Set<ProbeQuantity> probeQuantities;
  private final NDList probeInputs;
  private final NDList probeLabels;
  private final Lanczos lanczos;
  private final Lanczos preconditionedLanczos;
  private final long firstStep;
  private final ObjLongConsumer<StepRecord.Builder> recordEnricher;

  private SlingshotOptions(Builder b) {
    this.monitor = b.monitor;
    this.resetPolicy = b.resetPolicy;
    this.lastLayer = b.lastLayer;
    this.groups = Collections.unmodifiableMap(new LinkedHashMap<>(b.groups));
    this.cosineEvery = b.cosineEvery;
    this.measureEvery = b.measureEvery;
    this.failFast = b.failFast;
    this.captureLoss = b.captureLoss;
    this.probes = b.probes;
    this.probeQuantities =
        Collections.unmodifiableSet(
            b.probeQuantities == null
                ? EnumSet.allOf(ProbeQuantity.class)
                : EnumSet.copyOf(b.probeQuantities));
    this.probeInputs = b.probeInputs;
    this.probeLabels = b.probeLabels;
    this.lanczos = b.lanczos;
    this.preconditionedLanczos = b.preconditionedLanczos;
    this.firstStep = b.firstStep;
    this.recordEnricher = b.recordEnricher;
  }

  /** The defaults described above. */
  public static SlingshotOptions ofDefaults() {
    return custom().build();
  }

  /** Starts from the defaults. */
  public static Builder custom() {
    return new Builder();
  }

  /**
   * A new monitor for one attachment: the one given to {@link Builder#monitor}, or the default
   * detector with the configured reset policy.
   */
  SlingshotMonitor newMonitor() {
    if (monitor != null) {
      return monitor;
    }
    return SlingshotMonitor.builder()
        .rule(new SlingshotDetector())
        .resetPolicy(resetPolicy == null ? StateResetPolicy.never() : resetPolicy)
        .probeSchedule(probes == null ? ProbeSchedule.never() : probes)
        .build();
  }

  /**
   * The probe schedule set with {@link Builder#probes}, or null when none was set (then the
   * schedule of the {@link Builder#monitor monitor} is in force, {@link ProbeSchedule#never()} for
   * the default one).
   */
  public ProbeSchedule probes() {
    return probes;
  }

  /** The second-order quantities the probes compute (all four unless restricted). */
  public Set<ProbeQuantity> probeQuantities() {
    return probeQuantities;
  }

  /** The fixed probe batch's inputs, or null to probe on the current training batch. */
  public NDList probeInputs() {
    return probeInputs;
  }

  /** The fixed probe batch's labels, or null to probe on the current training batch. */
  public NDList probeLabels() {
    return probeLabels;
  }

  /** The Lanczos settings of the probes' λmax. */
  public Lanczos lanczos() {
    return lanczos;
  }

  /** The Lanczos settings of the probes' preconditioned sharpness λmax(P⁻¹H). */
  public Lanczos preconditionedLanczos() {
    return preconditionedLanczos;
  }

  /** The parameter name chosen as the last layer, or null for the default (final Linear weight). */
  public String lastLayer() {
    return lastLayer;
  }

  /** User-defined groups: name to parameter-name prefixes; empty for one group per top block. */
  public Map<String, List<String>> groups() {
    return groups;
  }

  /** Period of the cosine distance from initialisation in steps; 0 turns it off. */
  public int cosineEvery() {
    return cosineEvery;
  }

  /** Period of the norms and the update norm in steps (the loss is read every step). */
  public int measureEvery() {
    return measureEvery;
  }

  /** Whether an internal failure of the diagnostics is rethrown instead of logged and counted. */
  public boolean failFast() {
    return failFast;
  }

  /** Whether the batch loss is captured from the trainer's own loss call (else recomputed). */
  public boolean captureLoss() {
    return captureLoss;
  }

  /** The number of the first optimizer update seen (1, or the step after a resumed checkpoint). */
  public long firstStep() {
    return firstStep;
  }

  /** The hook that adds the caller's values to each record before the monitor sees it, or null. */
  public ObjLongConsumer<StepRecord.Builder> recordEnricher() {
    return recordEnricher;
  }

  /** Configures {@link SlingshotOptions}. */
  public static final class Builder {
    private SlingshotMonitor monitor;
    private StateResetPolicy resetPolicy;
    private String lastLayer;
    private final Map<String, List<String>> groups = new LinkedHashMap<>();
    private int cosineEvery = DEFAULT_COSINE_EVERY;
    private int measureEvery = DEFAULT_MEASURE_EVERY;
    private boolean failFast;
    private boolean captureLoss = true;
    private ProbeSchedule probes;
    private Set<ProbeQuantity> probeQuantities;
    private NDList probeInputs;
    private NDList probeLabels;
    private Lanczos lanczos = Lanczos.ofDefaults();
    private Lanczos preconditionedLanczos = DEFAULT_PRECONDITIONED_LANCZOS;
    private long firstStep = 1;
    private ObjLongConsumer<StepRecord.Builder> recordEnricher;

    private Builder() {}

    /**
     * The monitor the records feed (its rules and reset policy); by default a {@link
     * SlingshotDetector} with {@link #resetPolicy}. A monitor belongs to one training run.
     */
    public Builder monitor(SlingshotMonitor monitor) {
      if (probes != null) {
        throw new IllegalStateException(
            "a probe schedule was already set to " + probes.describe() + "; set it on the monitor");
      }
      if (resetPolicy != null) {
        throw new IllegalStateException(
            "reset policy was already set to "
                + resetPolicy.describe()
                + "; set it on the monitor");
      }
      this.monitor = Objects.requireNonNull(monitor, "monitor");
      return this;
    }

    /** The reset policy of the default monitor (default {@link StateResetPolicy#never()}). */
    public Builder resetPolicy(StateResetPolicy policy) {
      if (monitor != null) {
        throw new IllegalStateException("a monitor was already set; its reset policy is in force");
      }
      this.resetPolicy = Objects.requireNonNull(policy, "reset policy");
      return this;
    }

    /**
     * The parameter whose norm is the "last layer weight norm" (Thilak et al. Fig. 1), by its full
     * name in {@code block.getParameters()} (e.g. {@code "03Linear_weight"}). A name the model does
     * not have fails when the trainer is created, with the model's parameter names in the message.
     */
    public Builder lastLayer(String parameterName) {
      Objects.requireNonNull(parameterName, "parameter name");
      if (parameterName.isBlank()) {
        throw new IllegalArgumentException("last layer parameter name must not be blank");
      }
      this.lastLayer = parameterName;
      return this;
    }

    /**
     * Adds a parameter group: the parameters whose full name starts with one of {@code prefixes}.
     * Once a group is defined, the default one-group-per-top-level-block grouping is off.
     */
    public Builder group(String name, String... prefixes) {
      Objects.requireNonNull(name, "group name");
      if (name.isBlank()) {
        throw new IllegalArgumentException("group name must not be blank");
      }
      if (prefixes.length == 0) {
        throw new IllegalArgumentException("group " + name + " needs at least one prefix");
      }
      if (groups.containsKey(name)) {
        throw new IllegalStateException("group " + name + " was already defined");
      }
      List<String> list = new ArrayList<>();
      for (String p : prefixes) {
        list.add(Objects.requireNonNull(p, "prefix"));
      }
      groups.put(name, List.copyOf(list));
      return this;
    }

    /**
     * Computes the cosine distance from initialisation every {@code steps} steps (0: never).
     * Default {@value SlingshotOptions#DEFAULT_COSINE_EVERY}.
     */
    public Builder cosineDistanceEvery(int steps) {
      if (steps < 0) {
        throw new IllegalArgumentException("cosine distance period must be >= 0, was " + steps);
      }
      this.cosineEvery = steps;
      return this;
    }

    /**
     * Measures the norms, the update norm and its ratio every {@code steps} steps (and at step 1);
     * the batch loss is read every step regardless. Default {@value
     * SlingshotOptions#DEFAULT_MEASURE_EVERY}. The cosine period must be a multiple of it.
     */
    public Builder measureEvery(int steps) {
      if (steps < 1) {
        throw new IllegalArgumentException("measure period must be >= 1 step, was " + steps);
      }
      this.measureEvery = steps;
      return this;
    }

    /** Rethrows internal failures of the diagnostics (for tests and debugging; default false). */
    public Builder failFast(boolean failFast) {
      this.failFast = failFast;
      return this;
    }

    /**
     * Whether to capture the batch loss from the trainer's own loss evaluation (default true, no
     * extra computation) rather than recompute it from the batch's labels and predictions.
     */
    public Builder captureLoss(boolean captureLoss) {
      this.captureLoss = captureLoss;
      return this;
    }

    /**
     * Runs the second-order probes (the expensive tier) on {@code schedule}, which becomes the
     * default monitor's {@link SlingshotMonitor.Builder#probeSchedule probe schedule}; with a
     * {@link #monitor} of your own, set the schedule on it instead (its schedule is in force).
     * Default {@link ProbeSchedule#never()}.
     *
     * <p><b>When and on what.</b> The monitor asks the schedule at every record: when the record of
     * step {@code t} (complete at the end of {@code trainer.step()} of update {@code t}) is due,
     * the probe runs at the next training-batch callback, that of step {@code t + 1}, after its
     * backward and before update {@code t + 1}. At that moment the parameters are θ<sub>t</sub>
     * (after update {@code t}) and the optimizer state is that of update {@code t}. The probe takes
     * a fresh forward pass with autograd on (the graph of batch {@code t} was freed by its
     * backward, and the update changed the parameters in place) on the probe batch: by default the
     * current training batch (batch {@code t + 1}, whose loss and gradient at θ<sub>t</sub> drive
     * update {@code t + 1}), or the fixed batch of {@link #probeBatch}. The block runs with {@code
     * training = false} ({@code trainer.evaluate}): dropout off and batch norm on its running
     * statistics, so the probe never consumes random numbers or moves running statistics.
     * H<sub>t</sub> is the exact Hessian of that loss at θ<sub>t</sub> with respect to the
     * trainable parameters (TorchScript double backward on PyTorch; central finite differences of
     * gradients on other engines).
     *
     * <ul>
     *   <li>u<sub>t</sub> = θ<sub>t</sub> − θ<sub>t−1</sub> is the update the optimizer applied at
     *       step {@code t}, measured as the parameter change around the delegate's update (so it
     *       includes momentum, Adam's preconditioning, weight decay and clipping, for every
     *       optimizer family); while a schedule is set, the adapter keeps it on the device for
     *       every step (two in-place operations per parameter tensor per step), so any step can be
     *       probed. The update sharpness is
     *       u<sub>t</sub>ᵀH<sub>t</sub>u<sub>t</sub>/‖u<sub>t</sub>‖²: the curvature along the step
     *       just taken, at the point it reached.
     *   <li>λmax(H<sub>t</sub>) by Lanczos ({@link #lanczos}), warm-started from the previous
     *       probe's eigenvector.
     *   <li>The effective step of update {@code t},
     *       lr·√(1−β2<sup>t</sup>)/(1−β1<sup>t</sup>)/(√v+ε) per coordinate (DJL's Adam semantics,
     *       with v the second moments after update {@code t}, t the update count and lr the
     *       learning-rate tracker's value at it), against 2/λmax(H<sub>t</sub>); and
     *       λmax(P⁻¹H<sub>t</sub>) against (2+2β1)/((1−β1)·lr). Read from DJL's {@code Adam} and
     *       {@code AdamW} by reflection; other optimizers have no such state, and these two are
     *       skipped with a note in {@link ProbeMeasurement#notes()}.
     * </ul>
     *
     * A probe due at the last step of training has no next batch: it runs when the trainer closes
     * if a fixed probe batch is set, and is dropped otherwise. The probe leaves the parameters, the
     * gradients of the coming update and the optimizer state untouched, runs on the parameters'
     * device, reads back only scalars, and closes every intermediate. Single-device trainers only
     * (on several devices the probes are switched off with a warning).
     */
    public Builder probes(ProbeSchedule schedule) {
      Objects.requireNonNull(schedule, "probe schedule");
      if (monitor != null) {
        throw new IllegalStateException(
            "a monitor was already set; its probe schedule ("
                + monitor.probeSchedule().describe()
                + ") is in force");
      }
      this.probes = schedule;
      return this;
    }

    /** Restricts the probes to {@code quantities} (default: all of {@link ProbeQuantity}). */
    public Builder probeQuantities(ProbeQuantity... quantities) {
      if (quantities.length == 0) {
        throw new IllegalArgumentException("name at least one probe quantity");
      }
      EnumSet<ProbeQuantity> set = EnumSet.noneOf(ProbeQuantity.class);
      for (ProbeQuantity q : quantities) {
        set.add(Objects.requireNonNull(q, "probe quantity"));
      }
      this.probeQuantities = set;
      return this;
    }

    /**
     * Numbers the first optimizer update {@code step} instead of 1: for a run resumed from a
     * checkpoint taken after step {@code step - 1}, so that its records continue the run's
     * numbering (and a monitor rebuilt from the records before the checkpoint accepts them). The
     * cosine distance is then measured from the parameters at the first update seen, not from the
     * run's initialisation.
     */
    public Builder firstStep(long step) {
      if (step < 1) {
        throw new IllegalArgumentException("first step must be >= 1, was " + step);
      }
      this.firstStep = step;
      return this;
    }

    /**
     * Probes on a fixed batch instead of the current training batch: the model's inputs and the
     * loss's labels, as the training batches have them. The arrays stay the caller's (not closed);
     * they are copied to the parameters' device for each probe if they live elsewhere.
     */
    public Builder probeBatch(NDList inputs, NDList labels) {
      Objects.requireNonNull(inputs, "probe inputs");
      Objects.requireNonNull(labels, "probe labels");
      if (inputs.isEmpty()) {
        throw new IllegalArgumentException("the probe batch has no inputs");
      }
      this.probeInputs = inputs;
      this.probeLabels = labels;
      return this;
    }

    /**
     * Tolerance, iteration cap and seed of the probes' λmax Lanczos iteration (default {@link
     * Lanczos#ofDefaults()}: relative tolerance {@value Lanczos#DEFAULT_TOLERANCE}, at most {@value
     * Lanczos#DEFAULT_MAX_ITERATIONS} Hessian-vector products). The preconditioned sharpness has
     * its own settings, {@link #preconditionedLanczos}.
     */
    public Builder lanczos(Lanczos lanczos) {
      this.lanczos = Objects.requireNonNull(lanczos, "lanczos");
      return this;
    }

    /**
     * Tolerance, iteration cap and seed of the preconditioned sharpness's Lanczos iteration on
     * {@code D^½HD^½} (default: relative tolerance {@value #DEFAULT_PRECONDITIONED_TOLERANCE}, at
     * most {@value Lanczos#DEFAULT_MAX_ITERATIONS} products, λmax's default seed).
     *
     * <p>The tolerance bounds the residual, and with it the distance from the reported value to an
     * eigenvalue: at 1e-2, within 1% of one. The preconditioned sharpness is read against Adam's
     * threshold {@code (2+2β1)/((1−β1)·lr)} ({@link dev.slingshot.core.PreconditionedSharpness}),
     * where 1% is ample; the eigenvalue error itself is smaller, about the squared residual over
     * the gap to the next eigenvalue. On the benchmark MLP (40-128-2, float32, a probe every 16
     * steps; {@code OverheadBench accuracy}) the default took 4.32 products a probe against 6.74 at
     * 1e-3, and both stayed about as far from a run at 1e-6: a median 8.8e-4 and 5.3e-4 relative,
     * at most 5.9e-3 and 1.0e-2, about half of the values above the reference's (float32 rounding
     * of the products on a nearly memorised model, not the stopping rule). Set {@code
     * Lanczos.custom().tolerance(1e-3).build()} for λmax's tolerance.
     */
    public Builder preconditionedLanczos(Lanczos lanczos) {
      this.preconditionedLanczos = Objects.requireNonNull(lanczos, "preconditioned lanczos");
      return this;
    }

    /**
     * Adds the caller's own values to every record before the monitor sees it: {@code enricher}
     * gets the record's builder and its step at the end of {@code trainer.step()}, after every
     * parameter has been updated (the parameters are θ<sub>t</sub>) and before the monitor's rules,
     * reset policy and subscribers see the record. A training loop that evaluates the model every N
     * steps uses it to put the full-train and test loss and accuracy into the same step's record
     * (it may run the model's forward pass there; gradient recording is off). The enricher runs on
     * the training thread; if it throws, that step's record is skipped like any internal failure
     * (or the exception is rethrown with {@link #failFast}).
     */
    public Builder recordEnricher(ObjLongConsumer<StepRecord.Builder> enricher) {
      this.recordEnricher = Objects.requireNonNull(enricher, "record enricher");
      return this;
    }

    public SlingshotOptions build() {
      if (cosineEvery % measureEvery != 0) {
        throw new IllegalArgumentException(
            "cosine distance period "
                + cosineEvery
                + " must be a multiple of the measure period "
                + measureEvery);
      }
      return new SlingshotOptions(this);
    }
  }
}
