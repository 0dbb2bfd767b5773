package dev.slingshot.core;

import java.util.SplittableRandom;

/** Symmetric matrices with a known spectrum, for tests: {@code A = Q diag(λ) Qᵀ}. */
final class Quadratics {

  private Quadratics() {}

  /** A random orthogonal matrix (Gram-Schmidt on Gaussian columns, done twice). */
  static double[][] randomOrthogonal(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[][] q = new double[n][n]; // q[j] is column j
    for (int j = 0; j < n; j++) {
      for (int i = 0; i < n; i++) {
        q[j][i] = DoubleArrayVectorSpace.gaussian(r);
      }
      for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < j; k++) {
          double c = dot(q[j], q[k]);
          for (int i = 0; i < n; i++) {
            q[j][i] -= c * q[k][i];
          }
        }
      }
      double nn = Math.sqrt(dot(q[j], q[j]));
      for (int i = 0; i < n; i++) {
        q[j][i] /= nn;
      }
    }
    return q;
  }

  /** {@code Q diag(λ) Qᵀ} with columns {@code q[j]}. */
  static double[][] withSpectrum(double[] lambda, double[][] q) {
    int n = lambda.length;
    double[][] a = new double[n][n];
    for (int j = 0; j < n; j++) {
      for (int r = 0; r < n; r++) {
        double f = lambda[j] * q[j][r];
        for (int c = 0; c < n; c++) {
          a[r][c] += f * q[j][c];
        }
      }
    }
    return a;
  }

  /** A symmetric matrix with independent N(0, 1) entries above the diagonal. */
  static double[][] randomSymmetric(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[][] a = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = i; j < n; j++) {
        a[i][j] = DoubleArrayVectorSpace.gaussian(r);
        a[j][i] = a[i][j];
      }
    }
    return a;
  }

  /** {@code A + t·D}. */
  static double[][] plus(double[][] a, double t, double[][] d) {
    int n = a.length;
    double[][] m = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        m[i][j] = a[i][j] + t * d[i][j];
      }
    }
    return m;
  }

  /** The Hessian-vector product of the quadratic {@code ½θᵀAθ}, counting its calls. */
  static final class MatrixHvp implements HessianVectorProduct<double[]> {
    final double[][] a;
    int calls;

    MatrixHvp(double[][] a) {
      this.a = a;
    }

    @Override
    public double[] apply(double[] v) {
      calls++;
      double[] r = new double[v.length];
      for (int i = 0; i < a.length; i++) {
        r[i] = dot(a[i], v);
      }
      return r;
    }
  }

  static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}
