package io.vrsky.consumer.publish;

import io.vrsky.core.model.Lsn;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Decides what may be confirmed to PostgreSQL: a position becomes confirmable only once JetStream
 * has acknowledged every message published before it and the message that carries it. Entries
 * are kept in publish order; acknowledgements may arrive in any order.
 *
 * <p>Positions are the end LSNs of whole transactions (a chunk that is not a transaction's last
 * carries none), never the LSN of a change, since several changes can share one LSN. A message
 * that is never acknowledged (its publish failed) holds back every position after it for good:
 * the tracker belongs to one session, and the next session starts a new one from the slot's
 * confirmed position.
 *
 * <p>Threads: the replication thread calls {@link #register}, {@link #passThrough},
 * {@link #confirmable()} and {@link #isIdle()}; NATS threads call {@link #ack} as acks complete.
 * Every method is synchronized.
 */
final class LsnTracker {

    private static final class Entry {
        Lsn confirmAfter;
        boolean acked;
        /** A position that needed no message (nothing to wait for but what is before it). */
        final boolean passThrough;

        Entry(Lsn confirmAfter, boolean acked, boolean passThrough) {
            this.confirmAfter = confirmAfter;
            this.acked = acked;
            this.passThrough = passThrough;
        }
    }

    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private final Map<Long, Entry> inFlight = new HashMap<>();
    private long nextSeq;
    private Lsn confirmable;

    /** @param start the position already confirmed (the slot's confirmed_flush_lsn) */
    LsnTracker(Lsn start) {
        this.confirmable = start;
    }

    /**
     * A message is about to be published.
     *
     * @param confirmAfter the position its acknowledgement completes, or null (a chunk that is not the last)
     * @return the sequence to pass to {@link #ack(long)}
     */
    synchronized long register(Lsn confirmAfter) {
        long seq = nextSeq++;
        Entry entry = new Entry(confirmAfter, false, false);
        entries.addLast(entry);
        inFlight.put(seq, entry);
        return seq;
    }

    /** JetStream acknowledged the message with this sequence. */
    synchronized void ack(long seq) {
        Entry entry = inFlight.remove(seq);
        if (entry == null) {
            throw new IllegalStateException("no message with sequence " + seq + " is in flight");
        }
        entry.acked = true;
        advance();
    }

    /**
     * A position that needs no message (a transaction filtered out entirely, or the server's WAL end
     * when nothing is held). It is confirmable as soon as everything registered before it is.
     * Consecutive pass-through positions behind the same messages are kept as one.
     */
    synchronized void passThrough(Lsn position) {
        if (entries.isEmpty()) {
            raise(position);
            return;
        }
        Entry last = entries.peekLast();
        if (last.passThrough) {
            if (position.isAfter(last.confirmAfter)) {
                last.confirmAfter = position;
            }
        } else {
            entries.addLast(new Entry(position, true, true));
        }
    }

    private void advance() {
        while (!entries.isEmpty() && entries.peekFirst().acked) {
            Entry head = entries.pollFirst();
            if (head.confirmAfter != null) {
                raise(head.confirmAfter);
            }
        }
    }

    private void raise(Lsn position) {
        if (position.isAfter(confirmable)) {
            confirmable = position;
        }
    }

    /** The highest position that may be confirmed now. */
    synchronized Lsn confirmable() {
        return confirmable;
    }

    /** Messages (and pass-through positions) not yet confirmable. */
    synchronized int outstanding() {
        return entries.size();
    }

    /** Whether every message registered was acknowledged (and every position is confirmable). */
    synchronized boolean isIdle() {
        return entries.isEmpty();
    }
}
