package io.vrsky.producer.subscribe;

import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.EnvelopeMetadata;
import io.vrsky.core.model.Lsn;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One JetStream message as the producer works with it: where it came from, how to acknowledge
 * it, its original bytes (for the DLQ), the decoded envelope (or why it could not be decoded) and
 * the headers the producer acts on.
 *
 * @param replyTo       the JetStream ack subject; null for a message re-read from the stream
 * @param envelope      null when {@code decodeError} is set
 * @param replayId      {@code Vrsky-Replay}: the message was published back to be applied once more
 *                      under this id (checked by {@link #validReplayId}); null for ordinary messages
 * @param prevCommitLsn {@code Vrsky-Prev-Commit-Lsn}: the commit LSN of the source transaction
 *                      published before this message's first one; null when absent or unreadable
 * @param pendingAfter  messages still waiting in the consumer when this one was delivered
 */
public record InboundMessage(long streamSeq, String subject, String replyTo, byte[] data, Envelope envelope,
                             String decodeError, String replayId, Lsn prevCommitLsn, long pendingAfter) {

    /** The prefix of a replay's key in the applied-position table. */
    public static final String REPLAY_KEY_PREFIX = "replay:";
    private static final Pattern REPLAY_ID = Pattern.compile("[A-Za-z0-9._:-]{1,200}");

    public InboundMessage {
        Objects.requireNonNull(data, "data");
        if ((envelope == null) == (decodeError == null)) {
            throw new IllegalArgumentException("exactly one of envelope and decodeError must be set");
        }
    }

    /** A message without the headers the producer acts on. */
    public InboundMessage(long streamSeq, String subject, String replyTo, byte[] data, Envelope envelope, String decodeError,
                          long pendingAfter) {
        this(streamSeq, subject, replyTo, data, envelope, decodeError, null, null, pendingAfter);
    }

    /** The same message, acknowledged through {@code ackSubject}. */
    public InboundMessage withReplyTo(String ackSubject) {
        return new InboundMessage(streamSeq, subject, ackSubject, data, envelope, decodeError, replayId, prevCommitLsn, pendingAfter);
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

    public boolean isReplay() {
        return replayId != null;
    }

    /** Whether the replay id is 1 to 200 of {@code [A-Za-z0-9._:-]}. */
    public boolean validReplayId() {
        return replayId != null && REPLAY_ID.matcher(replayId).matches();
    }

    /**
     * Under which key the applied position of this message's transactions is kept: the envelope's
     * source, {@code replay:<id>} for a replay (so it is applied once per replay id, whatever the
     * source's position), or for a message of snapshot rows {@code <source>#snap:<snapshot id>:<table>}
     * (its chunk number is the position); null when not tracked (no source, or not decoded).
     */
    public String ledgerKey() {
        if (replayId != null) {
            return REPLAY_KEY_PREFIX + replayId;
        }
        if (envelope == null || envelope.source() == null) {
            return null;
        }
        EnvelopeMetadata.Snapshot snapshot = snapshot();
        return snapshot == null ? envelope.source() : envelope.source() + "#snap:" + snapshot.id() + ":" + snapshot.table();
    }

    /** The snapshot part of a message of snapshot rows (READ changes), or null for every other message. */
    public EnvelopeMetadata.Snapshot snapshot() {
        return envelope == null || envelope.metadata() == null ? null : envelope.metadata().snapshot();
    }

    @Override
    public String toString() {
        return "InboundMessage[seq=" + streamSeq + ", subject=" + subject + ", bytes=" + data.length
                + (replayId != null ? ", replay=" + replayId : "") + (decodeError != null ? ", decodeError=" + decodeError : "") + "]";
    }
}
