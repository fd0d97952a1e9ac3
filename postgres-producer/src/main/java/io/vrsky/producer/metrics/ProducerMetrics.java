package io.vrsky.producer.metrics;

import io.vrsky.core.metrics.LagTimers;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import io.vrsky.core.nats.DeadLetterPublisher;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The producer's meters. Prometheus names (after Micrometer's conversion):
 * <ul>
 *   <li>{@code vrsky_producer_rows_written_total{table,op}}: rows applied and committed</li>
 *   <li>{@code vrsky_producer_batch_messages} / {@code vrsky_producer_batch_rows}: histograms of
 *       messages and rows per sink transaction</li>
 *   <li>{@code vrsky_producer_flush_seconds}: histogram of the time from first message to commit</li>
 *   <li>{@code vrsky_producer_retries_total{operation}}: retried failures</li>
 *   <li>{@code vrsky_producer_dead_letters_total{class}}: messages sent to the DLQ</li>
 *   <li>{@code vrsky_producer_consumer_pending_messages}: messages waiting in the durable consumer</li>
 *   <li>{@code vrsky_producer_skipped_changes_total}: changes skipped as already applied</li>
 *   <li>{@code vrsky_producer_missing_rows_total{table,op}}: updates whose row was missing and was left alone</li>
 *   <li>{@code vrsky_producer_messages_acked_total}</li>
 *   <li>{@code vrsky_producer_schema_pauses_total}: times the line paused on a table or column the sink lacks</li>
 *   <li>{@code vrsky_producer_paused}: 1 while paused on such a schema difference</li>
 *   <li>{@code vrsky_producer_schema_changes_total{table,kind}}: sink table changes schema evolution applied
 *       ({@code add_column}, {@code widen_column}, {@code rename_column}, {@code drop_not_null})</li>
 *   <li>{@code vrsky_producer_gap}: 1 while a source's messages have a gap the producer waits to be filled</li>
 *   <li>{@code vrsky_producer_standby}: 1 while this instance waits for the lease another instance holds</li>
 *   <li>{@code vrsky_producer_poison_storm}: 1 while most transactions of each batch are dead-lettered and the
 *       producer slows down</li>
 *   <li>{@code vrsky_producer_sink_lag_seconds}: histogram of the time from the source transaction's commit to
 *       the sink transaction's commit that applied it</li>
 * </ul>
 * The meters without labels, the dead-letter counters of every class and the rows-written
 * counters of the whitelisted tables exist from the start (at 0).
 *
 * <p>Thread-safe (Micrometer's meters are).
 */
public final class ProducerMetrics {

    private final MeterRegistry registry;
    private final DistributionSummary batchMessages;
    private final DistributionSummary batchRows;
    private final Timer flush;
    private final Counter skipped;
    private final Counter acked;
    private final AtomicLong pending = new AtomicLong();
    private final AtomicLong paused = new AtomicLong();
    private final AtomicLong gap = new AtomicLong();
    private final AtomicLong poisonStorm = new AtomicLong();
    private final AtomicLong standby = new AtomicLong();
    private final Counter schemaPauses;
    private final Timer sinkLag;
    private final Clock clock;

    /** The operations whose retries are counted (registered at 0 from the start). */
    public static final List<String> RETRY_OPERATIONS = List.of("apply batch", "apply chunk", "apply schema change", "fetch",
            "look ahead in the stream", "publish dead letter", "read a message back", "record position");
    /** The operations counted per table. */
    public static final List<String> OPERATIONS = List.of("INSERT", "UPDATE", "DELETE", "TRUNCATE");

    public ProducerMetrics(MeterRegistry registry) {
        this(registry, Clock.systemUTC());
    }

    public ProducerMetrics(MeterRegistry registry, Clock clock) {
        this.registry = registry;
        this.clock = clock;
        this.sinkLag = LagTimers.register(registry, "vrsky.producer.sink.lag",
                "Time from the source transaction's commit to the sink transaction's commit");
        for (DeadLetterPublisher.ErrorClass errorClass : DeadLetterPublisher.ErrorClass.values()) {
            deadLetterCounter(errorClass.header());
        }
        RETRY_OPERATIONS.forEach(this::retryCounter);
        this.batchMessages = DistributionSummary.builder("vrsky.producer.batch.messages")
                .description("Messages per sink transaction").serviceLevelObjectives(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000)
                .register(registry);
        this.batchRows = DistributionSummary.builder("vrsky.producer.batch.rows")
                .description("Rows per sink transaction").serviceLevelObjectives(1, 10, 100, 1000, 5000, 10000, 50000, 100000)
                .register(registry);
        this.flush = Timer.builder("vrsky.producer.flush").description("Time to apply and commit one sink transaction")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofMinutes(1))
                .register(registry);
        this.skipped = Counter.builder("vrsky.producer.skipped.changes").description("Changes skipped as already applied")
                .register(registry);
        this.acked = Counter.builder("vrsky.producer.messages.acked").description("Messages acknowledged to JetStream")
                .register(registry);
        Gauge.builder("vrsky.producer.consumer.pending.messages", pending, AtomicLong::get)
                .description("Messages waiting in the durable consumer (consumer lag)").register(registry);
        this.schemaPauses = Counter.builder("vrsky.producer.schema.pauses")
                .description("Times the producer paused on a schema difference it does not resolve by itself").register(registry);
        Gauge.builder("vrsky.producer.paused", paused, AtomicLong::get)
                .description("1 while paused on a schema difference it does not resolve by itself").register(registry);
        Gauge.builder("vrsky.producer.gap", gap, AtomicLong::get)
                .description("1 while a source's messages have a gap the producer waits to be filled").register(registry);
        Gauge.builder("vrsky.producer.standby", standby, AtomicLong::get)
                .description("1 while this instance waits as a standby for the lease another instance holds").register(registry);
        Gauge.builder("vrsky.producer.poison.storm", poisonStorm, AtomicLong::get)
                .description("1 while most source transactions of each batch are dead-lettered and the producer slows down")
                .register(registry);
    }

    /** This instance waits as a standby ({@code true}) or holds the lease. */
    public void standby(boolean on) {
        standby.set(on ? 1 : 0);
    }

    public long standby() {
        return standby.get();
    }

    /** A schema pause begins ({@code true}) or ends. */
    public void paused(boolean on) {
        if (on && paused.getAndSet(1) == 0) {
            schemaPauses.increment();
        } else if (!on) {
            paused.set(0);
        }
    }

    /** A sink table change that schema evolution applied (counted once its sink transaction committed). */
    public void schemaChange(String table, String kind) {
        Counter.builder("vrsky.producer.schema.changes").description("Sink table changes applied to follow the source's schema")
                .tag("table", table).tag("kind", kind).register(registry).increment();
    }

    public void gap(boolean on) {
        gap.set(on ? 1 : 0);
    }

    public void poisonStorm(boolean on) {
        poisonStorm.set(on ? 1 : 0);
    }

    public void rowsWritten(String table, String op, long rows) {
        if (rows > 0) {
            rowsCounter(table, op).increment(rows);
        }
    }

    /** Registers the rows-written counters of {@code tables} at 0. */
    public void expect(Collection<String> tables) {
        for (String table : tables) {
            OPERATIONS.forEach(op -> rowsCounter(table, op));
        }
    }

    private Counter rowsCounter(String table, String op) {
        return Counter.builder("vrsky.producer.rows.written").description("Rows applied and committed")
                .tag("table", table).tag("op", op).register(registry);
    }

    /** A source transaction committed at {@code commitTime} is now committed in the sink; null (snapshot rows) is skipped. */
    public void sinkCommitted(Instant commitTime) {
        if (commitTime != null) {
            Duration lag = Duration.between(commitTime, clock.instant());
            sinkLag.record(lag.isNegative() ? Duration.ZERO : lag);
        }
    }

    public void missingRows(String table, String op, long rows) {
        if (rows > 0) {
            Counter.builder("vrsky.producer.missing.rows").description("Rows not found by an update, left alone")
                    .tag("table", table).tag("op", op).register(registry).increment(rows);
        }
    }

    public void batch(int messages, long rows, Duration elapsed) {
        batchMessages.record(messages);
        batchRows.record(rows);
        flush.record(elapsed);
    }

    public void retry(String operation) {
        retryCounter(operation).increment();
    }

    private Counter retryCounter(String operation) {
        return Counter.builder("vrsky.producer.retries").description("Retried failures").tag("operation", operation)
                .register(registry);
    }

    public void deadLetter(String errorClass) {
        deadLetterCounter(errorClass).increment();
    }

    private Counter deadLetterCounter(String errorClass) {
        return Counter.builder("vrsky.producer.dead.letters").description("Messages sent to the dead-letter stream")
                .tag("class", errorClass).register(registry);
    }

    public void skipped(long changes) {
        if (changes > 0) {
            skipped.increment(changes);
        }
    }

    public void acked(long messages) {
        acked.increment(messages);
    }

    public void pending(long messages) {
        pending.set(messages);
    }
}
