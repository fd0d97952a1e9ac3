package io.vrsky.core.nats;

import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.DiscardPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.vrsky.core.config.Env;
import io.vrsky.core.config.StreamLimits;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Makes sure a JetStream stream exists and covers a subject: creates it (file storage, the given
 * duplicate window, the given limits) when missing, adds the subject to an existing stream that
 * lacks it, and widens a duplicate window that is too short. Never deletes anything, never changes
 * an existing stream's limits; an existing stream whose limits can delete messages nobody has read
 * yet is reported with one WARN line naming the stream, the limit, the risk and the fix.
 */
public final class StreamProvisioner {

    private static final Logger LOG = LoggerFactory.getLogger(StreamProvisioner.class);

    private final JetStreamManagement jsm;
    private final Logger log;

    public StreamProvisioner(JetStreamManagement jsm) {
        this(jsm, LOG);
    }

    StreamProvisioner(JetStreamManagement jsm, Logger log) {
        this.jsm = jsm;
        this.log = log;
    }

    /** {@link #ensure(String, String, Duration, StreamLimits)} with no limits (discard new). */
    public StreamInfo ensure(String stream, String subject, Duration duplicateWindow) throws IOException, JetStreamApiException {
        return ensure(stream, subject, duplicateWindow, StreamLimits.NONE);
    }

    public StreamInfo ensure(String stream, String subject, Duration duplicateWindow, StreamLimits limits)
            throws IOException, JetStreamApiException {
        StreamInfo info;
        try {
            info = jsm.getStreamInfo(stream);
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() != JetStreamErrors.STREAM_NOT_FOUND) {
                throw e;
            }
            StreamConfiguration.Builder config = StreamConfiguration.builder()
                    .name(stream)
                    .subjects(subject)
                    .storageType(StorageType.File)
                    .duplicateWindow(duplicateWindow)
                    .discardPolicy(limits.discard() == StreamLimits.Discard.NEW ? DiscardPolicy.New : DiscardPolicy.Old)
                    .replicas(limits.replicas());
            if (limits.hasMaxAge()) {
                config.maxAge(limits.maxAge());
            }
            if (limits.hasMaxBytes()) {
                config.maxBytes(limits.maxBytes());
            }
            try {
                StreamInfo created = jsm.addStream(config.build());
                log.info("created JetStream stream {} for subject {} (duplicate window {}, {})", stream, subject,
                        Env.format(duplicateWindow), limits.describe());
                warnIfRisky(created.getConfiguration());
                return created;
            } catch (JetStreamApiException raced) {
                // another instance may have created it between our lookup and add; if not, the add's error is the cause
                try {
                    info = jsm.getStreamInfo(stream);
                } catch (JetStreamApiException notThere) {
                    raced.addSuppressed(notThere);
                    throw raced;
                }
            }
        }
        StreamConfiguration current = info.getConfiguration();
        warnIfRisky(current);
        replicaShortfall(current, limits.replicas()).ifPresent(r -> log.warn("{}", r));
        boolean covered = current.getSubjects().stream().anyMatch(s -> SubjectMatch.covers(s, subject));
        boolean windowOk = current.getDuplicateWindow() != null && current.getDuplicateWindow().compareTo(duplicateWindow) >= 0;
        if (covered && windowOk) {
            return info;
        }
        List<String> subjects = new ArrayList<>(current.getSubjects());
        if (!covered) {
            subjects.add(subject);
        }
        StreamConfiguration updated = StreamConfiguration.builder(current)
                .subjects(subjects)
                .duplicateWindow(windowOk ? current.getDuplicateWindow() : duplicateWindow)
                .build();
        log.info("updating JetStream stream {}: subjects {} duplicate window {}", stream, subjects, updated.getDuplicateWindow());
        return jsm.updateStream(updated);
    }

    /**
     * The WARN for an existing stream (or key-value bucket, whose stream is {@code KV_<bucket>})
     * kept on fewer servers than NATS_STREAM_REPLICAS asks, with how to change it; else empty.
     */
    public static Optional<String> replicaShortfall(StreamConfiguration config, int wanted) {
        int replicas = Math.max(1, config.getReplicas());
        if (replicas >= wanted) {
            return Optional.empty();
        }
        String stream = config.getName();
        return Optional.of("JetStream stream " + stream + " has " + replicas + (replicas == 1 ? " replica" : " replicas")
                + " but NATS_STREAM_REPLICAS=" + wanted + " asks for " + wanted + ": existing streams are not changed, so losing the"
                + " server" + (replicas == 1 ? "" : "s") + " holding it stops the pipeline (and a lost disk loses its messages)."
                + " Fix: nats stream edit " + stream + " --replicas " + wanted + " (needs a cluster of at least " + wanted
                + " JetStream servers)");
    }

    private void warnIfRisky(StreamConfiguration config) {
        risk(config).ifPresent(r -> log.warn("{}", r));
    }

    /**
     * Why a stream's limits can delete messages nobody has read yet, with the fix, or empty: any
     * max age (messages go when old, read or not), or discard=old with a limit on bytes or
     * messages (a full stream deletes its oldest messages, read or not).
     */
    static Optional<String> risk(StreamConfiguration config) {
        String stream = config.getName();
        List<String> limits = new ArrayList<>();
        List<String> fixes = new ArrayList<>();
        boolean discardOld = config.getDiscardPolicy() != DiscardPolicy.New;
        if (discardOld) {
            if (config.getMaxBytes() > 0) {
                limits.add("max bytes " + Env.formatSize(config.getMaxBytes()));
            }
            if (config.getMaxMsgs() > 0) {
                limits.add("max messages " + config.getMaxMsgs());
            }
            if (config.getMaxMsgsPerSubject() > 0) {
                limits.add("max messages per subject " + config.getMaxMsgsPerSubject());
            }
        }
        String sizeRisk = limits.isEmpty() ? null : String.join(", ", limits) + " with discard old: when the stream is full,"
                + " NATS deletes its oldest messages whether or not they were read";
        if (sizeRisk != null) {
            fixes.add("nats stream edit " + stream + " --discard new (publishing then waits while the stream is full)");
        }
        Duration age = config.getMaxAge();
        String ageRisk = null;
        if (age != null && !age.isZero() && !age.isNegative()) {
            ageRisk = "max age " + Env.format(age) + ": NATS deletes messages older than that whether or not they were read";
            fixes.add("nats stream edit " + stream + " --max-age=-1 (or a max age well above the longest outage you expect)");
        }
        if (sizeRisk == null && ageRisk == null) {
            return Optional.empty();
        }
        String risks = sizeRisk == null ? ageRisk : ageRisk == null ? sizeRisk : sizeRisk + "; " + ageRisk;
        return Optional.of("JetStream stream " + stream + " can lose changes nobody has read yet: " + risks
                + ". Messages the reader has not reached would be gone from the pipeline. Fix: " + String.join("; ", fixes));
    }
}
