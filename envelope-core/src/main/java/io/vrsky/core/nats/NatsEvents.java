package io.vrsky.core.nats;

import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.ErrorListener;
import io.vrsky.core.config.NatsSettings;
import io.vrsky.core.retry.DependencyRetry;
import io.vrsky.core.retry.RateLimitedLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Listens to one NATS connection: logs its events naming the server (a lost connection and the
 * failed attempts to get it back at most once per 30 s at WARN, not once per attempt), counts
 * reconnects, and remembers since when the connection is down and the latest error, for
 * {@code /health/ready} and for a service that gives up after DEPENDENCY_RETRY_TIMEOUT.
 *
 * <p>Thread-safe: jnats calls the listener methods on its own threads; the service reads
 * {@link #downFor()} and {@link #problem()} on others.
 */
public final class NatsEvents implements ConnectionListener, ErrorListener {

    private static final Logger LOG = LoggerFactory.getLogger(NatsEvents.class);

    private final String target;
    private final String url;
    private final Clock clock;
    private final Logger log;
    private final RateLimitedLog warnings;
    private final AtomicLong reconnects = new AtomicLong();
    private volatile long downSince = -1;
    private volatile String lastError;
    private volatile boolean closed;
    /** Before the first connect succeeded, failed attempts are the connecting code's to report (its retry logs them). */
    private volatile boolean everConnected;

    public NatsEvents(NatsSettings settings, Clock clock) {
        this(settings, clock, LOG);
    }

    NatsEvents(NatsSettings settings, Clock clock, Logger log) {
        this.target = settings.target();
        this.url = NatsSettings.redact(settings.url());
        this.clock = Objects.requireNonNull(clock, "clock");
        this.log = log;
        this.warnings = new RateLimitedLog(log, DependencyRetry.LOG_INTERVAL, clock);
    }

    @Override
    public void connectionEvent(Connection conn, Events event) {
        if (!everConnected && event != Events.CONNECTED) {
            log.debug("NATS event {} before the first connect", event);
            return;
        }
        switch (event) {
            case CONNECTED -> {
                everConnected = true;
                closed = false;
                downSince = -1;
                log.info("NATS connected to {}", server(conn));
            }
            case DISCONNECTED -> {
                if (downSince < 0) {
                    downSince = clock.millis();
                }
                warnings.warn("{} disconnected; reconnecting (latest error: {})", target, lastError == null ? "none" : lastError);
            }
            case RECONNECTED -> {
                reconnects.incrementAndGet();
                long since = downSince;
                downSince = -1;
                lastError = null;
                log.info("NATS reconnected to {}{}", server(conn),
                        since < 0 ? "" : " after " + Duration.ofMillis(clock.millis() - since).toSeconds() + " s");
            }
            case CLOSED -> {
                closed = true;
                log.info("NATS connection to {} closed", url);
            }
            default -> log.debug("NATS event {} on {}", event, server(conn));
        }
    }

    @Override
    public void errorOccurred(Connection conn, String error) {
        lastError = error;
        warnings.warn("{}: server error: {}", target, error);
    }

    @Override
    public void exceptionOccurred(Connection conn, Exception exp) {
        lastError = exp.getMessage() == null ? exp.getClass().getSimpleName() : exp.getMessage();
        if (downSince >= 0) {
            // a failed reconnect attempt: one line per interval, not one per attempt
            warnings.warn("{} still unreachable for {} s: {}", target, Duration.ofMillis(clock.millis() - downSince).toSeconds(),
                    lastError);
        } else {
            // before the first connect the connecting code reports it; while connected it is usually the
            // cause of the disconnect that follows, which names it
            log.debug("{}: {}", target, exp.toString());
        }
    }

    private String server(Connection conn) {
        String connected = conn == null ? null : conn.getConnectedUrl();
        return connected == null ? url : NatsSettings.redact(connected);
    }

    /** How long the connection has been down, or empty while it is up (or before it ever was). */
    public Optional<Duration> downFor() {
        long since = downSince;
        return since < 0 ? Optional.empty() : Optional.of(Duration.ofMillis(clock.millis() - since));
    }

    /** {@code NATS at <url> unreachable for N s: <latest error>} while down, else empty. */
    public Optional<String> problem() {
        if (closed) {
            return Optional.of(target + ": connection closed");
        }
        return downFor().map(d -> target + " unreachable for " + d.toSeconds() + " s"
                + (lastError == null ? "" : ": " + lastError));
    }

    public long reconnects() {
        return reconnects.get();
    }
}
