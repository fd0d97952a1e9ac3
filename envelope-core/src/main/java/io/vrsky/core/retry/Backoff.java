package io.vrsky.core.retry;

import java.time.Duration;
import java.util.Objects;

/**
 * Exponential backoff with full-range jitter: attempt {@code n} (1-based) waits
 * {@code min(cap, initial * multiplier^(n-1))}, scaled down by up to {@code jitter} of itself.
 *
 * @param maxAttempts attempts in all, including the first; {@code 0} means retry forever
 */
public record Backoff(Duration initial, Duration cap, double multiplier, double jitter, int maxAttempts) {

    public Backoff {
        Objects.requireNonNull(initial, "initial");
        Objects.requireNonNull(cap, "cap");
        if (initial.isNegative() || cap.compareTo(initial) < 0) {
            throw new IllegalArgumentException("need 0 <= initial <= cap, got " + initial + " and " + cap);
        }
        if (multiplier < 1.0) {
            throw new IllegalArgumentException("multiplier must be >= 1, got " + multiplier);
        }
        if (jitter < 0.0 || jitter > 1.0) {
            throw new IllegalArgumentException("jitter must be in [0, 1], got " + jitter);
        }
        if (maxAttempts < 0) {
            throw new IllegalArgumentException("maxAttempts must be >= 0, got " + maxAttempts);
        }
    }

    /** 100 ms doubling to 30 s, 20% jitter, forever: for reconnecting to a dependency. */
    public static Backoff reconnect() {
        return new Backoff(Duration.ofMillis(100), Duration.ofSeconds(30), 2.0, 0.2, 0);
    }

    /**
     * The wait before retry number {@code attempt} (the first retry is 1).
     *
     * @param random a value in [0, 1) from the caller's random source
     */
    public Duration delay(int attempt, double random) {
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt must be >= 1, got " + attempt);
        }
        double base = initial.toNanos() * Math.pow(multiplier, attempt - 1);
        double capped = Math.min(base, (double) cap.toNanos());
        double jittered = capped * (1.0 - jitter * random);
        return Duration.ofNanos((long) jittered);
    }

    public boolean attemptsLeft(int attemptsMade) {
        return maxAttempts == 0 || attemptsMade < maxAttempts;
    }
}
