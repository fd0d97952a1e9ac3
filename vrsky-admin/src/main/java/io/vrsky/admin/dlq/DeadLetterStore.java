package io.vrsky.admin.dlq;

import io.nats.client.JetStreamApiException;
import io.nats.client.api.MessageInfo;
import io.nats.client.PurgeOptions;
import io.nats.client.api.PurgeResponse;
import io.nats.client.api.StreamInfo;
import io.vrsky.admin.AdminExit;
import io.vrsky.admin.AdminFailure;
import io.vrsky.admin.connect.Nats;
import io.vrsky.admin.connect.StreamScan;
import io.vrsky.core.config.NatsSettings;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The dead letters in the {@code VRSKY_DLQ} stream: listed (headers only), read one by one,
 * grouped into the parts of one transaction, deleted and purged.
 */
public final class DeadLetterStore {

    public static final String STREAM = NatsSettings.DLQ_STREAM;
    /** JSNoMessageFoundErr. */
    private static final int NO_MESSAGE_FOUND = 10037;
    /** How far from a part the other parts of its transaction are looked for. */
    private static final int PART_WINDOW = 10_000;

    /** The newest dead letters on a subject filter and how many there are in all. */
    public record Listing(String filter, long total, List<DeadLetter> letters) {
        public Listing {
            letters = List.copyOf(letters);
        }
    }

    private final Nats nats;

    public DeadLetterStore(Nats nats) {
        this.nats = nats;
    }

    /**
     * The newest {@code limit} dead letters on {@code filter} (all of them when {@code limit} is 0),
     * oldest first, headers only.
     */
    public Listing list(String filter, int limit) throws AdminFailure {
        Optional<StreamInfo> info = nats.stream(STREAM, filter);
        if (info.isEmpty()) {
            return new Listing(filter, 0, List.of());
        }
        long total = info.get().getStreamState().getSubjectMap().values().stream().mapToLong(Long::longValue).sum();
        if (total == 0) {
            return new Listing(filter, 0, List.of());
        }
        Deque<DeadLetter> newest = new ArrayDeque<>();
        StreamScan.scan(nats, STREAM, filter, info.get().getStreamState().getFirstSequence(),
                info.get().getStreamState().getLastSequence(), true, m -> {
                    newest.addLast(new DeadLetter(m.seq(), m.subject(), m.time(), DeadLetter.copy(m.headers()), null));
                    if (limit > 0 && newest.size() > limit) {
                        newest.removeFirst();
                    }
                    return true;
                });
        return new Listing(filter, total, new ArrayList<>(newest));
    }

    /** The dead letter with this sequence, body included, or empty when there is none. */
    public Optional<DeadLetter> get(long seq) throws AdminFailure {
        try {
            MessageInfo m = nats.jsm().getMessage(STREAM, seq);
            return Optional.of(new DeadLetter(m.getSeq(), m.getSubject(), m.getTime() == null ? null : m.getTime().toInstant(),
                    DeadLetter.copy(m.getHeaders()), m.getData()));
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() == NO_MESSAGE_FOUND || e.getApiErrorCode() == io.vrsky.core.nats.JetStreamErrors.STREAM_NOT_FOUND) {
                return Optional.empty();
            }
            throw nats.failure("reading dead letter " + seq, e);
        } catch (IOException e) {
            throw nats.failure("reading dead letter " + seq, e);
        }
    }

    /** The dead letter with this sequence, or exit 4 naming it. */
    public DeadLetter require(long seq) throws AdminFailure {
        return get(seq).orElseThrow(() -> new AdminFailure(AdminExit.NOT_FOUND, "no dead letter " + seq + " in " + STREAM));
    }

    /**
     * Every part of the transaction {@code letter} belongs to, in part order, bodies included: the
     * producer sends a transaction too large for one message in consecutive parts that share a msg
     * id ({@code dlq:<durable>:<source seq>:<commit lsn>}, then {@code :1}, {@code :2}, ...), the
     * last flagged {@code lastChunk} in its metadata.
     *
     * @throws AdminFailure exit 4 when a part is missing (deleted or purged)
     */
    public List<DeadLetter> parts(DeadLetter letter, BodyShape shape) throws AdminFailure {
        if (!shape.multiPart()) {
            return List.of(letter);
        }
        String group = letter.groupId();
        if (group == null) {
            throw new AdminFailure(AdminExit.NOT_FOUND, "dead letter " + letter.seq() + " is part " + shape.chunk()
                    + " of a transaction in several dead letters, but its Nats-Msg-Id does not say which: replay cannot find the others");
        }
        TreeMap<Integer, Long> seqByPart = new TreeMap<>();
        StreamInfo info = nats.stream(STREAM, null).orElseThrow(() -> new AdminFailure(AdminExit.NOT_FOUND, "no stream " + STREAM));
        long first = Math.max(info.getStreamState().getFirstSequence(), letter.seq() - PART_WINDOW);
        long last = Math.min(info.getStreamState().getLastSequence(), letter.seq() + PART_WINDOW);
        StreamScan.scan(nats, STREAM, letter.subject(), first, last, true, m -> {
            DeadLetter d = new DeadLetter(m.seq(), m.subject(), m.time(), DeadLetter.copy(m.headers()), null);
            if (group.equals(d.groupId())) {
                seqByPart.putIfAbsent(d.part(), d.seq());
            }
            return true;
        });
        List<DeadLetter> parts = new ArrayList<>();
        for (int part = 0; part <= (seqByPart.isEmpty() ? -1 : seqByPart.lastKey()); part++) {
            Long seq = seqByPart.get(part);
            if (seq == null) {
                throw new AdminFailure(AdminExit.NOT_FOUND, "dead letter " + letter.seq() + " is one part of a transaction whose part "
                        + part + " is no longer in " + STREAM + ": nothing replayed");
            }
            parts.add(part == letter.part() && seq == letter.seq() ? letter : require(seq));
        }
        if (parts.isEmpty() || !BodyShape.of(parts.get(parts.size() - 1).body()).last()) {
            throw new AdminFailure(AdminExit.NOT_FOUND, "dead letter " + letter.seq() + " is one part of a transaction whose last part"
                    + " is not in " + STREAM + ": nothing replayed");
        }
        return parts;
    }

    /** Deletes one dead letter. */
    public void delete(long seq) throws AdminFailure {
        try {
            nats.jsm().deleteMessage(STREAM, seq);
        } catch (IOException | JetStreamApiException e) {
            throw nats.failure("deleting dead letter " + seq, e);
        }
    }

    /** Deletes every dead letter on {@code filter} up to and including {@code lastSeq}; returns how many went. */
    public long purge(String filter, long lastSeq) throws AdminFailure {
        try {
            PurgeResponse r = nats.jsm().purgeStream(STREAM, PurgeOptions.builder().subject(filter).sequence(lastSeq + 1).build());
            return r.getPurged();
        } catch (IOException | JetStreamApiException e) {
            throw nats.failure("purging " + STREAM + " (subject " + filter + ")", e);
        }
    }
}
