package dev.slingshot.examples;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code slingshot doctor}: checks the DJL / PyTorch set-up this process runs on and prints what it
 * found: DJL and engine versions, which libtorch and JNI library were loaded (read back from {@code
 * /proc/self/maps}), the GPU count, the default device; then, on the chosen device, a tensor round
 * trip, a matrix product against a Java reference (float32 and float16), a backward through a
 * {@code GradientCollector}, the TorchScript Hessian-vector product of slingshot-djl on a quadratic
 * ({@code H·v = A·v}), a timed MLP trained with Adam, and last {@code NDArray.set} and slicing (the
 * likeliest to end the process on a libtorch newer than DJL's JNI library).
 *
 * <p>Each check runs in its own try/catch and prints the full exception, so one failure does not
 * hide the others. Exit code: 0 when every check passed, 1 when one failed, 2 when the engine did
 * not load. Works on a CPU-only machine (gpu count 0, checks on the CPU). See {@code scripts/gpu/}.
 */
@Command(
    name = "doctor",
    mixinStandardHelpOptions = true,
    description =
        "Check the DJL/PyTorch set-up: versions, loaded libtorch, GPU count; then a tensor, a"
            + " matmul, a backward, the TorchScript HVP and an Adam-trained MLP on the device.")
final class DoctorCommand implements Callable<Integer> {

  /** The checks run by default, in the order they run. */
  static final List<String> CHECKS =
      List.of("tensor", "matmul", "fp16", "backward", "hvp", "mlp", "set", "index");

  /**
   * Checks run only when named in {@code --only}: DJL 0.35.1's JNI has no bfloat16 in its dtype
   * table ({@code GetScalarTypeFromDType} ends in a bare {@code throw;}), so converting to {@code
   * DataType.BFLOAT16} calls {@code std::terminate} and aborts the JVM. Only a JNI rebuilt with the
   * bfloat16 cases ({@code scripts/gpu/build-jni.sh}) can run it.
   */
  static final List<String> OPT_IN = List.of("bf16");

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--device",
      defaultValue = "auto",
      description =
          "auto (the engine's default device), cpu, gpu or gpu:N (default: ${DEFAULT-VALUE}).")
  String device;

  @Option(
      names = "--only",
      split = ",",
      paramLabel = "CHECK",
      description =
          "Run only these checks: tensor, matmul, fp16, backward, hvp, mlp, set, index; and bf16,"
              + " which runs only when named (it aborts the JVM on DJL 0.35.1's own JNI library).")
  List<String> only;

  @Option(
      names = "--matmul-size",
      defaultValue = "1024",
      description = "n of the n×n matrix product (default: ${DEFAULT-VALUE}).")
  int matmulSize;

  @Option(
      names = "--steps",
      defaultValue = "100",
      description = "Timed Adam steps of the MLP (default: ${DEFAULT-VALUE}).")
  int steps;

  @Override
  public Integer call() {
    if (only != null) {
      for (String c : only) {
        if (!CHECKS.contains(c) && !OPT_IN.contains(c)) {
          throw new picocli.CommandLine.ParameterException(
              spec.commandLine(), "unknown check '" + c + "', known: " + CHECKS + " " + OPT_IN);
        }
      }
    }
    // No DJL type in this class's fields or signatures (picocli reflects on them): Doctor has them.
    return new Doctor(spec.commandLine().getOut(), device, only, matmulSize, steps).run();
  }
}
