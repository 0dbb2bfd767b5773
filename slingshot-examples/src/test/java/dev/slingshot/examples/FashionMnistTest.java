package dev.slingshot.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {

  private final String saved = System.getProperty(FashionMnist.DIR_PROPERTY);

  @AfterEach
  void restore() {
    if (saved == null) {
      System.clearProperty(FashionMnist.DIR_PROPERTY);
    } else {
      System.setProperty(FashionMnist.DIR_PROPERTY, saved);
    }
  }

  @Test
  void readsTheFirstImagesAndLabelsOfGzippedIdx(@TempDir Path tmp) throws Exception {
    FakeFashionMnist.write(tmp, 30, 20);
    System.setProperty(FashionMnist.DIR_PROPERTY, tmp.toString());
    ClassifierData.Split s = FashionMnist.split(25, 12, false);
    assertThat(s.train().size).isEqualTo(25);
    assertThat(s.train().dim).isEqualTo(784);
    assertThat(s.train().classes).isEqualTo(10);
    assertThat(s.test().size).isEqualTo(12);
    assertThat(s.train().label[13]).isEqualTo(3);
    assertThat(s.train().x[13 * 784 + 5]).isEqualTo(FakeFashionMnist.pixel(13, 5) / 255f);
    assertThat(s.test().x[11 * 784 + 100]).isEqualTo(FakeFashionMnist.pixel(11, 100) / 255f);

    ClassifierData std = FashionMnist.split(25, 12, true).train();
    assertThat(std.x[13 * 784 + 5])
        .isEqualTo((FakeFashionMnist.pixel(13, 5) / 255f - FashionMnist.MEAN) / FashionMnist.STD);
  }

  @Test
  void missingFilesSayHowToInstallThem(@TempDir Path tmp) {
    System.setProperty(FashionMnist.DIR_PROPERTY, tmp.resolve("nowhere").toString());
    assertThatThrownBy(() -> FashionMnist.split(10, 10, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Install Debian's dataset-fashion-mnist")
        .hasMessageContaining(tmp.resolve("nowhere").resolve(FashionMnist.TRAIN_IMAGES).toString())
        .hasMessageContaining(FashionMnist.DEFAULT_DIR);
  }

  @Test
  void runSaysHowToInstallTheDataInsteadOfAStackTrace(@TempDir Path tmp) {
    System.setProperty(FashionMnist.DIR_PROPERTY, tmp.toString());
    RunCommandTest.Outcome o = RunCommandTest.execute("run", "optimizers", "--steps", "5");
    assertThat(o.code()).isEqualTo(2);
    assertThat(o.err())
        .contains("Fashion-MNIST not found")
        .contains("apt-get install dataset-fashion-mnist")
        .doesNotContain("at dev.slingshot");
  }

  @Test
  void refusesMoreImagesThanTheFileHolds(@TempDir Path tmp) throws Exception {
    FakeFashionMnist.write(tmp, 5, 5);
    System.setProperty(FashionMnist.DIR_PROPERTY, tmp.toString());
    assertThatThrownBy(() -> FashionMnist.split(6, 5, false))
        .hasMessageContaining("asked for 6 images");
  }
}
