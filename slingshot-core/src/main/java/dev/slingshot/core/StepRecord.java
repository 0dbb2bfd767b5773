package dev.slingshot.core;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * What the diagnostics see of one training step: the step number, the training loss of the step's
 * minibatch, and whatever else the caller measured at that step (full-train loss, accuracies,
 * weight norms by parameter name, the update norm ‖Δθ‖).
 *
 * <p>Optional quantities are absent, not NaN: a NaN {@linkplain #trainLoss() training loss} is a
 * measurement (a divergence), an absent test accuracy is not. Instances are immutable.
 */
public final class StepRecord {

  /**
   * The conventional name of the last layer's weight norm (the classifier's weight), the quantity
   * of Thilak et al. §2 and Figure 2. Adapters record it under this name as well as under the
   * parameter's own name, so rules, plots and metrics find it without knowing the model.
   */
  public static final String LAST_LAYER = "last_layer";

  private final long step;
  private final double trainLoss;
  private final double fullTrainLoss;
  private final double trainAccuracy;
  private final double testLoss;
  private final double testAccuracy;
  private final double updateNorm;
  private final byte present;
  private final Map<String, Double> norms;
  private final Map<String, Double> metrics;

  private static final int FULL_TRAIN_LOSS = 1;
  private static final int TRAIN_ACCURACY = 2;
  private static final int TEST_LOSS = 4;
  private static final int TEST_ACCURACY = 8;
  private static final int UPDATE_NORM = 16;

  private StepRecord(Builder b) {
    this.step = b.step;
    this.trainLoss = b.trainLoss;
    this.fullTrainLoss = b.fullTrainLoss;
    this.trainAccuracy = b.trainAccuracy;
    this.testLoss = b.testLoss;
    this.testAccuracy = b.testAccuracy;
    this.updateNorm = b.updateNorm;
    this.present = (byte) b.present;
    this.norms =
        b.norms == null || b.norms.isEmpty()
            ? Map.of()
            : Collections.unmodifiableMap(new LinkedHashMap<>(b.norms));
    this.metrics =
        b.metrics == null || b.metrics.isEmpty()
            ? Map.of()
            : Collections.unmodifiableMap(new LinkedHashMap<>(b.metrics));
  }

  /** A record with only a step and its minibatch training loss. */
  public static StepRecord of(long step, double trainLoss) {
    return builder(step, trainLoss).build();
  }

  /** Starts a record for {@code step} whose minibatch training loss was {@code trainLoss}. */
  public static Builder builder(long step, double trainLoss) {
    return new Builder(step, trainLoss);
  }

  /** The training step (optimizer update count, or any increasing counter the caller uses). */
  public long step() {
    return step;
  }

  /**
   * The loss of this step's minibatch, as the training loop computed it; may be NaN or infinite.
   */
  public double trainLoss() {
    return trainLoss;
  }

  /** The loss over the whole training set, when the caller evaluated it at this step. */
  public OptionalDouble fullTrainLoss() {
    return opt(FULL_TRAIN_LOSS, fullTrainLoss);
  }

  /** Training accuracy in [0, 1], when measured. */
  public OptionalDouble trainAccuracy() {
    return opt(TRAIN_ACCURACY, trainAccuracy);
  }

  /** Test (validation) loss, when measured. */
  public OptionalDouble testLoss() {
    return opt(TEST_LOSS, testLoss);
  }

  /** Test (validation) accuracy in [0, 1], when measured. */
  public OptionalDouble testAccuracy() {
    return opt(TEST_ACCURACY, testAccuracy);
  }

  /** The norm ‖Δθ‖ of the update applied at this step, when measured. */
  public OptionalDouble updateNorm() {
    return opt(UPDATE_NORM, updateNorm);
  }

  /** Weight norms by parameter name (Frobenius norm), in the order the caller added them. */
  public Map<String, Double> norms() {
    return norms;
  }

  /** The norm of the named parameter, when the record has it. */
  public OptionalDouble norm(String name) {
    Double v = norms.get(name);
    return v == null ? OptionalDouble.empty() : OptionalDouble.of(v);
  }

  /**
   * Other scalar measurements of this step by name (e.g. {@code update_ratio} ‖Δθ‖/‖θ‖, {@code
   * cosine_distance.classifier}), in the order the caller added them.
   */
  public Map<String, Double> metrics() {
    return metrics;
  }

  private OptionalDouble opt(int bit, double value) {
    return (present & bit) != 0 ? OptionalDouble.of(value) : OptionalDouble.empty();
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof StepRecord r)) {
      return false;
    }
    return step == r.step
        && Double.compare(trainLoss, r.trainLoss) == 0
        && present == r.present
        && Double.compare(fullTrainLoss, r.fullTrainLoss) == 0
        && Double.compare(trainAccuracy, r.trainAccuracy) == 0
        && Double.compare(testLoss, r.testLoss) == 0
        && Double.compare(testAccuracy, r.testAccuracy) == 0
        && Double.compare(updateNorm, r.updateNorm) == 0
        && norms.equals(r.norms)
        && metrics.equals(r.metrics);
  }

  @Override
  public int hashCode() {
    return Objects.hash(step, trainLoss, present, norms);
  }

  @Override
  public String toString() {
    return "StepRecord{step=" + step + ", trainLoss=" + trainLoss + ", norms=" + norms + "}";
  }

  /** Builds a {@link StepRecord}; every optional quantity may be left out. */
  public static final class Builder {
    private final long step;
    private final double trainLoss;
    private double fullTrainLoss;
    private double trainAccuracy;
    private double testLoss;
    private double testAccuracy;
    private double updateNorm;
    private int present;
    private Map<String, Double> norms;
    private Map<String, Double> metrics;

    private Builder(long step, double trainLoss) {
      this.step = step;
      this.trainLoss = trainLoss;
    }

    public Builder fullTrainLoss(double v) {
      fullTrainLoss = v;
      present |= FULL_TRAIN_LOSS;
      return this;
    }

    public Builder trainAccuracy(double v) {
      trainAccuracy = v;
      present |= TRAIN_ACCURACY;
      return this;
    }

    public Builder testLoss(double v) {
      testLoss = v;
      present |= TEST_LOSS;
      return this;
    }

    public Builder testAccuracy(double v) {
      testAccuracy = v;
      present |= TEST_ACCURACY;
      return this;
    }

    public Builder updateNorm(double v) {
      updateNorm = v;
      present |= UPDATE_NORM;
      return this;
    }

    /** Adds the Frobenius norm of the named parameter (e.g. the last layer's weight). */
    public Builder norm(String name, double value) {
      Objects.requireNonNull(name, "norm name");
      if (norms == null) {
        norms = new LinkedHashMap<>(4);
      }
      norms.put(name, value);
      return this;
    }

    /** Adds another scalar measurement of this step (see {@link StepRecord#metrics()}). */
    public Builder metric(String name, double value) {
      Objects.requireNonNull(name, "metric name");
      if (metrics == null) {
        metrics = new LinkedHashMap<>(4);
      }
      metrics.put(name, value);
      return this;
    }

    public StepRecord build() {
      return new StepRecord(this);
    }
  }
}
