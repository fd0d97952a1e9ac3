package io.vrsky.core.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The NATS settings both services share. {@code password} and {@code token} are secrets and are
 * left out of {@link #toString()}.
 *
 * @param limits the limits of the streams a service creates (not of existing ones)
 */
public record NatsSettings(
        String url,
        String stream,
        String subject,
        String dlqSubject,
        String credsFile,
        String user,
        String password,
        String token,
        boolean tls,
        Duration duplicateWindow,
        StreamLimits limits) {

    public static final String DLQ_STREAM = "VRSKY_DLQ";
    public static final String DLQ_SUBJECTS = "vrsky.dlq.>";

    public NatsSettings {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(dlqSubject, "dlqSubject");
        Objects.requireNonNull(duplicateWindow, "duplicateWindow");
        Objects.requireNonNull(limits, "limits");
    }

    /**
     * Reads NATS_URL, NATS_STREAM, NATS_SUBJECT, NATS_DLQ_SUBJECT and the optional credentials
     * (NATS_CREDS_FILE, NATS_USER, NATS_PASSWORD, NATS_TOKEN, NATS_TLS), NATS_DUPLICATE_WINDOW and the
     * stream limits ({@link StreamLimits#read}).
     */
    public static NatsSettings read(Env env, String defaultSubject, String service) {
        String url = env.checked("NATS_URL", "nats://localhost:4222",
                v -> v.matches("(nats|tls|ws|wss)://.+(,(nats|tls|ws|wss)://.+)*") ? null
                        : "is not a NATS URL: allowed nats://host:port (comma-separated for a cluster)");
        String stream = env.checked("NATS_STREAM", "VRSKY_CDC",
                v -> v.matches("[A-Za-z0-9_-]+") ? null : "is not a stream name: allowed letters, digits, _ and -");
        String subject = env.checked("NATS_SUBJECT", defaultSubject,
                v -> v.matches("[^\\s]+") && !v.startsWith(".") && !v.endsWith(".") ? null
                        : "is not a NATS subject: allowed dot-separated tokens without spaces");
        String dlq = env.checked("NATS_DLQ_SUBJECT", "vrsky.dlq." + service,
                v -> v.startsWith("vrsky.dlq.") && !v.contains("*") && !v.contains(">") ? null
                        : "is not allowed: must start with vrsky.dlq. and have no wildcards");
        Duration window = env.duration("NATS_DUPLICATE_WINDOW", Duration.ofMinutes(2), Duration.ofMinutes(2), Duration.ofDays(7));
        return new NatsSettings(url, stream, subject, dlq,
                env.raw("NATS_CREDS_FILE").orElse(null), env.raw("NATS_USER").orElse(null),
                env.secret("NATS_PASSWORD"), env.secret("NATS_TOKEN"), env.bool("NATS_TLS", false), window,
                StreamLimits.read(env));
    }

    /** {@code NATS at <url>} (credentials redacted): how logs and readiness name the server. */
    public String target() {
        return "NATS at " + redact(url);
    }

    /** {@code url} with any {@code user:password@} replaced by {@code ***@}, for logs. */
    public static String redact(String url) {
        return url == null ? null : url.replaceAll("//[^/@,]*@", "//***@");
    }

    @Override
    public String toString() {
        return "NatsSettings[url=" + redact(url) + ", stream=" + stream + ", subject=" + subject + ", dlqSubject=" + dlqSubject
                + ", credsFile=" + credsFile + ", user=" + user + ", tls=" + tls + ", duplicateWindow=" + Env.format(duplicateWindow) + ", limits=" + limits.describe() + "]";
    }
}
