package io.vrsky.consumer.snapshot;

import io.vrsky.core.codec.EnvelopeWriter;
import io.vrsky.core.model.EnvelopeMetadata;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.TableId;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One NATS message of snapshot rows: READ changes (a keyless table's first chunk also its TRUNCATE)
 * of one table, chunk {@code chunk} of snapshot {@code snapshotId}.
 *
 * @param consistentLsn    the position the rows are consistent with (the envelope's commitLsn)
 * @param readAt           when the rows were read (the envelope's commitTime)
 * @param tableEntry       the compact layout's entry of the table; null for the standard layout
 * @param transactionEntry the compact layout's entry of the rows' transaction fields; null for the standard layout
 */
public record SnapshotMessage(String snapshotId, TableId table, int chunk, boolean lastChunk, List<byte[]> changes, long bytes,
                              Lsn consistentLsn, Instant readAt, byte[] tableEntry, byte[] transactionEntry) {

    public SnapshotMessage {
        Objects.requireNonNull(snapshotId, "snapshotId");
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(consistentLsn, "consistentLsn");
        Objects.requireNonNull(readAt, "readAt");
        changes = List.copyOf(changes);
        if (changes.isEmpty()) {
            throw new IllegalArgumentException("a message needs at least one change");
        }
    }

    /** {@code Nats-Msg-Id}: {@code <slot>:snap:<snapshot id>:<schema.table>:<chunk>}. */
    public String messageId(String slot) {
        return slot + ":snap:" + snapshotId + ":" + table + ":" + chunk;
    }

    /** {@code Vrsky-Snapshot}: {@code <snapshot id>:<schema.table>:<chunk>}. */
    public String header() {
        return snapshotId + ":" + table + ":" + chunk;
    }

    /** The envelope's metadata: no source transaction (txId 0), the snapshot part naming the chunk. */
    public EnvelopeWriter.Metadata metadata() {
        return new EnvelopeWriter.Metadata(0, consistentLsn, readAt, 0, true, 1,
                new EnvelopeMetadata.Snapshot(snapshotId, table.toString(), chunk, lastChunk));
    }
}
