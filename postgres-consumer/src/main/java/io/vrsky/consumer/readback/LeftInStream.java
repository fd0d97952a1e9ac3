package io.vrsky.consumer.readback;

import io.vrsky.core.model.Lsn;

import java.util.Optional;

/**
 * What a slot's earlier sessions left in the stream, as a session resuming from the slot's
 * confirmed position needs it.
 *
 * @param unfinished      a transaction whose chunks were published only in part (the newest message
 *                        is a chunk that is not the last); the session goes on after them
 * @param prevCommitLsn   the commit LSN of the newest stored message below the confirmed position:
 *                        the transaction published before the first one the session sends
 *                        ({@code Vrsky-Prev-Commit-Lsn}); null when unknown
 * @param newestCommitLsn the commit LSN of this slot's newest stored message; transactions up to it
 *                        may be in the stream already; null when there is none
 */
public record LeftInStream(Optional<PublishedChunks> unfinished, Lsn prevCommitLsn, Lsn newestCommitLsn) {

    public static final LeftInStream NOTHING = new LeftInStream(Optional.empty(), null, null);

    public LeftInStream {
        unfinished = unfinished == null ? Optional.empty() : unfinished;
    }
}
