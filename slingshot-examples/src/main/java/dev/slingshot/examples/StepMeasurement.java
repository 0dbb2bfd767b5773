package dev.slingshot.examples;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import dev.slingshot.core.StepRecord;

/**
 * The cheap per-step measurement of the modular-arithmetic training loop: the minibatch loss and
 * the L2 norm of the classifier weight ("last layer norm", Thilak et al. Fig. 2), both computed on
 * the device and read back together as one two-float transfer.
 *
 * <p>This is the seam where the slingshot-djl adapter's listener will take over: it measures the
 * same two quantities at the same point (after backward, before {@code trainer.step()}, so the norm
 * is that of the weights that produced the loss).
 */
final class StepMeasurement {

  /** The norm's name in {@link StepRecord#norms()}. */
  static final String CLASSIFIER_NORM = "classifier.weight";

  private final Parameter classifierWeight;

  StepMeasurement(Parameter classifierWeight) {
    this.classifierWeight = classifierWeight;
  }

  /**
   * A record builder for {@code step} holding the loss and the classifier norm. {@code loss} must
   * be a scalar; its manager receives the temporaries.
   */
  StepRecord.Builder measure(long step, NDArray loss) {
    NDArray norm = classifierWeight.getArray().norm();
    norm.attach(loss.getManager());
    float[] values =
        loss.toType(DataType.FLOAT32, false)
            .reshape(1)
            .concat(norm.toType(DataType.FLOAT32, false).reshape(1))
            .toFloatArray();
    return StepRecord.builder(step, values[0]).norm(CLASSIFIER_NORM, values[1]);
  }
}
