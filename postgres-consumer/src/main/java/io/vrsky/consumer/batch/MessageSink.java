package io.vrsky.consumer.batch;

import io.vrsky.core.model.Lsn;

/** Takes finished messages, in order. */
public interface MessageSink {

    /** Hands a message over for publishing; may block while too many are in flight. */
    void publish(OutgoingMessage message) throws InterruptedException;

    /**
     * A position that needs no message (a transaction whose changes were all filtered out): it may be
     * confirmed once everything published before it is acknowledged.
     */
    void passThrough(Lsn endLsn);
}
