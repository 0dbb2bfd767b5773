package dev.slingshot.djl;

import dev.slingshot.core.SlingshotDetector;
import dev.slingshot.core.SlingshotMonitor;
import dev.slingshot.core.StateResetPolicy;
import dev.slingshot.core.StepRecord;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.ObjLongConsumer;

/**
 * What {@link Slingshot#attach} measures and how it reacts. Immutable; build with {@link #custom()}
 * or take {@link #ofDefaults()}.
 *
 * <p>Defaults: a monitor running the {@link SlingshotDetector} with the k-sparse parity study's
 * thresholds and {@link StateResetPolicy#never()}; the loss every step and the norms and the update
 * norm every {@value #DEFAULT_MEASURE_EVERY} steps; the last layer is the weight of the final
 * {@code Linear} block in block order; one parameter group per top-level block; the cosine distance
 * from initialisation every {@value #DEFAULT_COSINE_EVERY} steps; internal failures logged and
 * counted, never thrown.
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

  private final SlingshotMonitor monitor;
  private final StateResetPolicy resetPolicy;
  private final String lastLayer;
  private final Map<String, List<String>> groups;
  private final int cosineEvery;
  private final int measureEvery;
  private final boolean failFast;
  private final boolean captureLoss;
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
        .build();
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
    private long firstStep = 1;
    private ObjLongConsumer<StepRecord.Builder> recordEnricher;

    private Builder() {}

    /**
     * The monitor the records feed (its rules and reset policy); by default a {@link
     * SlingshotDetector} with {@link #resetPolicy}. A monitor belongs to one training run.
     */
    public Builder monitor(SlingshotMonitor monitor) {
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
