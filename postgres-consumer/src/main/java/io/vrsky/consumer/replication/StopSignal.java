package io.vrsky.consumer.replication;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A request to stop, and waits that end early when it comes.
 *
 * <p>Threads: any thread calls {@link #request()} (the shutdown hook, a test); the replication
 * thread calls {@link #requested()} and {@link #await(Duration)}.
 */
final class StopSignal {

    private final CountDownLatch latch = new CountDownLatch(1);
    private volatile boolean requested;

    void request() {
        requested = true;
        latch.countDown();
    }

    boolean requested() {
        return requested;
    }

    /** Waits {@code d}, or less when a stop is requested meanwhile. */
    void await(Duration d) throws InterruptedException {
        if (!requested) {
            latch.await(d.toNanos(), TimeUnit.NANOSECONDS);
        }
    }
}
