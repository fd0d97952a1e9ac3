package io.vrsky.consumer.snapshot;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Snapshot meters: {@code vrsky_consumer_snapshot_rows_total{table}} (rows copied and acknowledged),
 * {@code vrsky_consumer_snapshot_tables_remaining} and {@code vrsky_consumer_snapshot_duration_seconds}
 * (of the running or the last snapshot); the gauges exist from the start (0 when idle). Thread-safe.
 */
public final class SnapshotMetrics {

    private final MeterRegistry registry;
    private final Map<String, Counter> rows = new ConcurrentHashMap<>();
    private final AtomicLong remaining = new AtomicLong();
    private final AtomicLong durationMillis = new AtomicLong();

    public SnapshotMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("vrsky.consumer.snapshot.tables.remaining", remaining, AtomicLong::doubleValue)
                .description("tables the running snapshot still has to copy").register(registry);
        Gauge.builder("vrsky.consumer.snapshot.duration.seconds", durationMillis, m -> m.get() / 1000.0)
                .description("how long the running (or the last) snapshot took so far").register(registry);
    }

    public void rows(String table, long n) {
        rows.computeIfAbsent(table, t -> Counter.builder("vrsky.consumer.snapshot.rows").tag("table", t)
                .description("rows copied by snapshots and acknowledged by JetStream").register(registry)).increment(n);
    }

    void remaining(long tables) {
        remaining.set(tables);
    }

    void duration(long millis) {
        durationMillis.set(millis);
    }
}
