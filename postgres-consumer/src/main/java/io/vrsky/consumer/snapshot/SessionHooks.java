package io.vrsky.consumer.snapshot;

import io.vrsky.core.model.Lsn;

/**
 * What the snapshot machinery needs from the replication session it runs in (replication thread).
 */
public interface SessionHooks {

    /** Sends the whole transactions waiting in the batcher, so what follows is published after them (commit order). */
    void flushPending() throws InterruptedException;

    /** Confirms what was acknowledged and sends the server a status update when one is due (during long waits). */
    void keepAlive() throws Exception;

    /** Whether a stop was requested. */
    boolean stopRequested();

    /** The slot's consistent point when this session created the slot with an exported snapshot. */
    record Exported(String slot, Lsn consistentPoint, String snapshotName) {
    }
}
