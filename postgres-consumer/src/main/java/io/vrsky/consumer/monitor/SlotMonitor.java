package io.vrsky.consumer.monitor;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vrsky.core.retry.RateLimitedLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads the replication slot's state from {@code pg_replication_slots} (every few seconds, on
 * the {@link SideConnection}) and exports it as gauges:
 * <ul>
 *   <li>{@code vrsky_consumer_slot_retained_wal_bytes}: {@code pg_current_wal_lsn() - restart_lsn},
 *       the WAL the server keeps for the slot</li>
 *   <li>{@code vrsky_consumer_slot_confirmed_lag_bytes}: {@code pg_current_wal_lsn() - confirmed_flush_lsn}</li>
 *   <li>{@code vrsky_consumer_slot_confirmed_flush_lsn}: {@code confirmed_flush_lsn} as a byte position
 *       (exact as long as it is below 2^53, 8 PiB of WAL)</li>
 *   <li>{@code vrsky_consumer_slot_active}: 1 while a session streams from the slot</li>
 *   <li>{@code vrsky_consumer_slot_wal_status{status}}: 1 for the slot's current {@code wal_status}
 *       (reserved, extended, unreserved, lost), 0 for the others</li>
 *   <li>{@code vrsky_consumer_slot_up}: 1 when the last poll found the slot, 0 when it failed or the slot
 *       does not exist</li>
 * </ul>
 * A value not read yet, or of a missing slot, is -1 (0 for the flags).
 *
 * <p>Not thread-safe: one scheduler thread calls {@link #poll()}; the gauges are read by any thread.
 */
public final class SlotMonitor {

    private static final Logger LOG = LoggerFactory.getLogger(SlotMonitor.class);
    static final List<String> WAL_STATUSES = List.of("reserved", "extended", "unreserved", "lost");
    private static final String SQL = "SELECT active, wal_status,"
            + " pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint,"
            + " pg_wal_lsn_diff(confirmed_flush_lsn, '0/0')::bigint,"
            + " pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint"
            + " FROM pg_replication_slots WHERE slot_name = ?";

    private final SideConnection connection;
    private final String slot;
    private final RateLimitedLog failures;
    private final AtomicLong retained = new AtomicLong(-1);
    private final AtomicLong confirmedFlush = new AtomicLong(-1);
    private final AtomicLong confirmedLag = new AtomicLong(-1);
    private final AtomicLong active = new AtomicLong();
    private final AtomicLong up = new AtomicLong();
    private final Map<String, AtomicLong> walStatus = new ConcurrentHashMap<>();

    public SlotMonitor(SideConnection connection, String slot, MeterRegistry registry, Clock clock) {
        this.connection = connection;
        this.slot = slot;
        this.failures = new RateLimitedLog(LOG, Duration.ofMinutes(1), clock);
        Gauge.builder("vrsky.consumer.slot.retained.wal", retained, AtomicLong::doubleValue).baseUnit("bytes")
                .description("WAL the server keeps for the slot: pg_current_wal_lsn() - restart_lsn (-1 until read)").register(registry);
        Gauge.builder("vrsky.consumer.slot.confirmed.lag", confirmedLag, AtomicLong::doubleValue).baseUnit("bytes")
                .description("pg_current_wal_lsn() - confirmed_flush_lsn of the slot (-1 until read)").register(registry);
        Gauge.builder("vrsky.consumer.slot.confirmed.flush.lsn", confirmedFlush, AtomicLong::doubleValue)
                .description("confirmed_flush_lsn of the slot as a byte position (-1 until read)").register(registry);
        Gauge.builder("vrsky.consumer.slot.active", active, AtomicLong::doubleValue)
                .description("1 while a session streams from the slot").register(registry);
        Gauge.builder("vrsky.consumer.slot.up", up, AtomicLong::doubleValue)
                .description("1 when the last poll of pg_replication_slots found the slot").register(registry);
        for (String status : WAL_STATUSES) {
            AtomicLong flag = new AtomicLong();
            walStatus.put(status, flag);
            Gauge.builder("vrsky.consumer.slot.wal.status", flag, AtomicLong::doubleValue).tag("status", status)
                    .description("1 for the slot's current wal_status, 0 for the others").register(registry);
        }
    }

    /** Reads the slot's row once; a failure is logged (at most once a minute at WARN) and marks the slot down. */
    public void poll() {
        try {
            Connection c = connection.get();
            try (PreparedStatement ps = c.prepareStatement(SQL)) {
                ps.setQueryTimeout(5);
                ps.setString(1, slot);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        active.set(rs.getBoolean(1) ? 1 : 0);
                        String status = rs.getString(2);
                        walStatus.forEach((name, flag) -> flag.set(name.equals(status == null ? "" : status.toLowerCase(Locale.ROOT)) ? 1 : 0));
                        retained.set(orMinusOne(rs, 3));
                        confirmedFlush.set(orMinusOne(rs, 4));
                        confirmedLag.set(orMinusOne(rs, 5));
                        up.set(1);
                    } else {
                        missing();
                    }
                }
            }
        } catch (SQLException e) {
            connection.discard();
            missing();
            failures.warn("cannot read the state of slot {} from pg_replication_slots: {}", slot, e.getMessage());
        }
    }

    private void missing() {
        up.set(0);
        active.set(0);
        walStatus.values().forEach(flag -> flag.set(0));
        retained.set(-1);
        confirmedFlush.set(-1);
        confirmedLag.set(-1);
    }

    private static long orMinusOne(ResultSet rs, int column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? -1 : v;
    }

    /** The last confirmed_flush_lsn read, -1 when none. */
    public long confirmedFlushLsn() {
        return confirmedFlush.get();
    }
}
