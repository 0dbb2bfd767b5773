package dev.slingshot.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Runs the README's attach snippet exactly as printed (between the markers). */
class ReadmeSnippetTest {

  @Test
  void readmeAttachSnippetRuns() throws Exception {
    try (NDManager manager = NDManager.newBaseManager();
        Model model = Model.newInstance("mlp")) {
      model.setBlock(
          new SequentialBlock()
              .add(Linear.builder().setUnits(16).build())
              .add(Activation::relu)
              .add(Linear.builder().setUnits(2).build()));
      ArrayDataset dataset =
          new ArrayDataset.Builder()
              .setData(manager.randomNormal(new Shape(64, 8)))
              .optLabels(
                  manager.randomInteger(0, 2, new Shape(64), ai.djl.ndarray.types.DataType.FLOAT32))
              .setSampling(16, true)
              .build();

      // README:begin
      DefaultTrainingConfig config =
          new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
              .optOptimizer(Optimizer.adamW().build());
      Slingshot slingshot = Slingshot.attach(config); // the one line
      slingshot.onEvent(event -> System.out.println(event));
      try (Trainer trainer = model.newTrainer(slingshot.config())) {
        trainer.initialize(new Shape(1, 8));
        EasyTrain.fit(trainer, 3, dataset, null);
      }
      System.out.println(slingshot.lastMetrics());
      System.out.println(slingshot.intervals());
      // README:end

      assertThat(slingshot.steps()).isEqualTo(12);
      assertThat(slingshot.lastMetrics().lastLayerNorm()).isPositive();
      assertThat(slingshot.internalFailures()).isZero();
    }
  }

  /** The README shows exactly the code that {@link #readmeAttachSnippetRuns()} runs. */
  @Test
  void readmeShowsTheSnippetThisTestRuns() throws Exception {
    String test =
        Files.readString(Path.of("src/test/java/dev/slingshot/djl/ReadmeSnippetTest.java"));
    String ran =
        test.substring(
            test.indexOf("// README:begin") + "// README:begin".length(),
            test.indexOf("      // README:end"));
    String readme = Files.readString(Path.of("../README.md"));
    int begin = readme.indexOf("<!-- attach:begin -->");
    int end = readme.indexOf("<!-- attach:end -->");
    assertThat(begin).as("README attach markers").isNotNegative();
    String shown = readme.substring(begin, end).replace("```java", "").replace("```", "");
    shown = shown.substring(shown.indexOf('\n') + 1);
    assertThat(normalize(shown)).isEqualTo(normalize(ran));
  }

  private static String normalize(String code) {
    return code.replaceAll("\\s+", " ").trim();
  }
}
