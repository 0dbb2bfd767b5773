package dev.slingshot.djl.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.slingshot.djl.ProbeQuantity;
import org.junit.jupiter.api.Test;

class OverheadBenchTest {

  /** {@code OverheadBench probes EVERY QUANTITIES} takes the quantities' names in any case. */
  @Test
  void probeQuantitiesAreNamedInAnyCase() {
    assertThat(OverheadBench.quantity("lambda_max")).isEqualTo(ProbeQuantity.LAMBDA_MAX);
    assertThat(OverheadBench.quantity(" Update_Sharpness "))
        .isEqualTo(ProbeQuantity.UPDATE_SHARPNESS);
    assertThatThrownBy(() -> OverheadBench.quantity("lambda"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'lambda'")
        .hasMessageContaining("PRECONDITIONED_SHARPNESS");
  }
}
