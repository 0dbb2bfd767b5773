package dev.slingshot.examples;

import ai.djl.engine.Engine;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.slingshot.core.RunLog;
import dev.slingshot.core.SlingshotDetector;
import dev.slingshot.core.SlingshotEvent;
import dev.slingshot.core.SlingshotMonitor;
import dev.slingshot.core.StepRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * One modular-arithmetic training run written to a run directory ({@code config.json}, {@code
 * metrics.jsonl}, {@code events.jsonl}): the entry point of the long runs of issue 5 until the
 * {@code slingshot run modular} experiment wraps {@link ModularTraining}.
 *
 * <pre>
 * java -Dai.djl.pytorch.num_threads=2 -cp 'slingshot-examples/target/slingshot-examples.jar:slingshot-examples/target/lib/*' \
 *   dev.slingshot.examples.ModularRun --op div --eps 1e-8 --steps 20000 --out runs/div-eps1e-8
 * </pre>
 */
@Command(
    name = "modular-run",
    mixinStandardHelpOptions = true,
    description =
        "Train the paper's transformer on one algorithmic dataset (Thilak et al. App. B).")
final class ModularRun implements Callable<Integer> {

  @Option(names = "--op", description = "operation: ${COMPLETION-CANDIDATES}", defaultValue = "div")
  String op;

  @Option(names = "--p", description = "prime modulus (ignored by s5_*)", defaultValue = "97")
  int modulus;

  @Option(names = "--fraction", description = "training fraction, 0.3-0.8", defaultValue = "0.5")
  double fraction;

  @Option(names = "--seed", defaultValue = "0")
  long seed;

  @Option(names = "--batch", defaultValue = "512")
  int batch;

  @Option(names = "--optimizer", description = "adam, adamw or sgd", defaultValue = "adam")
  String optimizer;

  @Option(names = "--lr", defaultValue = "1e-3")
  float lr;

  @Option(
      names = "--eps",
      description = "Adam epsilon (DJL semantics), 1e-8..1e-4",
      defaultValue = "1e-8")
  float eps;

  @Option(names = "--wd", description = "weight decay (adamw, sgd)", defaultValue = "0")
  float wd;

  @Option(names = "--momentum", description = "SGD momentum", defaultValue = "0.9")
  float momentum;

  @Option(names = "--steps", defaultValue = "20000")
  long steps;

  @Option(names = "--eval-every", defaultValue = "100")
  int evalEvery;

  @Option(names = "--feature-every", description = "0 = off", defaultValue = "100")
  int featureEvery;

  @Option(names = "--norm", description = "post or pre LayerNorm", defaultValue = "post")
  String norm;

  @Option(names = "--temperature", description = "normalised classifier tau (App. C.2)")
  Double temperature;

  @Option(names = "--progress-every", defaultValue = "500")
  int progressEvery;

  @Option(names = "--out", required = true, description = "run directory")
  Path out;

  public static void main(String[] args) {
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    System.exit(new CommandLine(new ModularRun()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    ModularTraining.Config config = config();
    Files.createDirectories(out);
    SlingshotMonitor monitor = SlingshotMonitor.builder().rule(new SlingshotDetector()).build();
    AtomicLong slingshots = new AtomicLong();
    monitor.onEvent(
        e -> {
          if (e instanceof SlingshotDetector.IntervalStarted s && !s.beforeFit()) {
            slingshots.incrementAndGet();
          }
        });
    try (ModularTraining training = new ModularTraining(config);
        RunLog log = RunLog.attach(monitor, out)) {
      writeConfig(config, training);
      Instant start = Instant.now();
      long[] lastPrint = {System.nanoTime(), 0};
      monitor.onRecord(
          r -> {
            if (r.step() % progressEvery == 0 || r.step() == 20 || r.step() == config.steps()) {
              long now = System.nanoTime();
              double ms = (now - lastPrint[0]) / 1e6 / (r.step() - lastPrint[1]);
              lastPrint[0] = now;
              lastPrint[1] = r.step();
              progress(r, ms, config.steps(), slingshots.get());
            }
          });
      training.train(config.steps(), monitor, (SlingshotEvent e) -> log.event(e));
      System.out.printf(
          Locale.ROOT,
          "done: %d steps in %s, %d slingshot intervals after the fit, run directory %s%n",
          training.step(),
          Duration.between(start, Instant.now()).withNanos(0),
          slingshots.get(),
          out);
    }
    return 0;
  }

  ModularTraining.Config config() {
    ModularTraining.OptimizerKind kind =
        ModularTraining.OptimizerKind.valueOf(optimizer.toUpperCase(Locale.ROOT));
    return ModularTraining.Config.paper()
        .withOperation(ModularArithmetic.Operation.parse(op), modulus)
        .withSplit(fraction, seed)
        .withOptimizer(kind, lr, eps, wd)
        .withMomentum(momentum)
        .withSchedule(steps, batch, evalEvery, featureEvery)
        .withModel(
            DecoderLayer.Norm.valueOf(norm.toUpperCase(Locale.ROOT)),
            temperature == null ? Double.NaN : temperature,
            128,
            4,
            2);
  }

  private static void progress(StepRecord r, double msPerStep, long steps, long slingshots) {
    Duration eta = Duration.ofMillis((long) (msPerStep * (steps - r.step())));
    System.out.printf(
        Locale.ROOT,
        "step %d loss %.3g norm %.2f%s %.1f ms/step, ETA %s, slingshots %d%n",
        r.step(),
        r.trainLoss(),
        r.norm(StepMeasurement.CLASSIFIER_NORM).orElse(Double.NaN),
        r.testAccuracy().isPresent()
            ? String.format(
                Locale.ROOT,
                " train acc %.3f val acc %.3f",
                r.trainAccuracy().getAsDouble(),
                r.testAccuracy().getAsDouble())
            : "",
        msPerStep,
        eta.withNanos(0),
        slingshots);
    System.out.flush();
  }

  private void writeConfig(ModularTraining.Config config, ModularTraining training)
      throws java.io.IOException {
    Map<String, Object> m = new LinkedHashMap<>(config.describe());
    m.put("train_size", training.split().train().size());
    m.put("validation_size", training.split().validation().size());
    m.put("engine", Engine.getInstance().getEngineName());
    m.put("engine_version", Engine.getInstance().getVersion());
    m.put("djl_version", Engine.getDjlVersion());
    m.put("device", training.trainer().getDevices()[0].toString());
    m.put("threads", System.getProperty("ai.djl.pytorch.num_threads", "default"));
    m.put("java", System.getProperty("java.version"));
    m.put("started", Instant.now().toString());
    new ObjectMapper()
        .enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(out.resolve("config.json").toFile(), m);
  }
}
