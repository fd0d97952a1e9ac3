package io.vrsky.core.nats;

import io.nats.client.Nats;
import io.nats.client.Options;
import io.vrsky.core.config.NatsSettings;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;

/**
 * The one base configuration of every NATS connection both services open. A variant is derived
 * from it, never rebuilt by hand, as nats.java intends:
 * <pre>{@code
 * Options base = NatsOptions.base(settings, "postgres-consumer/" + slot);
 * Options noReconnect = new Options.Builder(base).maxReconnects(0).build();
 * }</pre>
 */
public final class NatsOptions {

    /** A connection attempt to one server is given up after this. */
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    private NatsOptions() {
    }

    /** {@link #base(NatsSettings, String, NatsEvents)} with events of its own, on the system clock. */
    public static Options base(NatsSettings settings, String connectionName) throws IOException {
        return base(settings, connectionName, new NatsEvents(settings, Clock.systemUTC()));
    }

    /**
     * The servers of {@code NATS_URL}, the connection name, the credentials (creds file, else
     * token, else user and password) and TLS of {@code settings}; a 5 s connect timeout, a ping
     * every 10 s; reconnecting forever every 250 ms (plus up to 100 ms of jitter) while keeping
     * what is published meanwhile; {@code events} logs the connection's events and tracks outages.
     *
     * @throws IOException when the TLS material cannot be set up
     */
    public static Options base(NatsSettings settings, String connectionName, NatsEvents events) throws IOException {
        Options.Builder b = new Options.Builder()
                .servers(settings.url().split(","))
                .connectionName(connectionName)
                .connectionTimeout(CONNECT_TIMEOUT)
                .pingInterval(Duration.ofSeconds(10))
                .maxReconnects(-1)
                .reconnectWait(Duration.ofMillis(250))
                .reconnectJitter(Duration.ofMillis(100))
                .reconnectBufferSize(-1)
                .connectionListener(events)
                .errorListener(events);
        try {
            return applySecurity(b, settings).build();
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot set up NATS TLS: " + e.getMessage(), e);
        }
    }

    static Options.Builder applySecurity(Options.Builder builder, NatsSettings settings) throws GeneralSecurityException {
        if (settings.credsFile() != null) {
            builder.authHandler(Nats.credentials(settings.credsFile()));
        } else if (settings.token() != null && !settings.token().isEmpty()) {
            builder.token(settings.token().toCharArray());
        } else if (settings.user() != null) {
            builder.userInfo(settings.user(), settings.password());
        }
        if (settings.tls()) {
            builder.secure();
        }
        return builder;
    }
}
