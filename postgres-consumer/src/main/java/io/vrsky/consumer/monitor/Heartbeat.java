package io.vrsky.consumer.monitor;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vrsky.core.config.Env;
import io.vrsky.core.pg.PgErrors;
import io.vrsky.core.retry.RateLimitedLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;

/**
 * Writes a non-transactional logical decoding message with the prefix {@value #PREFIX} to the
 * source's WAL, so an idle database still moves the server's WAL end: the replication session
 * passes that position on as confirmed, the slot's {@code confirmed_flush_lsn} advances and the
 * lag stays true. The consumer ignores the message (it never becomes a change).
 *
 * <p>A role that may not write the message (a read-only role, {@code 42501} or {@code 25006})
 * gets one WARN and the heartbeat turns itself off; other failures are retried on the next beat
 * (logged at most once a minute at WARN).
 *
 * <p>Not thread-safe: one scheduler thread calls {@link #beat()}.
 */
public final class Heartbeat {

    private static final Logger LOG = LoggerFactory.getLogger(Heartbeat.class);
    public static final String PREFIX = "vrsky-heartbeat";
    static final String SQL = "SELECT pg_logical_emit_message(false, '" + PREFIX + "', '')";
    /** Insufficient privilege, read-only transaction: retrying does not help. */
    private static final Set<String> REFUSED = Set.of("42501", "25006");

    private final SideConnection connection;
    private final RateLimitedLog failures;
    private final Counter beats;
    private final Duration interval;
    private volatile boolean off;

    public Heartbeat(SideConnection connection, Duration interval, MeterRegistry registry, Clock clock) {
        this.connection = connection;
        this.interval = interval;
        this.failures = new RateLimitedLog(LOG, Duration.ofMinutes(1), clock);
        this.beats = Counter.builder("vrsky.consumer.heartbeats").description("heartbeat messages written to the source's WAL")
                .register(registry);
    }

    /** Writes one heartbeat message, unless turned off. */
    public void beat() {
        if (off) {
            return;
        }
        try (Statement s = connection.get().createStatement()) {
            s.setQueryTimeout(5);
            s.execute(SQL);
            beats.increment();
        } catch (SQLException e) {
            connection.discard();
            String state = PgErrors.sqlState(e);
            if (state != null && REFUSED.contains(state)) {
                off = true;
                LOG.warn("heartbeat turned off: the role may not write pg_logical_emit_message ({}); an idle database will show"
                        + " a growing lag until a change arrives. Grant EXECUTE on pg_logical_emit_message or set"
                        + " POSTGRES_INPUT_HEARTBEAT_INTERVAL=0 to silence this", PgErrors.serverMessage(e));
            } else {
                failures.warn("heartbeat failed, retrying in {}: {}", Env.format(interval), e.getMessage());
            }
        }
    }

    /** Whether a refusal turned the heartbeat off. */
    public boolean isOff() {
        return off;
    }
}
