package io.vrsky.producer.dlq;

import io.vrsky.core.nats.DeadLetterPublisher;
import io.vrsky.core.nats.DeadLetterPublisher.DeadLetter;
import io.vrsky.core.nats.DeadLetterPublisher.ErrorClass;
import io.vrsky.core.retry.Retrier;
import io.vrsky.producer.metrics.ProducerMetrics;
import io.vrsky.producer.subscribe.InboundMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a message that cannot be applied to the {@code VRSKY_DLQ} stream with its original bytes
 * and the reason in headers, and waits for JetStream's ack (retrying while NATS is away), so a
 * message is acknowledged to its own stream only once its dead letter is stored.
 */
public final class DeadLetterSink {

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterSink.class);

    private final DeadLetterPublisher publisher;
    private final Retrier retrier;
    private final ProducerMetrics metrics;

    public DeadLetterSink(DeadLetterPublisher publisher, Retrier retrier, ProducerMetrics metrics) {
        this.publisher = publisher;
        this.retrier = retrier;
        this.metrics = metrics;
    }

    /**
     * @throws Exception when NATS stays unreachable after the retries, or the thread is interrupted
     */
    public void send(InboundMessage message, ErrorClass errorClass, String error, String sqlState) throws Exception {
        DeadLetter letter = new DeadLetter(message.data(), error, errorClass, sqlState, message.subject(), message.streamSeq());
        retrier.call("publish dead letter", () -> {
            publisher.publish(letter);
            return null;
        });
        metrics.deadLetter(errorClass.header());
        LOG.warn("dead-lettered message seq {} from {} ({}{}): {}", message.streamSeq(), message.subject(), errorClass.header(),
                sqlState == null ? "" : ", SQLSTATE " + sqlState, LogText.oneLine(error));
    }

    /** Keeps log lines on one line. */
    static final class LogText {
        private LogText() {
        }

        /** The first line only: PostgreSQL's "Detail:" line may quote row values, which stay out of logs. */
        static String oneLine(String text) {
            String first = text == null ? "" : text.lines().findFirst().orElse("");
            return first.length() > 500 ? first.substring(0, 500) + "..." : first;
        }
    }
}
