package io.vrsky.admin.dlq;

import io.nats.client.impl.Headers;
import io.vrsky.core.nats.DeadLetterHeaders;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One message of the VRSKY_DLQ stream.
 *
 * @param headers every header as stored (values are printable ASCII; see {@link HeaderText})
 * @param body    empty when read headers only
 */
public record DeadLetter(long seq, String subject, Instant time, Map<String, List<String>> headers, byte[] body) {

    public DeadLetter {
        Objects.requireNonNull(subject, "subject");
        headers = headers == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(headers));
        body = body == null ? new byte[0] : body;
    }

    static Map<String, List<String>> copy(Headers h) {
        Map<String, List<String>> result = new LinkedHashMap<>();
        if (h != null) {
            h.entrySet().forEach(e -> result.put(e.getKey(), List.copyOf(e.getValue())));
        }
        return result;
    }

    public String header(String name) {
        for (Map.Entry<String, List<String>> e : headers.entrySet()) {
            if (e.getKey().equalsIgnoreCase(name) && !e.getValue().isEmpty()) {
                return e.getValue().get(0);
            }
        }
        return null;
    }

    /** {@code Vrsky-Error} with its escapes turned back into characters. */
    public String error() {
        return HeaderText.unescape(header(DeadLetterHeaders.ERROR));
    }

    public String errorClass() {
        return header(DeadLetterHeaders.ERROR_CLASS);
    }

    public String sqlState() {
        return header(DeadLetterHeaders.SQL_STATE);
    }

    public String txId() {
        return header(DeadLetterHeaders.TX_ID);
    }

    public String commitLsn() {
        return header(DeadLetterHeaders.COMMIT_LSN);
    }

    public String sourceSubject() {
        return header(DeadLetterHeaders.SOURCE_SUBJECT);
    }

    public String sourceSequence() {
        return header(DeadLetterHeaders.SOURCE_SEQUENCE);
    }

    public String msgId() {
        return header(DeadLetterHeaders.MSG_ID);
    }

    /** Set when the services left the body out (too large for one message). */
    public String bodyOmitted() {
        return header(DeadLetterHeaders.BODY_OMITTED);
    }

    /**
     * For a producer's dead letter in several parts: the id its parts share
     * ({@code dlq:<durable>:<source seq>:<commit lsn>}), and {@link #part()} its place. Null when
     * the msg id is not a producer's.
     */
    public String groupId() {
        String id = msgId();
        if (id == null || !id.startsWith("dlq:")) {
            return null;
        }
        String[] parts = id.split(":", -1);
        return parts.length == 4 || parts.length == 5 ? String.join(":", parts[0], parts[1], parts[2], parts[3]) : null;
    }

    /** The part number in a producer's msg id ({@code ...:<part>} after the first part), 0 otherwise. */
    public int part() {
        String id = msgId();
        if (groupId() == null) {
            return 0;
        }
        String[] parts = id.split(":", -1);
        try {
            return parts.length == 5 ? Integer.parseInt(parts[4]) : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
