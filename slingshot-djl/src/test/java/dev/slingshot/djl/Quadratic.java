package dev.slingshot.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.SplittableRandom;

/**
 * The quadratic {@code L(θ) = ½θᵀAθ + bᵀθ} written with DJL ops over θ split into three parameter
 * tensors, with a symmetric {@code A = Q diag(λ) Qᵀ} of known spectrum: its Hessian is {@code A}.
 */
final class Quadratic implements AutoCloseable {

  static final Shape[] SHAPES = {new Shape(3, 4), new Shape(5), new Shape(2, 3)};

  final int n;
  final double[][] a;
  final double[] b;
  final double[] spectrum;
  final NDManager manager;
  final NDList params;
  private final NDArray aArray;
  private final NDArray bArray;

  Quadratic(NDManager parent, DataType dtype, double[] spectrum, long seed) {
    this.manager = parent.newSubManager();
    this.spectrum = spectrum;
    int total = 0;
    for (Shape s : SHAPES) {
      total += (int) s.size();
    }
    this.n = total;
    if (spectrum.length != n) {
      throw new IllegalArgumentException("spectrum must have " + n + " values");
    }
    SplittableRandom r = new SplittableRandom(seed);
    double[][] q = orthogonal(n, r);
    a = new double[n][n];
    for (int j = 0; j < n; j++) {
      for (int i = 0; i < n; i++) {
        for (int k = 0; k < n; k++) {
          a[i][k] += spectrum[j] * q[j][i] * q[j][k];
        }
      }
    }
    b = new double[n];
    double[] theta = new double[n];
    for (int i = 0; i < n; i++) {
      b[i] = gaussian(r);
      theta[i] = gaussian(r);
    }
    double[] flat = new double[n * n];
    for (int i = 0; i < n; i++) {
      System.arraycopy(a[i], 0, flat, i * n, n);
    }
    aArray = manager.create(flat, new Shape(n, n)).toType(dtype, false);
    bArray = manager.create(b).toType(dtype, false);
    params = new NDList();
    int off = 0;
    for (Shape s : SHAPES) {
      double[] part = new double[(int) s.size()];
      System.arraycopy(theta, off, part, 0, part.length);
      off += part.length;
      NDArray p = manager.create(part, s).toType(dtype, false);
      p.setRequiresGradient(true);
      params.add(p);
    }
  }

  /** The loss, computed with grad mode on (graph kept). */
  NDArray loss() {
    return HessianProbe.lossWithGraph(this::forward);
  }

  NDArray forward() {
    NDList flat = new NDList();
    for (NDArray p : params) {
      flat.add(p.flatten());
    }
    NDArray theta = flat.size() == 1 ? flat.get(0) : ai.djl.ndarray.NDArrays.concat(flat);
    NDArray at = aArray.matMul(theta.reshape(n, 1)).reshape(n);
    NDArray quad = theta.mul(at).sum().mul(0.5);
    return quad.add(bArray.mul(theta).sum());
  }

  /** Runs a real backward so every parameter has a non-trivial {@code .grad}. */
  void backward() {
    try (GradientCollector c = manager.getEngine().newGradientCollector()) {
      c.backward(forward());
    }
  }

  /** {@code A·v} for v given as a list of tensors. */
  double[] times(NDList v) {
    double[] x = flatten(v);
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < n; k++) {
        y[i] += a[i][k] * x[k];
      }
    }
    return y;
  }

  static double[] flatten(NDList v) {
    int total = 0;
    for (NDArray x : v) {
      total += (int) x.getShape().size();
    }
    double[] out = new double[total];
    int off = 0;
    for (NDArray x : v) {
      double[] d = x.toType(DataType.FLOAT64, true).toDoubleArray();
      System.arraycopy(d, 0, out, off, d.length);
      off += d.length;
    }
    return out;
  }

  static double relativeError(double[] got, double[] want) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < got.length; i++) {
      num += (got[i] - want[i]) * (got[i] - want[i]);
      den += want[i] * want[i];
    }
    return Math.sqrt(num / den);
  }

  NDList randomVector(long seed, DataType dtype) {
    SplittableRandom r = new SplittableRandom(seed);
    NDList v = new NDList();
    for (Shape s : SHAPES) {
      double[] d = new double[(int) s.size()];
      for (int i = 0; i < d.length; i++) {
        d[i] = gaussian(r);
      }
      v.add(manager.create(d, s).toType(dtype, false));
    }
    return v;
  }

  private static double[][] orthogonal(int n, SplittableRandom r) {
    double[][] q = new double[n][n];
    for (int j = 0; j < n; j++) {
      for (int i = 0; i < n; i++) {
        q[j][i] = gaussian(r);
      }
      for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < j; k++) {
          double c = 0;
          for (int i = 0; i < n; i++) {
            c += q[j][i] * q[k][i];
          }
          for (int i = 0; i < n; i++) {
            q[j][i] -= c * q[k][i];
          }
        }
      }
      double nn = 0;
      for (int i = 0; i < n; i++) {
        nn += q[j][i] * q[j][i];
      }
      nn = Math.sqrt(nn);
      for (int i = 0; i < n; i++) {
        q[j][i] /= nn;
      }
    }
    return q;
  }

  static double gaussian(SplittableRandom r) {
    double u;
    double v;
    double s;
    do {
      u = 2 * r.nextDouble() - 1;
      v = 2 * r.nextDouble() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s == 0);
    return u * Math.sqrt(-2 * Math.log(s) / s);
  }

  @Override
  public void close() {
    manager.close();
  }
}
