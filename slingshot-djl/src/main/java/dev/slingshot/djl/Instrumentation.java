package dev.slingshot.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import ai.djl.training.listener.TrainingListener.BatchData;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import dev.slingshot.core.SlingshotMonitor;
import dev.slingshot.core.StateReset;
import dev.slingshot.core.StepRecord;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cheap tier: everything the listener and the optimizer wrapper share, and the only place that
 * touches tensors.
 *
 * <p>Per step, on the device of the trainer's first device, with no parameter copied to the host:
 *
 * <ul>
 *   <li>a flat buffer D (one element per trainable scalar, one view per parameter) is zeroed once;
 *       before the delegate's update of parameter i, D<sub>i</sub> += θ<sub>i</sub>; after it,
 *       D<sub>i</sub> −= θ<sub>i</sub>, so D = −Δθ: two in-place ops per parameter, no allocation;
 *   <li>when every trainable parameter has been updated (the end of {@code trainer.step()}), ‖D‖,
 *       max D and min D (so ‖Δθ‖<sub>∞</sub> = max(max D, −min D) without a full-size temporary)
 *       and each parameter's ‖θ<sub>i</sub>‖ are computed and stacked with the captured batch loss
 *       into one small vector, read back in a single device-to-host transfer;
 *   <li>on the cosine schedule, ⟨θ<sub>i</sub>, θ0<sub>i</sub>⟩ and ‖θ0<sub>i</sub>‖ join the same
 *       vector (θ0 stays on the device).
 * </ul>
 *
 * Group, last-layer and total norms are combined on the host from the per-parameter norms. While a
 * probe schedule is in force, D is accumulated on every step (its norms are still read only on
 * measured steps), so that the update of any step the schedule picks is at hand for the
 * second-order probes ({@link SecondOrderProbe}), which run at the next training batch. Internal
 * failures are logged and counted and never stop training unless fail-fast is set.
 */
final class Instrumentation {

  private static final Logger LOG = LoggerFactory.getLogger(Instrumentation.class);
  private static final int LOGGED_FAILURES = 5;

  /**
   * Where the per-parameter values start in a measured step's read-back vector: the loss, ‖D‖, max
   * D and min D come first.
   */
  private static final int VALUES = 4;

  private final SlingshotOptions options;
  private final SlingshotMonitor monitor;
  private final Optimizer delegate;
  private final List<ScheduledProbe> probes = new CopyOnWriteArrayList<>();
  private final List<Consumer<? super StepMetrics>> stepSubscribers = new CopyOnWriteArrayList<>();

  private Trainer trainer;
  private ParameterLayout layout;
  private Device device;
  private NDManager manager;
  private NDArray flat;
  private NDArray zero;
  private NDArray[] views;
  private NDArray[] theta0;
  private NDArray[] live;
  private boolean flatDirty;

  private final List<NDArray> captured = new ArrayList<>(2);
  private NDArray pendingLoss;
  private boolean pendingLossOwned;

  private boolean stepOpen;
  private boolean stepBroken;
  private boolean[] updated;
  private int updatedCount;
  private int expectedUpdates;
  private long step;
  private boolean measuring;
  private boolean accumulating;

  private final boolean probesOn;
  private SecondOrderProbe secondOrder;
  private long heldUpdate = -1;
  private boolean stepGradMode;
  private long probeDue = -1;
  private volatile ProbeMeasurement lastProbe;
  private volatile long probeRuns;

  private volatile StepMetrics lastMetrics;
  private volatile StepRecord lastRecord;
  private volatile long resets;
  private volatile long failures;
  private volatile long skippedRecords;
  private final List<StateReset> resetEvents = new CopyOnWriteArrayList<>();
  private boolean warnedNoBatch;
  private boolean warnedUnknown;

  Instrumentation(SlingshotOptions options, SlingshotMonitor monitor, Optimizer delegate) {
    this.options = options;
    this.monitor = monitor;
    this.delegate = delegate;
    // ProbeSchedule.never() is the only schedule described as "never": keep no update for it.
    this.probesOn = !"never".equals(monitor.probeSchedule().describe());
    this.step = options.firstStep() - 1;
  }

  // ---------------------------------------------------------------- listener side

  void onTrainingBegin(Trainer trainer) {
    this.trainer = trainer;
    // Configuration errors (a wrong last-layer name) are the user's, not internal failures: throw.
    this.layout = ParameterLayout.of(trainer.getModel().getBlock(), options);
    this.device = trainer.getDevices()[0];
    this.expectedUpdates = layout.size();
    this.updated = new boolean[layout.size()];
    if (probesOn) {
      if (trainer.getDevices().length > 1) {
        LOG.warn(
            "slingshot: second-order probes support single-device trainers; this one has {}"
                + " devices, probes are off",
            trainer.getDevices().length);
      } else {
        secondOrder = new SecondOrderProbe(options, delegate, layout);
      }
    }
    LOG.debug(
        "slingshot attached: {} trainable parameters, last layer {}, groups {}",
        layout.size(),
        layout.lastLayerName(),
        layout.groups.keySet());
  }

  void captureLoss(NDArray loss) {
    captured.add(loss);
  }

  void onTrainingBatch(Trainer trainer, BatchData batch) {
    try {
      if (stepOpen) {
        // The previous step did not update every parameter: learn how many it does update.
        expectedUpdates = Math.max(1, updatedCount);
        finishStep();
      }
      releasePendingLoss();
      pendingLoss = batchLoss(trainer, batch);
      captured.clear();
      long coming = step + 1;
      for (ScheduledProbe probe : probes) {
        if (probe.due(coming)) {
          probe.run(trainer, batch, coming);
        }
      }
    } catch (RuntimeException e) {
      captured.clear();
      fail("training batch", e);
    }
    if (secondOrder != null && probeDue == step && step >= 1) {
      Batch b = batch.getBatch();
      runSecondOrder(trainer, b == null ? null : b.getData(), b == null ? null : b.getLabels());
    }
  }

  /**
   * Runs the second-order probes for step {@link #step} (see {@link
   * SlingshotOptions.Builder#probes}).
   */
  private void runSecondOrder(Trainer trainer, NDList inputs, NDList labels) {
    long t = step;
    probeDue = -1;
    boolean grad = JniUtils.isGradMode();
    try {
      NDArray update = heldUpdate == t ? flat : null;
      ProbeMeasurement m = secondOrder.run(trainer, inputs, labels, t, update);
      lastProbe = m;
      probeRuns++;
      monitor.publish(m);
    } catch (RuntimeException e) {
      fail("second-order probe at step " + t, e);
    } finally {
      JniUtils.setGradMode(grad);
    }
  }

  void onTrainingEnd(Trainer trainer) {
    try {
      if (stepOpen) {
        finishStep();
      }
    } catch (RuntimeException e) {
      fail("training end", e);
    }
    try {
      if (secondOrder != null && probeDue == step && step >= 1) {
        if (secondOrder.hasFixedBatch()) {
          runSecondOrder(trainer, null, null);
        } else {
          LOG.debug("slingshot: probe due at the last step {} dropped (no next batch)", step);
        }
      }
    } finally {
      if (secondOrder != null) {
        secondOrder.close();
        secondOrder = null;
      }
      releasePendingLoss();
      if (manager != null) {
        manager.close();
        manager = null;
        flat = null;
        zero = null;
        views = null;
        theta0 = null;
        live = null;
      }
    }
  }

  private NDArray batchLoss(Trainer trainer, BatchData batch) {
    int devices = batch.getPredictions().size();
    if (captured.size() == devices && devices == 1) {
      pendingLossOwned = false;
      return captured.get(0);
    }
    Loss loss = trainer.getLoss();
    if (loss instanceof CapturingLoss c) {
      loss = c.delegate();
    }
    NDList parts = new NDList(devices);
    try {
      if (captured.size() == devices) {
        for (NDArray l : captured) {
          parts.add(l.toDevice(device, false).mean());
        }
      } else {
        for (Device d : batch.getPredictions().keySet()) {
          try (NDArray l = loss.evaluate(batch.getLabels().get(d), batch.getPredictions().get(d))) {
            parts.add(l.toDevice(device, true).mean());
          }
        }
      }
      NDArray l = parts.size() == 1 ? parts.get(0) : NDArrays.stack(parts).mean();
      if (parts.size() > 1) {
        parts.close();
      }
      pendingLossOwned = true;
      return l;
    } catch (RuntimeException e) {
      parts.close();
      throw e;
    }
  }

  private void releasePendingLoss() {
    if (pendingLoss != null && pendingLossOwned && !pendingLoss.isReleased()) {
      pendingLoss.close();
    }
    pendingLoss = null;
  }

  // ---------------------------------------------------------------- optimizer side

  /**
   * Called before the delegate updates {@code weight}. Returns whether {@link #afterUpdate} must be
   * called.
   */
  boolean beforeUpdate(String id, NDArray weight) {
    if (layout == null) {
      return false;
    }
    Integer i = layout.indexById.get(id);
    // The same live array as last step is known to be on the device: skip the JNI device query.
    if (i != null && (live == null || live[i] != weight) && !weight.getDevice().equals(device)) {
      return false;
    }
    if (i == null) {
      if (!warnedUnknown) {
        warnedUnknown = true;
        LOG.warn("slingshot: parameter {} is not in the model's trainable parameters; ignored", id);
      }
      return false;
    }
    // Grad mode is asked once per step (a JNI call): the trainer does not change it between the
    // updates of one step.
    if (!stepOpen || updated[i]) {
      stepGradMode = JniUtils.isGradMode();
    }
    boolean grad = stepGradMode;
    try {
      if (grad) {
        JniUtils.setGradMode(false);
      }
      if (stepOpen && updated[i]) {
        expectedUpdates = Math.max(1, updatedCount);
        finishStep();
      }
      if (!stepOpen) {
        openStep(weight);
      }
      if (stepBroken) {
        return false;
      }
      if (measuring && theta0 != null && theta0[i] == null) {
        theta0[i] = weight.duplicate();
        theta0[i].attach(manager);
      }
      if (accumulating) {
        views[i].addi(weight);
      }
      return true;
    } catch (RuntimeException e) {
      stepBroken = true;
      fail("before update", e);
      return false;
    } finally {
      if (grad) {
        JniUtils.setGradMode(true);
      }
    }
  }

  void afterUpdate(String id, NDArray weight) {
    boolean grad = stepGradMode;
    try {
      if (grad) {
        JniUtils.setGradMode(false);
      }
      int i = layout.indexById.get(id);
      if (accumulating) {
        views[i].subi(weight);
      }
      live[i] = weight;
      updated[i] = true;
      updatedCount++;
      if (updatedCount >= expectedUpdates) {
        finishStep();
      }
    } catch (RuntimeException e) {
      stepBroken = true;
      fail("after update", e);
    } finally {
      if (grad) {
        JniUtils.setGradMode(true);
      }
    }
  }

  private void openStep(NDArray anyWeight) {
    stepOpen = true;
    stepBroken = false;
    updatedCount = 0;
    java.util.Arrays.fill(updated, false);
    long t = step + 1;
    measuring = t == options.firstStep() || t % options.measureEvery() == 0;
    // The update is held for the update sharpness only at steps the schedule may probe.
    accumulating = measuring || (secondOrder != null && monitor.probeSchedule().mayBeDue(t));
    heldUpdate = -1;
    if (live == null) {
      live = new NDArray[layout.size()];
    }
    if (!accumulating) {
      return;
    }
    if (flat == null || flatDirty) {
      allocate(anyWeight);
    } else {
      flat.muli(zero);
    }
  }

  private void allocate(NDArray anyWeight) {
    if (manager == null) {
      manager = trainer.getManager().newSubManager(device);
      manager.setName("slingshot");
    }
    if (flat != null) {
      flat.close();
      for (NDArray v : views) {
        v.close();
      }
    }
    int k = layout.size();
    long[] sizes = new long[k];
    long total = 0;
    long[] splits = new long[Math.max(0, k - 1)];
    for (int i = 0; i < k; i++) {
      Shape s = layout.params.get(i).getArray().getShape();
      sizes[i] = s.size();
      total += sizes[i];
      if (i < k - 1) {
        splits[i] = total;
      }
    }
    DataType type =
        anyWeight.getDataType() == DataType.FLOAT64 ? DataType.FLOAT64 : DataType.FLOAT32;
    flat = manager.zeros(new Shape(total), type, device);
    if (zero == null) {
      zero = manager.zeros(new Shape(), type, device);
    }
    NDList parts = k == 1 ? new NDList(flat.reshape(flat.getShape())) : flat.split(splits);
    views = new NDArray[k];
    for (int i = 0; i < k; i++) {
      NDArray part = parts.get(i);
      views[i] = part.reshape(layout.params.get(i).getArray().getShape());
      views[i].attach(manager);
      if (part != views[i]) {
        part.close();
      }
    }
    if (theta0 == null && options.cosineEvery() > 0) {
      theta0 = new NDArray[k];
    }
    flatDirty = false;
  }

  private void finishStep() {
    stepOpen = false;
    long t = ++step;
    if (stepBroken) {
      skippedRecords++;
      return;
    }
    if (accumulating) {
      heldUpdate = t;
    }
    if (pendingLoss == null || pendingLoss.isReleased()) {
      skippedRecords++;
      if (!warnedNoBatch) {
        warnedNoBatch = true;
        LOG.warn(
            "slingshot: no batch loss for step {}, record skipped (no training-batch callback,"
                + " or the batch was closed before the step ended); records need the listener"
                + " that Slingshot.attach adds, which EasyTrain.trainBatch calls",
            t);
      }
      return;
    }
    if (!measuring) {
      publishLoss(t, readLoss());
      return;
    }
    int k = layout.size();
    boolean cosine = options.cosineEvery() > 0 && t % options.cosineEvery() == 0;
    List<NDArray> temps = new ArrayList<>(3 * k + 6);
    NDList stack = new NDList(3 * k + VALUES);
    double[] v;
    try {
      stack.add(pendingLoss);
      NDArray dn = flat.norm();
      temps.add(dn);
      stack.add(dn);
      // ‖u‖∞ = max(max D, −min D): two reductions over the flat buffer, no full-size temporary.
      NDArray hi = flat.max();
      temps.add(hi);
      stack.add(hi);
      NDArray lo = flat.min();
      temps.add(lo);
      stack.add(lo);
      for (int i = 0; i < k; i++) {
        NDArray n = weight(i).norm();
        temps.add(n);
        stack.add(n);
      }
      if (cosine) {
        for (int i = 0; i < k; i++) {
          NDArray th0 = theta0[i] != null ? theta0[i] : weight(i);
          NDArray prod = weight(i).mul(th0);
          temps.add(prod);
          NDArray dot = prod.sum();
          temps.add(dot);
          stack.add(dot);
        }
        for (int i = 0; i < k; i++) {
          NDArray th0 = theta0[i] != null ? theta0[i] : weight(i);
          NDArray n0 = th0.norm();
          temps.add(n0);
          stack.add(n0);
        }
      }
      // Norms of parameters share the buffer's type and device; only the loss may differ.
      DataType type = flat.getDataType();
      if (pendingLoss.getDataType() != type) {
        NDArray c = pendingLoss.toType(type, false);
        temps.add(c);
        stack.set(0, c);
      }
      if (pendingLossOwned ? false : !pendingLoss.getDevice().equals(device)) {
        NDArray c = stack.get(0).toDevice(device, false);
        temps.add(c);
        stack.set(0, c);
      }
      NDArray all = NDArrays.stack(stack);
      temps.add(all);
      v = type == DataType.FLOAT64 ? all.toDoubleArray() : toDouble(all.toFloatArray());
    } finally {
      for (NDArray a : temps) {
        a.close();
      }
    }
    publish(t, v, cosine);
  }

  /**
   * The batch loss as a double: one scalar read. {@code toFloatArray()[0]} rather than {@code
   * getFloat()}: the latter indexes a new scalar array first, which measured 5-20 µs a call against
   * about 1 µs on the CPU, a few percent of a small model's step.
   */
  private double readLoss() {
    NDArray loss = pendingLoss;
    if (loss.getShape().size() != 1) {
      throw new IllegalStateException(
          "the batch loss has shape " + loss.getShape() + "; a scalar was expected");
    }
    DataType type = loss.getDataType();
    if (type == DataType.FLOAT32) {
      return loss.toFloatArray()[0];
    }
    if (type == DataType.FLOAT64) {
      return loss.toDoubleArray()[0];
    }
    try (NDArray c = loss.toType(DataType.FLOAT64, false)) {
      return c.toDoubleArray()[0];
    }
  }

  /** An unmeasured step: the record has the loss only. */
  private void publishLoss(long t, double loss) {
    StepRecord record = enrich(StepRecord.builder(t, loss), t);
    lastRecord = record;
    observe(record, t);
  }

  private NDArray weight(int i) {
    NDArray w = live[i];
    return w != null && !w.isReleased() ? w : layout.params.get(i).getArray();
  }

  private void publish(long t, double[] v, boolean cosine) {
    int k = layout.size();
    double loss = v[0];
    double updateNorm = v[1];
    double updateMaxAbs = Math.max(Math.abs(v[2]), Math.abs(v[3]));
    if (!Double.isFinite(updateNorm)) {
      flatDirty = true;
    }
    double sq = 0;
    for (int i = 0; i < k; i++) {
      sq += v[VALUES + i] * v[VALUES + i];
    }
    double paramNorm = Math.sqrt(sq);
    double ratio = updateNorm / paramNorm;
    Map<String, Double> groups = new LinkedHashMap<>();
    for (Map.Entry<String, int[]> g : layout.groups.entrySet()) {
      double s = 0;
      for (int i : g.getValue()) {
        s += v[VALUES + i] * v[VALUES + i];
      }
      groups.put(g.getKey(), Math.sqrt(s));
    }
    double last = v[VALUES + layout.lastLayer];
    OptionalDouble repr = OptionalDouble.empty();
    OptionalDouble clf = OptionalDouble.empty();
    if (cosine) {
      repr = cosineDistance(v, k, false);
      clf = cosineDistance(v, k, true);
    }
    StepMetrics m =
        new StepMetrics(
            t, loss, updateNorm, ratio, updateMaxAbs, paramNorm, last, groups, repr, clf);
    StepRecord.Builder b =
        StepRecord.builder(t, loss)
            .updateNorm(updateNorm)
            .norm(StepMetrics.LAST_LAYER, last)
            .norm(StepMetrics.PARAMS, paramNorm);
    for (Map.Entry<String, Double> g : groups.entrySet()) {
      b.norm(StepMetrics.GROUP_PREFIX + g.getKey(), g.getValue());
    }
    b.metric(StepMetrics.UPDATE_RATIO, ratio);
    b.metric(StepMetrics.UPDATE_MAX_ABS, updateMaxAbs);
    repr.ifPresent(d -> b.metric(StepMetrics.COSINE_REPRESENTATION, d));
    clf.ifPresent(d -> b.metric(StepMetrics.COSINE_CLASSIFIER, d));
    StepRecord record = enrich(b, t);
    lastMetrics = m;
    lastRecord = record;
    for (Consumer<? super StepMetrics> s : stepSubscribers) {
      try {
        s.accept(m);
      } catch (RuntimeException e) {
        fail("step subscriber " + s, e);
      }
    }
    observe(record, t);
  }

  /** Applies the caller's record enricher, if any, and builds the record. */
  private StepRecord enrich(StepRecord.Builder b, long t) {
    if (options.recordEnricher() != null) {
      options.recordEnricher().accept(b, t);
    }
    return b.build();
  }

  private void observe(StepRecord record, long t) {
    SlingshotMonitor.Observation o = monitor.observe(record);
    if (o.probeDue()) {
      probeDue = t;
    }
    if (o.resetDue()) {
      int n = OptimizerState.reset(delegate);
      resets++;
      StateReset event = new StateReset(t, monitor.resetPolicy().describe(), n);
      resetEvents.add(event);
      LOG.info(
          "slingshot: reset the state of {} after step {} ({}; {} state arrays discarded)",
          delegate.getClass().getSimpleName(),
          t,
          event.reason(),
          n);
      monitor.publish(event);
    }
  }

  private OptionalDouble cosineDistance(double[] v, int k, boolean classifier) {
    double dot = 0;
    double nn = 0;
    double n0 = 0;
    boolean any = false;
    for (int i = 0; i < k; i++) {
      if (layout.classifier[i] == classifier) {
        any = true;
        dot += v[VALUES + k + i];
        nn += v[VALUES + i] * v[VALUES + i];
        n0 += v[VALUES + 2 * k + i] * v[VALUES + 2 * k + i];
      }
    }
    if (!any) {
      return OptionalDouble.empty();
    }
    return OptionalDouble.of(1 - dot / (Math.sqrt(nn) * Math.sqrt(n0)));
  }

  private static double[] toDouble(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  // ---------------------------------------------------------------- events and failures

  private void fail(String where, RuntimeException e) {
    long n = ++failures;
    if (options.failFast()) {
      throw e;
    }
    if (n <= LOGGED_FAILURES) {
      LOG.warn("slingshot diagnostics failed in {} (failure {}); training goes on", where, n, e);
    } else {
      LOG.debug("slingshot diagnostics failed in {} (failure {})", where, n, e);
    }
  }

  // ---------------------------------------------------------------- accessors

  SlingshotMonitor monitor() {
    return monitor;
  }

  /** The last second-order probe's measurement, or null before the first. */
  ProbeMeasurement lastProbe() {
    return lastProbe;
  }

  /** How many second-order probes ran to completion. */
  long probeRuns() {
    return probeRuns;
  }

  void addProbe(ScheduledProbe probe) {
    probes.add(probe);
  }

  void onStep(Consumer<? super StepMetrics> subscriber) {
    stepSubscribers.add(subscriber);
  }

  StepMetrics lastMetrics() {
    return lastMetrics;
  }

  StepRecord lastRecord() {
    return lastRecord;
  }

  long resets() {
    return resets;
  }

  List<StateReset> resetEvents() {
    return List.copyOf(resetEvents);
  }

  long failures() {
    return failures;
  }

  long skippedRecords() {
    return skippedRecords;
  }

  long steps() {
    return step;
  }

  String lastLayerName() {
    return layout == null ? null : layout.lastLayerName();
  }
}
