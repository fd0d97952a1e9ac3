package io.vrsky.core.nats;

import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes sure a JetStream stream exists and covers a subject: creates it (file storage, the given
 * duplicate window) when missing, adds the subject to an existing stream that lacks it, and widens a
 * duplicate window that is too short. Never deletes or narrows anything.
 */
public final class StreamProvisioner {

    private static final Logger LOG = LoggerFactory.getLogger(StreamProvisioner.class);
    private static final int STREAM_NOT_FOUND = 10059;

    private final JetStreamManagement jsm;

    public StreamProvisioner(JetStreamManagement jsm) {
        this.jsm = jsm;
    }

    public StreamInfo ensure(String stream, String subject, Duration duplicateWindow) throws IOException, JetStreamApiException {
        StreamInfo info;
        try {
            info = jsm.getStreamInfo(stream);
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() != STREAM_NOT_FOUND) {
                throw e;
            }
            StreamConfiguration config = StreamConfiguration.builder()
                    .name(stream)
                    .subjects(subject)
                    .storageType(StorageType.File)
                    .duplicateWindow(duplicateWindow)
                    .build();
            try {
                StreamInfo created = jsm.addStream(config);
                LOG.info("created JetStream stream {} for subject {} (duplicate window {})", stream, subject, duplicateWindow);
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
        LOG.info("updating JetStream stream {}: subjects {} duplicate window {}", stream, subjects, updated.getDuplicateWindow());
        return jsm.updateStream(updated);
    }
}
