package dev.slingshot.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code slingshot doctor} on this project's CPU-only machines: every default check passes on the
 * CPU, the GPU count is 0, and the opt-in bfloat16 check (which aborts the JVM on DJL 0.35.1's JNI
 * library) is skipped unless named.
 */
class DoctorCommandTest {

  record Result(int exitCode, String out, String err) {}

  static Result doctor(String... args) {
    CommandLine cl = Slingshot.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    String[] all = new String[args.length + 1];
    all[0] = "doctor";
    System.arraycopy(args, 0, all, 1, args.length);
    int code = cl.execute(all);
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void everyDefaultCheckPassesOnTheCpu() {
    Result r = doctor("--device", "auto", "--matmul-size", "64", "--steps", "3");

    assertThat(r.out())
        .as(r.out())
        .contains("djl: 0.35.1")
        .contains("engine: PyTorch 2.7.1")
        .contains("gpu count (Engine.getGpuCount): 0")
        .contains("default device: cpu()")
        .contains("device under test: cpu()")
        .containsPattern("libtorch dir: .*cpu")
        .containsPattern("(?m)^  /\\S*libtorch_cpu\\.so$")
        .contains("[SKIP] bf16")
        .contains("summary: 8 passed, 0 failed");
    for (String check : DoctorCommand.CHECKS) {
      assertThat(r.out()).as(r.out()).containsPattern("(?m)^\\[PASS\\] " + check + " ");
    }
    assertThat(r.out()).doesNotContain("[FAIL]");
    assertThat(r.exitCode()).isZero();
  }

  @Test
  void theHvpCheckComparesWithTheQuadraticsMatrix() {
    Result r = doctor("--device", "cpu", "--only", "hvp");

    assertThat(r.out())
        .as(r.out())
        .containsPattern("\\[PASS\\] hvp .*float32 rel\\. error .* over 3 calls")
        .containsPattern("float64 rel\\. error \\d\\.\\de-1[5-7]")
        .contains("summary: 1 passed, 0 failed")
        .doesNotContain("[SKIP]");
    assertThat(r.exitCode()).isZero();
  }

  @Test
  void aGpuThatIsNotThereIsAFailedCheckNotACrash() {
    Result r = doctor("--device", "gpu", "--only", "tensor,hvp");

    assertThat(r.out())
        .as(r.out())
        .contains("device under test: gpu(0)")
        .containsPattern("\\[FAIL\\] tensor .*")
        .containsPattern("\\[FAIL\\] hvp .*")
        .contains("summary: 0 passed, 2 failed [tensor, hvp]");
    assertThat(r.exitCode()).isEqualTo(1);
  }

  @Test
  void unknownChecksAndDevicesAreRejected() {
    assertThat(doctor("--only", "nonsense").exitCode()).isEqualTo(2);
    Result r = doctor("--device", "tpu", "--only", "tensor");
    assertThat(r.out()).contains("[FAIL] device: unknown --device 'tpu'");
    assertThat(r.exitCode()).isEqualTo(1);
  }

  /** Picocli reflects on every subcommand: the doctor's DJL types must stay in {@link Doctor}. */
  @Test
  void itsHelpLoadsNoDjlClass() throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process p =
        new ProcessBuilder(
                java.toString(),
                "-verbose:class",
                "-cp",
                System.getProperty("java.class.path"),
                Slingshot.class.getName(),
                "doctor",
                "--help")
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(output).isZero();
    assertThat(output).contains(DoctorCommand.class.getName()).contains("--matmul-size");
    assertThat(output.lines().filter(l -> l.contains("ai.djl."))).isEmpty();
  }

  @Test
  void readsTheVersionOfAPipInstalledTorch(@TempDir Path dir) throws IOException {
    Path lib = Files.createDirectories(dir.resolve("torch").resolve("lib"));
    Files.writeString(
        dir.resolve("torch").resolve("version.py"),
        "from typing import Optional\n"
            + "__all__ = ['__version__', 'debug', 'cuda', 'git_version', 'hip']\n"
            + "__version__ = '2.11.0+cu130'\n"
            + "debug = False\n"
            + "cuda: Optional[str] = '13.0'\n"
            + "git_version = 'abc123'\n");

    assertThat(Doctor.torchVersionFile(lib))
        .isEqualTo("__version__=2.11.0+cu130, cuda=13.0, git_version=abc123");
    assertThat(Doctor.torchVersionFile(dir)).isNull();
  }
}
