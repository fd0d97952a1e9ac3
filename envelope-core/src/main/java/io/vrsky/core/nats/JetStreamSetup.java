package io.vrsky.core.nats;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.vrsky.core.config.NatsSettings;

import java.io.IOException;

/** Provisions the two streams every service needs: the CDC stream and the dead-letter stream. */
public final class JetStreamSetup {

    private JetStreamSetup() {
    }

    /**
     * The subject the CDC stream is created with: {@code vrsky.cdc.>} for anything under
     * {@code vrsky.cdc.}, so that the consumer (one database's subject) and the producer (the
     * wildcard filter) provision the same stream without overlapping subjects.
     */
    public static String streamSubjectFor(String subject) {
        return subject.startsWith("vrsky.cdc.") ? "vrsky.cdc.>" : subject;
    }

    /**
     * Creates (with {@code settings.limits()}, including NATS_STREAM_REPLICAS) or checks the CDC
     * stream and the DLQ stream; an existing stream whose limits can delete unread messages, or
     * with fewer replicas than asked, is reported with a WARN.
     */
    public static void provision(Connection connection, NatsSettings settings, String dataSubject)
            throws IOException, JetStreamApiException {
        StreamProvisioner provisioner = new StreamProvisioner(connection.jetStreamManagement());
        provisioner.ensure(settings.stream(), streamSubjectFor(dataSubject), settings.duplicateWindow(), settings.limits());
        provisioner.ensure(NatsSettings.DLQ_STREAM, NatsSettings.DLQ_SUBJECTS, settings.duplicateWindow(), settings.limits());
    }
}
