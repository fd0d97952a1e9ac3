package io.vrsky.producer;

import io.vrsky.producer.metrics.ProducerMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Notices when most of what arrives is dead-lettered (a sink constraint every row breaks, a
 * publisher sending garbage) and slows the line down instead of isolating every transaction in a
 * savepoint of its own as fast as it can: after a batch in which at least half of the source
 * transactions, and at least {@value #MIN_DEAD}, were dead-lettered, the next batch waits (1 s,
 * doubling up to 60 s; back to none after a batch with fewer). Says so at WARN at most once a
 * minute and in the gauge {@code vrsky_producer_poison_storm}.
 *
 * <p>Used by the loop thread only.
 */
final class PoisonStorm {

    private static final Logger LOG = LoggerFactory.getLogger(PoisonStorm.class);
    static final int MIN_DEAD = 10;
    static final Duration FIRST_DELAY = Duration.ofSeconds(1);
    static final Duration MAX_DELAY = Duration.ofSeconds(60);
    static final Duration LOG_INTERVAL = Duration.ofMinutes(1);

    private final ProducerMetrics metrics;
    private final Clock clock;
    private int streak;
    private Instant lastWarning;

    PoisonStorm(ProducerMetrics metrics, Clock clock) {
        this.metrics = metrics;
        this.clock = clock;
    }

    /** After a batch: how long to wait before the next one. */
    Duration after(int transactions, int dead) {
        if (dead >= MIN_DEAD && 2L * dead >= transactions) {
            streak++;
            Duration delay = FIRST_DELAY.multipliedBy(1L << Math.min(streak - 1, 6));
            if (delay.compareTo(MAX_DELAY) > 0) {
                delay = MAX_DELAY;
            }
            metrics.poisonStorm(true);
            Instant now = clock.instant();
            if (lastWarning == null || !now.isBefore(lastWarning.plus(LOG_INTERVAL))) {
                lastWarning = now;
                LOG.warn("{} of {} source transactions of the last batch were dead-lettered: slowing down, the next batch waits {} s"
                        + " (doubling up to {} s while this goes on)", dead, transactions, delay.toSeconds(), MAX_DELAY.toSeconds());
            }
            return delay;
        }
        if (streak > 0) {
            streak = 0;
            metrics.poisonStorm(false);
            LOG.info("{} of {} source transactions of the last batch were dead-lettered: back to full speed", dead, transactions);
        }
        return Duration.ZERO;
    }
}
