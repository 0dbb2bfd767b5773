package dev.slingshot.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.optimizer.Adam;
import ai.djl.training.optimizer.AdamW;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.ParameterTracker;
import dev.slingshot.core.EffectiveStepSize;
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

  /**
   * Adam's state after its last update, for the effective-step probes: the hyperparameters of that
   * update (learning rate from the tracker at the update count {@code t} of the first parameter,
   * β1, β2, ε; DJL semantics) and the live second-moment arrays (not copies: read them, never
   * change or close them).
   *
   * @param adam the hyperparameters and update count {@code t}
   * @param variances the second moments {@code v}, one per parameter id, on {@code device}
   */
  record AdamMoments(EffectiveStepSize.Adam adam, NDList variances) {}

  /**
   * Reads {@link AdamMoments} from DJL's {@link Adam} or {@link AdamW} for the parameters {@code
   * ids} on {@code device}.
   *
   * @throws UnsupportedOperationException with a short reason when the optimizer is another kind,
   *     has not updated yet (or was reset), or lacks a parameter's second moments
   */
  static AdamMoments adamMoments(Optimizer optimizer, List<String> ids, Device device) {
    Class<?> owner;
    if (optimizer instanceof Adam) {
      owner = Adam.class;
    } else if (optimizer instanceof AdamW) {
      owner = AdamW.class;
    } else {
      throw new UnsupportedOperationException(
          optimizer.getClass().getSimpleName()
              + " keeps no Adam second moments; effective step and preconditioned sharpness"
              + " need DJL's Adam or AdamW");
    }
    try {
      Map<?, ?> counts = (Map<?, ?>) field(Optimizer.class, "updateCounts").get(optimizer);
      Object count = counts == null ? null : counts.get(ids.get(0));
      if (!(count instanceof Integer t) || t < 1) {
        throw new UnsupportedOperationException(
            "the optimizer has no update count yet (no update since the start or a reset)");
      }
      ParameterTracker lr = (ParameterTracker) field(owner, "learningRateTracker").get(optimizer);
      float beta1 = field(owner, "beta1").getFloat(optimizer);
      float beta2 = field(owner, "beta2").getFloat(optimizer);
      float eps = field(owner, "epsilon").getFloat(optimizer);
      Map<?, ?> variances = (Map<?, ?>) field(owner, "variances").get(optimizer);
      NDList v = new NDList(ids.size());
      for (String id : ids) {
        Object perDevice = variances == null ? null : variances.get(id);
        Object a = perDevice instanceof Map<?, ?> m ? m.get(device) : null;
        if (!(a instanceof NDArray array) || array.isReleased()) {
          throw new UnsupportedOperationException(
              "the optimizer has no second moments for parameter " + id + " on " + device);
        }
        v.add(array);
      }
      EffectiveStepSize.Adam adam =
          EffectiveStepSize.Adam.djl(lr.getNewValue(ids.get(0), t), beta1, beta2, eps, t);
      return new AdamMoments(adam, v);
    } catch (ReflectiveOperationException | ClassCastException e) {
      throw new IllegalStateException(
          "cannot read the state of " + optimizer.getClass().getName() + ": " + e, e);
    }
  }

  /** Fields found once per class and name: every probe reads the same few. */
  private static final Map<String, Field> FIELDS = new java.util.concurrent.ConcurrentHashMap<>();

  private static Field field(Class<?> owner, String name) throws NoSuchFieldException {
    String key = owner.getName() + '#' + name;
    Field f = FIELDS.get(key);
    if (f == null) {
      f = owner.getDeclaredField(name);
      f.setAccessible(true);
      FIELDS.put(key, f);
    }
    return f;
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
