package io.vrsky.producer;

import io.vrsky.producer.batch.BatchAccumulator;
import io.vrsky.producer.batch.FlushReason;
import io.vrsky.producer.metrics.ProducerMetrics;
import io.vrsky.producer.subscribe.InFlight;
import io.vrsky.producer.subscribe.InboundMessage;
import io.vrsky.producer.subscribe.Prefetcher;
import io.vrsky.producer.write.BatchWriter;
import io.vrsky.producer.write.ChunkedTransactionWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The write side of the data path, on one thread ({@code producer-loop}): take decoded messages
 * from the {@link Prefetcher}, accumulate, write, acknowledge. Whole messages gather in the
 * {@link BatchAccumulator} and are written together; the parts of a chunked transaction go to the
 * {@link ChunkedTransactionWriter} one by one (the batch before them is written first). A batch is
 * written when full, when the flush interval has passed, at once when nothing more is waiting, and
 * after {@link BatchAccumulator#LINGER} when more is only reported by the consumer, not pulled yet.
 *
 * <p>Several sources (databases) may publish to the stream, so the chunks of one source's
 * transaction can arrive with other sources' messages in between. Those are parked while the
 * transaction is open (only their sequence and ack subject are kept: the transaction may be large)
 * and read back from the stream, in stream order, once it is closed.
 */
final class ProducerLoop {

    private static final Logger LOG = LoggerFactory.getLogger(ProducerLoop.class);
    /**
     * Rows per sink transaction at most, whatever the message count. It bounds what a batch keeps
     * alive: every young collection copies the held batch, so a larger cap costs the garbage
     * collector more than it saves in commits (figures in docs/benchmark.md).
     */
    static final long MAX_BATCH_ROWS = 5_000;
    static final Duration MIN_WAIT = Duration.ofMillis(1);

    private final Prefetcher prefetcher;
    private final InFlight inFlight;
    private final BatchWriter writer;
    private final ChunkedTransactionWriter chunks;
    private final BatchAccumulator<InboundMessage> batch;
    private final ProducerMetrics metrics;
    private final Clock clock;
    private final ChunkedTransactionWriter.StoredMessages stored;
    /** Other sources' messages that arrived while a chunked transaction was open, in stream order. */
    private final List<Parked> parked = new ArrayList<>();
    /** Parked messages to handle again, before anything new from the prefetcher. */
    private final Deque<Parked> replay = new ArrayDeque<>();
    private volatile boolean stopping;

    /** A message held back: enough to read it again and to acknowledge it. */
    private record Parked(long streamSeq, String replyTo) {
    }

    ProducerLoop(ProducerConfig config, Prefetcher prefetcher, InFlight inFlight, BatchWriter writer,
                 ChunkedTransactionWriter chunks, ChunkedTransactionWriter.StoredMessages stored, ProducerMetrics metrics,
                 Clock clock) {
        this.prefetcher = prefetcher;
        this.inFlight = inFlight;
        this.writer = writer;
        this.chunks = chunks;
        this.batch = new BatchAccumulator<>(config.batchSize(), MAX_BATCH_ROWS, config.flushInterval(), clock);
        this.metrics = metrics;
        this.clock = clock;
        this.stored = stored;
    }

    /** Asks the loop to finish: it writes and acknowledges everything pulled so far, then returns. */
    void stop() {
        stopping = true;
    }

    /** Runs until stopped (returns normally) or until a failure it cannot get past (thrown). */
    void run() throws Exception {
        LOG.info("consuming");
        prefetcher.start();
        try {
            while (!stopping) {
                step();
            }
            prefetcher.stop();
            while (!replay.isEmpty() || !prefetcher.finished() || prefetcher.hasQueued()) {
                InboundMessage message = replay.isEmpty() ? prefetcher.poll(Duration.ofMillis(50)) : readBack(replay.pollFirst());
                if (message != null) {
                    handle(message);
                }
            }
            LOG.info("draining: writing {} held messages", batch.size());
            if (!batch.isEmpty()) {
                flush(FlushReason.BOUNDARY);
            }
        } finally {
            prefetcher.stop();
            chunks.abortForShutdown();
            // held back behind a transaction that did not finish: ask for them again
            List<String> held = new ArrayList<>();
            parked.forEach(p -> held.add(p.replyTo()));
            replay.forEach(p -> held.add(p.replyTo()));
            inFlight.nakAll(held);
        }
    }

    private void step() throws Exception {
        if (!replay.isEmpty()) {
            handle(readBack(replay.pollFirst()));
            return;
        }
        Duration wait = Prefetcher.IDLE_POLL;
        if (!batch.isEmpty()) {
            FlushReason reason = batch.due(prefetcher.waiting());
            if (reason != FlushReason.NONE) {
                flush(reason);
                return;
            }
            // wake up for the interval, or for the end of the linger while it has not ended
            Duration left = batch.untilDeadline();
            Duration linger = batch.untilLingerEnds();
            wait = clamp(!linger.isZero() && linger.compareTo(left) < 0 ? linger : left, MIN_WAIT, Prefetcher.IDLE_POLL);
        }
        InboundMessage message = prefetcher.poll(wait);
        if (message != null) {
            handle(message);
        } else if (prefetcher.finished()) {
            Throwable failure = prefetcher.failure();
            throw new IllegalStateException("pulling from JetStream stopped: " + failure, failure);
        }
    }

    private void handle(InboundMessage message) throws Exception {
        if (chunks.isOpen() && !chunks.concerns(message)) {
            parked.add(new Parked(message.streamSeq(), message.replyTo()));
            return;
        }
        route(message);
        if (!chunks.isOpen() && !parked.isEmpty()) {
            // the transaction is closed: what was held back comes next, before anything newer
            for (int i = parked.size() - 1; i >= 0; i--) {
                replay.addFirst(parked.get(i));
            }
            LOG.debug("{} message(s) of other sources held back during a chunked transaction come next", parked.size());
            parked.clear();
        }
    }

    /** A parked message as the stream holds it, with the ack subject it was delivered with. */
    private InboundMessage readBack(Parked p) throws Exception {
        InboundMessage m = stored.load(p.streamSeq());
        return new InboundMessage(m.streamSeq(), m.subject(), p.replyTo(), m.data(), m.envelope(), m.decodeError(), 0);
    }

    private void route(InboundMessage message) throws Exception {
        if (message.isChunkPart()) {
            if (!batch.isEmpty()) {
                flush(FlushReason.BOUNDARY);
            }
            // the next chunks of the same transaction that are pulled already go with it
            List<InboundMessage> group = new ArrayList<>();
            group.add(message);
            long rows = message.changeCount();
            InboundMessage next;
            while (rows < MAX_BATCH_ROWS && (next = prefetcher.pollIf(m -> ChunkedTransactionWriter.follows(
                    group.get(group.size() - 1), m))) != null) {
                group.add(next);
                rows += next.changeCount();
            }
            chunks.onChunks(group);
            return;
        }
        if (chunks.isOpen()) {
            chunks.interrupt(message);
        }
        batch.add(message, Math.max(1, message.changeCount()));
        if (batch.isFull()) {
            flush(FlushReason.FULL);
        }
    }

    private void flush(FlushReason reason) throws Exception {
        List<InboundMessage> messages = batch.drain();
        Instant start = clock.instant();
        MDC.put("seq", messages.get(0).streamSeq() + "-" + messages.get(messages.size() - 1).streamSeq());
        try {
            BatchWriter.Result result = writer.write(messages);
            inFlight.ackAll(messages.stream().map(InboundMessage::replyTo).toList());
            metrics.acked(messages.size());
            Duration elapsed = Duration.between(start, clock.instant());
            metrics.batch(messages.size(), result.rows(), elapsed);
            LOG.debug("batch written ({}): {} messages, {} rows, {} skipped, {} dead letters in {} ms", reason, result.messages(),
                    result.rows(), result.skipped(), result.deadLetters(), elapsed.toMillis());
        } finally {
            MDC.remove("seq");
        }
    }

    private static Duration clamp(Duration d, Duration min, Duration max) {
        return d.compareTo(min) < 0 ? min : d.compareTo(max) > 0 ? max : d;
    }
}
