package io.vrsky.consumer.readback;

import io.vrsky.core.model.Lsn;

import java.util.List;
import java.util.Objects;

/**
 * The chunks of one transaction that an earlier session published before it stopped: how many
 * changes each of chunks 0, 1, ... held. When the transaction is read again, {@link io.vrsky.consumer.batch.MessageBatcher}
 * skips those changes and goes on with the next chunk number, so nothing already in the stream is
 * sent again under an id JetStream has seen (a chunk cut differently under a used id would be
 * dropped as a duplicate, and its changes lost), even if the batch size or the server's payload
 * limit changed in between.
 */
public record PublishedChunks(Lsn commitLsn, List<Integer> sizes) {

    public PublishedChunks {
        Objects.requireNonNull(commitLsn, "commitLsn");
        sizes = List.copyOf(sizes);
        if (sizes.isEmpty() || sizes.stream().anyMatch(n -> n < 1)) {
            throw new IllegalArgumentException("chunk sizes must be >= 1, were " + sizes);
        }
    }

    /** The changes in the stream already. */
    public long changes() {
        return sizes.stream().mapToLong(Integer::longValue).sum();
    }
}
