package io.vrsky.admin.connect;

import io.nats.client.ConsumeOptions;
import io.nats.client.IterableConsumer;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamStatusCheckedException;
import io.nats.client.Message;
import io.nats.client.OrderedConsumerContext;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.OrderedConsumerConfiguration;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsJetStreamMetaData;
import io.vrsky.admin.AdminExit;
import io.vrsky.admin.AdminFailure;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;

/**
 * Reads a stream forward from a sequence through an ordered consumer (ephemeral, nothing is
 * acknowledged or changed), optionally headers only, until the visitor has seen enough or the
 * newest message was read. The caller makes sure a message on the filter exists at or after the
 * start (a scan that finds none ends with a failure after {@link #WAIT}).
 */
public final class StreamScan {

    /** How long one message may take to arrive before the scan gives up. */
    static final Duration WAIT = Duration.ofSeconds(10);

    /** One message as read: its place, its headers (empty when none) and its body (empty when headers only). */
    public record Scanned(long seq, String subject, Instant time, Headers headers, byte[] data, long pending) {
        public String header(String name) {
            return headers == null ? null : headers.getFirst(name);
        }
    }

    /** Sees each message in stream order; returns false to stop. */
    @FunctionalInterface
    public interface Visitor {
        boolean visit(Scanned message) throws AdminFailure;
    }

    private StreamScan() {
    }

    /**
     * @param filter      a subject filter, or null for every subject of the stream
     * @param startSeq    the first sequence to read (at least 1)
     * @param lastSeq     stop after this sequence (the newest one when the scan began)
     * @param headersOnly whether bodies are left out (for lists: much less to move)
     */
    public static void scan(Nats nats, String stream, String filter, long startSeq, long lastSeq, boolean headersOnly,
                            Visitor visitor) throws AdminFailure {
        OrderedConsumerConfiguration config = new OrderedConsumerConfiguration().deliverPolicy(DeliverPolicy.ByStartSequence)
                .startSequence(Math.max(1, startSeq)).headersOnly(headersOnly);
        if (filter != null) {
            config.filterSubject(filter);
        }
        try {
            OrderedConsumerContext ordered = nats.connection().getStreamContext(stream).createOrderedConsumer(config);
            IterableConsumer consumer = ordered.iterate(ConsumeOptions.builder().batchSize(headersOnly ? 1000 : 100).build());
            try {
                while (true) {
                    Message m = consumer.nextMessage(WAIT);
                    if (m == null) {
                        throw new AdminFailure(AdminExit.DEPENDENCY, nats.settings().target() + ": reading stream " + stream
                                + ": no message arrived within " + WAIT.toSeconds() + " s");
                    }
                    NatsJetStreamMetaData meta = m.metaData();
                    Scanned scanned = new Scanned(meta.streamSequence(), m.getSubject(), meta.timestamp().toInstant(),
                            m.getHeaders(), m.getData() == null ? new byte[0] : m.getData(), meta.pendingCount());
                    if (!visitor.visit(scanned) || meta.pendingCount() == 0 || meta.streamSequence() >= lastSeq) {
                        return;
                    }
                }
            } finally {
                // no more pulls; the server drops the ephemeral consumer once it is idle, and the connection closes next
                consumer.stop();
            }
        } catch (AdminFailure e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AdminFailure(AdminExit.DEPENDENCY, nats.settings().target() + ": reading stream " + stream + ": interrupted");
        } catch (IOException | JetStreamApiException | JetStreamStatusCheckedException e) {
            throw nats.failure("reading stream " + stream, e);
        }
    }
}
