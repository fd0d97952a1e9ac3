package io.vrsky.core.nats;

import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.ErrorListener;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.vrsky.core.config.NatsSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Opens the NATS connection both services use: reconnects forever with a growing wait, logs
 * connection events, and counts reconnects. Credentials come from {@link NatsSettings}.
 */
public final class NatsConnector {

    private static final Logger LOG = LoggerFactory.getLogger(NatsConnector.class);

    private final NatsSettings settings;
    private final String connectionName;
    private final AtomicLong reconnects = new AtomicLong();

    public NatsConnector(NatsSettings settings, String connectionName) {
        this.settings = settings;
        this.connectionName = connectionName;
    }

    /** Builds the options; visible for tests that check the settings reach jnats. */
    Options options() throws GeneralSecurityException {
        Options.Builder b = new Options.Builder()
                .servers(settings.url().split(","))
                .connectionName(connectionName)
                .maxReconnects(-1)
                .reconnectWait(Duration.ofMillis(250))
                .reconnectJitter(Duration.ofMillis(100))
                .connectionTimeout(Duration.ofSeconds(5))
                .pingInterval(Duration.ofSeconds(10))
                .reconnectBufferSize(-1)
                .connectionListener(this::onEvent)
                .errorListener(new ErrorListener() {
                    @Override
                    public void errorOccurred(Connection conn, String error) {
                        LOG.warn("NATS error: {}", error);
                    }

                    @Override
                    public void exceptionOccurred(Connection conn, Exception exp) {
                        LOG.warn("NATS exception: {}", exp.toString());
                    }
                });
        return applySecurity(b, settings).build();
    }

    /**
     * Adds the credentials (creds file, else token, else user and password) and TLS of
     * {@code settings} to {@code builder}; shared by every NATS connection the services open.
     */
    public static Options.Builder applySecurity(Options.Builder builder, NatsSettings settings) throws GeneralSecurityException {
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

    private void onEvent(Connection conn, ConnectionListener.Events event) {
        switch (event) {
            case RECONNECTED -> {
                reconnects.incrementAndGet();
                LOG.info("NATS reconnected to {}", NatsSettings.redact(conn.getConnectedUrl()));
            }
            case DISCONNECTED -> LOG.warn("NATS disconnected");
            case CONNECTED -> LOG.info("NATS connected to {}", NatsSettings.redact(conn.getConnectedUrl()));
            case CLOSED -> LOG.info("NATS connection closed");
            default -> LOG.debug("NATS event {}", event);
        }
    }

    /**
     * Connects, waiting for the server if it is not up yet (the first connect retries too).
     *
     * @throws IOException when the connection cannot be set up (bad TLS material, bad creds file)
     */
    public Connection connect() throws IOException, InterruptedException {
        try {
            Options options = new Options.Builder(options()).build();
            return Nats.connectReconnectOnConnect(options);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot set up NATS TLS: " + e.getMessage(), e);
        }
    }

    public long reconnects() {
        return reconnects.get();
    }
}
