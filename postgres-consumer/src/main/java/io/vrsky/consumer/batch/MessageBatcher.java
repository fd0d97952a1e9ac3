package io.vrsky.consumer.batch;

import io.vrsky.consumer.encode.EncodedChange;
import io.vrsky.consumer.readback.LeftInStream;
import io.vrsky.consumer.readback.PublishedChunks;
import io.vrsky.consumer.tx.TransactionSink;
import io.vrsky.consumer.tx.TxInfo;
import io.vrsky.core.model.Lsn;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * Packs transactions into messages.
 *
 * <ul>
 *   <li>A transaction of at most {@code batchSize} changes (and {@code maxBytes} bytes) is kept
 *       whole. Whole transactions are packed into one pending message while more keep arriving;
 *       the pending message goes out when the next transaction would not fit, when it is full,
 *       when {@link #flushIfDue()} finds it older than {@code batchTimeout}, or at once when
 *       {@link #flush()} is called because nothing more is waiting to be read.</li>
 *   <li>A larger transaction goes out as consecutive chunks, each emitted as soon as it is full,
 *       so a transaction is never held whole. A chunk is the longest run of the transaction's
 *       next changes that fits both limits; the boundaries depend only on the transaction, so a
 *       restart re-sends identical chunks (same {@code Nats-Msg-Id}). A transaction an earlier
 *       session left partly published ({@link #resume}) goes on after the chunks already in the
 *       stream: their changes are not sent again, whatever the limits are now. The last chunk
 *       always holds at least one change and carries the confirm position.</li>
 *   <li>A change larger than {@code maxBytes} never reaches the batcher: the assembler puts a
 *       placeholder in its place.</li>
 *   <li>Each message names the commit LSN of the last transaction put in a message before it
 *       ({@link OutgoingMessage#prevCommitLsn()}; the chunks of a transaction all name the one
 *       before the transaction), starting from what {@link #resume} says the stream holds.</li>
 *   <li>After a restart, transactions up to the newest one the stream may already hold go out one
 *       per message. A message's id names its last transaction, so a message packed differently
 *       than before could get the id of a stored message holding other transactions, and
 *       JetStream would drop it as a duplicate; a message of one transaction can only get the id of
 *       a stored message that holds that transaction too.</li>
 * </ul>
 *
 * <p>Used by the replication thread only; not thread-safe.
 */
public final class MessageBatcher implements TransactionSink {

    private final int batchSize;
    private final long batchTimeoutMillis;
    private final Clock clock;
    private final MessageSink out;
    private final long maxBytes;
    /** The chunks an earlier session published of a transaction it did not finish; null when none. */
    private PublishedChunks resume;
    /** Changes of the transaction being read that are in the stream already (a resumed one). */
    private long skip;
    /** The first chunk this session sends of the transaction being read: 0, or the next one of a resumed one. */
    private int firstChunk;
    /** The commit LSN of the last transaction put in a message; null when unknown. */
    private Lsn lastPublished;
    /** Transactions committed up to this LSN may be in the stream already: one per message. Null when none. */
    private Lsn storedUpTo;
    /** {@code lastPublished} when the first chunk of the transaction being read went out. */
    private Lsn chunksPrev;

    // the transaction being read
    private TxInfo tx;
    private final List<byte[]> txChanges = new ArrayList<>();
    /** The compact layout's table entries the transaction's changes since its last chunk name (each once). */
    private final List<byte[]> txTables = new ArrayList<>();
    private long txBytes;
    private final ChangeCounts txCounts = new ChangeCounts();
    private int chunk;

    // whole transactions waiting to go out together
    private final List<byte[]> pending = new ArrayList<>();
    private final List<byte[]> pendingTables = new ArrayList<>();
    private final List<TxInfo> pendingTxs = new ArrayList<>();
    private long pendingBytes;
    private final ChangeCounts pendingCounts = new ChangeCounts();
    private int pendingTransactions;
    private TxInfo pendingLastTx;
    private Lsn pendingConfirm;
    private long pendingSince;

    /**
     * @param maxBytes the most change bytes one message may carry (the server's max payload less
     *                 room for headers and the envelope)
     */
    public MessageBatcher(int batchSize, java.time.Duration batchTimeout, long maxBytes, Clock clock, MessageSink out) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1");
        }
        this.batchSize = batchSize;
        this.batchTimeoutMillis = batchTimeout.toMillis();
        this.maxBytes = maxBytes;
        this.clock = clock;
        this.out = out;
    }

    /**
     * Starts a session after what earlier sessions left in the stream: goes on with a transaction
     * left half published after the chunks already there (one transaction, once), chains the first
     * message to the transaction before it, and sends the transactions the stream may hold already
     * one per message.
     */
    public void resume(LeftInStream left) {
        this.resume = left.unfinished().orElse(null);
        this.lastPublished = left.prevCommitLsn();
        this.storedUpTo = left.newestCommitLsn();
    }

    /** Go on with the transaction of {@code published} after the chunks already in the stream (one transaction, once). */
    public void resume(PublishedChunks published) {
        resume(new LeftInStream(java.util.Optional.of(published), lastPublished, storedUpTo));
    }

    @Override
    public void begin(TxInfo tx) {
        this.tx = tx;
        txChanges.clear();
        txCounts.clear();
        txBytes = 0;
        boolean resumed = resume != null && tx.commitLsn().equals(resume.commitLsn());
        chunk = resumed ? resume.sizes().size() : 0;
        firstChunk = chunk;
        skip = resumed ? resume.changes() : 0;
    }

    @Override
    public void change(EncodedChange change) throws InterruptedException {
        if (skip > 0) { // in the stream already: an earlier session's chunks hold it (checked first: they are what was sent)
            skip--;
            return;
        }
        if (change.size() > maxBytes) {
            throw new IllegalArgumentException(change.op() + " on " + change.table() + " encodes to " + change.size()
                    + " bytes, more than the " + maxBytes + " a message may carry (the assembler puts a placeholder in its place)");
        }
        if (!txChanges.isEmpty() && (txChanges.size() + 1 > batchSize || txBytes + change.size() > maxBytes)) {
            if (chunk == firstChunk) {
                firstChunkGoesOut();
            }
            out.publish(new OutgoingMessage(txChanges, txTables, List.of(tx), txBytes, tx, chunk, false, 1, null, txCounts.toMap(),
                    chunksPrev));
            chunk++;
            txChanges.clear();
            txTables.clear();
            txCounts.clear();
            txBytes = 0;
        }
        addOnce(txTables, change.tableEntry());
        txChanges.add(change.json());
        txBytes += change.size();
        txCounts.add(change.table(), change.op(), 1);
    }

    @Override
    public void commit(TxInfo committed, Lsn endLsn) throws InterruptedException {
        if (resume != null && !resume.commitLsn().isAfter(committed.commitLsn())) {
            resume = null;
        }
        boolean maybeStored = storedUpTo != null && !committed.commitLsn().isAfter(storedUpTo);
        if (!maybeStored) {
            storedUpTo = null;
        }
        if (chunk > 0) {
            if (chunk == firstChunk) {
                firstChunkGoesOut(); // a resumed transaction's first chunk from this session is its last
            }
            out.publish(new OutgoingMessage(txChanges, txTables, List.of(committed), txBytes, committed, chunk, true, 1, endLsn,
                    txCounts.toMap(), chunksPrev));
            lastPublished = committed.commitLsn();
        } else if (txChanges.isEmpty()) {
            if (pending.isEmpty()) {
                out.passThrough(endLsn);
            } else {
                pendingConfirm = endLsn;
            }
        } else {
            if (!pending.isEmpty() && (maybeStored || pending.size() + txChanges.size() > batchSize || pendingBytes + txBytes > maxBytes)) {
                flush();
            }
            if (pending.isEmpty()) {
                pendingSince = clock.millis();
            }
            pending.addAll(txChanges);
            for (byte[] entry : txTables) {
                addOnce(pendingTables, entry);
            }
            pendingTxs.add(committed);
            pendingBytes += txBytes;
            pendingCounts.addAll(txCounts);
            pendingTransactions++;
            pendingLastTx = committed;
            pendingConfirm = endLsn;
            if (maybeStored || pending.size() >= batchSize) {
                flush();
            }
        }
        clearTransaction();
    }

    /** The first chunk of the transaction being read goes out: whatever whole transactions wait go out before it (commit order). */
    private void firstChunkGoesOut() throws InterruptedException {
        flush();
        chunksPrev = lastPublished;
    }

    /** Sends the pending whole transactions now (nothing more is waiting, or we are stopping). */
    public void flush() throws InterruptedException {
        if (pending.isEmpty()) {
            return;
        }
        OutgoingMessage message = new OutgoingMessage(pending, pendingTables, pendingTxs, pendingBytes, pendingLastTx, 0, true,
                pendingTransactions, pendingConfirm, pendingCounts.toMap(), lastPublished);
        lastPublished = pendingLastTx.commitLsn();
        pending.clear();
        pendingTables.clear();
        pendingTxs.clear();
        pendingCounts.clear();
        pendingBytes = 0;
        pendingTransactions = 0;
        pendingLastTx = null;
        pendingConfirm = null;
        out.publish(message);
    }

    /**
     * Nothing more is waiting to be read: sends the pending message now, and when no transaction is
     * being read either, everything up to {@code serverPosition} (the server's WAL position last
     * reported) is done, so it passes through to be confirmed behind what is in flight (an idle
     * slot keeps advancing).
     */
    public void idle(Lsn serverPosition) throws InterruptedException {
        flush();
        if (tx == null) {
            out.passThrough(serverPosition);
        }
    }

    /** Sends the pending message if it has waited {@code batchTimeout}. */
    public void flushIfDue() throws InterruptedException {
        if (!pending.isEmpty() && clock.millis() - pendingSince >= batchTimeoutMillis) {
            flush();
        }
    }

    /** Whether nothing is held: no pending message and no transaction being read. */
    public boolean isEmpty() {
        return pending.isEmpty() && tx == null;
    }

    /** Drops a transaction being read (the session ended before its commit; the server sends it again). */
    public void abortTransaction() {
        clearTransaction();
    }

    /** Adds a table entry unless it is there already (the same array: entries are shared, not copied); null adds nothing. */
    private static void addOnce(List<byte[]> entries, byte[] entry) {
        if (entry == null) {
            return;
        }
        for (byte[] e : entries) {
            if (e == entry) {
                return;
            }
        }
        entries.add(entry);
    }

    private void clearTransaction() {
        tx = null;
        txChanges.clear();
        txTables.clear();
        txCounts.clear();
        txBytes = 0;
        chunk = 0;
        firstChunk = 0;
        skip = 0;
        chunksPrev = null;
    }

    /** Drops everything held (a failed session: the server sends it all again). */
    public void reset() {
        abortTransaction();
        pending.clear();
        pendingTables.clear();
        pendingTxs.clear();
        pendingCounts.clear();
        pendingBytes = 0;
        pendingTransactions = 0;
        pendingLastTx = null;
        pendingConfirm = null;
    }
}
