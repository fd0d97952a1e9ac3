package io.vrsky.admin.dlq;

import io.nats.client.JetStreamApiException;
import io.nats.client.PublishOptions;
import io.nats.client.api.PublishAck;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import io.vrsky.admin.AdminFailure;
import io.vrsky.admin.connect.Nats;
import io.vrsky.core.nats.CdcHeaders;

import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * Publishes dead letters back to the producer's subject so that it applies them once more:
 * header {@code Vrsky-Replay: VRSKY_DLQ-<seq>} (the producer applies a replay although its
 * position was passed, and records it under {@code replay:<id>} in the same sink transaction, so
 * once per id) and {@code Nats-Msg-Id: replay:VRSKY_DLQ-<seq>} (JetStream drops a second publish
 * within its duplicate window). The parts of a transaction dead-lettered in several messages go
 * in order under the id of the first part. An edited copy is a replay of its own:
 * {@code VRSKY_DLQ-<seq>.edit-<first 12 hex digits of the file's SHA-256>}.
 */
public final class Replayer {

    /** What one replay did. */
    public record Result(String replayId, String subject, List<Long> deadLetterSeqs, List<Long> streamSeqs, List<Boolean> duplicates) {
        public Result {
            deadLetterSeqs = List.copyOf(deadLetterSeqs);
            streamSeqs = List.copyOf(streamSeqs);
            duplicates = List.copyOf(duplicates);
        }

        /** Every part was a JetStream duplicate: nothing new was stored. */
        public boolean allDuplicates() {
            return duplicates.stream().allMatch(Boolean::booleanValue);
        }
    }

    private final Nats nats;
    private final String stream;

    /** @param stream the CDC stream (NATS_STREAM) the subject must belong to */
    public Replayer(Nats nats, String stream) {
        this.nats = nats;
        this.stream = Objects.requireNonNull(stream, "stream");
    }

    /** The replay id of a dead letter: {@code VRSKY_DLQ-<seq>}. */
    public static String replayId(long seq) {
        return DeadLetterStore.STREAM + "-" + seq;
    }

    /** The replay id of an edited copy of dead letter {@code seq}. */
    public static String editedReplayId(long seq, byte[] edited) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(edited);
            return replayId(seq) + ".edit-" + HexFormat.of().formatHex(digest, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** Publishes the parts (bodies as stored) to {@code subject}, in order. */
    public Result replay(List<DeadLetter> parts, String subject) throws AdminFailure {
        String id = replayId(parts.get(0).seq());
        List<Long> seqs = new ArrayList<>();
        List<byte[]> bodies = new ArrayList<>();
        List<String> msgIds = new ArrayList<>();
        for (DeadLetter part : parts) {
            seqs.add(part.seq());
            bodies.add(part.body());
            msgIds.add("replay:" + replayId(part.seq()));
        }
        return publish(id, subject, seqs, bodies, msgIds);
    }

    /** Publishes {@code edited} in place of dead letter {@code seq}. */
    public Result replayEdited(long seq, byte[] edited, String subject) throws AdminFailure {
        String id = editedReplayId(seq, edited);
        return publish(id, subject, List.of(seq), List.of(edited), List.of("replay:" + id));
    }

    private Result publish(String id, String subject, List<Long> seqs, List<byte[]> bodies, List<String> msgIds) throws AdminFailure {
        List<Long> streamSeqs = new ArrayList<>();
        List<Boolean> duplicates = new ArrayList<>();
        PublishOptions options = PublishOptions.builder().expectedStream(stream).build();
        for (int i = 0; i < bodies.size(); i++) {
            Headers headers = new Headers().put(CdcHeaders.REPLAY, id).put(CdcHeaders.MSG_ID, msgIds.get(i));
            try {
                PublishAck ack = nats.js().publish(NatsMessage.builder().subject(subject).headers(headers).data(bodies.get(i)).build(),
                        options);
                streamSeqs.add(ack.getSeqno());
                duplicates.add(ack.isDuplicate());
            } catch (IOException | JetStreamApiException e) {
                throw nats.failure("publishing dead letter " + seqs.get(i) + " to " + subject + " (stream " + stream + ")", e);
            }
        }
        return new Result(id, subject, seqs, streamSeqs, duplicates);
    }
}
