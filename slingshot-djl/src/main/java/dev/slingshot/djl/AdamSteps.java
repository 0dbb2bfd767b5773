package dev.slingshot.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.IValue;
import dev.slingshot.core.EffectiveStepSize;
import java.util.ArrayList;
import java.util.List;

/**
 * Adam's per-coordinate effective step {@code numerator / (sqrtVScale·√v + ε)} (Thilak et al. 2022,
 * App. A.6.1; {@link EffectiveStepSize.Adam}) over all parameters as one flat device vector,
 * computed once per probe and shared by the effective-step statistics ({@link #stats}) and the
 * preconditioned sharpness ({@link #sqrtD}). The statistics of every tensor come back in one read
 * of a few scalars per tensor, computed on the device in linear time (selection, not sorting).
 */
final class AdamSteps {

  private final NDArray steps;
  private final long[] sizes;
  private final NDManager manager;

  private AdamSteps(NDArray steps, long[] sizes, NDManager manager) {
    this.steps = steps;
    this.sizes = sizes;
    this.manager = manager;
  }

  /**
   * The statistics of {@link #stats} and the {@link #sqrtD} vector from one TorchScript call
   * ({@code adam_steps.pt}: medians by selection per tensor, in linear time), instead of a dozen
   * DJL operations per tensor; null where that is not available (not the PyTorch engine, or DJL's
   * entry point not found), and then {@link #of} takes the DJL operations.
   *
   * @param threshold the step bound {@code 2/λmax} (+∞ when λmax is unknown or not positive)
   * @param target where {@code sqrtD} is attached
   */
  static Fused fused(
      List<String> names,
      NDList secondMoments,
      EffectiveStepSize.Adam adam,
      double threshold,
      NDManager target) {
    if (!TorchScript.CALLS_READY_VALUES || !(target instanceof PtNDManager pm)) {
      return null;
    }
    long[] sizes = fusableSizes(names, secondMoments);
    if (sizes == null) {
      return null;
    }
    PtNDArray[] out;
    try (Values values = new Values(secondMoments, adam, threshold)) {
      out = TorchScript.forwardList(TorchScript.module("adam_steps.pt"), values.handles(), pm);
    }
    double[] s;
    try (NDArray stats = out[0]) {
      s = stats.toDoubleArray();
    }
    return new Fused(statsOf(names, sizes, s, threshold), out[1]);
  }

  /**
   * The arguments of {@code adam_steps.pt} as TorchScript values: the second moments' list, then
   * the numerator, the scale of √v, ε, the threshold and the learning rate. Close to release them.
   */
  static final class Values implements AutoCloseable {
    private final IValue[] values;

    Values(NDList secondMoments, EffectiveStepSize.Adam adam, double threshold) {
      values =
          new IValue[] {
            IValue.listFrom(TorchScript.pt(secondMoments)),
            IValue.from(adam.numerator()),
            IValue.from(adam.sqrtVScale()),
            IValue.from(adam.epsilon()),
            IValue.from(threshold),
            IValue.from(adam.learningRate())
          };
    }

    long[] handles() {
      long[] h = new long[values.length];
      for (int i = 0; i < h.length; i++) {
        h[i] = values[i].getHandle();
      }
      return h;
    }

    @Override
    public void close() {
      for (IValue v : values) {
        v.close();
      }
    }
  }

  /**
   * The coordinate counts of {@code secondMoments}, or null when a TorchScript module cannot take
   * them (not all PyTorch arrays).
   *
   * @throws IllegalArgumentException if a tensor has no coordinates
   */
  static long[] fusableSizes(List<String> names, NDList secondMoments) {
    long[] sizes = new long[secondMoments.size()];
    for (int i = 0; i < sizes.length; i++) {
      NDArray v = secondMoments.get(i);
      if (!(v instanceof PtNDArray)) {
        return null;
      }
      sizes[i] = v.getShape().size();
      if (sizes[i] == 0) {
        throw new IllegalArgumentException("parameter " + names.get(i) + " has no coordinates");
      }
    }
    return sizes;
  }

  /**
   * Per tensor, the statistics from the module's five numbers per tensor (min, lower and upper
   * median, max, count above {@code threshold}).
   */
  static List<EffectiveStepSize.Stats> statsOf(
      List<String> names, long[] sizes, double[] s, double threshold) {
    List<EffectiveStepSize.Stats> stats = new ArrayList<>(sizes.length);
    for (int i = 0; i < sizes.length; i++) {
      stats.add(
          new EffectiveStepSize.Stats(
              names.get(i),
              sizes[i],
              s[5 * i],
              (s[5 * i + 1] + s[5 * i + 2]) / 2,
              s[5 * i + 3],
              s[5 * i + 4] / sizes[i],
              threshold));
    }
    return stats;
  }

  /**
   * What {@link #fused} computes.
   *
   * @param stats per tensor, as {@link #stats} gives them
   * @param sqrtD as {@link #sqrtD} gives it
   */
  record Fused(List<EffectiveStepSize.Stats> stats, NDArray sqrtD) {}

  /**
   * The flat step vector from Adam's second moments {@code v} (one tensor per parameter, in layout
   * order), in their dtype and on their device; its arrays are attached to {@code manager}.
   *
   * @throws IllegalArgumentException if a tensor has no coordinates
   */
  static AdamSteps of(
      List<String> names, NDList secondMoments, EffectiveStepSize.Adam adam, NDManager manager) {
    long[] sizes = new long[secondMoments.size()];
    NDList flat = new NDList(sizes.length);
    try {
      for (int i = 0; i < sizes.length; i++) {
        NDArray v = secondMoments.get(i);
        sizes[i] = v.getShape().size();
        if (sizes[i] == 0) {
          throw new IllegalArgumentException("parameter " + names.get(i) + " has no coordinates");
        }
        flat.add(v.flatten());
      }
      NDArray v = flat.size() == 1 ? flat.get(0) : NDArrays.concat(flat);
      NDArray denominator = v.sqrt();
      if (v != flat.get(0)) {
        v.close();
      }
      denominator.muli(adam.sqrtVScale()).addi(adam.epsilon());
      NDArray steps = NDArrays.div(adam.numerator(), denominator);
      denominator.close();
      steps.attach(manager);
      return new AdamSteps(steps, sizes, manager);
    } finally {
      flat.close();
    }
  }

  /**
   * Per tensor, min, median, max of the step and the fraction above {@code threshold} ({@code
   * 2/λmax}); the median of an even count is the mean of the two middle values, as in {@link
   * EffectiveStepSize#of}.
   */
  List<EffectiveStepSize.Stats> stats(List<String> names, double threshold) {
    int k = sizes.length;
    long[] ends = new long[k];
    long[] splits = new long[Math.max(0, k - 1)];
    long offset = 0;
    for (int i = 0; i < k; i++) {
      offset += sizes[i];
      ends[i] = offset - 1;
      if (i < k - 1) {
        splits[i] = offset;
      }
    }
    double[] v;
    try (NDManager scratch = manager.newSubManager()) {
      NDList parts = k == 1 ? new NDList(steps) : steps.split(splits);
      if (k > 1) {
        parts.attach(scratch);
      }
      NDList scalars = new NDList(4 * k + 1);
      for (NDArray p : parts) {
        // The median of an even count is the mean of the lower median and the upper one, which is
        // minus the lower median of −p. torch.median selects (linear time); a sort costs 10x more.
        NDArray negated = p.neg();
        negated.attach(scratch);
        scalars.add(p.min());
        scalars.add(p.max());
        scalars.add(p.median(new int[] {0}));
        scalars.add(negated.median(new int[] {0}));
      }
      // Counts above the threshold per tensor: a running count over all coordinates, read at each
      // tensor's last coordinate.
      NDArray above = steps.gt(threshold);
      above.attach(scratch);
      NDArray running = above.toType(steps.getDataType(), false).cumSum();
      running.attach(scratch);
      NDArray endPositions = scratch.create(ends).toDevice(steps.getDevice(), false);
      endPositions.attach(scratch);
      NDArray counts = running.take(scratch, endPositions);
      scalars.attach(scratch);
      NDArray stacked = NDArrays.stack(scalars);
      stacked.attach(scratch);
      NDArray all = NDArrays.concat(new NDList(stacked, counts)).toType(DataType.FLOAT64, false);
      all.attach(scratch);
      v = all.toDoubleArray();
    }
    List<EffectiveStepSize.Stats> out = new ArrayList<>(k);
    for (int i = 0; i < k; i++) {
      double count = v[4 * k + i] - (i == 0 ? 0 : v[4 * k + i - 1]);
      out.add(
          new EffectiveStepSize.Stats(
              names.get(i),
              sizes[i],
              v[4 * i],
              (v[4 * i + 2] - v[4 * i + 3]) / 2,
              v[4 * i + 1],
              count / sizes[i],
              threshold));
    }
    return out;
  }

  /**
   * {@code D^½ = √(step/lr)} per coordinate, the square root of the preconditioner's inverse {@code
   * P⁻¹} (Cohen et al. 2022), attached to the steps' manager.
   */
  NDArray sqrtD(double learningRate) {
    NDArray quotient = steps.div(learningRate);
    NDArray d = quotient.sqrt();
    quotient.close();
    d.attach(manager);
    return d;
  }

  /** Releases the step vector. */
  void close() {
    steps.close();
  }
}
