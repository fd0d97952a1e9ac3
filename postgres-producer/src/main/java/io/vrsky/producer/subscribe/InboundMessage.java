package io.vrsky.producer.subscribe;

import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.EnvelopeMetadata;

import java.util.Objects;

/**
 * One JetStream message as the producer works with it: where it came from, how to acknowledge
 * it, its original bytes (for the DLQ) and the decoded envelope, or why it could not be decoded.
 *
 * @param replyTo      the JetStream ack subject; null for a message re-read from the stream
 * @param envelope     null when {@code decodeError} is set
 * @param pendingAfter messages still waiting in the consumer when this one was delivered
 */
public record InboundMessage(long streamSeq, String subject, String replyTo, byte[] data, Envelope envelope,
                             String decodeError, long pendingAfter) {

    public InboundMessage {
        Objects.requireNonNull(data, "data");
        if ((envelope == null) == (decodeError == null)) {
            throw new IllegalArgumentException("exactly one of envelope and decodeError must be set");
        }
    }

    /** A part of a source transaction split into several messages (not a lone chunk 0 that is also the last). */
    public boolean isChunkPart() {
        if (envelope == null) {
            return false;
        }
        EnvelopeMetadata m = envelope.metadata();
        return m != null && !(m.chunk() == 0 && m.lastChunk());
    }

    public int changeCount() {
        return envelope == null ? 0 : envelope.changes().size();
    }

    @Override
    public String toString() {
        return "InboundMessage[seq=" + streamSeq + ", subject=" + subject + ", bytes=" + data.length
                + (decodeError != null ? ", decodeError=" + decodeError : "") + "]";
    }
}
