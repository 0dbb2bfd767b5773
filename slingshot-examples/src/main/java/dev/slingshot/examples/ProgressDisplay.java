package dev.slingshot.examples;

import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The {@code run} progress bar on stderr: step, minibatch loss, last-layer norm, slingshots so far
 * and the time left. On a terminal it redraws in place; otherwise (a log file) it writes one line
 * every 15 seconds.
 */
final class ProgressDisplay implements ParityTraining.Progress {

  private static final long MESSAGE_EVERY_NS = 250_000_000L;

  private final ProgressBar bar;
  private long lastMessage;

  ProgressDisplay(String task, long steps) {
    boolean tty = System.console() != null;
    ProgressBarBuilder b =
        new ProgressBarBuilder()
            .setTaskName(task)
            .setInitialMax(steps)
            .setStyle(ProgressBarStyle.ASCII)
            .setUpdateIntervalMillis(tty ? 500 : 15_000)
            .setConsumer(
                tty
                    ? new ConsoleProgressBarConsumer(System.err)
                    : new DelegatingProgressBarConsumer(System.err::println, 160));
    this.bar = b.build();
  }

  @Override
  public void update(long step, double loss, double lastLayerNorm, int slingshots) {
    long now = System.nanoTime();
    if (now - lastMessage > MESSAGE_EVERY_NS) {
      lastMessage = now;
      bar.setExtraMessage(
          String.format(
              Locale.ROOT,
              " loss %.2e |W_last| %.3f slingshots %d",
              loss,
              lastLayerNorm,
              slingshots));
    }
    bar.stepTo(step);
  }

  @Override
  public void close() {
    bar.close();
  }
}
