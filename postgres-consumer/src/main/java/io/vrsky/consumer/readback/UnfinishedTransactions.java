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
 * Finds, at the start of a session, a transaction this slot left half published: its newest
 * message in the stream is a chunk that is not the last one. Walks back from the subject's last
 * message (other slots may publish to the same subject) and collects how many changes each of that
 * transaction's chunks 0..k holds, so they can be cut the same way again ({@link PublishedChunks}).
 */
public final class UnfinishedTransactions {

    private static final Logger LOG = LoggerFactory.getLogger(UnfinishedTransactions.class);

    /** How many stored messages to look at at most (each is one request to the server). */
    static final int MAX_SCAN = 10_000;
    private static final int NOT_FOUND = 404;

    private final JetStreamManagement jsm;
    private final String stream;
    private final String subject;
    private final String idPrefix;
    private final EnvelopeCodec codec;

    public UnfinishedTransactions(JetStreamManagement jsm, String stream, String subject, String slot, EnvelopeCodec codec) {
        this.jsm = jsm;
        this.stream = stream;
        this.subject = subject;
        this.idPrefix = slot + ":";
        this.codec = codec;
    }

    /**
     * @return empty when this slot's newest message ends a transaction, when it has none within
     *         {@value #MAX_SCAN} messages, or when the chunks found do not run back to chunk 0 or
     *         cannot be read (logged: the transaction is then cut with the current limits)
     */
    public Optional<PublishedChunks> find() throws IOException, JetStreamApiException {
        try {
            return search();
        } catch (RuntimeException e) { // a header or body this code did not write (NumberFormatException, EnvelopeFormatException)
            LOG.warn("cannot read back this slot's newest messages in stream {} ({}); a transaction left half published, if"
                    + " any, is cut with the current limits", stream, e.toString());
            return Optional.empty();
        }
    }

    private Optional<PublishedChunks> search() throws IOException, JetStreamApiException {
        MessageInfo m = lastOnSubject();
        int scanned = 0;
        while (m != null && !ours(m)) {
            if (++scanned > MAX_SCAN || m.getSeq() <= 1) {
                return Optional.empty();
            }
            m = before(m.getSeq());
        }
        if (m == null || !"false".equals(m.getHeaders().getFirst(CdcHeaders.LAST_CHUNK))) {
            return Optional.empty();
        }
        String commitLsn = m.getHeaders().getFirst(CdcHeaders.COMMIT_LSN);
        int chunk = Integer.parseInt(m.getHeaders().getFirst(CdcHeaders.CHUNK));
        Integer[] sizes = new Integer[chunk + 1];
        sizes[chunk] = changeCount(m);
        for (int want = chunk - 1; want >= 0; want--) {
            m = before(m.getSeq());
            while (m != null && !ours(m)) {
                if (++scanned > MAX_SCAN) {
                    return Optional.empty();
                }
                m = before(m.getSeq());
            }
            if (m == null || !commitLsn.equals(m.getHeaders().getFirst(CdcHeaders.COMMIT_LSN))
                    || Integer.parseInt(m.getHeaders().getFirst(CdcHeaders.CHUNK)) != want) {
                return Optional.empty();
            }
            sizes[want] = changeCount(m);
        }
        return Optional.of(new PublishedChunks(Lsn.parse(commitLsn), Arrays.asList(sizes)));
    }

    private boolean ours(MessageInfo m) {
        Headers h = m.getHeaders();
        String id = h == null ? null : h.getFirst(CdcHeaders.MSG_ID);
        return subject.equals(m.getSubject()) && id != null && id.startsWith(idPrefix)
                && h.getFirst(CdcHeaders.COMMIT_LSN) != null && h.getFirst(CdcHeaders.CHUNK) != null;
    }

    private int changeCount(MessageInfo m) {
        return codec.decode(m.getData()).changes().size();
    }

    private MessageInfo lastOnSubject() throws IOException, JetStreamApiException {
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
        for (long s = seq - 1; s >= 1; s--) {
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
