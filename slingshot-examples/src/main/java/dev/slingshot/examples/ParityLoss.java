package dev.slingshot.examples;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.loss.Loss;

/**
 * The two losses of the parity experiments, written out so their float32 behaviour is explicit:
 * cross-entropy {@code −log softmax(f(x))_y} over two logits (label 0/1, int64), as PyTorch's
 * {@code F.cross_entropy} (log-softmax then pick), and the hinge loss {@code max(0, 1 − y·f(x))}
 * over one output with {@code y = ±1} (the parity study, Sec. 2.1). Both are means over the batch.
 */
final class ParityLoss extends Loss {

  private final boolean hinge;

  private ParityLoss(String name, boolean hinge) {
    super(name);
    this.hinge = hinge;
  }

  static ParityLoss crossEntropy() {
    return new ParityLoss("cross_entropy", false);
  }

  static ParityLoss hinge() {
    return new ParityLoss("hinge", true);
  }

  static ParityLoss named(String loss) {
    return switch (loss) {
      case "cross_entropy" -> crossEntropy();
      case "hinge" -> hinge();
      default -> throw new IllegalArgumentException("unknown loss " + loss);
    };
  }

  boolean isHinge() {
    return hinge;
  }

  /** Outputs of the model's last layer: 1 for hinge, 2 logits for cross-entropy. */
  int outputs() {
    return hinge ? 1 : 2;
  }

  @Override
  public NDArray evaluate(NDList labels, NDList predictions) {
    NDArray pred = predictions.singletonOrThrow();
    NDArray target = labels.singletonOrThrow();
    if (hinge) {
      return pred.reshape(-1).mul(target).neg().add(1f).clip(0f, Float.MAX_VALUE).mean();
    }
    return pred.logSoftmax(1).gather(target.reshape(-1, 1), 1).neg().mean();
  }

  /** The fraction of correct predictions: argmax for cross-entropy, sign for hinge. */
  NDArray accuracy(NDArray target, NDArray pred) {
    if (hinge) {
      return pred.reshape(-1)
          .gt(0f)
          .eq(target.gt(0f))
          .toType(ai.djl.ndarray.types.DataType.FLOAT32, false)
          .mean();
    }
    return pred.argMax(1).eq(target).toType(ai.djl.ndarray.types.DataType.FLOAT32, false).mean();
  }
}
