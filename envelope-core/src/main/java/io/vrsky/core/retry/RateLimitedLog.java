package io.vrsky.core.retry;

import org.slf4j.Logger;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * Writes a repeated warning at most once per interval: the first line at once, later ones only
 * when the interval has passed since the last line written; the ones in between go to DEBUG, so
 * nothing is lost for whoever turns DEBUG on. {@link #reset()} lets the next line through at once
 * (after a recovery, say).
 *
 * <p>Thread-safe: NATS's listener threads and a service's own thread may share one.
 */
public final class RateLimitedLog {

    private final Logger log;
    private final Duration interval;
    private final Clock clock;
    private long lastWritten = Long.MIN_VALUE;
    private long suppressed;

    public RateLimitedLog(Logger log, Duration interval, Clock clock) {
        this.log = Objects.requireNonNull(log, "log");
        this.interval = Objects.requireNonNull(interval, "interval");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Whether a line may be written at its level now; counts it as written when so, else as
     * suppressed.
     */
    public synchronized boolean permits() {
        long now = clock.millis();
        if (lastWritten == Long.MIN_VALUE || now - lastWritten >= interval.toMillis()) {
            lastWritten = now;
            suppressed = 0;
            return true;
        }
        suppressed++;
        return false;
    }

    /** Lines held back since the last one written. */
    public synchronized long suppressed() {
        return suppressed;
    }

    /** At WARN when {@link #permits()}, else at DEBUG. */
    public void warn(String format, Object... arguments) {
        if (permits()) {
            log.warn(format, arguments);
        } else {
            log.debug(format, arguments);
        }
    }

    /** At ERROR when {@link #permits()}, else at DEBUG. */
    public void error(String format, Object... arguments) {
        if (permits()) {
            log.error(format, arguments);
        } else {
            log.debug(format, arguments);
        }
    }

    /** The next line is written at once. */
    public synchronized void reset() {
        lastWritten = Long.MIN_VALUE;
        suppressed = 0;
    }
}
