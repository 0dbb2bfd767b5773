package dev.slingshot.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.slingshot.core.HessianVectorProduct;
import dev.slingshot.core.VectorSpace;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@link VectorSpace} over one flat device array holding all trainable parameters in layout order
 * (the shape of the adapter's update buffer). On small models the cost of a Lanczos iteration is
 * native calls, not arithmetic: an inner product here is one call instead of several per parameter
 * tensor. {@link #hvp} adapts a per-tensor Hessian-vector product to flat vectors (split into
 * views, product, concatenate). Every vector it creates is attached to its manager.
 */
final class FlatVectorSpace implements VectorSpace<NDArray> {

  private final NDManager manager;
  private final long[] splits;
  private final Shape[] shapes;

  /**
   * @param manager where new vectors live
   * @param shapes the parameter tensors' shapes, in layout order
   */
  FlatVectorSpace(NDManager manager, Shape[] shapes) {
    this.manager = manager;
    this.shapes = shapes.clone();
    this.splits = new long[Math.max(0, shapes.length - 1)];
    long total = 0;
    for (int i = 0; i < shapes.length - 1; i++) {
      total += shapes[i].size();
      splits[i] = total;
    }
  }

  /** The per-tensor views of a flat vector (new handles on the same memory). */
  NDList split(NDArray flat) {
    NDList parts = shapes.length == 1 ? new NDList(flat) : flat.split(splits);
    NDList views = new NDList(shapes.length);
    for (int i = 0; i < shapes.length; i++) {
      views.add(parts.get(i).reshape(shapes[i]));
    }
    return views;
  }

  /** One flat vector from per-tensor arrays (a copy), attached to this space's manager. */
  NDArray concat(NDList tensors) {
    NDList flat = new NDList(tensors.size());
    for (NDArray a : tensors) {
      flat.add(a.flatten());
    }
    NDArray out = flat.size() == 1 ? flat.get(0).duplicate() : NDArrays.concat(flat);
    flat.close();
    out.attach(manager);
    return out;
  }

  /** {@code h} on flat vectors. */
  HessianVectorProduct<NDArray> hvp(HessianVectorProduct<NDList> h) {
    return v -> {
      NDList views = split(v);
      NDList hv = h.apply(views);
      try {
        return concat(hv);
      } finally {
        hv.close();
        views.close();
      }
    };
  }

  @Override
  public double dot(NDArray a, NDArray b) {
    try (NDArray d = a.dot(b)) {
      return read(d)[0];
    }
  }

  /**
   * Both Gram-Schmidt passes as matrix-vector products over the stacked basis ({@code c = Q·w},
   * {@code w ← w − Qᵀc}, twice) and one read of the first pass's {@code c}: nine native calls
   * instead of four per basis vector. The stacked copy of the basis is kept for the next call on
   * the same vectors. Past {@value #STACK_LIMIT} coordinates in all, the copy would cost more
   * memory than the calls cost time, and the passes take one inner product and one update per
   * vector.
   */
  @Override
  public double[] orthogonalize(NDArray w, List<NDArray> basis) {
    NDArray q = stacked(basis);
    if (q == null) {
      return VectorSpace.super.orthogonalize(w, basis);
    }
    try (NDArray c = q.matMul(w);
        NDArray r = c.matMul(q)) {
      w.subi(r);
      try (NDArray c2 = q.matMul(w);
          NDArray r2 = c2.matMul(q)) {
        w.subi(r2);
      }
      return read(c);
    }
  }

  /** {@code Σ_j c_j q_j} as one vector-matrix product over the stacked basis. */
  @Override
  public NDArray combination(double[] c, List<NDArray> basis) {
    List<NDArray> used = basis.subList(0, Math.min(c.length, basis.size()));
    NDArray q = c.length == 0 ? null : stacked(used);
    if (q == null) {
      return VectorSpace.super.combination(c, basis);
    }
    NDList temps = new NDList(3);
    try {
      NDArray host = manager.create(c);
      temps.add(host);
      NDArray typed = host.toType(q.getDataType(), false);
      temps.add(typed);
      NDArray placed = typed.toDevice(q.getDevice(), false);
      temps.add(placed);
      NDArray y = placed.matMul(q);
      y.attach(manager);
      return y;
    } finally {
      for (NDArray t : temps) {
        if (!t.isReleased()) {
          t.close();
        }
      }
    }
  }

  /** Most coordinates ({@code vectors × length}) that {@link #orthogonalize} stacks into a copy. */
  static final long STACK_LIMIT = 1L << 22;

  private List<NDArray> stackedOf = List.of();
  private NDArray stacked;

  /**
   * The basis as the rows of one matrix (kept while the basis is the same), or null past the limit.
   */
  private NDArray stacked(List<NDArray> basis) {
    if (basis.isEmpty() || basis.size() * basis.get(0).size() > STACK_LIMIT) {
      return null;
    }
    if (stacked != null && !stacked.isReleased() && sameVectors(stackedOf, basis)) {
      return stacked;
    }
    if (stacked != null) {
      stacked.close();
    }
    stacked = NDArrays.stack(new NDList(basis));
    stacked.attach(manager);
    stackedOf = List.copyOf(basis);
    return stacked;
  }

  private static boolean sameVectors(List<NDArray> a, List<NDArray> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (a.get(i) != b.get(i) || a.get(i).isReleased()) {
        return false;
      }
    }
    return true;
  }

  /** A small array's values as doubles: one read. */
  private static double[] read(NDArray a) {
    DataType type = a.getDataType();
    if (type == DataType.FLOAT64) {
      return a.toDoubleArray();
    }
    if (type == DataType.FLOAT32) {
      float[] f = a.toFloatArray(); // not getFloat(): that indexes a new scalar array first
      double[] d = new double[f.length];
      for (int i = 0; i < f.length; i++) {
        d[i] = f[i];
      }
      return d;
    }
    try (NDArray c = a.toType(DataType.FLOAT64, false)) {
      return c.toDoubleArray();
    }
  }

  /** Divides by the norm on the device: no scalar comes from the host. */
  @Override
  public double normalize(NDArray x) {
    try (NDArray n = x.norm()) {
      double v = read(n)[0];
      if (v > 0 && Double.isFinite(v)) {
        x.divi(n);
      }
      return v;
    }
  }

  @Override
  public void axpy(double alpha, NDArray x, NDArray y) {
    try (NDArray t = x.mul(alpha)) {
      y.addi(t);
    }
  }

  @Override
  public void scale(double alpha, NDArray x) {
    x.muli(alpha);
  }

  @Override
  public void multiply(NDArray d, NDArray x) {
    x.muli(d);
  }

  @Override
  public NDArray copy(NDArray x) {
    NDArray c = x.duplicate();
    c.attach(manager);
    return c;
  }

  /** Draws on the host with a seeded generator (the engine's random state is untouched). */
  @Override
  public NDArray randomLike(NDArray like, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    int n = Math.toIntExact(like.getShape().size());
    NDArray host;
    if (like.getDataType() == DataType.FLOAT64) {
      double[] d = new double[n];
      for (int i = 0; i < n; i++) {
        d[i] = gaussian(random);
      }
      host = manager.create(d, like.getShape());
    } else {
      float[] f = new float[n];
      for (int i = 0; i < n; i++) {
        f[i] = (float) gaussian(random);
      }
      host = manager.create(f, like.getShape());
      if (like.getDataType() != DataType.FLOAT32) {
        NDArray typed = host.toType(like.getDataType(), false);
        host.close();
        host = typed;
      }
    }
    Device device = like.getDevice();
    NDArray placed = host.toDevice(device, false);
    if (placed != host) {
      host.close();
      placed.attach(manager);
    }
    return placed;
  }

  @Override
  public void close(NDArray x) {
    if (x != null) {
      x.close();
    }
  }

  /** A standard normal draw (Marsaglia's polar method); both vector spaces use this one. */
  static double gaussian(SplittableRandom random) {
    double u;
    double v;
    double s;
    do {
      u = 2 * random.nextDouble() - 1;
      v = 2 * random.nextDouble() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s == 0);
    return u * Math.sqrt(-2 * Math.log(s) / s);
  }
}
