package io.vrsky.core.retry;

import java.time.Duration;

/** Waits; the real one sleeps interruptibly, tests inject one that records and returns. */
@FunctionalInterface
public interface Sleeper {
    void sleep(Duration duration) throws InterruptedException;

    Sleeper SYSTEM = d -> Thread.sleep(d.toMillis(), (int) (d.toNanos() % 1_000_000));
}
