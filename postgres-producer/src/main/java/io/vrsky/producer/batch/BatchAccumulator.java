package io.vrsky.producer.batch;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Collects messages for one sink transaction. The batch is due when it holds
 * {@code maxMessages} messages or {@code maxRows} rows, when {@code flushInterval} has passed
 * since its first message, or at once when nothing more is waiting: the interval is an upper
 * bound on latency, never a wait. When more messages are only reported by the consumer (none
 * pulled yet), the batch waits for them at most {@link #LINGER} (or the interval when shorter):
 * under a steady trickle every message finds another one behind it, and the batch would otherwise
 * grow to full size at the rate the messages arrive. Time comes from the injected clock.
 *
 * <p>Not thread-safe: owned by the loop thread.
 */
public final class BatchAccumulator<T> {

    private final int maxMessages;
    private final long maxRows;
    /** How long a batch waits for messages the consumer reports but that are not pulled yet. */
    public static final Duration LINGER = Duration.ofMillis(10);

    private final Duration flushInterval;
    private final Duration linger;
    private final Clock clock;
    private final List<T> items = new ArrayList<>();
    private long rows;
    private Instant firstAt;

    public BatchAccumulator(int maxMessages, long maxRows, Duration flushInterval, Clock clock) {
        if (maxMessages < 1 || maxRows < 1) {
            throw new IllegalArgumentException("maxMessages and maxRows must be >= 1");
        }
        this.maxMessages = maxMessages;
        this.maxRows = maxRows;
        this.flushInterval = flushInterval;
        this.linger = flushInterval.compareTo(LINGER) < 0 ? flushInterval : LINGER;
        this.clock = clock;
    }

    public void add(T item, int itemRows) {
        if (items.isEmpty()) {
            firstAt = clock.instant();
        }
        items.add(item);
        rows += itemRows;
    }

    public boolean isEmpty() {
        return items.isEmpty();
    }

    public int size() {
        return items.size();
    }

    public long rows() {
        return rows;
    }

    /** How many more messages fit. */
    public int room() {
        return Math.max(0, maxMessages - items.size());
    }

    public boolean isFull() {
        return items.size() >= maxMessages || rows >= maxRows;
    }

    /** Time left before the interval forces a flush; the whole interval when empty, zero when overdue. */
    public Duration untilDeadline() {
        return left(flushInterval);
    }

    /** Time left before the batch stops waiting for messages only the consumer reports; zero when overdue. */
    public Duration untilLingerEnds() {
        return left(linger);
    }

    private Duration left(Duration limit) {
        if (items.isEmpty()) {
            return limit;
        }
        Duration left = Duration.between(clock.instant(), firstAt.plus(limit));
        return left.isNegative() ? Duration.ZERO : left;
    }

    /** Whether (and why) to write the batch now. */
    public FlushReason due(Waiting waiting) {
        if (items.isEmpty()) {
            return FlushReason.NONE;
        }
        if (isFull()) {
            return FlushReason.FULL;
        }
        Instant now = clock.instant();
        if (!now.isBefore(firstAt.plus(flushInterval))) {
            return FlushReason.INTERVAL;
        }
        return switch (waiting) {
            case NOTHING -> FlushReason.IDLE;
            case UPSTREAM -> now.isBefore(firstAt.plus(linger)) ? FlushReason.NONE : FlushReason.LINGER;
            case QUEUED -> FlushReason.NONE;
        };
    }

    /** Takes the batch out, leaving the accumulator empty. */
    public List<T> drain() {
        List<T> batch = List.copyOf(items);
        items.clear();
        rows = 0;
        firstAt = null;
        return batch;
    }
}
