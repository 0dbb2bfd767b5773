package dev.slingshot.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class SettingsTest {

  @Test
  void paritySetsTheAppendixA6Defaults() {
    Settings s = Experiment.PARITY.defaults();
    assertThat(s.getInt("n")).isEqualTo(50);
    assertThat(s.getInt("k")).isEqualTo(3);
    assertThat(s.getInt("train_size")).isEqualTo(1000);
    assertThat(s.getInt("test_size")).isEqualTo(8000);
    assertThat(s.getIntList("hidden")).containsExactly(256, 256);
    assertThat(s.getDouble("lr")).isEqualTo(0.004);
    assertThat(s.getDouble("eps")).isEqualTo(1e-8);
    assertThat(s.getInt("batch")).isEqualTo(32);
    assertThat(s.getString("optimizer")).isEqualTo("adam");
  }

  @Test
  void setOverridesInOrderAndKeepsTheRest() {
    Settings s = Experiment.PARITY.defaults().with(List.of("eps=1e-6", "lr=0.002", "lr=0.003"));
    assertThat(s.getDouble("eps")).isEqualTo(1e-6);
    assertThat(s.getDouble("lr")).isEqualTo(0.003);
    assertThat(s.getInt("n")).isEqualTo(50);
  }

  @Test
  void outOfRangeValuesAreRefused() {
    Settings s = Experiment.PARITY_HINGE.defaults();
    assertThatThrownBy(() -> s.with(List.of("beta2=1"))).hasMessageContaining("beta2");
    assertThatThrownBy(() -> s.with(List.of("hidden=0"))).hasMessageContaining("hidden");
    assertThatThrownBy(() -> Experiment.PARITY.validate(s.with(List.of("k=41"))))
        .hasMessageContaining("k=41 must not exceed n=40");
  }

  @Test
  void parityLabelsAreTheParityOfTheFirstKCoordinates() {
    ParityData d = ParityData.split(10, 3, 200, 50, 7).train();
    for (int i = 0; i < d.size; i++) {
      float p = d.x[i * 10] * d.x[i * 10 + 1] * d.x[i * 10 + 2];
      assertThat(d.sign[i]).isEqualTo(p);
      assertThat(d.label[i]).isEqualTo(p > 0 ? 1L : 0L);
    }
    ParityData again = ParityData.split(10, 3, 200, 50, 7).train();
    assertThat(again.x).isEqualTo(d.x);
  }

  @Test
  void logTicksLabelDecadesAndNormScale() {
    assertThat(RunPlots.logTick(1e-8)).isEqualTo("1e-8");
    assertThat(RunPlots.logTick(0.01)).isEqualTo("0.01");
    assertThat(RunPlots.logTick(2)).isEqualTo("2");
    assertThat(RunPlots.logTick(3e-5)).isEmpty();
  }
}
