package dev.slingshot.examples;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.pytorch.jni.LibUtils;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.cuda.CudaUtils;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The work of {@link DoctorCommand}, kept out of the command class: picocli reflects on every
 * subcommand's fields and methods, and DJL types there would load DJL for every command line (see
 * {@code DetectCommandTest.detectLoadsNoDjlClass}).
 */
final class Doctor {

  /** The TorchScript module of slingshot-djl (in its jar). */
  static final String HVP_RESOURCE = "dev/slingshot/djl/hvp.pt";

  private final PrintWriter out;
  private final String device;
  private final List<String> only;
  private final int matmulSize;
  private final int steps;
  private int passed;
  private final List<String> failed = new ArrayList<>();

  Doctor(PrintWriter out, String device, List<String> only, int matmulSize, int steps) {
    this.out = out;
    this.device = device;
    this.only = only;
    this.matmulSize = matmulSize;
    this.steps = steps;
  }

  /** Runs the report and the checks; the exit code of {@link DoctorCommand}. */
  int run() {
    line("slingshot doctor");
    environment();
    Engine engine;
    long t0 = System.nanoTime();
    try {
      engine = Engine.getEngine("PyTorch");
      line("engine: %s %s (loaded in %d ms)", engine.getEngineName(), engine.getVersion(), ms(t0));
    } catch (Throwable t) { // NOPMD: report whatever the native load throws, errors included
      line("[FAIL] engine: the PyTorch engine did not load after %d ms", ms(t0));
      trace(t);
      loadedLibraries();
      line("summary: engine not loaded");
      out.flush();
      return 2;
    }
    engineInfo(engine);
    Device dev;
    try {
      dev = chooseDevice(engine);
    } catch (IllegalArgumentException e) {
      line("[FAIL] device: %s", e.getMessage());
      out.flush();
      return 1;
    }
    line("device under test: %s", dev);
    out.flush();
    run("tensor", () -> checkTensor(dev));
    run("matmul", () -> checkMatmul(dev, DataType.FLOAT32, 1e-3));
    run("fp16", () -> checkMatmul(dev, DataType.FLOAT16, 5e-3));
    run("bf16", () -> checkMatmul(dev, DataType.BFLOAT16, 3e-2));
    run("backward", () -> checkBackward(dev));
    run("hvp", () -> checkHvp(dev));
    run("mlp", () -> checkMlp(dev));
    // Last: on a libtorch newer than the JNI library's these are the likeliest to end the process
    // ("symbol lookup error": inline code of 2.7.1's headers calls functions newer releases no
    // longer export, e.g. c10::SymInt::sym_ne from at::indexing::Slice, PyObjectSlot's ctor).
    run("set", () -> checkSet(dev));
    run("index", () -> checkIndex(dev));
    loadedLibraries();
    line(
        "summary: %d passed, %d failed%s",
        passed, failed.size(), failed.isEmpty() ? "" : " " + failed);
    out.flush();
    return failed.isEmpty() ? 0 : 1;
  }

  // ---------------------------------------------------------------- report helpers

  private void line(String format, Object... args) {
    out.println(args.length == 0 ? format : String.format(Locale.ROOT, format, args));
    out.flush();
  }

  private void trace(Throwable t) {
    StringWriter sw = new StringWriter();
    t.printStackTrace(new PrintWriter(sw));
    out.print(sw);
    out.flush();
  }

  private static long ms(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  @FunctionalInterface
  private interface Check {
    String run() throws Exception;
  }

  private void run(String name, Check check) {
    boolean named = only != null && only.contains(name);
    if (!named && (only != null || DoctorCommand.OPT_IN.contains(name))) {
      if (only == null) {
        line("[SKIP] %-8s not run unless named in --only (see --help)", name);
      }
      return;
    }
    long t0 = System.nanoTime();
    try {
      String detail = check.run();
      passed++;
      line("[PASS] %-8s %6d ms  %s", name, ms(t0), detail);
    } catch (Throwable t) { // NOPMD: a native failure must not hide the other checks
      failed.add(name);
      line("[FAIL] %-8s %6d ms  %s", name, ms(t0), t);
      trace(t);
    }
  }

  // ---------------------------------------------------------------- environment

  private void environment() {
    line(
        "java: %s %s (%s), %s %s, %d cpus",
        System.getProperty("java.vm.name"),
        System.getProperty("java.version"),
        System.getProperty("java.home"),
        System.getProperty("os.name"),
        System.getProperty("os.arch"),
        Runtime.getRuntime().availableProcessors());
    line("djl: %s", Engine.getDjlVersion());
    for (String name :
        List.of(
            "PYTORCH_LIBRARY_PATH",
            "PYTORCH_FLAVOR",
            "PYTORCH_VERSION",
            "PYTORCH_PRECXX11",
            "PYTORCH_EXTRA_LIBRARY_PATH",
            "DJL_CACHE_DIR",
            "ENGINE_CACHE_DIR",
            "DJL_OFFLINE",
            "LD_LIBRARY_PATH",
            "CUDA_VISIBLE_DEVICES")) {
      String env = System.getenv(name);
      String prop = System.getProperty(name);
      if (env != null || prop != null) {
        line("  %s=%s", name, env != null ? env : prop + " (system property)");
      }
    }
    for (String prop :
        List.of("ai.djl.offline", "ai.djl.pytorch.native_helper", "ai.djl.pytorch.num_threads")) {
      if (System.getProperty(prop) != null) {
        line("  -D%s=%s", prop, System.getProperty(prop));
      }
    }
  }

  private void engineInfo(Engine engine) {
    try {
      String dir = LibUtils.getLibtorchPath();
      line("libtorch dir: %s", dir);
      String v = torchVersionFile(Path.of(dir));
      if (v != null) {
        line("libtorch version (from ../version.py beside it): %s", v);
      }
    } catch (RuntimeException e) {
      line("libtorch dir: unknown (%s)", e);
    }
    Set<String> features = new TreeSet<>();
    try {
      features.addAll(JniUtils.getFeatures());
      line("capabilities: %s", features);
    } catch (Throwable t) { // NOPMD
      line("capabilities: failed: %s", t);
    }
    try {
      line("gpu count (Engine.getGpuCount): %d", engine.getGpuCount());
    } catch (Throwable t) { // NOPMD
      line("gpu count: failed: %s", t);
    }
    try {
      int n = CudaUtils.getGpuCount();
      if (n > 0) {
        line(
            "cuda (CudaUtils, through libcudart): %d gpu(s), runtime %s, compute capability %s",
            n, CudaUtils.getCudaVersionString(), CudaUtils.getComputeCapability(0));
      } else {
        line("cuda (CudaUtils, through libcudart): no gpu seen");
      }
    } catch (Throwable t) { // NOPMD
      line("cuda (CudaUtils): failed: %s", t);
    }
    try {
      line("default device: %s", engine.defaultDevice());
    } catch (Throwable t) { // NOPMD
      line("default device: failed: %s", t);
    }
    loadedLibraries();
  }

  /** {@code __version__} (and the CUDA version) of a pip-installed torch, if {@code dir} is one. */
  static String torchVersionFile(Path libDir) {
    Path parent = libDir.toAbsolutePath().getParent();
    if (parent == null) {
      return null;
    }
    Path file = parent.resolve("version.py");
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try {
      String text = Files.readString(file, StandardCharsets.UTF_8);
      StringBuilder sb = new StringBuilder();
      for (String key : List.of("__version__", "cuda", "git_version")) {
        Matcher m =
            Pattern.compile("(?m)^" + Pattern.quote(key) + "\\s*(?::[^=]*)?=\\s*'?([^'\\n]*)'?")
                .matcher(text);
        if (m.find()) {
          sb.append(sb.length() == 0 ? "" : ", ").append(key).append('=').append(m.group(1));
        }
      }
      return sb.toString();
    } catch (IOException e) {
      return "unreadable: " + e;
    }
  }

  /** The torch, c10, CUDA and DJL shared libraries mapped into this process. */
  private void loadedLibraries() {
    Path maps = Path.of("/proc/self/maps");
    if (!Files.isReadable(maps)) {
      return;
    }
    try {
      Set<String> libs = new LinkedHashSet<>();
      Pattern p =
          Pattern.compile(
              "(/\\S*/(lib(djl_torch|torch|c10|cudart|cublas|cudnn|nvrtc|nccl|nvJitLink|cusparse"
                  + "|gomp|shm)[^/\\s]*\\.so[^/\\s]*))$");
      for (String l : Files.readAllLines(maps, StandardCharsets.UTF_8)) {
        Matcher m = p.matcher(l);
        if (m.find()) {
          libs.add(m.group(1));
        }
      }
      line("loaded native libraries (/proc/self/maps): %d", libs.size());
      for (String l : libs) {
        line("  %s", l);
      }
    } catch (IOException e) {
      line("loaded native libraries: unreadable: %s", e);
    }
  }

  private Device chooseDevice(Engine engine) {
    String d = device.trim().toLowerCase(Locale.ROOT);
    if ("auto".equals(d)) {
      return engine.defaultDevice();
    }
    if ("cpu".equals(d)) {
      return Device.cpu();
    }
    Matcher m = Pattern.compile("gpu(?:[:(]?(\\d+)\\)?)?").matcher(d);
    if (m.matches()) {
      return Device.gpu(m.group(1) == null ? 0 : Integer.parseInt(m.group(1)));
    }
    throw new IllegalArgumentException("unknown --device '" + device + "' (auto, cpu, gpu, gpu:N)");
  }

  // ---------------------------------------------------------------- checks

  private static void require(boolean ok, String format, Object... args) {
    if (!ok) {
      throw new AssertionError(String.format(Locale.ROOT, format, args));
    }
  }

  private static void requireOn(NDArray a, Device dev) {
    require(dev.equals(a.getDevice()), "array is on %s, expected %s", a.getDevice(), dev);
  }

  private String checkTensor(Device dev) {
    try (NDManager m = NDManager.newBaseManager(dev)) {
      NDArray a = m.arange(0f, 10f, 1f, DataType.FLOAT32);
      requireOn(a, dev);
      float s = a.sum().getFloat();
      require(s == 45f, "arange(10).sum() = %s, expected 45", s);
      NDArray back = a.toDevice(Device.cpu(), true).toDevice(dev, true);
      float[] v = back.toFloatArray();
      require(v.length == 10 && v[9] == 9f, "round trip through the cpu changed the values");
      return String.format(Locale.ROOT, "arange(10).sum()=%.0f on %s, round trip ok", s, dev);
    }
  }

  private String checkMatmul(Device dev, DataType dtype, double tolerance) {
    // Half-precision products have no fast kernel on a CPU (seconds per 1024² product).
    int n = dtype != DataType.FLOAT32 && !dev.isGpu() ? Math.min(matmulSize, 256) : matmulSize;
    SplittableRandom r = new SplittableRandom(7);
    float[] a = new float[n * n];
    float[] b = new float[n * n];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) (r.nextDouble() * 2 - 1);
      b[i] = (float) (r.nextDouble() * 2 - 1);
    }
    try (NDManager m = NDManager.newBaseManager(dev)) {
      NDArray x = m.create(a, new Shape(n, n)).toType(dtype, false);
      NDArray y = m.create(b, new Shape(n, n)).toType(dtype, false);
      requireOn(x, dev);
      NDArray c = x.matMul(y);
      require(c.getDataType() == dtype, "product has dtype %s", c.getDataType());
      requireOn(c, dev);
      // Reference: 4 rows in double precision in Java. The whole product is read back: slicing
      // is the "index" check's business (it may end the process on a newer libtorch).
      int rows = Math.min(4, n);
      float[] got = c.toType(DataType.FLOAT32, false).toFloatArray();
      double maxErr = 0;
      double maxRef = 0;
      for (int i = 0; i < rows; i++) {
        for (int j = 0; j < n; j++) {
          double ref = 0;
          for (int k = 0; k < n; k++) {
            ref += (double) a[i * n + k] * b[k * n + j];
          }
          maxErr = Math.max(maxErr, Math.abs(got[i * n + j] - ref));
          maxRef = Math.max(maxRef, Math.abs(ref));
        }
      }
      double rel = maxErr / maxRef;
      require(
          rel <= tolerance,
          "relative error %.3g > %.0g against the Java reference",
          rel,
          tolerance);
      // Timing: the products are queued, one scalar read at the end waits for them.
      int warm = dev.isGpu() ? 3 : 1;
      int reps = dev.isGpu() ? 50 : 2;
      for (int i = 0; i < warm; i++) {
        try (NDManager s = m.newSubManager()) {
          NDArray t = x.matMul(y);
          t.attach(s);
          t.sum().toType(DataType.FLOAT32, false).getFloat();
        }
      }
      long t0 = System.nanoTime();
      try (NDManager s = m.newSubManager()) {
        NDArray acc = null;
        for (int i = 0; i < reps; i++) {
          NDArray t = x.matMul(y);
          t.attach(s);
          acc = t;
        }
        acc.sum().toType(DataType.FLOAT32, false).getFloat();
      }
      double sec = (System.nanoTime() - t0) / 1e9 / reps;
      double tflops = 2.0 * n * n * n / sec / 1e12;
      return String.format(
          Locale.ROOT,
          "%dx%d %s on %s: rel. error %.2g vs Java double reference (tol %.0g); %.3f ms per"
              + " product, %.2f TFLOP/s (%d reps)",
          n,
          n,
          dtype,
          dev,
          rel,
          tolerance,
          sec * 1e3,
          tflops,
          reps);
    }
  }

  private String checkBackward(Device dev) {
    try (NDManager m = NDManager.newBaseManager(dev)) {
      int n = 256;
      SplittableRandom r = new SplittableRandom(11);
      float[] av = new float[n * n];
      float[] xv = new float[n];
      for (int i = 0; i < av.length; i++) {
        av[i] = (float) ((r.nextDouble() * 2 - 1) / Math.sqrt(n));
      }
      for (int i = 0; i < n; i++) {
        xv[i] = (float) (r.nextDouble() * 2 - 1);
      }
      NDArray a = m.create(av, new Shape(n, n));
      NDArray x = m.create(xv, new Shape(n));
      x.setRequiresGradient(true);
      NDArray loss;
      try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
        // L = ½‖A x‖² + Σ x³/3, dL/dx = Aᵀ A x + x²
        NDArray ax = a.matMul(x);
        loss = ax.square().sum().mul(0.5f).add(x.pow(3f).sum().div(3f));
        gc.backward(loss);
      }
      float l = loss.getFloat();
      NDArray g = x.getGradient();
      requireOn(g, dev);
      float[] got = g.toFloatArray();
      g.close();
      double[] ax = new double[n];
      for (int i = 0; i < n; i++) {
        for (int k = 0; k < n; k++) {
          ax[i] += (double) av[i * n + k] * xv[k];
        }
      }
      double maxErr = 0;
      double maxRef = 0;
      for (int j = 0; j < n; j++) {
        double ref = (double) xv[j] * xv[j];
        for (int i = 0; i < n; i++) {
          ref += av[i * n + j] * ax[i];
        }
        maxErr = Math.max(maxErr, Math.abs(got[j] - ref));
        maxRef = Math.max(maxRef, Math.abs(ref));
      }
      double rel = maxErr / maxRef;
      require(rel <= 1e-4, "gradient relative error %.3g > 1e-4", rel);
      require(Float.isFinite(l), "loss %s", l);
      return String.format(
          Locale.ROOT,
          "GradientCollector backward of ½‖Ax‖²+Σx³/3 (n=%d) on %s: loss %.6f read back,"
              + " gradient rel. error %.2g vs Java (AᵀAx + x²)",
          n,
          dev,
          l,
          rel);
    }
  }

  private String checkHvp(Device dev) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (DataType dtype : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
      double tolerance = dtype == DataType.FLOAT64 ? 1e-10 : 1e-4;
      sb.append(sb.length() == 0 ? "" : "; ").append(hvpOnce(dev, dtype, tolerance));
    }
    return "TorchScript " + HVP_RESOURCE + " on ½θᵀAθ+bᵀθ, H·v vs A·v: " + sb;
  }

  private String hvpOnce(Device dev, DataType dtype, double tolerance) throws IOException {
    Shape[] shapes = {new Shape(4, 5), new Shape(7)};
    int n = 27;
    SplittableRandom r = new SplittableRandom(23);
    double[][] a = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j <= i; j++) {
        double v = r.nextDouble() * 2 - 1;
        a[i][j] = v;
        a[j][i] = v;
      }
    }
    double[] flat = new double[n * n];
    for (int i = 0; i < n; i++) {
      System.arraycopy(a[i], 0, flat, i * n, n);
    }
    double[] theta = new double[n];
    double[] bv = new double[n];
    for (int i = 0; i < n; i++) {
      theta[i] = r.nextDouble() * 2 - 1;
      bv[i] = r.nextDouble() * 2 - 1;
    }
    try (NDManager m = NDManager.newBaseManager(dev)) {
      if (!(m instanceof PtNDManager)) {
        throw new IllegalStateException("not a PyTorch manager: " + m.getClass());
      }
      PtSymbolBlock module;
      try (InputStream in =
          DoctorCommand.class.getClassLoader().getResourceAsStream(HVP_RESOURCE)) {
        require(in != null, "resource %s not on the class path (slingshot-djl jar)", HVP_RESOURCE);
        module = JniUtils.loadModule((PtNDManager) m, in, true, false);
      }
      try {
        NDArray am = m.create(flat, new Shape(n, n)).toType(dtype, false);
        NDArray bm = m.create(bv).toType(dtype, false);
        NDList params = new NDList();
        int off = 0;
        for (Shape s : shapes) {
          double[] part = new double[(int) s.size()];
          System.arraycopy(theta, off, part, 0, part.length);
          off += part.length;
          NDArray p = m.create(part, s).toType(dtype, false);
          p.setRequiresGradient(true);
          params.add(p);
        }
        NDArray loss;
        boolean was = JniUtils.isGradMode();
        JniUtils.setGradMode(true);
        try {
          NDList flats = new NDList();
          for (NDArray p : params) {
            flats.add(p.flatten());
          }
          NDArray th = NDArrays.concat(flats);
          Number half = dtype == DataType.FLOAT64 ? (Number) 0.5 : (Number) 0.5f;
          loss = th.dot(am.matMul(th)).mul(half).add(bm.dot(th));
        } finally {
          JniUtils.setGradMode(was);
        }
        require(loss.getDataType() == dtype, "loss has dtype %s", loss.getDataType());
        requireOn(loss, dev);
        double worst = 0;
        int calls = 3;
        for (int call = 0; call < calls; call++) { // several products on one graph
          double[] v = new double[n];
          for (int i = 0; i < n; i++) {
            v[i] = r.nextDouble() * 2 - 1;
          }
          NDList vs = new NDList();
          off = 0;
          for (Shape s : shapes) {
            double[] part = new double[(int) s.size()];
            System.arraycopy(v, off, part, 0, part.length);
            off += part.length;
            vs.add(m.create(part, s).toType(dtype, false));
          }
          NDList inputs = new NDList();
          inputs.add(loss);
          for (int i = 0; i < params.size(); i++) {
            params.get(i).setName("params[]");
            vs.get(i).setName("v[]");
          }
          inputs.addAll(params);
          inputs.addAll(vs);
          NDList hv = IValueUtils.forward(module, inputs, true);
          require(hv.size() == params.size(), "module returned %d tensors", hv.size());
          double[] got = new double[n];
          off = 0;
          for (int i = 0; i < hv.size(); i++) {
            NDArray h = hv.get(i);
            requireOn(h, dev);
            require(h.getShape().equals(shapes[i]), "H·v[%d] has shape %s", i, h.getShape());
            double[] d = h.toType(DataType.FLOAT64, false).toDoubleArray();
            System.arraycopy(d, 0, got, off, d.length);
            off += d.length;
          }
          hv.close();
          double maxErr = 0;
          double maxRef = 0;
          for (int i = 0; i < n; i++) {
            double ref = 0;
            for (int j = 0; j < n; j++) {
              ref += a[i][j] * v[j];
            }
            maxErr = Math.max(maxErr, Math.abs(got[i] - ref));
            maxRef = Math.max(maxRef, Math.abs(ref));
          }
          worst = Math.max(worst, maxErr / maxRef);
        }
        require(worst <= tolerance, "%s: H·v relative error %.3g > %.0g", dtype, worst, tolerance);
        return String.format(
            Locale.ROOT, "%s rel. error %.2g over %d calls on one graph", dtype, worst, calls);
      } finally {
        module.close();
      }
    }
  }

  private String checkSet(Device dev) {
    try (NDManager m = NDManager.newBaseManager(dev)) {
      NDArray a = m.zeros(new Shape(2, 3));
      a.set(new float[] {1, 2, 3, 4, 5, 6}); // torchSet: copies a Java buffer into the array
      requireOn(a, dev);
      float[] v = a.toFloatArray();
      require(Arrays.equals(v, new float[] {1, 2, 3, 4, 5, 6}), "read back %s", Arrays.toString(v));
      return "NDArray.set(float[]) on " + dev + " read back " + Arrays.toString(v);
    }
  }

  private String checkIndex(Device dev) {
    try (NDManager m = NDManager.newBaseManager(dev)) {
      NDArray a = m.arange(0f, 12f, 1f, DataType.FLOAT32).reshape(3, 4);
      float[] slice = a.get("1:3, 1").toFloatArray(); // at::indexing::Slice
      require(Arrays.equals(slice, new float[] {5, 9}), "a[1:3, 1] = %s", Arrays.toString(slice));
      float[] row = a.get(2).toFloatArray();
      require(row.length == 4 && row[0] == 8f && row[3] == 11f, "a[2] wrong");
      a.set(new NDIndex("0, 0:2"), 7f); // index_put_
      float[] v = a.toFloatArray();
      require(v[0] == 7f && v[1] == 7f && v[2] == 2f, "after a[0, 0:2] = 7: %s", v[0]);
      return "a[1:3, 1], a[2] and a[0, 0:2] = 7 on " + dev;
    }
  }

  private String checkMlp(Device dev) {
    int in = 64;
    int batch = 256;
    int classes = 10;
    int warm = 10;
    Engine.getEngine("PyTorch").setRandomSeed(1234);
    try (Model model = Model.newInstance("doctor-mlp", dev)) {
      SequentialBlock block =
          new SequentialBlock()
              .add(Linear.builder().setUnits(256).build())
              .add(Activation.reluBlock())
              .add(Linear.builder().setUnits(256).build())
              .add(Activation.reluBlock())
              .add(Linear.builder().setUnits(classes).build());
      model.setBlock(block);
      DefaultTrainingConfig config =
          new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
              .optOptimizer(Optimizer.adam().optLearningRateTracker(Tracker.fixed(1e-3f)).build())
              .optDevices(new Device[] {dev});
      try (Trainer trainer = model.newTrainer(config)) {
        trainer.initialize(new Shape(batch, in));
        NDManager m = model.getNDManager();
        SplittableRandom r = new SplittableRandom(5);
        float[] xs = new float[batch * in];
        float[] teacher = new float[in * classes];
        for (int i = 0; i < xs.length; i++) {
          xs[i] = (float) (r.nextDouble() * 2 - 1);
        }
        for (int i = 0; i < teacher.length; i++) {
          teacher[i] = (float) (r.nextDouble() * 2 - 1);
        }
        float[] ys = new float[batch];
        for (int s = 0; s < batch; s++) {
          int best = 0;
          double bestScore = Double.NEGATIVE_INFINITY;
          for (int c = 0; c < classes; c++) {
            double score = 0;
            for (int k = 0; k < in; k++) {
              score += xs[s * in + k] * teacher[k * classes + c];
            }
            if (score > bestScore) {
              bestScore = score;
              best = c;
            }
          }
          ys[s] = best;
        }
        NDArray x = m.create(xs, new Shape(batch, in));
        NDArray y = m.create(ys, new Shape(batch));
        requireOn(x, dev);
        float first = step(trainer, x, y, true);
        for (int i = 1; i < warm; i++) {
          step(trainer, x, y, false);
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < steps - 1; i++) {
          step(trainer, x, y, false);
        }
        float last = step(trainer, x, y, true); // the one read-back waits for the queue
        double msPerStep = (System.nanoTime() - t0) / 1e6 / Math.max(1, steps);
        require(Float.isFinite(last) && last < first, "loss did not fall: %s -> %s", first, last);
        for (var p : block.getParameters()) {
          requireOn(p.getValue().getArray(), dev);
        }
        return String.format(
            Locale.ROOT,
            "MLP %d-256-256-%d, batch %d, Adam(1e-3) on %s: loss %.4f -> %.4f after %d steps;"
                + " %.3f ms/step over %d timed steps (%.0f steps/s)",
            in,
            classes,
            batch,
            dev,
            first,
            last,
            warm + steps,
            msPerStep,
            steps,
            1000 / msPerStep);
      }
    }
  }

  /** One training step; reads the loss back only when {@code read} (a device sync on a GPU). */
  private static float step(Trainer trainer, NDArray x, NDArray y, boolean read) {
    try (NDManager s = x.getManager().newSubManager()) {
      NDArray xb = x.duplicate();
      NDArray yb = y.duplicate();
      xb.attach(s);
      yb.attach(s);
      float value = Float.NaN;
      try (GradientCollector gc = trainer.newGradientCollector()) {
        NDList pred = trainer.forward(new NDList(xb));
        NDArray loss = trainer.getLoss().evaluate(new NDList(yb), pred);
        gc.backward(loss);
        if (read) {
          value = loss.getFloat();
        }
      }
      trainer.step();
      return value;
    }
  }
}
