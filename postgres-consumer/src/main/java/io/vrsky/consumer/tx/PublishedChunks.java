package io.vrsky.consumer.tx;

import io.vrsky.core.model.Lsn;

import java.util.List;
import java.util.Objects;

/**
 * The chunks of one transaction that an earlier session published before it stopped: how many
 * changes each of chunks 0, 1, ... held. {@link MessageBatcher} cuts that transaction the same way
 * again when it is read again, so every re-sent chunk has the {@code Nats-Msg-Id} and the contents
 * of the one already in the stream, even if the batch size or the server's payload limit changed
 * in between (JetStream drops the re-sent ones as duplicates; a chunk cut differently under a used
 * id would be dropped too, and its changes lost).
 */
public record PublishedChunks(Lsn commitLsn, List<Integer> sizes) {

    public PublishedChunks {
        Objects.requireNonNull(commitLsn, "commitLsn");
        sizes = List.copyOf(sizes);
        if (sizes.isEmpty() || sizes.stream().anyMatch(n -> n < 1)) {
            throw new IllegalArgumentException("chunk sizes must be >= 1, were " + sizes);
        }
    }
}
