package dev.slingshot.djl.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Internal, not API: waits until the device of a manager has finished the work queued on it, for
 * timings. On a CUDA device every op is queued and returns at once, so a timer read right after a
 * loop of steps measures how fast they were queued, and the work still in the queue is billed to
 * whatever is timed next. libtorch runs the ops of a thread on one stream in order, so one scalar
 * made on the device and read back (a blocking device-to-host copy) returns only when everything
 * queued before it is done. On the CPU the work is already done; the read costs microseconds.
 */
public final class DeviceSync {

  private DeviceSync() {}

  /** Returns when the work queued so far on {@code manager}'s device has run. */
  public static void await(NDManager manager) {
    try (NDArray z = manager.zeros(new Shape(1), DataType.FLOAT32)) {
      z.toFloatArray();
    }
  }
}
