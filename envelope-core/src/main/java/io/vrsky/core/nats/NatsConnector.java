package io.vrsky.core.nats;

import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.vrsky.core.config.NatsSettings;
import io.vrsky.core.retry.DependencyRetry;
import io.vrsky.core.service.ExitCode;
import io.vrsky.core.service.ServiceFailure;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * Opens the NATS connection a service keeps for its life (the producer's): the first connect is
 * retried for at most DEPENDENCY_RETRY_TIMEOUT (readiness names the URL meanwhile, warnings are
 * rate-limited) and then gives up with exit 3; once connected, jnats reconnects forever, and
 * {@link #downFor()} tells the service how long the connection has been down so that it can give
 * up after the same timeout.
 *
 * <p>{@link #connect()} is called once, by the starting thread; {@link #problem()},
 * {@link #downFor()} and {@link #reconnects()} from any thread.
 */
public final class NatsConnector {

    private final NatsSettings settings;
    private final String connectionName;
    private final NatsEvents events;
    private final DependencyRetry retry;
    private volatile Connection connection;

    /** With DEPENDENCY_RETRY_TIMEOUT's default. */
    public NatsConnector(NatsSettings settings, String connectionName) {
        this(settings, connectionName, DependencyRetry.DEFAULT_TIMEOUT);
    }

    public NatsConnector(NatsSettings settings, String connectionName, Duration retryTimeout) {
        this(settings, connectionName, new DependencyRetry(settings.target(), retryTimeout), Clock.systemUTC());
    }

    public NatsConnector(NatsSettings settings, String connectionName, DependencyRetry retry, Clock clock) {
        this.settings = settings;
        this.connectionName = connectionName;
        this.retry = retry;
        this.events = new NatsEvents(settings, clock);
    }

    /** Builds the options; visible for tests that check the settings reach jnats. */
    Options options() throws IOException {
        return NatsOptions.base(settings, connectionName, events);
    }

    /**
     * Adds the credentials and TLS of {@code settings} to {@code builder}.
     *
     * @deprecated derive from {@link NatsOptions#base} instead, which includes them
     */
    @Deprecated
    public static Options.Builder applySecurity(Options.Builder builder, NatsSettings settings) throws GeneralSecurityException {
        return NatsOptions.applySecurity(builder, settings);
    }

    /**
     * Connects, retrying while no server of {@code NATS_URL} can be reached.
     *
     * @throws ServiceFailure       exit 3 when none could be reached within the retry timeout
     * @throws InterruptedException when interrupted while waiting
     */
    public Connection connect() throws ServiceFailure, InterruptedException {
        Options options;
        try {
            options = options();
        } catch (IOException e) {
            throw new ServiceFailure(ExitCode.BAD_CONFIG, e.getMessage(), e);
        }
        Connection c = retry.call(() -> Nats.connect(options));
        connection = c;
        return c;
    }

    /** Why NATS is not usable right now (the first connect still retrying, or the connection down), else empty. */
    public Optional<String> problem() {
        Connection c = connection;
        if (c == null) {
            return Optional.of(retry.problem().orElse(settings.target() + ": not connected yet"));
        }
        Optional<String> down = events.problem();
        if (down.isPresent()) {
            return down;
        }
        return c.getStatus() == Connection.Status.CONNECTED ? Optional.empty()
                : Optional.of(settings.target() + ": connection is " + c.getStatus());
    }

    /**
     * How long the established connection has been down (jnats keeps reconnecting meanwhile), or
     * empty while it is up. A service gives up (exit 3) once this passes DEPENDENCY_RETRY_TIMEOUT.
     */
    public Optional<Duration> downFor() {
        return events.downFor();
    }

    public long reconnects() {
        return events.reconnects();
    }
}
