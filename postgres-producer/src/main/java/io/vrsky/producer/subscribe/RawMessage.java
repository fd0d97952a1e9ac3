package io.vrsky.producer.subscribe;

import java.util.Objects;

/**
 * A delivered JetStream message before decoding: the loop decodes one at a time, so a pull of
 * large chunk messages never holds more than one decoded envelope besides the batch.
 *
 * @param replayId      the {@code Vrsky-Replay} header, or null
 * @param prevCommitLsn the {@code Vrsky-Prev-Commit-Lsn} header as sent, or null
 * @param pendingAfter  messages still waiting in the consumer when this one was delivered
 */
public record RawMessage(long streamSeq, String subject, String replyTo, byte[] data, String replayId, String prevCommitLsn,
                         long pendingAfter) {
    public RawMessage {
        Objects.requireNonNull(data, "data");
    }

    public RawMessage(long streamSeq, String subject, String replyTo, byte[] data, long pendingAfter) {
        this(streamSeq, subject, replyTo, data, null, null, pendingAfter);
    }
}
