package dev.slingshot.djl;

import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * Every DJL optimizer plus a user-written one, each as a fresh-instance factory, with whether DJL's
 * PyTorch engine implements it: DJL 0.35.1 throws {@code UnsupportedOperationException} from
 * RmsProp ({@code rmspropUpdate}), Nag ({@code nagUpdate}), Adagrad (row-sparse gradients) and
 * Adadelta on PyTorch, instrumented or not.
 */
final class Optimizers {

  private Optimizers() {}

  /** The optimizers DJL's PyTorch engine can run. */
  static Stream<Arguments> supported() {
    return all().filter(a -> (Boolean) a.get()[2]);
  }

  static Stream<Arguments> all() {
    return Stream.of(
        named("Adam", () -> Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.01f)).build()),
        named(
            "AdamW",
            () ->
                Optimizer.adamW()
                    .optLearningRateTracker(Tracker.fixed(0.01f))
                    .optWeightDecays(0.01f)
                    .build()),
        named(
            "RmsProp",
            () ->
                Optimizer.rmsprop()
                    .optLearningRateTracker(Tracker.fixed(0.01f))
                    .optMomentum(0.5f)
                    .optCentered(true)
                    .build()),
        named(
            "Sgd",
            () ->
                Optimizer.sgd()
                    .setLearningRateTracker(Tracker.fixed(0.1f))
                    .optMomentum(0.9f)
                    .build()),
        named(
            "Nag",
            () ->
                Optimizer.nag()
                    .setLearningRateTracker(Tracker.fixed(0.1f))
                    .setMomentum(0.9f)
                    .build()),
        named(
            "Adagrad",
            () -> Optimizer.adagrad().optLearningRateTracker(Tracker.fixed(0.1f)).build()),
        named("Adadelta", () -> Optimizer.adadelta().build()),
        named("UserSgd", () -> new UserSgd(0.1f)));
  }

  private static final java.util.Set<String> UNSUPPORTED =
      java.util.Set.of("RmsProp", "Nag", "Adagrad", "Adadelta");

  private static Arguments named(String name, Supplier<Optimizer> factory) {
    return Arguments.of(name, factory, !UNSUPPORTED.contains(name));
  }
}
