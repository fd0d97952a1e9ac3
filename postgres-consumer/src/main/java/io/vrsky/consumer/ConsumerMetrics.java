package io.vrsky.consumer;

import io.vrsky.core.metrics.LagTimers;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vrsky.consumer.batch.OutgoingMessage;
import io.vrsky.consumer.batch.TableOp;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.Operation;
import io.vrsky.core.model.TableId;

import java.time.Clock;
import java.time.Duration;
import java.util.Collection;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The consumer's meters (Prometheus names in parentheses):
 * {@code vrsky.consumer.changes.published} (vrsky_consumer_changes_published_total{table,op}),
 * {@code vrsky.consumer.transactions.published}, {@code vrsky.consumer.messages.published},
 * {@code vrsky.consumer.messages.duplicate}, {@code vrsky.consumer.publish.latency}
 * (vrsky_consumer_publish_latency_seconds), {@code vrsky.consumer.confirmed.lsn},
 * {@code vrsky.consumer.replication.lag.bytes}, {@code vrsky.consumer.reconnects{dependency}},
 * {@code vrsky.consumer.dlq}, {@code vrsky.consumer.standby}, {@code vrsky.consumer.publish.lag}
 * (vrsky_consumer_publish_lag_seconds: histogram of source commit time to JetStream's ack).
 * Every meter but the per-table ones exists from the start; the per-table change counters of
 * configured tables too.
 *
 * <p>Thread-safe.
 */
public final class ConsumerMetrics {

    private final MeterRegistry registry;
    private final Map<TableOp, Counter> changes = new ConcurrentHashMap<>();
    private final Counter transactions;
    private final Counter messages;
    private final Counter duplicates;
    private final Timer latency;
    private final Timer publishLag;
    private final Clock clock;
    private final Counter dlq;
    private final Counter reconnectsPostgres;
    private final Counter reconnectsNats;
    private final AtomicLong confirmedLsn = new AtomicLong();
    private final AtomicLong receivedLsn = new AtomicLong();
    private final AtomicLong standby = new AtomicLong();

    public ConsumerMetrics(MeterRegistry registry) {
        this(registry, Clock.systemUTC());
    }

    public ConsumerMetrics(MeterRegistry registry, Clock clock) {
        this.registry = registry;
        this.clock = clock;
        publishLag = LagTimers.register(registry, "vrsky.consumer.publish.lag",
                "time from the source transaction's commit to JetStream's acknowledgement of its message");
        transactions = Counter.builder("vrsky.consumer.transactions.published")
                .description("source transactions whose changes JetStream acknowledged").register(registry);
        messages = Counter.builder("vrsky.consumer.messages.published")
                .description("NATS messages JetStream acknowledged").register(registry);
        duplicates = Counter.builder("vrsky.consumer.messages.duplicate")
                .description("messages JetStream acknowledged as duplicates (re-sent after a restart)").register(registry);
        latency = Timer.builder("vrsky.consumer.publish.latency")
                .description("time from publish to JetStream's acknowledgement").register(registry);
        dlq = Counter.builder("vrsky.consumer.dlq").description("changes sent to the dead-letter subject").register(registry);
        reconnectsPostgres = Counter.builder("vrsky.consumer.reconnects").tag("dependency", "postgres")
                .description("sessions restarted after a failure").register(registry);
        reconnectsNats = Counter.builder("vrsky.consumer.reconnects").tag("dependency", "nats")
                .description("sessions restarted after a failure").register(registry);
        Gauge.builder("vrsky.consumer.confirmed.lsn", confirmedLsn, AtomicLong::doubleValue)
                .description("the LSN last confirmed (flushed) to PostgreSQL").register(registry);
        Gauge.builder("vrsky.consumer.replication.lag.bytes", this, ConsumerMetrics::lagBytes)
                .description("server WAL position last seen minus the confirmed LSN").baseUnit("bytes").register(registry);
        Gauge.builder("vrsky.consumer.standby", standby, AtomicLong::doubleValue)
                .description("1 while another instance holds the replication slot").register(registry);
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** Registers the change counters of {@code tables} x {@code operations} at 0, so they exist before the first change. */
    public void expect(Collection<TableId> tables, Collection<Operation> operations) {
        for (TableId table : tables) {
            for (Operation op : operations) {
                changeCounter(new TableOp(table, op));
            }
        }
    }

    private Counter changeCounter(TableOp tableOp) {
        return changes.computeIfAbsent(tableOp, k -> Counter
                .builder("vrsky.consumer.changes.published")
                .description("row changes JetStream acknowledged")
                .tag("table", k.table().toString()).tag("op", k.op().name())
                .register(registry));
    }

    public void acknowledged(OutgoingMessage.Counted message, long nanos, boolean duplicate) {
        latency.record(nanos, TimeUnit.NANOSECONDS);
        if (message.commitTime() != null) {
            Duration lag = Duration.between(message.commitTime(), clock.instant());
            publishLag.record(lag.isNegative() ? Duration.ZERO : lag);
        }
        messages.increment();
        if (duplicate) {
            duplicates.increment();
        }
        if (message.lastChunk()) {
            transactions.increment(message.transactionCount());
        }
        message.counts().forEach((tableOp, count) -> changeCounter(tableOp).increment(count));
    }

    public void deadLettered() {
        dlq.increment();
    }

    public void reconnect(boolean nats) {
        (nats ? reconnectsNats : reconnectsPostgres).increment();
    }

    public void confirmed(Lsn lsn) {
        confirmedLsn.set(lsn.value());
    }

    public void received(Lsn lsn) {
        receivedLsn.accumulateAndGet(lsn.value(), Math::max);
    }

    public void standby(boolean on) {
        standby.set(on ? 1 : 0);
    }

    private double lagBytes() {
        long received = receivedLsn.get();
        long confirmed = confirmedLsn.get();
        return received > confirmed && confirmed > 0 ? received - confirmed : 0;
    }

    public double changesPublished() {
        return changes.values().stream().mapToDouble(Counter::count).sum();
    }

    public double dlqCount() {
        return dlq.count();
    }
}
