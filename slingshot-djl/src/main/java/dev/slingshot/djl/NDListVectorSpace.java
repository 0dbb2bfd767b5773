package dev.slingshot.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.slingshot.core.VectorSpace;
import java.util.SplittableRandom;

/**
 * {@link VectorSpace} over lists of device-resident tensors, one per parameter tensor. Every vector
 * it creates is attached to its manager (usually a per-call sub-manager that the caller closes);
 * every intermediate is closed before the operation returns, so nothing piles up on the long-lived
 * managers of the operands. Inner products are reduced on the device and read back as one scalar.
 */
final class NDListVectorSpace implements VectorSpace<NDList> {

  private final NDManager manager;

  NDListVectorSpace(NDManager manager) {
    this.manager = manager;
  }

  NDManager manager() {
    return manager;
  }

  @Override
  public double dot(NDList a, NDList b) {
    requireSameSize(a, b);
    NDArray acc = null;
    try {
      for (int i = 0; i < a.size(); i++) {
        try (NDArray p = a.get(i).mul(b.get(i));
            NDArray s = p.sum();
            NDArray s64 = s.toType(DataType.FLOAT64, true)) {
          if (acc == null) {
            acc = s64.duplicate();
          } else {
            acc.addi(s64);
          }
        }
      }
      return acc == null ? 0 : acc.getDouble();
    } finally {
      if (acc != null) {
        acc.close();
      }
    }
  }

  @Override
  public void axpy(double alpha, NDList x, NDList y) {
    requireSameSize(x, y);
    for (int i = 0; i < x.size(); i++) {
      try (NDArray t = x.get(i).mul(alpha)) {
        y.get(i).addi(t);
      }
    }
  }

  @Override
  public void scale(double alpha, NDList x) {
    for (NDArray a : x) {
      a.muli(alpha);
    }
  }

  @Override
  public void multiply(NDList d, NDList x) {
    requireSameSize(d, x);
    for (int i = 0; i < x.size(); i++) {
      x.get(i).muli(d.get(i));
    }
  }

  @Override
  public NDList copy(NDList x) {
    NDList out = new NDList(x.size());
    for (NDArray a : x) {
      NDArray c = a.duplicate();
      c.attach(manager);
      out.add(c);
    }
    return out;
  }

  /**
   * Draws on the host with a seeded generator (the engine's random state is untouched) and copies
   * the draws to each tensor's device: a random vector costs one host-to-device transfer.
   */
  @Override
  public NDList randomLike(NDList like, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    NDList out = new NDList(like.size());
    for (NDArray a : like) {
      Shape shape = a.getShape();
      int n = Math.toIntExact(shape.size());
      NDArray host;
      if (a.getDataType() == DataType.FLOAT64) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
          d[i] = FlatVectorSpace.gaussian(random);
        }
        host = manager.create(d, shape);
      } else {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
          f[i] = (float) FlatVectorSpace.gaussian(random);
        }
        host = manager.create(f, shape);
      }
      out.add(onDeviceOf(host, a));
    }
    return out;
  }

  /** A new zero vector shaped, typed and placed like {@code like}. */
  NDList zerosLike(NDList like) {
    NDList out = new NDList(like.size());
    for (NDArray a : like) {
      NDArray z = a.zerosLike();
      z.attach(manager);
      out.add(z);
    }
    return out;
  }

  @Override
  public void close(NDList x) {
    if (x != null) {
      x.close();
    }
  }

  private NDArray onDeviceOf(NDArray host, NDArray like) {
    NDArray typed = host;
    if (like.getDataType() != host.getDataType()) {
      typed = host.toType(like.getDataType(), false);
      if (typed != host) {
        host.close();
      }
    }
    Device device = like.getDevice();
    NDArray placed = typed.toDevice(device, false);
    if (placed != typed) {
      typed.close();
      placed.attach(manager);
    }
    return placed;
  }

  private static void requireSameSize(NDList a, NDList b) {
    if (a.size() != b.size()) {
      throw new IllegalArgumentException(
          "vectors have " + a.size() + " and " + b.size() + " tensors");
    }
  }
}
