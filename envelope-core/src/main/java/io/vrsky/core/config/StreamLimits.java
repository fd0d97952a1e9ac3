package io.vrsky.core.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The limits a service gives the streams it creates (the CDC stream and the dead-letter stream):
 * {@code NATS_STREAM_MAX_AGE} (unset = no limit), {@code NATS_STREAM_MAX_BYTES} (unset = no limit)
 * and {@code NATS_STREAM_DISCARD} ({@code new}, the default: a full stream refuses new messages and
 * keeps every unread one; {@code old}: NATS deletes the oldest, read or not). Streams that exist
 * already keep their own limits. {@code NATS_STREAM_REPLICAS} (1..5, default 1) is the number of
 * servers of a NATS cluster that keep a copy of each stream (and key-value bucket) a service
 * creates; an existing one with fewer is reported, not changed.
 *
 * @param maxAge   {@link Duration#ZERO} for no limit
 * @param maxBytes {@code -1} for no limit
 * @param replicas 1..5
 */
public record StreamLimits(Duration maxAge, long maxBytes, Discard discard, int replicas) {

    /** The most replicas JetStream allows. */
    public static final int MAX_REPLICAS = 5;

    /** What a full stream does. */
    public enum Discard {
        /** Refuse new messages: nothing unread is ever deleted. */
        NEW,
        /** Delete the oldest messages, read or not. */
        OLD;

        public String value() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** No limits, discard new. */
    public static final StreamLimits NONE = new StreamLimits(Duration.ZERO, -1, Discard.NEW);

    /** One replica. */
    public StreamLimits(Duration maxAge, long maxBytes, Discard discard) {
        this(maxAge, maxBytes, discard, 1);
    }

    public StreamLimits {
        if (replicas < 1 || replicas > MAX_REPLICAS) {
            throw new IllegalArgumentException("replicas must be 1.." + MAX_REPLICAS + ", was " + replicas);
        }
        Objects.requireNonNull(maxAge, "maxAge");
        Objects.requireNonNull(discard, "discard");
        if (maxAge.isNegative()) {
            throw new IllegalArgumentException("maxAge must not be negative, was " + maxAge);
        }
        if (maxBytes == 0 || maxBytes < -1) {
            throw new IllegalArgumentException("maxBytes must be -1 (no limit) or positive, was " + maxBytes);
        }
    }

    /**
     * Reads NATS_STREAM_MAX_AGE (1m..3650d), NATS_STREAM_MAX_BYTES (1MB or more), NATS_STREAM_DISCARD
     * (new | old) and NATS_STREAM_REPLICAS (1..5).
     */
    public static StreamLimits read(Env env) {
        Duration maxAge = env.raw("NATS_STREAM_MAX_AGE").isEmpty() ? Duration.ZERO
                : env.duration("NATS_STREAM_MAX_AGE", Duration.ZERO, Duration.ofMinutes(1), Duration.ofDays(3650));
        long maxBytes = env.byteSize("NATS_STREAM_MAX_BYTES", 1L << 20, Long.MAX_VALUE).orElse(-1);
        String discard = env.checked("NATS_STREAM_DISCARD", "new",
                v -> v.equalsIgnoreCase("new") || v.equalsIgnoreCase("old") ? null : "is not allowed: allowed new | old");
        int replicas = env.intInRange("NATS_STREAM_REPLICAS", 1, 1, MAX_REPLICAS);
        return new StreamLimits(maxAge, maxBytes, "old".equalsIgnoreCase(discard) ? Discard.OLD : Discard.NEW, replicas);
    }

    public boolean hasMaxAge() {
        return !maxAge.isZero();
    }

    public boolean hasMaxBytes() {
        return maxBytes > 0;
    }

    /** {@code max age 7d, max bytes 10GB, discard new}; {@code no limits, discard new, replicas 3} (replicas only when more than one). */
    public String describe() {
        List<String> parts = new ArrayList<>();
        if (hasMaxAge()) {
            parts.add("max age " + Env.format(maxAge));
        }
        if (hasMaxBytes()) {
            parts.add("max bytes " + Env.formatSize(maxBytes));
        }
        if (parts.isEmpty()) {
            parts.add("no limits");
        }
        parts.add("discard " + discard.value());
        if (replicas > 1) {
            parts.add("replicas " + replicas);
        }
        return String.join(", ", parts);
    }
}
