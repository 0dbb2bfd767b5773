package dev.slingshot.core;

import java.util.Objects;

/**
 * An adapter reset the optimizer state (Adam's moments and step count, or whatever state the
 * optimizer keeps) after the record of {@code step}, so the next update equals a fresh optimizer's
 * first update: the intervention of the k-sparse parity study (its Fig. 10), executed because a
 * {@link StateResetPolicy} asked for it.
 *
 * @param step the step whose record made the policy ask; the reset takes effect before update
 *     {@code step + 1}
 * @param reason the policy's {@linkplain StateResetPolicy#describe() description}
 * @param stateTensors how many state tensors were discarded (0 for a stateless optimizer)
 */
public record StateReset(long step, String reason, int stateTensors) implements SlingshotEvent {

  public StateReset {
    Objects.requireNonNull(reason, "reason");
    if (stateTensors < 0) {
      throw new IllegalArgumentException("state tensor count must be >= 0, was " + stateTensors);
    }
  }

  @Override
  public String type() {
    return "state_reset";
  }
}
