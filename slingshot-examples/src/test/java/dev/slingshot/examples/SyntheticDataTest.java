package dev.slingshot.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** App. A.9.1's data: 8 balanced classes at the vertices of a cube, the rest noise. */
class SyntheticDataTest {

  @Test
  void classesSitAtTheCubeVerticesWithStandardNormalNoise() {
    ClassifierData d = SyntheticData.split(8000, 10, 16, 3, 1.0, 5).train();
    assertThat(d.classes).isEqualTo(8);
    double[][] mean = new double[8][16];
    int[] count = new int[8];
    double noiseSq = 0;
    for (int i = 0; i < d.size; i++) {
      int c = (int) d.label[i];
      count[c]++;
      for (int j = 0; j < 16; j++) {
        mean[c][j] += d.x[i * 16 + j];
        if (j >= 3) {
          noiseSq += d.x[i * 16 + j] * d.x[i * 16 + j];
        }
      }
    }
    for (int c = 0; c < 8; c++) {
      assertThat(count[c]).isEqualTo(1000);
      for (int j = 0; j < 16; j++) {
        double expected = j < 3 ? (((c >> j) & 1) == 1 ? 1 : -1) : 0;
        assertThat(mean[c][j] / count[c])
            .as("class %d dim %d", c, j)
            .isCloseTo(expected, within(0.12));
      }
    }
    assertThat(noiseSq / (8000.0 * 13)).isCloseTo(1.0, within(0.03));
  }

  @Test
  void theSameSeedGivesTheSameDataAndTheValidationSetDiffers() {
    ClassifierData.Split a = SyntheticData.split(64, 64, 128, 3, 1.0, 9);
    ClassifierData.Split b = SyntheticData.split(64, 64, 128, 3, 1.0, 9);
    assertThat(a.train().x).isEqualTo(b.train().x);
    assertThat(a.test().label).isEqualTo(b.test().label);
    assertThat(a.train().x).isNotEqualTo(a.test().x);
  }
}
