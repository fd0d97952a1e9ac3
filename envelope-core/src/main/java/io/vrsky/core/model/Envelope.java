package io.vrsky.core.model;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/** The VRSky message body: identity, type, source, time, metadata and the ordered changes. */
public record Envelope(
        String id,
        String type,
        String source,
        Instant time,
        EnvelopeMetadata metadata,
        List<Change> changes) {

    public static final String CDC_TRANSACTION_TYPE = "vrsky.cdc.transaction";

    public Envelope {
        Objects.requireNonNull(changes, "changes");
        changes = List.copyOf(changes);
    }
}
