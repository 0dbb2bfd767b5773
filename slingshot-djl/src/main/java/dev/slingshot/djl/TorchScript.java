package dev.slingshot.djl;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The adapter's TorchScript modules (resources built by {@code
 * scripts/torchscript/make_hvp_module.py}) and the one way to call them on ready TorchScript
 * values.
 *
 * <p>Modules are loaded once per process into a manager that is never closed: loading and closing
 * them per probe made products of later probes in the same process come back as zeros now and then
 * (seen e.g. 10 of 60 products over 12 probes created and closed in turn; none with one set of
 * modules). The modules are stateless.
 *
 * <p>DJL converts every argument of a call to a TorchScript value anew ({@code IValueUtils}), and
 * runs a method on values converted once only with autograd off (inference mode). {@link #forward}
 * calls DJL's native entry point with autograd on, found by reflection once; {@link
 * #CALLS_READY_VALUES} says whether it was found (DJL 0.35.1 has it), and callers fall back to
 * {@code IValueUtils} otherwise.
 */
final class TorchScript {

  private TorchScript() {}

  private static final Map<String, PtSymbolBlock> MODULES = new ConcurrentHashMap<>();
  private static PtNDManager manager;

  /** DJL's setting of TorchScript's graph executor optimisation, restored after each call. */
  private static final boolean OPTIMIZE =
      Boolean.parseBoolean(System.getProperty("ai.djl.pytorch.graph_optimizer", "true"));

  /** The module in resource {@code dev/slingshot/djl/<resource>}, loaded at the first call. */
  static PtSymbolBlock module(String resource) {
    return MODULES.computeIfAbsent(resource, TorchScript::load);
  }

  private static synchronized PtSymbolBlock load(String resource) {
    if (manager == null) {
      manager = (PtNDManager) NDManager.newBaseManager("PyTorch");
    }
    try (InputStream in = TorchScript.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing resource dev/slingshot/djl/" + resource);
      }
      return JniUtils.loadModule(manager, in, true, false);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot load dev/slingshot/djl/" + resource, e);
    }
  }

  /** Whether {@link #forward} is available (DJL's native entry point found). */
  static final boolean CALLS_READY_VALUES;

  private static final Object LIB;
  private static final MethodHandle RUN;
  private static final MethodHandle TO_TENSOR;
  private static final MethodHandle DELETE;
  private static final MethodHandle TO_TENSORS;

  static {
    Object lib = null;
    MethodHandle run = null;
    MethodHandle toTensor = null;
    MethodHandle delete = null;
    MethodHandle toTensors = null;
    try {
      Class<?> c = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary");
      Field f = c.getDeclaredField("LIB");
      f.setAccessible(true);
      lib = f.get(null);
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      Method m =
          c.getDeclaredMethod(
              "moduleRunMethod",
              long.class,
              String.class,
              long[].class,
              boolean.class,
              boolean.class);
      m.setAccessible(true);
      run = lookup.unreflect(m);
      m = c.getDeclaredMethod("iValueToTensor", long.class);
      m.setAccessible(true);
      toTensor = lookup.unreflect(m);
      m = c.getDeclaredMethod("torchDeleteIValue", long.class);
      m.setAccessible(true);
      delete = lookup.unreflect(m);
      m = c.getDeclaredMethod("iValueToTensorList", long.class);
      m.setAccessible(true);
      toTensors = lookup.unreflect(m);
    } catch (ReflectiveOperationException | RuntimeException e) {
      lib = null;
    }
    LIB = lib;
    RUN = run;
    TO_TENSOR = toTensor;
    DELETE = delete;
    TO_TENSORS = toTensors;
    CALLS_READY_VALUES = lib != null;
  }

  /**
   * Runs {@code module.forward} on TorchScript value handles ({@code IValue#getHandle}) with
   * autograd on ({@link #withAutograd}), and returns its tensor result attached to {@code target}.
   * Only when {@link #CALLS_READY_VALUES}.
   */
  static PtNDArray forward(PtSymbolBlock module, long[] args, PtNDManager target) {
    return call(module, args, out -> new PtNDArray(target, (long) TO_TENSOR.invoke(LIB, out)));
  }

  /** {@link #forward} for a module that returns a list of tensors. */
  static PtNDArray[] forwardList(PtSymbolBlock module, long[] args, PtNDManager target) {
    return call(
        module,
        args,
        out -> {
          long[] handles = (long[]) TO_TENSORS.invoke(LIB, out);
          PtNDArray[] arrays = new PtNDArray[handles.length];
          for (int i = 0; i < handles.length; i++) {
            arrays[i] = new PtNDArray(target, handles[i]);
          }
          return arrays;
        });
  }

  /** Reads a module's result from its TorchScript value handle. */
  private interface Result<T> {
    T read(long value) throws Throwable;
  }

  private static <T> T call(PtSymbolBlock module, long[] args, Result<T> result) {
    return withAutograd(
        () -> {
          try {
            long out = (long) RUN.invoke(LIB, module.getHandle(), "forward", args, true, false);
            try {
              return result.read(out);
            } finally {
              DELETE.invoke(LIB, out);
            }
          } catch (RuntimeException | Error e) {
            throw e;
          } catch (Throwable t) {
            throw new IllegalStateException("TorchScript call failed", t);
          }
        });
  }

  /**
   * Runs a module call with grad mode on (the modules differentiate) and TorchScript's graph
   * executor optimisation off, restoring both afterwards: every call of the adapter's modules,
   * whichever route converts its arguments, goes through here.
   */
  static <T> T withAutograd(Supplier<T> call) {
    boolean gradMode = JniUtils.isGradMode();
    JniUtils.setGradMode(true);
    JniUtils.setGraphExecutorOptimize(false);
    try {
      return call.get();
    } finally {
      JniUtils.setGraphExecutorOptimize(OPTIMIZE);
      JniUtils.setGradMode(gradMode);
    }
  }

  /** The arrays as PyTorch arrays (for {@code IValue.listFrom}). */
  static PtNDArray[] pt(NDList arrays) {
    PtNDArray[] out = new PtNDArray[arrays.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (PtNDArray) arrays.get(i);
    }
    return out;
  }
}
