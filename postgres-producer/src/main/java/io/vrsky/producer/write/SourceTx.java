package io.vrsky.producer.write;

import io.vrsky.core.model.Change;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.EnvelopeMetadata;
import io.vrsky.core.model.Lsn;
import io.vrsky.producer.dlq.DeadTransaction;
import io.vrsky.producer.dlq.Failure;
import io.vrsky.producer.plan.RowChange;
import io.vrsky.producer.position.AppliedPositions;
import io.vrsky.producer.subscribe.InboundMessage;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One source transaction of a message: the unit that is applied, skipped or dead-lettered whole.
 * A message from postgres-consumer packs whole transactions in commit order, each change naming
 * its own ({@code txId}, {@code commitLsn}); a message without a tracked source (another
 * component's minimal envelope) is one transaction. Not thread-safe: the loop thread's.
 */
final class SourceTx {

    final InboundMessage message;
    /** Where its applied position is kept (the source, or {@code replay:<id>}); null when not tracked. */
    final String key;
    /** The position that records it as applied; null when not tracked. */
    final Lsn ledgerLsn;
    final Long txId;
    final Lsn commitLsn;
    final Instant commitTime;
    final List<Change> changes;
    /** The snapshot chunk number of a message of snapshot rows (then {@code key} is its snapshot key); -1 otherwise. */
    final int snapshotChunk;
    List<RowChange> rows = List.of();
    boolean skipped;
    Failure failure;
    boolean published;

    private SourceTx(InboundMessage message, String key, Long txId, Lsn commitLsn, Instant commitTime, List<Change> changes) {
        this(message, key, txId, commitLsn, commitTime, changes, -1);
    }

    private SourceTx(InboundMessage message, String key, Long txId, Lsn commitLsn, Instant commitTime, List<Change> changes,
                     int snapshotChunk) {
        this.message = message;
        this.snapshotChunk = snapshotChunk;
        this.key = key;
        this.txId = txId;
        this.commitLsn = commitLsn;
        this.commitTime = commitTime;
        this.changes = changes;
        this.ledgerLsn = key == null ? null : snapshotChunk >= 0 ? Lsn.ZERO
                : commitLsn != null ? commitLsn : message.isReplay() ? Lsn.ZERO : null;
    }

    /** A message that could not be decoded, or must be refused whole: one unit. */
    static SourceTx whole(InboundMessage message, Failure failure) {
        Envelope e = message.envelope();
        EnvelopeMetadata m = e == null ? null : e.metadata();
        SourceTx tx = new SourceTx(message, null, m == null ? null : m.txId(), m == null ? null : m.commitLsn(),
                m == null ? null : m.commitTime(), e == null ? List.of() : e.changes());
        tx.failure = failure;
        return tx;
    }

    /**
     * The message's transactions, in order. A message of snapshot rows is one unit, tracked by its
     * chunk number under its snapshot key (never by the source's stream position).
     */
    static List<SourceTx> split(InboundMessage message) {
        Envelope e = message.envelope();
        String key = message.ledgerKey();
        EnvelopeMetadata m = e.metadata();
        if (message.snapshot() != null && !message.isReplay() && key != null) {
            return List.of(new SourceTx(message, key, m.txId(), m.commitLsn(), m.commitTime(), e.changes(), message.snapshot().chunk()));
        }
        List<Change> all = e.changes();
        if (key == null || all.isEmpty()) {
            Lsn lsn = all.isEmpty() ? (m == null ? null : m.commitLsn()) : AppliedPositions.commitLsn(e, all.get(all.size() - 1));
            return List.of(new SourceTx(message, key, m == null ? null : m.txId(), lsn, m == null ? null : m.commitTime(), all));
        }
        List<SourceTx> txs = new ArrayList<>();
        int start = 0;
        Lsn current = AppliedPositions.commitLsn(e, all.get(0));
        Long currentTx = txId(e, all.get(0));
        for (int i = 1; i <= all.size(); i++) {
            Lsn lsn = i < all.size() ? AppliedPositions.commitLsn(e, all.get(i)) : null;
            Long tx = i < all.size() ? txId(e, all.get(i)) : null;
            if (i == all.size() || !Objects.equals(lsn, current) || !Objects.equals(tx, currentTx)) {
                Change first = all.get(start);
                Instant time = first.commitTime() != null ? first.commitTime() : m == null ? null : m.commitTime();
                txs.add(new SourceTx(message, key, currentTx, current, time, all.subList(start, i)));
                start = i;
                current = lsn;
                currentTx = tx;
            }
        }
        return txs;
    }

    private static Long txId(Envelope e, Change c) {
        if (c.txId() != null) {
            return c.txId();
        }
        return c.commitLsn() == null && e.metadata() != null ? e.metadata().txId() : null;
    }

    /** Whether {@code positions} (including this batch's progress) says it was applied already. */
    boolean appliedIn(AppliedPositions positions) {
        if (ledgerLsn == null) {
            return false;
        }
        return snapshotChunk >= 0 ? positions.appliedChunk(key, snapshotChunk) : positions.applied(key, ledgerLsn);
    }

    /** Records it as applied in this batch's positions (a no-op when not tracked). */
    void record(AppliedPositions positions) {
        if (ledgerLsn == null) {
            return;
        }
        if (snapshotChunk >= 0) {
            positions.advanceChunk(key, snapshotChunk);
        } else {
            positions.advance(key, ledgerLsn, 0);
        }
    }

    boolean live() {
        return !skipped && failure == null;
    }

    void dead(Failure f) {
        this.failure = f;
        this.rows = List.of();
    }

    /** The first placeholder for a change the consumer could not carry, or null. */
    Change placeholder() {
        for (Change c : changes) {
            if (c.isPlaceholder()) {
                return c;
            }
        }
        return null;
    }

    DeadTransaction deadTransaction() {
        Envelope e = message.envelope();
        return new DeadTransaction(e == null ? null : e.source(), txId, commitLsn, commitTime, e == null ? null : e.type(),
                e == null ? null : e.time(), message.subject(), message.streamSeq());
    }

    String describe() {
        return deadTransaction().describe();
    }
}
