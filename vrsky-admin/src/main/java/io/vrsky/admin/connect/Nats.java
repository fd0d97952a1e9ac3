package io.vrsky.admin.connect;

import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Options;
import io.nats.client.api.StreamInfo;
import io.nats.client.api.StreamInfoOptions;
import io.vrsky.admin.AdminExit;
import io.vrsky.admin.AdminFailure;
import io.vrsky.core.config.NatsSettings;
import io.vrsky.core.nats.JetStreamErrors;
import io.vrsky.core.nats.NatsOptions;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

/**
 * One NATS connection from the services' base options, without reconnecting (a command that
 * cannot reach NATS says so at once), and every failure as one line naming the server without
 * credentials.
 */
public final class Nats implements AutoCloseable {

    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    private final NatsSettings settings;
    private final Connection connection;
    private final JetStreamManagement jsm;
    private final JetStream js;

    private Nats(NatsSettings settings, Connection connection) throws IOException {
        this.settings = settings;
        this.connection = connection;
        this.jsm = connection.jetStreamManagement();
        this.js = connection.jetStream();
    }

    /**
     * @throws AdminFailure exit 3: {@code NATS at nats://h:4222 unreachable: ...}
     */
    public static Nats open(NatsSettings settings) throws AdminFailure {
        try {
            Options base = NatsOptions.base(settings, "vrsky-admin");
            Options options = new Options.Builder(base).maxReconnects(0).connectionTimeout(NatsOptions.CONNECT_TIMEOUT)
                    .build();
            Connection c = io.nats.client.Nats.connect(options);
            return new Nats(settings, c);
        } catch (IOException e) {
            throw new AdminFailure(AdminExit.DEPENDENCY, settings.target() + " unreachable: " + message(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AdminFailure(AdminExit.DEPENDENCY, settings.target() + ": interrupted while connecting");
        }
    }

    public Connection connection() {
        return connection;
    }

    public JetStreamManagement jsm() {
        return jsm;
    }

    public JetStream js() {
        return js;
    }

    public NatsSettings settings() {
        return settings;
    }

    /**
     * The stream's info (with per-subject counts of {@code subjectFilter} when given), or empty when
     * it does not exist.
     */
    public Optional<StreamInfo> stream(String name, String subjectFilter) throws AdminFailure {
        try {
            StreamInfoOptions options = subjectFilter == null ? null : StreamInfoOptions.filterSubjects(subjectFilter);
            return Optional.of(options == null ? jsm.getStreamInfo(name) : jsm.getStreamInfo(name, options));
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() == JetStreamErrors.STREAM_NOT_FOUND) {
                return Optional.empty();
            }
            throw failure("reading stream " + name, e);
        } catch (IOException e) {
            throw failure("reading stream " + name, e);
        }
    }

    /** {@code NATS at nats://h:4222: <doing>: <error>} as a failure with exit 3. */
    public AdminFailure failure(String doing, Exception e) {
        return new AdminFailure(AdminExit.DEPENDENCY, describe(doing, e));
    }

    /** {@code NATS at nats://h:4222: <doing>: <error>}. */
    public String describe(String doing, Exception e) {
        return settings.target() + ": " + doing + ": " + message(e);
    }

    static String message(Throwable e) {
        if (e instanceof JetStreamApiException api) {
            return "JetStream refused: " + api.getErrorDescription() + " (error " + api.getApiErrorCode() + ")";
        }
        if (e instanceof TimeoutException || e.getCause() instanceof TimeoutException) {
            return "no answer within " + REQUEST_TIMEOUT.toSeconds() + " s";
        }
        String text = e.getMessage();
        if (text == null || text.isBlank()) {
            return e.getClass().getSimpleName();
        }
        int end = text.indexOf('\n');
        return NatsSettings.redact(end < 0 ? text : text.substring(0, end)).trim();
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
