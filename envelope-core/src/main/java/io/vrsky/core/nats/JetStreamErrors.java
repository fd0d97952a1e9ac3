package io.vrsky.core.nats;

import io.nats.client.JetStreamApiException;
import io.nats.client.api.DiscardPolicy;
import io.nats.client.api.StreamConfiguration;
import io.vrsky.core.config.Env;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * JetStream API errors by code (nats-server's {@code server/errors.json}), found anywhere in a
 * cause chain (an async publish's {@code ExecutionException} included).
 *
 * <p>Stateless and thread-safe.
 */
public final class JetStreamErrors {

    /** JSConsumerNotFoundErr: "consumer not found". */
    public static final int CONSUMER_NOT_FOUND = 10014;
    /** JSStorageResourcesExceededErr: "insufficient storage resources available" (the server's or account's storage is full). */
    public static final int STORAGE_EXHAUSTED = 10047;
    /** JSStreamMessageExceedsMaximumErr: "message size exceeds maximum allowed". */
    public static final int MESSAGE_TOO_LARGE = 10054;
    /** JSStreamNotFoundErr: "stream not found". */
    public static final int STREAM_NOT_FOUND = 10059;
    /**
     * JSStreamStoreFailedF: storing a message failed. With discard=new limits, its text says which
     * limit refused it: "maximum messages exceeded", "maximum bytes exceeded", "maximum messages per
     * subject exceeded".
     */
    public static final int STORE_FAILED = 10077;

    private JetStreamErrors() {
    }

    /** The first JetStream API error in the cause chain. */
    public static Optional<JetStreamApiException> apiError(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof JetStreamApiException api) {
                return Optional.of(api);
            }
        }
        return Optional.empty();
    }

    /** Whether the failure is the JetStream API error {@code code}. */
    public static boolean is(Throwable failure, int code) {
        return apiError(failure).map(e -> e.getApiErrorCode() == code).orElse(false);
    }

    /**
     * A publish refused because the stream (or the server's storage) is full: a discard=new limit
     * on messages, bytes or messages per subject, or no storage left. Retrying helps only once a
     * reader made room or an operator raised the limit.
     */
    public static boolean isStreamFull(Throwable failure) {
        return apiError(failure).map(e -> switch (e.getApiErrorCode()) {
            case STORAGE_EXHAUSTED -> true;
            case STORE_FAILED -> {
                String text = String.valueOf(e.getErrorDescription()).toLowerCase(Locale.ROOT);
                yield text.contains("maximum") && text.contains("exceeded");
            }
            default -> false;
        }).orElse(false);
    }

    /** A message larger than the stream's (or server's) maximum message size. */
    public static boolean isMessageTooLarge(Throwable failure) {
        return is(failure, MESSAGE_TOO_LARGE);
    }

    /**
     * For readiness and logs when a publish was refused for lack of room:
     * {@code JetStream stream VRSKY_CDC is full (max bytes 10GB, discard new): maximum bytes exceeded}.
     *
     * @param config the stream's configuration when known (from its StreamInfo), else null
     * @return empty when the failure is not such a refusal
     */
    public static Optional<String> fullStreamProblem(String stream, StreamConfiguration config, Throwable failure) {
        if (!isStreamFull(failure)) {
            return Optional.empty();
        }
        JetStreamApiException e = apiError(failure).orElseThrow();
        String limits = config == null ? "" : " (" + limits(config) + ")";
        if (e.getApiErrorCode() == STORAGE_EXHAUSTED) {
            return Optional.of("JetStream refuses messages of stream " + stream + limits + ": " + e.getErrorDescription()
                    + ": the server's JetStream storage is used up, or smaller than what its streams' byte limits reserve"
                    + " (max_file_store, by default 75% of the disk that was free when it started); free disk, lower"
                    + " NATS_STREAM_MAX_BYTES or other streams' limits, or raise max_file_store");
        }
        return Optional.of("JetStream stream " + stream + " is full" + limits + ": " + e.getErrorDescription()
                + "; it takes new messages again once the reader made room or the limit is raised");
    }

    /** {@code max bytes 10GB, max messages 1000, max age 7d, discard new}, or {@code no limits, discard ...}. */
    public static String limits(StreamConfiguration config) {
        List<String> parts = new ArrayList<>();
        if (config.getMaxBytes() > 0) {
            parts.add("max bytes " + Env.formatSize(config.getMaxBytes()));
        }
        if (config.getMaxMsgs() > 0) {
            parts.add("max messages " + config.getMaxMsgs());
        }
        if (config.getMaxMsgsPerSubject() > 0) {
            parts.add("max messages per subject " + config.getMaxMsgsPerSubject());
        }
        Duration age = config.getMaxAge();
        if (age != null && !age.isZero() && !age.isNegative()) {
            parts.add("max age " + Env.format(age));
        }
        if (parts.isEmpty()) {
            parts.add("no limits");
        }
        parts.add("discard " + (config.getDiscardPolicy() == DiscardPolicy.New ? "new" : "old"));
        return String.join(", ", parts);
    }
}
