package io.vrsky.consumer.replication;

import io.vrsky.core.model.Lsn;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decides what may be confirmed to PostgreSQL: a position becomes confirmable only once JetStream
 * has acknowledged every message published before it and the message that carries it. Entries
 * are kept in publish order; acknowledgements may arrive in any order.
 *
 * <p>Positions are the end LSNs of whole transactions (a chunk that is not a transaction's last
 * carries none), never the LSN of a change, since several changes can share one LSN.
 *
 * <p>Thread-safe: the replication thread registers, the NATS threads acknowledge.
 */
public final class LsnTracker {

    private static final class Entry {
        final Lsn confirmAfter;
        boolean acked;

        Entry(Lsn confirmAfter, boolean acked) {
            this.confirmAfter = confirmAfter;
            this.acked = acked;
        }
    }

    private final Map<Long, Entry> entries = new LinkedHashMap<>();
    private long nextSeq;
    private Lsn confirmable;

    /** @param start the position already confirmed (the slot's confirmed_flush_lsn) */
    public LsnTracker(Lsn start) {
        this.confirmable = start;
    }

    /**
     * A message is about to be published.
     *
     * @param confirmAfter the position its acknowledgement completes, or null (a chunk that is not the last)
     * @return the sequence to pass to {@link #ack(long)}
     */
    public synchronized long register(Lsn confirmAfter) {
        long seq = nextSeq++;
        entries.put(seq, new Entry(confirmAfter, false));
        return seq;
    }

    /** JetStream acknowledged the message with this sequence. */
    public synchronized void ack(long seq) {
        Entry entry = entries.get(seq);
        if (entry == null) {
            throw new IllegalStateException("no message with sequence " + seq + " is in flight");
        }
        entry.acked = true;
        advance();
    }

    /**
     * A position that needs no message (a transaction filtered out entirely, or the server's WAL end
     * when nothing is in flight). It is confirmable as soon as everything registered before is.
     */
    public synchronized void passThrough(Lsn position) {
        if (entries.isEmpty()) {
            raise(position);
        } else {
            entries.put(nextSeq++, new Entry(position, true));
        }
    }

    private void advance() {
        Iterator<Entry> it = entries.values().iterator();
        while (it.hasNext()) {
            Entry head = it.next();
            if (!head.acked) {
                return;
            }
            if (head.confirmAfter != null) {
                raise(head.confirmAfter);
            }
            it.remove();
        }
    }

    private void raise(Lsn position) {
        if (position.isAfter(confirmable)) {
            confirmable = position;
        }
    }

    /** The highest position that may be confirmed now. */
    public synchronized Lsn confirmable() {
        return confirmable;
    }

    /** Messages (and pass-through positions) not yet confirmable. */
    public synchronized int outstanding() {
        return entries.size();
    }

    public synchronized boolean isIdle() {
        return entries.isEmpty();
    }
}
