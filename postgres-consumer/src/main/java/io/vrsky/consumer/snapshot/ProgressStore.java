package io.vrsky.consumer.snapshot;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.StorageType;

import io.vrsky.core.nats.StreamProvisioner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * The snapshot records in the JetStream key-value bucket {@value #BUCKET} (file storage, created
 * when missing), one per slot under the slot's name. Used by the replication thread only.
 */
final class ProgressStore {

    static final String BUCKET = "VRSKY_SNAPSHOTS";
    private static final Logger LOG = LoggerFactory.getLogger(ProgressStore.class);
    private static final int STREAM_NOT_FOUND = 10059;

    private final KeyValue kv;
    private final String key;

    private ProgressStore(KeyValue kv, String key) {
        this.kv = kv;
        this.key = key;
    }

    /**
     * Opens the bucket on {@code connection}, creating it with {@code replicas} (NATS_STREAM_REPLICAS)
     * when missing; an existing bucket with fewer replicas is reported with a WARN.
     */
    static ProgressStore open(Connection connection, String slot, int replicas) throws IOException, JetStreamApiException {
        var kvm = connection.keyValueManagement();
        try {
            var info = kvm.getBucketInfo(BUCKET);
            StreamProvisioner.replicaShortfall(info.getBackingStreamInfo().getConfiguration(), replicas)
                    .ifPresent(w -> LOG.warn("snapshot progress bucket {}: {}", BUCKET, w));
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() != STREAM_NOT_FOUND) {
                throw e;
            }
            try {
                kvm.create(KeyValueConfiguration.builder().name(BUCKET).storageType(StorageType.File).maxHistoryPerKey(1)
                        .replicas(replicas).description("VRSky snapshot progress, one record per replication slot").build());
            } catch (JetStreamApiException raced) {
                kvm.getBucketInfo(BUCKET); // created by another instance meanwhile: fine if it exists now
            }
        }
        return new ProgressStore(connection.keyValue(BUCKET), slot);
    }

    /** The slot's record, or null when there is none. */
    SnapshotRecord load() throws IOException, JetStreamApiException {
        KeyValueEntry entry = kv.get(key);
        if (entry == null || entry.getValue() == null || entry.getValue().length == 0) {
            return null;
        }
        return SnapshotRecord.fromJson(entry.getValue());
    }

    void save(SnapshotRecord record) throws IOException, JetStreamApiException {
        kv.put(key, record.toJson());
    }
}
