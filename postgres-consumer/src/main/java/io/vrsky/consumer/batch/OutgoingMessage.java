package io.vrsky.consumer.batch;

import io.vrsky.consumer.tx.TxInfo;
import io.vrsky.core.codec.EnvelopeWriter;
import io.vrsky.core.model.Lsn;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One NATS message to be: either whole transactions ({@code chunk} 0, {@code lastChunk} true) or
 * one chunk of a transaction larger than the batch.
 *
 * @param changes          the encoded changes, in order
 * @param tables           the compact layout's table entries the changes name (each once); empty for the standard layout
 * @param transactions     the transactions the changes belong to, in order (the compact layout's entries)
 * @param bytes            their total size
 * @param lastTx           the last transaction in the message (headers and metadata describe it)
 * @param transactionCount how many transactions have changes in this message (1 for a chunk)
 * @param confirmLsn       the LSN that may be confirmed to PostgreSQL once this message and all
 *                         before it are acknowledged; null for a chunk that is not the last
 * @param counts           changes per table and operation, for the metrics
 * @param prevCommitLsn    the commit LSN of the transaction put in a message before the first one of
 *                         this message ({@code Vrsky-Prev-Commit-Lsn}; the same for every chunk of a
 *                         transaction); null when unknown
 */
public record OutgoingMessage(List<byte[]> changes, List<byte[]> tables, List<TxInfo> transactions, long bytes, TxInfo lastTx,
                              int chunk, boolean lastChunk, int transactionCount, Lsn confirmLsn, Map<TableOp, Integer> counts,
                              Lsn prevCommitLsn) {

    public OutgoingMessage {
        changes = List.copyOf(changes);
        tables = List.copyOf(tables);
        transactions = List.copyOf(transactions);
        Objects.requireNonNull(lastTx, "lastTx");
        counts = Map.copyOf(counts);
        if (changes.isEmpty()) {
            throw new IllegalArgumentException("a message needs at least one change");
        }
        if (chunk < 0) {
            throw new IllegalArgumentException("chunk must be >= 0, was " + chunk);
        }
    }

    /**
     * What the metrics count once the message is acknowledged, without holding its changes meanwhile.
     *
     * @param commitTime the source commit time of the message's last transaction (for the publish lag); null for snapshot rows
     */
    public record Counted(boolean lastChunk, int transactionCount, Map<TableOp, Integer> counts, java.time.Instant commitTime) {
    }

    public Counted counted() {
        return new Counted(lastChunk, transactionCount, counts, lastTx.commitTime());
    }

    /** What the envelope's metadata says about this message. */
    public EnvelopeWriter.Metadata metadata() {
        return new EnvelopeWriter.Metadata(lastTx.txId(), lastTx.commitLsn(), lastTx.commitTime(), chunk, lastChunk, transactionCount);
    }

    /** {@code Nats-Msg-Id}: {@code <slot>:<commit_lsn>:<chunk>}. */
    public String messageId(String slot) {
        return slot + ":" + lastTx.commitLsn() + ":" + chunk;
    }
}
