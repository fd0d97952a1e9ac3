package io.vrsky.core.nats;

import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import io.vrsky.core.model.Lsn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Objects;

/**
 * Publishes dead letters to the {@code VRSKY_DLQ} stream: the body as given, the reason in
 * headers. Waits for JetStream's ack, so a dead letter is never lost silently.
 *
 * <p>Building a dead letter never fails on its content: every header value is made a valid NATS
 * header value (printable ASCII; other characters written {@code \}{@code uXXXX}, control
 * characters as a space; at most {@value #MAX_HEADER_CHARS} characters), and a body larger than the
 * server accepts is left out (header {@code Vrsky-Body-Omitted}) rather than failing the publish.
 * Only NATS itself (I/O, timeouts, JetStream's API errors) can make {@link #publish} fail.
 *
 * <p>Thread-safe (JetStream is).
 */
public final class DeadLetterPublisher {

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterPublisher.class);
    /** Longest header value written; longer ones are cut and end with {@code ...}. */
    public static final int MAX_HEADER_CHARS = 2000;

    /** Error classes of the wire format. */
    public enum ErrorClass {
        DECODE("decode"), VALIDATION("validation"), SQL("sql"), PUBLISH("publish");

        private final String header;

        ErrorClass(String header) {
            this.header = header;
        }

        public String header() {
            return header;
        }
    }

    /**
     * What went wrong and where the message came from. Null fields are left out of the headers.
     *
     * @param msgId     {@code Nats-Msg-Id}: the same id for the same dead letter, so a re-send is a duplicate
     * @param txId      the dead-lettered transaction's id
     * @param commitLsn the dead-lettered transaction's commit LSN
     */
    public record DeadLetter(byte[] body, String error, ErrorClass errorClass, String sqlState,
                             String sourceSubject, Long sourceSequence, String msgId, Long txId, Lsn commitLsn) {
        public DeadLetter {
            Objects.requireNonNull(body, "body");
            Objects.requireNonNull(error, "error");
            Objects.requireNonNull(errorClass, "errorClass");
        }

        /** Without a msg id or a transaction. */
        public DeadLetter(byte[] body, String error, ErrorClass errorClass, String sqlState, String sourceSubject, Long sourceSequence) {
            this(body, error, errorClass, sqlState, sourceSubject, sourceSequence, null, null, null);
        }

        public DeadLetter withMsgId(String id) {
            return new DeadLetter(body, error, errorClass, sqlState, sourceSubject, sourceSequence, id, txId, commitLsn);
        }

        public DeadLetter withTransaction(Long transactionId, Lsn transactionCommitLsn) {
            return new DeadLetter(body, error, errorClass, sqlState, sourceSubject, sourceSequence, msgId, transactionId,
                    transactionCommitLsn);
        }
    }

    private final JetStream jetStream;
    private final String subject;

    public DeadLetterPublisher(JetStream jetStream, String subject) {
        this.jetStream = jetStream;
        this.subject = subject;
    }

    /** Publishes and waits for JetStream's ack. */
    public void publish(DeadLetter letter) throws IOException, JetStreamApiException {
        Headers headers = headers(letter);
        try {
            jetStream.publish(NatsMessage.builder().subject(subject).headers(headers).data(letter.body()).build());
        } catch (IllegalArgumentException tooLarge) {
            // jnats refuses a payload above the server's max payload before sending it: keep the dead letter, not its body
            LOG.warn("dead letter body of {} bytes left out ({}); source subject {} sequence {}", letter.body().length,
                    tooLarge.getMessage(), letter.sourceSubject(), letter.sourceSequence());
            headers.put(DeadLetterHeaders.BODY_OMITTED, headerValue(letter.body().length + " bytes: " + tooLarge.getMessage()));
            jetStream.publish(NatsMessage.builder().subject(subject).headers(headers).data(new byte[0]).build());
        }
    }

    /** The headers of {@code letter}, every value a valid NATS header value. */
    static Headers headers(DeadLetter letter) {
        Headers headers = new Headers();
        put(headers, DeadLetterHeaders.ERROR, letter.error().isBlank() ? letter.errorClass().header() + " error" : letter.error());
        put(headers, DeadLetterHeaders.ERROR_CLASS, letter.errorClass().header());
        put(headers, DeadLetterHeaders.SQL_STATE, letter.sqlState());
        put(headers, DeadLetterHeaders.SOURCE_SUBJECT, letter.sourceSubject());
        put(headers, DeadLetterHeaders.SOURCE_SEQUENCE, letter.sourceSequence() == null ? null : Long.toString(letter.sourceSequence()));
        put(headers, DeadLetterHeaders.MSG_ID, letter.msgId());
        put(headers, DeadLetterHeaders.TX_ID, letter.txId() == null ? null : Long.toString(letter.txId()));
        put(headers, DeadLetterHeaders.COMMIT_LSN, letter.commitLsn() == null ? null : letter.commitLsn().toString());
        return headers;
    }

    private static void put(Headers headers, String name, String value) {
        if (value != null) {
            String clean = headerValue(value);
            if (!clean.isEmpty()) {
                headers.put(name, clean);
            }
        }
    }

    /**
     * {@code text} as a valid NATS header value: printable ASCII kept, control characters (line
     * breaks included) written as a space, every other character as {@code \}{@code uXXXX}
     * (surrogate pairs as two), trimmed, and at most {@value #MAX_HEADER_CHARS} characters (a cut
     * value ends with {@code ...}; an escape is never cut in half).
     */
    public static String headerValue(String text) {
        StringBuilder b = new StringBuilder(Math.min(text.length() + 16, MAX_HEADER_CHARS + 8));
        int start = 0;
        while (start < text.length() && (text.charAt(start) <= 0x20 || text.charAt(start) == 0x7F)) {
            start++;
        }
        for (int i = start; i < text.length() && b.length() <= MAX_HEADER_CHARS + 8; i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7F) {
                b.append(' ');
            } else if (c > 0x7E) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        String clean = b.toString().trim();
        if (clean.length() <= MAX_HEADER_CHARS) {
            return clean;
        }
        int cut = MAX_HEADER_CHARS - 3;
        int escape = clean.lastIndexOf("\\u", cut - 1);
        if (escape >= 0 && escape + 6 > cut) {
            cut = escape;
        }
        return clean.substring(0, cut) + "...";
    }
}
