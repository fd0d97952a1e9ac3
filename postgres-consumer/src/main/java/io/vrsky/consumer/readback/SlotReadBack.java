package io.vrsky.consumer.readback;

import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.MessageInfo;
import io.nats.client.impl.Headers;
import io.vrsky.core.codec.EnvelopeCodec;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.nats.CdcHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Arrays;
import java.util.Optional;

/**
 * Reads back what this slot left in the stream: its messages are those on the subject whose
 * {@code Nats-Msg-Id} starts with {@code <slot>:} (other slots may publish to the same subject).
 * Every look walks back from the subject's last message, one request per stored message, and
 * looks at {@value #MAX_SCAN} stored messages at most.
 *
 * <ul>
 *   <li>{@link #hasMessages()}: whether the stream holds any message of this slot (a slot that is
 *       missing although it published means changes were lost).</li>
 *   <li>{@link #read(Lsn)}: for a session resuming from the slot's confirmed position, the
 *       transaction left half published (its newest message is a chunk that is not the last: how
 *       many changes each of its chunks 0..k holds, so they can be cut the same way again), the
 *       commit LSN of the newest stored message below the confirmed position (the previous
 *       transaction of the first one the session sends), and the newest stored commit LSN.</li>
 * </ul>
 *
 * <p>Used by the replication thread only.
 */
public final class SlotReadBack {

    private static final Logger LOG = LoggerFactory.getLogger(SlotReadBack.class);

    /** How many stored messages to look at at most (each is one request to the server). */
    public static final int MAX_SCAN = 10_000;
    private static final int NOT_FOUND = 404;

    private final JetStreamManagement jsm;
    private final String stream;
    private final String subject;
    private final String idPrefix;
    private final EnvelopeCodec codec;

    public SlotReadBack(JetStreamManagement jsm, String stream, String subject, String slot, EnvelopeCodec codec) {
        this.jsm = jsm;
        this.stream = stream;
        this.subject = subject;
        this.idPrefix = slot + ":";
        this.codec = codec;
    }

    /** Whether the stream holds a message this slot published, among its newest {@value #MAX_SCAN}. */
    public boolean hasMessages() throws IOException, JetStreamApiException {
        return new Walk().nextOurs() != null;
    }

    /**
     * What a session resuming from {@code confirmed} needs. A message of this slot that cannot be
     * read (a header or body this code did not write) ends the look: what was found before it is
     * kept, the rest is unknown (logged).
     */
    public LeftInStream read(Lsn confirmed) throws IOException, JetStreamApiException {
        Lsn newest = null;
        Optional<PublishedChunks> unfinished = Optional.empty();
        Lsn prev = null;
        try {
            MessageInfo first = new Walk().nextOurs();
            if (first == null) {
                return LeftInStream.NOTHING;
            }
            newest = commitLsn(first);
            unfinished = unfinished(first);
            prev = newestBelow(confirmed);
        } catch (RuntimeException e) { // NumberFormatException, EnvelopeFormatException, a bad LSN
            LOG.warn("cannot read back this slot's newest messages in stream {} ({}); a transaction left half published, if"
                    + " any, is cut with the current limits", stream, e.toString());
        }
        return new LeftInStream(unfinished, prev, newest);
    }

    /** The chunks of the newest message's transaction when the newest is a chunk that is not the last. */
    private Optional<PublishedChunks> unfinished(MessageInfo newest) throws IOException, JetStreamApiException {
        if (!"false".equals(newest.getHeaders().getFirst(CdcHeaders.LAST_CHUNK))) {
            return Optional.empty();
        }
        Walk walk = new Walk();
        MessageInfo m = walk.nextOurs(); // the newest again
        String commitLsn = m.getHeaders().getFirst(CdcHeaders.COMMIT_LSN);
        int chunk = chunk(m);
        Integer[] sizes = new Integer[chunk + 1];
        sizes[chunk] = changeCount(m);
        for (int want = chunk - 1; want >= 0; want--) {
            m = walk.nextOurs();
            if (m == null || !commitLsn.equals(m.getHeaders().getFirst(CdcHeaders.COMMIT_LSN)) || chunk(m) != want) {
                return Optional.empty(); // the chunks do not run back to chunk 0: cut again with the current limits
            }
            sizes[want] = changeCount(m);
        }
        return Optional.of(new PublishedChunks(Lsn.parse(commitLsn), Arrays.asList(sizes)));
    }

    /** The commit LSN of the newest stored message of this slot whose commit LSN is below {@code confirmed}. */
    private Lsn newestBelow(Lsn confirmed) throws IOException, JetStreamApiException {
        Walk walk = new Walk();
        for (MessageInfo m = walk.nextOurs(); m != null; m = walk.nextOurs()) {
            Lsn commit = commitLsn(m);
            if (confirmed.isAfter(commit)) {
                return commit;
            }
        }
        return null;
    }

    private static Lsn commitLsn(MessageInfo m) {
        return Lsn.parse(m.getHeaders().getFirst(CdcHeaders.COMMIT_LSN));
    }

    private static int chunk(MessageInfo m) {
        return Integer.parseInt(m.getHeaders().getFirst(CdcHeaders.CHUNK));
    }

    private int changeCount(MessageInfo m) {
        return codec.decode(m.getData()).changes().size();
    }

    /**
     * This slot's stored messages, newest first. Every stored sequence looked at counts against
     * {@value #MAX_SCAN}, deleted ones too (a purged stream leaves long runs of them).
     */
    private final class Walk {
        private long next = -1; // the sequence of the message returned last; -1 before the first look
        private long firstSeq = -1; // the stream's first sequence, read once when needed
        private int scanned;

        MessageInfo nextOurs() throws IOException, JetStreamApiException {
            while (scanned < MAX_SCAN) {
                MessageInfo m = next < 0 ? lastOnSubject() : before(next);
                if (m == null) {
                    scanned = MAX_SCAN;
                    return null;
                }
                next = m.getSeq();
                if (ours(m)) {
                    return m;
                }
            }
            return null;
        }

        private MessageInfo lastOnSubject() throws IOException, JetStreamApiException {
            scanned++;
            try {
                return jsm.getLastMessage(stream, subject);
            } catch (JetStreamApiException e) {
                if (e.getErrorCode() == NOT_FOUND) {
                    return null;
                }
                throw e;
            }
        }

        /** The stored message before {@code seq} (skipping deleted ones), or null. */
        private MessageInfo before(long seq) throws IOException, JetStreamApiException {
            if (firstSeq < 0) {
                firstSeq = Math.max(1, jsm.getStreamInfo(stream).getStreamState().getFirstSequence());
            }
            for (long s = seq - 1; s >= firstSeq && scanned < MAX_SCAN; s--) {
                scanned++;
                try {
                    return jsm.getMessage(stream, s);
                } catch (JetStreamApiException e) {
                    if (e.getErrorCode() != NOT_FOUND) {
                        throw e;
                    }
                }
            }
            return null;
        }
    }

    private boolean ours(MessageInfo m) {
        Headers h = m.getHeaders();
        String id = h == null ? null : h.getFirst(CdcHeaders.MSG_ID);
        return subject.equals(m.getSubject()) && id != null && id.startsWith(idPrefix)
                && h.getFirst(CdcHeaders.COMMIT_LSN) != null && h.getFirst(CdcHeaders.CHUNK) != null;
    }
}
