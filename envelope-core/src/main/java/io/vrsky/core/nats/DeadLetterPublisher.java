package io.vrsky.core.nats;

import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;

import java.io.IOException;
import java.util.Objects;

/**
 * Publishes dead letters to the {@code VRSKY_DLQ} stream: the original bytes as the body, the
 * reason in headers. Waits for JetStream's ack, so a dead letter is never lost silently.
 */
public final class DeadLetterPublisher {

    /** Error classes of DESIGN.md. */
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

    /** What went wrong and where the message came from. Null fields are left out of the headers. */
    public record DeadLetter(byte[] body, String error, ErrorClass errorClass, String sqlState,
                             String sourceSubject, Long sourceSequence) {
        public DeadLetter {
            Objects.requireNonNull(body, "body");
            Objects.requireNonNull(error, "error");
            Objects.requireNonNull(errorClass, "errorClass");
        }
    }

    private final JetStream jetStream;
    private final String subject;

    public DeadLetterPublisher(JetStream jetStream, String subject) {
        this.jetStream = jetStream;
        this.subject = subject;
    }

    public void publish(DeadLetter letter) throws IOException, JetStreamApiException {
        Headers headers = new Headers();
        headers.put(DeadLetterHeaders.ERROR, oneLine(letter.error()));
        headers.put(DeadLetterHeaders.ERROR_CLASS, letter.errorClass().header());
        if (letter.sqlState() != null) {
            headers.put(DeadLetterHeaders.SQL_STATE, letter.sqlState());
        }
        if (letter.sourceSubject() != null) {
            headers.put(DeadLetterHeaders.SOURCE_SUBJECT, letter.sourceSubject());
        }
        if (letter.sourceSequence() != null) {
            headers.put(DeadLetterHeaders.SOURCE_SEQUENCE, Long.toString(letter.sourceSequence()));
        }
        jetStream.publish(NatsMessage.builder().subject(subject).headers(headers).data(letter.body()).build());
    }

    /** Header values may not hold line breaks; long reasons are cut. */
    static String oneLine(String text) {
        String flat = text.replaceAll("[\\r\\n]+", " ").trim();
        return flat.length() > 2000 ? flat.substring(0, 2000) + "..." : flat;
    }
}
