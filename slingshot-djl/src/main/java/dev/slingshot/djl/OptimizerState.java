package dev.slingshot.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.training.optimizer.Optimizer;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Resets the private state of a DJL optimizer so that its next update equals a fresh optimizer's
 * first update.
 *
 * <p>DJL keeps the state of every built-in optimizer in private fields: per-parameter maps of
 * per-device arrays ({@code Adam}/{@code AdamW}: {@code means}, {@code variances}; {@code RmsProp}:
 * {@code means}, {@code variances}, {@code momentums}; {@code Sgd}/{@code Nag}: {@code
 * momentumStates}; {@code Adagrad}: {@code history}; {@code Adadelta}: {@code accumG}, {@code
 * accumDelta}), and, in {@link Optimizer}, the per-parameter {@code updateCounts} and the global
 * {@code numUpdate} that drive bias correction and learning-rate trackers. A reset closes the state
 * arrays, clears every map-valued instance field of the optimizer's class hierarchy and sets {@code
 * numUpdate} to 0. Reflection on these fields needs no {@code --add-opens} on the class path
 * (ENVIRONMENT.md). A user-written optimizer that keeps its state in map fields the same way is
 * reset the same way; other state (plain array fields, counters) is left alone.
 */
final class OptimizerState {

  private OptimizerState() {}

  /**
   * Resets {@code optimizer}'s state.
   *
   * @return how many state arrays were discarded
   */
  static int reset(Optimizer optimizer) {
    int closed = 0;
    for (Class<?> c = optimizer.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (Modifier.isStatic(f.getModifiers())) {
          continue;
        }
        try {
          if (Map.class.isAssignableFrom(f.getType())) {
            f.setAccessible(true);
            Map<?, ?> map = (Map<?, ?>) f.get(optimizer);
            if (map != null) {
              closed += closeArrays(map.values());
              map.clear();
            }
          } else if (c == Optimizer.class && f.getName().equals("numUpdate")) {
            f.setAccessible(true);
            f.setInt(optimizer, 0);
          }
        } catch (IllegalAccessException | RuntimeException e) {
          throw new IllegalStateException(
              "cannot reset field " + c.getName() + "." + f.getName() + ": " + e, e);
        }
      }
    }
    return closed;
  }

  /** The state arrays {@code optimizer} holds now, for tests and diagnostics. */
  static List<NDArray> arrays(Optimizer optimizer) {
    List<NDArray> out = new ArrayList<>();
    for (Class<?> c = optimizer.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (!Modifier.isStatic(f.getModifiers()) && Map.class.isAssignableFrom(f.getType())) {
          try {
            f.setAccessible(true);
            Map<?, ?> map = (Map<?, ?>) f.get(optimizer);
            if (map != null) {
              collect(map.values(), out);
            }
          } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
          }
        }
      }
    }
    return out;
  }

  private static int closeArrays(Collection<?> values) {
    List<NDArray> arrays = new ArrayList<>();
    collect(values, arrays);
    for (NDArray a : arrays) {
      if (!a.isReleased()) {
        a.close();
      }
    }
    return arrays.size();
  }

  private static void collect(Collection<?> values, List<NDArray> out) {
    for (Object v : values) {
      if (v instanceof NDArray a) {
        out.add(a);
      } else if (v instanceof Map<?, ?> m) {
        collect(m.values(), out);
      } else if (v instanceof Collection<?> c) {
        collect(c, out);
      }
    }
  }
}
